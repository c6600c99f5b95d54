import { randomToken } from "../crypto/encoding";
import { hashForStorage, timingSafeEqual } from "../crypto/hash";

/**
 * Registration access tokens (RFC 7592 §1, §3): issued with a dynamic registration, presented as a
 * Bearer token at the client's registration_client_uri. One per client, stored only as SHA-256
 * (table registration_tokens), compared in constant time, deleted with the client.
 */
export async function issueRegistrationToken(db: D1Database, clientId: string, now: number): Promise<string> {
  const token = randomToken(32);
  await db
    .prepare("INSERT OR REPLACE INTO registration_tokens (client_id, token_hash, created_at) VALUES (?, ?, ?)")
    .bind(clientId, await hashForStorage(token), now)
    .run();
  return token;
}

/** Whether `token` is the registration access token of `clientId` (false when the client has none). */
export async function isRegistrationToken(db: D1Database, clientId: string, token: string): Promise<boolean> {
  const row = await db.prepare("SELECT token_hash FROM registration_tokens WHERE client_id = ?").bind(clientId).first<{ token_hash: string }>();
  const presented = await hashForStorage(token);
  return row !== null && timingSafeEqual(presented, row.token_hash);
}

/**
 * Revokes a client's registration access token: for a token whose client is gone (RFC 7592 §2).
 * Deleting a client deletes its token in the same batch (src/clients/lifecycle.ts deleteClient).
 */
export async function revokeRegistrationToken(db: D1Database, clientId: string): Promise<void> {
  await db.prepare("DELETE FROM registration_tokens WHERE client_id = ?").bind(clientId).run();
}

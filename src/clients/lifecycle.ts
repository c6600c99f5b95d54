import { seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { ensure } from "../errors/oauth-error";
import type { Client } from "./model";
import { clearClientCache, type ClientStore } from "./store";

/**
 * What happens to a registered client after registration, for the operator API (and RFC 7592
 * management): listing, secret rotation and deletion with everything granted to it.
 */

/** One page of clients in client_id order; `next` is the cursor of the following page, or null. */
export interface ClientPage {
  clients: Client[];
  next: string | null;
}

/** Keyset pagination by client_id: `after` is the last client_id of the previous page. */
export async function listClients(db: D1Database, store: ClientStore, page: { limit: number; after?: string }): Promise<ClientPage> {
  const { results } = await db
    .prepare("SELECT client_id FROM clients WHERE client_id > ? ORDER BY client_id LIMIT ?")
    .bind(page.after ?? "", page.limit + 1)
    .all<{ client_id: string }>();
  const ids = results.slice(0, page.limit).map((r) => r.client_id);
  const clients = (await Promise.all(ids.map((id) => store.get(id)))).filter((c): c is Client => c !== null);
  return { clients, next: results.length > page.limit ? ids.at(-1)! : null };
}

const SECRET_METHODS: readonly string[] = ["client_secret_basic", "client_secret_post", "client_secret_jwt"];
/** 64 random bytes, as registration issues: long enough for HS512 (RFC 7518 §3.2) under client_secret_jwt. */
const SECRET_BYTES = 64;

export const usesSecret = (client: Client): boolean => SECRET_METHODS.includes(client.authMethod);

/**
 * Replaces the client's secret with a new random one, returned once and stored as a hash (and,
 * for client_secret_jwt, sealed: the server needs the value back to check HMAC assertions). The old
 * secret stops working at once in this isolate and within the client cache's lifetime
 * (config.clientCacheTtl, 30 s) everywhere else. The new secret does not expire.
 */
export async function rotateClientSecret(
  deps: { store: ClientStore; encryptionKey: string; now: number },
  client: Client,
): Promise<{ client: Client; clientSecret: string }> {
  ensure(usesSecret(client), "client_has_no_secret", `The client uses ${client.authMethod}, which has no client secret to rotate.`);
  const clientSecret = randomToken(SECRET_BYTES);
  const rotated: Client = {
    ...client,
    secretHash: await hashForStorage(clientSecret),
    secretSealed: client.authMethod === "client_secret_jwt" ? await seal(deps.encryptionKey, "client-secret", client.clientId, clientSecret) : null,
    secretExpiresAt: 0,
    updatedAt: deps.now,
  };
  await deps.store.put(rotated);
  clearClientCache();
  return { client: rotated, clientSecret };
}

/**
 * Deletes a client and revokes what was granted to it, in one D1 transaction: every person's
 * consent to it (so UserInfo and introspection refuse its access tokens: their `gid` no longer
 * names a consent), its refresh tokens and their families, its registration access token
 * (RFC 7592), its CORS origins and the registration itself. Resolves false when there was no such
 * client.
 *
 * Outstanding JWT access tokens cannot be recalled from resource servers that verify them locally:
 * they stay valid there until they expire (config.accessTokenTtl, 600 s by default). Authorization
 * codes already issued cannot be redeemed: the token endpoint no longer knows the client.
 * Other isolates may serve the cached registration for up to config.clientCacheTtl (30 s).
 */
export async function deleteClient(db: D1Database, clientId: string, now: number): Promise<boolean> {
  const results = await db.batch([
    db.prepare("UPDATE refresh_tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL").bind(now, clientId),
    db.prepare("UPDATE refresh_token_families SET revoked_at = ?, revoked_reason = 'revocation' WHERE client_id = ? AND revoked_at IS NULL").bind(now, clientId),
    db.prepare("DELETE FROM consents WHERE client_id = ?").bind(clientId),
    db.prepare("DELETE FROM registration_tokens WHERE client_id = ?").bind(clientId),
    db.prepare("DELETE FROM client_origins WHERE client_id = ?").bind(clientId),
    db.prepare("DELETE FROM client_registrations WHERE client_id = ?").bind(clientId),
    db.prepare("DELETE FROM clients WHERE client_id = ?").bind(clientId),
  ]);
  clearClientCache();
  return (results.at(-1)?.meta.changes ?? 0) === 1;
}

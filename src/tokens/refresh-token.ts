import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";

/**
 * Refresh tokens (RFC 6749 §1.5, §6): opaque, 256 random bits, stored only as SHA-256, bound to
 * client, user, grant (consent), scope, auth_time and session. Rotation with reuse detection and
 * the refresh grant itself come with issue 4; this module issues, stores and revokes them.
 */
export interface RefreshBinding {
  grantId: string;
  clientId: string;
  userId: string;
  scope: string[];
  authTime: number;
  sid: string | null;
}

export async function issueRefreshToken(
  db: D1Database,
  binding: RefreshBinding,
  deps: { now: number; ttl: number },
): Promise<{ token: string; hash: string }> {
  const token = randomToken(32);
  const hash = await hashForStorage(token);
  await db
    .prepare(
      `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, auth_time, sid, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(hash, binding.grantId, binding.clientId, binding.userId, binding.scope.join(" "), binding.authTime, binding.sid, deps.now, deps.now + deps.ttl)
    .run();
  return { token, hash };
}

export async function revokeRefreshToken(db: D1Database, hash: string, now: number): Promise<void> {
  await db.prepare("UPDATE refresh_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL").bind(now, hash).run();
}

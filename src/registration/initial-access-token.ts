import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";

/**
 * Initial access tokens (RFC 7591 §3, §1.2): with REGISTRATION_POLICY=initial_access_token (the
 * default), a client registers only by presenting one as a Bearer token. The operator creates them
 * (POST /admin/initial-access-tokens → createInitialAccessToken) and hands them to developers.
 * Stored hashed (table initial_access_tokens); each has optional limits: an expiry and a number of
 * registrations. A use is counted in one atomic UPDATE, so two registrations racing for the last
 * use cannot both succeed.
 */

/** Default lifetime of a new token: 7 days, long enough to pass to a developer, short enough to forget safely. */
export const INITIAL_ACCESS_TOKEN_TTL = 7 * 24 * 3600;
/** Default number of registrations a new token allows: one client per token. */
export const INITIAL_ACCESS_TOKEN_MAX_USES = 1;

export interface CreatedInitialAccessToken {
  /** The token in clear: shown once to the operator, never stored. */
  token: string;
  /** Unix seconds; null = never expires. */
  expires_at: number | null;
  /** null = unlimited. */
  max_uses: number | null;
  created_at: number;
}

/**
 * Creates an initial access token. `ttl` seconds (default 7 days; null = no expiry) and `maxUses`
 * registrations (default 1; null = unlimited) must be positive integers; anything else is
 * `invalid_request`.
 */
export async function createInitialAccessToken(
  db: D1Database,
  { ttl = INITIAL_ACCESS_TOKEN_TTL, maxUses = INITIAL_ACCESS_TOKEN_MAX_USES }: { ttl?: number | null; maxUses?: number | null } = {},
  now: number,
): Promise<CreatedInitialAccessToken> {
  ensure(ttl === null || (Number.isSafeInteger(ttl) && ttl > 0), "invalid_request", "ttl must be a positive integer number of seconds, or null for no expiry.");
  ensure(maxUses === null || (Number.isSafeInteger(maxUses) && maxUses > 0), "invalid_request", "max_uses must be a positive integer, or null for unlimited.");
  const token = randomToken(32);
  const expiresAt = ttl === null ? null : now + ttl;
  await db
    .prepare("INSERT INTO initial_access_tokens (token_hash, expires_at, max_uses, uses, created_at) VALUES (?, ?, ?, 0, ?)")
    .bind(await hashForStorage(token), expiresAt, maxUses, now)
    .run();
  return { token, expires_at: expiresAt, max_uses: maxUses, created_at: now };
}

interface Row {
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
}

/** Checks a presented token without using it up; returns its hash for `useInitialAccessToken`. */
export async function checkInitialAccessToken(db: D1Database, token: string, now: number): Promise<string> {
  const hash = await hashForStorage(token);
  const row = await db.prepare("SELECT expires_at, max_uses, uses FROM initial_access_tokens WHERE token_hash = ?").bind(hash).first<Row>();
  ensure(row !== null, "initial_access_token_invalid");
  ensure(row.expires_at === null || row.expires_at > now, "initial_access_token_expired");
  ensure(row.max_uses === null || row.uses < row.max_uses, "initial_access_token_used_up");
  return hash;
}

/** Counts one registration against the token, atomically; fails if it expired or was used up meanwhile. */
export async function useInitialAccessToken(db: D1Database, hash: string, now: number): Promise<void> {
  const result = await db
    .prepare(
      `UPDATE initial_access_tokens SET uses = uses + 1
       WHERE token_hash = ? AND (expires_at IS NULL OR expires_at > ?) AND (max_uses IS NULL OR uses < max_uses)`,
    )
    .bind(hash, now)
    .run();
  if (result.meta.changes !== 1) throw new OAuthError("initial_access_token_used_up");
}

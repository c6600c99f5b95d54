import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import type { User } from "./model";

/**
 * Single-use links mailed to a person's address — email verification (src/users/verification.ts)
 * and password reset (src/users/password-reset.ts) — in one shape: a token of 256 random bits of
 * which only the SHA-256 is stored, with the user, the address it was sent to and an expiry
 * (tables `email_verifications` and `password_resets`, same columns).
 *
 * `consumeMailedLink` is the single-use step: one conditional UPDATE … RETURNING, so of concurrent
 * uses exactly one gets the link; the caller then acts only while the account still has the very
 * address the link was sent to.
 */
export type MailedLinkTable = "email_verifications" | "password_resets";

/** The shape of our link tokens: 32 random bytes, base64url. */
export const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Stores a new link for the user's current address; resolves with the token to put in the mail. */
export async function issueMailedLink(
  db: D1Database,
  table: MailedLinkTable,
  user: Pick<User, "id" | "email">,
  deps: { now: number; ttl: number },
): Promise<string> {
  const token = randomToken(32);
  await db
    .prepare(`INSERT INTO ${table} (token_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`)
    .bind(await hashForStorage(token), user.id, user.email, deps.now, deps.now + deps.ttl)
    .run();
  return token;
}

/**
 * Uses the link up: its user and the address it was sent to, or undefined when the token is
 * malformed, unknown, expired or already used (or another caller used it at the same moment).
 */
export async function consumeMailedLink(
  db: D1Database,
  table: MailedLinkTable,
  token: unknown,
  now: number,
): Promise<{ userId: string; email: string } | undefined> {
  if (typeof token !== "string" || !LINK_TOKEN.test(token)) return undefined;
  const consumed = await db
    .prepare(
      `UPDATE ${table} SET used_at = ?1
       WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1
       RETURNING user_id, email`,
    )
    .bind(now, await hashForStorage(token))
    .all<{ user_id: string; email: string }>();
  const link = consumed.results[0];
  return consumed.meta.changes === 1 && link !== undefined ? { userId: link.user_id, email: link.email } : undefined;
}

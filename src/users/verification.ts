import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { Mailer } from "../mail/mailer";
import type { User } from "./model";
import { d1UserStore } from "./store";

/**
 * Email verification links. A link carries a single-use token of 256 random bits; only its
 * SHA-256 is stored (email_verifications.token_hash), with the user and the address it was sent
 * to, and an expiry (config.emailVerificationTtl). Completing consumes the token in one conditional
 * UPDATE, so of concurrent clicks exactly one succeeds, and verifies the user only if their address
 * is still the one the link was sent to (an address changed since then stays unverified).
 */
export interface StartVerificationDeps {
  db: D1Database;
  mailer: Mailer;
  /** config.issuer: the link is `${issuer}/verify-email?token=…`. */
  issuer: string;
  /** config.emailVerificationTtl, seconds. */
  ttl: number;
  now: number;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Creates a link for the user's current address and mails it. Resolves with the link's expiry. */
export async function startVerification(deps: StartVerificationDeps, user: Pick<User, "id" | "email">): Promise<{ expiresAt: number }> {
  const token = randomToken(32);
  const expiresAt = deps.now + deps.ttl;
  await deps.db
    .prepare("INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
    .bind(await hashForStorage(token), user.id, user.email, deps.now, expiresAt)
    .run();
  const link = `${deps.issuer}/verify-email?token=${token}`;
  const hours = Math.round(deps.ttl / 3600);
  await deps.mailer.send({
    to: user.email,
    subject: "Verify your email address",
    text: [
      "Hello,",
      "",
      `To confirm that ${user.email} is your address, open this link:`,
      "",
      link,
      "",
      `The link works once and expires in ${hours >= 1 ? `${hours} hour${hours === 1 ? "" : "s"}` : `${Math.round(deps.ttl / 60)} minutes`}.`,
      "If you did not ask for this, you can ignore this message.",
      "",
    ].join("\n"),
  });
  return { expiresAt };
}

/**
 * Consumes `token` and marks its user's email verified. Throws `verification_link_invalid` when the
 * token is malformed, unknown, expired or already used, or when the user's address has changed
 * since the link was sent (the token is used up either way). Resolves with the updated user.
 */
export async function completeVerification(deps: { db: D1Database; now: number }, token: unknown): Promise<User> {
  ensure(typeof token === "string" && TOKEN.test(token), "verification_link_invalid");
  // The single-use step: one conditional UPDATE; only the caller whose UPDATE changed the row wins.
  const consumed = await deps.db
    .prepare(
      `UPDATE email_verifications SET used_at = ?1
       WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1
       RETURNING user_id, email`,
    )
    .bind(deps.now, await hashForStorage(token))
    .all<{ user_id: string; email: string }>();
  const link = consumed.results[0];
  ensure(consumed.meta.changes === 1 && link !== undefined, "verification_link_invalid");
  // Exact (binary) comparison: the address must be the very one the link was sent to.
  const verified = await deps.db
    .prepare("UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ? AND email = ? COLLATE BINARY")
    .bind(deps.now, link.user_id, link.email)
    .run();
  if (verified.meta.changes !== 1) {
    throw new OAuthError("verification_link_invalid", "This link was sent to an address the account no longer uses.");
  }
  const user = await d1UserStore(deps.db).get(link.user_id);
  ensure(user !== null, "verification_link_invalid");
  return user;
}

import { OAuthError, ensure } from "../errors/oauth-error";
import type { Mailer } from "../mail/mailer";
import { consumeMailedLink, issueMailedLink } from "./mailed-link";
import type { User } from "./model";
import { d1UserStore } from "./store";

/**
 * Email verification links (src/users/mailed-link.ts: a single-use token of 256 random bits, only
 * its SHA-256 stored in email_verifications with the user, the address it was sent to and an
 * expiry, config.emailVerificationTtl). Completing consumes the token in one conditional UPDATE,
 * so of concurrent clicks exactly one succeeds, and verifies the user only if their address is
 * still the one the link was sent to (an address changed since then stays unverified).
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

/** Creates a link for the user's current address and mails it. Resolves with the link's expiry. */
export async function startVerification(deps: StartVerificationDeps, user: Pick<User, "id" | "email">): Promise<{ expiresAt: number }> {
  const token = await issueMailedLink(deps.db, "email_verifications", user, deps);
  const expiresAt = deps.now + deps.ttl;
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
  // The single-use step: only the caller whose conditional UPDATE changed the row gets the link.
  const link = await consumeMailedLink(deps.db, "email_verifications", token, deps.now);
  ensure(link !== undefined, "verification_link_invalid");
  // Exact (binary) comparison: the address must be the very one the link was sent to.
  const verified = await deps.db
    .prepare("UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ? AND email = ? COLLATE BINARY")
    .bind(deps.now, link.userId, link.email)
    .run();
  if (verified.meta.changes !== 1) {
    throw new OAuthError("verification_link_invalid", "This link was sent to an address the account no longer uses.");
  }
  const user = await d1UserStore(deps.db).get(link.userId);
  ensure(user !== null, "verification_link_invalid");
  return user;
}

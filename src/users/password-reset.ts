import { hashForStorage } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { Mailer, MailMessage } from "../mail/mailer";
import { LINK_TOKEN, consumeMailedLink, issueMailedLink } from "./mailed-link";
import type { User, UserStore } from "./model";
import { forAddress, mayMail, type FollowUp } from "./sign-up";
import { userFromRow, type UserRow } from "./store";
import type { Throttle } from "./throttle";

/**
 * Password reset by a link mailed to the account's address (ASVS 5.0 V6.4.3), without telling
 * anyone whether an address has an account (V6.3.8).
 *
 * - Request (`requestPasswordReset`): before the answer the address is only normalized; the answer
 *   ("check your email") is the same for every well-formed address. Afterwards (`followUp`, run
 *   with `waitUntil`) an enabled account with that address gets a link, within the address's mail
 *   budget (the one sign-up and resend share, config.signUpMailThrottle). Unknown and disabled
 *   addresses get nothing: mail to addresses without an account would make the form a way to write
 *   to anyone.
 * - The link carries 256 random bits; only their SHA-256 is stored (password_resets, the shape of
 *   src/users/mailed-link.ts), with the user, the address it was sent to and an expiry of
 *   PASSWORD_RESET_TTL. Opening it (GET) uses
 *   nothing up, so mail scanners that prefetch links cannot spend it.
 * - Completion (`completePasswordReset`): the token is consumed by one conditional UPDATE, so of
 *   concurrent uses exactly one sets the password; it works only while the account still has the
 *   address the link was sent to and is enabled; it marks the address verified (the link proved the
 *   mailbox) and uses up every other open link of the person. The caller then ends the person's
 *   sessions and refresh tokens (src/users/sign-out-everywhere.ts) and mails the owner.
 */

/** A reset link lives 30 minutes: long enough to read the mail, short enough that an old mail is worthless (OWASP Forgot Password Cheat Sheet). */
export const PASSWORD_RESET_TTL = 30 * 60;

export interface PasswordResetDeps {
  db: D1Database;
  users: UserStore;
  mailer: Mailer;
  /** LoginThrottle with config.signUpMailThrottle as the `mail` scope (shared with sign-up and resend). */
  mailBudget: Throttle;
  /** config.issuer: the link is `${issuer}/password/reset?token=…`. */
  issuer: string;
  now: number;
}

/** The forgot-password form: throws invalid_email for a malformed address and answers the same for every other one. */
export function requestPasswordReset(deps: PasswordResetDeps, input: unknown): FollowUp {
  return forAddress(deps, input, async (user) => {
    if (!user.disabled && (await mayMail(deps, user.email, "password_reset_mail_throttled"))) await mailResetLink(deps, user);
  });
}

async function mailResetLink(deps: PasswordResetDeps, user: User): Promise<void> {
  const token = await issueMailedLink(deps.db, "password_resets", user, { now: deps.now, ttl: PASSWORD_RESET_TTL });
  await deps.mailer.send(resetLinkMail(user.email, deps.issuer, token));
}

/** The mail with the link. */
export function resetLinkMail(to: string, issuer: string, token: string): MailMessage {
  return {
    to,
    subject: "Reset your password",
    text: [
      "Hello,",
      "",
      `Someone, perhaps you, asked to reset the password of the account ${to} at ${issuer}.`,
      "To choose a new password, open this link:",
      "",
      `${issuer}/password/reset?token=${token}`,
      "",
      `The link works once and expires in ${PASSWORD_RESET_TTL / 60} minutes. Choosing a new password signs you out`,
      "everywhere: on every device and in every app that uses this account.",
      "",
      "If you did not ask for this, ignore this message: your password stays as it is.",
      "",
    ].join("\n"),
  };
}

/**
 * Whether `token` names an open link (unused, unexpired), without using it up: the set-password
 * form is shown, and its new password hashed, only for such a link, so a stream of made-up tokens
 * costs a lookup each and no PBKDF2. The use itself is decided by `completePasswordReset`.
 */
export async function isOpenResetLink(deps: { db: D1Database; now: number }, token: unknown): Promise<boolean> {
  if (typeof token !== "string" || !LINK_TOKEN.test(token)) return false;
  const row = await deps.db
    .prepare("SELECT 1 AS open FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?")
    .bind(await hashForStorage(token), deps.now)
    .first<{ open: number }>();
  return row !== null;
}

/**
 * Consumes `token` and sets the person's password to `passwordHash` (already hashed: the policy
 * is checked before the link is spent). Throws `password_reset_link_invalid` when the token is
 * malformed, unknown, expired or already used, or when the account no longer has the address the
 * link was sent to or is disabled (the token is used up either way). Resolves with the updated user.
 */
export async function completePasswordReset(deps: { db: D1Database; now: number }, token: unknown, passwordHash: string): Promise<User> {
  // The single-use step: only the caller whose conditional UPDATE changed the row gets the link.
  const link = await consumeMailedLink(deps.db, "password_resets", token, deps.now);
  ensure(link !== undefined, "password_reset_link_invalid");
  const [updated] = await deps.db.batch<UserRow>([
    // Exact (binary) comparison: the address must be the very one the link was sent to.
    deps.db
      .prepare(
        `UPDATE users SET password_hash = ?1, email_verified = 1, updated_at = ?2
         WHERE id = ?3 AND email = ?4 COLLATE BINARY AND disabled = 0 RETURNING *`,
      )
      .bind(passwordHash, deps.now, link.userId, link.email),
    closeLinks(deps.db, link.userId, deps.now),
  ]);
  const row = updated?.results[0];
  if (row === undefined) throw new OAuthError("password_reset_link_invalid", "This link belongs to an account that no longer uses this address, or is disabled.");
  return userFromRow(row);
}

const closeLinks = (db: D1Database, userId: string, now: number) =>
  db.prepare("UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL").bind(now, userId);

/** Uses up every open reset link of a person (their password was set another way: changed on /account). */
export async function closeResetLinks(db: D1Database, userId: string, now: number): Promise<void> {
  await closeLinks(db, userId, now).run();
}

/** The mail the owner gets after their password changed, whichever way (ASVS 5.0 V6.3.6). */
export function passwordChangedMail(to: string, issuer: string, how: "reset" | "account"): MailMessage {
  return {
    to,
    subject: "Your password was changed",
    text: [
      "Hello,",
      "",
      `The password of your account ${to} at ${issuer} has just been changed`,
      how === "reset" ? "with a password-reset link sent to this address." : "on your account page.",
      "You have been signed out everywhere, and the apps that use your account have to ask you to sign in again.",
      "",
      "If this was you, there is nothing more to do.",
      "",
      "If it was not you, someone else knows your password or can read your mail. Secure your mailbox, then",
      "choose a new password here:",
      "",
      `${issuer}/password/forgot`,
      "",
    ].join("\n"),
  };
}

import type { Session } from "../sessions/model";
import { verifyPassword } from "./password";
import type { User } from "./model";
import { loginThrottleKeys, tooManyAttempts, type Throttle } from "./throttle";

/**
 * Re-authentication before what a stolen session must not be able to do alone (ASVS 5.0 V7.5.1):
 * changing the password needs the current one (V6.2.3); signing out everywhere needs the password
 * or a sign-in within FRESH_SIGN_IN_SECONDS.
 *
 * A password given here is a sign-in attempt like any other: it takes its unit of the account's
 * and the client IP's budget (src/users/throttle.ts) before it is checked, so the account page
 * cannot be used to guess a password faster than the sign-in page.
 */

/** How recent a sign-in (the session's auth_time) counts as re-authentication: 5 minutes. */
export const FRESH_SIGN_IN_SECONDS = 5 * 60;

export const signedInRecently = (session: Pick<Session, "authTime">, now: number): boolean => now - session.authTime <= FRESH_SIGN_IN_SECONDS;

/**
 * Checks the person's password through the sign-in budget: "ok", or "wrong" (counted as a failure;
 * "wrong_last" when it used the account's budget up). Throws too_many_attempts (429, Retry-After)
 * when the budget is already used up, without checking anything.
 */
export async function confirmPassword(
  deps: { throttle: Throttle },
  user: User,
  password: string,
  request: Request,
): Promise<"ok" | "wrong" | "wrong_last"> {
  const attempt = await deps.throttle.reserve(loginThrottleKeys(user.email, request));
  if (!attempt.allowed) throw tooManyAttempts(attempt.retryAfter);
  if (!(await verifyPassword(password, user.passwordHash))) return attempt.lastAllowed ? "wrong" : "wrong_last";
  await attempt.succeeded();
  return "ok";
}

import { OAuthError } from "../errors/oauth-error";
import { log } from "../log";
import type { MailMessage } from "../mail/mailer";
import type { User, UserStore } from "./model";
import { createUser, normalizeEmail, type NewUser } from "./store";
import { mailKey, type Throttle } from "./throttle";
import { startVerification, type StartVerificationDeps } from "./verification";

/**
 * Self-service sign-up and the verification-mail resend, without telling anyone whether an address
 * has an account (ASVS 5.0 V6.3.8: registration must not reveal valid users by its answer, status
 * or time).
 *
 * The rule: what the request does before it answers is the same for every address, and everything
 * that depends on whether the address has an account happens after the answer, by mail, to the
 * address itself.
 *
 * - Sign-up: the form is validated (the same errors for every address), the password is hashed (one
 *   PBKDF2 either way) and one `INSERT … ON CONFLICT DO NOTHING` runs; it writes the account or
 *   finds the address taken. Both answer "check your email", without a session. Afterwards a new
 *   account's address gets the verification link; an existing account's owner gets "someone tried
 *   to sign up with your address" with a sign-in link, and nothing about their account changes.
 * - Resend: the address is only normalized before the answer; afterwards an account that exists,
 *   is enabled and is not verified yet gets a new link. Unknown, verified or disabled addresses get
 *   nothing (mail to addresses without an account would make the form a way to send mail to anyone).
 * - Either mail comes out of one per-address budget (config.signUpMailThrottle, 3 an hour), since
 *   both forms let anyone make us write to any address; past it the mail is dropped, not the answer.
 *
 * The work after the answer is returned as `followUp`, for the route to run with `waitUntil`.
 */
export interface FollowUp {
  /** The address as the account holds it (normalized): what the answer shows. */
  email: string;
  /** The mail to send after the answer has gone. */
  followUp: () => Promise<void>;
}

/** What the follow-up mail needs: the verification deps, the user store, and the per-address mail budget. */
export type MailDeps = StartVerificationDeps & {
  users: UserStore;
  /** LoginThrottle with config.signUpMailThrottle as the `mail` scope. */
  mailBudget: Throttle;
};

/**
 * Takes one unit of the address's mail budget; false (logged as `event`) when it is used up.
 * Counted for every mail these forms (and the password-reset request, src/users/password-reset.ts)
 * send, so none can flood an inbox, and checked after the answer.
 */
export async function mayMail(deps: Pick<MailDeps, "mailBudget">, email: string, event = "sign_up_mail_throttled"): Promise<boolean> {
  const attempt = await deps.mailBudget.reserve([mailKey(email)]);
  if (!attempt.allowed) log("warn", event, { retry_after: attempt.retryAfter });
  return attempt.allowed;
}

/** Creates the account, or finds the address taken; throws the form's errors (invalid_email, password_policy, invalid_request). */
export async function signUp(deps: MailDeps, input: Required<Pick<NewUser, "email" | "password">> & Pick<NewUser, "claims">): Promise<FollowUp> {
  let user: User;
  try {
    user = await createUser({ users: deps.users, now: deps.now }, input);
  } catch (err) {
    if (!(err instanceof OAuthError && err.code === "email_taken")) throw err;
    // createUser has normalized the address and hashed the password before finding it taken.
    const email = normalizeEmail(input.email)!;
    return { email, followUp: () => mailOwner(deps, email) };
  }
  return { email: user.email, followUp: () => mailLink(deps, user) };
}

/**
 * What a form that takes an address (the resend, the password-reset request) answers: throws
 * invalid_email for a malformed address; for every other one the same answer, and afterwards
 * `act` on the account with that address, if there is one.
 */
export function forAddress(deps: { users: UserStore }, input: unknown, act: (user: User) => Promise<void>): FollowUp {
  const email = normalizeEmail(input);
  if (email === undefined) throw new OAuthError("invalid_email");
  return {
    email,
    async followUp() {
      const user = await deps.users.getByEmail(email);
      if (user !== null) await act(user);
    },
  };
}

/** The resend form: a new link goes out afterwards only to an enabled, unverified account. */
export function resendVerification(deps: MailDeps, input: unknown): FollowUp {
  return forAddress(deps, input, async (user) => {
    if (!user.emailVerified && !user.disabled) await mailLink(deps, user);
  });
}

/** Mails a verification link, within the address's mail budget. */
async function mailLink(deps: MailDeps, user: User): Promise<void> {
  if (await mayMail(deps, user.email)) await startVerification(deps, user);
}

/** Tells an existing account's owner that someone tried to sign up with their address, within its mail budget. */
async function mailOwner(deps: MailDeps, email: string): Promise<void> {
  const user = await deps.users.getByEmail(email);
  if (user !== null && (await mayMail(deps, user.email))) await deps.mailer.send(alreadyRegisteredMail(user.email, deps.issuer));
}

/** The mail an existing account's owner gets instead of a verification link. No link in it acts by itself. */
export function alreadyRegisteredMail(to: string, issuer: string): MailMessage {
  return {
    to,
    subject: "Someone tried to create an account with your address",
    text: [
      "Hello,",
      "",
      `Someone, perhaps you, tried to create a new account at ${issuer} with the address ${to}.`,
      "You already have an account with this address, so no new account was made and nothing about",
      "your account has changed.",
      "",
      "If it was you, sign in with your existing account instead:",
      "",
      `${issuer}/account`,
      "",
      "If it was not you, you can ignore this message: no action is needed.",
      "",
    ].join("\n"),
  };
}

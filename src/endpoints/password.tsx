import { Hono } from "hono";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { log } from "../log";
import { signOutEverywhere } from "../logout/end-session";
import type { MailMessage } from "../mail";
import { ForgotPasswordPage, PasswordResetDonePage, PasswordResetSentPage, SetPasswordPage } from "../pages/password";
import { ChangePasswordPage, SignOutEverywherePage, type PasswordFormError } from "../pages/password-account";
import { clearSessionCookie, sessionCookie } from "../sessions/cookie";
import {
  database, devOutboxShown, encryptionKey, loginThrottle, mailer, sessionStore, signUpMailBudget, userStore,
} from "../services";
import { PASSWORD_MIN_LENGTH, hashPassword, passwordProblem } from "../users/password";
import {
  PASSWORD_RESET_TTL, closeResetLinks, completePasswordReset, isOpenResetLink, passwordChangedMail, requestPasswordReset,
  type PasswordResetDeps,
} from "../users/password-reset";
import { confirmPassword, signedInRecently } from "../users/reauthentication";
import { signedInPerson, toSignIn } from "./account";
import { pageErrors } from "./authorize";

/**
 * Passwords, by the person: reset by mail (mounted at /password) and, on the account page, change
 * and sign out everywhere (mounted at /account):
 *
 *   GET  /password/forgot           the address form ("Forgot your password?" on the sign-in page)
 *   POST /password/forgot           email, csrf: "check your email", the same answer for every
 *                                   address; the link is mailed afterwards (waitUntil), to an
 *                                   enabled account only (src/users/password-reset.ts)
 *   GET  /password/reset?token=…    choose a new password (nothing is spent by opening the link)
 *   POST /password/reset            token, password, csrf: sets it (the link is used up), signs the
 *                                   person out everywhere, mails the owner
 *   GET  /account/password          current and new password
 *   POST /account/password          the current password is checked through the sign-in budget;
 *                                   then every session and refresh token ends, this browser gets a
 *                                   new session, and the owner is mailed
 *   GET  /account/sign-out-everywhere   the confirmation (the password, unless signed in moments ago)
 *   POST /account/sign-out-everywhere   ends every session and refresh token, then /logout
 *
 * "Everywhere" is `signOutEverywhere`: the sessions end at once and their clients get back-channel
 * logout tokens (src/logout/end-session.ts), and every refresh-token family is revoked with its
 * listed access tokens (src/users/sign-out-everywhere.ts).
 */

/** Runs `work` after the answer (`waitUntil`): the answer's content and timing never depend on it. A failure is logged. */
function afterAnswer(c: AppContext, work: () => Promise<void>): void {
  c.executionCtx.waitUntil(work().catch((err: unknown) => log("error", "mail_failed", { message: String(err instanceof Error ? err.message : err).slice(0, 200) })));
}

function mailLater(c: AppContext, message: MailMessage): void {
  afterAnswer(c, () => mailer(c).send(message));
}

function resetDeps(c: AppContext): PasswordResetDeps {
  return {
    db: database(c),
    users: userStore(c),
    mailer: mailer(c),
    mailBudget: signUpMailBudget(c),
    issuer: c.get("config").issuer,
    now: c.get("now"),
  };
}

async function forgotPage(c: AppContext, props: { email?: string; invalidEmail?: boolean } = {}) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  return renderPage(c, (nonce) => <ForgotPasswordPage nonce={nonce} csrf={csrf.token} {...props} />,
    { status: props.invalidEmail ? 400 : 200, setCookies: [csrf.setCookie] });
}

async function setPasswordPage(c: AppContext, token: string, weakPassword = false) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  return renderPage(
    c,
    (nonce) => <SetPasswordPage nonce={nonce} csrf={csrf.token} token={token} weakPassword={weakPassword} passwordMinLength={PASSWORD_MIN_LENGTH} />,
    { status: weakPassword ? 400 : 200, setCookies: [csrf.setCookie] },
  );
}

/** The link must be open before the form is shown or a new password hashed (a made-up token costs one lookup, no PBKDF2). */
async function openLink(c: AppContext, token: string | undefined): Promise<string> {
  ensure(await isOpenResetLink({ db: database(c), now: c.get("now") }, token), "password_reset_link_invalid");
  return token!;
}

export const passwordReset = new Hono<AppEnv>()
  .get("/forgot", pageErrors, async (c) => forgotPage(c))
  .post("/forgot", pageErrors, async (c) => {
    const form = await postedForm(c);
    let request;
    try {
      request = requestPasswordReset(resetDeps(c), form.get("email"));
    } catch (err) {
      if (!(err instanceof OAuthError && err.code === "invalid_email")) throw err;
      return forgotPage(c, { email: form.get("email") ?? "", invalidEmail: true });
    }
    // The same page for every well-formed address; whatever depends on the account happens after it.
    afterAnswer(c, request.followUp);
    const email = request.email;
    return renderPage(c, (nonce) => (
      <PasswordResetSentPage nonce={nonce} email={email} ttlMinutes={PASSWORD_RESET_TTL / 60} outboxHint={devOutboxShown(c)} />
    ));
  })
  .get("/reset", pageErrors, async (c) => setPasswordPage(c, await openLink(c, c.req.query("token"))))
  .post("/reset", pageErrors, async (c) => {
    const form = await postedForm(c);
    const token = await openLink(c, form.get("token"));
    const password = form.get("password") ?? "";
    // The policy first: a weak password gets the form again and does not spend the link.
    if (passwordProblem(password) !== undefined) return setPasswordPage(c, token, true);
    const user = await completePasswordReset({ db: database(c), now: c.get("now") }, token, await hashPassword(password));
    await signOutEverywhere(c, user.id);
    mailLater(c, passwordChangedMail(user.email, c.get("config").issuer, "reset"));
    return renderPage(c, (nonce) => <PasswordResetDonePage nonce={nonce} />, { setCookies: [clearSessionCookie()] });
  });

async function changePage(c: AppContext, userEmail: string, error?: PasswordFormError) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  return renderPage(
    c,
    (nonce) => (
      <ChangePasswordPage nonce={nonce} csrf={csrf.token} userEmail={userEmail} passwordMinLength={PASSWORD_MIN_LENGTH}
        {...(error !== undefined && { error })} />
    ),
    { status: error ? 400 : 200, setCookies: [csrf.setCookie] },
  );
}

async function everywherePage(c: AppContext, userEmail: string, fresh: boolean, error?: PasswordFormError) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  return renderPage(
    c,
    (nonce) => <SignOutEverywherePage nonce={nonce} csrf={csrf.token} userEmail={userEmail} fresh={fresh} {...(error !== undefined && { error })} />,
    { status: error ? 400 : 200, setCookies: [csrf.setCookie] },
  );
}

/** What a wrong password shows: "too_many_attempts" once it used the account's budget up. */
const wrongPassword = (outcome: "wrong" | "wrong_last"): PasswordFormError => (outcome === "wrong" ? "wrong_password" : "too_many_attempts");

export const accountPassword = new Hono<AppEnv>()
  .get("/password", pageErrors, async (c) => {
    const person = await signedInPerson(c);
    return person === null ? toSignIn() : changePage(c, person.user.email);
  })
  .post("/password", pageErrors, async (c) => {
    const form = await postedForm(c);
    const person = await signedInPerson(c);
    if (person === null) return toSignIn();
    const { user } = person;
    const checked = await confirmPassword({ throttle: loginThrottle(c) }, user, form.get("current_password") ?? "", c.req.raw);
    if (checked !== "ok") return changePage(c, user.email, wrongPassword(checked));
    const password = form.get("new_password") ?? "";
    if (passwordProblem(password) !== undefined) return changePage(c, user.email, "weak_password");

    const now = c.get("now");
    await userStore(c).update(user.id, { passwordHash: await hashPassword(password) }, now);
    await closeResetLinks(database(c), user.id, now);
    await signOutEverywhere(c, user.id);
    // This browser stays signed in: a new session, authenticated by the password just given.
    const { cookieValue } = await sessionStore(c).create({ userId: user.id, authTime: now, amr: ["pwd"] }, now);
    mailLater(c, passwordChangedMail(user.email, c.get("config").issuer, "account"));
    return seeOther("/account?notice=password_changed", { "set-cookie": sessionCookie(cookieValue, c.get("config").sessionTtl) });
  })
  .get("/sign-out-everywhere", pageErrors, async (c) => {
    const person = await signedInPerson(c);
    return person === null ? toSignIn() : everywherePage(c, person.user.email, signedInRecently(person.session, c.get("now")));
  })
  .post("/sign-out-everywhere", pageErrors, async (c) => {
    const form = await postedForm(c);
    const person = await signedInPerson(c);
    if (person === null) return toSignIn();
    const { user, session } = person;
    if (!signedInRecently(session, c.get("now"))) {
      const checked = await confirmPassword({ throttle: loginThrottle(c) }, user, form.get("current_password") ?? "", c.req.raw);
      if (checked !== "ok") return everywherePage(c, user.email, false, wrongPassword(checked));
    }
    await signOutEverywhere(c, user.id);
    return seeOther("/logout", { "set-cookie": clearSessionCookie() });
  });

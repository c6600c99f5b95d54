import { Hono } from "hono";
import { currentSession, toInteraction } from "../authorize/flow";
import { openTransaction, sealTransaction, type Transaction } from "../authorize/request";
import { d1ClientStore } from "../clients/store";
import { d1ConsentStore } from "../consent/store";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { log } from "../log";
import { listOutbox, mailerFrom } from "../mail";
import {
  ConsentPage, OutboxPage, SignInPage, SignUpPage, VerifyEmailConfirmPage, VerifyEmailDonePage, VerifyEmailSentPage,
  clientInfo, describeScopes, type SignInError, type SignUpError,
} from "../pages";
import { sessionCookie } from "../sessions/cookie";
import { SIGN_IN_RETURNS, isSignInReturn, type SignInReturn } from "../sessions/sign-in-return";
import { d1SessionStore } from "../sessions/store";
import { hashPassword, needsRehash, verifyPassword } from "../users/password";
import { d1UserStore } from "../users/store";
import { resendVerification, signUp, type FollowUp, type MailDeps } from "../users/sign-up";
import { durableLoginThrottle, loginThrottleKeys, tooManyAttempts } from "../users/throttle";
import { completeVerification } from "../users/verification";
import type { User } from "../users/model";
import { pageErrors } from "./authorize";
import { authorizationError } from "../authorize/response";

/**
 * The pages a person meets between the authorization request and the code: sign-in, sign-up,
 * email verification and consent. Each GET renders a page; each POST checks CSRF, acts, and
 * sends the browser on with 303 (RFC 9700 §4.12), usually back to /authorize/continue. Sign-in
 * also serves people who come to one of our own pages (`/login?return=account`), and then leads
 * back to that page only (src/sessions/sign-in-return.ts).
 */
const continueUrl = async (c: AppContext, txn: Transaction) =>
  `/authorize/continue?txn=${encodeURIComponent(await sealTransaction(txn, c.env.ENCRYPTION_KEY))}`;

const txnFrom = (c: AppContext, value: string | undefined) => openTransaction(value, c.env.ENCRYPTION_KEY, c.get("now"));

/** What a sign-in continues: a pending authorization request, or (without one) a page of ours, by name. */
type SignInFor = { txnValue: string; txn: Transaction } | { returnTo: SignInReturn };

/** The sign-in's purpose from its `txn` (checked: interaction_expired) or, when there is none, its `return`. */
async function signInFor(c: AppContext, txnValue: string | undefined, returnTo: string | undefined): Promise<SignInFor> {
  if (txnValue === undefined && isSignInReturn(returnTo)) return { returnTo };
  return { txnValue: txnValue!, txn: await txnFrom(c, txnValue) };
}

async function signInPage(c: AppContext, target: SignInFor, error?: SignInError, email?: string) {
  const csrf = await csrfFor(c.req.raw, c.env.ENCRYPTION_KEY);
  const txn = "txn" in target ? target.txn : undefined;
  const client = txn && clientInfo(await d1ClientStore(c.env.DB).get(txn.request.clientId), txn.request.clientId);
  const hint = email ?? txn?.request.loginHint;
  return renderPage(
    c,
    (nonce) => (
      <SignInPage nonce={nonce} csrf={csrf.token} {...("txn" in target ? { txn: target.txnValue } : { returnTo: target.returnTo })}
        {...client?.props} signupEnabled={c.get("config").signupEnabled}
        {...(hint !== undefined && { loginHint: hint })} {...(error !== undefined && { error })} />
    ),
    // form-action also governs the redirects after the POST (Chromium enforces it on the whole
    // chain), so the client's redirect URI must be allowed on pages whose POST ends there.
    { status: error ? 400 : 200, setCookies: [csrf.setCookie], formActionOrigins: txn ? [txn.request.redirectUri] : [], imgOrigins: client?.imgOrigins ?? [] },
  );
}

async function verifySentPage(c: AppContext, email: string, txnValue?: string) {
  const csrf = await csrfFor(c.req.raw, c.env.ENCRYPTION_KEY);
  return renderPage(
    c,
    (nonce) => (
      <VerifyEmailSentPage nonce={nonce} csrf={csrf.token} email={email} outboxHint={c.env.SHOW_DEV_OUTBOX === "true"}
        {...(txnValue !== undefined && { txn: txnValue, continueUrl: `/verify-email/needed?txn=${encodeURIComponent(txnValue)}` })} />
    ),
    { setCookies: [csrf.setCookie] },
  );
}

function mailDeps(c: AppContext): MailDeps {
  const config = c.get("config");
  return {
    db: c.env.DB,
    users: d1UserStore(c.env.DB),
    mailer: mailerFrom(c.env),
    mailBudget: durableLoginThrottle(c.env.LOGIN_THROTTLE, { mail: config.signUpMailThrottle }, c.get("now")),
    issuer: config.issuer,
    ttl: config.emailVerificationTtl,
    now: c.get("now"),
  };
}

/**
 * The "check your email" page, then the mail: sent after the answer (`waitUntil`), so the answer's
 * timing cannot tell which mail, if any, goes out. A failure to send is logged, not shown.
 */
function answerThenMail(c: AppContext, { email, followUp }: FollowUp, txnValue: string | undefined) {
  c.executionCtx.waitUntil(followUp().catch((err: unknown) => log("error", "mail_failed", { message: String(err instanceof Error ? err.message : err).slice(0, 200) })));
  return verifySentPage(c, email, txnValue);
}

async function signIn(c: AppContext, user: User): Promise<{ sid: string; cookie: string }> {
  const { cookieValue, session } = await d1SessionStore(c.env.DB, { ttl: c.get("config").sessionTtl }).create(
    { userId: user.id, authTime: c.get("now"), amr: ["pwd"] },
    c.get("now"),
  );
  return { sid: session.sid, cookie: sessionCookie(cookieValue, c.get("config").sessionTtl) };
}

// Every route starts with pageErrors (not `.use("*")`: this app is mounted at "/", where a
// wildcard would turn the JSON errors of /token into pages).
export const interaction = new Hono<AppEnv>()
  // ── sign-in ────────────────────────────────────────────────────────────────────────────────
  .get("/login", pageErrors, async (c) => signInPage(c, await signInFor(c, c.req.query("txn"), c.req.query("return"))))
  .post("/login", pageErrors, async (c) => {
    const form = await postedForm(c);
    const target = await signInFor(c, form.get("txn"), form.get("return"));
    const email = form.get("email") ?? "";
    const password = form.get("password") ?? "";
    // The attempt is reserved on the account's and the IP's budget before the password is checked
    // (src/users/throttle.ts): concurrent guesses cannot check more passwords than the budget.
    const throttle = durableLoginThrottle(c.env.LOGIN_THROTTLE, c.get("config").loginThrottle, c.get("now"));
    const attempt = await throttle.reserve(loginThrottleKeys(email, c.req.raw));
    if (!attempt.allowed) throw tooManyAttempts(attempt.retryAfter);

    const user = email ? await d1UserStore(c.env.DB).getByEmail(email.trim()) : null;
    // Unknown users, wrong passwords and disabled accounts get the same answer and similar work.
    const ok = (await verifyPassword(password, user?.passwordHash)) && user !== null && !user.disabled;
    // A failure keeps its reservation: it is the counted failure.
    if (!ok) return signInPage(c, target, attempt.lastAllowed ? "invalid_credentials" : "too_many_attempts", email);
    await attempt.succeeded();
    // Stored hashes follow the current parameters: rehash on sign-in when they were raised.
    if (needsRehash(user!.passwordHash!)) {
      await d1UserStore(c.env.DB).update(user!.id, { passwordHash: await hashPassword(password) }, c.get("now"));
    }
    const { sid, cookie } = await signIn(c, user!);
    const next = "txn" in target ? await continueUrl(c, { ...target.txn, authenticatedSid: sid }) : SIGN_IN_RETURNS[target.returnTo];
    return seeOther(next, { "set-cookie": cookie });
  })
  // ── sign-up ────────────────────────────────────────────────────────────────────────────────
  .get("/signup", pageErrors, async (c) => {
    ensure(c.get("config").signupEnabled, "signup_disabled");
    const txnValue = c.req.query("txn");
    if (txnValue !== undefined) await txnFrom(c, txnValue);
    const csrf = await csrfFor(c.req.raw, c.env.ENCRYPTION_KEY);
    return renderPage(c, (nonce) => <SignUpPage nonce={nonce} csrf={csrf.token} {...(txnValue !== undefined && { txn: txnValue })} />,
      { setCookies: [csrf.setCookie] });
  })
  .post("/signup", pageErrors, async (c) => {
    ensure(c.get("config").signupEnabled, "signup_disabled");
    const form = await postedForm(c);
    const txnValue = form.get("txn");
    if (txnValue !== undefined) await txnFrom(c, txnValue);
    const email = form.get("email") ?? "";
    const name = form.get("name");
    let outcome: FollowUp;
    try {
      outcome = await signUp(mailDeps(c), { email, password: form.get("password") ?? "", ...(name !== undefined && { claims: { name } }) });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const reason: SignUpError =
        err.code === "invalid_email" ? "invalid_email" : err.code === "password_policy" ? "weak_password" : "invalid_name";
      const csrf = await csrfFor(c.req.raw, c.env.ENCRYPTION_KEY);
      return renderPage(
        c,
        (nonce) => (
          <SignUpPage nonce={nonce} csrf={csrf.token} error={reason} email={email}
            {...(name !== undefined && { name })} {...(txnValue !== undefined && { txn: txnValue })} />
        ),
        { status: 400, setCookies: [csrf.setCookie] },
      );
    }
    // A new address and a registered one get the same answer (no session either way: the person
    // signs in once the address is verified); only the mail sent afterwards differs (src/users/sign-up.ts).
    return answerThenMail(c, outcome, txnValue);
  })
  // ── email verification ─────────────────────────────────────────────────────────────────────
  .get("/verify-email", pageErrors, async (c) => {
    const token = c.req.query("token") ?? "";
    const csrf = await csrfFor(c.req.raw, c.env.ENCRYPTION_KEY);
    return renderPage(c, (nonce) => <VerifyEmailConfirmPage nonce={nonce} csrf={csrf.token} token={token} />, { setCookies: [csrf.setCookie] });
  })
  .post("/verify-email", pageErrors, async (c) => {
    const form = await postedForm(c);
    await completeVerification({ db: c.env.DB, now: c.get("now") }, form.get("token"));
    return renderPage(c, (nonce) => <VerifyEmailDonePage nonce={nonce} />);
  })
  .get("/verify-email/needed", pageErrors, async (c) => {
    const txnValue = c.req.query("txn");
    const txn = await txnFrom(c, txnValue);
    const session = await currentSession(c);
    if (session === null) return toInteraction(c, "/login", txn);
    const user = await d1UserStore(c.env.DB).get(session.userId);
    ensure(user !== null, "interaction_expired");
    if (user.emailVerified) return seeOther(await continueUrl(c, txn));
    return verifySentPage(c, user.email, txnValue);
  })
  .post("/verify-email/resend", pageErrors, async (c) => {
    const form = await postedForm(c);
    // By the address in the form, session or not (sign-up leaves none): the same answer for every
    // address; a link goes out afterwards only to an unverified account's address.
    return answerThenMail(c, resendVerification(mailDeps(c), form.get("email")), form.get("txn"));
  })
  // ── consent ────────────────────────────────────────────────────────────────────────────────
  .get("/consent", pageErrors, async (c) => {
    const txnValue = c.req.query("txn")!;
    const txn = await txnFrom(c, txnValue);
    const session = await currentSession(c);
    if (session === null) return toInteraction(c, "/login", txn);
    const user = await d1UserStore(c.env.DB).get(session.userId);
    ensure(user !== null, "interaction_expired");
    const client = await d1ClientStore(c.env.DB).get(txn.request.clientId);
    ensure(client !== null, "interaction_expired");
    const csrf = await csrfFor(c.req.raw, c.env.ENCRYPTION_KEY);
    const info = clientInfo(client, client.clientId);
    return renderPage(
      c,
      (nonce) => (
        <ConsentPage nonce={nonce} csrf={csrf.token} txn={txnValue} {...info.props}
          scopes={describeScopes(txn.request.scope)} userEmail={user.email} />
      ),
      { setCookies: [csrf.setCookie], formActionOrigins: [txn.request.redirectUri], imgOrigins: info.imgOrigins },
    );
  })
  .post("/consent", pageErrors, async (c) => {
    const form = await postedForm(c);
    const txn = await txnFrom(c, form.get("txn"));
    const session = await currentSession(c);
    if (session === null) return toInteraction(c, "/login", txn);
    if (form.get("decision") !== "allow") {
      return authorizationError(c, txn.request, "access_denied", "The user denied the request.");
    }
    await d1ConsentStore(c.env.DB).grant(session.userId, txn.request.clientId, txn.request.scope, c.get("now"));
    return seeOther(await continueUrl(c, { ...txn, consented: true }));
  })
  // ── local development ──────────────────────────────────────────────────────────────────────
  .get("/dev/outbox", pageErrors, async (c) => {
    ensure(c.env.SHOW_DEV_OUTBOX === "true" && c.get("config").mailProvider === "outbox", "not_found");
    const messages = (await listOutbox(c.env.DB)).map((m) => ({ recipient: m.to, subject: m.subject, body: m.text, createdAt: m.createdAt }));
    return renderPage(c, (nonce) => <OutboxPage nonce={nonce} messages={messages} />);
  });

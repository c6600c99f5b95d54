import { Hono } from "hono";
import { fail } from "../authorize/completions";
import { completeSignIn, continueUrl, currentSession, signInFor, toInteraction, transactionFrom, type SignInFor } from "../authorize/flow";
import { completionOrigins } from "../authorize/request";
import { claimsBeyondScope } from "../authorize/claims-request";
import { unregisteredClient } from "../pages/client-document";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { log } from "../log";
import { listOutbox } from "../mail";
import {
  ConsentPage, OutboxPage, SignInPage, SignUpPage, VerifyEmailConfirmPage, VerifyEmailDonePage, VerifyEmailSentPage,
  clientInfo, describeClaims, describeScopes, type SignInError, type SignUpError,
} from "../pages";
import {
  consentStore, database, devOutboxShown, encryptionKey, loginThrottle, mailer, sessionStore, signUpMailBudget, uncachedClientStore,
  userStore,
} from "../services";
import { sessionCookie } from "../sessions/cookie";
import { hashPassword, needsRehash, verifyPassword } from "../users/password";
import { resendVerification, signUp, type FollowUp, type MailDeps } from "../users/sign-up";
import { loginThrottleKeys, tooManyAttempts } from "../users/throttle";
import { completeVerification } from "../users/verification";
import type { User } from "../users/model";
import { relyingParty } from "../passkeys/ceremony";
import { signInCeremony } from "../passkeys/sign-in";
import { pageErrors } from "./authorize";

/**
 * The pages a person meets between the authorization request and its completion (a code; an
 * approved device): sign-in, sign-up, email verification and consent — the same pages whatever the
 * transaction's completion kind. Each GET renders a page; each POST checks CSRF, acts, and sends
 * the browser on with 303 (RFC 9700 §4.12), usually back to /authorize/continue. Sign-in also
 * serves people who come to one of our own pages (`/login?return=account`), and then leads back to
 * that page only (src/sessions/sign-in-return.ts).
 */

/** The sign-in page for `target`: password form and passkey offer (src/endpoints/passkeys.tsx re-renders it after a failed passkey). */
export async function signInPage(c: AppContext, target: SignInFor, error?: SignInError, email?: string) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  const passkey = await signInCeremony(relyingParty(c.get("config").issuer), encryptionKey(c), target, c.get("now"));
  const txn = "txn" in target ? target.txn : undefined;
  const client = txn && clientInfo(await uncachedClientStore(c).get(txn.request.clientId), txn.request.clientId);
  const hint = email ?? txn?.request.loginHint;
  return renderPage(
    c,
    (nonce) => (
      <SignInPage nonce={nonce} csrf={csrf.token} {...("txn" in target ? { txn: target.txnValue } : { returnTo: target.returnTo })}
        {...client?.props} signupEnabled={c.get("config").signupEnabled} passkey={passkey} strongerSignIn={txn?.request.acrValues !== undefined}
        {...(hint !== undefined && { loginHint: hint })} {...(error !== undefined && { error })} />
    ),
    // form-action also governs the redirects after the POST (Chromium enforces it on the whole
    // chain), so the client's redirect URI must be allowed on pages whose POST ends there.
    { status: error ? 400 : 200, setCookies: [csrf.setCookie], formActionOrigins: txn ? completionOrigins(txn) : [], imgOrigins: client?.imgOrigins ?? [] },
  );
}

async function verifySentPage(c: AppContext, email: string, txnValue?: string) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  return renderPage(
    c,
    (nonce) => (
      <VerifyEmailSentPage nonce={nonce} csrf={csrf.token} email={email} outboxHint={devOutboxShown(c)}
        {...(txnValue !== undefined && { txn: txnValue, continueUrl: `/verify-email/needed?txn=${encodeURIComponent(txnValue)}` })} />
    ),
    { setCookies: [csrf.setCookie] },
  );
}

function mailDeps(c: AppContext): MailDeps {
  const config = c.get("config");
  return {
    db: database(c),
    users: userStore(c),
    mailer: mailer(c),
    mailBudget: signUpMailBudget(c),
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

/** A new session for a person who just authenticated by `amr` (RFC 8176: ["pwd"]; a passkey's, src/passkeys/ceremony.ts). */
export async function signIn(c: AppContext, user: User, amr: string[]): Promise<{ sid: string; cookie: string }> {
  const { cookieValue, session } = await sessionStore(c).create(
    { userId: user.id, authTime: c.get("now"), amr },
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
    const attempt = await loginThrottle(c).reserve(loginThrottleKeys(email, c.req.raw));
    if (!attempt.allowed) throw tooManyAttempts(attempt.retryAfter);

    const user = email ? await userStore(c).getByEmail(email.trim()) : null;
    // Unknown users, wrong passwords and disabled accounts get the same answer and similar work.
    const ok = (await verifyPassword(password, user?.passwordHash)) && user !== null && !user.disabled;
    // A failure keeps its reservation: it is the counted failure.
    if (!ok) return signInPage(c, target, attempt.lastAllowed ? "invalid_credentials" : "too_many_attempts", email);
    await attempt.succeeded();
    // Stored hashes follow the current parameters: rehash on sign-in when they were raised.
    if (needsRehash(user!.passwordHash!)) {
      await userStore(c).update(user!.id, { passwordHash: await hashPassword(password) }, c.get("now"));
    }
    return completeSignIn(c, await signIn(c, user!, ["pwd"]), target);
  })
  // ── sign-up ────────────────────────────────────────────────────────────────────────────────
  .get("/signup", pageErrors, async (c) => {
    ensure(c.get("config").signupEnabled, "signup_disabled");
    const txnValue = c.req.query("txn");
    if (txnValue !== undefined) await transactionFrom(c, txnValue);
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    return renderPage(c, (nonce) => <SignUpPage nonce={nonce} csrf={csrf.token} {...(txnValue !== undefined && { txn: txnValue })} />,
      { setCookies: [csrf.setCookie] });
  })
  .post("/signup", pageErrors, async (c) => {
    ensure(c.get("config").signupEnabled, "signup_disabled");
    const form = await postedForm(c);
    const txnValue = form.get("txn");
    if (txnValue !== undefined) await transactionFrom(c, txnValue);
    const email = form.get("email") ?? "";
    const name = form.get("name");
    let outcome: FollowUp;
    try {
      outcome = await signUp(mailDeps(c), { email, password: form.get("password") ?? "", ...(name !== undefined && { claims: { name } }) });
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const reason: SignUpError =
        err.code === "invalid_email" ? "invalid_email" : err.code === "password_policy" ? "weak_password" : "invalid_name";
      const csrf = await csrfFor(c.req.raw, encryptionKey(c));
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
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    return renderPage(c, (nonce) => <VerifyEmailConfirmPage nonce={nonce} csrf={csrf.token} token={token} />, { setCookies: [csrf.setCookie] });
  })
  .post("/verify-email", pageErrors, async (c) => {
    const form = await postedForm(c);
    await completeVerification({ db: database(c), now: c.get("now") }, form.get("token"));
    return renderPage(c, (nonce) => <VerifyEmailDonePage nonce={nonce} />);
  })
  .get("/verify-email/needed", pageErrors, async (c) => {
    const txnValue = c.req.query("txn");
    const txn = await transactionFrom(c, txnValue);
    const session = await currentSession(c);
    if (session === null) return toInteraction(c, "/login", txn);
    const user = await userStore(c).get(session.userId);
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
    const txn = await transactionFrom(c, txnValue);
    const session = await currentSession(c);
    if (session === null) return toInteraction(c, "/login", txn);
    const user = await userStore(c).get(session.userId);
    ensure(user !== null, "interaction_expired");
    const client = await uncachedClientStore(c).get(txn.request.clientId);
    ensure(client !== null, "interaction_expired");
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    const info = clientInfo(client, client.clientId);
    return renderPage(
      c,
      (nonce) => (
        <ConsentPage nonce={nonce} csrf={csrf.token} txn={txnValue} {...info.props}
          scopes={describeScopes(txn.request.scope)} userEmail={user.email}
          authorizationDetails={txn.request.authorizationDetails} detailTypes={c.get("config").authorizationDetailsTypes}
          resources={txn.request.resources}
          claims={describeClaims(claimsBeyondScope(txn.request.claims, txn.request.scope))}
          unregistered={unregisteredClient(client, txn.completion.kind === "redirect" ? txn.completion.redirectUri : undefined)} />
      ),
      { setCookies: [csrf.setCookie], formActionOrigins: completionOrigins(txn), imgOrigins: info.imgOrigins },
    );
  })
  .post("/consent", pageErrors, async (c) => {
    const form = await postedForm(c);
    const txn = await transactionFrom(c, form.get("txn"));
    const session = await currentSession(c);
    if (session === null) return toInteraction(c, "/login", txn);
    if (form.get("decision") !== "allow") {
      return fail(c, txn, new OAuthError("access_denied", "The user denied the request."));
    }
    await consentStore(c).grant(session.userId, txn.request.clientId, txn.request.scope, c.get("now"), txn.request.resources);
    return seeOther(await continueUrl(c, { ...txn, consented: true }));
  })
  // ── local development ──────────────────────────────────────────────────────────────────────
  .get("/dev/outbox", pageErrors, async (c) => {
    ensure(devOutboxShown(c) && c.get("config").mailProvider === "outbox", "not_found");
    const messages = (await listOutbox(database(c))).map((m) => ({ recipient: m.to, subject: m.subject, body: m.text, createdAt: m.createdAt }));
    return renderPage(c, (nonce) => <OutboxPage nonce={nonce} messages={messages} />);
  });

import { CsrfField, Layout } from "./layout";
import { ClientLinks, ClientLogo, type ClientInfo } from "./links";
import type { SignInReturn } from "../sessions/sign-in-return";
import { PasskeySignIn, type PasskeyCeremony } from "./passkeys";

/**
 * Why the last attempt failed. An unknown email and a wrong password are both
 * `invalid_credentials` and show the same words, so the page does not reveal who has an account.
 */
export type SignInError = "invalid_credentials" | "too_many_attempts" | "passkey_failed";

const SIGN_IN_ERRORS: Record<SignInError, string> = {
  invalid_credentials: "The email address or password is incorrect.",
  too_many_attempts: "Too many failed sign-in attempts. Wait a few minutes and try again.",
  passkey_failed: "That passkey could not sign you in. Try again, or sign in with your password.",
};

export interface SignInPageProps extends ClientInfo {
  nonce: string;
  csrf: string;
  /** The pending authorization request this sign-in continues; or else `returnTo`. */
  txn?: string;
  /** A sign-in outside an authorization request: the name of the page it returns to (src/sessions/sign-in-return.ts). */
  returnTo?: SignInReturn;
  /** Prefills the email field (OIDC `login_hint`, or the address just typed). */
  loginHint?: string;
  error?: SignInError;
  /**
   * The application the person signs in to. Its logo, home page, privacy policy and terms
   * (ClientInfo, https only) are shown with it; without a name, none of them are.
   */
  clientName?: string;
  signupEnabled: boolean;
  /** Sign in with a passkey (src/endpoints/passkeys.tsx): the button and the email field's autofill. */
  passkey?: PasskeyCeremony;
  /** The app asked for a kind of sign-in (OIDC Core §3.1.2.1 acr_values, §5.5.1.1 acr): the page says a passkey is the way. */
  strongerSignIn?: boolean;
}

/** What the page says a sign-in outside an authorization request leads to. */
const RETURN_LEADS: Record<SignInReturn, string> = { account: "to your account", passkeys: "again to add a passkey" };

/** POST /login: email and password, with hidden `csrf` and `txn` (or `return`). */
export function SignInPage({
  nonce, csrf, txn, returnTo, loginHint, error, clientName, clientUri, logoUri, policyUri, tosUri, signupEnabled, passkey,
  strongerSignIn,
}: SignInPageProps) {
  return (
    <Layout title="Sign in" nonce={nonce}>
      {clientName ? <ClientLogo uri={logoUri} /> : null}
      <h1>Sign in</h1>
      {clientName ? (
        <>
          <p class="lead">
            to continue to <strong>{clientName}</strong>
          </p>
          <ClientLinks clientName={clientName} clientUri={clientUri} policyUri={policyUri} tosUri={tosUri} />
        </>
      ) : returnTo !== undefined ? (
        <p class="lead">{RETURN_LEADS[returnTo]}</p>
      ) : null}
      {strongerSignIn && passkey ? (
        <p class="notice" role="note" id="signin-stronger">
          This app asks for a stronger sign-in: sign in with a passkey.
        </p>
      ) : null}
      {error ? (
        <p class="alert" role="alert" id="signin-error">
          {SIGN_IN_ERRORS[error]}
        </p>
      ) : null}
      <form method="post" action="/login">
        {txn !== undefined ? <input type="hidden" name="txn" value={txn} /> : null}
        {returnTo !== undefined ? <input type="hidden" name="return" value={returnTo} /> : null}
        <CsrfField token={csrf} />
        <div class="field">
          <label for="email">Email address</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete={passkey ? "username webauthn" : "username"}
            autocapitalize="none"
            spellcheck={false}
            required
            autofocus={!loginHint}
            value={loginHint ?? ""}
            aria-describedby={error ? "signin-error" : undefined}
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            autofocus={!!loginHint}
            aria-invalid={error === "invalid_credentials" ? "true" : undefined}
            aria-describedby={error ? "signin-error" : undefined}
          />
        </div>
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
      {passkey ? <PasskeySignIn nonce={nonce} csrf={csrf} ceremony={passkey} {...(txn !== undefined ? { txn } : returnTo !== undefined ? { returnTo } : {})} /> : null}
      <p class="alt">
        <a href="/password/forgot">Forgot your password?</a>
      </p>
      {signupEnabled ? (
        <p class="alt">
          New here? <a href={txn !== undefined ? `/signup?txn=${encodeURIComponent(txn)}` : "/signup"}>Create an account</a>
        </p>
      ) : null}
    </Layout>
  );
}

import { signInUrl } from "../sessions/sign-in-return";
import { CsrfField, Layout } from "./layout";

/**
 * The sign-out pages (OIDC RP-Initiated Logout §2): the question asked before a session is ended
 * on a request that does not prove it comes from the session's own client, and the page after.
 * Their forms POST to /logout/confirm with `decision=sign_out|continue`, the CSRF field and the
 * validated request, which the server checks again.
 */

/** The validated logout request, carried through the form (the server re-validates it). */
export interface LogoutFormFields {
  client_id?: string;
  post_logout_redirect_uri?: string;
  state?: string;
}

function RequestFields({ csrf, fields }: { csrf: string; fields: LogoutFormFields }) {
  return (
    <>
      <CsrfField token={csrf} />
      {Object.entries(fields).map(([name, value]) => (value === undefined ? null : <input type="hidden" name={name} value={value} />))}
    </>
  );
}

export interface SignOutPageProps {
  nonce: string;
  csrf: string;
  /** Who is signed in in this browser. */
  userEmail: string;
  /** The app that sent the person here, when the request names one. */
  clientName?: string;
  fields: LogoutFormFields;
}

/** "Sign out of Latchkey?": Sign out, or Stay signed in; either way on to the app when it asked for that. */
export function SignOutPage({ nonce, csrf, userEmail, clientName, fields }: SignOutPageProps) {
  return (
    <Layout title="Sign out?" nonce={nonce}>
      <h1>Sign out of Latchkey?</h1>
      {clientName !== undefined ? (
        <p class="lead">
          <strong>{clientName}</strong> asks you to sign out.
        </p>
      ) : null}
      <p class="who">
        Signed in as <strong>{userEmail}</strong>
      </p>
      <p class="lead">Signing out ends your session in this browser, and apps you signed in to through it are told.</p>
      <form method="post" action="/logout/confirm">
        <RequestFields csrf={csrf} fields={fields} />
        <div class="actions row">
          <button type="submit" name="decision" value="sign_out">
            Sign out
          </button>
          <button type="submit" name="decision" value="continue" class="secondary">
            Stay signed in
          </button>
        </div>
      </form>
    </Layout>
  );
}

export interface SignedOutPageProps {
  nonce: string;
  /** What happened: signed out (also when there was nothing to end), or the person chose to stay signed in. */
  outcome: "signed_out" | "stayed";
  /** A way on to the app that asked, when it named a registered post_logout_redirect_uri but sent no id_token_hint. */
  continueTo?: { csrf: string; clientName: string; fields: LogoutFormFields };
}

/**
 * After signing out (or staying): on to the app when it named where, else a way on here — sign in
 * again (to the account page) or, still signed in, the account page.
 */
export function SignedOutPage({ nonce, outcome, continueTo }: SignedOutPageProps) {
  const title = outcome === "signed_out" ? "You are signed out" : "You are still signed in";
  return (
    <Layout title={title} nonce={nonce}>
      <h1>{title}</h1>
      <p class="lead">{outcome === "signed_out" ? "Your session in this browser has ended." : "Nothing was changed."}</p>
      {continueTo === undefined ? (
        <div class="actions">
          <a class="button" href={outcome === "signed_out" ? signInUrl("account") : "/account"}>
            {outcome === "signed_out" ? "Sign in again" : "Go to your account"}
          </a>
        </div>
      ) : null}
      {continueTo !== undefined ? (
        <form method="post" action="/logout/confirm">
          <RequestFields csrf={continueTo.csrf} fields={continueTo.fields} />
          <div class="actions">
            <button type="submit" name="decision" value="continue">
              Continue to {continueTo.clientName}
            </button>
          </div>
        </form>
      ) : null}
    </Layout>
  );
}

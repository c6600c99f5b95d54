import { CsrfField, Layout } from "./layout";

/**
 * The demo app's page (src/dev/demo-app.ts, local development only): a relying party's view of
 * what it got from this server. Signed out, a way to sign in; signed in, the ID token's claims,
 * the UserInfo answer and the token response (tokens shortened), with Refresh and Sign out; after
 * a failure, what the server answered.
 */

/** What the demo app shows; each part only when it has it. JSON values are shown as they came. */
export interface DemoAppView {
  /** A sentence about the last step ("Signed in.", "Refreshed: …", "Signed out …"). */
  notice?: string;
  /** What went wrong, and the server's answer when there was one. */
  failure?: { message: string; answer?: unknown };
  idTokenClaims?: Record<string, unknown>;
  userinfo?: unknown;
  tokenResponse?: Record<string, unknown>;
}

export interface DemoAppPageProps extends DemoAppView {
  nonce: string;
  /** Present when signed in: the forms' CSRF token. */
  csrf?: string;
  /** Where "Sign in" starts the flow. */
  signInHref: string;
  /** The app's own path, which its forms post under. */
  base: string;
}

function Json({ title, value }: { title: string; value: unknown }) {
  return (
    <section class="message">
      <header>
        <strong>{title}</strong>
      </header>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </section>
  );
}

export function DemoAppPage(props: DemoAppPageProps) {
  const { nonce, csrf, signInHref, base, notice, failure, idTokenClaims, userinfo, tokenResponse } = props;
  return (
    <Layout title="Demo App" nonce={nonce} wide>
      <h1>Demo App</h1>
      <p class="lead">
        An app that signs people in with this Latchkey, for local development: the authorization code flow with PKCE, the ID
        token, UserInfo, a refresh and sign-out.
      </p>
      {notice !== undefined ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      {failure !== undefined ? (
        <>
          <p class="alert" role="alert">
            {failure.message}
          </p>
          {failure.answer !== undefined ? <Json title="The server answered" value={failure.answer} /> : null}
        </>
      ) : null}
      {csrf === undefined ? (
        <div class="actions">
          <a class="button" href={signInHref}>
            Sign in with Latchkey
          </a>
        </div>
      ) : (
        <>
          {idTokenClaims !== undefined ? <Json title="ID token claims (signature, issuer, audience and nonce checked)" value={idTokenClaims} /> : null}
          {userinfo !== undefined ? <Json title="UserInfo (GET /userinfo with the access token)" value={userinfo} /> : null}
          {tokenResponse !== undefined ? <Json title="Token response (tokens shortened)" value={tokenResponse} /> : null}
          <div class="actions row">
            <form method="post" action={`${base}/refresh`}>
              <CsrfField token={csrf} />
              <button type="submit">Refresh the tokens</button>
            </form>
            <form method="post" action={`${base}/logout`}>
              <CsrfField token={csrf} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          </div>
        </>
      )}
    </Layout>
  );
}

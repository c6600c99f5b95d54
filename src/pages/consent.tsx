import type { ScopeDescription } from "./scopes";
import { externalHref } from "./links";
import { CsrfField, Layout } from "./layout";

export interface ConsentPageProps {
  nonce: string;
  csrf: string;
  txn: string;
  clientName: string;
  /** The client's home page (`client_uri`); shown only when it is an http(s) URL. */
  clientUri?: string;
  /** What is asked, in the person's words: see describeScopes() in ./scopes. */
  scopes: readonly ScopeDescription[];
  userEmail: string;
}

/** POST /consent with `decision=allow|deny`, hidden `txn` and `csrf`. */
export function ConsentPage({ nonce, csrf, txn, clientName, clientUri, scopes, userEmail }: ConsentPageProps) {
  const home = externalHref(clientUri);
  return (
    <Layout title={`Allow ${clientName}?`} nonce={nonce}>
      <h1>
        Allow <span class="email">{clientName}</span> to access your account?
      </h1>
      {home ? (
        <p class="lead">
          <a href={home} rel="noopener noreferrer" target="_blank">
            {new URL(home).host}
          </a>
        </p>
      ) : null}
      <p class="who">
        Signed in as <strong>{userEmail}</strong>
      </p>
      <h2>This app will be able to:</h2>
      <ul class="scopes">
        {scopes.map((scope) => (
          <li>
            {scope.description}
            <span class="name">{scope.name}</span>
          </li>
        ))}
      </ul>
      <p class="lead">Only allow apps you trust. You can withdraw this permission later.</p>
      <form method="post" action="/consent">
        <input type="hidden" name="txn" value={txn} />
        <CsrfField token={csrf} />
        <div class="actions row">
          <button type="submit" name="decision" value="allow">
            Allow
          </button>
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </div>
      </form>
    </Layout>
  );
}

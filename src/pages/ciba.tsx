import type { ScopeDescription } from "./scopes";
import { ClientLinks, ClientLogo, type ClientInfo } from "./links";
import { DecisionForm } from "./decision-form";
import { Layout } from "./layout";
import { ScopeList } from "./scope-list";

/**
 * CIBA's pages for the person (CIBA Core §7.1, the authentication device): the request an app
 * made on their behalf — the app, the binding message to compare with what the app's device
 * shows, the scopes — with Approve / Deny, and the result.
 */

export interface CibaApprovalPageProps extends ClientInfo {
  nonce: string;
  csrf: string;
  /** The page's handle (the path's last segment); never the auth_req_id. */
  handle: string;
  clientName: string;
  bindingMessage?: string;
  scopes: readonly ScopeDescription[];
}

/** POST /ciba/{handle} with `decision=approve|deny` and `csrf`. */
export function CibaApprovalPage({ nonce, csrf, handle, clientName, clientUri, logoUri, policyUri, tosUri, bindingMessage, scopes }: CibaApprovalPageProps) {
  return (
    <Layout title={`Approve a sign-in to ${clientName}?`} nonce={nonce}>
      <ClientLogo uri={logoUri} />
      <h1>
        Approve a sign-in to <span class="email">{clientName}</span>?
      </h1>
      <ClientLinks clientName={clientName} clientUri={clientUri} policyUri={policyUri} tosUri={tosUri} />
      {bindingMessage !== undefined ? (
        <p>
          The app shows this message: <strong class="binding-message">{bindingMessage}</strong>. Approve only if it shows the same.
        </p>
      ) : null}
      <p class="alert" role="note">
        Only approve a request you started yourself. If you did not expect it, deny.
      </p>
      <h2>The app will be able to:</h2>
      <ScopeList scopes={scopes} />
      <DecisionForm action={`/ciba/${handle}`} hidden={{}} csrf={csrf}
        yes={{ value: "approve", label: "Approve" }} no={{ value: "deny", label: "Deny" }} />
    </Layout>
  );
}

export type CibaResult = "approved" | "denied" | "expired" | "decided";
const CIBA_RESULTS: readonly CibaResult[] = ["approved", "denied", "expired", "decided"];
export const isCibaResult = (value: string | undefined): value is CibaResult => (CIBA_RESULTS as readonly (string | undefined)[]).includes(value);

const RESULT_TEXT: Record<CibaResult, { title: string; text: string }> = {
  approved: { title: "Sign-in approved", text: "You can return to the app." },
  denied: { title: "Sign-in denied", text: "The app was told you denied it." },
  expired: { title: "Request expired", text: "This request is no longer valid. Ask the app to start again." },
  decided: { title: "Already decided", text: "This request was approved or denied already." },
};

export function CibaDonePage({ nonce, result }: { nonce: string; result: CibaResult }) {
  const { title, text } = RESULT_TEXT[result];
  return (
    <Layout title={title} nonce={nonce}>
      <h1>{title}</h1>
      <p class="lead">{text}</p>
    </Layout>
  );
}

/** One request waiting for the signed-in person, as their account page lists it. */
export interface CibaPendingItem {
  handle: string;
  clientName: string;
  bindingMessage?: string;
}

/** The account page's "Sign-in requests waiting for you" list (nothing when there are none). */
export function CibaPendingList({ items }: { items: readonly CibaPendingItem[] }) {
  if (items.length === 0) return null;
  return (
    <>
      <h2>Sign-in requests waiting for you</h2>
      <ul class="ciba-pending">
        {items.map((item) => (
          <li>
            <a href={`/ciba/${item.handle}`}>{item.clientName}</a>
            {item.bindingMessage !== undefined ? <> — “{item.bindingMessage}”</> : null}
          </li>
        ))}
      </ul>
    </>
  );
}

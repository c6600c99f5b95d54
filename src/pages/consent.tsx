import type { ScopeDescription } from "./scopes";
import type { AuthorizationDetail, AuthorizationDetailsType } from "../authorize/authorization-details";
import { AuthorizationDetailsList } from "./authorization-details";
import { UnregisteredClientNotice, type UnregisteredClient } from "./client-document";
import { ClientLinks, ClientLogo, type ClientInfo } from "./links";
import { DecisionForm } from "./decision-form";
import { Layout } from "./layout";
import { ScopeList } from "./scope-list";

/** ClientInfo: the client's logo, home page, privacy policy and terms, each shown only when https. */
export interface ConsentPageProps extends ClientInfo {
  nonce: string;
  csrf: string;
  txn: string;
  clientName: string;
  /** What is asked, in the person's words: see describeScopes() in ./scopes. */
  scopes: readonly ScopeDescription[];
  userEmail: string;
  /** RFC 9396: the authorization details asked for, shown by ./authorization-details.tsx with the declared types. */
  authorizationDetails?: readonly AuthorizationDetail[] | undefined;
  detailTypes?: readonly AuthorizationDetailsType[];
  /** OIDC Core §5.5: claims asked for one by one beyond the scopes' (describeClaims() in ./scopes). */
  claims?: readonly ScopeDescription[];
  /** RFC 8707: the resource servers the access is for, shown by host and full URI. */
  resources?: readonly string[] | undefined;
  /** A client known only by its client ID metadata document: said so, with where the answer goes (./client-document.tsx). */
  unregistered?: UnregisteredClient | undefined;
}

/** POST /consent with `decision=allow|deny`, hidden `txn` and `csrf`. */
export function ConsentPage({
  nonce, csrf, txn, clientName, clientUri, logoUri, policyUri, tosUri, scopes, userEmail, authorizationDetails, detailTypes = [], unregistered, resources,
  claims,
}: ConsentPageProps) {
  return (
    <Layout title={`Allow ${clientName}?`} nonce={nonce}>
      <ClientLogo uri={logoUri} />
      <h1>
        Allow <span class="email">{clientName}</span> to access your account?
      </h1>
      <ClientLinks clientName={clientName} clientUri={clientUri} policyUri={policyUri} tosUri={tosUri} />
      {unregistered !== undefined ? <UnregisteredClientNotice {...unregistered} /> : null}
      <p class="who">
        Signed in as <strong>{userEmail}</strong>
      </p>
      <h2>This app will be able to:</h2>
      <ScopeList scopes={scopes} />
      {claims?.length ? (
        <>
          <h2>It also asks to:</h2>
          <ScopeList scopes={claims} />
        </>
      ) : null}
      {resources?.length ? (
        <>
          <h2>It will use this access only at:</h2>
          <ul class="resources">
            {resources.map((uri) => (
              <li>
                <strong>{new URL(uri).host || uri}</strong> <span class="uri">{uri}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {authorizationDetails?.length ? (
        <>
          <h2>And, for this request only:</h2>
          <AuthorizationDetailsList details={authorizationDetails} types={detailTypes} />
        </>
      ) : null}
      <p class="lead">Only allow apps you trust. You can withdraw this permission later.</p>
      <DecisionForm action="/consent" hidden={{ txn }} csrf={csrf}
        yes={{ value: "allow", label: "Allow" }} no={{ value: "deny", label: "Deny" }} />
    </Layout>
  );
}

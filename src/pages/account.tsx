import { ClientLinks, type ClientInfo } from "./links";
import { CibaPendingList, type CibaPendingItem } from "./ciba";
import { CsrfField, Layout } from "./layout";
import { ScopeList } from "./scope-list";
import type { ScopeDescription } from "./scopes";
import { UtcTime } from "./time";

/** One client the person granted access to. ClientInfo: its home page, privacy policy and terms (https only). */
export interface AccountGrant extends ClientInfo {
  clientId: string;
  clientName: string;
  /** What it may do, in the person's words: see describeScopes() in ./scopes. */
  scopes: readonly ScopeDescription[];
  /** When the person first allowed it, and when they last widened it (Unix seconds). */
  grantedAt: number;
  updatedAt: number;
}

/** What the last action did; the page says it in fixed words (nothing from the request is shown). */
export type AccountNotice = "revoked" | "nothing_revoked" | "password_changed";

const NOTICES: Record<AccountNotice, string> = {
  revoked: "Access withdrawn. The app can no longer use your account; it has to ask you again.",
  nothing_revoked: "Nothing to withdraw: that app had no access to your account.",
  password_changed: "Password changed. Your other devices and the apps that use your account have been signed out.",
};

/** Whether a query value names one of the notices. */
export const isAccountNotice = (value: string | undefined): value is AccountNotice =>
  value !== undefined && Object.hasOwn(NOTICES, value);

export interface AccountPageProps {
  nonce: string;
  csrf: string;
  userEmail: string;
  grants: readonly AccountGrant[];
  notice?: AccountNotice;
  /** CIBA requests waiting for this person (src/pages/ciba.tsx). */
  cibaPending?: readonly CibaPendingItem[];
}

/**
 * GET /account: the apps the signed-in person allowed, each with a Revoke form (POST /account/revoke),
 * and Sign out (POST /account/sign-out: ends the session at once, no second question).
 */
export function AccountPage({ nonce, csrf, userEmail, grants, notice, cibaPending = [] }: AccountPageProps) {
  return (
    <Layout title="Your account" nonce={nonce}>
      <h1>Your account</h1>
      <form method="post" action="/account/sign-out" class="who">
        <CsrfField token={csrf} />
        Signed in as <strong>{userEmail}</strong> ·{" "}
        <button type="submit" class="link">
          Sign out
        </button>
      </form>
      {notice ? (
        <p class="notice" role="status">
          {NOTICES[notice]}
        </p>
      ) : null}
      <CibaPendingList items={cibaPending} />
      <h2>Passkeys, password and sessions</h2>
      <p>
        <a href="/account/passkeys">Passkeys</a> · <a href="/account/password">Change password</a> ·{" "}
        <a href="/account/sign-out-everywhere">Sign out everywhere</a>
      </p>
      <h2>Apps with access to your account</h2>
      {grants.length === 0 ? (
        <p class="lead">No apps have access to your account.</p>
      ) : (
        <ul class="grants">
          {grants.map((grant) => (
            <li class="grant">
              <h3>{grant.clientName}</h3>
              <ClientLinks clientName={grant.clientName} clientUri={grant.clientUri} policyUri={grant.policyUri} tosUri={grant.tosUri} />
              <ScopeList scopes={grant.scopes} />
              <p class="dates">
                Allowed on <UtcTime seconds={grant.grantedAt} precision="date" />, last updated{" "}
                <UtcTime seconds={grant.updatedAt} precision="date" /> (UTC)
              </p>
              <form method="post" action="/account/revoke">
                <CsrfField token={csrf} />
                <input type="hidden" name="client_id" value={grant.clientId} />
                <button type="submit" class="danger">
                  Revoke access<span class="sr-only"> for {grant.clientName}</span>
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

import { Hono } from "hono";
import { pendingCibaRequests } from "./ciba-approval";
import { currentSession } from "../authorize/flow";
import { grantedClients } from "../consent/grants";
import { ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { endSession } from "../logout/end-session";
import { AccountPage, clientInfo, describeScopes, isAccountNotice } from "../pages";
import { clearSessionCookie } from "../sessions/cookie";
import type { Session } from "../sessions/model";
import { signInUrl } from "../sessions/sign-in-return";
import type { User } from "../users/model";
import { pageErrors } from "./authorize";
import { consentStore, encryptionKey, uncachedClientStore, userStore } from "../services";

/**
 * The signed-in person's account page (issue 4), mounted at /account:
 *
 *   GET  /account          the clients the person allowed: name and links, scopes in words, dates,
 *                          and a Revoke form for each; without a live session, a 303 to the
 *                          sign-in page, which returns here (/login?return=account)
 *   POST /account/revoke   client_id, csrf: withdraws that grant, then 303 to /account with a notice
 *   POST /account/sign-out csrf: ends this browser's session at once (src/logout/end-session.ts, so
 *                          the apps signed in through it get their back-channel logout tokens),
 *                          then 303 to /logout, which says "You are signed out". No second
 *                          question: the CSRF-protected POST from the person's own page is the
 *                          decision (RP-Initiated Logout asks only when another site sent them).
 *
 * Pages get the common page security (src/http/page-security.ts: CSP with nonces, no framing,
 * no-store) and the POST the CSRF check. Revoking is ConsentStore.withdraw, as in the operator API
 * (src/endpoints/admin-users.ts): the consent goes and the grant's refresh tokens are revoked in one
 * batch; the grant's access tokens then fail at UserInfo and introspection, which find no consent
 * with their `gid`. Only the person's own grants can be named: the user comes from the session,
 * never from the form, so another person's client_id withdraws nothing.
 */

/** This browser's live session and its person; null without one, or when the account is gone or disabled. */
export async function signedInPerson(c: AppContext): Promise<{ session: Session; user: User } | null> {
  const session = await currentSession(c);
  if (session === null) return null;
  const user = await userStore(c).get(session.userId);
  return user !== null && !user.disabled ? { session, user } : null;
}

/** The person behind this browser's live session (signedInPerson), or null. */
async function signedInUser(c: AppContext): Promise<User | null> {
  return (await signedInPerson(c))?.user ?? null;
}

export const toSignIn = () => seeOther(signInUrl("account"));

export const account = new Hono<AppEnv>()
  .get("/", pageErrors, async (c) => {
    const user = await signedInUser(c);
    if (user === null) return toSignIn();
    const granted = await grantedClients(user.id, { consents: consentStore(c), clients: uncachedClientStore(c) });
    const grants = granted.map(({ consent, client }) => ({
      ...clientInfo(client, consent.clientId).props,
      clientId: consent.clientId,
      scopes: describeScopes(consent.scope),
      grantedAt: consent.createdAt,
      updatedAt: consent.updatedAt,
    }));
    const notice = c.req.query("notice");
    const cibaPending = await pendingCibaRequests(c, user.id);
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    return renderPage(
      c,
      (nonce) => (
        <AccountPage nonce={nonce} csrf={csrf.token} userEmail={user.email} grants={grants} cibaPending={cibaPending} {...(isAccountNotice(notice) && { notice })} />
      ),
      { setCookies: [csrf.setCookie] },
    );
  })
  .post("/revoke", pageErrors, async (c) => {
    const form = await postedForm(c);
    const user = await signedInUser(c);
    if (user === null) return toSignIn();
    const clientId = form.get("client_id");
    ensure(clientId !== undefined, "missing_parameter", "The form names no app whose access to withdraw.");
    const withdrawn = await consentStore(c).withdraw(user.id, clientId, c.get("now"));
    return seeOther(`/account?notice=${withdrawn !== null ? "revoked" : "nothing_revoked"}`);
  })
  .post("/sign-out", pageErrors, async (c) => {
    await postedForm(c);
    const session = await currentSession(c);
    if (session !== null) await endSession(c, session);
    return seeOther("/logout", { "set-cookie": clearSessionCookie() });
  });

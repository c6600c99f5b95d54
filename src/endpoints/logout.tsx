import { Hono } from "hono";
import { currentSession } from "../authorize/flow";
import type { AppContext, AppEnv } from "../http/context";
import { parseFormEncoded, readFormText, type Params } from "../http/form";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { endSession } from "../logout/end-session";
import { postLogoutLocation, readLogoutRequest, type LogoutRequest } from "../logout/request";
import { clientInfo } from "../pages/links";
import { SignOutPage, SignedOutPage, type LogoutFormFields } from "../pages/logout";
import { clientStore, encryptionKey, requestKeyring, userStore } from "../services";
import { clearSessionCookie, readSessionCookie } from "../sessions/cookie";
import type { Session } from "../sessions/model";
import { pageErrors } from "./authorize";

/**
 * The end_session_endpoint (OIDC RP-Initiated Logout 1.0), mounted at /logout:
 *
 *   GET|POST /logout          id_token_hint, client_id, post_logout_redirect_uri, state (§2)
 *   POST     /logout/confirm  the sign-out page's form: decision=sign_out|continue, csrf, the request
 *
 * The request is validated first (src/logout/request.ts); any error is a page, never a redirect.
 * Then, for this browser's session:
 *
 * - an id_token_hint naming it (same `sid` and `sub`) ends it at once: the client proves it is the
 *   one the person signed in to through this session;
 * - otherwise — no hint, a hint from another session or person — the person is asked first (§2
 *   "MUST ask"), with a CSRF-protected form;
 * - with no session there is nothing to end (an already-ended or unknown session is not an error).
 *
 * Afterwards the browser goes with 303 to the post_logout_redirect_uri with `state` (§3) or sees
 * "You are signed out". Without an id_token_hint nothing is redirected before the person has
 * clicked (§3: no post-logout redirection without the hint unless legitimacy is otherwise
 * confirmed; here, by the URI being exactly the one the client registered, and by the click).
 * Ending a session clears the cookie and tells the clients of the session over the back channel
 * (src/logout/end-session.ts).
 */

/** The request's parameters: the query of a GET, the form body of a POST (§2); repeated ones are an error. */
async function logoutParams(c: AppContext): Promise<Params> {
  const source = c.req.method === "POST" ? await readFormText(c.req.raw, c.get("config").maxBodyBytes) : new URL(c.req.url).search.slice(1);
  return parseFormEncoded(source, "logout request");
}

const validate = (c: AppContext, params: Params) =>
  readLogoutRequest(params, { clients: clientStore(c), config: c.get("config"), keys: () => requestKeyring(c), now: c.get("now") });

/** What the sign-out pages' forms carry on: the client and, when validated, where to go and the state. */
const formFields = (request: LogoutRequest): LogoutFormFields => ({
  client_id: request.client?.clientId,
  post_logout_redirect_uri: request.redirectUri,
  state: request.redirectUri !== undefined ? request.state : undefined,
});

/** Where the pages' forms may go: ours, and the app's registered URI the POST redirects to (Chromium applies form-action to redirects). */
const formActionOrigins = (request: LogoutRequest) => (request.redirectUri !== undefined ? [request.redirectUri] : []);

const clientName = (request: LogoutRequest) => (request.client ? clientInfo(request.client, request.client.clientId).props.clientName : undefined);

/** After the decision: 303 to the app when it gave a registered URI, else the page. Signing out clears the cookie. */
function finish(c: AppContext, request: LogoutRequest, outcome: "signed_out" | "stayed"): Promise<Response> | Response {
  const cookies: Record<string, string> = outcome === "signed_out" ? { "set-cookie": clearSessionCookie() } : {};
  if (request.redirectUri !== undefined) {
    return seeOther(postLogoutLocation({ ...request, redirectUri: request.redirectUri }), { "referrer-policy": "no-referrer", ...cookies });
  }
  return renderPage(c, (nonce) => <SignedOutPage nonce={nonce} outcome={outcome} />, { setCookies: [cookies["set-cookie"]] });
}

/** No session here and no id_token_hint, but a registered URI: signed out, and a button on to the app. */
async function signedOutWithContinue(c: AppContext, request: LogoutRequest): Promise<Response> {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  const continueTo = { csrf: csrf.token, clientName: clientName(request)!, fields: formFields(request) };
  return renderPage(c, (nonce) => <SignedOutPage nonce={nonce} outcome="signed_out" continueTo={continueTo} />, {
    setCookies: [csrf.setCookie, clearSessionCookie()],
    formActionOrigins: formActionOrigins(request),
  });
}

/** "Sign out of Latchkey?" for this browser's session. */
async function askFirst(c: AppContext, request: LogoutRequest, session: Session): Promise<Response> {
  const [csrf, user] = await Promise.all([csrfFor(c.req.raw, encryptionKey(c)), userStore(c).get(session.userId)]);
  const name = clientName(request);
  return renderPage(
    c,
    (nonce) => (
      <SignOutPage nonce={nonce} csrf={csrf.token} userEmail={user?.email ?? "your account"} fields={formFields(request)}
        {...(name !== undefined && { clientName: name })} />
    ),
    { setCookies: [csrf.setCookie], formActionOrigins: formActionOrigins(request) },
  );
}

/** What a logout request means to us (RP-Initiated Logout §2); the rest is not carried over. */
const LOGOUT_PARAMETERS = ["id_token_hint", "client_id", "post_logout_redirect_uri", "state"] as const;

export const logout = new Hono<AppEnv>()
  .on(["GET", "POST"], "/", pageErrors, async (c) => {
    const params = await logoutParams(c);
    const request = await validate(c, params);
    // A client's cross-site form POST does not carry the SameSite=Lax session cookie, so this
    // browser's session cannot be seen; the same request as a top-level GET does carry it.
    if (c.req.method === "POST" && readSessionCookie(c.req.raw) === null) {
      const carried = LOGOUT_PARAMETERS.flatMap((name) => (params.has(name) ? [[name, params.get(name)!]] : []));
      return seeOther(`/logout?${new URLSearchParams(carried)}`);
    }
    const session = await currentSession(c);
    if (session === null) {
      if (request.redirectUri !== undefined && request.hint === undefined) return signedOutWithContinue(c, request);
      return finish(c, request, "signed_out");
    }
    if (request.hint?.sid === session.sid && request.hint.sub === session.userId) {
      await endSession(c, session);
      return finish(c, request, "signed_out");
    }
    return askFirst(c, request, session);
  })
  .post("/confirm", pageErrors, async (c) => {
    const form = await postedForm(c);
    const carried = new Map([...form].filter(([name]) => ["client_id", "post_logout_redirect_uri", "state"].includes(name)));
    const request = await validate(c, carried);
    if (form.get("decision") !== "sign_out") return finish(c, request, "stayed");
    const session = await currentSession(c);
    if (session !== null) await endSession(c, session);
    return finish(c, request, "signed_out");
  });

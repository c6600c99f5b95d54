import { Hono } from "hono";
import { currentSession, proceed } from "../authorize/flow";
import { newTransaction } from "../authorize/request";
import "../ciba/completion";
import type { CibaRequestState } from "../ciba/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { clientInfo, describeScopes } from "../pages";
import { CibaApprovalPage, CibaDonePage, isCibaResult, type CibaPendingItem } from "../pages/ciba";
import { cibaRequests, encryptionKey, uncachedClientStore } from "../services";
import type { Session } from "../sessions/model";
import { pageErrors } from "./authorize";

/**
 * The person's side of CIBA (CIBA Core §7.1): `/ciba/{handle}`, the link the mail carries. The
 * handle is its own random value, not the auth_req_id, and the page requires the person the
 * request names: without a session the shared transaction (completion `backchannel`) signs them in
 * first; a different signed-in person, an unknown handle and an expired request all get the same
 * 404. The page shows the app, the binding message and the scopes; Approve (CSRF-checked) runs the
 * transaction again — email verification and consent with the superset rule — whose completion
 * approves; Deny denies at once.
 */

type Found = { request: CibaRequestState; session: Session | null };

/** The live request behind a handle, as the person it names may see it; anyone else: ciba_request_invalid. */
async function lookUp(c: AppContext, handle: string): Promise<Found> {
  const [request, session] = await Promise.all([cibaRequests(c).findByHandle(handle), currentSession(c)]);
  ensure(request !== null && (session === null || session.userId === request.sub), "ciba_request_invalid");
  return { request, session };
}

async function clientOf(c: AppContext, request: CibaRequestState) {
  const client = await uncachedClientStore(c).get(request.clientId);
  ensure(client !== null && !client.disabled, "ciba_request_invalid");
  return client;
}

function transaction(c: AppContext, request: CibaRequestState, handle: string, confirmed: boolean) {
  return newTransaction(
    { clientId: request.clientId, scope: request.scope },
    { kind: "backchannel", cibaRequestId: request.id, handle, sub: request.sub, confirmed },
    c.get("config"),
    c.get("now"),
  );
}

/** The person's live, pending requests for their account page (src/endpoints/account.tsx). */
export async function pendingCibaRequests(c: AppContext, sub: string): Promise<CibaPendingItem[]> {
  const requests = cibaRequests(c);
  const found = await Promise.all((await requests.pendingFor(sub)).map(async (handle) => ({ handle, request: await requests.findByHandle(handle) })));
  const live = found.filter((f): f is { handle: string; request: CibaRequestState } => f.request !== null && f.request.state === "pending" && f.request.sub === sub);
  const clients = uncachedClientStore(c);
  return Promise.all(live.map(async ({ handle, request }) => ({
    handle,
    clientName: (await clients.get(request.clientId))?.clientName ?? request.clientId,
    ...(request.bindingMessage !== undefined && { bindingMessage: request.bindingMessage }),
  })));
}

const donePage = (c: AppContext, result: "approved" | "denied" | "expired" | "decided") =>
  renderPage(c, (nonce) => <CibaDonePage nonce={nonce} result={result} />);

export const cibaApproval = new Hono<AppEnv>()
  .get("/done", pageErrors, (c) => {
    const result = c.req.query("result");
    return donePage(c, isCibaResult(result) ? result : "decided");
  })
  .get("/:handle", pageErrors, async (c) => {
    const handle = c.req.param("handle");
    const { request, session } = await lookUp(c, handle);
    if (request.state !== "pending") return donePage(c, "decided");
    const client = await clientOf(c, request);
    // Not signed in: sign in first, through the shared transaction; its completion comes back here.
    if (session === null) return proceed(c, client, transaction(c, request, handle, false));
    const info = clientInfo(client, request.clientId);
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    return renderPage(
      c,
      (nonce) => (
        <CibaApprovalPage nonce={nonce} csrf={csrf.token} handle={handle} {...info.props}
          {...(request.bindingMessage !== undefined && { bindingMessage: request.bindingMessage })}
          scopes={describeScopes(request.scope)} />
      ),
      { setCookies: [csrf.setCookie], imgOrigins: info.imgOrigins },
    );
  })
  .post("/:handle", pageErrors, async (c) => {
    const form = await postedForm(c);
    const handle = c.req.param("handle");
    const { request, session } = await lookUp(c, handle);
    if (session === null) throw new OAuthError("ciba_request_invalid");
    if (request.state !== "pending") return donePage(c, "decided");
    if (form.get("decision") !== "approve") {
      const denied = await cibaRequests(c).deny(request.id, session.userId);
      ensure(denied !== "not_found", "ciba_request_invalid");
      return seeOther(`/ciba/done?result=${denied === "done" ? "denied" : denied}`);
    }
    return proceed(c, await clientOf(c, request), transaction(c, request, handle, true));
  });

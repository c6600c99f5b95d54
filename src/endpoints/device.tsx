import { Hono } from "hono";
import { proceed } from "../authorize/flow";
import { newTransaction } from "../authorize/request";
import "../device/completion";
import type { DeviceRequestState } from "../device/requests";
import { formatUserCode, normalizeUserCode } from "../device/user-code";
import { catalog } from "../errors/catalog";
import { ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { clientInfo, describeScopes } from "../pages";
import { DeviceCodePage, DeviceConfirmPage, DeviceDonePage, isDeviceResult } from "../pages/device";
import { deviceRequests, encryptionKey, loginThrottle, uncachedClientStore } from "../services";
import { ipKey } from "../users/throttle";
import { pageErrors } from "./authorize";

/**
 * The person's side of the device flow (RFC 8628 §3.3): `/device` takes the code shown on the
 * device (prefilled from verification_uri_complete, but always submitted by the person), a
 * confirmation page names the client and the scopes and warns to approve only a device the person
 * holds (§5.4), then Approve starts the shared authorization transaction with the `device`
 * completion — sign-in, email verification and consent exactly as in the code flow — which
 * approves the request (src/device/completion.ts); Deny denies it at once.
 *
 * Every code entry counts against the client IP's budget of the sign-in throttle before the code
 * is looked up (§5.1; src/users/throttle.ts): a right code gives its unit back, a wrong one keeps it.
 */

type Found = { id: string; request: DeviceRequestState; userCode: string };

type Refused = "user_code_invalid" | "user_code_throttled";

/** The request a typed code names, throttled per IP; otherwise why not. */
async function lookUp(c: AppContext, typed: string | undefined): Promise<Found | Refused> {
  const ip = c.req.header("cf-connecting-ip");
  const attempt = ip ? await loginThrottle(c).reserve([ipKey(ip)]) : undefined;
  if (attempt !== undefined && !attempt.allowed) return "user_code_throttled";
  const userCode = normalizeUserCode(typed);
  const found = userCode === undefined ? null : await deviceRequests(c).findByUserCode(userCode);
  if (found === null) return "user_code_invalid";
  await attempt?.succeeded();
  return { ...found, userCode: userCode! };
}

async function codePage(c: AppContext, userCode: string | undefined, refused?: Refused) {
  const csrf = await csrfFor(c.req.raw, encryptionKey(c));
  const error = refused === undefined ? undefined : catalog[refused];
  return renderPage(
    c,
    (nonce) => (
      <DeviceCodePage nonce={nonce} csrf={csrf.token} {...(userCode !== undefined && { userCode })}
        {...(error !== undefined && { error: error.description })} />
    ),
    { status: error?.status ?? 200, setCookies: [csrf.setCookie] },
  );
}

const donePage = (c: AppContext, result: "approved" | "denied" | "expired" | "decided") =>
  renderPage(c, (nonce) => <DeviceDonePage nonce={nonce} result={result} />);

export const device = new Hono<AppEnv>()
  .get("/", pageErrors, (c) => {
    const typed = c.req.query("user_code");
    return codePage(c, typed !== undefined && typed.length <= 32 ? typed : undefined);
  })
  .post("/", pageErrors, async (c) => {
    const form = await postedForm(c);
    const found = await lookUp(c, form.get("user_code"));
    if (typeof found === "string") return codePage(c, form.get("user_code")?.slice(0, 32), found);
    if (found.request.state !== "pending") return donePage(c, "decided");
    const client = await uncachedClientStore(c).get(found.request.clientId);
    const info = clientInfo(client, found.request.clientId);
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    return renderPage(
      c,
      (nonce) => (
        <DeviceConfirmPage nonce={nonce} csrf={csrf.token} userCode={formatUserCode(found.userCode)} {...info.props}
          scopes={describeScopes(found.request.scope)} />
      ),
      { setCookies: [csrf.setCookie], imgOrigins: info.imgOrigins },
    );
  })
  .post("/confirm", pageErrors, async (c) => {
    const form = await postedForm(c);
    const found = await lookUp(c, form.get("user_code"));
    if (typeof found === "string") return codePage(c, undefined, found);
    if (found.request.state !== "pending") return donePage(c, "decided");
    if (form.get("decision") !== "approve") {
      const denied = await deviceRequests(c).deny(found.id);
      return seeOther(`/device/done?result=${denied === "done" ? "denied" : denied}`);
    }
    const client = await uncachedClientStore(c).get(found.request.clientId);
    ensure(client !== null && !client.disabled, "user_code_invalid");
    const now = c.get("now");
    const txn = newTransaction(
      // max_age as the device sent it (OIDC Core §3.1.2.1): an older session is asked to sign in again.
      { clientId: client.clientId, scope: found.request.scope, ...(found.request.maxAge !== undefined && { maxAge: found.request.maxAge }) },
      { kind: "device", deviceRequestId: found.id },
      c.get("config"),
      now,
    );
    return proceed(c, client, txn);
  })
  .get("/done", pageErrors, (c) => {
    const result = c.req.query("result");
    return donePage(c, isDeviceResult(result) ? result : "decided");
  });

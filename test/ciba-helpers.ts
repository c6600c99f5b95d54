import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { listOutbox } from "../src/mail/outbox";
import { basic, call, createClient, tokenRequest } from "./helpers";
import { PASSWORD, type Browser } from "./oidc-helpers";

export const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

type TestClient = { client_id: string; client_secret?: string } & Record<string, unknown>;

/** A confidential client registered for the CIBA grant (and refresh tokens). */
export function cibaClient(input: Record<string, unknown> = {}): Promise<TestClient> {
  return createClient({ grant_types: [CIBA_GRANT, "refresh_token"], client_name: "Call centre", backchannel_token_delivery_mode: "poll", ...input });
}

const auth = (client: TestClient): Record<string, string> =>
  client.client_secret ? { authorization: basic(client.client_id, client.client_secret) } : {};

/** POST /bc-authorize (CIBA §7.1), the client authenticated with client_secret_basic. */
export function backchannelRequest(client: TestClient, form: Record<string, string>) {
  return call("/bc-authorize", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...auth(client) },
    body: new URLSearchParams({ ...(client.client_secret ? {} : { client_id: client.client_id }), ...form }).toString(),
  });
}

export interface CibaStarted {
  auth_req_id: string;
  expires_in: number;
  interval: number;
}

export async function startCiba(client: TestClient, email: string, extra: Record<string, string> = {}): Promise<CibaStarted> {
  const res = await backchannelRequest(client, { scope: "openid offline_access", login_hint: email, ...extra });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** One poll of the token endpoint (CIBA §10.1). */
export function pollCiba(client: TestClient, authReqId: string) {
  return tokenRequest({ grant_type: CIBA_GRANT, auth_req_id: authReqId }, auth(client));
}

/** The approval page's path from the newest CIBA mail to `email`, and the mail's text. */
export async function mailedApproval(email: string): Promise<{ path: string; text: string }> {
  const messages = await listOutbox(env.DB, email);
  const message = messages.find((m) => m.text.includes("/ciba/"));
  const match = /https:\/\/latchkey\.test(\/ciba\/[A-Za-z0-9_-]+)/.exec(message?.text ?? "");
  expect(match, message?.text).not.toBeNull();
  return { path: match![1]!, text: message!.text };
}

/**
 * The person's side in `browser`: open the mailed link, sign in (as `user`) and consent when asked,
 * then Approve (or Deny) on the approval page. Returns the final page and the pages seen.
 */
export async function decideOnApprovalPage(
  browser: Browser, path: string, user: { email: string }, decision: "approve" | "deny" = "approve",
): Promise<{ res: Response; pages: string[] }> {
  const pages: string[] = [];
  let res = await browser.follow(await browser.fetch(path));
  for (let step = 0; step < 6 && res.status === 200; step++) {
    const html = await res.clone().text();
    if (html.includes('action="/login"')) {
      pages.push("login");
      res = await browser.follow(await browser.submit(html, { email: user.email, password: PASSWORD }, "/login"));
    } else if (html.includes('action="/consent"')) {
      pages.push("consent");
      res = await browser.follow(await browser.submit(html, { decision: "allow" }, "/consent"));
    } else if (html.includes(`action="${path}"`)) {
      pages.push("approval");
      res = await browser.follow(await browser.submit(html, { decision }, path));
    } else break;
  }
  return { res, pages };
}

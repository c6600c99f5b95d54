import { expect } from "vitest";
import { basic, call, createClient, tokenRequest } from "./helpers";
import { Browser, PASSWORD } from "./oidc-helpers";

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** A confidential client registered for the device grant (and refresh tokens). */
export function deviceClient(input: Record<string, unknown> = {}) {
  return createClient({
    grant_types: [DEVICE_GRANT, "refresh_token"],
    client_name: "Living-room TV",
    ...input,
  }) as Promise<{ client_id: string; client_secret?: string } & Record<string, unknown>>;
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

const auth = (client: { client_id: string; client_secret?: string }): Record<string, string> =>
  client.client_secret ? { authorization: basic(client.client_id, client.client_secret) } : {};

/** POST /device_authorization (RFC 8628 §3.1) as the client authenticates (public: client_id in the body). */
export function requestDeviceAuthorization(client: { client_id: string; client_secret?: string }, form: Record<string, string> = {}) {
  const body = new URLSearchParams({ ...(client.client_secret ? {} : { client_id: client.client_id }), ...form });
  return call("/device_authorization", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...auth(client) },
    body: body.toString(),
  });
}

export async function startDevice(
  client: { client_id: string; client_secret?: string }, scope = "openid offline_access", extra: Record<string, string> = {},
): Promise<DeviceAuthorization> {
  const res = await requestDeviceAuthorization(client, { scope, ...extra });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

/** One poll of the token endpoint (RFC 8628 §3.4). */
export function poll(client: { client_id: string; client_secret?: string }, deviceCode: string) {
  return tokenRequest(
    { grant_type: DEVICE_GRANT, device_code: deviceCode, ...(client.client_secret ? {} : { client_id: client.client_id }) },
    auth(client),
  );
}

/**
 * The person's side in `browser`: enter the code at /device, approve (or deny) on the confirmation
 * page, sign in and consent when asked. Returns the final page and the pages seen.
 */
export async function approveOnDevicePage(
  browser: Browser,
  userCode: string,
  user: { email: string } | undefined,
  opts: { decision?: "approve" | "deny"; consent?: "allow" | "deny" } = {},
): Promise<{ res: Response; pages: string[] }> {
  const pages: string[] = [];
  let res = await browser.fetch(`/device?user_code=${encodeURIComponent(userCode)}`);
  res = await browser.submit(res, { user_code: userCode }, "/device");
  expect(res.status, await res.clone().text()).toBe(200);
  pages.push("confirm");
  res = await browser.follow(await browser.submit(res, { decision: opts.decision ?? "approve" }, "/device/confirm"));
  for (let step = 0; step < 4 && res.status === 200; step++) {
    const html = await res.clone().text();
    if (html.includes('action="/login"') && user) {
      pages.push("login");
      res = await browser.follow(await browser.submit(html, { email: user.email, password: PASSWORD }, "/login"));
    } else if (html.includes('action="/consent"')) {
      pages.push("consent");
      res = await browser.follow(await browser.submit(html, { decision: opts.consent ?? "allow" }, "/consent"));
    } else break;
  }
  return { res, pages };
}

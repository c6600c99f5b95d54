/**
 * End to end, RFC 8628 with a real client library: `openid-client` (v6) discovers Latchkey, starts
 * a device authorization (`initiateDeviceAuthorization`) and polls the token endpoint
 * (`pollDeviceAuthorizationGrant`, which keeps the interval and obeys slow_down) while a person's
 * browser (test/e2e/http-browser.ts) opens verification_uri_complete, confirms the code, approves,
 * signs in and consents over real HTTP. Then the refresh token it got is used. The built Worker runs
 * in workerd (scripts/local-worker.mjs).
 */
import { randomBytes } from "node:crypto";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, heading, signInAndConsent } from "./http-browser.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
let worker: Worker;
const person = { email: `tv-${randomBytes(4).toString("hex")}@example.com`, password: `pw-${randomBytes(12).toString("base64url")}` };
let personId: string;

const admin = (path: string, method: string, body: unknown): Promise<Response> => worker.admin(path, method, body);

beforeAll(async () => {
  worker = await startLocalWorker();
  const user = await admin("/admin/users", "POST", { ...person, email_verified: true });
  expect(user.status, await user.clone().text()).toBe(201);
  personId = ((await user.json()) as { id: string }).id;
  const tv = await admin("/admin/clients/living-room-tv", "PUT", {
    client_name: "Living-room TV",
    grant_types: [DEVICE_GRANT, "refresh_token"],
    token_endpoint_auth_method: "none",
    scope: "",
  });
  expect(tv.status, await tv.clone().text()).toBe(200);
});

afterAll(async () => {
  await worker?.dispose();
});

describe("openid-client v6: the device authorization grant", () => {
  it("initiateDeviceAuthorization → the person approves in a browser → pollDeviceAuthorizationGrant gets the tokens → refresh", async () => {
    const config = await client.discovery(new URL(worker.url), "living-room-tv", undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    expect(config.serverMetadata().device_authorization_endpoint).toBe(`${worker.url}/device_authorization`);

    const started = await client.initiateDeviceAuthorization(config, { scope: "openid offline_access" });
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${worker.url}/device`);
    expect(started.interval).toBe(5);

    const polling = client.pollDeviceAuthorizationGrant(config, started);

    // The person: the prefilled code is still submitted and confirmed (RFC 8628 §5.4).
    const browser = new HttpBrowser(worker.url);
    let visit = await browser.go(started.verification_uri_complete!);
    expect(heading(visit.html)).toBe("Connect a device");
    expect(visit.html).toContain(`value="${started.user_code}"`);
    visit = await browser.submit(visit, "/device", { user_code: started.user_code });
    expect(heading(visit.html)).toBe("Connect Living-room TV?");
    visit = await browser.submit(visit, "/device/confirm", { decision: "approve" });
    const { visit: last, headings } = await signInAndConsent(browser, visit.url, person);
    // signInAndConsent re-opened the sign-in page's URL: the person signs in, consents, and lands on the result.
    expect(headings).toEqual(["Sign in", "Allow Living-room TV to access your account?", "Device connected"]);
    expect(last.left).toBe(false);

    const tokens = await polling;
    expect(tokens.token_type.toLowerCase()).toBe("bearer");
    expect(tokens.scope).toBe("openid offline_access");
    expect(tokens.claims()?.sub).toBe(personId);
    expect(tokens.refresh_token).toBeDefined();

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()?.sub).toBe(personId);
  }, 60_000);
});

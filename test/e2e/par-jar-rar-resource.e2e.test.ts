/**
 * End to end, issue 13's acceptance with a real client library: `openid-client` (v6) signs an
 * authorization request carrying RFC 9396 `authorization_details` and an RFC 8707 `resource` as a
 * request object (RFC 9101, `buildAuthorizationUrlWithJAR`), pushes it (RFC 9126,
 * `buildAuthorizationUrlWithPAR`, private_key_jwt); a person's browser (test/e2e/http-browser.ts)
 * follows the client_id + request_uri URL over real HTTP, signs in, reads the details on the
 * consent page and allows; the client redeems the code (private_key_jwt) and gets the details in
 * the token response and the access token, whose `aud` is the resource; a refresh asks for less.
 * The built Worker runs in workerd.
 */
import { randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { HttpBrowser, decodeHtml, heading } from "./http-browser.js";
import { PAYMENT, RESOURCE, pushedRarRequest, rarClient, rpKey } from "./rar-client.js";

type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

const REDIRECT_URI = "https://rp.example/callback";
const CLIENT_ID = `rar-${randomBytes(4).toString("hex")}`;
const TYPES = [{ type: "payment_initiation", required: ["instructedAmount"] }, "customer_information"];
const CUSTOMER = { type: "customer_information", actions: ["read", "write"], datatypes: ["contacts"] };
let worker: Worker;
let keys: CryptoKeyPair;
const person = { email: `rar-${randomBytes(4).toString("hex")}@example.com`, password: `pw-${randomBytes(12).toString("base64url")}` };

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { AUTHORIZATION_DETAILS_TYPES: JSON.stringify(TYPES), RESOURCES: RESOURCE } });
  const { keys: pair, jwk } = await rpKey("rp-1");
  keys = pair;
  const user = await worker.admin("/admin/users", "POST", { ...person, email_verified: true });
  expect(user.status, await user.clone().text()).toBe(201);
  const rp = await worker.admin(`/admin/clients/${CLIENT_ID}`, "PUT", {
    client_name: "RAR RP",
    grant_types: ["authorization_code", "refresh_token"],
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [jwk] },
    request_object_signing_alg: "ES256",
    require_pushed_authorization_requests: true,
    authorization_details_types: ["payment_initiation", "customer_information"],
  });
  expect(rp.status, await rp.clone().text()).toBe(200);
});

afterAll(async () => {
  await worker?.dispose();
});

describe("openid-client v6: PAR + JAR + RAR + resource code flow with private_key_jwt", () => {
  it("the details are shown, granted, returned with the tokens and narrowed at refresh; aud is the resource", async () => {
    const rp = await rarClient(worker.url, CLIENT_ID, keys.privateKey, "rp-1");
    const { config } = rp;
    expect(config.serverMetadata().authorization_details_types_supported).toEqual(["payment_initiation", "customer_information"]);
    const { url, jarParams, verifier, state } = await pushedRarRequest(rp, {
      redirect_uri: REDIRECT_URI, scope: "openid offline_access", prompt: "consent", resource: RESOURCE, authorization_details: [PAYMENT, CUSTOMER],
    });
    expect([...jarParams.keys()].sort()).toEqual(["client_id", "request"]);
    expect([...url.searchParams.keys()].sort()).toEqual(["client_id", "request_uri"]);

    const browser = new HttpBrowser(worker.url);
    const signIn = await browser.go(url.href);
    expect(heading(signIn.html)).toBe("Sign in");
    const consent = await browser.submit(signIn, "/login", { email: person.email, password: person.password });
    expect(heading(consent.html)).toBe("Allow RAR RP to access your account?");
    const text = decodeHtml(consent.html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " "));
    expect(text).toContain("Pay 123.50 EUR to Merchant A");
    expect(text).toContain("What it may do: read, write");
    expect(text).toContain("Which data: contacts");
    const visit = await browser.submit(consent, "/consent", { decision: "allow" });
    expect(visit.left).toBe(true);
    expect(visit.url.startsWith(`${REDIRECT_URI}?`)).toBe(true);

    const tokens = await client.authorizationCodeGrant(config, new URL(visit.url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.authorization_details).toEqual([PAYMENT, CUSTOMER]);
    const access = decodeJwt(tokens.access_token);
    expect(access.aud).toBe(RESOURCE);
    expect(access.authorization_details).toEqual([PAYMENT, CUSTOMER]);
    expect(tokens.refresh_token).toBeTruthy();

    // RFC 9396 §6: a refresh may ask for part of the grant; RFC 8707: for a resource of the grant.
    const readOnly = { ...CUSTOMER, actions: ["read"] };
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, {
      resource: RESOURCE, authorization_details: JSON.stringify([readOnly]),
    });
    expect(refreshed.authorization_details).toEqual([readOnly]);
    expect(decodeJwt(refreshed.access_token).authorization_details).toEqual([readOnly]);
    expect(decodeJwt(refreshed.access_token).aud).toBe(RESOURCE);
  });
});

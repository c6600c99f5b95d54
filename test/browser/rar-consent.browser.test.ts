/**
 * RFC 9396 in a real browser: the person's consent page shows the authorization details a client
 * asked for, in plain words — a type with a renderer (payment_initiation: "Pay 123.50 EUR to …")
 * and one without (customer_information: the generic labelled list) — at phone size.
 *
 * The client is `openid-client` (v6) as in test/e2e/par-jar.e2e.test.ts: it signs the request as a
 * request object (JAR, with `authorization_details` and `resource`), pushes it (PAR,
 * private_key_jwt), and Chromium opens the client_id + request_uri URL, signs in and allows. The
 * redirect URI's host is answered inside Chromium (page.route); the client redeems the code and
 * gets the details back in the token response. Screenshots: docs/screenshots/rar-*.png.
 */
import { decodeJwt } from "jose";
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { PAYMENT as BASE_PAYMENT, RESOURCE, pushedRarRequest, rarClient, rpKey } from "../e2e/rar-client.js";
import { createPerson, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";

const PERSON = { email: "sam@example.com", password: "correct horse battery staple" };
const CLIENT_ID = "payments-app";
const REDIRECT_URI = "https://payments-app.example/callback";
const TYPES = [
  { type: "payment_initiation", required: ["instructedAmount"] },
  { type: "customer_information", label: "Use your customer information" },
];
const PAYMENT = { ...BASE_PAYMENT, creditorAccount: { iban: "DE02100100109307118603" }, remittanceInformationUnstructured: "Order 4711" };
const CUSTOMER = {
  type: "customer_information", actions: ["read"], datatypes: ["contacts", "address"], locations: ["https://api.bank.example/customers"],
  period: { from: "2026-01-01", to: "2026-12-31" },
};

let worker: Worker;
let phone: PhoneBrowser;
let keys: CryptoKeyPair;

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { AUTHORIZATION_DETAILS_TYPES: JSON.stringify(TYPES), RESOURCES: RESOURCE } });
  const { keys: pair, jwk } = await rpKey("app-1");
  keys = pair;
  await registerClient(worker, CLIENT_ID, {
    client_name: "Payments App",
    client_uri: "https://payments-app.example/",
    grant_types: ["authorization_code"],
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [jwk] },
    request_object_signing_alg: "ES256",
    authorization_details_types: ["payment_initiation", "customer_information"],
  });
  await createPerson(worker, PERSON);
  phone = await launchPhone();
});

afterAll(async () => {
  await phone?.close();
  await worker?.dispose();
});

describe("RFC 9396: the consent page shows the authorization details (phone, real Chromium)", () => {
  it("PAR + JAR + RAR + resource: the person reads the payment and the customer data asked for, allows, and the client gets them", async () => {
    const { page } = phone;
    const rp = await rarClient(worker.url, CLIENT_ID, keys.privateKey, "app-1");
    const { url, verifier, state } = await pushedRarRequest(rp, {
      redirect_uri: REDIRECT_URI, scope: "openid", resource: RESOURCE, authorization_details: [PAYMENT, CUSTOMER],
    });

    // The app's redirect URI, answered inside the browser.
    await page.route(`${new URL(REDIRECT_URI).origin}/**`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<h1>Payments App</h1>" }));
    await page.goto(url.href);
    await page.getByLabel("Email address").fill(PERSON.email);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((u) => u.pathname === "/consent");
    expect(await page.locator("h1").first().textContent()).toBe("Allow Payments App to access your account?");
    const details = page.locator("ul.details > li");
    await expect.poll(() => details.count()).toBe(2);
    const [payment, customer] = [await details.nth(0).innerText(), await details.nth(1).innerText()];
    expect(payment).toContain("Pay 123.50 EUR to Merchant A (account DE02100100109307118603), reference “Order 4711”");
    expect(payment).toContain("What it may do: initiate, status");
    expect(payment).not.toContain("instructedAmount");
    expect(customer).toContain("Use your customer information");
    expect(customer).toContain("Which data: contacts, address");
    expect(customer).toContain("Where: https://api.bank.example/customers");
    expect(customer).toMatch(/Period:\s*From: 2026-01-01\s*To: 2026-12-31/);
    expect(await page.locator("main").innerText()).not.toContain('"type"');
    await phone.shoot("rar-01-consent");

    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL((u) => u.href.startsWith(REDIRECT_URI));
    const tokens = await client.authorizationCodeGrant(rp.config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.authorization_details).toEqual([PAYMENT, CUSTOMER]);
    const claims = decodeJwt(tokens.access_token);
    expect(claims.aud).toBe(RESOURCE);
    expect(claims.authorization_details).toEqual([PAYMENT, CUSTOMER]);
  });
});

/**
 * The device flow (RFC 8628) with a real browser on the person's side, at phone size: a TV (this
 * test, as the device) asks for a code at /device_authorization and polls /token; the person opens
 * verification_uri_complete in headless Chromium, submits the prefilled code, sees the confirmation
 * naming the TV and what it asks for, approves, signs in, consents and reads the result page; the
 * TV's next poll gets the tokens. A second request is denied. Every page is photographed
 * (docs/screenshots/device-*.png; see docs/screenshots/README.md).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { createPerson, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const CLIENT_ID = "living-room-tv";
const PERSON = { email: "sam@example.com", password: "correct horse battery staple" };

let worker: Worker;
let phone: PhoneBrowser;
let page: Page;
let personId: string;

interface Started { device_code: string; user_code: string; verification_uri_complete: string; interval: number }

async function startDevice(): Promise<Started> {
  const res = await fetch(`${worker.url}/device_authorization`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: CLIENT_ID, scope: "openid profile offline_access" }).toString(),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Started;
}

async function poll(deviceCode: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${worker.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: CLIENT_ID }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

beforeAll(async () => {
  worker = await startLocalWorker();
  await registerClient(worker, CLIENT_ID, {
    client_name: "Living-room TV",
    client_uri: "https://tv.example/",
    token_endpoint_auth_method: "none",
    grant_types: [DEVICE_GRANT, "refresh_token"],
    scope: "",
  });
  personId = await createPerson(worker, PERSON);
  phone = await launchPhone();
  ({ page } = phone);
});

afterAll(async () => {
  await phone?.close();
  await worker?.dispose();
});

const h1 = () => page.locator("h1").first();

describe("a person connects a TV with the device flow (phone, real Chromium)", () => {
  let device: Started;

  it("the TV gets a code; the person opens the link: the code is prefilled, not yet submitted", async () => {
    device = await startDevice();
    await page.goto(device.verification_uri_complete);
    expect(await h1().textContent()).toBe("Connect a device");
    expect(await page.getByLabel("Code").inputValue()).toBe(device.user_code);
    await phone.shoot("device-01-code");
    expect((await poll(device.device_code)).body.error).toBe("authorization_pending");
  });

  it("submits it and sees the TV, what it asks for, and the warning", async () => {
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => h1().textContent()).toBe("Connect Living-room TV?");
    expect(await page.locator("main").textContent()).toContain(device.user_code);
    expect(await page.locator("main").textContent()).toContain("Only continue if you started this on a device you have in front of you");
    await phone.shoot("device-02-confirm");
  });

  it("approves, signs in and consents: the result page says to return to the TV", async () => {
    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.getByLabel("Email address").fill(PERSON.email);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/consent");
    await phone.shoot("device-03-consent");
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL((url) => url.pathname === "/device/done");
    expect(await h1().textContent()).toBe("Device connected");
    await phone.shoot("device-04-connected");
  });

  it("the TV's next poll gets the tokens, once", async () => {
    const answer = await poll(device.device_code);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.scope).toBe("openid profile offline_access");
    expect(answer.body.refresh_token).toBeDefined();
    const claims = JSON.parse(Buffer.from(answer.body.id_token!.split(".")[1]!, "base64url").toString()) as { sub: string };
    expect(claims.sub).toBe(personId);
    expect((await poll(device.device_code)).body.error).toBe("invalid_grant");
  });

  it("a second request, typed by hand in lower case and denied", async () => {
    const second = await startDevice();
    await page.goto(`${worker.url}/device`);
    await page.getByLabel("Code").fill(second.user_code.toLowerCase().replace("-", " "));
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => h1().textContent()).toBe("Connect Living-room TV?");
    await page.getByRole("button", { name: "Deny" }).click();
    await page.waitForURL((url) => url.pathname === "/device/done");
    expect(await h1().textContent()).toBe("Request denied");
    await phone.shoot("device-05-denied");
    expect((await poll(second.device_code)).body.error).toBe("access_denied");
  });

  it("a wrong code is refused on the page", async () => {
    await page.goto(`${worker.url}/device`);
    await page.getByLabel("Code").fill("BBBB-BBBB");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.locator(".alert").textContent()).toContain("That code is not valid or has expired");
    await phone.shoot("device-06-wrong-code");
  });
});

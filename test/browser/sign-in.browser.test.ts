/**
 * A person signs up and signs in with OpenID Connect in a real browser, at phone size.
 *
 * Debian's Chromium (/usr/bin/chromium, or $CHROMIUM_PATH), driven by playwright-core, against the
 * built Worker in workerd (scripts/local-worker.mjs, local settings: sign-up on, mail kept in the
 * outbox at /dev/outbox). A small app on 127.0.0.1 (./client-app.ts) is the relying party. The
 * person: opens the app's sign-in link, chooses "Create an account", signs up, is told to check
 * their email, reads the mail in the local outbox in another tab, follows the verification link,
 * confirms, returns to the first tab and continues the app's request, consents, and the app
 * receives a code that it redeems at /token for an ID token (then reads UserInfo).
 * Every page is photographed (see docs/screenshots/README.md).
 *
 * When Chromium is missing this fails; it is never skipped (.ci/run installs Chromium first).
 */
import { createRemoteJWKSet, jwtVerify } from "jose";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { ClientApp } from "./client-app.js";
import { clientPost, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";

const PERSON = { email: "alex@example.com", password: "correct horse battery staple", name: "Alex Example" };
const CLIENT_ID = "example-app";
const CLIENT_SECRET = "example-app-secret-for-the-browser-test-000000";

let worker: Worker;
let app: ClientApp;
let phone: PhoneBrowser;
let context: BrowserContext;
let page: Page;
/** The tab in which the person reads their mail. */
let mail: Page;
let shots: string[];
const shoot = (name: string, tab?: Page) => phone.shoot(name, tab);

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  app = new ClientApp(`${worker.url}/authorize`, CLIENT_ID);
  await app.listen();
  await registerClient(worker, CLIENT_ID, {
    client_name: "Example App",
    // The app's public home page (https only; the local test app itself is on http loopback).
    client_uri: "https://app.example/",
    token_endpoint_auth_method: "client_secret_basic",
    client_secret: CLIENT_SECRET,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    redirect_uris: [app.redirectUri],
  });
  phone = await launchPhone();
  ({ context, page, shots } = phone);
});

afterAll(async () => {
  await phone?.close();
  await app?.close();
  await worker?.dispose();
});

const h1 = () => page.locator("h1").first();

describe("a person signs up and signs in to an app with OpenID Connect (phone, real Chromium)", () => {
  it("opens the app's sign-in link and gets the sign-in page", async () => {
    await page.goto(`${app.origin}/start`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
    await expect.poll(() => h1().textContent()).toBe("Sign in");
    expect(await page.locator("main .lead").first().textContent()).toContain("Example App");
    await shoot("01-sign-in");
  });

  it("creates an account", async () => {
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL((url) => url.pathname === "/signup");
    expect(await h1().textContent()).toBe("Create an account");
    await page.getByLabel("Email address").fill(PERSON.email);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByLabel("Name").fill(PERSON.name);
    await page.getByLabel("Name").blur();
    await shoot("02-sign-up");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => h1().textContent()).toBe("Check your email");
    expect(await page.locator("main").textContent()).toContain(PERSON.email);
    await shoot("03-check-email");
  });

  it("finds the verification mail in the local outbox (another tab, as a mail app would be) and confirms", async () => {
    // The sign-up tab stays on "Check your email"; the mail is read elsewhere, here in a new tab.
    const outbox = await page.getByRole("link", { name: "local outbox" }).getAttribute("href");
    expect(outbox).toBe("/dev/outbox");
    mail = await context.newPage();
    await mail.goto(new URL(outbox!, worker.url).href);
    expect(await mail.locator("h1").first().textContent()).toBe("Local outbox");
    const message = mail.locator("article.message", { hasText: PERSON.email });
    await expect.poll(() => message.count()).toBe(1);
    expect(await message.locator("header strong").textContent()).toBe("Verify your email address");
    await shoot("04-outbox", mail);

    await message.locator("a[href*='/verify-email?token=']").click();
    await mail.waitForURL((url) => url.pathname === "/verify-email");
    expect(await mail.locator("h1").first().textContent()).toBe("Verify your email");
    await shoot("05-verify-confirm", mail);

    await mail.getByRole("button", { name: "Verify my email" }).click();
    await expect.poll(() => mail.locator("h1").first().textContent()).toBe("Email verified");
    await shoot("06-verified", mail);
  });

  it("goes back to the app's request, consents, and the app gets a code it redeems for an ID token", async () => {
    await page.bringToFront();
    const callback = app.nextCallback();
    const carryOn = page.getByRole("link", { name: "I have verified my address, continue" });
    expect(await carryOn.count(), "the Check-your-email page offers a way back to the pending request").toBe(1);
    await carryOn.click();
    await page.waitForURL((url) => url.pathname === "/login" || url.pathname === "/consent");
    if (new URL(page.url()).pathname === "/login") {
      await page.getByLabel("Email address").fill(PERSON.email);
      await page.getByLabel("Password").fill(PERSON.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.waitForURL((url) => url.pathname === "/consent");
    }
    await expect.poll(() => h1().textContent()).toBe("Allow Example App to access your account?");
    expect(await page.locator(".who").textContent()).toContain(PERSON.email);
    await shoot("07-consent");

    await page.getByRole("button", { name: "Allow" }).click();
    const { params, request } = await callback;
    await page.waitForURL((url) => url.origin === app.origin && url.pathname === "/callback");
    expect(params.get("error")).toBeNull();
    expect(request, "the callback's state matches a request the app made").toBeDefined();
    expect(params.get("iss")).toBe(worker.url);
    const code = params.get("code");
    expect(code).toEqual(expect.any(String));

    const { status, body } = await clientPost<Record<string, string>>(worker, "/token", { id: CLIENT_ID, secret: CLIENT_SECRET }, {
      grant_type: "authorization_code",
      code: code!,
      redirect_uri: app.redirectUri,
      code_verifier: request!.codeVerifier,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.id_token).toEqual(expect.any(String));
    const { payload } = await jwtVerify(body.id_token!, createRemoteJWKSet(new URL(`${worker.url}/jwks`)), {
      issuer: worker.url,
      audience: CLIENT_ID,
    });
    expect(payload.nonce).toBe(request!.nonce);
    const userinfo = await fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(userinfo.status).toBe(200);
    expect(await userinfo.json()).toMatchObject({ sub: payload.sub, email: PERSON.email, email_verified: true, name: PERSON.name });
  });

  it("an unregistered redirect_uri gets an error page, not a redirect", async () => {
    const request = app.start({ redirect_uri: `${app.origin}/not-registered` });
    const response = await page.goto(request.authorizationUrl);
    expect(response?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(worker.url);
    expect(await h1().textContent()).toBe("This sign-in link is not valid");
    expect(await page.locator("main").textContent()).toContain("authorize_redirect_uri_mismatch");
    await shoot("08-error-redirect-uri");
  });

  it("photographed every page", () => {
    expect(shots).toEqual([
      "01-sign-in", "02-sign-up", "03-check-email", "04-outbox", "05-verify-confirm", "06-verified", "07-consent", "08-error-redirect-uri",
    ]);
  });
});

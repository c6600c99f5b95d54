/**
 * A person sees and withdraws what they granted, on their account page, in a real browser at phone
 * size (issue 4, "people manage what they granted").
 *
 * Debian's Chromium driven by playwright-core (./harness.ts) against the built Worker in workerd
 * (scripts/local-worker.mjs); a small app on 127.0.0.1 (./client-app.ts) is the relying party. The
 * person, created by the operator: opens /account signed out and is sent to sign in, which brings
 * them back to an empty account page; lets the app in through its real authorization request
 * (consent, code, tokens with a refresh token, which work); finds the app on the account page with
 * its scopes in words; presses Revoke; sees it gone; and the app's refresh token is then refused
 * at /token, its access token at /userinfo and /introspect. Last, Sign out on the account page ends
 * the session without a second question. Pages are photographed (docs/screenshots/README.md).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { ClientApp } from "./client-app.js";
import { clientPost, createPerson, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";

const PERSON = { email: "sam@example.com", password: "correct horse battery staple" };
const CLIENT = { id: "example-app", secret: "example-app-secret-for-the-account-browser-test-0" };

let worker: Worker;
let app: ClientApp;
let phone: PhoneBrowser;
let page: Page;
/** What the app obtained when the person let it in. */
let tokens: { access_token: string; refresh_token: string };

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  app = new ClientApp(`${worker.url}/authorize`, CLIENT.id, "openid email offline_access");
  await app.listen();
  await registerClient(worker, CLIENT.id, {
    client_name: "Example App",
    client_uri: "https://app.example/",
    token_endpoint_auth_method: "client_secret_basic",
    client_secret: CLIENT.secret,
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    scope: "openid email offline_access",
    redirect_uris: [app.redirectUri],
  });
  await createPerson(worker, PERSON);
  phone = await launchPhone();
  page = phone.page;
});

afterAll(async () => {
  await phone?.close();
  await app?.close();
  await worker?.dispose();
});

const h1 = () => page.locator("h1").first();
const userinfoStatus = async (accessToken: string) =>
  (await fetch(`${worker.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
const refresh = () => clientPost(worker, "/token", CLIENT, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
const introspect = (token: string) => clientPost(worker, "/introspect", CLIENT, { token });

describe("a person withdraws an app's access on their account page (phone, real Chromium)", () => {
  it("opens /account signed out, signs in, and comes back to an account page with no apps", async () => {
    await page.goto(`${worker.url}/account`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
    expect(new URL(page.url()).search).toBe("?return=account");
    expect(await h1().textContent()).toBe("Sign in");
    await phone.shoot("account-01-sign-in");
    await page.getByLabel("Email address").fill(PERSON.email);
    await page.getByLabel("Password").fill(PERSON.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/account");
    expect(await h1().textContent()).toBe("Your account");
    expect(await page.locator(".who").textContent()).toContain(PERSON.email);
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
    expect(await page.locator("main").textContent()).toContain("No apps have access to your account.");
  });

  it("lets the app in through its authorization request; the app's tokens work", async () => {
    const request = app.start({ prompt: "consent" });
    const callback = app.nextCallback();
    await page.goto(request.authorizationUrl);
    await page.waitForURL((url) => url.pathname === "/consent");
    await page.getByRole("button", { name: "Allow" }).click();
    const { params } = await callback;
    const { status, body } = await clientPost<typeof tokens>(worker, "/token", CLIENT, {
      grant_type: "authorization_code",
      code: params.get("code")!,
      redirect_uri: app.redirectUri,
      code_verifier: request.codeVerifier,
    });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.refresh_token).toEqual(expect.any(String));
    tokens = body;
    expect(await userinfoStatus(tokens.access_token)).toBe(200);
    expect((await introspect(tokens.access_token)).body.active).toBe(true);
  });

  it("finds the app on the account page with what it may do", async () => {
    await page.goto(`${worker.url}/account`);
    const grant = page.locator("li.grant");
    await expect.poll(() => grant.count()).toBe(1);
    expect(await grant.locator("h3").textContent()).toBe("Example App");
    expect(await grant.getByRole("link", { name: "app.example" }).getAttribute("href")).toBe("https://app.example/");
    const scopes = await grant.locator(".scopes li").allTextContents();
    expect(scopes).toEqual([
      expect.stringContaining("Know who you are"),
      expect.stringContaining("See your email address"),
      expect.stringContaining("Keep this access when you are not using the app"),
    ]);
    const today = new Date().toISOString().slice(0, 10);
    expect(await grant.locator(".dates").textContent()).toBe(`Allowed on ${today}, last updated ${today} (UTC)`);
    await phone.shoot("account-02-apps");
  });

  it("presses Revoke: the app is gone from the page, and its tokens are refused at once", async () => {
    await page.getByRole("button", { name: "Revoke access for Example App" }).click();
    await page.waitForURL((url) => url.pathname === "/account" && url.search === "?notice=revoked");
    expect(await page.getByRole("status").textContent()).toContain("Access withdrawn.");
    expect(await page.locator("li.grant").count()).toBe(0);
    expect(await page.locator("main").textContent()).toContain("No apps have access to your account.");
    await phone.shoot("account-03-revoked");

    const refused = await refresh();
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_grant");
    expect(await userinfoStatus(tokens.access_token)).toBe(401);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    expect((await introspect(tokens.refresh_token)).body).toEqual({ active: false });
  });

  it("presses Sign out on the account page: signed out at once, no second question, with a way to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/logout");
    expect(await h1().textContent()).toBe("You are signed out");
    expect(await page.getByRole("link", { name: "Sign in again" }).getAttribute("href")).toBe("/login?return=account");
    await page.goto(`${worker.url}/account`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
  });

  it("photographed every page", () => {
    expect(phone.shots).toEqual(["account-01-sign-in", "account-02-apps", "account-03-revoked"]);
  });
});

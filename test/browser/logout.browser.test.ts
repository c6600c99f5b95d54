/**
 * A person signs out, in a real browser at phone size (issue 4, OIDC RP-Initiated Logout).
 *
 * Debian's Chromium driven by playwright-core (./harness.ts) against the built Worker in workerd
 * (scripts/local-worker.mjs); a small app on 127.0.0.1 (./client-app.ts) is the relying party, with
 * its /callback also registered (with a query) as its post_logout_redirect_uri. The person signs in
 * to the app; the app logs them out with its ID token as id_token_hint, and Chromium lands back at
 * the app with the state. Signed in again, the person follows a logout link without a hint: they
 * are asked first, press Sign out, and Chromium follows the POST's redirect to the app — which it
 * does only because the page's CSP form-action names the app (Chromium applies form-action to the
 * redirects after a form submission). Afterwards /account asks them to sign in. Pages are
 * photographed (docs/screenshots/README.md).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { ClientApp } from "./client-app.js";
import { clientPost, createPerson, launchPhone, registerClient, type PhoneBrowser, type Worker } from "./harness.js";

const PERSON = { email: "alex@example.com", password: "correct horse battery staple" };
const CLIENT = { id: "logout-app", secret: "logout-app-secret-for-the-logout-browser-test-000" };

let worker: Worker;
let app: ClientApp;
let phone: PhoneBrowser;
let page: Page;

const postLogoutUri = () => `${app.redirectUri}?logged_out=1`;
const h1 = () => page.locator("h1").first();

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  app = new ClientApp(`${worker.url}/authorize`, CLIENT.id, "openid email");
  await app.listen();
  await registerClient(worker, CLIENT.id, {
    client_name: "Example App",
    token_endpoint_auth_method: "client_secret_basic",
    client_secret: CLIENT.secret,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    scope: "openid email",
    redirect_uris: [app.redirectUri],
    post_logout_redirect_uris: [postLogoutUri()],
    first_party: true,
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

/** The app's sign-in: its authorization request, the sign-in page, the code redeemed by the app's back end. Returns the ID token. */
async function signInToApp(): Promise<string> {
  const request = app.start();
  const callback = app.nextCallback();
  await page.goto(request.authorizationUrl);
  await page.waitForURL((url) => url.pathname === "/login");
  await page.getByLabel("Email address").fill(PERSON.email);
  await page.getByLabel("Password").fill(PERSON.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const { params } = await callback;
  const { status, body } = await clientPost<{ id_token: string }>(worker, "/token", CLIENT, {
    grant_type: "authorization_code",
    code: params.get("code")!,
    redirect_uri: app.redirectUri,
    code_verifier: request.codeVerifier,
  });
  expect(status, JSON.stringify(body)).toBe(200);
  return body.id_token;
}

const logoutUrl = (params: Record<string, string>) => `${worker.url}/logout?${new URLSearchParams(params)}`;

describe("a person signs out (phone, real Chromium)", () => {
  it("the app logs them out with its id_token_hint: straight back to the app with the state", async () => {
    const idToken = await signInToApp();
    const callback = app.nextCallback();
    await page.goto(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: postLogoutUri(), state: "after-hint" }));
    const { params } = await callback;
    expect(Object.fromEntries(params)).toEqual({ logged_out: "1", state: "after-hint" });
  });

  it("without a hint they are asked; Sign out sends them on to the app (the CSP lets the POST's redirect through)", async () => {
    await signInToApp();
    await page.goto(logoutUrl({ client_id: CLIENT.id, post_logout_redirect_uri: postLogoutUri(), state: "after-ask" }));
    expect(await h1().textContent()).toBe("Sign out of Latchkey?");
    expect(await page.locator("main").textContent()).toContain("Example App asks you to sign out.");
    expect(await page.locator(".who").textContent()).toContain(PERSON.email);
    await phone.shoot("logout-01-confirm");
    const callback = app.nextCallback();
    await page.getByRole("button", { name: "Sign out" }).click();
    const { params } = await callback;
    expect(Object.fromEntries(params)).toEqual({ logged_out: "1", state: "after-ask" });
  });

  it("is signed out: /logout says so, and /account asks them to sign in", async () => {
    await page.goto(`${worker.url}/logout`);
    expect(await h1().textContent()).toBe("You are signed out");
    await phone.shoot("logout-02-signed-out");
    await page.goto(`${worker.url}/account`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
  });

  it("photographed every page", () => {
    expect(phone.shots).toEqual(["logout-01-confirm", "logout-02-signed-out"]);
  });
});

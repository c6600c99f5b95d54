/**
 * A newcomer's first sign-in, in a real browser at phone size (issue 17): what `npm run dev`
 * prints as the way to sign in is the demo app's /login (src/dev/demo-app.tsx), and the sign-in
 * ends on the demo app's page showing the ID token's claims and UserInfo.
 *
 * Debian's Chromium driven by playwright-core (./harness.ts) against the built Worker in workerd
 * (scripts/local-worker.mjs, the local settings `npm run dev` uses), seeded as `npm run dev` seeds
 * it (scripts/seed.mjs: the demo clients, the demo app's client on this server's origin, the demo
 * person). The person opens the demo app's sign-in URL, signs in as the demo person, allows, and
 * sees the claims; refreshes; signs out and is back at the demo app. Pages are photographed
 * (docs/screenshots/README.md).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { DEMO_USER, demoAppUrl, seedDemo } from "../../scripts/seed.mjs";
import { launchPhone, type PhoneBrowser, type Worker } from "./harness.js";

let worker: Worker;
let phone: PhoneBrowser;
let page: Page;
let stateDir: string;

beforeAll(async () => {
  worker = await startLocalWorker({ vars: { ALLOW_INSECURE_CLIENT_URIS: "true" } });
  stateDir = await mkdtemp(join(tmpdir(), "latchkey-demo-"));
  await seedDemo({ url: worker.url, adminToken: worker.adminToken, stateDir, print: false });
  phone = await launchPhone();
  page = phone.page;
});

afterAll(async () => {
  await phone?.close();
  await worker?.dispose();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

const h1 = () => page.locator("h1").first();
/** The JSON block under the heading that starts with `title`, parsed. */
const block = async (title: string) =>
  JSON.parse((await page.locator("section.message", { hasText: title }).locator("pre").textContent()) ?? "null") as Record<string, unknown>;

describe("the first sign-in through the demo app (phone, real Chromium)", () => {
  it("opens the printed sign-in URL and gets Latchkey's sign-in page for Demo App", async () => {
    await page.goto(`${demoAppUrl(worker.url)}/login`);
    await page.waitForURL((url) => url.pathname === "/login");
    expect(await h1().textContent()).toBe("Sign in");
    expect(await page.locator("main").textContent()).toContain("to continue to Demo App");
  });

  it("signs in as the demo person, allows, and lands on the demo app showing the ID token's claims and UserInfo", async () => {
    await page.getByLabel("Email address").fill(DEMO_USER.email);
    await page.getByLabel("Password").fill(DEMO_USER.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/consent");
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForURL((url) => url.pathname === "/dev/demo-app/callback");
    expect(await h1().textContent()).toBe("Demo App");
    expect(await page.getByRole("status").textContent()).toContain("Signed in");
    const claims = await block("ID token claims");
    expect(claims).toMatchObject({ iss: worker.url, aud: "demo-app", sub: expect.any(String), nonce: expect.any(String) });
    const userinfo = await block("UserInfo");
    expect(userinfo).toMatchObject({ sub: claims.sub, email: DEMO_USER.email, name: DEMO_USER.claims.name, email_verified: true });
    expect(await block("Token response")).toMatchObject({ token_type: "Bearer", refresh_token: expect.stringContaining("characters") });
    await phone.shoot("demo-app-01-signed-in");
  });

  it("refreshes: a new access token, UserInfo again", async () => {
    await page.getByRole("button", { name: "Refresh the tokens" }).click();
    await page.waitForURL((url) => url.pathname === "/dev/demo-app/refresh");
    expect(await page.getByRole("status").textContent()).toContain("Refreshed");
    expect(await block("UserInfo")).toMatchObject({ email: DEMO_USER.email });
  });

  it("signs out through Latchkey (RP-initiated, with the ID token as hint) and is back at the demo app, signed out", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/dev/demo-app" && url.searchParams.has("state"));
    expect(await page.getByRole("status").textContent()).toContain("Signed out of Latchkey");
    expect(await page.getByRole("link", { name: "Sign in with Latchkey" }).count()).toBe(1);
    await phone.shoot("demo-app-02-signed-out");
    await page.goto(`${worker.url}/account`);
    await expect.poll(() => new URL(page.url()).pathname).toBe("/login");
  });

  it("photographed every page", () => {
    expect(phone.shots).toEqual(["demo-app-01-signed-in", "demo-app-02-signed-out"]);
  });
});

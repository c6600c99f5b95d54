/**
 * Passkeys in a real browser (issue 16; W3C WebAuthn Level 3): a person registers a passkey on
 * /account/passkeys and signs in with it, at phone and at desktop size.
 *
 * Debian's Chromium driven by playwright-core (./harness.ts) against the built Worker in workerd
 * (scripts/local-worker.mjs), with a virtual authenticator attached through the Chrome DevTools
 * Protocol (WebAuthn.addVirtualAuthenticator: CTAP2, internal transport, resident keys, user
 * verification that succeeds), so navigator.credentials.create()/get() run for real — the page
 * script, the browser's own checks (RP ID, origin) and the server's. The issuer is
 * http://localhost:PORT: WebAuthn needs a domain as RP ID (an IP address is not one), and
 * localhost is a secure context. Pages are photographed, `passkeys-<device>-NN-…`.
 *
 * The person: signs in with their password, opens Passkeys from the account page, names and adds
 * a passkey (listed, "not used yet"), signs out and back in through the email field's autofill
 * (conditional UI), signs out and back in with the "Sign in with a passkey" button (a browser
 * without conditional UI), sees when the passkey was last used, and removes it.
 */
import type { CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startLocalWorker } from "../../scripts/local-worker.mjs";
import { createPerson, launchDesktop, launchPhone, type PhoneBrowser, type Worker } from "./harness.js";

const PASSWORD = "correct horse battery staple";

let worker: Worker;
let origin: string;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  worker = await startLocalWorker({ port, vars: { ISSUER: origin } });
});

afterAll(async () => {
  await worker?.dispose();
});

describe.each([
  { device: "phone", launch: launchPhone },
  { device: "desktop", launch: launchDesktop },
])("a person adds a passkey and signs in with it ($device, real Chromium, virtual authenticator)", ({ device, launch }) => {
  const email = `kim-${device}@example.com`;
  let browser: PhoneBrowser;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  const h1 = () => page.locator("h1").first();
  const shoot = (step: string) => browser.shoot(`passkeys-${device}-${step}`);
  const credentials = async () =>
    ((await cdp.send("WebAuthn.getCredentials", { authenticatorId })) as { credentials: { isResidentCredential: boolean; signCount: number }[] }).credentials;

  beforeAll(async () => {
    await createPerson(worker, { email, password: PASSWORD });
    browser = await launch();
    page = browser.page;
    cdp = await browser.context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    ({ authenticatorId } = (await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    })) as { authenticatorId: string });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("signs in with the password and opens Passkeys from the account page: none yet, a form to add one", async () => {
    await page.goto(`${origin}/login?return=account`);
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/account");
    await page.getByRole("link", { name: "Passkeys" }).click();
    await page.waitForURL((url) => url.pathname === "/account/passkeys");
    expect(await h1().textContent()).toBe("Passkeys");
    expect(await page.locator("main").textContent()).toContain("You have no passkeys yet.");
    await page.getByLabel("Name").fill(`My ${device}`);
    await shoot("01-add");
  });

  it("adds a passkey: navigator.credentials.create() on the virtual authenticator, verified by the server, listed", async () => {
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.waitForURL((url) => url.search === "?notice=added");
    const main = await page.locator("main").textContent();
    expect(main).toContain("Passkey added.");
    expect(main).toContain(`My ${device}`);
    expect(main).toContain("not used yet");
    const stored = await credentials();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.isResidentCredential).toBe(true);
    await shoot("02-added");
  });

  async function signOut() {
    await page.goto(`${origin}/account`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL((url) => url.pathname === "/logout");
  }

  it("signs out, then in through autofill (conditional UI): the sign-in page's get() with mediation 'conditional' is answered, back on the account page", async () => {
    await signOut();
    // Chromium's virtual authenticator answers a conditional request at once (as if the person
    // picked the passkey from the email field's autofill), so the page signs in by itself.
    await page.goto(`${origin}/login?return=account`);
    await page.waitForURL((url) => url.pathname === "/account");
    expect(await h1().textContent()).toBe("Your account");
    expect((await credentials())[0]!.signCount).toBeGreaterThan(0);
  });

  it("signs out, then in with the 'Sign in with a passkey' button (a browser without conditional UI): back on the account page", async () => {
    await signOut();
    await browser.context.addInitScript("if (window.PublicKeyCredential) PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);");
    await page.goto(`${origin}/login?return=account`);
    expect(await page.getByLabel("Email address").getAttribute("autocomplete")).toBe("username webauthn");
    const button = page.getByRole("button", { name: "Sign in with a passkey" });
    await expect.poll(() => button.isVisible()).toBe(true);
    await shoot("03-sign-in");
    const before = (await credentials())[0]!.signCount;
    await button.click();
    await page.waitForURL((url) => url.pathname === "/account");
    expect(await h1().textContent()).toBe("Your account");
    expect((await credentials())[0]!.signCount).toBeGreaterThan(before);
  });

  it("the passkey now shows when it was last used; Remove takes it away", async () => {
    await page.goto(`${origin}/account/passkeys`);
    expect(await page.locator("main").textContent()).toContain("last used");
    await shoot("04-used");
    await page.getByRole("button", { name: `Remove the passkey My ${device}` }).click();
    await page.waitForURL((url) => url.search === "?notice=removed");
    const main = await page.locator("main").textContent();
    expect(main).toContain("Passkey removed.");
    expect(main).toContain("You have no passkeys yet.");
  });
});

/**
 * A person who forgot their password resets it through the mail, in a real browser, at phone and
 * at desktop size (issue 16, "password reset"; ASVS 5.0 V6.4.3).
 *
 * Debian's Chromium driven by playwright-core (./harness.ts) against the built Worker in workerd
 * (scripts/local-worker.mjs: mail kept in the local outbox at /dev/outbox). The person, created by
 * the operator: opens the sign-in page, follows "Forgot your password?", gives their address, is
 * told to check their email, reads the mail in the outbox in another tab, follows the link,
 * chooses a new password, and is told it is changed; the outbox then holds "Your password was
 * changed"; the old password no longer signs in and the new one does, leading to the account page,
 * whose "Change password" and "Sign out everywhere" open their pages; the latter (right after
 * signing in, so without the password) signs them out. Pages are photographed
 * (docs/screenshots/README.md), `password-<device>-NN-…`.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalWorker } from "../../scripts/local-worker.mjs";
import { createPerson, launchDesktop, launchPhone, type PhoneBrowser, type Worker } from "./harness.js";

const OLD_PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a much better passphrase";

let worker: Worker;

beforeAll(async () => {
  worker = await startLocalWorker();
});

afterAll(async () => {
  await worker?.dispose();
});

describe.each([
  { device: "phone", launch: launchPhone },
  { device: "desktop", launch: launchDesktop },
])("a person resets a forgotten password through the mail ($device, real Chromium)", ({ device, launch }) => {
  const email = `robin-${device}@example.com`;
  let browser: PhoneBrowser;
  let page: Page;
  let mail: Page;
  const h1 = (tab: Page = page) => tab.locator("h1").first();
  const shoot = (step: string, tab?: Page) => browser.shoot(`password-${device}-${step}`, tab);

  beforeAll(async () => {
    await createPerson(worker, { email, password: OLD_PASSWORD });
    browser = await launch();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Signs in on the sign-in page outside an authorization request; resolves with where it led. */
  async function signIn(password: string): Promise<string> {
    await page.goto(`${worker.url}/login?return=account`);
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForLoadState();
    return new URL(page.url()).pathname;
  }

  it("follows 'Forgot your password?' from the sign-in page and asks for a link", async () => {
    await page.goto(`${worker.url}/login?return=account`);
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL((url) => url.pathname === "/password/forgot");
    expect(await h1().textContent()).toBe("Reset your password");
    await page.getByLabel("Email address").fill(email);
    await shoot("01-forgot");
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect.poll(() => h1().textContent()).toBe("Check your email");
    expect(await page.locator("main").textContent()).toContain(`If an account uses ${email}, we have sent a link`);
    await shoot("02-check-email");
  });

  it("reads the mail in the local outbox (another tab), follows the link and chooses a new password", async () => {
    mail = await browser.context.newPage();
    await mail.goto(`${worker.url}/dev/outbox`);
    const message = mail.locator("article.message", { hasText: email });
    await expect.poll(() => message.count()).toBe(1);
    expect(await message.locator("header strong").textContent()).toBe("Reset your password");
    await shoot("03-outbox", mail);

    await message.locator("a[href*='/password/reset?token=']").click();
    await mail.waitForURL((url) => url.pathname === "/password/reset");
    expect(await h1(mail).textContent()).toBe("Choose a new password");
    await mail.getByLabel("New password").fill(NEW_PASSWORD);
    await shoot("04-choose", mail);
    await mail.getByRole("button", { name: "Save the new password" }).click();
    await expect.poll(() => h1(mail).textContent()).toBe("Password changed");
    await shoot("05-changed", mail);
  });

  it("is told by mail that the password changed", async () => {
    await mail.goto(`${worker.url}/dev/outbox`);
    const messages = mail.locator("article.message", { hasText: email });
    await expect.poll(() => messages.count()).toBe(2);
    expect(await messages.locator("header strong").allTextContents()).toEqual(["Your password was changed", "Reset your password"]);
  });

  it("the old password no longer signs in; the new one does, and leads to the account page", async () => {
    expect(await signIn(OLD_PASSWORD)).toBe("/login");
    expect(await page.getByRole("alert").textContent()).toContain("The email address or password is incorrect.");
    expect(await signIn(NEW_PASSWORD)).toBe("/account");
    expect(await page.getByRole("link", { name: "Change password" }).getAttribute("href")).toBe("/account/password");
    expect(await page.getByRole("link", { name: "Sign out everywhere" }).getAttribute("href")).toBe("/account/sign-out-everywhere");
    await shoot("06-account");
  });

  it("opens Change password and Sign out everywhere from the account page, and signs out everywhere", async () => {
    await page.getByRole("link", { name: "Change password" }).click();
    await page.waitForURL((url) => url.pathname === "/account/password");
    expect(await h1().textContent()).toBe("Change your password");
    expect(await page.getByLabel("Current password").count()).toBe(1);
    await shoot("07-change-password");
    await page.goto(`${worker.url}/account`);
    await page.getByRole("link", { name: "Sign out everywhere" }).click();
    await page.waitForURL((url) => url.pathname === "/account/sign-out-everywhere");
    // Signed in moments ago: no password asked.
    expect(await page.getByLabel("Current password").count()).toBe(0);
    await shoot("08-sign-out-everywhere");
    await page.getByRole("button", { name: "Sign out everywhere" }).click();
    await page.waitForURL((url) => url.pathname === "/logout");
    expect(await h1().textContent()).toBe("You are signed out");
  });

  it("photographed every page", () => {
    const steps = ["01-forgot", "02-check-email", "03-outbox", "04-choose", "05-changed", "06-account", "07-change-password", "08-sign-out-everywhere"];
    expect(browser.shots).toEqual(steps.map((s) => `password-${device}-${s}`));
  });
});

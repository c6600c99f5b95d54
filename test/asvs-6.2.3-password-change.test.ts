import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { configFrom } from "../src/config";
import { SESSION_COOKIE } from "../src/sessions/cookie";
import { countingPbkdf2 } from "./pbkdf2-count";
import { Browser, PASSWORD, expectErrorPage, person } from "./oidc-helpers";
import { expectPageSecurity } from "./pages-helpers";
import { expectSignedOutEverywhere, expectStillSignedIn, mailsTo, signedInTwice, signsIn, submitForm } from "./password-helpers";

/**
 * ASVS 5.0 V6.2.2 (users can change their password) and V6.2.3 (the change requires the current
 * and the new password), on /account/password. The current password is a sign-in attempt: it takes
 * its unit of the sign-in budget first (V6.3.1). After the change every other session and every
 * refresh token of the person end (with back-channel logout), this browser stays signed in with a
 * new session, and the owner is mailed (V6.3.6).
 */

afterEach(() => vi.restoreAllMocks());

const NEW_PASSWORD = "a freshly chosen passphrase";

/** Changes the password from `browser` (which must be signed in). */
const change = (browser: Browser, current: string, next = NEW_PASSWORD) =>
  submitForm(browser, "/account/password", "/account/password", { current_password: current, new_password: next });

describe("ASVS 6.2.2: the account page offers a password change", () => {
  it("/account links to /account/password, a page with the common security asking for the current and the new password", async () => {
    const s = await signedInTwice();
    const account = await s.browsers[0].fetch("/account");
    const html = await account.text();
    expect(html).toContain('<a href="/account/password">Change password</a>');
    const page = await s.browsers[0].fetch("/account/password");
    const form = await page.text();
    expect(page.status).toBe(200);
    expectPageSecurity(page, form);
    expect(form).toContain('name="current_password" type="password" autocomplete="current-password"');
    expect(form).toContain('name="new_password" type="password" autocomplete="new-password"');
  });

  it("without a session: to the sign-in page, which returns to the account", async () => {
    const res = await new Browser().fetch("/account/password");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?return=account");
  });
});

describe("ASVS 6.2.3: the change needs the current password", () => {
  it("a wrong current password: 400, the form again, nothing changed or ended", async () => {
    const s = await signedInTwice();
    const res = await change(s.browsers[0], "not my password");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("The current password is incorrect.");
    expect(await signsIn(s.user.email)).toBe(true);
    expect(await signsIn(s.user.email, NEW_PASSWORD)).toBe(false);
    await expectStillSignedIn(s);
  });

  it("without the current password field: the same", async () => {
    const s = await signedInTwice();
    const res = await submitForm(s.browsers[0], "/account/password", "/account/password", { new_password: NEW_PASSWORD });
    expect(res.status).toBe(400);
    expect(await signsIn(s.user.email, NEW_PASSWORD)).toBe(false);
  });

  it("a weak new password: 400, nothing changed", async () => {
    const s = await signedInTwice();
    const res = await change(s.browsers[0], PASSWORD, "short");
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("Choose a new password of at least 8 characters");
    expect(await signsIn(s.user.email)).toBe(true);
  });

  it("the right one: the new password works, the old does not; the others are signed out, this browser is not; the owner is mailed", async () => {
    const s = await signedInTwice();
    const [here] = s.browsers;
    const oldCookie = here.cookies.get(SESSION_COOKIE);
    const res = await change(here, PASSWORD);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=password_changed");
    // Every session ended — this browser's too — and this browser got a new one.
    const newCookie = here.cookies.get(SESSION_COOKIE);
    expect(newCookie).toBeTruthy();
    expect(newCookie).not.toBe(oldCookie);
    const stillHere = { ...s, browsers: [new Browser(s.worker.send), s.browsers[1]] as [Browser, Browser] };
    stillHere.browsers[0].cookies.set(SESSION_COOKIE, oldCookie!);
    await expectSignedOutEverywhere(stillHere, 1);
    const account = await here.fetch("/account?notice=password_changed");
    expect(account.status).toBe(200);
    expect(await account.text()).toContain("Password changed.");

    expect(await signsIn(s.user.email, NEW_PASSWORD)).toBe(true);
    expect(await signsIn(s.user.email)).toBe(false);
    const [mail] = await mailsTo(s.user.email);
    expect(mail).toMatchObject({ subject: "Your password was changed" });
    expect(mail!.text).toContain("on your account page");
  });
});

describe("ASVS 6.3.1: the current password is throttled like a sign-in", () => {
  it("5 wrong current passwords use the account's budget up; then too_many_attempts (429) with no password checked, even the right one", async () => {
    const user = await person();
    const browser = new Browser();
    expect((await browser.submit(await browser.fetch("/login?return=account"), { email: user.email, password: PASSWORD }, "/login")).status).toBe(303);
    const { limit } = configFrom(env).loginThrottle.account;
    for (let i = 0; i < limit; i++) expect((await change(browser, `wrong ${i}`)).status).toBe(400);
    const { result, pbkdf2 } = await countingPbkdf2(() => change(browser, PASSWORD));
    await expectErrorPage(result, "too_many_attempts", 429);
    expect(result.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
    expect(pbkdf2).toBe(0);
  });
});

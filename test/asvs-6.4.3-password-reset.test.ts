import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { configFrom } from "../src/config";
import { hashForStorage } from "../src/crypto/hash";
import { SESSION_COOKIE } from "../src/sessions/cookie";
import { PASSWORD_RESET_TTL } from "../src/users/password-reset";
import { ISSUER, call, uniqueId } from "./helpers";
import { countingPbkdf2 } from "./pbkdf2-count";
import { Browser, expectErrorPage, frozenClock, hiddenFields, person, workerWithEnv } from "./oidc-helpers";
import { expectPageSecurity, observableAnswer } from "./pages-helpers";
import { expectSignedOutEverywhere, mailsTo, resetToken, signedInTwice, signsIn, submitForm } from "./password-helpers";

/**
 * ASVS 5.0 V6.4.3: a secure process for resetting a forgotten password — a single-use, 30-minute
 * link mailed to the account's address, stored hashed, consumed atomically; setting the password
 * ends every session and refresh token of the person, tells their clients over the back channel and
 * mails the owner (V6.3.6). V6.3.8: the request answers every address alike (status, headers,
 * cookies, body, work before the answer), the mail goes out after the answer; it is bounded per
 * address by the budget sign-up shares.
 */

afterEach(() => vi.restoreAllMocks());

const NEW_PASSWORD = "a brand new passphrase";
/** The Worker with its waitUntil work (the mail) finished before each answer is returned. */
const worker = workerWithEnv({});

/** A browser on the forgot-password page (it holds the CSRF cookie), and the page's HTML. */
async function onForgotPage(): Promise<{ browser: Browser; html: string }> {
  const browser = new Browser(worker);
  const page = await browser.fetch("/password/forgot");
  expect(page.status).toBe(200);
  return { browser, html: await page.text() };
}

async function askForReset(email: string): Promise<{ res: Response; body: string; browser: Browser }> {
  const { browser, html } = await onForgotPage();
  const res = await browser.submit(html, { email }, "/password/forgot");
  return { res, body: await res.text(), browser };
}

/** POSTs a new password with `token` from a browser that opened the link (as a person does). */
async function setPassword(token: string, password = NEW_PASSWORD, browser = new Browser(worker)): Promise<Response> {
  return submitForm(browser, `/password/reset?token=${token}`, "/password/reset", { password });
}

describe("ASVS 6.4.3: the way in — 'Forgot your password?'", () => {
  it("the sign-in page links to the address form, a page with the common page security and a CSRF field", async () => {
    const signIn = await (await call("/login?return=account")).text();
    expect(signIn).toContain('<a href="/password/forgot">Forgot your password?</a>');
    const res = await call("/password/forgot");
    const html = await res.text();
    expect(res.status).toBe(200);
    expectPageSecurity(res, html);
    expect(html).toContain('action="/password/forgot"');
    expect(hiddenFields(html).csrf).toBeTruthy();
  });
});

describe("ASVS 6.3.8: POST /password/forgot answers every address alike", () => {
  it("unknown, registered and disabled addresses: same status, headers (no Set-Cookie), body; no PBKDF2 before the answer", async () => {
    const registered = await person();
    const disabled = await person({ email_verified: true });
    await call(`/admin/users/${disabled.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ disabled: true }),
    });
    const unknown = `${uniqueId("nobody")}@example.com`;
    const answers = [];
    for (const email of [unknown, registered.email, disabled.email]) {
      const { result, pbkdf2 } = await countingPbkdf2(() => askForReset(email));
      expect(pbkdf2).toBe(0);
      expect(result.res.headers.getSetCookie()).toEqual([]);
      expect(result.browser.cookies.has(SESSION_COOKIE)).toBe(false);
      answers.push(observableAnswer(result.res, result.body, email));
    }
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.body).toContain("Check your email");
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);

    // Only the registered, enabled account gets a link; nobody else gets any mail.
    const [link, ...more] = await mailsTo(registered.email);
    expect(more).toEqual([]);
    expect(link).toMatchObject({ to: registered.email, subject: "Reset your password" });
    expect(link!.text).toContain(`${ISSUER}/password/reset?token=`);
    expect(link!.text).toContain(`expires in ${PASSWORD_RESET_TTL / 60} minutes`);
    expect(await mailsTo(unknown)).toEqual([]);
    expect(await mailsTo(disabled.email)).toEqual([]);
  });

  it("a malformed address is the form's own error, the same whoever asks", async () => {
    const { res, body } = await askForReset("not an address");
    expect(res.status).toBe(400);
    expect(body).toContain("Enter a valid email address.");
  });

  it("mail per address is bounded by the sign-up mail budget: 5 requests, 5 identical answers, 3 links", async () => {
    expect(configFrom(env).signUpMailThrottle).toEqual({ limit: 3, windowSeconds: 3600 });
    const { email } = await person();
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const { res, body } = await askForReset(email);
      answers.push(observableAnswer(res, body, email));
    }
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await mailsTo(email)).toHaveLength(3);
  });
});

describe("ASVS 6.4.3: the link is single use, short-lived, stored hashed", () => {
  it("only its SHA-256 is stored, bound to the user and the address, expiring in 30 minutes", async () => {
    const user = await person();
    await askForReset(user.email);
    const token = await resetToken(user.email);
    const row = await env.DB.prepare("SELECT * FROM password_resets WHERE user_id = ?").bind(user.id).first<Record<string, unknown>>();
    expect(row).toMatchObject({ token_hash: await hashForStorage(token), email: user.email, used_at: null });
    expect(Number(row!.expires_at) - Number(row!.created_at)).toBe(30 * 60);
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it("50 concurrent uses of one link: exactly one sets the password (its own), 49 get password_reset_link_invalid", async () => {
    const user = await person();
    await askForReset(user.email);
    const token = await resetToken(user.email);
    // Each browser opens the link first (its CSRF cookie), then all 50 POST at once.
    const browsers = await Promise.all(Array.from({ length: 50 }, async () => {
      const browser = new Browser();
      const html = await (await browser.fetch(`/password/reset?token=${token}`)).text();
      return { browser, html };
    }));
    const results = await Promise.all(browsers.map(({ browser, html }, i) => browser.submit(html, { password: `${NEW_PASSWORD} ${i}` }, "/password/reset")));
    const won = results.flatMap((res, i) => (res.status === 200 ? [i] : []));
    expect(won).toHaveLength(1);
    for (const res of results) if (res.status !== 200) await expectErrorPage(res, "password_reset_link_invalid");
    expect(await signsIn(user.email, `${NEW_PASSWORD} ${won[0]}`)).toBe(true);
    expect(await signsIn(user.email, `${NEW_PASSWORD} ${(won[0]! + 1) % 50}`)).toBe(false);
  });

  it("used once, it is worthless: the second use is an error page and changes nothing", async () => {
    const user = await person();
    await askForReset(user.email);
    const token = await resetToken(user.email);
    expect((await setPassword(token)).status).toBe(200);
    await expectErrorPage(await call(`/password/reset?token=${token}`), "password_reset_link_invalid");
    expect(await signsIn(user.email, NEW_PASSWORD)).toBe(true);
  });

  it("expires after 30 minutes", async () => {
    const clock = frozenClock();
    try {
      const user = await person();
      await askForReset(user.email);
      const token = await resetToken(user.email);
      clock.advance(PASSWORD_RESET_TTL + 1);
      await expectErrorPage(await call(`/password/reset?token=${token}`), "password_reset_link_invalid");
    } finally {
      clock.restore();
    }
  });

  it("a weak new password gets the form again (400) and does not spend the link", async () => {
    const user = await person();
    await askForReset(user.email);
    const token = await resetToken(user.email);
    const weak = await setPassword(token, "short");
    expect(weak.status).toBe(400);
    expect(await weak.text()).toContain("Choose a password of at least 8 characters");
    expect((await setPassword(token)).status).toBe(200);
  });

  it("a made-up or malformed token: an error page, and no PBKDF2 is spent on its new password", async () => {
    await expectErrorPage(await call("/password/reset?token=nope"), "password_reset_link_invalid");
    const browser = new Browser();
    const { csrf } = hiddenFields(await (await browser.fetch("/password/forgot")).text());
    const body = new URLSearchParams({ csrf: csrf!, token: "A".repeat(43), password: NEW_PASSWORD }).toString();
    const { result, pbkdf2 } = await countingPbkdf2(() =>
      browser.fetch("/password/reset", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }));
    await expectErrorPage(result, "password_reset_link_invalid");
    expect(pbkdf2).toBe(0);
  });

  it("a link whose account was disabled after it was sent does nothing", async () => {
    const user = await person();
    await askForReset(user.email);
    const token = await resetToken(user.email);
    await env.DB.prepare("UPDATE users SET disabled = 1 WHERE id = ?").bind(user.id).run();
    await expectErrorPage(await setPassword(token), "password_reset_link_invalid");
    await env.DB.prepare("UPDATE users SET disabled = 0 WHERE id = ?").bind(user.id).run();
    expect(await signsIn(user.email, NEW_PASSWORD)).toBe(false);
  });

  it("setting the password uses up the person's other open links", async () => {
    const user = await person();
    await askForReset(user.email);
    const first = await resetToken(user.email);
    await askForReset(user.email);
    const second = await resetToken(user.email);
    expect(second).not.toBe(first);
    expect((await setPassword(second)).status).toBe(200);
    await expectErrorPage(await call(`/password/reset?token=${first}`), "password_reset_link_invalid");
  });
});

describe("ASVS 6.4.3, 6.3.6: after the reset", () => {
  it("every session and refresh token of the person ends, their clients get back-channel logout, the owner gets a mail", async () => {
    const s = await signedInTwice();
    await askForReset(s.user.email);
    const token = await resetToken(s.user.email);
    const done = await setPassword(token, NEW_PASSWORD, new Browser(s.worker.send));
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Password changed");
    await expectSignedOutEverywhere(s);

    const [changed] = await mailsTo(s.user.email);
    expect(changed).toMatchObject({ to: s.user.email, subject: "Your password was changed" });
    expect(changed!.text).toContain("password-reset link");
    expect(changed!.text).toContain(`${ISSUER}/password/forgot`);

    expect(await signsIn(s.user.email)).toBe(false);
    expect(await signsIn(s.user.email, NEW_PASSWORD)).toBe(true);
  });

  it("the reset proves the mailbox: an unverified address becomes verified", async () => {
    const user = await person({ email_verified: false });
    await askForReset(user.email);
    expect((await setPassword(await resetToken(user.email))).status).toBe(200);
    const row = await env.DB.prepare("SELECT email_verified FROM users WHERE id = ?").bind(user.id).first<{ email_verified: number }>();
    expect(row!.email_verified).toBe(1);
  });
});

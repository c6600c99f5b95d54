import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { listOutbox } from "../src/mail/outbox";
import { SESSION_COOKIE } from "../src/sessions/cookie";
import { d1UserStore } from "../src/users/store";
import { ISSUER, uniqueId } from "./helpers";
import { observableAnswer } from "./pages-helpers";
import { countingPbkdf2 } from "./pbkdf2-count";
import {
  Browser, authorize, clientRedirect, codeRequest, expectTokenResponse, hiddenFields, oidcClient, person, redeem, workerWithEnv,
} from "./oidc-helpers";

/**
 * ASVS 5.0 V6.3.8: registration must not reveal whether an address has an account, by its answer
 * (status, headers, body), its cookies or its work. POST /signup and POST /verify-email/resend
 * answer every address alike; only the mail sent afterwards, to the address itself, differs
 * (src/users/sign-up.ts): a new address gets the verification link, an existing account's owner
 * "someone tried to sign up with your address".
 */

const worker = workerWithEnv({ SIGNUP_ENABLED: "true" });
const NEW_PASSWORD = "a different good passphrase";

/** A browser on the sign-up page (it holds the CSRF cookie), and the page's HTML. */
async function onSignUpPage(query = ""): Promise<{ browser: Browser; html: string }> {
  const browser = new Browser(worker);
  const page = await browser.fetch(`/signup${query}`);
  expect(page.status).toBe(200);
  return { browser, html: await page.text() };
}

async function signUpAs(email: string, fields: Record<string, string> = {}): Promise<{ res: Response; body: string; browser: Browser }> {
  const { browser, html } = await onSignUpPage();
  const res = await browser.submit(html, { email, password: NEW_PASSWORD, name: "Someone", ...fields }, "/signup");
  return { res, body: await res.text(), browser };
}

const mailTo = (email: string) => listOutbox(env.DB, email);

describe("ASVS 6.3.8: POST /signup answers a new and a registered address alike", () => {
  it("same status, headers (no Set-Cookie on either, no session) and body; one PBKDF2 each", async () => {
    const existing = await person();
    const fresh = `${uniqueId("fresh")}@example.com`;
    const a = await countingPbkdf2(() => signUpAs(fresh));
    const b = await countingPbkdf2(() => signUpAs(existing.email));
    expect(a.result.res.status).toBe(200);
    expect(a.result.body).toContain("Check your email");
    expect(observableAnswer(b.result.res, b.result.body, existing.email)).toEqual(observableAnswer(a.result.res, a.result.body, fresh));
    for (const { result } of [a, b]) {
      expect(result.res.headers.getSetCookie()).toEqual([]);
      expect(result.browser.cookies.has(SESSION_COOKIE)).toBe(false);
    }
    expect({ fresh: a.pbkdf2, existing: b.pbkdf2 }).toEqual({ fresh: 1, existing: 1 });
  });

  it("the mail tells them apart: verification link to the new address, a notice with a sign-in link to the owner", async () => {
    const existing = await person({ claims: { name: "Owner" } });
    const fresh = `${uniqueId("fresh")}@example.com`;
    const before = await mailTo(existing.email);
    await signUpAs(fresh);
    await signUpAs(existing.email.toUpperCase().replace("@EXAMPLE.COM", "@example.com"));

    const [verify, ...moreNew] = await mailTo(fresh);
    expect(moreNew).toEqual([]);
    expect(verify).toMatchObject({ to: fresh, subject: "Verify your email address" });
    expect(verify!.text).toContain(`${ISSUER}/verify-email?token=`);

    const owner = await mailTo(existing.email);
    expect(owner).toHaveLength(before.length + 1);
    const notice = owner[0]!;
    expect(notice).toMatchObject({ to: existing.email, subject: "Someone tried to create an account with your address" });
    expect(notice.text).toContain(`${ISSUER}/account`);
    expect(notice.text).not.toContain("/verify-email");
    expect(notice.text).toContain("nothing about\nyour account has changed");

    // Nothing about the account changed: the old password still signs in, the name is the owner's.
    const stored = await d1UserStore(env.DB).get(existing.id);
    expect(stored).toMatchObject({ email: existing.email, emailVerified: true, claims: { name: "Owner" } });
    const { pages } = await authorize(new Browser(worker), (await codeRequest((await oidcClient()).client_id)).params, existing);
    expect(pages).toEqual(["login", "consent"]);
  });

  it("the form's own errors come first and are the same for both (a weak password is refused before the address is looked at)", async () => {
    const existing = await person();
    const fresh = `${uniqueId("fresh")}@example.com`;
    const a = await signUpAs(fresh, { password: "short" });
    const b = await signUpAs(existing.email, { password: "short" });
    expect(a.res.status).toBe(400);
    expect(observableAnswer(b.res, b.body, existing.email)).toEqual(observableAnswer(a.res, a.body, fresh));
    expect(await mailTo(fresh)).toEqual([]);
    expect(await d1UserStore(env.DB).getByEmail(fresh)).toBeNull();
  });

  it("a new person signs up in an authorization request, verifies, signs in and the request continues", async () => {
    const client = await oidcClient();
    const email = `${uniqueId("newcomer")}@example.com`;
    const { params, verifier } = await codeRequest(client.client_id);
    const browser = new Browser(worker);
    const login = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    const txn = hiddenFields(await login.text()).txn!;
    const signup = await browser.fetch(`/signup?txn=${encodeURIComponent(txn)}`);
    const sent = await browser.submit(await signup.text(), { email, password: NEW_PASSWORD }, "/signup");
    const sentHtml = await sent.text();
    const onward = /href="(\/verify-email\/needed\?txn=[^"]+)"/.exec(sentHtml)?.[1]?.replace(/&amp;/g, "&");
    expect(onward).toBeDefined();

    const token = /\/verify-email\?token=([A-Za-z0-9_-]+)/.exec((await mailTo(email))[0]!.text)![1]!;
    const confirm = await browser.fetch(`/verify-email?token=${token}`);
    expect((await browser.submit(await confirm.text(), {}, "/verify-email")).status).toBe(200);

    // No session was made at sign-up: "continue" asks for the password, then the request goes on.
    const again = await browser.follow(await browser.fetch(onward!));
    expect(await again.clone().text()).toContain('action="/login"');
    const consent = await browser.follow(await browser.submit(again, { email, password: NEW_PASSWORD }, "/login"));
    const done = await browser.follow(await browser.submit(consent, { decision: "allow" }, "/consent"));
    await expectTokenResponse(await redeem(client, clientRedirect(done).get("code")!, verifier));
  });
});

describe("ASVS 6.3.8: the mail these forms send to one address is bounded (config.signUpMailThrottle)", () => {
  it("policy: 3 mails per address per hour", () => {
    expect(configFrom(env).signUpMailThrottle).toEqual({ limit: 3, windowSeconds: 3600 });
  });

  it("5 sign-ups with a registered address: 5 identical answers, 3 notices to the owner", async () => {
    const existing = await person();
    const before = (await mailTo(existing.email)).length;
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const { res, body } = await signUpAs(existing.email);
      answers.push(observableAnswer(res, body, existing.email));
    }
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await mailTo(existing.email)).toHaveLength(before + 3);
  });

  it("a new account: the sign-up's link and then resends, 3 links in all; 10 concurrent resends send at most the budget", async () => {
    const email = `${uniqueId("flood")}@example.com`;
    await signUpAs(email);
    await Promise.all(Array.from({ length: 10 }, () => resend(email)));
    const mailed = await mailTo(email);
    expect(mailed).toHaveLength(3);
    for (const m of mailed) expect(m.subject).toBe("Verify your email address");
  });
});

async function resend(email: string) {
  const { browser, html } = await onSignUpPage();
  const csrf = hiddenFields(html).csrf!;
  const res = await browser.fetch("/verify-email/resend", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrf, email }).toString(),
  });
  return { res, body: await res.text() };
}

describe("ASVS 6.3.8: POST /verify-email/resend answers every address alike", () => {
  it("unknown, unverified and verified addresses get the same answer, without a session; only the unverified one gets a new link", async () => {
    const unverified = await person({ email_verified: false });
    const verified = await person();
    const unknown = `${uniqueId("nobody")}@example.com`;
    const counts = { unverified: (await mailTo(unverified.email)).length, verified: (await mailTo(verified.email)).length };
    const answers = [];
    for (const email of [unknown, unverified.email, verified.email]) {
      const { res, body } = await resend(email);
      answers.push(observableAnswer(res, body, email));
    }
    expect(answers[0]!.status).toBe(200);
    expect(answers[0]!.body).toContain("Check your email");
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);

    const mailed = await mailTo(unverified.email);
    expect(mailed).toHaveLength(counts.unverified + 1);
    expect(mailed[0]!.subject).toBe("Verify your email address");
    expect(await mailTo(verified.email)).toHaveLength(counts.verified);
    expect(await mailTo(unknown)).toEqual([]);
  });

  it("a malformed address is the form's error, whoever asks", async () => {
    const { res } = await resend("not an address");
    expect(res.status).toBe(400);
  });
});

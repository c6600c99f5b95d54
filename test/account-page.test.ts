import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { d1ConsentStore } from "../src/consent/store";
import { SESSION_COOKIE } from "../src/sessions/cookie";
import { expectError } from "./helpers";
import { Browser, PASSWORD, expectErrorPage, hiddenFields, oidcClient, person, signIn } from "./oidc-helpers";
import { deferredWorker, expectSessionCookieCleared, logoutClient, promptNone, sessionEndedAt, signedIn } from "./logout-helpers";
import { expectPageSecurity } from "./pages-helpers";
import { serveRpDocuments } from "./rfc7591-helpers";
import { expectInactive, offlineTokens, refresh, refreshClient, refreshed, userinfo, type Registered } from "./rfc6749-6-helpers";

/**
 * The account page (issue 4, "people manage what they granted"): GET /account lists the clients the
 * signed-in person allowed — name and home page, scopes in words, dates — each with a Revoke form;
 * POST /account/revoke withdraws that grant at once (its refresh tokens fail at /token, its access
 * tokens at /userinfo and /introspect). Signed out, the page sends the person to a sign-in that
 * returns to /account and nowhere else. CSRF and framing protections are the other pages'.
 */

const FORM = { "content-type": "application/x-www-form-urlencoded" };

/** A browser with a session for `user`, holding tokens from `client` (code flow with offline_access). */
async function grantWithTokens(client: Registered, user: { id: string; email: string }, browser = new Browser()) {
  const { tokens } = await offlineTokens(client, { user, browser });
  return { browser, tokens };
}

/** GET /account as this browser: 200 with the page's HTML. */
async function accountPage(browser: Browser, query = ""): Promise<{ res: Response; html: string }> {
  const res = await browser.fetch(`/account${query}`);
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(200);
  return { res, html };
}

/** The client_ids of the page's Revoke forms, in order. */
const revokable = (html: string) =>
  [...html.matchAll(/<form method="post" action="\/account\/revoke">[\s\S]*?<\/form>/g)].map((m) => hiddenFields(m[0]).client_id);

/** POST /account/revoke with the page's hidden fields (csrf) for `clientId`, plus any extra headers. */
function revokeFrom(browser: Browser, html: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const body = new URLSearchParams({ ...hiddenFields(html.slice(html.indexOf('action="/account/revoke"'))), ...fields });
  return browser.fetch("/account/revoke", { method: "POST", headers: { ...FORM, ...headers }, body: body.toString() });
}

const consentOf = (userId: string, clientId: string) => d1ConsentStore(env.DB).get(userId, clientId);

describe("GET /account signed out: sign in, then back to /account", () => {
  it("redirects to /login?return=account, whose form carries return=account (no txn) and leads back to /account", async () => {
    const user = await person();
    const browser = new Browser();
    const away = await browser.fetch("/account");
    expect(away.status).toBe(303);
    expect(away.headers.get("location")).toBe("/login?return=account");
    expect(away.headers.get("cache-control")).toBe("no-store");

    const login = await browser.follow(away);
    const loginHtml = await login.text();
    expect(login.status).toBe(200);
    expectPageSecurity(login, loginHtml);
    // The password form's fields, and the passkey form's (its sealed challenge and the credential the script fills in).
    expect(hiddenFields(loginHtml)).toEqual({ return: "account", csrf: expect.any(String), state: expect.any(String), credential: "" });

    // A wrong password shows the form again, still returning to the account page.
    const wrong = await browser.submit(loginHtml, { email: user.email, password: "not the password" }, "/login");
    const wrongHtml = await wrong.text();
    expect(wrong.status).toBe(400);
    expect(hiddenFields(wrongHtml).return).toBe("account");

    const signedIn = await browser.submit(wrongHtml, { email: user.email, password: PASSWORD }, "/login");
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get("location")).toBe("/account");
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(true);

    const { html } = await accountPage(browser);
    expect(html).toContain(`Signed in as <strong>${user.email}</strong>`);
    expect(html).toContain("No apps have access to your account.");
    expect(html).toMatch(/<form method="post" action="\/account\/sign-out" class="who"><input type="hidden" name="csrf" value="[^"]+"\/>/);
    expect(html).toContain('<button type="submit" class="link">Sign out</button>');
    expect(revokable(html)).toEqual([]);
  });

  it("returns only to the pages it names: a URL, a path or an unknown name is the expired-request page, and no session is made", async () => {
    const user = await person();
    for (const target of ["https://evil.example/", "//evil.example", "/admin", "/account", "Account", "constructor", "__proto__"]) {
      const query = `?return=${encodeURIComponent(target)}`;
      await expectErrorPage(await new Browser().fetch(`/login${query}`), "interaction_expired");
      // A posted return value is checked the same way, before any password is.
      const browser = new Browser();
      const page = await (await browser.fetch("/login?return=account")).text();
      const res = await browser.submit(page, { return: target, email: user.email, password: PASSWORD }, "/login");
      await expectErrorPage(res, "interaction_expired");
      expect(browser.cookies.has(SESSION_COOKIE), target).toBe(false);
    }
  });
});

describe("GET /account: what the person granted", () => {
  it("lists this person's clients only: name, home page, scopes in words, first and last dates (UTC), a Revoke form each", async () => {
    const user = await person();
    const someoneElse = await person();
    const a = await oidcClient({ client_name: "App A", client_uri: "https://a.example/home" });
    const b = await oidcClient({ client_name: "App B", scope: "openid profile" });
    const c = await oidcClient({ client_name: "App C" });
    const hostile = await oidcClient({ client_name: `<img src=x>"Bold" & co` });
    const browser = new Browser();
    await signIn(browser, a, user);
    await signIn(browser, b, user, { scope: "openid profile" });
    await signIn(browser, hostile, user);
    await signIn(new Browser(), c, someoneElse);
    // Fixed dates, so the page's rendering of them is checked exactly.
    await env.DB.prepare("UPDATE consents SET created_at = 1700000000, updated_at = 1710000000 WHERE user_id = ? AND client_id = ?").bind(user.id, a.client_id).run();

    const { res, html } = await accountPage(browser);
    expectPageSecurity(res, html);
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self';");
    expect(html).toContain(`Signed in as <strong>${user.email}</strong>`);
    expect(revokable(html)).toEqual([a.client_id, b.client_id, hostile.client_id]);
    expect(html).toContain("<h3>App A</h3>");
    expect(html).toContain("<h3>&lt;img src=x&gt;&quot;Bold&quot; &amp; co</h3>");
    expect(html).not.toContain("<img");
    expect(html).toContain("<h3>App B</h3>");
    expect(html).not.toContain("App C");
    expect(html).toContain('<a href="https://a.example/home" rel="noopener noreferrer" target="_blank">a.example</a>');
    expect(html).toContain('Allowed on <time datetime="2023-11-14T22:13:20.000Z">2023-11-14</time>, last updated <time datetime="2024-03-09T16:00:00.000Z">2024-03-09</time> (UTC)');
    const appB = html.slice(html.indexOf("<h3>App B</h3>"));
    expect(appB).toContain("Know who you are: your account ID on this server<span class=\"name\">openid</span>");
    expect(appB).toContain("See your basic profile");
    expect(html.slice(0, html.indexOf("<h3>App B</h3>"))).not.toContain("See your basic profile");
    for (const form of html.matchAll(/<form[\s\S]*?<\/form>/g)) expect(hiddenFields(form[0]).csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(html).toContain("Revoke access<span class=\"sr-only\"> for App A</span>");
  });

  it("shows a notice only for the names it knows, in its own words: nothing from the query is echoed", async () => {
    const browser = new Browser();
    await signIn(browser, await oidcClient(), await person());
    expect((await accountPage(browser, "?notice=revoked")).html).toContain('<p class="notice" role="status">Access withdrawn.');
    expect((await accountPage(browser, "?notice=nothing_revoked")).html).toContain("Nothing to withdraw");
    for (const query of ["?notice=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "?notice=toString", "?notice=revoked&notice=x"]) {
      const { html } = await accountPage(browser, query);
      expect(html).not.toContain("<script");
      if (!query.includes("revoked")) expect(html).not.toContain('class="notice"');
    }
  });
});

describe("POST /account/revoke: CSRF and the session", () => {
  it("without the token, with a wrong one, or from another site → 403 csrf_invalid; nothing is revoked", async () => {
    const user = await person();
    const client = await refreshClient({ scope: "openid offline_access" });
    const { browser, tokens } = await grantWithTokens(client, user);
    const { html } = await accountPage(browser);
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ["no token", { csrf: "" }, {}],
      ["a wrong token", { csrf: "A".repeat(43) }, {}],
      ["Sec-Fetch-Site: cross-site", {}, { "sec-fetch-site": "cross-site" }],
      ["Sec-Fetch-Site: same-site", {}, { "sec-fetch-site": "same-site" }],
      ["an Origin elsewhere", {}, { origin: "https://evil.example" }],
    ];
    for (const [what, fields, headers] of attempts) {
      const res = await revokeFrom(browser, html, { client_id: client.client_id, ...fields }, headers);
      expect(res.status, what).toBe(403);
      await expectErrorPage(res, "csrf_invalid", 403);
    }
    // Without the CSRF cookie the page's token proves nothing either.
    const noCookie = new Browser();
    for (const [name, value] of browser.cookies) if (name !== "__Host-csrf") noCookie.cookies.set(name, value);
    await expectErrorPage(await revokeFrom(noCookie, html, { client_id: client.client_id }), "csrf_invalid", 403);

    expect(await consentOf(user.id, client.client_id)).not.toBeNull();
    expect(revokable((await accountPage(browser)).html)).toEqual([client.client_id]);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    await refreshed(client, tokens.refresh_token);
    // And the same form, as sent from the page, works.
    expect((await revokeFrom(browser, html, { client_id: client.client_id }, { "sec-fetch-site": "same-origin" })).status).toBe(303);
    expect(await consentOf(user.id, client.client_id)).toBeNull();
  });

  it("with the session gone (signed out elsewhere) → 303 to sign in, nothing revoked", async () => {
    const user = await person();
    const client = await oidcClient();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { html } = await accountPage(browser);
    browser.cookies.delete(SESSION_COOKIE);
    const res = await revokeFrom(browser, html, { client_id: client.client_id });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login?return=account");
    expect(await consentOf(user.id, client.client_id)).not.toBeNull();
  });
});

describe("POST /account/revoke: the grant ends at once", () => {
  it("303 to /account with a notice; the grant's refresh token fails at /token, its access token at /userinfo and /introspect; other grants hold", async () => {
    const user = await person();
    const someoneElse = await person();
    const a = await refreshClient({ client_name: "App A", scope: "openid offline_access" });
    const b = await refreshClient({ client_name: "App B", scope: "openid offline_access" });
    const { browser, tokens: fromA } = await grantWithTokens(a, user);
    const { tokens: fromB } = await grantWithTokens(b, user, browser);
    const { tokens: othersFromA } = await grantWithTokens(a, someoneElse);

    const { html } = await accountPage(browser);
    expect(revokable(html)).toEqual([a.client_id, b.client_id]);
    const res = await revokeFrom(browser, html, { client_id: a.client_id });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/account?notice=revoked");
    expect(res.headers.get("cache-control")).toBe("no-store");

    const after = (await accountPage(browser, "?notice=revoked")).html;
    expect(after).toContain("Access withdrawn.");
    expect(revokable(after)).toEqual([b.client_id]);
    expect(after).not.toContain("App A");

    await expectError(await refresh(a, fromA.refresh_token), 400, "invalid_grant");
    const refused = await userinfo(fromA.access_token);
    expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
    await expectError(refused, 401, "invalid_token", "token_consent_revoked");
    await expectInactive(a, fromA.access_token);
    await expectInactive(a, fromA.refresh_token);

    // The person's other grant, and another person's grant to the same client, are untouched.
    expect((await userinfo(fromB.access_token)).status).toBe(200);
    await refreshed(b, fromB.refresh_token);
    expect((await userinfo(othersFromA.access_token)).status).toBe(200);
    await refreshed(a, othersFromA.refresh_token);
    expect(await consentOf(someoneElse.id, a.client_id)).not.toBeNull();
  });

  it("a client the person never allowed, another person's client, or odd input withdraws nothing; no client_id → 400 page; never a 500", async () => {
    const user = await person();
    const someoneElse = await person();
    const mine = await oidcClient();
    const theirs = await oidcClient();
    const browser = new Browser();
    await signIn(browser, mine, user);
    await signIn(new Browser(), theirs, someoneElse);
    const { html } = await accountPage(browser);

    for (const clientId of [theirs.client_id, "no-such-client", "x".repeat(10_000), "\u0000\r\n", "' OR 1=1 --"]) {
      const res = await revokeFrom(browser, html, { client_id: clientId });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/account?notice=nothing_revoked");
    }
    expect(await consentOf(someoneElse.id, theirs.client_id)).not.toBeNull();
    expect(await consentOf(user.id, mine.client_id)).not.toBeNull();

    await expectErrorPage(await revokeFrom(browser, html, { client_id: "" }), "missing_parameter");
    const twice = await browser.fetch("/account/revoke", {
      method: "POST",
      headers: FORM,
      body: `${new URLSearchParams(hiddenFields(html))}&client_id=${mine.client_id}&client_id=${mine.client_id}`,
    });
    await expectErrorPage(twice, "duplicate_parameter");
    const json = await browser.fetch("/account/revoke", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await expectErrorPage(json, "unsupported_content_type");
    expect(await consentOf(user.id, mine.client_id)).not.toBeNull();
  });
});

describe("POST /account/sign-out: the account page's Sign out ends the session at once", () => {
  afterEach(() => vi.restoreAllMocks());

  it("no second question: the session ends, the cookie goes, the apps get back-channel logout tokens, and /logout says so", async () => {
    const bcl = "https://rp.example/account-bcl";
    const received: string[] = [];
    serveRpDocuments({ [bcl]: async (request) => (received.push(await request.text()), new Response(null, { status: 200 })) });
    const worker = deferredWorker();
    const client = await logoutClient({ backchannel_logout_uri: bcl });
    const { browser, claims } = await signedIn({ client, browser: new Browser(worker.send) });
    const { html } = await accountPage(browser);
    const form = html.slice(html.indexOf('action="/account/sign-out"'));

    const res = await browser.fetch("/account/sign-out", { method: "POST", headers: FORM, body: new URLSearchParams(hiddenFields(form)).toString() });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/logout");
    expectSessionCookieCleared(res);
    expect(await sessionEndedAt(claims.sid)).toEqual(expect.any(Number));
    await worker.settled();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(/^logout_token=/);
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
    const done = await (await browser.follow(res)).text();
    expect(done).toContain("<h1>You are signed out</h1>");
    expect(done).toContain("Sign in again");
  });

  it("is CSRF-protected: without the page's token nothing ends (403 page)", async () => {
    const { browser, claims } = await signedIn();
    await expectErrorPage(await browser.fetch("/account/sign-out", { method: "POST", headers: FORM, body: "" }), "csrf_invalid", 403);
    expect(await sessionEndedAt(claims.sid)).toBeNull();
  });
});

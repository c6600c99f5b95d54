import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1ConsentStore } from "../src/consent/store";
import { call, expectError } from "./helpers";
import {
  Browser, PASSWORD, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, hiddenFields,
  oidcClient, person, redeem, signIn,
} from "./oidc-helpers";

/**
 * Issue 3's rules around the code: consent is stored per user and client and covers a request only
 * when it includes every requested scope; first-party clients skip the page; the person must have a
 * verified email address and an enabled account, at authorization and again when the code is
 * redeemed; withdrawing consent stops codes and access tokens issued under it.
 */

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const patchUser = async (id: string, body: Record<string, unknown>) => {
  const res = await call(`/admin/users/${id}`, { method: "PATCH", headers: admin, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
};
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Goes through sign-in only, stopping at whatever page comes next. */
async function signInOnly(browser: Browser, params: Record<string, string>, user: { email: string }) {
  const login = await browser.follow(await browser.fetch(`/authorize?${q(params)}`));
  expect(await login.clone().text()).toContain('action="/login"');
  return browser.follow(await browser.submit(login, { email: user.email, password: PASSWORD }, "/login"));
}

describe("consent is stored per user and client, and reused", () => {
  it("the second authorization asks nothing in the same browser, and only for the password in a new one", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const first = await authorize(browser, (await codeRequest(client.client_id)).params, user);
    expect(first.pages).toEqual(["login", "consent"]);
    const second = await authorize(browser, (await codeRequest(client.client_id)).params, user);
    expect(second.pages).toEqual([]);
    clientRedirect(second.response);
    const elsewhere = await authorize(new Browser(), (await codeRequest(client.client_id)).params, user);
    expect(elsewhere.pages).toEqual(["login"]);
  });

  it("prompt=consent shows the page again, and the code follows approval", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id, { prompt: "consent" });
    const { response, pages } = await authorize(browser, params, user);
    expect(pages).toEqual(["consent"]);
    await expectTokenResponse(await redeem(client, clientRedirect(response).get("code")!, verifier));
  });

  it("prompt=consent denied → access_denied, and the stored consent stays as it was", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params } = await codeRequest(client.client_id, { prompt: "consent" });
    expectRedirectError((await authorize(browser, params, user, { consent: "deny" })).response, "access_denied", { state: params.state });
    expect((await d1ConsentStore(env.DB).get(user.id, client.client_id))?.scope).toEqual(["openid"]);
  });

  it("a wider scope later shows the page for it; after that, both the wide and the narrow request pass silently", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params } = await codeRequest(client.client_id, { scope: "openid profile" });
    const page = await browser.follow(await browser.fetch(`/authorize?${q(params)}`));
    const html = await page.clone().text();
    expect(html).toContain('action="/consent"');
    expect(html).toMatch(/<span class="name">profile<\/span>/);
    const { pages } = await authorize(browser, params, user);
    expect(pages).toEqual(["consent"]);
    expect((await d1ConsentStore(env.DB).get(user.id, client.client_id))?.scope.sort()).toEqual(["openid", "profile"]);
    for (const scope of ["openid profile", "openid"]) {
      const again = await authorize(browser, (await codeRequest(client.client_id, { scope })).params, user);
      expect(again.pages).toEqual([]);
    }
  });

  it("prompt=none with consent for less than the request → consent_required", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const { params } = await codeRequest(client.client_id, { scope: "openid email", prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${q(params)}`), "consent_required", { state: params.state });
  });

  it("consent for one client does not cover another", async () => {
    const user = await person();
    const browser = new Browser();
    await signIn(browser, await oidcClient(), user);
    const { pages } = await authorize(browser, (await codeRequest((await oidcClient()).client_id)).params, user);
    expect(pages).toEqual(["consent"]);
  });

  it("a first-party client skips the page; the grant is still recorded, so UserInfo answers", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid email" });
    const { response, pages } = await authorize(new Browser(), params, user);
    expect(pages).toEqual(["login"]);
    const tokens = await expectTokenResponse(await redeem(client, clientRedirect(response).get("code")!, verifier));
    expect((await d1ConsentStore(env.DB).get(user.id, client.client_id))?.scope.sort()).toEqual(["email", "openid"]);
    expect((await call("/userinfo", { headers: bearer(tokens.access_token) })).status).toBe(200);
  });

  it("the sign-in and consent pages let their form's redirect chain reach the client (CSP form-action)", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const { params } = await codeRequest(client.client_id);
    const login = await browser.follow(await browser.fetch(`/authorize?${q(params)}`));
    expect(login.headers.get("content-security-policy")).toContain("form-action 'self' https://rp.example");
    const consent = await browser.follow(await browser.submit(login, { email: user.email, password: PASSWORD }, "/login"));
    expect(await consent.clone().text()).toContain('action="/consent"');
    expect(consent.headers.get("content-security-policy")).toContain("form-action 'self' https://rp.example");
  });
});

describe("withdrawn consent", () => {
  it("UserInfo with a token issued before → 401 invalid_token; a code issued before → invalid_grant; the next request asks again", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const { tokens } = await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(browser, params, user)).response).get("code")!;

    await d1ConsentStore(env.DB).revoke(user.id, client.client_id);
    const info = await call("/userinfo", { headers: bearer(tokens.access_token) });
    expect(info.status).toBe(401);
    expect(info.headers.get("www-authenticate")).toMatch(/^Bearer .*error="invalid_token"/);
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "grant_consent_revoked");
    const { pages } = await authorize(browser, (await codeRequest(client.client_id)).params, user);
    expect(pages).toEqual(["consent"]);
  });

  it("withdrawn and given again (a new grant): codes and tokens from before stay refused", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const { tokens } = await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(browser, params, user)).response).get("code")!;
    await d1ConsentStore(env.DB).revoke(user.id, client.client_id);
    await d1ConsentStore(env.DB).grant(user.id, client.client_id, ["openid"], Math.floor(Date.now() / 1000));
    expect((await call("/userinfo", { headers: bearer(tokens.access_token) })).status).toBe(401);
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "grant_consent_revoked");
  });
});

describe("email verification (issue 3: a verified address is needed to authorize and to redeem)", () => {
  it("an unverified person sees the check-your-email page after sign-in; prompt=none → access_denied; once verified the request continues", async () => {
    const client = await oidcClient();
    const user = await person({ email_verified: false });
    const browser = new Browser();
    const { params, verifier } = await codeRequest(client.client_id);
    const page = await signInOnly(browser, params, user);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('action="/verify-email/resend"');
    expect(html).not.toContain('action="/consent"');
    const txn = hiddenFields(html.slice(html.indexOf('action="/verify-email/resend"'))).txn!;
    expect(txn).toBeTruthy();

    const silent = await codeRequest(client.client_id, { prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${q(silent.params)}`), "access_denied", { state: silent.params.state, description: /verify/ });

    await patchUser(user.id, { email_verified: true });
    const consent = await browser.follow(await browser.fetch(`/verify-email/needed?txn=${encodeURIComponent(txn)}`));
    expect(await consent.clone().text()).toContain('action="/consent"');
    const done = await browser.follow(await browser.submit(consent, { decision: "allow" }, "/consent"));
    const back = clientRedirect(done);
    expect(back.get("state")).toBe(params.state);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });

  it("an address that becomes unverified after the code was issued → the code exchange fails with invalid_grant", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
    await patchUser(user.id, { email_verified: false });
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "grant_user_unverified");
    await patchUser(user.id, { email_verified: true });
    await expectTokenResponse(await redeem(client, code, verifier));
  });
});

describe("disabled accounts", () => {
  it("a code issued before the account was disabled → invalid_grant", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
    await patchUser(user.id, { disabled: true });
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "grant_user_disabled");
  });

  it("disabling ends the sessions: prompt=none → login_required; and sign-in is refused like a wrong password", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    await patchUser(user.id, { disabled: true });
    const silent = await codeRequest(client.client_id, { prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${q(silent.params)}`), "login_required", { state: silent.params.state });

    const { params } = await codeRequest(client.client_id);
    const login = await browser.follow(await browser.fetch(`/authorize?${q(params)}`));
    const refused = await browser.submit(login, { email: user.email, password: PASSWORD }, "/login");
    expect(refused.status).toBe(400);
    expect(refused.headers.get("location")).toBeNull();
    expect(await refused.text()).toContain("The email address or password is incorrect.");
  });

  it("a session that outlives the account being disabled (disabled in storage directly) → access_denied, not a code", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    await env.DB.prepare("UPDATE users SET disabled = 1 WHERE id = ?").bind(user.id).run();
    const { params } = await codeRequest(client.client_id);
    expectRedirectError(await browser.fetch(`/authorize?${q(params)}`), "access_denied", { state: params.state, description: /disabled/ });
  });
});

describe("redirect target of errors raised after the interaction pages", () => {
  it("a consent denial goes to the request's own redirect URI (one of several registered)", async () => {
    const other = "https://rp.example/other";
    const client = await oidcClient({ redirect_uris: [REDIRECT_URI, other] });
    const user = await person();
    const { params } = await codeRequest(client.client_id, { redirect_uri: other });
    const { response } = await authorize(new Browser(), params, user, { consent: "deny" });
    expectRedirectError(response, "access_denied", { state: params.state, redirectUri: other });
  });
});

import { afterEach, describe, expect, it, vi } from "vitest";
import {
  Browser, authorize, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, frozenClock, oidcClient, person,
  redeem, signIn, verifyIdToken,
} from "./oidc-helpers";

/**
 * The Basic OP plan's modules about the browser session (OIDC Core §3.1.2.1, §3.1.2.3, §3.1.2.6):
 * display, prompt, max_age, id_token_hint, login_hint. The clock is frozen and moved where a
 * module waits (the Worker shares the tests' isolate, so its Date moves too).
 */

afterEach(() => vi.useRealTimers());

/** A second authorization in the same browser; returns the pages seen and the verified ID token. */
async function again(
  browser: Browser,
  client: { client_id: string; client_secret?: string },
  user: { email: string },
  extra: Record<string, string>,
) {
  const { params, verifier } = await codeRequest(client.client_id, extra);
  const flow = await authorize(browser, params, user);
  const back = clientRedirect(flow.response);
  expect(back.get("state")).toBe(params.state);
  const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
  return { pages: flow.pages, idToken };
}

describe("oidcc-display-page, oidcc-display-popup", () => {
  for (const display of ["page", "popup"]) {
    it(`display=${display} → the normal sign-in page, and the flow succeeds`, async () => {
      const client = await oidcClient();
      const user = await person();
      const { params, verifier } = await codeRequest(client.client_id, { display });
      const browser = new Browser();
      const first = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
      expect(first.status).toBe(200);
      expect(await first.text()).toContain('action="/login"');
      const { response } = await authorize(browser, params, user);
      await expectTokenResponse(await redeem(client, clientRedirect(response).get("code")!, verifier));
    });
  }
});

describe("oidcc-prompt-login", () => {
  it("prompt=login with a live session → the sign-in page again, and a later auth_time", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    clock.advance(5);
    const second = await again(browser, client, user, { prompt: "login" });
    expect(second.pages).toEqual(["login"]);
    expect(second.idToken.sub).toBe(first.idToken.sub);
    expect(second.idToken.auth_time as number).toBeGreaterThan(first.idToken.auth_time as number);
  });
});

describe("oidcc-prompt-none-not-logged-in, oidcc-prompt-none-logged-in", () => {
  it("prompt=none without a session → login_required to the client, with state and iss", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { prompt: "none" });
    const browser = new Browser();
    const res = await browser.fetch(`/authorize?${new URLSearchParams(params)}`);
    expectRedirectError(res, "login_required", { state: params.state });
  });

  it("prompt=none with a session → a code at once, no page; same sub and auth_time", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    clock.advance(3);
    const { params, verifier } = await codeRequest(client.client_id, { prompt: "none" });
    const res = await browser.fetch(`/authorize?${new URLSearchParams(params)}`);
    const back = clientRedirect(res);
    expect(back.get("state")).toBe(params.state);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(idToken.sub).toBe(first.idToken.sub);
    expect(idToken.auth_time).toBe(first.idToken.auth_time);
  });

  it("prompt=none with a session but no consent for this client → consent_required", async () => {
    const user = await person();
    const browser = new Browser();
    await signIn(browser, await oidcClient(), user);
    const other = await oidcClient();
    const { params } = await codeRequest(other.client_id, { prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${new URLSearchParams(params)}`), "consent_required", { state: params.state });
  });
});

describe("oidcc-max-age-1, oidcc-max-age-10000", () => {
  it("max_age=1 after 2 s → forced sign-in; auth_time present and later", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    clock.advance(2);
    const second = await again(browser, client, user, { max_age: "1" });
    expect(second.pages).toEqual(["login"]);
    expect(second.idToken.auth_time as number).toBeGreaterThan(first.idToken.auth_time as number);
  });

  it("max_age=1 within the second → no sign-in (the session is fresh enough)", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    clock.advance(1);
    const second = await again(browser, client, user, { max_age: "1" });
    expect(second.pages).toEqual([]);
    expect(second.idToken.auth_time).toBe(first.idToken.auth_time);
  });

  it("max_age=15000 then max_age=10000 → no sign-in; auth_time and sub unchanged", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    const first = await signIn(browser, client, user, { max_age: "15000" });
    clock.advance(60);
    const second = await again(browser, client, user, { max_age: "10000" });
    expect(second.pages).toEqual([]);
    expect(second.idToken.sub).toBe(first.idToken.sub);
    expect(second.idToken.auth_time).toBe(first.idToken.auth_time);
  });

  it("max_age=0 is prompt=login (OIDC Core §3.1.2.1), even within the second of the last sign-in", async () => {
    const client = await oidcClient();
    const user = await person();
    frozenClock();
    const browser = new Browser();
    await signIn(browser, client, user);
    const second = await again(browser, client, user, { max_age: "0" });
    expect(second.pages).toEqual(["login"]);
  });

  it("max_age with prompt=none and a session that is too old → login_required", async () => {
    const client = await oidcClient();
    const user = await person();
    const clock = frozenClock();
    const browser = new Browser();
    await signIn(browser, client, user);
    clock.advance(10);
    const { params } = await codeRequest(client.client_id, { prompt: "none", max_age: "5" });
    expectRedirectError(await browser.fetch(`/authorize?${new URLSearchParams(params)}`), "login_required", { state: params.state });
  });
});

describe("oidcc-id-token-hint", () => {
  it("prompt=none with id_token_hint = the previous ID token → a code silently; same sub and auth_time", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    const first = await signIn(browser, client, user);
    const { params, verifier } = await codeRequest(client.client_id, { prompt: "none", id_token_hint: first.tokens.id_token! });
    const back = clientRedirect(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    const idToken = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
    expect(idToken.sub).toBe(first.idToken.sub);
    expect(idToken.auth_time).toBe(first.idToken.auth_time);
  });
});

describe("oidcc-login-hint", () => {
  it("login_hint prefills the email field, and the flow succeeds", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { login_hint: user.email });
    const browser = new Browser();
    const page = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    expect(page.status).toBe(200);
    const input = /<input[^>]*name="email"[^>]*>/.exec(await page.text())?.[0];
    expect(input).toContain(`value="${user.email}"`);
    const { response } = await authorize(browser, params, user);
    await expectTokenResponse(await redeem(client, clientRedirect(response).get("code")!, verifier));
  });

  it("a hostile login_hint is escaped, not markup", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { login_hint: `"><script>alert(1)</script>` });
    const browser = new Browser();
    const html = await (await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`))).text();
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toContain("&quot;&gt;&lt;script&gt;");
  });
});

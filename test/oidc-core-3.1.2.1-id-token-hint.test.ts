import { afterEach, describe, expect, it, vi } from "vitest";
import { expectError } from "./helpers";
import {
  Browser, PASSWORD, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, frozenClock, oidcClient, person, redeem, signIn, verifyIdToken,
} from "./oidc-helpers";
import { push, secretClient } from "./par-jar-helpers";

/**
 * OIDC Core §3.1.2.1 `id_token_hint`: an ID token this server issued to the client (checked by the
 * one verifier of our ID tokens, src/tokens/verify-id-token.ts; an expired one accepted) names the
 * person the request is for. Their session answers at once, prompt=none included
 * (oidcc-id-token-hint); another person's session, or none, with prompt=none → login_required;
 * without prompt=none, the sign-in page, where signing in as another person than the hint names
 * ends in login_required ("SHOULD return an error, such as login_required"). A hint that is not
 * one of ours for this client → invalid_request (id_token_hint_invalid). The claims request's
 * `sub` value (§5.5.1) names the person the same way.
 */

afterEach(() => vi.useRealTimers());

const authorizeIn = (browser: Browser, params: Record<string, string>) => browser.fetch(`/authorize?${new URLSearchParams(params)}`);

/** A person signed in in their own browser through `client`, with the ID token they got. */
async function signedIn(client: { client_id: string; client_secret?: string }) {
  const user = await person();
  const browser = new Browser();
  const { tokens, idToken } = await signIn(browser, client, user);
  return { user, browser, hint: tokens.id_token!, idToken, accessToken: tokens.access_token };
}

describe("OIDC Core §3.1.2.1: id_token_hint for the signed-in person", () => {
  it("oidcc-id-token-hint: prompt=none with the earlier ID token → a code at once; sub and auth_time unchanged", async () => {
    const client = await oidcClient();
    const { browser, hint, idToken } = await signedIn(client);
    const { params, verifier } = await codeRequest(client.client_id, { prompt: "none", id_token_hint: hint });
    const tokens = await expectTokenResponse(await redeem(client, clientRedirect(await authorizeIn(browser, params)).get("code")!, verifier));
    const again = await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
    expect(again.sub).toBe(idToken.sub);
    expect(again.auth_time).toBe(idToken.auth_time);
  });

  it("an expired ID token is still a hint (§3.1.2.1: the OP SHOULD accept it even if expired)", async () => {
    const client = await oidcClient();
    const { browser, hint } = await signedIn(client);
    const clock = frozenClock();
    clock.advance(3600);
    const { params } = await codeRequest(client.client_id, { prompt: "none", id_token_hint: hint });
    expect(clientRedirect(await authorizeIn(browser, params)).get("code")).toBeTruthy();
  });
});

describe("OIDC Core §3.1.2.1: id_token_hint for another person", () => {
  it("prompt=none with another person's session, or none → login_required", async () => {
    const client = await oidcClient();
    const { hint } = await signedIn(client);
    const other = await signedIn(client);
    const { params } = await codeRequest(client.client_id, { prompt: "none", id_token_hint: hint });
    expectRedirectError(await authorizeIn(other.browser, params), "login_required", { state: params.state });
    expectRedirectError(await authorizeIn(new Browser(), params), "login_required", { state: params.state });
  });

  it("without prompt=none: the sign-in page; signing in as the hinted person → their code", async () => {
    const client = await oidcClient();
    const { user, hint } = await signedIn(client);
    const other = await signedIn(client);
    const { params, verifier } = await codeRequest(client.client_id, { id_token_hint: hint });
    const page = await other.browser.follow(await authorizeIn(other.browser, params));
    const html = await page.text();
    expect(html).toContain('action="/login"');
    const res = await other.browser.follow(await other.browser.submit(html, { email: user.email, password: PASSWORD }, "/login"));
    const tokens = await expectTokenResponse(await redeem(client, clientRedirect(res).get("code")!, verifier));
    expect((await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce })).sub).toBe(user.id);
  });

  it("signing in there as someone else again → login_required (no second sign-in page)", async () => {
    const client = await oidcClient();
    const { hint } = await signedIn(client);
    const other = await signedIn(client);
    const { params } = await codeRequest(client.client_id, { id_token_hint: hint });
    const page = await other.browser.follow(await authorizeIn(other.browser, params));
    const res = await other.browser.follow(await other.browser.submit(await page.text(), { email: other.user.email, password: PASSWORD }, "/login"));
    expectRedirectError(res, "login_required", { state: params.state });
  });

  it("§5.5.1: the claims request's sub value names the person the same way; disagreeing with the hint → invalid_request", async () => {
    const client = await oidcClient();
    const { user, hint } = await signedIn(client);
    const other = await signedIn(client);
    const named = { claims: JSON.stringify({ id_token: { sub: { value: user.id } } }), prompt: "none" };
    const { params } = await codeRequest(client.client_id, named);
    expectRedirectError(await authorizeIn(other.browser, params), "login_required", { state: params.state });
    const both = await codeRequest(client.client_id, { ...named, claims: JSON.stringify({ id_token: { sub: { value: other.user.id } } }), id_token_hint: hint });
    expectRedirectError(await authorizeIn(other.browser, both.params), "invalid_request", { state: both.params.state, description: /sub/ });
  });
});

describe("OIDC Core §3.1.2.1: a hint that is not an ID token of ours for this client → invalid_request", () => {
  it("garbage, an access token, another client's ID token, a tampered one: each id_token_hint_invalid, redirected", async () => {
    const client = await oidcClient();
    const otherClient = await oidcClient();
    const { browser, hint, accessToken } = await signedIn(client);
    const foreign = (await signIn(browser, otherClient, { email: (await person()).email })).tokens.id_token!;
    const [header, payload, signature] = hint.split(".");
    const tampered = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;
    for (const bad of ["not-a-jwt", accessToken, foreign, tampered]) {
      const { params } = await codeRequest(client.client_id, { id_token_hint: bad });
      expectRedirectError(await authorizeIn(browser, params), "invalid_request", { state: params.state, description: /id_token_hint/ });
    }
  });

  it("at PAR: 400 invalid_request id_token_hint_invalid", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id, { id_token_hint: "not-a-jwt" });
    await expectError(await push(client, params), 400, "invalid_request", "id_token_hint_invalid");
  });
});

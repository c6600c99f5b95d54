import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueCode, openCode } from "../src/authorize/codes";
import {
  MAX_CODE_LENGTH, MAX_CODE_PLAINTEXT, MAX_COMPLETION_PLAINTEXT, MAX_INTERACTION_TARGET, MAX_SEALED_TRANSACTION, MAX_TRANSACTION_PLAINTEXT, REQUEST_BOUNDS,
  sealedBytes,
} from "../src/authorize/limits";
import { openTransaction, sealTransaction, type RedirectCompletion, type Transaction } from "../src/authorize/request";
import { MAX_RESOURCES, RESOURCE_BYTES } from "../src/authorize/resource";
import { USER_CLAIM_NAMES } from "../src/tokens/claims";
import { ISSUER, basic, tokenRequest, uniqueId } from "./helpers";
import {
  Browser, PASSWORD, codeRequest, expectErrorPage, expectRedirectError, expectTokenResponse, oidcClient, person, verifyIdToken,
} from "./oidc-helpers";

/**
 * RFC 6749 §4.1.1 / §4.1.2, OIDC Core §3.1.2.1: what an authorization request may carry is bounded
 * in bytes (src/authorize/limits.ts), so that every code the server issues fits the bound the token
 * endpoint accepts, and every transaction the sign-in pages carry fits a URL. The largest accepted
 * request goes through sign-in, consent and the token exchange; one byte more on any parameter is a
 * clean error with its own catalog code.
 */

const bytes = (s: string) => new TextEncoder().encode(s).byteLength;
/** `n` bytes of multi-byte characters: "😀" (4 bytes, 2 UTF-16 units), then "€" (3), then ASCII. */
function wide(n: number): string {
  const out = "😀".repeat(Math.floor(n / 4)) + "€".repeat(Math.floor((n % 4) / 3));
  return out + "a".repeat(n - bytes(out));
}

describe("the arithmetic: bounds, sealed JSON, AEAD and base64url (src/authorize/limits.ts)", () => {
  it("the bounds are those the comment states, in bytes", () => {
    expect(Object.fromEntries(Object.entries(REQUEST_BOUNDS).map(([k, v]) => [k, v.bytes]))).toEqual({
      redirect_uri: 2048, state: 1024, nonce: 512, login_hint: 512, scope: 512, acr_values: 128, authorization_details: 1024,
    });
    expect([MAX_RESOURCES, RESOURCE_BYTES]).toEqual([4, 256]);
    expect(sealedBytes("😀€a")).toBe(8);
    expect(sealedBytes('"\\')).toBe(4);
    expect(sealedBytes("\u0000")).toBe(6);
  });

  it("the longest code is 9980 characters and the longest transaction 12116, within a 12 KiB request line", () => {
    expect(MAX_CODE_PLAINTEXT).toBe(7454);
    expect(MAX_CODE_LENGTH).toBe(20 + Math.ceil(((7454 + 16) * 4) / 3));
    expect(MAX_CODE_LENGTH).toBe(9980);
    // The transaction holds one completion; the redirect completion is the longer kind.
    expect(MAX_COMPLETION_PLAINTEXT).toEqual({ redirect: 4011, device: 102, backchannel: 272 });
    expect(MAX_TRANSACTION_PLAINTEXT).toBe(9056);
    expect(MAX_SEALED_TRANSACTION).toBe(12116);
    expect("/verify-email/needed?txn=".length + MAX_SEALED_TRANSACTION).toBeLessThanOrEqual(MAX_INTERACTION_TARGET);
    expect(MAX_INTERACTION_TARGET).toBe(12288);
  });

  it("a code and a transaction built from the worst accepted values (escapes, control characters) stay within their bounds and open", async () => {
    const TIME = 9_000_000_000_000_000;
    // The request and its redirect completion, flat.
    const request: Omit<RedirectCompletion, "kind"> & Transaction["request"] = {
      // Every value at its bound as sealed, in the characters that cost the most.
      redirectUri: '"'.repeat(REQUEST_BOUNDS.redirect_uri.bytes / 2),
      responseMode: "form_post",
      state: "\u0001".repeat(170) + "\\\\",
      clientId: '"'.repeat(128),
      redirectUriSent: false,
      scope: Array.from({ length: 256 }, () => "a"),
      nonce: "\\".repeat(REQUEST_BOUNDS.nonce.bytes / 2),
      codeChallenge: "c".repeat(128),
      codeChallengeMethod: "plain",
      dpopJkt: "j".repeat(43),
      pushedRequestId: "p".repeat(64),
      prompt: "consent",
      maxAge: 9_999_999_999,
      loginHint: "\u0000".repeat(85) + "\\",
      // The extras: 4 resources of 256 URI characters (RFC 8707), 1024 bytes of authorization
      // details (RFC 9396, escapes counted as sent), every claim name in both lists (OIDC Core §5.5),
      // acr values filling their 128 bytes, and the subject a request may name.
      resources: Array.from({ length: MAX_RESOURCES }, (_, i) => `https://r${i}.example/`.padEnd(RESOURCE_BYTES, "p")),
      authorizationDetails: [{ type: "t", v: "\"".repeat(1024) }],
      claims: { idToken: [...USER_CLAIM_NAMES], userinfo: [...USER_CLAIM_NAMES] },
      acrValues: [...Array.from({ length: 63 }, () => "a"), "aa"],
      acrEssential: true,
      subject: "u".repeat(64),
    };
    // The details' compact JSON at exactly its bound.
    const detail = request.authorizationDetails![0]!;
    const room = REQUEST_BOUNDS.authorization_details.bytes - JSON.stringify([{ type: "t", v: "" }]).length;
    detail.v = "\"".repeat(Math.floor(room / 2)) + "a".repeat(room % 2);
    expect(JSON.stringify(request.authorizationDetails).length).toBe(REQUEST_BOUNDS.authorization_details.bytes);
    expect([request.redirectUri, request.state!, request.nonce!, request.loginHint!].map(sealedBytes)).toEqual([2048, 1024, 512, 512]);
    const who = { sub: "s".repeat(64), authTime: TIME, sid: "i".repeat(64), amr: ["a".repeat(60)], grantId: "g".repeat(64) };
    const code = await issueCode(request, who, { encryptionKey: env.ENCRYPTION_KEY, now: TIME, ttl: 60 });
    expect(code.length).toBeLessThanOrEqual(MAX_CODE_LENGTH);
    expect(code.length).toBeGreaterThan(MAX_CODE_LENGTH - 64); // the bound is tight, not a guess
    expect((await openCode(code, env.ENCRYPTION_KEY)).nonce).toBe(request.nonce);

    const { clientId, scope, prompt, maxAge, loginHint, resources, authorizationDetails, claims, acrValues, acrEssential, subject, ...completion } = request;
    const txn: Transaction = {
      request: { clientId, scope, prompt, maxAge, loginHint, resources, authorizationDetails, claims, acrValues, acrEssential, subject },
      completion: { kind: "redirect", ...completion },
      createdAt: TIME, expiresAt: TIME, authenticatedSid: "i".repeat(64), consented: true,
    };
    const sealed = await sealTransaction(txn, env.ENCRYPTION_KEY);
    expect(sealed.length).toBeLessThanOrEqual(MAX_SEALED_TRANSACTION);
    expect(sealed.length).toBeGreaterThan(MAX_SEALED_TRANSACTION - 64);
    expect((await openTransaction(sealed, env.ENCRYPTION_KEY, 0)).completion).toMatchObject({ state: request.state });
  });

  it("anything longer than the longest code is refused unopened", async () => {
    await expect(openCode("v1." + "a".repeat(MAX_CODE_LENGTH), env.ENCRYPTION_KEY)).rejects.toMatchObject({ code: "code_invalid" });
  });
});

/** A client whose registration lets a request reach every bound: 128-character id, 2048-byte redirect URI, plain PKCE. */
async function largestClient() {
  const redirectUri = `https://rp.example/callback?pad=`.padEnd(REQUEST_BOUNDS.redirect_uri.bytes, "p");
  const standard = "openid profile email address phone offline_access";
  const own: string[] = [];
  for (let i = 0; bytes([standard, ...own, `s${i}`].join(" ")) <= REQUEST_BOUNDS.scope.bytes; i++) own.push(`s${i}`);
  const scope = [standard, ...own].join(" ").padEnd(REQUEST_BOUNDS.scope.bytes, "x");
  // The last own scope takes the padding, so the request asks for exactly the bound.
  own[own.length - 1] = scope.split(" ").at(-1)!;
  const client = await oidcClient({
    client_id: uniqueId("client").padEnd(128, "c"),
    redirect_uris: [redirectUri],
    scope: own.join(" "),
    allow_plain_pkce: true,
  });
  return { client, redirectUri, scope };
}

/** Follows our own redirects, checking each URL the browser is sent to stays within an 8 KiB request line. */
async function follow(browser: Browser, res: Response): Promise<Response> {
  let current = res;
  while (current.status === 302 || current.status === 303) {
    const location = new URL(current.headers.get("location")!, ISSUER);
    if (location.origin !== ISSUER) return current;
    expect((location.pathname + location.search).length).toBeLessThanOrEqual(MAX_INTERACTION_TARGET);
    current = await browser.fetch(location.pathname + location.search);
  }
  return current;
}

describe("RFC 6749 §4.1.1–4.1.3 the largest accepted authorization request is redeemable end to end", () => {
  it("max nonce (multi-byte), max state, max login_hint, max registered redirect_uri, every scope, a 128-character challenge → tokens", async () => {
    const { client, redirectUri, scope } = await largestClient();
    const user = await person();
    const verifier = "v".repeat(128);
    const params = {
      response_type: "code", client_id: client.client_id, redirect_uri: redirectUri, scope,
      state: wide(REQUEST_BOUNDS.state.bytes), nonce: wide(REQUEST_BOUNDS.nonce.bytes), login_hint: wide(REQUEST_BOUNDS.login_hint.bytes),
      code_challenge: verifier, code_challenge_method: "plain", prompt: "consent", max_age: "9999999999",
    };
    expect(client.client_id).toHaveLength(128);
    expect([redirectUri, scope, params.state, params.nonce, params.login_hint].map(bytes)).toEqual([2048, 512, 1024, 512, 512]);

    const browser = new Browser();
    let res = await follow(browser, await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    res = await follow(browser, await browser.submit(res, { email: user.email, password: PASSWORD }, "/login"));
    res = await follow(browser, await browser.submit(res, { decision: "allow" }, "/consent"));

    expect(res.status).toBe(302);
    const location = res.headers.get("location")!;
    expect(location.startsWith(`${redirectUri}&code=`)).toBe(true);
    const back = new URL(location).searchParams;
    expect(back.get("state")).toBe(params.state);
    const code = back.get("code")!;
    expect(code.length).toBeLessThanOrEqual(MAX_CODE_LENGTH);

    const tokens = await expectTokenResponse(await tokenRequest(
      { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier },
      { authorization: basic(client.client_id, client.client_secret!) },
    ));
    expect(tokens.scope?.split(" ").sort()).toEqual(scope.split(" ").sort());
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce, accessToken: tokens.access_token });
  });
});

describe("RFC 6749 §4.1.2.1 one byte over a bound → its catalog error, redirected once the redirect URI is known", () => {
  it("state, nonce, login_hint one byte over (multi-byte) → state_too_long, nonce_too_long, login_hint_too_long; scope → scope_too_long", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    const over = (name: string, value: string) => new Browser().fetch(`/authorize?${new URLSearchParams({ ...params, [name]: value })}`);
    for (const name of ["state", "nonce", "login_hint"] as const) {
      const value = wide(REQUEST_BOUNDS[name].bytes + 1);
      expect(value.length).toBeLessThan(REQUEST_BOUNDS[name].bytes); // within the bound in characters: bytes decide
      expectRedirectError(await over(name, value), "invalid_request", {
        state: name === "state" ? value : params.state,
        description: new RegExp(`^${name} must be at most ${REQUEST_BOUNDS[name].bytes} bytes`),
      });
    }
    // The bound is checked first, on the parameter as sent: 513 bytes are refused whatever they name.
    const overScope = `openid ${"x".repeat(REQUEST_BOUNDS.scope.bytes - 6)}`;
    expect(bytes(overScope)).toBe(REQUEST_BOUNDS.scope.bytes + 1);
    expectRedirectError(await over("scope", overScope), "invalid_scope", { state: params.state, description: /^scope must be at most 512 bytes/ });
  });

  it("a redirect_uri one byte over (a loopback URI of a native app with its port) → authorize_redirect_uri_too_long page", async () => {
    const registered = "http://127.0.0.1/cb?pad=".padEnd(REQUEST_BOUNDS.redirect_uri.bytes - 1, "p");
    const client = await oidcClient({ application_type: "native", token_endpoint_auth_method: "none", redirect_uris: [registered] });
    const { params } = await codeRequest(client.client_id, { redirect_uri: registered.replace("127.0.0.1", "127.0.0.1:8") });
    expect(bytes(params.redirect_uri!)).toBe(REQUEST_BOUNDS.redirect_uri.bytes + 1);
    await expectErrorPage(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "authorize_redirect_uri_too_long");
    // The registered URI itself (2047 bytes) is fine.
    const ok = await new Browser().fetch(`/authorize?${new URLSearchParams({ ...params, redirect_uri: registered })}`);
    expect(ok.status).toBe(302);
    expect(new URL(ok.headers.get("location")!, ISSUER).pathname).toBe("/login");
  });
});

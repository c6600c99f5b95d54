import { afterEach, describe, expect, it, vi } from "vitest";
import { authorizationEndpointSteps, pushedAuthorizationSteps } from "../src/authorize/steps";
import { ISSUER, call, expectError } from "./helpers";
import { Browser, PASSWORD, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectErrorPage, expectTokenResponse, frozenClock, person, workerWithEnv } from "./oidc-helpers";
import { PAR_ENDPOINT, REQUEST_URI_PREFIX, push, pushed, redeemWith, secretClient } from "./par-jar-helpers";

/**
 * RFC 9126 (OAuth 2.0 Pushed Authorization Requests): POST /par with client authentication as at
 * the token endpoint, the authorization endpoint's checks answered as JSON, 201 {request_uri,
 * expires_in}; the authorization endpoint taking client_id + request_uri alone, bound to the
 * client, short-lived and single use; the requirement server-wide and per client; metadata.
 */

afterEach(() => vi.useRealTimers());

const authorizeWith = (browser: Browser, clientId: string, requestUri: string, extra: Record<string, string> = {}) =>
  browser.fetch(`/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri, ...extra })}`);

describe("RFC 9126 §2: the pushed authorization request", () => {
  it("§2.1: the par column of the step table runs the authorization endpoint's rules, in the same order", () => {
    const names = (steps: readonly { name: string }[]) => steps.map((s) => s.name);
    expect(names(pushedAuthorizationSteps)).toEqual(names(authorizationEndpointSteps));
  });

  it("§2.2: 201 {request_uri, expires_in}, request_uri a urn:ietf:params:oauth:request_uri: value, no-store", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id);
    const res = await push(client, params);
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["expires_in", "request_uri"]);
    expect(body.expires_in).toBe(60);
    expect(String(body.request_uri).startsWith(REQUEST_URI_PREFIX)).toBe(true);
    // Two pushes of the same request get different request_uris.
    const again = (await (await push(client, params)).json()) as Record<string, unknown>;
    expect(again.request_uri).not.toBe(body.request_uri);
  });

  it("§2: client authentication as at the token endpoint — a wrong secret or unknown client is invalid_client (401); a public client sends client_id", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id);
    await expectError(await push({ ...client, client_secret: "wrong" }, params), 401, "invalid_client");
    await expectError(await push({ client_id: "no-such-client" }, params), 401, "invalid_client");
    const publicClient = await secretClient({ token_endpoint_auth_method: "none" });
    const { params: publicParams } = await codeRequest(publicClient.client_id);
    expect((await push(publicClient, publicParams)).status).toBe(201);
  });

  it("§2.1: a request_uri inside the pushed request is invalid_request", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id, { request_uri: `${REQUEST_URI_PREFIX}abc` });
    await expectError(await push(client, params), 400, "invalid_request", "par_request_uri_in_body");
  });

  it("§2.3: the authorization endpoint's checks, as JSON errors (never redirects): redirect_uri, response_type, PKCE, scope", async () => {
    const client = await secretClient();
    const cases: [Record<string, string>, string, string][] = [
      [{ redirect_uri: "https://evil.example/cb" }, "invalid_request", "authorize_redirect_uri_mismatch"],
      [{ response_type: "token" }, "unsupported_response_type", "unsupported_response_type"],
      [{ code_challenge: "short" }, "invalid_request", "pkce_invalid_challenge"],
      [{ scope: "openid admin" }, "invalid_scope", "invalid_scope"],
      [{ prompt: "select_account" }, "invalid_request", "invalid_prompt"],
      // RFC 9449 §10.1: dpop_jkt in a pushed request is checked as at the authorization endpoint.
      [{ dpop_jkt: "not-a-thumbprint" }, "invalid_request", "dpop_jkt_malformed"],
    ];
    for (const [extra, error, code] of cases) {
      const { params } = await codeRequest(client.client_id, extra);
      const res = await push(client, params);
      expect(res.headers.get("location")).toBeNull();
      await expectError(res, 400, error, code);
    }
    const { params } = await codeRequest(client.client_id);
    delete params.redirect_uri;
    await expectError(await push(client, params), 400, "invalid_request", "authorize_missing_redirect_uri");
  });

  it("§2.3: another method is 405 with Allow: POST; a body over the bound is 413", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await call("/par", { method });
      await expectError(res, 405, "invalid_request", "method_not_allowed");
      expect(res.headers.get("allow")).toBe("POST");
    }
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id, { padding: "x".repeat(70 * 1024) });
    await expectError(await push(client, params), 413, "invalid_request", "par_request_too_large");
  });

  it("§2.3: a pushed request that would not fit in a request_uri is 413", async () => {
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id, { extra_one: "y".repeat(3000), extra_two: "z".repeat(3000) });
    await expectError(await push(client, params), 413, "invalid_request", "par_request_too_large");
  });
});

describe("RFC 9126 §4: the authorization request with request_uri", () => {
  it("client_id + request_uri alone completes the code flow; the pushed state, nonce and PKCE hold", async () => {
    const client = await secretClient();
    const { requestUri, params, verifier } = await pushed(client);
    const { params: back, pages } = await authorize(new Browser(), { client_id: client.client_id, request_uri: requestUri }, await person());
    expect(pages).toEqual(["login", "consent"]);
    expect(back.get("state")).toBe(params.state);
    expect(back.get("iss")).toBe(ISSUER);
    const tokens = await expectTokenResponse(await redeemWith(client, back.get("code")!, verifier));
    expect(tokens.id_token).toBeDefined();
    const claims = JSON.parse(atob(tokens.id_token!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
    expect(claims.nonce).toBe(params.nonce);
  });

  it("parameters sent beside request_uri are ignored: the pushed redirect_uri and state are used", async () => {
    const client = await secretClient({ redirect_uris: [REDIRECT_URI, "https://rp.example/other"] });
    const { requestUri, params } = await pushed(client);
    const { params: back, response } = await authorize(new Browser(), {
      client_id: client.client_id, request_uri: requestUri, redirect_uri: "https://rp.example/other", state: "outside", response_mode: "fragment",
    }, await person());
    expect(response.headers.get("location")!.startsWith(`${REDIRECT_URI}?`)).toBe(true);
    expect(back.get("state")).toBe(params.state);
  });

  it("a request_uri pushed by another client is invalid_request_uri (a page: nothing is redirected)", async () => {
    const [a, b] = await Promise.all([secretClient(), secretClient()]);
    const { requestUri } = await pushed(a);
    await expectErrorPage(await authorizeWith(new Browser(), b.client_id, requestUri), "pushed_request_uri_other_client");
  });

  it("an expired request_uri is invalid_request_uri; a tampered or unknown one too", async () => {
    const client = await secretClient();
    const { requestUri } = await pushed(client);
    const clock = frozenClock();
    clock.advance(61);
    await expectErrorPage(await authorizeWith(new Browser(), client.client_id, requestUri), "pushed_request_uri_invalid");
    clock.restore();
    const { requestUri: fresh } = await pushed(client);
    const tampered = fresh.slice(0, -2) + (fresh.endsWith("A") ? "BB" : "AA");
    await expectErrorPage(await authorizeWith(new Browser(), client.client_id, tampered), "pushed_request_uri_invalid");
    await expectErrorPage(await authorizeWith(new Browser(), client.client_id, `${REQUEST_URI_PREFIX}nothing`), "pushed_request_uri_invalid");
  });

  it("§7.3 / FAPI 2.0: the request_uri may be opened again until the authorization completes; then it is spent", async () => {
    const client = await secretClient();
    const { requestUri, verifier } = await pushed(client);
    const user = await person();
    // Opened and left at the sign-in page, then opened again (a reload, a second tab): both go on.
    const firstBrowser = new Browser();
    const first = await authorizeWith(firstBrowser, client.client_id, requestUri);
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toMatch(/^\/login\?txn=/);
    const browser = new Browser();
    const { params: back } = await authorize(browser, { client_id: client.client_id, request_uri: requestUri }, user);
    await expectTokenResponse(await redeemWith(client, back.get("code")!, verifier));
    // Its code issued, the request_uri is spent: a later use that reaches a code is refused, as a page.
    await expectErrorPage(await browser.follow(await authorizeWith(browser, client.client_id, requestUri)), "pushed_request_uri_used");
    // And the first opening, signed in now, ends on the same page instead of a second code.
    const signIn = await firstBrowser.follow(first);
    const finished = await firstBrowser.follow(await firstBrowser.submit(signIn, { email: user.email, password: PASSWORD }, "/login"));
    await expectErrorPage(finished, "pushed_request_uri_used");
  });

  it("§7.3 one code per request_uri, atomically: of 50 transactions completing at once exactly one gets a code", async () => {
    const client = await secretClient();
    const user = await person();
    const browser = new Browser();
    // The person signs in and consents to the client once (a plain request), so the next ones complete at once.
    const { params: plain } = await codeRequest(client.client_id);
    expect((await authorize(browser, plain, user)).params.get("code")).toBeTruthy();
    const { requestUri } = await pushed(client);
    const results = await Promise.all(Array.from({ length: 50 }, () => authorizeWith(browser, client.client_id, requestUri)));
    const codes = results.filter((r) => r.status === 302 && r.headers.get("location")!.startsWith(`${REDIRECT_URI}?`));
    expect(codes).toHaveLength(1);
    expect(clientRedirect(codes[0]!).get("code")).toBeTruthy();
    const refused = results.filter((r) => r !== codes[0]);
    expect(refused).toHaveLength(49);
    for (const r of refused) await expectErrorPage(r, "pushed_request_uri_used");
  });

  it("a request_uri and a request together are invalid_request", async () => {
    const client = await secretClient();
    const { requestUri } = await pushed(client);
    await expectErrorPage(await authorizeWith(new Browser(), client.client_id, requestUri, { request: "a.b.c" }), "request_and_request_uri");
  });
});

describe("RFC 9126 §5, §6: requiring pushed requests; metadata", () => {
  it("§6: a client registered with require_pushed_authorization_requests may not send a plain request (a page), and may push", async () => {
    const client = await secretClient({ require_pushed_authorization_requests: true });
    expect((client as Record<string, unknown>).require_pushed_authorization_requests).toBe(true);
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "pushed_request_required");
    const { requestUri } = await pushed(client);
    expect((await authorizeWith(new Browser(), client.client_id, requestUri)).status).toBe(302);
  });

  it("§5: REQUIRE_PUSHED_AUTHORIZATION_REQUESTS=true requires it of every client, and discovery says so", async () => {
    const send = workerWithEnv({ REQUIRE_PUSHED_AUTHORIZATION_REQUESTS: "true" });
    const client = await secretClient();
    const { params } = await codeRequest(client.client_id);
    await expectErrorPage(await new Browser(send).fetch(`/authorize?${new URLSearchParams(params)}`), "pushed_request_required");
    const metadata = (await (await send("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.require_pushed_authorization_requests).toBe(true);
  });

  it("§5: discovery advertises pushed_authorization_request_endpoint, and that PAR is not required by default", async () => {
    const metadata = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(metadata.pushed_authorization_request_endpoint).toBe(PAR_ENDPOINT);
    expect(metadata.require_pushed_authorization_requests).toBe(false);
  });

  it("§6: require_pushed_authorization_requests must be a boolean at registration", async () => {
    const res = await call(`/admin/clients/par-bad-${Date.now()}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${(await import("cloudflare:workers")).env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], grant_types: ["authorization_code"], require_pushed_authorization_requests: "yes" }),
    });
    const body = (await res.json()) as Record<string, string>;
    expect([res.status, body.error, body.error_code]).toEqual([400, "invalid_client_metadata", "require_pushed_authorization_requests_malformed"]);
  });

  it("a location redirect back to the client still carries iss when the pushed request errs after validation (prompt=none)", async () => {
    const client = await secretClient();
    const { requestUri, params } = await pushed(client, { prompt: "none" });
    const back = clientRedirect(await authorizeWith(new Browser(), client.client_id, requestUri));
    expect(back.get("error")).toBe("login_required");
    expect(back.get("state")).toBe(params.state);
    expect(back.get("iss")).toBe(ISSUER);
  });
});

import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ISSUER, call, nowSeconds } from "./helpers";
import {
  POST_LOGOUT_URI, deferredWorker, expectPostLogoutRedirect, logoutClient, logoutPath, promptNone, sessionEndedAt, signedIn,
} from "./logout-helpers";
import { Browser, oidcClient } from "./oidc-helpers";
import { expectRegistrationError, register, registered, serveRpDocuments, webClient } from "./rfc7591-helpers";

/**
 * OpenID Connect Back-Channel Logout 1.0: registration of `backchannel_logout_uri` (§2.2) through
 * the one metadata validator, remembering which clients signed in through a session (§2.3), the
 * logout token (§2.4) POSTed to each when the session ends (§2.5), failures that never block the
 * logout (§2.8), and the conformance suite's back-channel modules. Outbound POSTs are served by
 * serveRpDocuments (the Worker runs in the tests' isolate); deferredWorker lets a test wait for the
 * deliveries, which run after the response (waitUntil).
 */

afterEach(() => vi.restoreAllMocks());

describe("§2.2 backchannel_logout_uri and backchannel_logout_session_required (registration)", () => {
  const rules: [string, Record<string, unknown>, string, string][] = [
    ["an absolute URI, not a path", { backchannel_logout_uri: "/logout" }, "backchannel_logout_uri_malformed", "backchannel_logout_uri"],
    ["a string", { backchannel_logout_uri: ["https://rp.example/bcl"] }, "backchannel_logout_uri_malformed", "backchannel_logout_uri"],
    ["no fragment", { backchannel_logout_uri: "https://rp.example/bcl#x" }, "backchannel_logout_uri_malformed", "fragment"],
    ["https, not http", { backchannel_logout_uri: "http://rp.example/bcl" }, "backchannel_logout_uri_malformed", "https"],
    ["https, not loopback http unless insecure client URIs are allowed", { backchannel_logout_uri: "http://127.0.0.1:8080/bcl" }, "backchannel_logout_uri_malformed", "https"],
    ["https, not another scheme", { backchannel_logout_uri: "com.example.app:/bcl" }, "backchannel_logout_uri_malformed", "https"],
    ["session_required is a boolean", { backchannel_logout_uri: "https://rp.example/bcl", backchannel_logout_session_required: "yes" },
      "backchannel_logout_session_required_malformed", "backchannel_logout_session_required"],
  ];

  it.each(rules)("refused: %s (invalid_client_metadata)", async (_name, metadata, code, field) => {
    await expectRegistrationError(await register(webClient(metadata)), "invalid_client_metadata", code, field);
  });

  it("accepted with a query (kept as registered) and echoed with session_required; also by the operator API", async () => {
    const uri = "https://rp.example/bcl?tenant=a&x=1";
    const body = await registered(webClient({ backchannel_logout_uri: uri, backchannel_logout_session_required: true }));
    expect(body).toMatchObject({ backchannel_logout_uri: uri, backchannel_logout_session_required: true });
    const operator = await oidcClient({ backchannel_logout_uri: uri });
    expect(operator.backchannel_logout_uri).toBe(uri);
    expect(operator).not.toHaveProperty("backchannel_logout_session_required");
  });

  it("loopback http only with ALLOW_INSECURE_CLIENT_URIS=true (local development)", async () => {
    const uri = "http://127.0.0.1:8080/bcl";
    const body = await registered(webClient({ redirect_uris: ["http://127.0.0.1:8080/cb"], backchannel_logout_uri: uri }),
      { env: { REGISTRATION_POLICY: "open", ALLOW_INSECURE_CLIENT_URIS: "true" } });
    expect(body.backchannel_logout_uri).toBe(uri);
    await expectRegistrationError(
      await register(webClient({ backchannel_logout_uri: "http://rp.example/bcl" }), { env: { REGISTRATION_POLICY: "open", ALLOW_INSECURE_CLIENT_URIS: "true" } }),
      "invalid_client_metadata", "backchannel_logout_uri_malformed", "https");
  });

  it("the operator API applies the same rules", async () => {
    const res = await call("/admin/clients", {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["client_credentials"], backchannel_logout_uri: "https://rp.example/bcl#frag" }),
    });
    await expectRegistrationError(res, "invalid_client_metadata", "backchannel_logout_uri_malformed", "fragment");
  });
});

// ── delivery ─────────────────────────────────────────────────────────────────────────────────

const BCL_URI = "https://rp.example/bcl?tenant=a";

interface Received {
  request: Request;
  body: string;
}

/** Serves the back-channel logout URIs (the one outbound-fetch mechanism, serveRpDocuments); `answer` decides the reply. */
function backChannel(answer: (request: Request) => Response | Promise<Response> = () => new Response(null, { status: 200 }), uris = [BCL_URI]) {
  const received: Received[] = [];
  const fetched = serveRpDocuments(
    Object.fromEntries(uris.map((uri) => [uri, async (request: Request) => {
      received.push({ request, body: await request.clone().text() });
      return answer(request);
    }])),
  );
  return { received, fetched };
}

/** A signed-in person in a browser driving a Worker whose waitUntil work the test can wait for. */
async function signedInDeferred(clientMetadata: Record<string, unknown> = {}) {
  const worker = deferredWorker();
  const client = await logoutClient({ backchannel_logout_uri: BCL_URI, ...clientMetadata });
  const session = await signedIn({ client, browser: new Browser(worker.send) });
  return { ...session, worker };
}

/** Verifies a logout token against our JWKS the way an RP does (§2.6) and returns its header and claims. */
async function verifyLogoutToken(token: string, clientId: string, alg = "RS256") {
  const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
  const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: ISSUER, audience: clientId, algorithms: [alg], typ: "logout+jwt", requiredClaims: ["iat", "exp", "jti"],
  });
  return { payload, protectedHeader };
}

function expectOneLogoutPost(received: Received[]): string {
  expect(received).toHaveLength(1);
  const [{ request, body }] = received as [Received];
  expect(request.method).toBe("POST");
  expect(request.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
  expect(request.redirect).toBe("manual");
  const form = new URLSearchParams(body);
  expect([...form.keys()]).toEqual(["logout_token"]);
  return form.get("logout_token")!;
}

describe("§2.1 discovery (oidcc-backchannel-logout-discovery-endpoint-verification)", () => {
  it("backchannel_logout_supported and backchannel_logout_session_supported are true; end_session_endpoint is https", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ backchannel_logout_supported: true, backchannel_logout_session_supported: true });
    expect(String(metadata.end_session_endpoint)).toMatch(/^https:\/\//);
  });
});

describe("§2.3 remembering the clients that signed in through a session", () => {
  const rows = (sid: unknown) =>
    env.DB.prepare("SELECT client_id, expires_at FROM session_clients WHERE sid = ? ORDER BY client_id").bind(sid).all<{ client_id: string; expires_at: number }>();

  it("a code exchange with openid remembers a client with a backchannel_logout_uri, once, until the session's expiry", async () => {
    const { browser, client, user, claims } = await signedInDeferred();
    await signedIn({ client, user, browser }); // a second sign-in to the same client in the same session
    const session = await env.DB.prepare("SELECT expires_at FROM sessions WHERE sid = ?").bind(claims.sid).first<{ expires_at: number }>();
    expect((await rows(claims.sid)).results).toEqual([{ client_id: client.client_id, expires_at: session!.expires_at }]);
  });

  it("clients without one are not remembered (their code exchange writes nothing more)", async () => {
    const { claims } = await signedIn();
    expect((await rows(claims.sid)).results).toEqual([]);
  });
});

describe("§2.4–2.5 logout tokens, POSTed to each client of the ended session", () => {
  it("RP-initiated logout → one POST of a logout_token: typ logout+jwt, signed like the client's ID tokens, iss, aud, iat, short exp, jti, events, sub, sid, no nonce", async () => {
    const { received } = backChannel();
    const { browser, client, idToken, claims, worker } = await signedInDeferred();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: "b" }));
    expectPostLogoutRedirect(res, "b");
    await worker.settled();
    const token = expectOneLogoutPost(received);
    expect(received[0]!.request.url).toBe(BCL_URI);
    const { payload, protectedHeader } = await verifyLogoutToken(token, client.client_id);
    expect(protectedHeader.kid).toBe(decodeProtectedHeader(idToken).kid);
    expect(payload.aud).toBe(client.client_id);
    expect(payload.events).toEqual({ "http://schemas.openid.net/event/backchannel-logout": {} });
    expect({ sub: payload.sub, sid: payload.sid }).toEqual({ sub: claims.sub, sid: claims.sid });
    expect(payload).not.toHaveProperty("nonce");
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(120);
    expect(Math.abs(payload.iat! - nowSeconds())).toBeLessThan(30);
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it("signed with the client's id_token_signed_response_alg (ES256 here) as it is when the session ends", async () => {
    const { received } = backChannel();
    const { browser, client, idToken, worker } = await signedInDeferred();
    const patched = await call(`/admin/clients/${client.client_id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ id_token_signed_response_alg: "ES256" }),
    });
    expect(patched.status).toBe(200);
    await browser.fetch(logoutPath({ id_token_hint: idToken }));
    await worker.settled();
    const { protectedHeader } = await verifyLogoutToken(expectOneLogoutPost(received), client.client_id, "ES256");
    expect(protectedHeader.alg).toBe("ES256");
  });

  it("every client of the session that registered a URI, and only those; each once", async () => {
    const other = "https://rp.example/bcl-other";
    const { received, fetched } = backChannel(undefined, [BCL_URI, other]);
    const { browser, client, user, idToken, worker } = await signedInDeferred();
    const second = await logoutClient({ backchannel_logout_uri: other });
    const silent = await logoutClient();
    await signedIn({ client: second, user, browser });
    await signedIn({ client: silent, user, browser });
    // Another session of the same client: not this logout's business.
    await signedIn({ client, user, browser: new Browser(worker.send) });
    await browser.fetch(logoutPath({ id_token_hint: idToken }));
    await worker.settled();
    expect(fetched.sort()).toEqual([BCL_URI, other].sort());
    const audiences = await Promise.all(received.map(async (r) => {
      const token = new URLSearchParams(r.body).get("logout_token")!;
      return (await verifyLogoutToken(token, r.request.url === other ? second.client_id : client.client_id)).payload.aud;
    }));
    expect(audiences.sort()).toEqual([client.client_id, second.client_id].sort());
    // The rows are taken: ending the session again notifies no one.
    await browser.fetch(logoutPath({ id_token_hint: idToken }));
    await worker.settled();
    expect(received).toHaveLength(2);
  });

  it("a confirmed sign-out (no hint) notifies too", async () => {
    const { received } = backChannel();
    const { browser, claims, worker } = await signedInDeferred();
    const question = await browser.fetch(logoutPath());
    await browser.submit(await question.text(), { decision: "sign_out" }, "/logout/confirm");
    await worker.settled();
    expect(new URLSearchParams(received[0]!.body).has("logout_token")).toBe(true);
    expect(decodeJwt(expectOneLogoutPost(received)).sid).toBe(claims.sid);
  });

  it("the operator disabling the person ends their sessions and notifies their clients", async () => {
    const { received } = backChannel();
    const { user, claims, worker } = await signedInDeferred();
    const res = await worker.send(`/admin/users/${user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ disabled: true }),
    });
    expect(res.status).toBe(200);
    await worker.settled();
    expect(await sessionEndedAt(claims.sid)).not.toBeNull();
    expect(decodeJwt(expectOneLogoutPost(received))).toMatchObject({ sub: user.id, sid: claims.sid });
  });
});

describe("§2.8 a failing client never blocks or fails the logout", () => {
  it.each([
    ["answers 500", () => new Response("oops", { status: 500 })],
    ["answers with a redirect (not followed)", () => new Response(null, { status: 302, headers: { location: "https://rp.example/elsewhere" } })],
    ["is unreachable", () => { throw new TypeError("network connection lost"); }],
  ])("the client's endpoint %s → the logout completes; the failure is logged", async (_name, answer) => {
    const { fetched } = backChannel(answer);
    const warn = vi.spyOn(console, "warn");
    const { browser, client, idToken, worker } = await signedInDeferred();
    expectPostLogoutRedirect(await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI })));
    await worker.settled();
    expect(fetched).toEqual([BCL_URI]);
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
    const line = warn.mock.calls.map(([text]) => JSON.parse(String(text))).find((l) => l.event === "backchannel_logout");
    expect(line).toMatchObject({ level: "warn", client_id: client.client_id, delivered: false });
  });

  it("a hanging endpoint: the logout answers at once; the POST is abandoned after the timeout", { timeout: 20_000 }, async () => {
    let aborted: unknown;
    backChannel((request) => new Promise((_, reject) => {
      request.signal.addEventListener("abort", () => {
        aborted = request.signal.reason;
        reject(request.signal.reason);
      });
    }));
    const { browser, client, idToken, worker } = await signedInDeferred();
    const started = Date.now();
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI }));
    expect(Date.now() - started).toBeLessThan(2000);
    expectPostLogoutRedirect(res);
    expect(aborted).toBeUndefined();
    await worker.settled();
    expect(String(aborted)).toMatch(/timeout|abort/i);
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });
});

describe("oidcc-backchannel-rp-initiated-logout", () => {
  it("dynamic registration with backchannel_logout_uri (session required), code flow, logout with hint → logout token and redirect with only state; then prompt=none → login_required", async () => {
    const { received } = backChannel();
    const worker = deferredWorker();
    const client = await registered(webClient({
      post_logout_redirect_uris: [POST_LOGOUT_URI], backchannel_logout_uri: BCL_URI, backchannel_logout_session_required: true,
    }));
    const { browser, idToken, claims } = await signedIn({ client, browser: new Browser(worker.send) });
    const state = "x".repeat(128);
    const res = await browser.fetch(logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state }));
    expectPostLogoutRedirect(res, state);
    expect([...new URL(res.headers.get("location")!).searchParams.keys()]).toEqual(["state"]);
    await worker.settled();
    const { payload } = await verifyLogoutToken(expectOneLogoutPost(received), client.client_id);
    expect(payload).toMatchObject({ sub: claims.sub, sid: claims.sid });
    expect(payload).not.toHaveProperty("nonce");
    expect(await promptNone(browser, client.client_id)).toBe("login_required");
  });
});

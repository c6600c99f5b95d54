import { env } from "cloudflare:workers";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MAX_ATTEMPTS, attempt, callbackFor, cibaDelivery, mayPoll, nextAttempt, pushMinter, type DeliveryDeps, type PendingCallback,
} from "../src/ciba/delivery";
import { CIBA_GRANT, type CibaApproval, type CibaOutcome, type CibaRequestState } from "../src/ciba/model";
import type { Client } from "../src/clients/model";
import { d1ClientStore } from "../src/clients/store";
import { configFrom } from "../src/config";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";
import { atHash } from "../src/tokens/id-token";
import { ISSUER, call, createClient, nowSeconds, uniqueId } from "./helpers";
import { FORBIDDEN_HOSTS } from "./outbound-helpers";
import { serveRpDocuments } from "./rfc7591-helpers";

/**
 * OpenID CIBA Core 1.0 ping (§10.2) and push (§10.3, §12) delivery (src/ciba/delivery.ts), the
 * CibaDelivery port the request's object calls once a request is decided: the callback's request
 * (Bearer client_notification_token, JSON body), the push ID token's claims (auth_req_id, at_hash,
 * rt_hash per OIDC Core §3.1.3.6), errors pushed, 401/403 not retried, 5xx and timeouts retried on a
 * bounded schedule, redirects not followed, private endpoints never called, and push clients not
 * polling. The notification endpoint is served by serveRpDocuments (the Worker runs in the tests' isolate).
 */

afterEach(() => vi.restoreAllMocks());

const ENDPOINT = "https://rp.example/ciba/notify";
const config = configFrom(env);
const clients = d1ClientStore(env.DB);

async function cibaClient(mode: "poll" | "ping" | "push"): Promise<Client> {
  const { client_id } = await createClient({
    grant_types: [CIBA_GRANT], scope: "openid offline_access",
    backchannel_token_delivery_mode: mode,
    ...(mode !== "poll" && { backchannel_client_notification_endpoint: ENDPOINT }),
  });
  return (await clients.get(client_id))!;
}

function request(client: Client, overrides: Partial<CibaRequestState> = {}): CibaRequestState & { authReqId: string } {
  const now = nowSeconds();
  return {
    id: uniqueId("req"), authReqId: uniqueId("auth-req-id"), clientId: client.clientId, sub: uniqueId("user"),
    scope: ["openid", "offline_access"], clientNotificationToken: "8d67dc78-7faa-4d41-aabd-67707b374255",
    deliveryMode: (client.metadata.backchannel_token_delivery_mode as CibaRequestState["deliveryMode"]) ?? "poll",
    state: "approved", createdAt: now, expiresAt: now + 120, interval: 5, ...overrides,
  } as CibaRequestState & { authReqId: string };
}

const approval = (sub: string): CibaApproval => ({ sub, authTime: nowSeconds() - 10, sid: uniqueId("sid"), amr: ["pwd"], grantId: uniqueId("grant") });
const approved = (r: CibaRequestState): CibaOutcome => ({ outcome: "approved", approval: approval(r.sub) });

async function deps(overrides: Partial<DeliveryDeps> = {}) {
  const now = nowSeconds();
  const keys = await keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, now);
  const retries: { pending: PendingCallback; at: number }[] = [];
  const d: DeliveryDeps = {
    client: (id) => clients.get(id),
    mintPush: pushMinter({ config, keys, now, services: { db: env.DB } }),
    allowInsecure: false,
    now: () => now,
    retryLater: async (pending, at) => void retries.push({ pending, at }),
    ...overrides,
  };
  return { deps: d, retries, now };
}

interface Received {
  request: Request;
  body: string;
}

/** Serves the notification endpoint; `answer` decides the reply (204 by default, as §10.2 says the client answers). */
function endpoint(answer: (request: Request) => Response | Promise<Response> = () => new Response(null, { status: 204 })) {
  const received: Received[] = [];
  serveRpDocuments({ [ENDPOINT]: async (req) => (received.push({ request: req, body: await req.clone().text() }), answer(req)) });
  return received;
}

function expectCallback(received: Received[], bearer: string): Record<string, unknown> {
  expect(received).toHaveLength(1);
  const [{ request: req, body }] = received as [Received];
  expect(req.method).toBe("POST");
  expect(req.headers.get("authorization")).toBe(`Bearer ${bearer}`);
  expect(req.headers.get("content-type")).toBe("application/json");
  expect(req.redirect).toBe("manual");
  return JSON.parse(body) as Record<string, unknown>;
}

const logLines = () => {
  const lines: Record<string, unknown>[] = [];
  const capture = (line: unknown) => void lines.push(JSON.parse(String(line)) as Record<string, unknown>);
  vi.spyOn(console, "log").mockImplementation(capture);
  vi.spyOn(console, "warn").mockImplementation(capture);
  vi.spyOn(console, "error").mockImplementation(capture);
  return () => lines.filter((l) => l.event === "ciba_callback");
};

describe("CIBA §10.2 ping callback", () => {
  it("POSTs only {auth_req_id} with the client_notification_token as Bearer, once, and logs it", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    const received = endpoint();
    const logs = logLines();
    await cibaDelivery((await deps()).deps).notify(r, approved(r));
    expect(expectCallback(received, r.clientNotificationToken!)).toEqual({ auth_req_id: r.authReqId });
    expect(logs()).toEqual([expect.objectContaining({ level: "info", client_id: client.clientId, mode: "ping", kind: "ping", attempt: 1, delivered: true, status: 204 })]);
    // The auth_req_id (a poll credential) is never logged.
    expect(JSON.stringify(logs())).not.toContain(r.authReqId);
  });

  it("a denial is pinged too (the poll then answers access_denied); an expiry is not", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    const received = endpoint();
    const { deps: d } = await deps();
    await cibaDelivery(d).notify(r, { outcome: "denied" });
    expect(expectCallback(received, r.clientNotificationToken!)).toEqual({ auth_req_id: r.authReqId });
    expect(await callbackFor(r, { outcome: "expired" }, d)).toBeNull();
  });

  it("a poll client gets no callback", async () => {
    const client = await cibaClient("poll");
    const r = request(client);
    const received = endpoint();
    await cibaDelivery((await deps()).deps).notify(r, approved(r));
    expect(received).toHaveLength(0);
  });

  it.each([401, 403])("after %i the callback is not retried (the client refused the token)", async (status) => {
    const client = await cibaClient("ping");
    const r = request(client);
    const received = endpoint(() => new Response("no", { status }));
    const { deps: d, retries } = await deps();
    await cibaDelivery(d).notify(r, approved(r));
    expect(received).toHaveLength(1);
    expect(retries).toHaveLength(0);
  });

  it("a redirect is not followed (§10.2: the OP MUST NOT follow redirects) and not retried", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    const received = endpoint(() => new Response(null, { status: 302, headers: { location: "https://rp.example/elsewhere" } }));
    const { deps: d, retries } = await deps();
    await cibaDelivery(d).notify(r, approved(r));
    // One POST to the endpoint, none to the Location.
    expect(received.map((x) => x.request.url)).toEqual([ENDPOINT]);
    expect(retries).toHaveLength(0);
  });

  it("a notification endpoint at a private or special-use host is never called (checked again at delivery)", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    const spy = vi.spyOn(globalThis, "fetch");
    const { deps: d } = await deps();
    for (const uri of FORBIDDEN_HOSTS) {
      // A registration stored before the rule, or edited in the database: the policy refuses it anyway.
      const pending: PendingCallback = { ...(await callbackFor(r, approved(r), d))!, uri };
      expect(await attempt(pending, d)).toMatchObject({ result: "given_up" });
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it("a failed callback never throws into the object (the poll keeps working)", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    serveRpDocuments({ [ENDPOINT]: () => { throw new TypeError("connection reset"); } });
    const { deps: d } = await deps({ client: () => Promise.reject(new Error("D1 down")) });
    await expect(cibaDelivery(d).notify(r, approved(r))).resolves.toBeUndefined();
  });
});

describe("CIBA §10.2/§10.3 retries: 5xx and timeouts, on a bounded schedule the object's alarm runs", () => {
  it("nextAttempt: 10 s, 30 s, 90 s, 270 s after attempts 1–4, then no more", () => {
    expect([1, 2, 3, 4].map((n) => nextAttempt(n, 1000))).toEqual([1010, 1030, 1090, 1270]);
    expect(nextAttempt(MAX_ATTEMPTS, 1000)).toBeNull();
    expect(nextAttempt(0, 1000)).toBeNull();
  });

  it("a 503 is retried with the same body until the attempts run out; every attempt is logged", async () => {
    const client = await cibaClient("push");
    const r = request(client);
    const received = endpoint(() => new Response("busy", { status: 503 }));
    const logs = logLines();
    const { deps: d, retries, now } = await deps();
    await cibaDelivery(d).notify(r, { outcome: "denied" });
    expect(retries).toEqual([{ at: now + 10, pending: expect.objectContaining({ attempts: 1 }) }]);
    // The object's alarm makes the later attempts with what it kept.
    let result = await attempt(retries[0]!.pending, d);
    while (result.result === "retry") result = await attempt(result.pending, d);
    expect(result).toMatchObject({ result: "given_up", status: 503 });
    expect(received).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(received.map((x) => x.body)).size).toBe(1);
    expect(logs().map((l) => [l.attempt, l.delivered, l.status])).toEqual([1, 2, 3, 4, 5].map((n) => [n, false, 503]));
  });

  it("a retry that gets through is delivered", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    let calls = 0;
    const received = endpoint(() => new Response(null, { status: ++calls === 1 ? 500 : 204 }));
    const { deps: d, retries } = await deps();
    await cibaDelivery(d).notify(r, approved(r));
    expect(await attempt(retries[0]!.pending, d)).toEqual({ result: "delivered", status: 204 });
    expect(received).toHaveLength(2);
  });

  it("an endpoint that cannot be reached (the connection fails) is retried", async () => {
    const client = await cibaClient("ping");
    const r = request(client);
    serveRpDocuments({ [ENDPOINT]: () => Promise.reject(new TypeError("connection refused")) });
    const { deps: d, now } = await deps();
    const pending = (await callbackFor(r, approved(r), d))!;
    expect(await attempt(pending, d)).toMatchObject({ result: "retry", at: now + 10 });
  });
});

describe("CIBA §10.3 push: the token response with auth_req_id", () => {
  async function verifiedIdToken(token: string, clientId: string) {
    const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
    return (await jwtVerify(token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: clientId })).payload;
  }

  it("POSTs access, refresh and ID token with auth_req_id; the ID token carries auth_req_id, at_hash and rt_hash (OIDC Core §3.1.3.6)", async () => {
    const client = await cibaClient("push");
    const r = request(client);
    const received = endpoint();
    await cibaDelivery((await deps()).deps).notify(r, approved(r));
    const body = expectCallback(received, r.clientNotificationToken!);
    expect(Object.keys(body).sort()).toEqual(["access_token", "auth_req_id", "expires_in", "id_token", "refresh_token", "scope", "token_type"]);
    expect(body).toMatchObject({ auth_req_id: r.authReqId, token_type: "Bearer", scope: "openid offline_access" });
    const claims = await verifiedIdToken(String(body.id_token), client.clientId);
    expect(claims.sub).toBe(r.sub);
    expect(claims["urn:openid:params:jwt:claim:auth_req_id"]).toBe(r.authReqId);
    expect(claims.at_hash).toBe(await atHash(String(body.access_token), "RS256"));
    expect(claims["urn:openid:params:jwt:claim:rt_hash"]).toBe(await atHash(String(body.refresh_token), "RS256"));
    // The refresh token is a real one: it refreshes.
    const stored = await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ?").bind(client.clientId).first<{ n: number }>();
    expect(stored?.n).toBe(1);
  });

  it("without offline_access: no refresh token and no rt_hash", async () => {
    const client = await cibaClient("push");
    const r = request(client, { scope: ["openid"] });
    const received = endpoint();
    await cibaDelivery((await deps()).deps).notify(r, approved(r));
    const body = expectCallback(received, r.clientNotificationToken!);
    expect(body).not.toHaveProperty("refresh_token");
    const claims = await verifiedIdToken(String(body.id_token), client.clientId);
    expect(claims["urn:openid:params:jwt:claim:auth_req_id"]).toBe(r.authReqId);
    expect(claims).not.toHaveProperty(["urn:openid:params:jwt:claim:rt_hash"]);
  });

  it.each([
    ["denied", "access_denied"],
    ["expired", "expired_token"],
  ] as const)("§12: %s is pushed as error %s with the auth_req_id", async (outcome, error) => {
    const client = await cibaClient("push");
    const r = request(client);
    const received = endpoint();
    await cibaDelivery((await deps()).deps).notify(r, { outcome });
    const body = expectCallback(received, r.clientNotificationToken!);
    expect(body).toEqual({ error, error_description: expect.any(String), auth_req_id: r.authReqId });
  });

  it("push clients may not poll; ping and poll clients may", async () => {
    expect(mayPoll(await cibaClient("push"))).toBe(false);
    expect(mayPoll(await cibaClient("ping"))).toBe(true);
    expect(mayPoll(await cibaClient("poll"))).toBe(true);
  });
});

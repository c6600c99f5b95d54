import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { clearClientCache } from "../src/clients/store";
import { configFrom } from "../src/config";
import { createClient, uniqueId } from "./helpers";
import { frozenClock, workerWithEnv } from "./oidc-helpers";

/**
 * RFC 9700 §2.6: the token endpoint answers browser clients with CORS, for registered origins only.
 * Preflights and cross-origin error answers read the allowed origins through the same isolate cache
 * as the rest of the hot path (src/clients/store.ts): a registered origin costs no D1 read while
 * cached, an origin dropped in another isolate stops working once the cache's TTL has passed, and
 * one dropped through this isolate stops at once.
 */

/** The Worker over a D1 binding that counts the reads of the allowed-origins table. */
function countingWorker() {
  const counter = { originReads: 0 };
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          if (/\bclient_origins\b/.test(sql) && /^\s*SELECT/i.test(sql)) counter.originReads++;
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { send: workerWithEnv({ DB: db }), counter };
}

const preflight = (send: ReturnType<typeof workerWithEnv>, origin: string) =>
  send("/token", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });
const crossOriginError = (send: ReturnType<typeof workerWithEnv>, origin: string) =>
  send("/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: "grant_type=client_credentials&client_id=nobody" });

async function spaClient() {
  const origin = `https://${uniqueId("spa")}.example`;
  const client = await createClient({ grant_types: ["authorization_code"], redirect_uris: ["https://rp.example/callback"], allowed_cors_origins: [origin] });
  return { client, origin };
}

const clock = frozenClock;
let restore: (() => void) | undefined;
afterEach(() => {
  restore?.();
  restore = undefined;
  clearClientCache();
});

describe("RFC 9700 §2.6 token-endpoint CORS through the isolate client cache", () => {
  it("preflight for a registered origin: 204, the origin, POST, the headers the endpoint reads (DPoP's among them, RFC 9449 §4.1); nothing for others", async () => {
    const { send } = countingWorker();
    const { origin } = await spaClient();
    const ok = await preflight(send, origin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(origin);
    expect(ok.headers.get("access-control-allow-methods")).toBe("POST");
    expect(ok.headers.get("access-control-allow-headers")).toBe("authorization, content-type, dpop");
    expect(ok.headers.get("vary")).toBe("Origin");
    const no = await preflight(send, "https://unregistered.example");
    expect(no.status).toBe(204);
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
    expect(no.headers.get("access-control-allow-headers")).toBeNull();
  });

  it("a registered origin is read from D1 once, then served from the cache for preflights and cross-origin errors", async () => {
    const { send, counter } = countingWorker();
    const { origin } = await spaClient();
    clearClientCache();
    expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBe(origin);
    expect(counter.originReads).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBe(origin);
      const error = await crossOriginError(send, origin);
      expect(error.status).toBe(401);
      expect(error.headers.get("access-control-allow-origin")).toBe(origin);
    }
    expect(counter.originReads).toBe(1);
    // Unknown origins are not cached: a newly registered origin works at once.
    await preflight(send, "https://not-yet.example");
    await preflight(send, "https://not-yet.example");
    expect(counter.originReads).toBe(3);
  });

  it("an origin dropped elsewhere (another isolate) is still allowed within the TTL, and refused once it has passed", async () => {
    const { send } = countingWorker();
    const { origin } = await spaClient();
    const time = clock();
    restore = time.restore;
    expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBe(origin);
    // Another isolate's change: D1 changes, this isolate's cache is not told.
    await env.DB.prepare("DELETE FROM client_origins WHERE origin = ?").bind(origin).run();
    time.advance(configFrom(env).clientCacheTtl - 1);
    expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBe(origin);
    time.advance(1);
    expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBeNull();
    expect((await crossOriginError(send, origin)).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("an origin dropped through this isolate (allowed_cors_origins changed by the operator) is refused at once", async () => {
    const { send } = countingWorker();
    const { client, origin } = await spaClient();
    expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBe(origin);
    const res = await send(`/admin/clients/${client.client_id}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["authorization_code"], redirect_uris: ["https://rp.example/callback"], allowed_cors_origins: [] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await preflight(send, origin)).headers.get("access-control-allow-origin")).toBeNull();
  });
});

import { env } from "cloudflare:workers";
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { DPOP_SIGNING_ALGS } from "../src/dpop/proof";
import { invalidateKeyring } from "../src/keys/keyring";
import { Hono } from "hono";
import { protect, protectedResource, type VerifiedToken } from "../src/resource-server";
import { ISSUER, expectError, nowSeconds } from "./helpers";
import { RESOURCE, accessClaims, bearer, kit, latchkey, mintToken, resourceRequest, type FetchLog } from "./resource-server-helpers";

/**
 * RFC 9728 through the resource-server kit (src/resource-server/): the metadata document at the
 * path-aware well-known URL (§3.1, §3.3) and the `resource_metadata` pointer (§5.1); and how the
 * kit knows the issuer's keys without asking Latchkey per request — its metadata (RFC 8414) and
 * JWKS fetched once and cached for their Cache-Control max-age within bounds, a new `kid` after a
 * key rotation in Latchkey picked up, an unknown kid refetching at most once per interval, the
 * issuer's documents trusted only from the issuer's origin. Time is injected, never slept.
 */
const WELL_KNOWN = "https://mcp.example/.well-known/oauth-protected-resource/mcp";

const get = (url: string, method = "GET") => new Request(url, { method });

describe("RFC 9728 §3: the protected resource's metadata", () => {
  it("§3.1: served at /.well-known/oauth-protected-resource + the resource's path; §2 members; §3.3 resource exactly as configured", async () => {
    const rs = kit({ scopesSupported: ["read", "offline_access"], resourceName: "Example MCP server" });
    expect(rs.metadataPath).toBe("/.well-known/oauth-protected-resource/mcp");
    expect(rs.metadataUrl).toBe(WELL_KNOWN);
    const res = rs.metadata(get(WELL_KNOWN))!;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await res.json()).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ["read", "offline_access"],
      bearer_methods_supported: ["header"],
      dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
      dpop_bound_access_tokens_required: false,
      resource_name: "Example MCP server",
    });
  });

  it("other paths (the root well-known URL, the resource itself) are not the kit's: undefined; HEAD has no body; POST → 405", async () => {
    const rs = kit();
    expect(rs.metadata(get("https://mcp.example/.well-known/oauth-protected-resource"))).toBeUndefined();
    expect(rs.metadata(get(RESOURCE))).toBeUndefined();
    const head = rs.metadata(get(WELL_KNOWN, "HEAD"))!;
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(rs.metadata(get(WELL_KNOWN, "POST"))!.status).toBe(405);
    expect(rs.metadata(get(WELL_KNOWN, "OPTIONS"))!.status).toBe(204);
  });

  it("a resource at an origin's root has the bare well-known path; a trailing slash is dropped", () => {
    expect(kit({ resource: "https://api.example/" }).metadataPath).toBe("/.well-known/oauth-protected-resource");
    expect(kit({ resource: "https://api.example/v1/mcp/" }).metadataPath).toBe("/.well-known/oauth-protected-resource/v1/mcp");
    expect(kit({ resource: "https://api.example/v1/mcp/" }).metadataDocument.resource).toBe("https://api.example/v1/mcp/");
  });

  it("refuses at start a resource with a query or fragment, and an issuer that is http off loopback", () => {
    expect(() => kit({ resource: "https://api.example/mcp?x=1" })).toThrow(/query or fragment/);
    expect(() => kit({ resource: "https://api.example/mcp#x" })).toThrow(/query or fragment/);
    expect(() => kit({ issuer: "http://id.example" })).toThrow(/https/);
    expect(() => kit({ issuer: "http://127.0.0.1:8787" })).not.toThrow();
  });

  it("§5.1: every 401 names the metadata URL in resource_metadata", async () => {
    const auth = await kit().authenticate(resourceRequest());
    expect(!auth.ok && auth.response.headers.get("www-authenticate")).toContain(`resource_metadata="${WELL_KNOWN}"`);
  });
});

describe("RFC 8414 / RFC 7517: the issuer's keys, cached", () => {
  it("discovery and the JWKS are fetched once for many requests (concurrent ones share the fetch)", async () => {
    const log: FetchLog = [];
    const rs = kit({}, log);
    const token = await mintToken();
    const results = await Promise.all(Array.from({ length: 10 }, () => rs.authenticate(bearer(token))));
    expect(results.every((r) => r.ok)).toBe(true);
    expect((await rs.authenticate(bearer(token))).ok).toBe(true);
    expect(log).toEqual(["/.well-known/oauth-authorization-server", "/jwks"]);
  });

  it("the cache lives for the JWKS's max-age (Latchkey: 300 s), within the kit's bounds", async () => {
    const token = await mintToken();
    let now = nowSeconds();
    const log: FetchLog = [];
    const rs = kit({ now: () => now, clockSkew: 1000 }, log);
    await rs.authenticate(bearer(token));
    now += 299;
    await rs.authenticate(bearer(token));
    expect(log.filter((p) => p === "/jwks")).toHaveLength(1);
    now += 1;
    expect((await rs.authenticate(bearer(token))).ok).toBe(true);
    expect(log.filter((p) => p === "/jwks")).toHaveLength(2);

    const bounded: FetchLog = [];
    now = nowSeconds();
    const longer = kit({ now: () => now, clockSkew: 1000, cacheTtl: { min: 900, max: 3600 } }, bounded);
    await longer.authenticate(bearer(token));
    now += 600;
    await longer.authenticate(bearer(token));
    expect(bounded.filter((p) => p === "/jwks")).toHaveLength(1);
  });

  it("an unknown kid refetches the JWKS at most once per refetchInterval (60 s, counted from the last fetch), however many such tokens come", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const forged = (kid: string) => new SignJWT(accessClaims()).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid }).sign(privateKey);
    let now = nowSeconds();
    const log: FetchLog = [];
    const rs = kit({ now: () => now }, log);
    expect((await rs.authenticate(bearer(await mintToken()))).ok).toBe(true);
    const jwksFetches = () => log.filter((p) => p === "/jwks").length;
    const refuse = async (kid: string) => {
      const auth = await rs.authenticate(bearer(await forged(kid)));
      await expectError((auth as { response: Response }).response, 401, "invalid_token");
    };
    await refuse("unknown-0");
    expect(jwksFetches()).toBe(1); // fetched a moment ago: not again
    now += 60;
    for (let i = 1; i <= 5; i++) await refuse(`unknown-${i}`);
    expect(jwksFetches()).toBe(2);
    now += 59;
    await refuse("unknown-6");
    expect(jwksFetches()).toBe(2);
    now += 1;
    await refuse("unknown-7");
    expect(jwksFetches()).toBe(3);
  });

  it("a key rotation in Latchkey: a token signed by the new current key is accepted by a kit that cached the old JWKS", async () => {
    let now = nowSeconds();
    const log: FetchLog = [];
    const rs = kit({ now: () => now }, log);
    const before = await mintToken();
    expect((await rs.authenticate(bearer(before))).ok).toBe(true);

    const rotated = await latchkey(new Request(`${ISSUER}/admin/keys/rotate`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ force: true }),
    }));
    expect(rotated.status, await rotated.clone().text()).toBe(200);
    invalidateKeyring(); // this isolate's keyring reloads now instead of within a minute
    const after = await mintToken();
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    expect((await rs.authenticate(bearer(after))).ok).toBe(false); // the JWKS was fetched a moment ago
    now += 60; // a minute later the unknown kid refetches it

    expect((await rs.authenticate(bearer(after))).ok).toBe(true);
    expect((await rs.authenticate(bearer(before))).ok).toBe(true); // the retired key stays published until its tokens expire
    expect(log).toEqual(["/.well-known/oauth-authorization-server", "/jwks", "/jwks"]);
  });
});

describe("the kit's fetch rule: the issuer's origin only, and failures are 503s", () => {
  const discovery = (doc: Record<string, unknown>) => async () =>
    new Response(JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, ...doc }), { headers: { "content-type": "application/json" } });

  it("a jwks_uri on another origin is not fetched → 503 temporarily_unavailable", async () => {
    const fetched: string[] = [];
    const rs = protectedResource({
      issuer: ISSUER, resource: RESOURCE,
      fetch: async (input, init) => (fetched.push(String(input)), discovery({ jwks_uri: "https://evil.example/jwks" })()),
    });
    const auth = await rs.authenticate(bearer(await mintToken()));
    await expectError((auth as { response: Response }).response, 503, "temporarily_unavailable");
    expect(fetched).toEqual([`${ISSUER}/.well-known/oauth-authorization-server`]);
  });

  it("metadata whose issuer is not the configured one (RFC 8414 §3.3) → 503", async () => {
    const rs = protectedResource({ issuer: ISSUER, resource: RESOURCE, fetch: discovery({ issuer: "https://other.test" }) });
    const auth = await rs.authenticate(bearer(await mintToken()));
    await expectError((auth as { response: Response }).response, 503, "temporarily_unavailable");
  });

  it("a redirect is not followed, an unreachable issuer is a 503; once keys were fetched they serve while the issuer is down", async () => {
    const redirecting = protectedResource({
      issuer: ISSUER, resource: RESOURCE, fetch: async () => new Response(null, { status: 302, headers: { location: "https://evil.example/" } }),
    });
    await expectError(((await redirecting.authenticate(bearer(await mintToken()))) as { response: Response }).response, 503, "temporarily_unavailable");

    let down = false;
    let now = nowSeconds();
    const rs = kit({
      now: () => now, clockSkew: 1000,
      fetch: async (input, init) => {
        if (down) throw new TypeError("network down");
        return latchkey(new Request(input, init));
      },
    });
    const token = await mintToken();
    expect((await rs.authenticate(bearer(token))).ok).toBe(true);
    down = true;
    now += 400; // past the JWKS's max-age: the refetch fails, the old set serves
    expect((await rs.authenticate(bearer(token))).ok).toBe(true);
  });
});

describe("the kit as Hono middleware (protect)", () => {
  it("answers the metadata URL itself, refuses without a token, and hands the verified token to the route", async () => {
    const app = new Hono<{ Variables: { accessToken: VerifiedToken } }>();
    app.use(protect(kit()));
    app.post("/mcp", (c) => c.json({ sub: c.var.accessToken.sub }));
    expect((await app.fetch(get(WELL_KNOWN))).status).toBe(200);
    const bare = await app.fetch(resourceRequest());
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toContain(`resource_metadata="${WELL_KNOWN}"`);
    const token = await mintToken();
    const ok = await app.fetch(bearer(token));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sub: (decodeJwt(token) as { sub: string }).sub });
  });
});

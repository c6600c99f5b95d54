import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { parseFormEncoded } from "../src/http/form";
import { MAX_INTERACTION_TARGET } from "../src/authorize/limits";
import { MAX_RESOURCES, RESOURCE_BYTES, resourceValues, tokenAudience } from "../src/authorize/resource";
import { authorizationEndpointSteps } from "../src/authorize/steps";
import { ISSUER, basic, call, createClient, expectError, tokenRequest } from "./helpers";
import { DEVICE_GRANT, deviceClient, startDevice } from "./rfc8628-helpers";
import {
  Browser, PASSWORD, REDIRECT_URI, clientRedirect, codeRequest, expectErrorPage, expectRedirectError, oidcClient, person, workerWithEnv,
} from "./oidc-helpers";

/**
 * RFC 8707 (Resource Indicators for OAuth 2.0) §2: `resource` at the authorization endpoint, PAR
 * and the token endpoint — absolute URIs without fragments, repeatable, each one the operator lists
 * (RESOURCES) and the client may have (`allowed_resources`), else invalid_target; §2.2: one
 * resource per access token, its `aud`, chosen among the grant's at the code exchange and at every
 * refresh. Introspection shows the `aud`; UserInfo takes only tokens meant for the issuer.
 */

const MCP = "https://mcp.example/mcp";
const API = "https://api.example/v1/";
const OTHER = "urn:example:ledger";
const worker = workerWithEnv({ RESOURCES: `${MCP} ${API} ${OTHER}` });

const form = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();
const post = (path: string, pairs: [string, string][], headers: Record<string, string> = {}) =>
  worker(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: form(pairs) });

type Client = { client_id: string; client_secret?: string };
const auth = (client: Client) => ({ authorization: basic(client.client_id, client.client_secret!) });

/** A confidential client for the code and refresh grants (and client_credentials), with `extra` metadata. */
const codeClient = (extra: Record<string, unknown> = {}) =>
  oidcClient({ grant_types: ["authorization_code", "refresh_token", "client_credentials"], scope: "read", ...extra });

/** The authorization request's parameters with these `resource` values (each its own parameter). */
async function requestWith(client: Client, resources: string[], extra: Record<string, string> = {}) {
  const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent", ...extra });
  const pairs: [string, string][] = [...Object.entries(params), ...resources.map((r): [string, string] => ["resource", r])];
  return { pairs, verifier, state: params.state! };
}

/** Sign-in and consent; returns the consent page's HTML and the code. */
async function approve(pairs: [string, string][]): Promise<{ consent: string; code: string }> {
  const user = await person();
  const browser = new Browser(worker);
  let res = await browser.follow(await browser.fetch(`/authorize?${form(pairs)}`));
  res = await browser.follow(await browser.submit(res, { email: user.email, password: PASSWORD }, "/login"));
  const consent = await res.text();
  expect(consent).toContain('action="/consent"');
  res = await browser.follow(await browser.submit(consent, { decision: "allow" }, "/consent"));
  return { consent, code: clientRedirect(res).get("code")! };
}

const redeem = (client: Client, code: string, verifier: string, resources: string[] = []) =>
  post("/token", [
    ["grant_type", "authorization_code"], ["code", code], ["redirect_uri", REDIRECT_URI], ["code_verifier", verifier],
    ...resources.map((r): [string, string] => ["resource", r]),
  ], auth(client));

const refresh = (client: Client, refreshToken: string, resources: string[] = []) =>
  post("/token", [["grant_type", "refresh_token"], ["refresh_token", refreshToken], ...resources.map((r): [string, string] => ["resource", r])], auth(client));

async function tokens(res: Response): Promise<{ access_token: string; refresh_token?: string; aud: unknown }> {
  expect(res.status, await res.clone().text()).toBe(200);
  const body = (await res.json()) as { access_token: string; refresh_token?: string };
  return { ...body, aud: decodeJwt(body.access_token).aud };
}

/** Code flow with these resources to tokens: the code, its verifier and the consent page. */
async function granted(client: Client, resources: string[]) {
  const { pairs, verifier } = await requestWith(client, resources);
  const { consent, code } = await approve(pairs);
  return { code, verifier, consent };
}

describe("RFC 8707 §2: the resource parameter's values", () => {
  it("the step table runs resource_indicators at the authorization endpoint (and so at PAR)", () => {
    expect(authorizationEndpointSteps.map((s) => s.name)).toContain("resource_indicators");
  });

  it("resource may be repeated (its values read in order, repeats once); every other parameter keeps the duplicate rule", () => {
    const params = parseFormEncoded(form([["resource", MCP], ["resource", API], ["resource", MCP]]));
    expect(resourceValues(params)).toEqual([MCP, API]);
    expect(resourceValues(parseFormEncoded(form([["resource", MCP]])))).toEqual([MCP]);
    expect(() => parseFormEncoded(form([["scope", "a"], ["scope", "b"]]))).toThrow(expect.objectContaining({ code: "duplicate_parameter" }));
  });

  it("each value an absolute URI without a fragment, at most 4 of at most 256 characters", () => {
    const cases: [string[], string][] = [
      [["/relative/path"], "resource_not_absolute"],
      [["mcp.example"], "resource_not_absolute"],
      [["https://mcp.example/has space"], "resource_not_absolute"],
      [["https://mcp.example/mcp#section"], "resource_has_fragment"],
      [["https://a.example/", "https://b.example/", "https://c.example/", "https://d.example/", "https://e.example/"], "resource_too_many"],
      [[`https://mcp.example/${"p".repeat(250)}`], "resource_too_long"],
    ];
    for (const [values, code] of cases) {
      const params = parseFormEncoded(form(values.map((v): [string, string] => ["resource", v])));
      expect(() => resourceValues(params), values[0]).toThrow(expect.objectContaining({ code }));
    }
  });

  it("§2.2 the token's audience: the one named (of the grant's), the grant's only one, none for a grant without, else invalid_target", () => {
    const none = new Map<string, string>();
    const named = (r: string) => new Map([["resource", r]]);
    expect(tokenAudience(none, undefined)).toBeUndefined();
    expect(tokenAudience(none, [MCP])).toBe(MCP);
    expect(tokenAudience(named(API), [MCP, API])).toBe(API);
    expect(() => tokenAudience(none, [MCP, API])).toThrow(expect.objectContaining({ code: "resource_ambiguous" }));
    expect(() => tokenAudience(named(OTHER), [MCP, API])).toThrow(expect.objectContaining({ code: "resource_not_granted" }));
    expect(() => tokenAudience(named(MCP), undefined)).toThrow(expect.objectContaining({ code: "resource_not_granted" }));
    expect(() => tokenAudience(new Map([["resource", JSON.stringify([MCP, API])]]), [MCP, API]))
      .toThrow(expect.objectContaining({ code: "resource_one_per_token" }));
  });
});

describe("RFC 8707 §2 at the authorization endpoint: invalid_target redirected to the client", () => {
  it("relative, fragment, unknown to the server, not allowed for the client → invalid_target with state", async () => {
    const client = await codeClient({ allowed_resources: [MCP] });
    for (const [resource, description] of [
      ["/mcp", /absolute URI/], [`${MCP}#x`, /fragment/], ["https://unknown.example/", /no resource server/], [API, /may not request/],
    ] as const) {
      const { pairs, state } = await requestWith(client, [resource]);
      const res = await worker(`/authorize?${form(pairs)}`);
      expectRedirectError(res, "invalid_target", { state, description });
    }
  });

  it("a repeated resource is accepted where a repeated scope is invalid_request", async () => {
    const client = await codeClient();
    const { pairs, state } = await requestWith(client, [MCP, API]);
    const ok = await worker(`/authorize?${form(pairs)}`);
    expect(ok.status).toBe(302);
    expect(new URL(ok.headers.get("location")!, ISSUER).pathname).toBe("/login");
    const twice = await worker(`/authorize?${form([...pairs, ["scope", "openid"]])}`);
    expectRedirectError(twice, "invalid_request", { state, description: /scope parameter was sent more than once/ });
  });

  it("without RESOURCES configured every resource is invalid_target (the default server lists none)", async () => {
    const client = await codeClient();
    const { pairs, state } = await requestWith(client, [MCP]);
    expectRedirectError(await call(`/authorize?${form(pairs)}`, { redirect: "manual" }), "invalid_target", { state, description: /no resource server/ });
  });
});

describe("RFC 8707 §2.2 at the token endpoint: one resource per access token, its aud", () => {
  it("one resource granted: the token's aud without naming it; the consent page says where the access will be used", async () => {
    const client = await codeClient();
    const { code, verifier, consent } = await granted(client, [MCP]);
    expect(consent).toContain("It will use this access only at:");
    expect(consent).toContain("mcp.example");
    expect(consent).toContain(MCP);
    const { aud } = await tokens(await redeem(client, code, verifier));
    expect(aud).toBe(MCP);
  });

  it("several granted: the one named is the aud; none named → invalid_target (and the code is not spent); one not granted → invalid_target", async () => {
    const client = await codeClient();
    const { code, verifier } = await granted(client, [MCP, API]);
    await expectError(await redeem(client, code, verifier), 400, "invalid_target", "resource_ambiguous");
    await expectError(await redeem(client, code, verifier, [OTHER]), 400, "invalid_target", "resource_not_granted");
    await expectError(await redeem(client, code, verifier, [MCP, API]), 400, "invalid_target", "resource_one_per_token");
    const { aud, refresh_token } = await tokens(await redeem(client, code, verifier, [API]));
    expect(aud).toBe(API);

    // Refresh: any resource of the grant, one per token; rotations keep the grant's resources.
    await expectError(await refresh(client, refresh_token!), 400, "invalid_target", "resource_ambiguous");
    await expectError(await refresh(client, refresh_token!, [OTHER]), 400, "invalid_target", "resource_not_granted");
    const first = await tokens(await refresh(client, refresh_token!, [MCP]));
    expect(first.aud).toBe(MCP);
    const second = await tokens(await refresh(client, first.refresh_token!, [API]));
    expect(second.aud).toBe(API);
  });

  it("a request naming a resource is an OAuth 2.0 request: without openid it is granted (no ID token); without a resource openid stays required", async () => {
    const client = await codeClient();
    const { pairs, verifier } = await requestWith(client, [MCP], { scope: "read offline_access" });
    const { code } = await approve(pairs);
    const res = await redeem(client, code, verifier);
    const body = (await res.clone().json()) as { id_token?: string; refresh_token?: string; scope: string };
    expect((await tokens(res)).aud).toBe(MCP);
    expect(body.id_token).toBeUndefined();
    expect(body.refresh_token).toBeDefined();
    expect(body.scope).toBe("read offline_access");

    const without = await requestWith(client, [], { scope: "read offline_access" });
    expectRedirectError(await worker(`/authorize?${form(without.pairs)}`), "invalid_scope", { state: without.state, description: /openid/ });
  });

  it("no resource requested: the default audience, and a resource named at the token endpoint is not granted", async () => {
    const client = await codeClient();
    const { code, verifier } = await granted(client, []);
    await expectError(await redeem(client, code, verifier, [MCP]), 400, "invalid_target", "resource_not_granted");
    const { aud, refresh_token } = await tokens(await redeem(client, code, verifier));
    expect(aud).toBe(env.ACCESS_TOKEN_AUDIENCE || ISSUER);
    expect((await tokens(await refresh(client, refresh_token!))).aud).toBe(env.ACCESS_TOKEN_AUDIENCE || ISSUER);
  });

  it("introspection shows the token's aud", async () => {
    const client = await codeClient();
    const { code, verifier } = await granted(client, [MCP]);
    const { access_token } = await tokens(await redeem(client, code, verifier));
    const res = await post("/introspect", [["token", access_token]], auth(client));
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ active: true, aud: MCP, client_id: client.client_id });
  });

  it("UserInfo refuses a token whose aud is another resource server (invalid_token), takes one for the default audience", async () => {
    const client = await codeClient();
    const forMcp = await granted(client, [MCP]);
    const mcpToken = (await tokens(await redeem(client, forMcp.code, forMcp.verifier))).access_token;
    const refused = await worker("/userinfo", { headers: { authorization: `Bearer ${mcpToken}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    const plain = await granted(client, []);
    const plainToken = (await tokens(await redeem(client, plain.code, plain.verifier))).access_token;
    expect((await worker("/userinfo", { headers: { authorization: `Bearer ${plainToken}` } })).status).toBe(200);
  });
});

describe("RFC 8707 §2 bounds: the most resources a request may carry are redeemable", () => {
  it("4 resources of 256 characters go through sign-in and consent (every URL within MAX_INTERACTION_TARGET) into a code that mints a token for each", async () => {
    const longest = Array.from({ length: MAX_RESOURCES }, (_, i) => `https://r${i}.example/mcp?pad=`.padEnd(RESOURCE_BYTES, "p"));
    const big = workerWithEnv({ RESOURCES: longest.join(" ") });
    const client = await codeClient();
    const { pairs, verifier } = await requestWith(client, longest);
    const user = await person();
    const browser = new Browser(big);
    const follow = async (res: Response): Promise<Response> => {
      while (res.status === 302 || res.status === 303) {
        const location = new URL(res.headers.get("location")!, ISSUER);
        if (location.origin !== ISSUER) return res;
        expect((location.pathname + location.search).length).toBeLessThanOrEqual(MAX_INTERACTION_TARGET);
        res = await browser.fetch(location.pathname + location.search);
      }
      return res;
    };
    let res = await follow(await browser.fetch(`/authorize?${form(pairs)}`));
    res = await follow(await browser.submit(res, { email: user.email, password: PASSWORD }, "/login"));
    res = await follow(await browser.submit(res, { decision: "allow" }, "/consent"));
    const code = clientRedirect(res).get("code")!;
    const exchange = (extra: [string, string][]) => big("/token", {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...auth(client) },
      body: form([["grant_type", "authorization_code"], ["code", code], ["redirect_uri", REDIRECT_URI], ["code_verifier", verifier], ...extra]),
    });
    const { aud, refresh_token } = await tokens(await exchange([["resource", longest[3]!]]));
    expect(aud).toBe(longest[3]);
    const again = (r: string) => big("/token", {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...auth(client) },
      body: form([["grant_type", "refresh_token"], ["refresh_token", refresh_token!], ["resource", r]]),
    });
    expect((await tokens(await again(longest[0]!))).aud).toBe(longest[0]);
  });
});

describe("RFC 8707 §2.2 and refresh-token rotation (RFC 9700 §4.14.2)", () => {
  it("a retry within the grace window is the same request only with the same resource: the same answer again; another resource is reuse", async () => {
    const client = await codeClient();
    const { code, verifier } = await granted(client, [MCP, API]);
    const { refresh_token } = await tokens(await redeem(client, code, verifier, [MCP]));
    const first = await tokens(await refresh(client, refresh_token!, [MCP]));
    const retry = await tokens(await refresh(client, refresh_token!, [MCP]));
    expect(retry.access_token).toBe(first.access_token);
    await expectError(await refresh(client, refresh_token!, [API]), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, first.refresh_token!, [MCP]), 400, "invalid_grant");
  });
});

describe("RFC 8707 §2 at PAR: the same checks, as JSON", () => {
  it("a pushed request carries its resources into the code; a bad one is invalid_target (400 JSON)", async () => {
    const client = await codeClient({ allowed_resources: [MCP, API] });
    const { pairs, verifier } = await requestWith(client, [MCP]);
    const bad = await post("/par", [...pairs.filter(([n]) => n !== "resource"), ["resource", OTHER]], auth(client));
    await expectError(bad, 400, "invalid_target", "resource_not_allowed");
    const pushed = await post("/par", pairs, auth(client));
    expect(pushed.status, await pushed.clone().text()).toBe(201);
    const { request_uri } = (await pushed.json()) as { request_uri: string };
    const { code } = await approve([["client_id", client.client_id], ["request_uri", request_uri]]);
    expect((await tokens(await redeem(client, code, verifier))).aud).toBe(MCP);
  });
});

describe("RFC 8707 §2 with client_credentials: the server's list, narrowed by the client's", () => {
  const cc = (client: Client, resources: string[]) =>
    post("/token", [["grant_type", "client_credentials"], ...resources.map((r): [string, string] => ["resource", r])], auth(client));

  it("the named resource is the aud; unknown, not allowed or several → invalid_target; none → the default audience", async () => {
    const client = await createClient({ allowed_resources: [API] });
    expect((await tokens(await cc(client, [API]))).aud).toBe(API);
    expect((await tokens(await cc(client, []))).aud).toBe(env.ACCESS_TOKEN_AUDIENCE || ISSUER);
    await expectError(await cc(client, [MCP]), 400, "invalid_target", "resource_not_allowed");
    await expectError(await cc(client, ["https://unknown.example/"]), 400, "invalid_target", "resource_unknown");
    await expectError(await cc(client, [API, MCP]), 400, "invalid_target", "resource_one_per_token");
    await expectError(await cc(client, ["relative"]), 400, "invalid_target", "resource_not_absolute");
  });
});

describe("RFC 8707 §2.2 with the device grant: no resources are granted through it (yet)", () => {
  it("a poll naming a resource is invalid_target (resource_not_granted), before the device request is looked at", async () => {
    const client = await deviceClient();
    const { device_code } = await startDevice(client);
    const res = await tokenRequest({ grant_type: DEVICE_GRANT, device_code, resource: MCP }, auth(client));
    await expectError(res, 400, "invalid_target", "resource_not_granted");
  });
});

describe("allowed_resources: operator metadata, refused from self-registration", () => {
  it("the operator sets it (absolute URIs without fragments); a client registering itself may not", async () => {
    const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
    const put = (body: Record<string, unknown>) =>
      call(`/admin/clients/rs-${crypto.randomUUID()}`, { method: "PUT", headers: admin, body: JSON.stringify({ grant_types: ["client_credentials"], ...body }) });
    expect((await put({ allowed_resources: [MCP] })).status).toBe(200);
    await expectError(await put({ allowed_resources: ["#frag"] }), 400, "invalid_client_metadata", "allowed_resources_malformed");
    await expectError(await put({ allowed_resources: MCP }), 400, "invalid_client_metadata", "allowed_resources_malformed");
    const open = workerWithEnv({ REGISTRATION_POLICY: "open" });
    const res = await open("/register", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], allowed_resources: [MCP] }),
    });
    await expectError(res, 400, "invalid_client_metadata", "allowed_resources_operator_only");
  });
});

describe("RFC 8707 §2 errors at the authorization endpoint before the redirect URI is known stay pages", () => {
  it("an unknown client with a bad resource is the unknown-client page, not invalid_target", async () => {
    const res = await worker(`/authorize?${form([["client_id", "no-such-client"], ["resource", "/x"]])}`);
    await expectErrorPage(res, "authorize_unknown_client");
  });
});

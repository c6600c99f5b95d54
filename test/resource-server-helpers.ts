import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../src/app";
import type { Env } from "../src/env";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";
import { protectedResource, type ProtectedResourceOptions } from "../src/resource-server";
import { signJwt } from "../src/tokens/jws";
import { ISSUER, basic, createClient, nowSeconds } from "./helpers";
import { proof, type DpopKey } from "./rfc9449-helpers";

/**
 * The resource-server kit (src/resource-server/) against the real Latchkey Worker in workerd:
 * tokens are minted at its real token endpoint (client_credentials), their `aud` the resource as a
 * deployment with one resource server sets it (ACCESS_TOKEN_AUDIENCE, RFC 9068 §3), and the kit
 * reaches the issuer's discovery and JWKS through Latchkey's fetch handler instead of the network.
 * (The `resource` parameter, RFC 8707, is exercised end to end by the MCP SDK's browser test.)
 */
export const RESOURCE = "https://mcp.example/mcp";
/** Another path of the same host: a token for it must not work at RESOURCE. */
export const OTHER_RESOURCE = "https://mcp.example/other";

const envs = new Map<string, Env>();
const latchkeyEnv = (audience: string) => {
  let e = envs.get(audience);
  if (e === undefined) envs.set(audience, (e = { ...env, ACCESS_TOKEN_AUDIENCE: audience } as Env));
  return e;
};

/** A request to Latchkey (the Worker's own code and bindings) whose access tokens are for `audience`. */
export async function latchkey(request: Request, audience = RESOURCE): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(request, latchkeyEnv(audience), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** What the kit fetched from the issuer, in order (paths). */
export type FetchLog = string[];

/** A kit for RESOURCE requiring `read`, reaching Latchkey in-process; `log` records each fetch's path. */
export function kit(options: Partial<ProtectedResourceOptions> = {}, log: FetchLog = []) {
  return protectedResource({
    issuer: ISSUER,
    resource: RESOURCE,
    scopes: ["read"],
    fetch: async (input, init) => {
      const request = new Request(input, init);
      log.push(new URL(request.url).pathname);
      return latchkey(request);
    },
    ...options,
  });
}

let client: Promise<{ client_id: string; client_secret?: string }> | undefined;
/** One confidential client_credentials client (scope read write) for the file. */
export const tokenClient = () => (client ??= createClient({ grant_types: ["client_credentials"], scope: "read write" }));

/** An access token from Latchkey's token endpoint (client_credentials) whose aud is `audience`; DPoP-bound with `key`. */
export async function mintToken(opts: { audience?: string; scope?: string; key?: DpopKey } = {}): Promise<string> {
  const c = await tokenClient();
  const form: Record<string, string> = { grant_type: "client_credentials", scope: opts.scope ?? "read" };
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", authorization: basic(c.client_id, c.client_secret!) };
  if (opts.key) headers.dpop = await proof(opts.key);
  const res = await latchkey(new Request(`${ISSUER}/token`, { method: "POST", headers, body: new URLSearchParams(form).toString() }), opts.audience);
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** A request to the protected resource with these headers. */
export const resourceRequest = (headers: Record<string, string> = {}, url = RESOURCE, method = "POST") => new Request(url, { method, headers });

/** A request to RESOURCE with `Authorization: Bearer <token>`. */
export const bearer = (token: string) => resourceRequest({ authorization: `Bearer ${token}` });

/** The response of a request the kit (default: kit()) refuses; fails the test if it is accepted. */
export async function refused(request: Request, rs = kit()): Promise<Response> {
  const auth = await rs.authenticate(request);
  expect(auth.ok).toBe(false);
  return (auth as { ok: false; response: Response }).response;
}

/** The WWW-Authenticate challenges of a response, joined as the Fetch API gives them. */
export const challenges = (res: Response) => res.headers.get("www-authenticate") ?? "";

/** Latchkey's keyring as the Worker sees it now (its real signing keys in D1). */
export const latchkeyKeys = () => keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, nowSeconds());

/**
 * A JWT signed with Latchkey's current ES256 key (the access-token key) with these claims and
 * `typ`: for the checks a real token endpoint never gets wrong (typ, iss, missing claims).
 */
export async function signedByLatchkey(claims: Record<string, unknown>, typ = "at+jwt"): Promise<string> {
  const signer = await (await latchkeyKeys()).signer("ES256");
  return signJwt(signer, typ, claims);
}

/** The claims of a good access token for RESOURCE, any of them replaced (undefined removes one). */
export function accessClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  const claims: Record<string, unknown> = {
    iss: ISSUER, sub: "someone", aud: RESOURCE, client_id: "some-client", scope: "read", iat: now, exp: now + 600, jti: crypto.randomUUID(), ...overrides,
  };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

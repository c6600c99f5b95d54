import { SignJWT } from "jose";
import { ISSUER, JWT_BEARER, assertion, basic, call, createClient, keyPair, nowSeconds, type KeyPair } from "./helpers";
import { REDIRECT_URI, codeRequest } from "./oidc-helpers";

/** Helpers of the PAR (RFC 9126) and request-object (RFC 9101, OIDC Core §6) tests. */

export const PAR_ENDPOINT = `${ISSUER}/par`;
export const REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:";

export type TestClient = { client_id: string; client_secret?: string; key?: KeyPair };

/** A code-flow client with a secret (client_secret_basic). */
export async function secretClient(extra: Record<string, unknown> = {}): Promise<TestClient> {
  return createClient({ grant_types: ["authorization_code"], redirect_uris: [REDIRECT_URI], client_name: "PAR RP", ...extra });
}

/** A code-flow client authenticating with private_key_jwt, whose key also signs its request objects. */
export async function keyClient(extra: Record<string, unknown> = {}): Promise<TestClient> {
  const key = await keyPair("ES256");
  const client = await secretClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] }, ...extra });
  return { ...client, key };
}

/** The client's credentials as form fields or a header, by how it authenticates. */
export async function credentials(client: TestClient, aud = ISSUER): Promise<{ form: Record<string, string>; headers: Record<string, string> }> {
  if (client.key) {
    return { form: { client_assertion_type: JWT_BEARER, client_assertion: await assertion(client.client_id, client.key.privateKey, { claims: { aud } }) }, headers: {} };
  }
  if (client.client_secret) return { form: {}, headers: { authorization: basic(client.client_id, client.client_secret) } };
  return { form: { client_id: client.client_id }, headers: {} };
}

/** POST /par with the client's credentials. */
export async function push(client: TestClient, form: Record<string, string>): Promise<Response> {
  const auth = await credentials(client, PAR_ENDPOINT);
  return call("/par", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...auth.headers },
    body: new URLSearchParams({ ...form, ...auth.form }).toString(),
  });
}

/** Pushes a standard code request (PKCE) and returns its request_uri, with what the flow needs. */
export async function pushed(client: TestClient, extra: Record<string, string> = {}) {
  const { params, verifier } = await codeRequest(client.client_id, extra);
  const res = await push(client, params);
  if (res.status !== 201) throw new Error(`PAR answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { request_uri: string; expires_in: number };
  return { requestUri: body.request_uri, params, verifier };
}

/** A signed request object (RFC 9101 §4) with sensible claims; undefined removes a claim or header member. */
export async function requestObject(
  client: TestClient,
  claims: Record<string, unknown>,
  opts: { header?: Record<string, unknown>; key?: CryptoKey } = {},
): Promise<string> {
  const now = nowSeconds();
  const all: Record<string, unknown> = { iss: client.client_id, aud: ISSUER, client_id: client.client_id, iat: now, nbf: now, exp: now + 300, jti: crypto.randomUUID(), ...claims };
  for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
  const header: Record<string, unknown> = { alg: "ES256", typ: "oauth-authz-req+jwt", ...opts.header };
  for (const k of Object.keys(header)) if (header[k] === undefined) delete header[k];
  return new SignJWT(all).setProtectedHeader(header as never).sign(opts.key ?? client.key!.privateKey);
}

/** An unsigned request object (alg none, RFC 7519 §6). */
export function unsignedRequestObject(client: TestClient, claims: Record<string, unknown>): string {
  const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  return `${enc({ alg: "none" })}.${enc({ iss: client.client_id, aud: ISSUER, exp: nowSeconds() + 300, ...claims })}.`;
}

/** Redeems a code with the client's own authentication (private_key_jwt or client_secret_basic). */
export async function redeemWith(client: TestClient, code: string, verifier: string): Promise<Response> {
  const auth = await credentials(client);
  return call("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...auth.headers },
    body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier, ...auth.form }).toString(),
  });
}

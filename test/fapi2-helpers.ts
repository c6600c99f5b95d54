import { decodeJwt } from "jose";
import { expect } from "vitest";
import { ISSUER, JWT_BEARER, assertion, createClient, keyPair, type KeyPair } from "./helpers";
import { Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, person } from "./oidc-helpers";
import { dpopKey, proof, send, type DpopKey } from "./rfc9449-helpers";

/**
 * FAPI 2.0 Security Profile test tools: a client under the profile (the operator's `fapi_profile`),
 * its private_key_jwt assertions (aud the issuer, as the profile wants), pushed requests, codes and
 * token requests with DPoP proofs or a TLS client certificate (request.cf.tlsClientAuth).
 */

export const FAPI_PROFILE = { fapi_profile: "fapi2-security" } as const;
export type Fetcher = (path: string, init: RequestInit) => Promise<Response>;
const viaWorker: Fetcher = (path, init) => send(path, init);

export type FapiClient = { client_id: string; key: KeyPair; alg: string } & Record<string, unknown>;

/** A code-flow, refresh and client_credentials client under FAPI 2.0 with private_key_jwt (its key of `alg`). */
export async function fapiClient(extra: Record<string, unknown> = {}, alg = "ES256"): Promise<FapiClient> {
  const key = await keyPair(alg);
  const client = await createClient({
    grant_types: ["authorization_code", "refresh_token", "client_credentials"],
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: "private_key_jwt",
    jwks: { keys: [key.publicJwk] },
    scope: "read",
    ...FAPI_PROFILE,
    ...extra,
  });
  return { ...client, key, alg };
}

/** client_assertion fields: aud the issuer as a string unless told otherwise. */
export async function clientAuth(client: FapiClient, opts: { aud?: unknown; alg?: string; claims?: Record<string, unknown> } = {}) {
  const claims = { aud: opts.aud ?? ISSUER, ...opts.claims };
  return { client_assertion_type: JWT_BEARER, client_assertion: await assertion(client.client_id, client.key.privateKey, { alg: opts.alg ?? client.alg, claims }) };
}

/** A form POST, optionally with a DPoP proof header and a TLS client certificate. */
export function formPost(path: string, form: Record<string, string>, opts: { dpop?: string; tls?: object; fetcher?: Fetcher } = {}): Promise<Response> {
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });
  if (opts.dpop !== undefined) headers.set("dpop", opts.dpop);
  const init = { method: "POST", headers, body: new URLSearchParams(form).toString(), ...(opts.tls && { cf: { tlsClientAuth: opts.tls } }) } as RequestInit;
  return (opts.fetcher ?? viaWorker)(path, init);
}

/** POST /par with the client's assertion (aud the issuer) and a standard PKCE code request, `extra` changing it. */
export async function fapiPush(client: FapiClient, extra: Record<string, string> = {}, auth: { aud?: unknown } = {}, fetcher?: Fetcher) {
  const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent", ...extra });
  for (const [k, v] of Object.entries(params)) if (v === "") delete params[k];
  const res = await formPost("/par", { ...params, ...(await clientAuth(client, auth)) }, { ...(fetcher && { fetcher }) });
  return { res, params, verifier };
}

/** Pushes, then a person signs in and consents: the code, its verifier, and what reached the client. */
export async function fapiCode(client: FapiClient, extra: Record<string, string> = {}, fetcher?: Fetcher) {
  const { res, verifier } = await fapiPush(client, extra, {}, fetcher);
  expect(res.status, await res.clone().text()).toBe(201);
  const { request_uri } = (await res.json()) as { request_uri: string };
  const flow = await authorize(new Browser(fetcher), { client_id: client.client_id, request_uri }, await person());
  const response = clientRedirect(flow.response);
  return { code: response.get("code")!, verifier, response };
}

/** A TLS client certificate as Cloudflare reports it. */
export const certificate = (fingerprint = "c3".repeat(32)) => ({
  certPresented: "1", certVerified: "SUCCESS", certRevoked: "0",
  certSubjectDNRFC2253: "CN=fapi-client,O=Example", certSubjectDN: "CN=fapi-client,O=Example",
  certIssuerDNRFC2253: "CN=Example CA", certFingerprintSHA256: fingerprint,
});

/** A token request of the client with a fresh DPoP proof of `key` (when given). */
export async function fapiToken(client: FapiClient, form: Record<string, string>, key?: DpopKey, opts: { tls?: object; fetcher?: Fetcher } = {}) {
  return formPost("/token", { ...form, ...(await clientAuth(client)) }, { ...(key && { dpop: await proof(key) }), ...opts });
}

/** The authorization code exchange with a DPoP key: the token response, checked 200. */
export async function redeemFapiCode(client: FapiClient, key: DpopKey, code: string, verifier: string) {
  const res = await fapiToken(client, { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI }, key);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { access_token: string; refresh_token?: string; id_token?: string; token_type: string };
}

export { dpopKey, decodeJwt };

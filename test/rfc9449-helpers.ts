import { exports } from "cloudflare:workers";
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { ISSUER, nowSeconds, uniqueId } from "./helpers";
import { Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, person } from "./oidc-helpers";

/**
 * DPoP (RFC 9449) test tools: a client's proof key, proofs with any member changed, and requests
 * carrying them (and, for RFC 8705 §3, Cloudflare's TLS client certificate data in request.cf).
 */

export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
  jkt: string;
}

export async function dpopKey(alg = "ES256"): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

export interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  ath?: string;
  nonce?: string;
  /** Header members replaced (undefined removes one). */
  header?: Record<string, unknown>;
  /** Claims replaced (undefined removes one). */
  claims?: Record<string, unknown>;
}

/** A DPoP proof (RFC 9449 §4.2) for POST /token unless told otherwise. */
export async function proof(key: DpopKey, opts: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: opts.jti ?? uniqueId("jti"),
    htm: opts.htm ?? "POST",
    htu: opts.htu ?? `${ISSUER}/token`,
    iat: opts.iat ?? nowSeconds(),
    ...(opts.ath !== undefined && { ath: opts.ath }),
    ...(opts.nonce !== undefined && { nonce: opts.nonce }),
    ...opts.claims,
  };
  const header: Record<string, unknown> = { typ: "dpop+jwt", alg: key.alg, jwk: key.jwk, ...opts.header };
  for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

/** base64url(SHA-256(token)): the proof's `ath`. */
export async function ath(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A request to the Worker with optional `cf.tlsClientAuth` (what Cloudflare's edge attaches after mTLS). */
export function send(path: string, init: RequestInit & { headers?: HeadersInit }, tlsClientAuth?: object): Promise<Response> {
  const request = new Request(new URL(path, ISSUER), { ...init, ...(tlsClientAuth && { cf: { tlsClientAuth } }) } as RequestInit);
  return exports.default.fetch(request);
}

/** POST /token with a form body and headers (a DPoP header, Authorization …), optionally over mTLS. */
export function tokenPost(form: Record<string, string>, headers: HeadersInit = {}, tlsClientAuth?: object): Promise<Response> {
  const h = new Headers(headers);
  h.set("content-type", "application/x-www-form-urlencoded");
  return send("/token", { method: "POST", headers: h, body: new URLSearchParams(form).toString() }, tlsClientAuth);
}

/** A person signs in and consents: the code for `clientId` (openid offline_access), its verifier. */
export async function personsCode(clientId: string, extra: Record<string, string> = {}) {
  const { params, verifier } = await codeRequest(clientId, { scope: "openid offline_access", prompt: "consent", ...extra });
  const flow = await authorize(new Browser(), params, await person());
  const code = clientRedirect(flow.response).get("code")!;
  return { form: { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: clientId } };
}

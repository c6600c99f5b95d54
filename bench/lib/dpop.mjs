// The DPoP-bound client_credentials scenario (RFC 9449): the client_secret_basic request of (a) with
// a fresh DPoP proof per request, from a client registered with dpop_bound_access_tokens and
// dpop_nonce_required — so each request costs Latchkey a proof verification (the header's key
// imported, ES256 verified, its thumbprint taken), the check of the server nonce, and the
// reservation of the proof's jti in the replay Durable Object; the access token carries cnf.jkt.

import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { FORM, basicAuth, expectOk } from "./requests.mjs";

export const DPOP_CLIENT = { clientId: "bench-dpop", scope: "read write" };

const b64json = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Registers the DPoP client (client_secret_basic, as (a)'s, so the difference is DPoP's) and makes its proof key. */
export async function registerDpopClient({ origin, adminToken }) {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const body = {
    token_endpoint_auth_method: "client_secret_basic",
    grant_types: ["client_credentials"],
    scope: DPOP_CLIENT.scope,
    dpop_bound_access_tokens: true,
    dpop_nonce_required: true,
  };
  const client = await expectOk("register bench-dpop", await fetch(`${origin}/admin/clients/${DPOP_CLIENT.clientId}`, { method: "PUT", headers, body: JSON.stringify(body) }));
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
  const jwk = { kty, crv, x, y };
  // RFC 7638 §3: the thumbprint over the required members in lexicographic order.
  const jkt = createHash("sha256").update(JSON.stringify({ crv, kty, x, y })).digest("base64url");
  return { headers: { ...FORM, authorization: basicAuth(DPOP_CLIENT.clientId, client.client_secret) }, privateKey, jwk, jkt };
}

/** Proofs (RFC 9449 §4.2) for POST `htu`, each with its own jti, iat now and `nonce` when given; valid for the proof window (300 s). */
export function signProofs(count, { privateKey, jwk, htu, nonce }) {
  const iat = Math.floor(Date.now() / 1000);
  const header = b64json({ typ: "dpop+jwt", alg: "ES256", jwk });
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const input = `${header}.${b64json({ jti: randomUUID(), htm: "POST", htu, iat, ...(nonce !== undefined && { nonce }) })}`;
    out[i] = `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  }
  return out;
}

/**
 * The server's current DPoP nonce (§8): a proof without one is answered use_dpop_nonce with the
 * nonce in DPoP-Nonce. It lives one to two nonce windows (300 s each), longer than a pair.
 */
export async function fetchNonce(origin, client, body) {
  const [proof] = signProofs(1, { ...client, htu: `${origin}/token` });
  const res = await fetch(`${origin}/token`, { method: "POST", headers: { ...client.headers, dpop: proof }, body });
  const nonce = res.headers.get("dpop-nonce");
  const text = await res.text();
  if (res.status !== 400 || !text.includes("use_dpop_nonce") || !nonce) throw new Error(`DPoP nonce: expected 400 use_dpop_nonce with a DPoP-Nonce header, got ${res.status} ${text}`);
  return nonce;
}

/** 200 with a DPoP-bound access token (token_type DPoP). */
export const expectDpopToken = (status, text) =>
  status === 200 && text.includes('"access_token"') && text.includes('"token_type":"DPoP"') ? undefined : `${status} (expected 200 with token_type DPoP) ${text}`;

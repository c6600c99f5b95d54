import { base64url, decodeJsonObject, fromBase64url, utf8 } from "../crypto/encoding";
import { isServerSigningAlg, subtleJwsParams, subtleSignParams } from "../keys/algorithms";
import type { Keyring, Signer } from "../keys/keyring";

const b64json = (value: unknown): string => base64url(utf8(JSON.stringify(value)));

/**
 * The one way our JWTs are signed (access tokens, ID tokens, logout tokens): a compact JWS (RFC 7515
 * §7.1) with the protected header `{alg, kid, typ}` and `claims` as the payload, straight over Web
 * Crypto.
 */
export async function signJwt(signer: Signer, typ: string, claims: Record<string, unknown>): Promise<string> {
  const input = `${encodedHeader(signer, typ)}.${b64json(claims)}`;
  const signature = await crypto.subtle.sign(subtleSignParams(signer.alg, signer.key), signer.key, utf8(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/** The encoded protected header of a signer's tokens of one `typ`, made once per signer (its keyring lives a minute). */
const headers = new WeakMap<Signer, Map<string, string>>();
function encodedHeader(signer: Signer, typ: string): string {
  let byTyp = headers.get(signer);
  if (byTyp === undefined) headers.set(signer, (byTyp = new Map()));
  let header = byTyp.get(typ);
  if (header === undefined) byTyp.set(typ, (header = b64json({ alg: signer.alg, kid: signer.kid, typ })));
  return header;
}

/** Three non-empty base64url parts: the shape of a compact JWS (RFC 7515 §7.1), checked before anything is decoded. */
export const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Far above any JWT we issue (an ID token is under 1 KiB), far below anything that costs us to look at. */
export const MAX_OWN_JWT_LENGTH = 4096;

/** Whether `token` has the shape and size of a JWT we issued (access and ID tokens presented back). */
export const looksLikeOwnJwt = (token: string): boolean => token.length <= MAX_OWN_JWT_LENGTH && COMPACT_JWS.test(token);

/**
 * A compact JWS (RFC 7515 §7.1) taken apart by `decodeJws`: its protected header, decoded from the
 * token's first part, and its payload's bytes. Only `decodeJws` makes one, so the header that
 * `verifyJws` goes by is always the one the signature covers.
 */
export interface CompactJws {
  readonly token: string;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Uint8Array;
}

/**
 * Three base64url parts, the first a JSON object (RFC 7515 §5.2 steps 1–3, 6); undefined for
 * anything else. Decoding trusts nothing: the signature is checked by `verifyJws`.
 */
export function decodeJws(token: string): CompactJws | undefined {
  const firstDot = token.indexOf(".");
  const lastDot = token.lastIndexOf(".");
  if (firstDot === -1 || firstDot === lastDot || token.indexOf(".", firstDot + 1) !== lastDot) return undefined;
  const header = decodeJsonObject(fromBase64url(token.slice(0, firstDot)));
  const payload = fromBase64url(token.slice(firstDot + 1, lastDot));
  return header === undefined || payload === undefined ? undefined : { token, header, payload };
}

/**
 * The one way a JWS signature is checked with a key the caller has chosen: RFC 7515 §5.2 straight
 * over Web Crypto. JWTs reach it through the one JWT verifier (src/tokens/verify-jwt.ts: client
 * assertions, our own tokens presented back, software statements). The caller has decided that
 * the header's `alg` is acceptable and found the key for it; this refuses a key that is not one for
 * that alg (subtleJwsParams: algorithm, hash, curve, RSA size), refuses any `crit` (we understand
 * no extension, §4.1.11), and verifies the signature over the first two parts as sent. False for
 * any failure; never throws for bad input.
 */
export async function verifyJws(jws: CompactJws, key: CryptoKey): Promise<boolean> {
  const { token, header } = jws;
  if (typeof header.alg !== "string" || header.crit !== undefined) return false;
  const params = subtleJwsParams(header.alg, key);
  const lastDot = token.lastIndexOf(".");
  const signature = fromBase64url(token.slice(lastDot + 1));
  if (params === undefined || signature === undefined) return false;
  try {
    return await crypto.subtle.verify(params, key, signature, utf8(token.slice(0, lastDot)));
  } catch {
    return false;
  }
}

/**
 * The key that signs a client's ID tokens — and its logout tokens (src/tokens/logout-token.ts) — for
 * its `id_token_signed_response_alg`; and its JWT introspection responses for its
 * `introspection_signed_response_alg` (src/endpoints/introspection.ts). Registration only accepts
 * algs we sign with (src/clients/register.ts); anything else here is a server-side inconsistency,
 * so a plain Error (→ server_error, logged), never an unsigned token.
 */
export function clientAlgSigner(keys: Keyring, alg: string): Promise<Signer> {
  if (!isServerSigningAlg(alg)) throw new Error(`cannot sign with ${alg}`);
  return keys.signer(alg);
}

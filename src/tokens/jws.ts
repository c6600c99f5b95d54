import { base64url, fromBase64url, utf8 } from "../crypto/encoding";
import { isServerSigningAlg, subtleJwsParams, subtleSignParams } from "../keys/algorithms";
import type { Keyring, Signer } from "../keys/keyring";

const b64json = (value: unknown): string => base64url(utf8(JSON.stringify(value)));

/**
 * The one way our JWTs are signed (access tokens, ID tokens, logout tokens): a compact JWS (RFC 7515
 * §7.1) with the protected header `{alg, kid, typ}` and `claims` as the payload, straight over Web
 * Crypto.
 */
export async function signJwt(signer: Signer, typ: string, claims: Record<string, unknown>): Promise<string> {
  const input = `${b64json({ alg: signer.alg, kid: signer.kid, typ })}.${b64json(claims)}`;
  const signature = await crypto.subtle.sign(subtleSignParams(signer.alg, signer.key), signer.key, utf8(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

/**
 * The one way a compact JWS's signature is checked (client assertions, our own tokens presented
 * back to us): RFC 7515 §5.2 with the alg and key the caller chose. The caller has already decoded
 * the protected header, decided that its `alg` is acceptable and found the key for it; this checks
 * that the key is one for that alg (subtleJwsParams), refuses any `crit` (we understand no
 * extension, §4.1.11), and verifies the signature over the first two parts as sent. Resolves the
 * payload's bytes, or undefined for any failure (never throws for bad input).
 */
export async function verifyJws(
  jws: string,
  header: { readonly alg?: unknown; readonly crit?: unknown },
  key: CryptoKey,
): Promise<Uint8Array | undefined> {
  if (typeof header.alg !== "string" || header.crit !== undefined) return undefined;
  const params = subtleJwsParams(header.alg, key);
  const firstDot = jws.indexOf(".");
  const lastDot = jws.lastIndexOf(".");
  if (params === undefined || firstDot === lastDot || jws.indexOf(".", firstDot + 1) !== lastDot) return undefined;
  const signature = fromBase64url(jws.slice(lastDot + 1));
  const payload = fromBase64url(jws.slice(firstDot + 1, lastDot));
  if (signature === undefined || payload === undefined) return undefined;
  try {
    return (await crypto.subtle.verify(params, key, signature, utf8(jws.slice(0, lastDot)))) ? payload : undefined;
  } catch {
    return undefined;
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

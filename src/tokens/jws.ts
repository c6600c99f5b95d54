import { base64url, utf8 } from "../crypto/encoding";
import { isServerSigningAlg, subtleSignParams } from "../keys/algorithms";
import type { Keyring, Signer } from "../keys/keyring";

const b64json = (value: unknown): string => base64url(utf8(JSON.stringify(value)));

/**
 * The one way our JWTs are signed (access tokens, ID tokens, logout tokens): a compact JWS (RFC 7515
 * §7.1) with the protected header `{alg, kid, typ}` and `claims` as the payload, straight over Web
 * Crypto. Nothing here parses untrusted input; verifying what others send stays with jose.
 */
export async function signJwt(signer: Signer, typ: string, claims: Record<string, unknown>): Promise<string> {
  const input = `${b64json({ alg: signer.alg, kid: signer.kid, typ })}.${b64json(claims)}`;
  const signature = await crypto.subtle.sign(subtleSignParams(signer.alg, signer.key), signer.key, utf8(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
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

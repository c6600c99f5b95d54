import { base64url, utf8 } from "../crypto/encoding";
import { subtleSignParams } from "../keys/algorithms";
import type { Signer } from "../keys/keyring";

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

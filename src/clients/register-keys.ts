import type { JSONWebKeySet, JWK } from "jose";
import { ensure } from "../errors/oauth-error";
import { MIN_RSA_BITS, keyFitsAlg, rsaModulusBits } from "../keys/algorithms";

/**
 * The key rules of client registration (part of the one metadata validator, src/clients/register.ts):
 * a registered `jwks` (RFC 7591 §2, RFC 7517 §5) holds public RSA (2048 bits or more), EC or Ed25519
 * keys only.
 */

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const MAX_KEYS = 32;

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

export function validJwks(value: unknown): JSONWebKeySet {
  ensure(isObject(value) && Array.isArray(value.keys) && value.keys.length > 0 && value.keys.length <= MAX_KEYS &&
    value.keys.every((k) => isObject(k) && typeof k.kty === "string"), "jwks_malformed");
  const keys = value.keys as Record<string, unknown>[];
  ensure(keys.every((k) => PRIVATE_JWK_MEMBERS.every((m) => !(m in k))), "jwks_private_key");
  const bad = keys.find((k) => !isSupportedPublicKey(k));
  ensure(bad === undefined, "jwks_unsupported_key",
    `jwks: a key of kty ${String(bad?.kty).slice(0, 16)} is not supported; use RSA, EC (P-256, P-384, P-521) or OKP (Ed25519) public keys.`);
  ensure(keys.every((k) => k.kty !== "RSA" || rsaModulusBits(k.n) >= MIN_RSA_BITS), "jwks_unsupported_key",
    `jwks: RSA keys must be ${MIN_RSA_BITS} bits or larger (RFC 7518 section 3.3).`);
  return value as unknown as JSONWebKeySet;
}

/** RSA, EC on the NIST curves, or Ed25519, with the public members present (RFC 7518 §6, RFC 8037 §2). */
function isSupportedPublicKey(k: Record<string, unknown>): boolean {
  const str = (m: string) => typeof k[m] === "string" && (k[m] as string).length > 0;
  if (k.x5c !== undefined && !(Array.isArray(k.x5c) && k.x5c.every((c) => typeof c === "string"))) return false;
  switch (k.kty) {
    case "RSA":
      return str("n") && str("e");
    case "EC":
      return ["P-256", "P-384", "P-521"].includes(k.crv as string) && str("x") && str("y");
    case "OKP":
      return k.crv === "Ed25519" && str("x");
    default:
      return false;
  }
}

/** Could this registered key verify a client assertion signed with `alg` (as src/client-auth/client-keys.ts selects keys)? */
export function canVerify(k: JWK, alg: string): boolean {
  return keyFitsAlg(k, alg) && (k.alg === undefined || k.alg === alg) && (k.use === undefined || k.use === "sig") &&
    (k.key_ops === undefined || k.key_ops.includes("verify"));
}

/**
 * The one table of JWS algorithms Latchkey signs with (server keys) and the ones it accepts from
 * clients (assertions). Everything about an alg lives here.
 */
export type SigningAlg = "ES256" | "RS256" | "EdDSA";

/** Algorithms our own keys use. ES256 signs access tokens (fast); RS256 is OIDC's mandatory ID-token alg. */
export const SERVER_SIGNING_ALGS: readonly SigningAlg[] = ["ES256", "RS256", "EdDSA"];
export const ACCESS_TOKEN_ALG: SigningAlg = "ES256";
/** Whether we sign with `alg` (a client's id_token_signed_response_alg / introspection_signed_response_alg must be one). */
export const isServerSigningAlg = (alg: unknown): alg is SigningAlg =>
  typeof alg === "string" && (SERVER_SIGNING_ALGS as readonly string[]).includes(alg);

/** Web Crypto parameters that make a JWS signature for each of our algs (RFC 7518 §3.3, §3.4; RFC 8037 §3.1). */
export function subtleSignParams(alg: SigningAlg, key: CryptoKey): SubtleCryptoSignAlgorithm {
  switch (alg) {
    case "ES256":
      // ECDSA in Web Crypto yields r || s, the JWS form (RFC 7518 §3.4).
      return { name: "ECDSA", hash: "SHA-256" };
    case "RS256":
      return { name: "RSASSA-PKCS1-v1_5" };
    case "EdDSA":
      return { name: key.algorithm.name };
  }
}

/** Asymmetric algorithms accepted for private_key_jwt (RFC 7518 §3.1; RFC 8037). `none` never. */
export const ASYMMETRIC_ASSERTION_ALGS = [
  "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519",
] as const;
/** HMAC algorithms accepted for client_secret_jwt, with the minimum key length in bytes (RFC 7518 §3.2). */
export const HMAC_ASSERTION_ALGS = { HS256: 32, HS384: 48, HS512: 64 } as const;

export type HmacAlg = keyof typeof HMAC_ASSERTION_ALGS;
export const isHmacAlg = (alg: string): alg is HmacAlg => Object.hasOwn(HMAC_ASSERTION_ALGS, alg);
export const isAsymmetricAlg = (alg: string): boolean => (ASYMMETRIC_ASSERTION_ALGS as readonly string[]).includes(alg);

/** Which JWK `kty` (and `crv`) can verify a given asymmetric alg. */
export function keyFitsAlg(jwk: { kty?: string; crv?: string }, alg: string): boolean {
  if (alg.startsWith("RS") || alg.startsWith("PS")) return jwk.kty === "RSA";
  if (alg === "ES256") return jwk.kty === "EC" && jwk.crv === "P-256";
  if (alg === "ES384") return jwk.kty === "EC" && jwk.crv === "P-384";
  if (alg === "ES512") return jwk.kty === "EC" && jwk.crv === "P-521";
  if (alg === "EdDSA" || alg === "Ed25519") return jwk.kty === "OKP" && jwk.crv === "Ed25519";
  return false;
}

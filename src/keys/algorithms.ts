import { fromBase64url } from "../crypto/encoding";

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

/** RS* and PS* keys MUST be 2048 bits or larger (RFC 7518 §3.3, §3.5). */
export const MIN_RSA_BITS = 2048;

/** The size in bits of an RSA JWK's modulus `n` (RFC 7518 §6.3.1.1); 0 when it is not base64url. */
export function rsaModulusBits(n: unknown): number {
  const bytes = typeof n === "string" ? fromBase64url(n) : undefined;
  if (bytes === undefined) return 0;
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  if (first === bytes.length) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]!));
}

/**
 * How Web Crypto makes and checks a JWS signature for each alg we sign or verify (RFC 7518 §3.2–3.5;
 * RFC 8037 §3.1), and what the key must be: its Web Crypto algorithm and, where the alg fixes them,
 * its hash and curve. ECDSA in Web Crypto works on r || s, the JWS form (RFC 7518 §3.4).
 */
interface JwsAlgorithm {
  params: SubtleCryptoSignAlgorithm;
  hash?: string;
  curve?: string;
}
const JWS_ALGORITHMS: Readonly<Record<string, JwsAlgorithm>> = {
  ES256: { params: { name: "ECDSA", hash: "SHA-256" }, curve: "P-256" },
  ES384: { params: { name: "ECDSA", hash: "SHA-384" }, curve: "P-384" },
  ES512: { params: { name: "ECDSA", hash: "SHA-512" }, curve: "P-521" },
  RS256: { params: { name: "RSASSA-PKCS1-v1_5" }, hash: "SHA-256" },
  RS384: { params: { name: "RSASSA-PKCS1-v1_5" }, hash: "SHA-384" },
  RS512: { params: { name: "RSASSA-PKCS1-v1_5" }, hash: "SHA-512" },
  PS256: { params: { name: "RSA-PSS", saltLength: 32 }, hash: "SHA-256" },
  PS384: { params: { name: "RSA-PSS", saltLength: 48 }, hash: "SHA-384" },
  PS512: { params: { name: "RSA-PSS", saltLength: 64 }, hash: "SHA-512" },
  EdDSA: { params: { name: "Ed25519" } },
  Ed25519: { params: { name: "Ed25519" } },
  HS256: { params: { name: "HMAC" }, hash: "SHA-256" },
  HS384: { params: { name: "HMAC" }, hash: "SHA-384" },
  HS512: { params: { name: "HMAC" }, hash: "SHA-512" },
};

/**
 * The Web Crypto parameters for a JWS signature with `alg` by `key`, or undefined when the alg is
 * unknown or the key is not one for it (another algorithm, hash or curve, or an RSA key under 2048
 * bits): a key made for one alg never checks a signature of another (RFC 8725 §3.1).
 */
export function subtleJwsParams(alg: string, key: CryptoKey): SubtleCryptoSignAlgorithm | undefined {
  const jws = Object.hasOwn(JWS_ALGORITHMS, alg) ? JWS_ALGORITHMS[alg] : undefined;
  if (jws === undefined) return undefined;
  const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number };
  if (algorithm.name !== jws.params.name) return undefined;
  if (jws.hash !== undefined && algorithm.hash?.name !== jws.hash) return undefined;
  if (jws.curve !== undefined && algorithm.namedCurve !== jws.curve) return undefined;
  if (algorithm.modulusLength !== undefined && algorithm.modulusLength < MIN_RSA_BITS) return undefined;
  return jws.params;
}

/** The Web Crypto parameters for our own signatures (a key of ours always fits its alg). */
export function subtleSignParams(alg: SigningAlg, key: CryptoKey): SubtleCryptoSignAlgorithm {
  const params = subtleJwsParams(alg, key);
  if (params === undefined) throw new Error(`the ${alg} signing key does not fit its alg`);
  return params;
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

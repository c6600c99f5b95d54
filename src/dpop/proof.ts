import { importJWK, type JWK } from "jose";
import { base64url, utf8 } from "../crypto/encoding";
import { sha256, timingSafeEqual } from "../crypto/hash";
import type { ErrorCode } from "../errors/catalog";
import { OAuthError } from "../errors/oauth-error";
import { ASYMMETRIC_ASSERTION_ALGS, keyFitsAlg, MIN_RSA_BITS, rsaModulusBits } from "../keys/algorithms";
import type { ReplayCache, ReplayNamespace } from "../replay/replay-cache";
import { checkJwt, decodeJwt, isNonEmptyString, jwtFailure, type JwtFailure, type JwtFailureKind, type JwtRules, type KeyChoice } from "../tokens/verify-jwt";
import { currentNonce, isFreshNonce, type NonceDeps } from "./nonce";
import { jwkThumbprint } from "./thumbprint";

/**
 * DPoP proof validation (RFC 9449 §4.3), the same at the token endpoint and at UserInfo. The
 * numbered checks of §4.3, in order:
 *  1. exactly one `DPoP` header;  2. a compact JWS;  3. the required claims (jti, htm, htu, iat; ath
 *  with an access token);  4. typ dpop+jwt;  5. an asymmetric alg of `dpop_signing_alg_values_supported`;
 *  6. the signature by the header's `jwk`;  7. that `jwk` holds no private key;  8. htm;  9. htu
 *  without query and fragment, normalized;  10. the server's nonce when one is required;  11. iat
 *  within the window, and the jti never seen in it;  12. with an access token, `ath`.
 * The signature and the time claims go through the one JWT verifier (src/tokens/verify-jwt.ts);
 * the key's match with the token's `cnf.jkt` is the caller's (it knows the token).
 */

/** `dpop_signing_alg_values_supported` (RFC 9449 §5.1): the asymmetric algs of the algorithm table. */
export const DPOP_SIGNING_ALGS: readonly string[] = ASYMMETRIC_ASSERTION_ALGS;
const isDpopAlg = (alg: string) => DPOP_SIGNING_ALGS.includes(alg);

/** JWK members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
/** What a public key is imported from: nothing else of the header's `jwk` reaches Web Crypto. */
const PUBLIC_MEMBERS = ["kty", "crv", "x", "y", "n", "e"] as const;

/**
 * Proof `jti`s (§11.1): one use within the iat window. Spread over 256 objects by the SHA-256 of
 * (key thumbprint, jti) (src/replay/replay-cache.ts locateKey), so one busy client — one key —
 * never piles onto the object that serves everybody else.
 */
export const DPOP_JTI_NAMESPACE: ReplayNamespace = { name: "dpop-jti", shardHexDigits: 2 };

/** The catalog codes a caller answers with: the token endpoint's 400s, UserInfo's 401 challenges. */
export interface ProofErrors {
  invalid: ErrorCode;
  nonce: ErrorCode;
  replayed: ErrorCode;
}

export interface ProofRequest {
  /** The `DPoP` header as the Fetch API gives it (several headers come joined by ", "). */
  header: string | null;
  method: string;
  /** The request's URL (its query and fragment are ignored). */
  url: string;
  /** The access token presented with the proof (UserInfo): `ath` must be its hash. */
  accessToken?: string;
  /** A nonce is required (the server's setting or the client's metadata). */
  nonceRequired: boolean;
  /** The algs accepted from this client when narrower than DPOP_SIGNING_ALGS (FAPI 2.0 §5.4.1, src/profiles/fapi2.ts). */
  algs?: readonly string[];
}

export interface ProofDeps {
  now: number;
  skew: number;
  /** How old `iat` may be (config.dpopProofMaxAge). */
  maxAge: number;
  nonce: NonceDeps;
  /** Only `reserve` is used: a resource server outside Latchkey may bring its own (src/resource-server/). */
  replay: Pick<ReplayCache, "reserve">;
  errors: ProofErrors;
}

export interface ValidProof {
  /** The JWK SHA-256 thumbprint of the proof key (RFC 7638): `cnf.jkt`. */
  jkt: string;
  jti: string;
}

interface ProofRules extends JwtRules {
  jwk?: Readonly<Record<string, unknown>>;
}

const required = {
  jti: (v: unknown) => isNonEmptyString(v) && v.length <= 256,
  htm: isNonEmptyString,
  htu: isNonEmptyString,
} as const;

const DESCRIPTIONS: Record<JwtFailureKind, string> = {
  malformed: "The DPoP proof is not a well-formed JWT.",
  typ: "The DPoP proof typ must be dpop+jwt.",
  alg: `The DPoP proof alg must be one of ${DPOP_SIGNING_ALGS.join(" ")}.`,
  key_not_found: "The DPoP proof header must carry the public key (jwk) of a supported alg, without private members.",
  signature: "The DPoP proof signature does not verify with its jwk.",
  iss: "", sub: "", aud: "", expired: "", lifetime: "", not_yet_valid: "",
  iat: "The DPoP proof iat is outside the accepted window.",
  missing_claim: "The DPoP proof claim is missing or malformed.",
};

/** Check 5–7: the header's `jwk`, a public key of the alg's type, imported as such. */
async function proofKey(header: Readonly<Record<string, unknown>>, rules: ProofRules): Promise<KeyChoice> {
  const jwk = header.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return jwtFailure("key_not_found");
  const record = jwk as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((m) => record[m] !== undefined)) return jwtFailure("key_not_found");
  const alg = header.alg as string;
  if (!keyFitsAlg(record, alg)) return jwtFailure("key_not_found");
  if (record.kty === "RSA" && rsaModulusBits(record.n) < MIN_RSA_BITS) return jwtFailure("key_not_found");
  const pub: Record<string, unknown> = {};
  for (const m of PUBLIC_MEMBERS) if (record[m] !== undefined) pub[m] = record[m];
  try {
    const key = await importJWK(pub as JWK, alg);
    if (!(key instanceof CryptoKey)) return jwtFailure("key_not_found");
    rules.jwk = record;
    return key;
  } catch {
    return jwtFailure("key_not_found");
  }
}

/**
 * The URI a proof's `htu` is compared with (§4.3 check 9, RFC 3986 §6.2.2–6.2.3 normalization):
 * scheme and host lower case, the default port dropped, an empty path as "/", without query and
 * fragment. Undefined for what is not an absolute http(s) URL.
 */
export function normalizedHtu(uri: string): string | undefined {
  if (!URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** base64url(SHA-256(ASCII(access token))) (§4.2 `ath`). */
export async function accessTokenHash(token: string): Promise<string> {
  return base64url(await sha256(utf8(token)));
}

/**
 * Validates the proof of one request (all twelve checks; the jti is spent last, once everything
 * else passed). Throws the caller's catalog codes: `nonce` (with a fresh `DPoP-Nonce` header) when
 * the nonce is required and absent, stale or not ours; `replayed` for a jti already used; `invalid`
 * for everything else, the description saying which check failed.
 */
export async function validateProof(request: ProofRequest, deps: ProofDeps): Promise<ValidProof> {
  const { errors } = deps;
  const invalid = (detail: string) => new OAuthError(errors.invalid, detail);
  const { header } = request;
  // 1. One header: the Fetch API joins repeated headers with ", ", which a JWT never contains.
  if (header === null || header.includes(",")) throw invalid("Exactly one DPoP header with one proof is required.");
  // 2. A compact JWS.
  const jwt = decodeJwt(header.trim());
  if (jwt === undefined) throw invalid(DESCRIPTIONS.malformed);
  // 3–7 and the iat window of 11 through the one JWT verifier.
  const rules: ProofRules = {
    typ: ["dpop+jwt"],
    alg: request.algs === undefined ? isDpopAlg : (alg: string) => isDpopAlg(alg) && request.algs!.includes(alg),
    key: proofKey,
    expiry: "when_present",
    maxAge: deps.maxAge,
    required: request.accessToken === undefined ? required : { ...required, ath: isNonEmptyString },
    now: deps.now,
    skew: deps.skew,
  };
  const failure: JwtFailure | undefined = await checkJwt(jwt, rules);
  if (failure !== undefined) {
    // A stale proof where nonces are in use: the client gets a nonce to make a fresh one (§8).
    if (failure.kind === "iat" && request.nonceRequired) throw await nonceError(deps);
    throw invalid(failure.kind === "missing_claim" ? `The DPoP proof claim ${failure.claim} is missing or malformed.` : DESCRIPTIONS[failure.kind]);
  }
  const { claims } = jwt;
  // 8. htm; 9. htu.
  if (claims.htm !== request.method) throw invalid("The DPoP proof htm is not the method of this request.");
  const htu = normalizedHtu(claims.htu as string);
  if (htu === undefined || htu !== normalizedHtu(request.url)) throw invalid("The DPoP proof htu is not the URI of this request.");
  // 10. The nonce.
  if (request.nonceRequired && !(await isFreshNonce(claims.nonce, deps.nonce))) throw await nonceError(deps);
  // 12. ath.
  if (request.accessToken !== undefined && !timingSafeEqual(String(claims.ath), await accessTokenHash(request.accessToken))) {
    throw invalid("The DPoP proof ath is not the hash of the access token.");
  }
  const jkt = await jwkThumbprint(rules.jwk!);
  if (jkt === undefined) throw invalid(DESCRIPTIONS.key_not_found);
  // 11. The jti, once within the window: kept until the iat check refuses the proof anyway.
  const jti = claims.jti as string;
  const expiresAt = (claims.iat as number) + deps.maxAge + 2 * deps.skew;
  if (!(await deps.replay.reserve(DPOP_JTI_NAMESPACE, `${jkt} ${jti}`, expiresAt))) {
    throw new OAuthError(errors.replayed);
  }
  return { jkt, jti };
}

/** The `use_dpop_nonce` answer (§8, §9): the caller's code, with a fresh nonce in `DPoP-Nonce`. */
async function nonceError(deps: ProofDeps): Promise<OAuthError> {
  return new OAuthError(deps.errors.nonce, undefined, { headers: { "dpop-nonce": await currentNonce(deps.nonce) } });
}

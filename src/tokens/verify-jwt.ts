import type { JWK } from "jose";
import { decodeJsonObject } from "../crypto/encoding";
import { keyFitsAlg } from "../keys/algorithms";
import type { Keyring } from "../keys/keyring";
import { decodeJws, verifyJws, type CompactJws } from "./jws";

/**
 * The one JWT verifier (RFC 7519 §7.2, RFC 8725 §3), over the one JWS check (jws.ts decodeJws +
 * verifyJws). Every JWT that reaches us from outside goes through it, each caller stating its own
 * rules and mapping the failure kinds to its own catalog codes:
 *
 * | caller                                   | typ                   | alg                 | key                        | order           |
 * | client assertions (src/client-auth/)     | —                     | the method's family | the client's (client-keys) | claims first    |
 * | access tokens (verify-access-token.ts)   | at+jwt                | ours                | our keyring (by kid)       | signature first |
 * | id_token_hint (verify-id-token.ts)       | JWT                   | ours                | our keyring (by kid)       | signature first |
 * | software statements (src/registration/)  | —                     | asymmetric          | the operator's JWK Set     | signature first |
 * | CIBA signed requests (src/ciba/)         | —                     | the registered one  | the client's (client-keys) | signature first |
 *
 * Next (docs/architecture.md "One JWT verifier"): request objects (JAR, RFC 9101: typ
 * oauth-authz-req+jwt, the client's keys, `aud` = the issuer, `iss` = the client), DPoP proofs
 * (RFC 9449 §4.3: typ dpop+jwt, the key from the header's `jwk`, `iat` with `maxAge`, `jti`
 * required) and CIBA hints (login_hint_token / id_token_hint: our keyring or the client's).
 *
 * The checks, in order: `typ`; `alg` (never `none`, then the caller's allow-list); the key (the
 * caller's resolver, which may refuse: key_not_found, alg); then — signature first by default
 * (RFC 7519 §7.2), or claims first where a signature costs more than a refusal (`claimsFirst`:
 * client assertions, so that unauthenticated garbage never costs a signature) — the signature and
 * the claims: `iss`, `sub`, `aud`, `exp` (with `maxLifetime`), `nbf`, `iat` (with `maxAge`), then
 * the caller's required claims. Times allow `skew` seconds either way.
 *
 * Failures are returned, never thrown (a resolver may throw its own OAuthError, e.g. a client's
 * unusable key set); the frequent ones are shared constants, so refusing allocates next to nothing.
 */

export type JwtFailureKind =
  | "malformed" // not a compact JWS whose header and payload are JSON objects; or a time claim that is not a number
  | "typ" // the header's typ is not one the caller accepts
  | "alg" // none, not on the caller's allow-list, or not the alg of the chosen key
  | "key_not_found" // no key for this header (unknown kid, no usable key)
  | "signature" // the signature does not verify (or a `crit` header: we understand no extension)
  | "iss"
  | "sub"
  | "aud"
  | "expired" // exp at or before now − skew
  | "lifetime" // exp further ahead than the caller's maxLifetime
  | "not_yet_valid" // nbf after now + skew
  | "iat" // iat after now + skew, or older than the caller's maxAge
  | "missing_claim"; // a required claim absent or not of its type

export interface JwtFailure {
  readonly kind: JwtFailureKind;
  /** The claim concerned (missing_claim, and malformed for a time claim). */
  readonly claim?: string;
}

const failures = {} as Record<JwtFailureKind, JwtFailure>;
/** The failure of `kind` without a claim (one shared object per kind). */
export function jwtFailure(kind: JwtFailureKind): JwtFailure {
  return (failures[kind] ??= Object.freeze({ kind }));
}
const claimFailure = (kind: "malformed" | "missing_claim", claim: string): JwtFailure => ({ kind, claim });

/** A compact JWS whose payload is a JSON object: the claims. */
export interface DecodedJwt {
  readonly jws: CompactJws;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** `token` taken apart (RFC 7519 §7.2 steps 1–8 without the signature); undefined if it is not a JWT. Trusts nothing. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const jws = decodeJws(token);
  const claims = jws && decodeJsonObject(jws.payload);
  return claims === undefined ? undefined : { jws: jws!, claims };
}

export type KeyChoice = CryptoKey | JwtFailure;

/**
 * One caller's rules. The rule functions receive the rules object itself, so a caller puts what
 * they compare against (its client, its keyring) beside them and module-level functions serve
 * every request, without a closure per request.
 */
export interface JwtRules {
  /** Accepted `typ` values, lower case (media types compare case-insensitively, RFC 7515 §4.1.9); omitted: not checked. */
  readonly typ?: readonly string[];
  /** The alg allow-list (RFC 8725 §3.1). `none` is refused before it is asked. */
  readonly alg: (alg: string) => boolean;
  /** The key: chosen already, or chosen by the header (its `kid`, its `alg`). */
  readonly key: CryptoKey | ((header: Readonly<Record<string, unknown>>, rules: this) => KeyChoice | Promise<KeyChoice>);
  /** Expected `iss`: the value, or a rule. Omitted: not checked. */
  readonly iss?: string | ((iss: unknown, rules: this) => boolean);
  /** Expected `sub`: the value. Omitted: not checked. */
  readonly sub?: string;
  /** Whether `aud` names us (RFC 7519 §4.1.3). Omitted: not checked. */
  readonly aud?: (aud: unknown, rules: this) => boolean;
  /**
   * `exp`: "required" (a number, not past), "when_present" (not past if given), "not_checked"
   * (an expired token of ours is still ours: id_token_hint — require it in `required` if needed).
   */
  readonly expiry: "required" | "when_present" | "not_checked";
  /** At most this many seconds between now and `exp` (client assertions: config.maxAssertionLifetime). */
  readonly maxLifetime?: number;
  /** `iat`, when present, not after now + skew (it is always type-checked when present). */
  readonly iatNotInFuture?: boolean;
  /** `iat` required and at most this many seconds old (DPoP proofs, RFC 9449 §11.1). */
  readonly maxAge?: number;
  /** Claims that must be present, each with its type rule; checked last, in this order. */
  readonly required?: Readonly<Record<string, (value: unknown) => boolean>>;
  /** Check the claims before the signature (see above). Default: the signature first. */
  readonly claimsFirst?: boolean;
  readonly now: number;
  readonly skew: number;
}

/**
 * Verifies a decoded JWT under `rules`: undefined when it passes, else the first failure. `jwt` is
 * anything holding the decoded JWS and its claims (the client-authentication dispatcher's
 * `Presented` assertion is one), so nothing is decoded twice.
 */
export async function checkJwt<R extends JwtRules>(jwt: DecodedJwt, rules: R): Promise<JwtFailure | undefined> {
  const { header } = jwt.jws;
  if (rules.typ !== undefined) {
    const typ = typeof header.typ === "string" ? header.typ.toLowerCase() : undefined;
    if (typ === undefined || !rules.typ.includes(typ)) return jwtFailure("typ");
  }
  const { alg } = header;
  if (typeof alg !== "string" || alg === "none" || !rules.alg(alg)) return jwtFailure("alg");
  const key = typeof rules.key === "function" ? await rules.key(header, rules) : rules.key;
  if (!(key instanceof CryptoKey)) return key;
  if (rules.claimsFirst) {
    const failure = checkClaims(jwt.claims, rules);
    if (failure !== undefined) return failure;
    return (await verifyJws(jwt.jws, key)) ? undefined : jwtFailure("signature");
  }
  if (!(await verifyJws(jwt.jws, key))) return jwtFailure("signature");
  return checkClaims(jwt.claims, rules);
}

/**
 * `checkJwt` for a token as it arrived: decoded here (malformed if it is not a JWT). The decoded
 * JWT either way (on failure, when it could be decoded: a caller's error may depend on its header).
 */
export async function verifyJwt<R extends JwtRules>(
  token: string,
  rules: R,
): Promise<{ ok: true; jwt: DecodedJwt } | { ok: false; failure: JwtFailure; jwt?: DecodedJwt }> {
  const jwt = decodeJwt(token);
  if (jwt === undefined) return { ok: false, failure: jwtFailure("malformed") };
  const failure = await checkJwt(jwt, rules);
  return failure === undefined ? { ok: true, jwt } : { ok: false, failure, jwt };
}

function checkClaims<R extends JwtRules>(claims: Readonly<Record<string, unknown>>, rules: R): JwtFailure | undefined {
  const { now, skew } = rules;
  if (rules.iss !== undefined && !(typeof rules.iss === "string" ? claims.iss === rules.iss : rules.iss(claims.iss, rules))) {
    return jwtFailure("iss");
  }
  if (rules.sub !== undefined && claims.sub !== rules.sub) return jwtFailure("sub");
  if (rules.aud !== undefined && !rules.aud(claims.aud, rules)) return jwtFailure("aud");
  const { exp, nbf, iat } = claims;
  if (rules.expiry !== "not_checked" && (exp !== undefined || rules.expiry === "required")) {
    if (typeof exp !== "number" || !Number.isFinite(exp)) return claimFailure("missing_claim", "exp");
    if (exp <= now - skew) return jwtFailure("expired");
    if (rules.maxLifetime !== undefined && exp - now > rules.maxLifetime) return jwtFailure("lifetime");
  }
  if (nbf !== undefined) {
    if (typeof nbf !== "number") return claimFailure("malformed", "nbf");
    if (nbf > now + skew) return jwtFailure("not_yet_valid");
  }
  if (iat !== undefined) {
    if (typeof iat !== "number") return claimFailure("malformed", "iat");
    if ((rules.iatNotInFuture || rules.maxAge !== undefined) && iat > now + skew) return jwtFailure("iat");
    if (rules.maxAge !== undefined && now - skew - iat > rules.maxAge) return jwtFailure("iat");
  } else if (rules.maxAge !== undefined) {
    return claimFailure("missing_claim", "iat");
  }
  const { required } = rules;
  if (required !== undefined) {
    for (const claim in required) if (!required[claim]!(claims[claim])) return claimFailure("missing_claim", claim);
  }
  return undefined;
}

// ── Key choice shared by callers ─────────────────────────────────────────────────────────────────

/** Rules whose key is one of ours (access tokens, ID tokens presented back): the keyring to look in. */
export interface OwnKeyRules extends JwtRules {
  readonly keys: Keyring;
}

/**
 * Our key named by the header's `kid` (current, next or retired), whose alg must be the header's:
 * key_not_found for no or an unknown kid, alg for another alg.
 */
export async function ownKey(header: Readonly<Record<string, unknown>>, rules: { readonly keys: Keyring }): Promise<KeyChoice> {
  const { kid } = header;
  if (typeof kid !== "string" || kid.length === 0) return jwtFailure("key_not_found");
  const key = await rules.keys.verifier(kid);
  if (key === undefined) return jwtFailure("key_not_found");
  return header.alg === key.alg ? key.key : jwtFailure("alg");
}

/**
 * The keys of a JWK Set that can verify `alg` (type and curve; `alg`, `use` and `key_ops` where
 * given) and, when the header names a `kid`, carry that kid (RFC 7515 §4.1.4, RFC 7517 §4). Who
 * calls decides what none, or more than one, means.
 */
export function matchingKeys(keys: readonly JWK[], alg: string, kid: string | undefined): JWK[] {
  return keys.filter(
    (k) =>
      keyFitsAlg(k, alg) &&
      (k.alg === undefined || k.alg === alg) &&
      (k.use === undefined || k.use === "sig") &&
      (k.key_ops === undefined || k.key_ops.includes("verify")) &&
      (kid === undefined || k.kid === kid),
  );
}

/** Type rules for `required`. */
export const isNonEmptyString = (value: unknown): value is string => typeof value === "string" && value.length > 0;
export const isTime = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= 0;

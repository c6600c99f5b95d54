import type { Config } from "../config";
import { OAuthError, ensure } from "../errors/oauth-error";
import { isServerSigningAlg } from "../keys/algorithms";
import type { Keyring } from "../keys/keyring";
import { looksLikeOwnJwt } from "./jws";
import { isRevoked } from "./revocation";
import {
  checkJwt, decodeJwt, isNonEmptyString, isTime, jwtFailure, ownKey,
  type DecodedJwt, type JwtFailure, type JwtFailureKind, type OwnKeyRules,
} from "./verify-jwt";

/** The claims of one of our RFC 9068 access tokens (src/tokens/access-token.ts), after verification. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  /** Space-separated, as in the token (RFC 9068 §2.2.3). */
  scope: string;
  jti: string;
  iat: number;
  exp: number;
  auth_time?: number;
  /** The consent grant id (private claim, src/tokens/access-token.ts). */
  gid?: string;
  /** The key the token is bound to (RFC 7800 §3.1): `jkt` (RFC 9449 §6.1) or `x5t#S256` (RFC 8705 §3.1). */
  cnf?: { jkt?: string; "x5t#S256"?: string };
  /** OIDC Core §5.5: claim names UserInfo answers beyond the scope's, space-separated (private claim, src/tokens/access-token.ts). */
  userinfo_claims?: string;
  /** RFC 9396 §9.1: the authorization details the token stands for. */
  authorization_details?: unknown[];
}

export interface VerifyAccessTokenDeps {
  config: Config;
  keys: Keyring;
  /** The revocation list (src/tokens/revocation.ts). */
  kv: KVNamespace;
  now: number;
  /**
   * When given, `aud` must contain one of these (RFC 9068 §4: the resource server checks that it
   * is an intended audience). Omit to accept any audience.
   */
  audiences?: readonly string[];
}


/** The verifier's rules for our access tokens (RFC 9068 §4), with what the audience is checked against. */
interface AccessTokenRules extends OwnKeyRules {
  readonly audiences: readonly string[] | undefined;
}

/** The `typ` values of an RFC 9068 access token (§2.1, §4). */
export const AT_TYP = ["at+jwt", "application/at+jwt"];
const audienceOf = (aud: unknown, rules: AccessTokenRules) =>
  typeof aud === "string" ? rules.audiences!.includes(aud) : Array.isArray(aud) && aud.some((a) => rules.audiences!.includes(a));
const isAudience = (aud: unknown) => isNonEmptyString(aud) || (Array.isArray(aud) && aud.length > 0 && aud.every(isNonEmptyString));
const optional = (rule: (value: unknown) => boolean) => (value: unknown) => value === undefined || rule(value);

/** RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; we always put scope too. */
export const AT_REQUIRED = {
  iss: isNonEmptyString,
  sub: isNonEmptyString,
  aud: isAudience,
  client_id: isNonEmptyString,
  scope: (scope: unknown) => typeof scope === "string",
  jti: (jti: unknown) => isNonEmptyString(jti) && jti.length <= 256,
  iat: isTime,
  exp: isTime,
  auth_time: optional(isTime),
  gid: optional(isNonEmptyString),
  cnf: optional((cnf: unknown) => typeof cnf === "object" && cnf !== null && !Array.isArray(cnf)),
  userinfo_claims: optional((names: unknown) => typeof names === "string"),
} as const;

/** What each failure of the verifier says about an access token (all invalid_token but expiry: token_expired). */
const AT_FAILURES: Record<JwtFailureKind, string> = {
  malformed: "The access token is not a well-formed JWT.",
  typ: "The token is not an access token (typ must be at+jwt).",
  alg: "The access token alg does not match its key.",
  key_not_found: "The access token was not signed by a key of this server.",
  signature: "The access token signature is invalid.",
  iss: "The access token was issued by another issuer.",
  sub: "The access token sub is not the expected one.",
  aud: "The access token is not meant for this endpoint.",
  expired: "The access token has expired.",
  lifetime: "The access token lives too long.",
  not_yet_valid: "The access token is not valid yet.",
  iat: "The access token iat is in the future.",
  missing_claim: "The access token claim is missing or malformed.",
};

/** The catalog error for a verifier failure (also the resource-server kit's, src/resource-server/). */
export function accessTokenError({ kind, claim }: JwtFailure): OAuthError {
  if (kind === "expired") return new OAuthError("token_expired");
  if (kind === "missing_claim" || (kind === "malformed" && claim !== undefined)) {
    return new OAuthError("invalid_token", `The access token claim ${claim} is missing or malformed.`);
  }
  return new OAuthError("invalid_token", AT_FAILURES[kind]);
}

/**
 * Verifies an access token we issued (RFC 9068 §4) through the one JWT verifier
 * (src/tokens/verify-jwt.ts): compact JWS, `typ` at+jwt, a `kid` that names one of our published
 * keys, `alg` equal to that key's alg, a valid signature, `iss` = our issuer, `aud` one of
 * `deps.audiences` when given, not expired (config.clockSkew allowed), `iat` not in the future, the
 * required claims present and well typed, and not on the revocation list. Returns the claims.
 *
 * A bad token only ever throws OAuthError: `token_expired`, `token_revoked` or `invalid_token`
 * (with a description of what was wrong). Failures of our own infrastructure (D1, KV) propagate as
 * they are and become server_error.
 */
export async function verifyAccessToken(token: string, deps: VerifyAccessTokenDeps): Promise<AccessTokenClaims> {
  ensure(looksLikeOwnJwt(token), "invalid_token", "The access token is not a signed JWT.");
  const jwt = decodeJwt(token);
  if (jwt === undefined) throw accessTokenError(jwtFailure("malformed"));
  return checkAccessToken(jwt, deps);
}

/** `verifyAccessToken` for a token decoded already (src/tokens/find-token.ts decodes once to read its typ). */
export async function checkAccessToken(jwt: DecodedJwt, deps: VerifyAccessTokenDeps): Promise<AccessTokenClaims> {
  const { config, now } = deps;
  const rules: AccessTokenRules = {
    typ: AT_TYP,
    alg: isServerSigningAlg,
    key: ownKey,
    keys: deps.keys,
    iss: config.issuer,
    ...(deps.audiences !== undefined && { aud: audienceOf }),
    audiences: deps.audiences,
    expiry: "required",
    iatNotInFuture: true,
    required: AT_REQUIRED,
    now,
    skew: config.clockSkew,
  };
  const failure = await checkJwt(jwt, rules);
  if (failure !== undefined) throw accessTokenError(failure);
  const claims = jwt.claims as unknown as AccessTokenClaims;
  ensure(!(await isRevoked(deps.kv, claims.jti)), "token_revoked");
  return claims;
}

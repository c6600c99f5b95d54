import type { Config } from "../config";
import { decodeJsonObject } from "../crypto/encoding";
import { ensure } from "../errors/oauth-error";
import type { Keyring } from "../keys/keyring";
import { decodeJws, looksLikeOwnJwt, verifyJws } from "./jws";
import { isRevoked } from "./revocation";

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


/**
 * Verifies an access token we issued (RFC 9068 §4): compact JWS, `typ` at+jwt, a `kid` that names
 * one of our published keys, `alg` equal to that key's alg, a valid signature, `iss` = our issuer,
 * not expired (config.clockSkew allowed), the required claims present and well typed, and not on
 * the revocation list. Returns the claims.
 *
 * A bad token only ever throws OAuthError: `token_expired`, `token_revoked` or `invalid_token`
 * (with a description of what was wrong). Failures of our own infrastructure (D1, KV) propagate as
 * they are and become server_error.
 */
export async function verifyAccessToken(token: string, deps: VerifyAccessTokenDeps): Promise<AccessTokenClaims> {
  const { config, now } = deps;
  const skew = config.clockSkew;
  ensure(looksLikeOwnJwt(token), "invalid_token", "The access token is not a signed JWT.");

  const jws = decodeJws(token);
  ensure(jws !== undefined, "invalid_token", "The access token header is malformed.");
  const { header } = jws;
  // RFC 9068 §4: typ "at+jwt" or "application/at+jwt"; media types compare case-insensitively (RFC 7515 §4.1.9).
  const typ = typeof header.typ === "string" ? header.typ.toLowerCase() : undefined;
  ensure(typ === "at+jwt" || typ === "application/at+jwt", "invalid_token", "The token is not an access token (typ must be at+jwt).");
  ensure(typeof header.kid === "string" && header.kid.length > 0, "invalid_token", "The access token header has no kid.");
  const key = await deps.keys.verifier(header.kid);
  ensure(key !== undefined, "invalid_token", "The access token was not signed by a key of this server.");
  ensure(header.alg === key.alg, "invalid_token", "The access token alg does not match its key.");

  ensure(await verifyJws(jws, key.key), "invalid_token", "The access token signature is invalid.");
  const claims = parseClaims(jws.payload);

  ensure(claims.iss === config.issuer, "invalid_token", "The access token was issued by another issuer.");
  ensure(claims.exp > now - skew, "token_expired");
  ensure(claims.iat <= now + skew, "invalid_token", "The access token iat is in the future.");
  if (deps.audiences !== undefined) {
    const aud = typeof claims.aud === "string" ? [claims.aud] : claims.aud;
    ensure(aud.some((a) => deps.audiences!.includes(a)), "invalid_token", "The access token is not meant for this endpoint.");
  }
  ensure(!(await isRevoked(deps.kv, claims.jti)), "token_revoked");
  return claims;
}

const isString = (value: unknown): value is string => typeof value === "string" && value.length > 0;
const isTime = (value: unknown): value is number => typeof value === "number" && Number.isInteger(value) && value >= 0;

/** RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti are required; we always put scope too. */
function parseClaims(payload: Uint8Array): AccessTokenClaims {
  const c = decodeJsonObject(payload);
  ensure(c !== undefined, "invalid_token", "The access token payload is not a JSON object.");
  const missing = (name: string) => `The access token claim ${name} is missing or malformed.`;
  ensure(isString(c.iss), "invalid_token", missing("iss"));
  ensure(isString(c.sub), "invalid_token", missing("sub"));
  ensure(isString(c.aud) || (Array.isArray(c.aud) && c.aud.length > 0 && c.aud.every(isString)), "invalid_token", missing("aud"));
  ensure(isString(c.client_id), "invalid_token", missing("client_id"));
  ensure(typeof c.scope === "string", "invalid_token", missing("scope"));
  ensure(isString(c.jti) && c.jti.length <= 256, "invalid_token", missing("jti"));
  ensure(isTime(c.iat), "invalid_token", missing("iat"));
  ensure(isTime(c.exp), "invalid_token", missing("exp"));
  ensure(c.auth_time === undefined || isTime(c.auth_time), "invalid_token", missing("auth_time"));
  ensure(c.gid === undefined || isString(c.gid), "invalid_token", missing("gid"));
  return c as unknown as AccessTokenClaims;
}

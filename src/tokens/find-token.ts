import type { Config } from "../config";
import { OAuthError } from "../errors/oauth-error";
import type { Keyring } from "../keys/keyring";
import { COMPACT_JWS, MAX_OWN_JWT_LENGTH } from "./jws";
import { findRefreshToken, type StoredRefreshToken } from "./refresh-token";
import { checkAccessToken, type AccessTokenClaims } from "./verify-access-token";
import { checkOwnIdToken } from "./verify-id-token";
import { decodeJwt, type DecodedJwt } from "./verify-jwt";

/**
 * What a token presented to /revoke or /introspect turned out to be (RFC 7009 §2.1, RFC 7662 §2.1).
 *
 * Our two revocable types differ in shape — access tokens are JWTs (RFC 9068), refresh tokens
 * 43 base64url characters without dots — so the token itself says where to look and
 * `token_type_hint` is not needed: whatever the hint, every type is searched (RFC 7009 §2.1 "MUST
 * extend its search"), and an unknown hint value is ignored.
 *
 * Access tokens are found only when they verify and are live (signature, issuer, expiry, the KV
 * revocation list); one that fails any check is no token at all here — both endpoints then answer
 * as for an unknown token. ID tokens of ours are recognised so revocation can say it cannot revoke
 * them (RFC 7009 §2.2.1 unsupported_token_type).
 */
export type FoundToken =
  | { type: "access_token"; claims: AccessTokenClaims }
  | { type: "refresh_token"; stored: StoredRefreshToken }
  | { type: "id_token"; audience: string[] };

export interface FindTokenDeps {
  config: Config;
  keys: Keyring;
  db: D1Database;
  kv: KVNamespace;
  now: number;
}


export async function findToken(token: string, deps: FindTokenDeps): Promise<FoundToken | null> {
  if (token.length > MAX_OWN_JWT_LENGTH) return null;
  if (!COMPACT_JWS.test(token)) {
    const stored = await findRefreshToken(deps.db, token);
    return stored === null ? null : { type: "refresh_token", stored };
  }
  // Decoded once; the header's typ says which of our JWTs it would be.
  const jwt = decodeJwt(token);
  if (jwt === undefined) return null;
  const { typ } = jwt.jws.header;
  if (typeof typ === "string" && typ.toLowerCase() === "jwt") return idToken(jwt, deps);
  try {
    return { type: "access_token", claims: await checkAccessToken(jwt, deps) };
  } catch (cause) {
    if (cause instanceof OAuthError) return null;
    throw cause;
  }
}

/** One of our ID tokens (OIDC Core §2): signed by a key of ours, our issuer. Expired ones count too. */
async function idToken(jwt: DecodedJwt, deps: FindTokenDeps): Promise<FoundToken | null> {
  const claims = await checkOwnIdToken(jwt, deps);
  return claims === null ? null : { type: "id_token", audience: claims.aud };
}

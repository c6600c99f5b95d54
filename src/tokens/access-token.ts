import { randomToken } from "../crypto/encoding";
import type { Config } from "../config";
import { ACCESS_TOKEN_ALG } from "../keys/algorithms";
import type { Keyring } from "../keys/keyring";
import { signJwt } from "./jws";
import type { Confirmation } from "./minter";
import type { AuthorizationDetail } from "../authorize/authorization-details";

/** Input for an RFC 9068 JWT access token. */
export interface AccessTokenGrant {
  /** The resource owner, or the client itself for client_credentials (RFC 9068 §2.2). */
  sub: string;
  clientId: string;
  scope: string[];
  audience?: string | string[];
  authTime?: number;
  /**
   * The consent grant the token was issued under (src/consent/store.ts `grantId`). Emitted as the
   * private claim `gid`; the UserInfo endpoint compares it with the current consent, so withdrawing
   * (or withdrawing and re-giving) consent stops the tokens issued before. Absent for
   * client_credentials tokens, which act for the client itself.
   */
  grantId?: string;
  /** The confirmation claim of a sender-constrained token (RFC 9449 §6.1 `jkt`, RFC 8705 §3.1 `x5t#S256`). */
  cnf?: Confirmation;
  /**
   * OIDC Core §5.5: claim names the claims request asked UserInfo for beyond the scope's. Emitted
   * as the private claim `userinfo_claims`, space-separated like `scope`: what UserInfo answers.
   */
  userinfoClaims?: string[];
  /** RFC 9396 §9.1: the authorization details the token stands for (its `authorization_details` claim). */
  authorizationDetails?: AuthorizationDetail[];
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

/** Signs an RFC 9068 access token: `typ: at+jwt`, with iss, sub, aud, client_id, scope, jti, iat, exp (and auth_time, gid, cnf, authorization_details when given). */
export async function issueAccessToken(
  grant: AccessTokenGrant,
  deps: { config: Config; keys: Keyring; now: number },
): Promise<IssuedAccessToken> {
  const signer = await deps.keys.signer(ACCESS_TOKEN_ALG);
  const jti = randomToken(16);
  const expiresIn = deps.config.accessTokenTtl;
  const claims: Record<string, unknown> = {
    iss: deps.config.issuer,
    sub: grant.sub,
    aud: grant.audience ?? deps.config.accessTokenAudience,
    client_id: grant.clientId,
    scope: grant.scope.join(" "),
    iat: deps.now,
    exp: deps.now + expiresIn,
    jti,
  };
  if (grant.authTime !== undefined) claims.auth_time = grant.authTime;
  if (grant.grantId !== undefined) claims.gid = grant.grantId;
  if (grant.cnf !== undefined) claims.cnf = { ...grant.cnf };
  if (grant.userinfoClaims !== undefined && grant.userinfoClaims.length > 0) claims.userinfo_claims = grant.userinfoClaims.join(" ");
  if (grant.authorizationDetails !== undefined) claims.authorization_details = grant.authorizationDetails;
  const token = await signJwt(signer, "at+jwt", claims);
  return { token, jti, expiresIn };
}

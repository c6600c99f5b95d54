import { OAuthError, ensure } from "../errors/oauth-error";
import { NO_STORE, type Step } from "../http/context";
import { database, requestKeyring, revocationKv } from "../services";
import { findToken } from "../tokens/find-token";
import { revokeFamily } from "../tokens/refresh-token";
import { revokeAccessToken } from "../tokens/revocation";
import { authenticateTokenClient, parseTokenRequest, tokenCors } from "./token";

/**
 * The revocation endpoint (RFC 7009) as a pipeline of named steps: the token endpoint's own form
 * parsing and client authentication (one dispatcher, src/client-auth; public clients name
 * themselves with client_id), then the revocation.
 *
 * - A refresh token revokes its whole family: every refresh token of it, and the access tokens
 *   issued with them through the KV revocation list (RFC 7009 §2.1 "SHOULD also invalidate all
 *   access tokens based on the same authorization grant"). The access tokens are listed before the
 *   refresh tokens are marked (revokeFamily): should a store fail, the client gets server_error,
 *   and its retry completes the revocation (a revoked token is still found and revoked again).
 * - An access token (one of our JWTs, verified first) goes on the KV revocation list until it
 *   expires. Our own endpoints (UserInfo, introspection) honour the list; resource servers that
 *   verify JWTs locally cannot, which is why access tokens are short-lived (src/tokens/revocation.ts).
 * - An unknown, invalid, expired or already revoked token, or one issued to another client: 200
 *   and nothing happens (§2.2; nothing tells the caller which case it was).
 * - One of our ID tokens, issued to this client: 400 unsupported_token_type (§2.2.1): it cannot be
 *   recalled; revoke the refresh or access token instead.
 *
 * Browser clients may call it with CORS, as the token endpoint (tokenCors).
 */
export const revokeToken: Step = async function revokeToken(c) {
  const config = c.get("config");
  const now = c.get("now");
  const params = c.get("params");
  const token = params.get("token");
  ensure(token !== undefined, "missing_parameter", "The token parameter is missing.");
  const clientId = c.get("client").client.clientId;
  const found = await findToken(token, { config, keys: await requestKeyring(c), db: database(c), kv: revocationKv(c), now });
  if (found?.type === "access_token" && found.claims.client_id === clientId) {
    await revokeAccessToken(revocationKv(c), found.claims.jti, found.claims.exp, now);
  } else if (found?.type === "refresh_token" && found.stored.clientId === clientId) {
    await revokeFamily(database(c), revocationKv(c), found.stored.familyId, { now, reason: "revocation" });
  } else if (found?.type === "id_token" && found.audience.includes(clientId)) {
    throw new OAuthError("unsupported_token_type", "ID tokens cannot be revoked; revoke the refresh token or access token instead.");
  }
  // §2.2: 200 whatever the token was; the body is `{}` (JSON, as every answer of ours), since
  // clients parse it as JSON (an empty body throws in some client libraries, e.g. simple-oauth2).
  return c.json({}, 200, NO_STORE);
};

export const rejectOtherRevocationMethods: Step = async function rejectOtherRevocationMethods() {
  throw new OAuthError("method_not_allowed", "The revocation endpoint accepts POST only.", { headers: { allow: "POST" } });
};

/** POST /revoke (CORS preflight: the token endpoint's tokenPreflight). */
export const revocationEndpoint = [tokenCors, parseTokenRequest, authenticateTokenClient, revokeToken] as const;

import { accepts } from "hono/accepts";
import { introspectionSignedResponseAlg, isPublic, type Client } from "../clients/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { GrantServices } from "../grants/grant";
import { NO_STORE, type AppContext, type Step } from "../http/context";
import type { Keyring } from "../keys/keyring";
import { clientStore, database, grantServices, requestKeyring, revocationKv } from "../services";
import { findToken } from "../tokens/find-token";
import { clientAlgSigner, signJwt } from "../tokens/jws";
import { expiryOf, isExpired, refreshPolicy, type StoredRefreshToken } from "../tokens/refresh-token";
import type { AccessTokenClaims } from "../tokens/verify-access-token";
import { authenticateTokenClient, parseTokenRequest } from "./token";

/**
 * The introspection endpoint (RFC 7662) as a pipeline of named steps.
 *
 * Who may ask (§2.1, §4 — the endpoint must stop token scanning): an authenticated confidential
 * client, through the token endpoint's dispatcher (src/client-auth). Public clients prove nothing
 * and are refused (401 invalid_client). A client sees only tokens issued to it; a client whose
 * registration metadata has `"introspection": "any"` — a resource server's credential, set by an
 * operator — may introspect any token of this server.
 *
 * The answer (§2.2) is `{"active": false}` and nothing else for a token that is unknown, malformed,
 * expired, revoked, rotated, issued under a consent since withdrawn, for a disabled user, or not
 * visible to the caller — the caller is never told which. An active token gets its claims:
 * access tokens `token_type: "Bearer"`, scope, client_id, sub, aud, iss, exp, iat, jti, and
 * auth_time and cnf when present; refresh tokens `token_type: "refresh_token"` (so a resource
 * server that checks token_type never takes one for an access token), scope, client_id, sub, iss,
 * exp (the earlier of idle and absolute expiry), iat. Never cached (Cache-Control: no-store).
 *
 * A caller that asks with `Accept: application/token-introspection+jwt` (RFC 9701 §4) gets the same
 * answer as a signed JWT (§5) of that content type: header `typ: token-introspection+jwt`, claims
 * `iss`, `aud` (the caller's client_id), `iat` and `token_introspection` (the answer above, also
 * `{"active": false}`), and no top-level `sub` or `exp`; signed with our key for the caller's
 * `introspection_signed_response_alg` (§6, default RS256). Errors stay JSON (RFC 7662 §2.3).
 */
export const requireConfidentialCaller: Step = async function requireConfidentialCaller(c, next) {
  ensure(!isPublic(c.get("client").client), "introspection_public_client");
  await next();
};

export const introspectToken: Step = async function introspectToken(c) {
  const config = c.get("config");
  const now = c.get("now");
  const params = c.get("params");
  const token = params.get("token");
  ensure(token !== undefined, "missing_parameter", "The token parameter is missing.");
  const caller = c.get("client").client;
  const visible = (owner: string) => owner === caller.clientId || caller.metadata.introspection === "any";
  const keys = await requestKeyring(c);
  const found = await findToken(token, { config, keys, db: database(c), kv: revocationKv(c), now });
  const services = grantServices(c);
  let answer: Record<string, unknown> = { active: false };
  if (found?.type === "access_token" && visible(found.claims.client_id) && (await accessTokenHolds(found.claims, services))) {
    answer = accessTokenAnswer(found.claims);
  } else if (found?.type === "refresh_token" && visible(found.stored.clientId)) {
    const owner = found.stored.clientId === caller.clientId ? caller : await clientOf(c, found.stored.clientId);
    if (owner !== null && (await refreshTokenHolds(found.stored, owner, c, services))) answer = refreshTokenAnswer(found.stored, owner, c);
  }
  return introspectionResponse(c, answer, keys);
};

/** RFC 9701 §4, §5: the media type a resource server asks for, and gets, for the answer as a signed JWT. */
const INTROSPECTION_JWT = "application/token-introspection+jwt";

/** The answer as JSON (RFC 7662 §2.2), or as a JWT (RFC 9701 §5) when the Accept header prefers that. */
async function introspectionResponse(c: AppContext, answer: Record<string, unknown>, keys: Keyring): Promise<Response> {
  const headers = { ...NO_STORE, vary: "Accept" };
  const wanted = accepts(c, { header: "Accept", supports: ["application/json", INTROSPECTION_JWT], default: "application/json" });
  if (wanted !== INTROSPECTION_JWT) return c.json(answer, 200, headers);
  const caller = c.get("client").client;
  const signer = await clientAlgSigner(keys, introspectionSignedResponseAlg(caller));
  const jwt = await signJwt(signer, "token-introspection+jwt", {
    iss: c.get("config").issuer,
    aud: caller.clientId,
    iat: c.get("now"),
    token_introspection: answer,
  });
  return c.body(jwt, 200, { ...headers, "content-type": INTROSPECTION_JWT });
}

/** As UserInfo: a user's token lives while the user does and the consent it was issued under is current. */
async function accessTokenHolds(claims: AccessTokenClaims, services: GrantServices): Promise<boolean> {
  if (claims.gid === undefined) return true; // client_credentials: the client acts for itself
  const { user, consent } = await services.grants.get(claims.sub, claims.client_id);
  return user !== null && !user.disabled && consent !== null && consent.grantId === claims.gid;
}

/** As the refresh grant would see it: not revoked or rotated, not expired, the grant behind it still holding. */
async function refreshTokenHolds(stored: StoredRefreshToken, owner: Client, c: AppContext, services: GrantServices): Promise<boolean> {
  if (stored.revokedAt !== null || stored.family.revokedAt !== null || stored.rotation !== null) return false;
  if (owner.disabled || isExpired(stored, refreshPolicy(c.get("config"), owner), c.get("now"))) return false;
  const { user, consent } = await services.grants.get(stored.userId, stored.clientId);
  return user !== null && !user.disabled && user.emailVerified && consent !== null && consent.grantId === stored.grantId;
}

function accessTokenAnswer(claims: AccessTokenClaims): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    active: true,
    // RFC 9449 §6.2: a DPoP-bound token is of type DPoP; a certificate-bound one stays Bearer (RFC 8705 §3.2).
    token_type: claims.cnf?.jkt !== undefined ? "DPoP" : "Bearer",
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
  };
  if (claims.auth_time !== undefined) answer.auth_time = claims.auth_time;
  if (claims.cnf !== undefined) answer.cnf = claims.cnf;
  // RFC 9396 §9.2: the authorization details the token stands for.
  if (claims.authorization_details !== undefined) answer.authorization_details = claims.authorization_details;
  return answer;
}

function refreshTokenAnswer(stored: StoredRefreshToken, owner: Client, c: AppContext): Record<string, unknown> {
  return {
    active: true,
    token_type: "refresh_token",
    scope: stored.scope.join(" "),
    client_id: stored.clientId,
    sub: stored.userId,
    iss: c.get("config").issuer,
    exp: expiryOf(stored, refreshPolicy(c.get("config"), owner)),
    iat: stored.createdAt,
  };
}

function clientOf(c: AppContext, clientId: string): Promise<Client | null> {
  return clientStore(c).get(clientId);
}

export const rejectOtherIntrospectionMethods: Step = async function rejectOtherIntrospectionMethods() {
  throw new OAuthError("method_not_allowed", "The introspection endpoint accepts POST only.", { headers: { allow: "POST" } });
};

/** POST /introspect. No CORS: resource servers call it from their servers. */
export const introspectionEndpoint = [parseTokenRequest, authenticateTokenClient, requireConfidentialCaller, introspectToken] as const;

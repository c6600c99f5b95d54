import { OAuthError, ensure, toErrorText } from "../errors/oauth-error";
import { log } from "../log";
import { isPublic } from "../clients/model";
import { ensureSameKey } from "../dpop/binding";
import { mintTokens } from "../tokens/minter";
import {
  findRefreshToken, isExpired, keepRefreshToken, openRetryAnswer, refreshPolicy, revokeFamily, rotateRefreshToken,
  type RefreshPolicy, type StoredRefreshToken,
} from "../tokens/refresh-token";
import { ensureGrantHolds, tokenTarget } from "./approved-tokens";
import type { Grant, GrantContext, TokenResponse } from "./grant";
import { parseScope } from "./scope";
import { rotatesRefreshTokens } from "../profiles/fapi2";

/**
 * refresh_token (RFC 6749 §6; RFC 9700 §4.14.2; OIDC Core §12). Every use rotates the token
 * (src/tokens/refresh-token.ts) — except for a client under FAPI 2.0, whose token is used again
 * (§5.3.2.1 item 9; `keepToken`). In order:
 *
 * 1. The token must exist and belong to the authenticated client (`invalid_grant`; a token
 *    presented by another client is not burnt). Confidential clients have authenticated at the
 *    endpoint; public ones are identified by client_id, and rotation is their protection.
 * 2. The grant behind it must still hold: the family not revoked, the user enabled with a
 *    verified email, the consent still the one the token was issued under.
 * 3. A token already rotated is reuse: the whole family is revoked — unless this is the same
 *    request again (same requested scope and resource; the token itself fixes client and grant) within the grace
 *    window and the successor has not been used, which gets the rotation's answer again.
 * 4. Idle and absolute expiry; a requested scope may narrow the access token's, never widen it
 *    (`invalid_scope`); the successor keeps the original scope (§6).
 * 5. Tokens are made, then one conditional write decides whether this request rotates the token;
 *    a request that lost a race is treated as in step 3.
 */
export const refreshToken: Grant = {
  type: "refresh_token",
  allowPublic: true,
  async handle(ctx) {
    const { params, now, services } = ctx;
    const { client } = ctx.client;
    const value = params.get("refresh_token");
    ensure(value !== undefined, "missing_parameter", "The refresh_token parameter is missing.");
    const requested = parseScope(params.get("scope"));
    // What makes a retry the same request: its scope, normalized, and (RFC 8707) the resource it
    // names, after a newline no scope holds; a request without resource keys as before.
    const resource = params.get("resource");
    const requestScope = (requested === undefined ? "" : [...requested].sort().join(" ")) + (resource === undefined ? "" : `\n${resource}`);
    const policy = refreshPolicy(ctx.config, client);

    const stored = await findRefreshToken(services.db, value);
    ensure(stored !== null, "refresh_token_invalid");
    ensure(stored.clientId === client.clientId, "refresh_token_client_mismatch");
    // RFC 9449 §5, RFC 8705 §3: a public client's bound refresh token needs a proof of its key.
    if (stored.cnf !== null && isPublic(client)) ensureSameKey(stored.cnf, ctx.binding, "The refresh token");
    await checkGrantHolds(ctx, stored);
    if (stored.rotation !== null) return retryOrRevoke(ctx, stored, requestScope, policy);
    ensure(!isExpired(stored, policy, now), "refresh_token_expired");

    const scope = requested ?? stored.scope;
    const widened = scope.find((s) => !stored.scope.includes(s));
    if (widened !== undefined) {
      throw new OAuthError("refresh_scope_widened", `The scope ${toErrorText(widened, 64)} was not granted with this refresh token.`);
    }

    // RFC 8707 §2.2, RFC 9396 §6: any one resource of the grant as `aud`, the details granted or fewer.
    const target = tokenTarget(params, {
      ...(stored.resources !== null && { resources: stored.resources }),
      ...(stored.authorizationDetails !== null && { authorizationDetails: stored.authorizationDetails }),
    }, ctx.config);

    // FAPI 2.0 §5.3.2.1 item 9: no rotation for a client under the profile — the same token again.
    if (!rotatesRefreshTokens(ctx.config, client)) return keepToken(ctx, stored, value, { scope, ...target }, policy);

    // The successor and the answer: a new access token (`gid` = the grant), a new refresh token of
    // the original scope (and resources and details), and an ID token when the scope has openid
    // (OIDC Core §12.2: same sub, the original auth_time and sid, no nonce).
    const { response, successor } = await mintTokens(
      {
        client, subject: stored.userId, scope, grantId: stored.grantId, ...target,
        authentication: { authTime: stored.authTime, ...(stored.sid !== null && { sid: stored.sid }) },
        refresh: { kind: "rotation", current: stored, requestScope },
        ...(ctx.binding !== undefined && { binding: ctx.binding }),
      },
      { config: ctx.config, keys: ctx.keys, now, db: services.db },
    );
    const rotated = await rotateRefreshToken(services.db, stored, successor, { now, policy, encryptionKey: services.encryptionKey });
    if (rotated) return response;
    // Another request rotated (or revoked) the token between our read and our write.
    const after = await findRefreshToken(services.db, value);
    ensure(after !== null && after.revokedAt === null && after.family.revokedAt === null && after.rotation !== null, "refresh_token_revoked");
    return retryOrRevoke(ctx, after, requestScope, policy);
  },
};

/**
 * Step 5 without rotation (a client under FAPI 2.0): a new access token (and ID token) from the same
 * refresh token, which stays valid and is answered again; its idle lifetime starts over.
 */
async function keepToken(
  ctx: GrantContext,
  stored: StoredRefreshToken,
  value: string,
  /** The access token's scope, and its resource and details (tokenTarget), as with rotation. */
  target: { scope: string[] } & ReturnType<typeof tokenTarget>,
  policy: RefreshPolicy,
): Promise<TokenResponse> {
  const { now, services } = ctx;
  const { response, accessToken } = await mintTokens(
    {
      client: ctx.client.client, subject: stored.userId, grantId: stored.grantId, ...target,
      authentication: { authTime: stored.authTime, ...(stored.sid !== null && { sid: stored.sid }) },
      ...(ctx.binding !== undefined && { binding: ctx.binding }),
    },
    { config: ctx.config, keys: ctx.keys, now, db: services.db },
  );
  ensure(await keepRefreshToken(services.db, stored, accessToken, { now, policy }), "refresh_token_revoked");
  return { ...response, refresh_token: value };
}

/** Step 2: the family, the user and the consent behind the token. */
async function checkGrantHolds(ctx: GrantContext, stored: StoredRefreshToken): Promise<void> {
  ensure(stored.revokedAt === null && stored.family.revokedAt === null, "refresh_token_revoked");
  await ensureGrantHolds(ctx, stored.userId, stored.clientId, stored.grantId);
}

/**
 * Step 3, for a token already rotated: the rotation's own answer again when this is a retry of the
 * same request within the grace window (and its successor is unused, which keeps the answer
 * stored); otherwise reuse, which revokes the family (RFC 9700 §4.14.2).
 */
async function retryOrRevoke(ctx: GrantContext, stored: StoredRefreshToken, requestScope: string, policy: RefreshPolicy): Promise<TokenResponse> {
  const rotation = stored.rotation!;
  const { now, services } = ctx;
  const withinGrace = policy.grace > 0 && now - rotation.rotatedAt <= policy.grace;
  if (withinGrace && rotation.scope === requestScope) {
    const answer = await openRetryAnswer(stored, services.encryptionKey);
    if (answer !== null) {
      const { expires_at: exp, ...response } = answer as unknown as TokenResponse & { expires_at: number };
      return { ...response, expires_in: Math.max(1, exp - now) };
    }
  }
  await revokeFamily(services.db, services.kv, stored.familyId, { now, reason: "reuse" });
  log("warn", "refresh_token_reuse", { client_id: stored.clientId, family: stored.familyId, rotated_at: rotation.rotatedAt, now });
  throw new OAuthError("refresh_token_reused");
}

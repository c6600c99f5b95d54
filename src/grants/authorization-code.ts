import { CODE_NAMESPACE, openCode, type CodePayload } from "../authorize/codes";
import { PKCE_VALUE } from "../authorize/request";
import { base64url } from "../crypto/encoding";
import { sha256, timingSafeEqual } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { issueOnce, type UndoStep } from "../replay/issue-once";
import { revokeRefreshToken } from "../tokens/refresh-token";
import { allAttempted, revokeAccessToken } from "../tokens/revocation";
import { ensureGrantHolds, mintForApproval, tokenTarget, type Approval, type TokenTarget } from "./approved-tokens";
import { releasedClaims } from "../authorize/claims-request";
import { ensureSameKey } from "../dpop/binding";
import type { Grant, GrantContext, TokenResponse } from "./grant";

/** What a redeemed code produced, recorded when its reservation completes so a reuse can revoke it (RFC 6749 §4.1.2). */
interface Issued {
  accessToken: { jti: string; exp: number };
  refreshTokenHash?: string;
}

/**
 * authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6, OIDC Core §3.1.3). Every check runs
 * before the code is consumed, so a failed attempt (wrong verifier, wrong client) does not burn
 * the legitimate client's code; then the code is exchanged through `issueOnce` (src/replay/
 * issue-once.ts): its `jti` is held atomically — of N concurrent redemptions exactly one wins —
 * the tokens are issued, and the code is marked used with what it issued, which a later use
 * revokes. An exchange that fails on the way (a store fails) undoes what it wrote and gives the
 * code back, so the client's retry with the same code can still succeed (docs/storage.md).
 */
export const authorizationCode: Grant = {
  type: "authorization_code",
  allowPublic: true,
  async handle(ctx) {
    const { params, now } = ctx;
    const { client } = ctx.client;
    const codeValue = params.get("code");
    ensure(codeValue !== undefined, "missing_parameter", "The code parameter is missing.");
    const code = await openCode(codeValue, ctx.services.encryptionKey);
    ensure(code.exp > now, "code_expired");
    ensure(code.clientId === client.clientId, "code_client_mismatch");

    const redirectUri = params.get("redirect_uri");
    if (code.redirectUriSent || redirectUri !== undefined) ensure(redirectUri === code.redirectUri, "redirect_uri_mismatch");
    await checkPkce(code, params.get("code_verifier"));
    // RFC 9449 §10: a code bound with dpop_jkt is redeemed only with a proof of that key.
    if (code.dpopJkt !== undefined) ensureSameKey({ jkt: code.dpopJkt }, ctx.binding, "The authorization code");

    const user = await ensureGrantHolds(ctx, code.sub, code.clientId, code.grantId);
    // OIDC Core §5.5: what the claims request asked for, with the person's values as they are now.
    const approval = { ...code, ...releasedClaims(code.claims, user) };
    const target = tokenTarget(params, code, ctx.config);

    const redemption = await issueOnce(
      ctx.services.replay,
      { namespace: CODE_NAMESPACE, key: code.jti, expiresAt: code.exp + ctx.config.clockSkew },
      (onFailure) => issueTokens(ctx, approval, target, onFailure),
    );
    switch (redemption.outcome) {
      case "in_use":
        throw new OAuthError("code_in_use");
      case "used":
        if (redemption.record !== null) await revoke(ctx, JSON.parse(redemption.record) as Issued);
        throw new OAuthError("code_reused");
      case "issued":
        // A second redemption arrived while these tokens were being made: revoke them. This one
        // still answers (exactly one of N concurrent ones succeeds), but what it issued is dead,
        // as after any reuse (RFC 6749 §4.1.2, §10.5).
        if (redemption.reusedMeanwhile) await revoke(ctx, JSON.parse(redemption.record) as Issued);
        return redemption.value;
    }
  },
};

async function checkPkce(code: CodePayload, verifier: string | undefined): Promise<void> {
  if (code.codeChallenge === undefined) {
    // RFC 9700 §4.8.2: a verifier without a challenge is a PKCE downgrade attempt.
    ensure(verifier === undefined, "pkce_verifier_unexpected");
    return;
  }
  ensure(verifier !== undefined, "pkce_verifier_missing");
  ensure(PKCE_VALUE.test(verifier), "pkce_verifier_malformed");
  const derived = code.codeChallengeMethod === "S256" ? base64url(await sha256(verifier)) : verifier;
  ensure(timingSafeEqual(derived, code.codeChallenge), "pkce_verifier_mismatch");
}

/** The tokens a code buys (src/grants/approved-tokens.ts), and the record of them for its reservation. */
async function issueTokens(
  ctx: GrantContext, code: CodePayload & Pick<Approval, "idTokenClaims" | "userinfoClaims">, target: TokenTarget, onFailure: (undo: UndoStep) => void,
): Promise<{ value: TokenResponse; record: string }> {
  const minted = await mintForApproval(ctx, code, onFailure, target);
  const issued: Issued = { accessToken: minted.accessToken };
  if (minted.family !== undefined) issued.refreshTokenHash = minted.family.hash;
  return { value: minted.response, record: JSON.stringify(issued) };
}

/**
 * Revokes what a use of the code issued. Both steps are tried whatever the other does (a KV
 * failure must not leave the refresh token valid: revokeFamily's reasoning); the first failure is
 * thrown, so the request answers server_error and a retry (a reuse again) completes it.
 */
async function revoke(ctx: GrantContext, issued: Issued): Promise<void> {
  const { db, kv } = ctx.services;
  await allAttempted([
    revokeAccessToken(kv, issued.accessToken.jti, issued.accessToken.exp, ctx.now),
    issued.refreshTokenHash ? revokeRefreshToken(db, kv, issued.refreshTokenHash, ctx.now) : undefined,
  ]);
}

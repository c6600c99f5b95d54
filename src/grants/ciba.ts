import { mayPoll } from "../ciba/delivery";
import { CIBA_GRANT, type CibaApproval } from "../ciba/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import { issueOnce, type UndoStep } from "../replay/issue-once";
import { ensureGrantHolds, mintForApproval, tokenTarget, type TokenTarget } from "./approved-tokens";
import type { Grant, GrantContext, TokenResponse } from "./grant";

/**
 * The CIBA grant in poll mode (CIBA Core §10.1, §11): `grant_type=urn:openid:params:grant-type:ciba`
 * with the `auth_req_id` the backchannel authentication endpoint answered. Each poll runs in the
 * request's Durable Object (src/ciba/requests.ts): pending → authorization_pending, too fast →
 * slow_down (+5 s, remembered), denied → access_denied, expired → expired_token; another client's,
 * unknown or redeemed auth_req_id → invalid_grant. An approval is exchanged through `issueOnce`
 * exactly as the device grant's (src/grants/device-code.ts): one poll holds it, checks the grant
 * still holds, mints through mintForApproval and completes. Confidential clients only (§7.1).
 */
export const ciba: Grant = {
  type: CIBA_GRANT,
  allowPublic: false,
  async handle(ctx) {
    // CIBA §10.3: a push client gets its tokens at its notification endpoint, never by polling.
    ensure(mayPoll(ctx.client.client), "ciba_push_client_polled");
    const value = ctx.params.get("auth_req_id");
    ensure(value !== undefined, "missing_parameter", "The auth_req_id parameter is missing.");
    ensure(value.length <= 128, "auth_req_id_invalid");
    // RFC 8707 §2.2: no resources are granted through this grant yet, so a resource named is not granted.
    const target = tokenTarget(ctx.params, {}, ctx.config);
    const exchange = await ctx.services.ciba.exchange(value, ctx.client.client.clientId);
    const redemption = await issueOnce(
      exchange.port,
      { namespace: { name: "ciba", shardHexDigits: 0 }, key: exchange.key, expiresAt: ctx.now },
      (onFailure) => {
        const polled = exchange.polled();
        if (polled?.outcome !== "held") throw new Error("CIBA exchange issued without holding the approval");
        return issueTokens(ctx, polled.approval, polled.scope, target, onFailure);
      },
    );
    switch (redemption.outcome) {
      case "in_use":
        throw new OAuthError("ciba_in_use");
      case "used":
        throw new OAuthError("auth_req_id_used");
      case "issued":
        return redemption.value;
    }
  },
};

async function issueTokens(
  ctx: GrantContext, approval: CibaApproval, scope: string[], target: TokenTarget, onFailure: (undo: UndoStep) => void,
): Promise<{ value: TokenResponse; record: string }> {
  await ensureGrantHolds(ctx, approval.sub, ctx.client.client.clientId, approval.grantId);
  const minted = await mintForApproval(ctx, { ...approval, scope }, onFailure, target);
  return { value: minted.response, record: JSON.stringify({ accessToken: minted.accessToken }) };
}

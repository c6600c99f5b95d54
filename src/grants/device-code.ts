import { DEVICE_CODE_GRANT } from "../authorize/steps";
import { OAuthError, ensure } from "../errors/oauth-error";
import { issueOnce, type UndoStep } from "../replay/issue-once";
import type { DeviceApproval } from "../device/requests";
import { ensureGrantHolds, mintForApproval, tokenTarget, type TokenTarget } from "./approved-tokens";
import type { Grant, GrantContext, TokenResponse } from "./grant";

/**
 * The device authorization grant (RFC 8628 §3.4–3.5). Each poll runs in the request's Durable
 * Object (src/device/requests.ts): pending → authorization_pending, too fast → slow_down (the
 * interval grows by 5 s), denied → access_denied, expired → expired_token, another client's
 * device_code → invalid_grant. An approved request is exchanged through `issueOnce` (src/replay/
 * issue-once.ts), like an authorization code: exactly one poll holds the approval, checks the
 * grant still holds (the person enabled and verified, the consent the one approved under — the code
 * grant's checks), mints the tokens and completes; an issue that fails gives the approval back,
 * so the next poll can still get the tokens. Later polls: invalid_grant. The refresh token, when
 * `offline_access` was granted, is an ordinary rotation family (src/grants/refresh-token.ts).
 */
export const deviceCode: Grant = {
  type: DEVICE_CODE_GRANT,
  allowPublic: true,
  async handle(ctx) {
    const value = ctx.params.get("device_code");
    ensure(value !== undefined, "missing_parameter", "The device_code parameter is missing.");
    ensure(value.length <= 128, "device_code_invalid");
    // RFC 8707 §2.2: no resources are granted through this grant yet, so a resource named is not granted.
    const target = tokenTarget(ctx.params, {}, ctx.config);
    const exchange = await ctx.services.devices.exchange(value, ctx.client.client.clientId);
    const redemption = await issueOnce(
      exchange.port,
      // The namespace and expiry are the object's own; only its key is passed on.
      { namespace: { name: "device", shardHexDigits: 0 }, key: exchange.key, expiresAt: ctx.now },
      (onFailure) => {
        const polled = exchange.polled();
        if (polled?.outcome !== "held") throw new Error("device exchange issued without holding the approval");
        return issueTokens(ctx, polled.approval, polled.scope, target, onFailure);
      },
    );
    switch (redemption.outcome) {
      case "in_use":
        throw new OAuthError("device_code_in_use");
      case "used":
        throw new OAuthError("device_code_used");
      case "issued":
        return redemption.value;
    }
  },
};

async function issueTokens(
  ctx: GrantContext, approval: DeviceApproval, scope: string[], target: TokenTarget, onFailure: (undo: UndoStep) => void,
): Promise<{ value: TokenResponse; record: string }> {
  const { client } = ctx.client;
  await ensureGrantHolds(ctx, approval.sub, client.clientId, approval.grantId);
  const minted = await mintForApproval(ctx, { ...approval, scope }, onFailure, target);
  return { value: minted.response, record: JSON.stringify({ accessToken: minted.accessToken }) };
}

import { acrOf } from "../acr";
import { backChannelLogoutUri } from "../clients/model";
import { ensure } from "../errors/oauth-error";
import { log } from "../log";
import type { UndoStep } from "../replay/issue-once";
import { rememberSessionClient } from "../sessions/session-clients";
import { mintTokens, type Minted } from "../tokens/minter";
import { discardFamily } from "../tokens/refresh-token";
import type { GrantContext } from "./grant";

/** What a person's approval binds the tokens to: an authorization code's payload, an approved device request. */
export interface Approval {
  sub: string;
  scope: readonly string[];
  grantId: string;
  authTime: number;
  sid: string;
  amr: readonly string[];
  /** The authorization request's nonce (code flow only). */
  nonce?: string;
  /** CIBA push mode: the auth_req_id the ID token names, with the refresh token's rt_hash (CIBA Core §10.3.1). */
  authReqId?: string;
}

/** What minting an approval reads: a grant's context, or the same parts outside a token request (a CIBA push, src/ciba/delivery.ts). */
export type ApprovalContext = Pick<GrantContext, "config" | "keys" | "now" | "binding"> & {
  client: Pick<GrantContext["client"], "client">;
  services: Pick<GrantContext["services"], "db">;
};

/**
 * The tokens a person's approval buys, the same for every grant that ends one (authorization_code,
 * device_code; CIBA next): minted with the sign-in's `auth_time`, `sid`, `amr` and the `acr` they
 * earn, a new refresh-token family when `offline_access` was granted (its undo registered with
 * `onFailure`: never handed out should a later step fail), and the session remembered for
 * Back-Channel Logout.
 */
export async function mintForApproval(ctx: ApprovalContext, approval: Approval, onFailure: (undo: UndoStep) => void): Promise<Minted> {
  const { config, keys, now, services } = ctx;
  const { client } = ctx.client;
  const [minted] = await Promise.all([
    mintTokens(
      {
        client, subject: approval.sub, scope: approval.scope, grantId: approval.grantId,
        authentication: { authTime: approval.authTime, sid: approval.sid, amr: approval.amr, ...acrOf(config.acrTable, approval.amr) },
        ...(approval.nonce !== undefined && { nonce: approval.nonce }),
        ...(approval.authReqId !== undefined && { authReqId: approval.authReqId }),
        refresh: { kind: "family" },
        ...(ctx.binding !== undefined && { binding: ctx.binding }),
      },
      { config, keys, now, db: services.db },
    ),
    // OIDC Back-Channel Logout §2.3: remember that this client signed in through the session, so
    // its end can be sent to the client (only clients that registered where to send it). Best
    // effort: a lost row costs one logout notice, not the tokens (and a row left by an exchange
    // that then failed, one notice too many).
    approval.scope.includes("openid") && backChannelLogoutUri(client) !== undefined
      ? rememberSessionClient(services.db, approval.sid, client.clientId, now).catch((error: unknown) =>
          log("warn", "session_client_not_recorded", { client_id: client.clientId, message: String(error).slice(0, 200) }))
      : undefined,
  ]);
  if (minted.family !== undefined) {
    const { familyId } = minted.family;
    onFailure(() => discardFamily(services.db, familyId));
  }
  return minted;
}

/**
 * The grant behind tokens still holds (RFC 6749 §5.2 invalid_grant otherwise): the person exists
 * and is enabled, their address is still verified (the seeds' rule), and their consent to the
 * client is still the one the tokens stand on — withdrawing it, or consenting anew, stops them.
 * Checked at every exchange: a code, a device request, a refresh token.
 */
export async function ensureGrantHolds(ctx: GrantContext, sub: string, clientId: string, grantId: string): Promise<void> {
  const { user, consent } = await ctx.services.grants.get(sub, clientId);
  ensure(user !== null && !user.disabled, "grant_user_disabled");
  ensure(user.emailVerified, "grant_user_unverified");
  ensure(consent !== null && consent.grantId === grantId, "grant_consent_revoked");
}

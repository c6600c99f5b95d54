import { acrOf } from "../acr";
import { backChannelLogoutUri } from "../clients/model";
import { ensure } from "../errors/oauth-error";
import { log } from "../log";
import type { UndoStep } from "../replay/issue-once";
import { rememberSessionClient } from "../sessions/session-clients";
import { mintTokens, type Granted, type MintRequest, type Minted } from "../tokens/minter";
import { narrowAuthorizationDetails, type AuthorizationDetail } from "../authorize/authorization-details";
import { tokenAudience } from "../authorize/resource";
import type { Config } from "../config";
import type { Params } from "../http/form";
import { discardFamily } from "../tokens/refresh-token";
import type { GrantContext } from "./grant";
import type { User } from "../users/model";

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
  /** RFC 8707: the resources granted (code flow); kept with the refresh-token family. */
  resources?: readonly string[];
  /** RFC 9396: the authorization details granted (code flow); kept with the refresh-token family. */
  authorizationDetails?: readonly AuthorizationDetail[];
  /** OIDC Core §3.1.2.1, §5.5.1.1: the acr values asked for; the ID token's `acr` is the first the sign-in satisfies. */
  acrValues?: readonly string[];
  /** OIDC Core §5.5 (src/authorize/claims-request.ts releasedClaims): the person's claims the ID token carries. */
  idTokenClaims?: Record<string, unknown>;
  /** OIDC Core §5.5: claim names UserInfo answers beyond the scope's (carried in the access token). */
  userinfoClaims?: readonly string[];
}

/** What one access token is for, of what was granted: its `aud` and its authorization details. */
export type TokenTarget = Pick<MintRequest, "audience" | "authorizationDetails">;

/**
 * What a token request (code, refresh token) gets of what was granted: the access token's `aud` —
 * the `resource` named, one of the grant's, or the grant's only one (RFC 8707 §2.2,
 * src/authorize/resource.ts) — and the authorization details, all of them or the narrower set the
 * request names (RFC 9396 §6). Checked before anything is spent, so a refusal costs nothing.
 */
export function tokenTarget(params: Params, granted: Granted, config: Config): TokenTarget {
  const audience = tokenAudience(params, granted.resources);
  const details = narrowAuthorizationDetails(params.get("authorization_details"), granted.authorizationDetails, config.authorizationDetailsTypes);
  return { ...(audience !== undefined && { audience }), ...(details !== undefined && { authorizationDetails: details }) };
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
export async function mintForApproval(
  ctx: ApprovalContext, approval: Approval, onFailure: (undo: UndoStep) => void, target: TokenTarget = {},
): Promise<Minted> {
  const { config, keys, now, services } = ctx;
  const { client } = ctx.client;
  const [minted] = await Promise.all([
    mintTokens(
      {
        client, subject: approval.sub, scope: approval.scope, grantId: approval.grantId,
        authentication: { authTime: approval.authTime, sid: approval.sid, amr: approval.amr, ...acrOf(config.acrTable, approval.amr, approval.acrValues) },
        ...(approval.idTokenClaims !== undefined && { idTokenClaims: approval.idTokenClaims }),
        ...(approval.userinfoClaims !== undefined && { userinfoClaims: approval.userinfoClaims }),
        ...(approval.nonce !== undefined && { nonce: approval.nonce }),
        ...(approval.authReqId !== undefined && { authReqId: approval.authReqId }),
        refresh: { kind: "family" },
        ...(ctx.binding !== undefined && { binding: ctx.binding }),
        ...target,
        granted: {
          ...(approval.resources !== undefined && { resources: approval.resources }),
          ...(approval.authorizationDetails !== undefined && { authorizationDetails: approval.authorizationDetails }),
        },
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
export async function ensureGrantHolds(ctx: GrantContext, sub: string, clientId: string, grantId: string): Promise<User> {
  const { user, consent } = await ctx.services.grants.get(sub, clientId);
  ensure(user !== null && !user.disabled, "grant_user_disabled");
  ensure(user.emailVerified, "grant_user_unverified");
  ensure(consent !== null && consent.grantId === grantId, "grant_consent_revoked");
  return user;
}

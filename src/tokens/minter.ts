import type { AuthorizationDetail } from "../authorize/authorization-details";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { randomToken } from "../crypto/encoding";
import type { Keyring } from "../keys/keyring";
import { issueAccessToken } from "./access-token";
import { issueIdToken } from "./id-token";
import { issueRefreshToken, refreshPolicy, type StoredRefreshToken, type Successor } from "./refresh-token";

/**
 * One token minter: every grant (authorization_code, refresh_token, client_credentials; the device
 * grant and CIBA next) builds its answer here, so the access token (RFC 9068), the refresh token,
 * the ID token (OIDC Core §3.1.3.6) and the response members (RFC 6749 §5.1) — and the sender
 * constraint (`cnf`, `token_type`) — are decided once. The grant decides *whether* the tokens may be
 * issued (its code, its refresh token, its device request); the minter decides *what* they are.
 */

/** RFC 6749 §7.1 token types this server issues: `Bearer` (RFC 6750), `DPoP` (RFC 9449 §5). */
export type TokenType = "Bearer" | "DPoP";

/** The token response members (RFC 6749 §5.1); the endpoint adds the headers. */
export interface TokenResponse {
  access_token: string;
  token_type: TokenType;
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  /** RFC 9396 §7: the authorization details the access token carries. */
  authorization_details?: AuthorizationDetail[];
}

/**
 * A confirmation claim (RFC 7800 §3.1 `cnf`): the key the tokens are bound to. `jkt` is the
 * JWK SHA-256 thumbprint of a DPoP key (RFC 9449 §6.1); `x5t#S256` the SHA-256 thumbprint of the
 * client's TLS certificate (RFC 8705 §3.1).
 */
export type Confirmation = { jkt: string } | { "x5t#S256": string };

/**
 * How the tokens are bound to the client (none today: Bearer, no `cnf`). DPoP-bound tokens have
 * `token_type` DPoP (RFC 9449 §5); certificate-bound ones stay Bearer (RFC 8705 §3).
 */
export type SenderConstraint = { method: "dpop"; jkt: string } | { method: "mtls"; x5tS256: string };

/** The `cnf` claim of a sender constraint. */
export function confirmationOf(binding: SenderConstraint): Confirmation {
  return binding.method === "dpop" ? { jkt: binding.jkt } : { "x5t#S256": binding.x5tS256 };
}

/** The response's `token_type` for a sender constraint (or none). */
export function tokenTypeOf(binding: SenderConstraint | undefined): TokenType {
  return binding?.method === "dpop" ? "DPoP" : "Bearer";
}

/** The person's sign-in behind the tokens (absent for a client acting for itself). */
export interface Authentication {
  /** When the person authenticated (the session's auth_time), Unix seconds: `auth_time` in both tokens. */
  authTime: number;
  /** The session (OIDC Front-/Back-Channel Logout `sid`) the ID token names. */
  sid?: string;
  /** RFC 8176 methods, for the ID token's `amr`. */
  amr?: readonly string[];
  /** The satisfied `acr`, for the ID token. */
  acr?: string;
}

/**
 * The refresh token, if any: `family` starts a new rotation family — only when the scope has
 * `offline_access` and the tokens stand on a consent grant (`grantId`) — and writes its rows;
 * `rotation` makes the successor of `current` (same family, original scope and binding) which the
 * refresh grant then writes with `rotateRefreshToken` (one conditional write decides the race).
 */
export type RefreshRequest = { kind: "family" } | RotationRequest;
export interface RotationRequest {
  kind: "rotation";
  /** The presented token (its family, scope and binding go to the successor). */
  current: StoredRefreshToken;
  /** The rotating request's scope parameter, normalized ('' when none was sent): a retry must match it. */
  requestScope: string;
}

/** What every grant passes to `mintTokens`. */
export interface MintRequest {
  /** The authenticated client the tokens are issued to (client_id, ID token alg, refresh policy). */
  client: Client;
  /** The resource owner's `sub`; the client's own client_id for client_credentials (RFC 9068 §2.2). */
  subject: string;
  /** The scope of the access token (and the `scope` member). */
  scope: readonly string[];
  /** The consent grant behind the tokens (`gid`); absent for client_credentials. */
  grantId?: string;
  /** The person's sign-in; an ID token is issued only with it and the scope `openid`. */
  authentication?: Authentication;
  /** The authorization request's `nonce` (OIDC Core §3.1.2.1), echoed in the ID token; only at the code exchange. */
  nonce?: string;
  refresh?: RefreshRequest;
  /** Sender constraint: `cnf` in the access token, recorded with a new refresh token; sets `token_type`. */
  binding?: SenderConstraint;
  /** CIBA push mode (CIBA Core §10.3.1): the ID token names this auth_req_id and carries the refresh token's rt_hash. */
  authReqId?: string;
  /** OIDC Core §5.5: the person's claims the ID token carries (the claims request's id_token member). */
  idTokenClaims?: Record<string, unknown>;
  /** OIDC Core §5.5: claim names UserInfo answers beyond the scope's, carried in the access token. */
  userinfoClaims?: readonly string[];
  /** RFC 8707 §2.2: the one resource this access token is for, its `aud`; absent, the configured default audience. */
  audience?: string;
  /** RFC 9396 §7: the authorization details of this access token (its claim and the response member). */
  authorizationDetails?: readonly AuthorizationDetail[];
  /** What a new refresh-token family keeps of the grant, for every refresh to mint from (RFC 8707 §2.2, RFC 9396 §7). */
  granted?: Granted;
}

/** What a person granted beyond the scope: resources (RFC 8707) and authorization details (RFC 9396). */
export interface Granted {
  resources?: readonly string[];
  authorizationDetails?: readonly AuthorizationDetail[];
}

export interface MintDeps {
  config: Config;
  keys: Keyring;
  now: number;
  /** The refresh-token tables (written only for `refresh: { kind: "family" }`). */
  db: D1Database;
}

/** What was minted: the answer and what the grant records or writes next. */
export interface Minted {
  response: TokenResponse;
  /** The access token's id and expiry (revoked with a refresh family, or after a code's reuse). */
  accessToken: { jti: string; exp: number };
  /**
   * The refresh-token family written (refresh `family`): the grant registers its undo
   * (`discardFamily(db, familyId)`) in case a later step fails before it answers.
   */
  family?: { familyId: string; hash: string };
  /** The successor of a rotated refresh token (refresh `rotation`), for `rotateRefreshToken`. */
  successor?: Successor;
}

/**
 * Mints a grant's tokens and answer. The order keeps a failure clean: the access token and the ID
 * token are signed first, and the refresh-token rows (one batch) are written last, so when this
 * throws nothing was written; when it returns, `family` names what was.
 */
export async function mintTokens(request: MintRequest & { refresh: RotationRequest }, deps: MintDeps): Promise<Minted & { successor: Successor }>;
export async function mintTokens(request: MintRequest, deps: MintDeps): Promise<Minted>;
export async function mintTokens(request: MintRequest, deps: MintDeps): Promise<Minted> {
  const { config, keys, now } = deps;
  const { client, subject, scope, grantId, authentication, binding, refresh } = request;
  const cnf = binding === undefined ? null : confirmationOf(binding);
  const access = await issueAccessToken(
    {
      sub: subject,
      clientId: client.clientId,
      scope: [...scope],
      ...(authentication !== undefined && { authTime: authentication.authTime }),
      ...(grantId !== undefined && { grantId }),
      ...(cnf !== null && { cnf }),
      ...(request.userinfoClaims !== undefined && { userinfoClaims: [...request.userinfoClaims] }),
      ...(request.audience !== undefined && { audience: request.audience }),
      ...(request.authorizationDetails !== undefined && { authorizationDetails: [...request.authorizationDetails] }),
    },
    { config, keys, now },
  );
  const accessToken = { jti: access.jti, exp: now + access.expiresIn };

  // The refresh token is drawn before the ID token (which may hash it, CIBA push) and written last.
  const newFamily = refresh?.kind === "family" && scope.includes("offline_access") && grantId !== undefined && authentication !== undefined;
  const refreshToken = refresh?.kind === "rotation" || newFamily ? randomToken(32) : undefined;

  const idToken = authentication !== undefined && scope.includes("openid")
    ? await issueIdToken(
      {
        sub: subject,
        clientId: client.clientId,
        alg: client.idTokenSignedResponseAlg,
        ttl: config.idTokenTtl,
        authTime: authentication.authTime,
        ...(request.nonce !== undefined && { nonce: request.nonce }),
        accessToken: access.token,
        ...(authentication.sid !== undefined && { sid: authentication.sid }),
        ...(authentication.amr !== undefined && { amr: authentication.amr }),
        ...(authentication.acr !== undefined && { acr: authentication.acr }),
        ...(request.idTokenClaims !== undefined && { claims: request.idTokenClaims }),
        ...(request.authReqId !== undefined && {
          backchannel: { authReqId: request.authReqId, ...(refreshToken !== undefined && { refreshToken }) },
        }),
      },
      { config, keys, now },
    )
    : undefined;

  let family: Minted["family"];
  if (newFamily) {
    const written = await issueRefreshToken(
      deps.db,
      {
        grantId, clientId: client.clientId, userId: subject, scope: [...scope], authTime: authentication.authTime,
        sid: authentication.sid ?? null, cnf, accessToken,
        resources: request.granted?.resources === undefined ? null : [...request.granted.resources],
        authorizationDetails: request.granted?.authorizationDetails === undefined ? null : [...request.granted.authorizationDetails],
      },
      { now, policy: refreshPolicy(config, client), token: refreshToken },
    );
    family = { familyId: written.familyId, hash: written.hash };
  }

  const response: TokenResponse = {
    access_token: access.token,
    token_type: tokenTypeOf(binding),
    expires_in: access.expiresIn,
    scope: scope.join(" "),
    ...(refreshToken !== undefined && { refresh_token: refreshToken }),
    ...(idToken !== undefined && { id_token: idToken }),
    ...(request.authorizationDetails !== undefined && { authorization_details: [...request.authorizationDetails] }),
  };
  return {
    response,
    accessToken,
    ...(family !== undefined && { family }),
    ...(refresh?.kind === "rotation" && {
      successor: {
        token: refreshToken!,
        accessToken,
        // What a retry within the grace window gets: the same answer, expires_in recomputed from expires_at.
        retryAnswer: { ...response, expires_at: accessToken.exp },
        requestScope: refresh.requestScope,
      },
    }),
  };
}

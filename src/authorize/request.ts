import { open, seal } from "../crypto/aead";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { OAuthError, ensure } from "../errors/oauth-error";
import { MAX_SEALED_TRANSACTION } from "./limits";
import type { AuthorizationDetail } from "./authorization-details";
import type { ClaimsRequest } from "./claims-request";
import { authorizationEndpointSteps, runSteps, type ResponseMode } from "./steps";

export { PKCE_VALUE, STANDARD_SCOPES, responseModeOf, type ResponseMode } from "./steps";

/** Where errors may go once client_id and redirect_uri are validated (RFC 6749 §4.1.2.1). */
export interface RedirectTarget {
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
}

/**
 * What the person is asked to authorize, whatever the entry point: the client, the scope, what
 * the request says about signing in (OIDC Core §3.1.2.1 prompt, max_age, login_hint), and where the
 * tokens will be used (RFC 8707 resources, RFC 9396 authorization details).
 */
export interface AuthorizationRequest {
  clientId: string;
  scope: string[];
  prompt?: "none" | "login" | "consent";
  maxAge?: number;
  loginHint?: string;
  /** RFC 8707 §2: the resource servers asked for; carried into the code and the grant's refresh tokens. */
  resources?: string[];
  /** RFC 9396 §2: the authorization details asked for; carried like `resources`. */
  authorizationDetails?: AuthorizationDetail[];
  /** OIDC Core §5.5: the claims asked for by name (src/authorize/claims-request.ts); carried into the code. */
  claims?: ClaimsRequest;
  /** OIDC Core §3.1.2.1, §5.5.1.1: the acr values wanted (the operator's table's), in order of preference; into the code. */
  acrValues?: string[];
  /** The acr values are an essential claim: not met by the sign-in → unmet_authentication_requirements. */
  acrEssential?: true;
  /** The person the request names (id_token_hint, or the claims request's `sub` value): only they may answer it. */
  subject?: string;
}

/** The code flow's end: a code to the validated redirect URI (RFC 6749 §4.1.2), bound to what the token request must match. */
export interface RedirectCompletion extends RedirectTarget {
  kind: "redirect";
  /** Whether redirect_uri was in the request (then the token request must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  /** RFC 9449 §10 `dpop_jkt`: the code is redeemed only with a DPoP proof of this key. */
  dpopJkt?: string;
  /** RFC 9126 §7.3: the pushed request this came from, whose one code it issues (src/authorize/pushed-request.ts). */
  pushedRequestId?: string;
}

/** The device grant's end (RFC 8628 §3.3): the device authorization request the person approves or denies. */
export interface DeviceCompletion {
  kind: "device";
  /** The device module's handle of the request (server-chosen, at most 64 characters: src/authorize/limits.ts). */
  deviceRequestId: string;
}

/**
 * CIBA's end (CIBA Core §7.1, the person's side): the authentication request the person approves.
 * `sub` is the person the request names (only they may approve it); `handle` the approval page's.
 */
export interface BackchannelCompletion {
  kind: "backchannel";
  /** The request's key (the auth_req_id's hash, 43 characters). */
  cibaRequestId: string;
  /** The approval page's random handle (43 characters), to show the page after a sign-in. */
  handle: string;
  sub: string;
  /** Whether the person approved on the approval page (with its binding message) before this transaction. */
  confirmed: boolean;
}

/** How an authorization ends once the person is signed in, verified and has consented. */
export type Completion = RedirectCompletion | DeviceCompletion | BackchannelCompletion;
export type CompletionKind = Completion["kind"];

/** The authorization endpoint's checks and where its answer goes (RFC 6749 §4.1.1, OIDC Core §3.1.2.1). */
export interface CodeFlowRequest {
  request: AuthorizationRequest;
  completion: RedirectCompletion;
}

/**
 * The authorization endpoint's checks (src/authorize/steps.ts) that follow client and redirect URI
 * validation, in order; each failure is an error that may be redirected. Returns the request and its
 * completion as the rest of the flow sees them.
 */
export function validateAuthorizationRequest(
  params: ReadonlyMap<string, string>,
  client: Client,
  target: RedirectTarget & { redirectUriSent: boolean },
  config: Config,
): CodeFlowRequest {
  const { scope, nonce, codeChallenge, codeChallengeMethod, dpopJkt, ...signIn } = runSteps(authorizationEndpointSteps, { params, client, config });
  return {
    request: { clientId: client.clientId, scope, ...signIn },
    completion: {
      kind: "redirect", ...target,
      ...(nonce !== undefined && { nonce }),
      ...(codeChallenge !== undefined && { codeChallenge, codeChallengeMethod }),
      ...(dpopJkt !== undefined && { dpopJkt }),
    },
  };
}

/**
 * The state of one authorization while the person signs in, verifies their address and consents:
 * sealed (AES-GCM, src/crypto/aead.ts) into an opaque `txn` value the pages carry, so no storage is
 * written until it completes. The same pages serve every completion kind. Tampering or expiry →
 * `interaction_expired`.
 */
export interface Transaction<K extends CompletionKind = CompletionKind> {
  request: AuthorizationRequest;
  completion: Extract<Completion, { kind: K }>;
  createdAt: number;
  expiresAt: number;
  /** Set when the person authenticated during this transaction (satisfies prompt=login and max_age). */
  authenticatedSid?: string;
  /** Set when the person approved the consent page during this transaction (satisfies prompt=consent). */
  consented?: boolean;
}

export function newTransaction(request: AuthorizationRequest, completion: Completion, config: Config, now: number): Transaction {
  return { request, completion, createdAt: now, expiresAt: now + config.interactionTtl };
}

/** Who authorized, and under which consent: what a completion binds to what it issues (a code, an approved device request). */
export interface Authorized {
  sub: string;
  authTime: number;
  sid: string;
  amr: string[];
  grantId: string;
}

/** Origins a page's form-action must allow when its POST ends in this completion (a redirect URI; none for a device). */
export const completionOrigins = (txn: Transaction): string[] =>
  txn.completion.kind === "redirect" ? [txn.completion.redirectUri] : [];

export async function sealTransaction(txn: Transaction, encryptionKey: string): Promise<string> {
  const sealed = await seal(encryptionKey, "interaction", "txn", JSON.stringify(txn));
  // The request's bounds make this impossible (src/authorize/limits.ts); never hand out a txn openTransaction would refuse.
  if (sealed.length > MAX_SEALED_TRANSACTION) throw new Error(`sealed transaction of ${sealed.length} characters exceeds MAX_SEALED_TRANSACTION`);
  return sealed;
}

export async function openTransaction(value: string | undefined, encryptionKey: string, now: number): Promise<Transaction> {
  if (!value || value.length > MAX_SEALED_TRANSACTION) throw new OAuthError("interaction_expired");
  let txn: Transaction;
  try {
    txn = JSON.parse(await open(encryptionKey, "interaction", "txn", value)) as Transaction;
  } catch {
    throw new OAuthError("interaction_expired");
  }
  ensure(txn.expiresAt > now, "interaction_expired");
  return txn;
}

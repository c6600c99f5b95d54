import { open, seal } from "../crypto/aead";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { OAuthError, ensure } from "../errors/oauth-error";
import { MAX_SEALED_TRANSACTION } from "./limits";
import { authorizationEndpointSteps, runSteps, type ResponseMode } from "./steps";

export { PKCE_VALUE, STANDARD_SCOPES, responseModeOf, type ResponseMode } from "./steps";

/** Where errors may go once client_id and redirect_uri are validated (RFC 6749 §4.1.2.1). */
export interface RedirectTarget {
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
}

/** A validated authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1). */
export interface AuthorizationRequest extends RedirectTarget {
  clientId: string;
  /** Whether redirect_uri was in the request (then the token request must repeat it, RFC 6749 §4.1.3). */
  redirectUriSent: boolean;
  scope: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  prompt?: "none" | "login" | "consent";
  maxAge?: number;
  loginHint?: string;
}

/**
 * The authorization endpoint's checks (src/authorize/steps.ts) that follow client and redirect URI
 * validation, in order; each failure is an error that may be redirected. Returns the request as the
 * rest of the flow sees it.
 */
export function validateAuthorizationRequest(
  params: ReadonlyMap<string, string>,
  client: Client,
  target: RedirectTarget & { redirectUriSent: boolean },
  config: Config,
): AuthorizationRequest {
  const draft = runSteps(authorizationEndpointSteps, { params, client, config });
  return { ...target, clientId: client.clientId, ...draft };
}

/**
 * The state of one authorization request while the person signs in and consents: sealed
 * (AES-GCM, src/crypto/aead.ts) into an opaque `txn` value the pages carry, so no storage is
 * written until a code is issued. Tampering or expiry → `interaction_expired`.
 */
export interface Transaction {
  request: AuthorizationRequest;
  createdAt: number;
  expiresAt: number;
  /** Set when the person authenticated during this transaction (satisfies prompt=login and max_age). */
  authenticatedSid?: string;
  /** Set when the person approved the consent page during this transaction (satisfies prompt=consent). */
  consented?: boolean;
}

export function newTransaction(request: AuthorizationRequest, config: Config, now: number): Transaction {
  return { request, createdAt: now, expiresAt: now + config.interactionTtl };
}

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

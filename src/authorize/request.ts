import { open, seal } from "../crypto/aead";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { OAuthError, ensure } from "../errors/oauth-error";
import { parseScope } from "../grants/scope";
import { MAX_SEALED_TRANSACTION, ensureWithinBound } from "./limits";

/** How the authorization response travels back (OAuth 2.0 Multiple Response Types §2.1; Form Post Response Mode). */
export type ResponseMode = "query" | "fragment" | "form_post";
const RESPONSE_MODES: readonly ResponseMode[] = ["query", "fragment", "form_post"];

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

/** OIDC scopes every client may ask for; a client's registered `scope` adds its own. */
export const STANDARD_SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"] as const;
const PROMPTS = ["none", "login", "consent"] as const;
/** RFC 7636 §4.1 / §4.2: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function responseModeOf(params: ReadonlyMap<string, string>): { mode: ResponseMode; valid: boolean } {
  const requested = params.get("response_mode");
  if (requested === undefined) return { mode: "query", valid: true };
  const valid = (RESPONSE_MODES as readonly string[]).includes(requested);
  return { mode: valid ? (requested as ResponseMode) : "query", valid };
}

/**
 * The checks that follow client and redirect URI validation, in order; each failure is an error
 * that may be redirected. Returns the request as the rest of the flow sees it.
 */
export function validateAuthorizationRequest(
  params: ReadonlyMap<string, string>,
  client: Client,
  target: RedirectTarget & { redirectUriSent: boolean },
  config: Config,
): AuthorizationRequest {
  ensure(responseModeOf(params).valid, "unsupported_response_mode");
  // What ends up sealed in the transaction and the code, in bytes (src/authorize/limits.ts).
  for (const name of ["state", "nonce", "login_hint", "scope"] as const) ensureWithinBound(name, params.get(name));
  // OIDC Core §3.1.2.6, §6: request objects and dynamic registration by parameter are not supported.
  ensure(!params.has("request"), "request_not_supported");
  ensure(!params.has("request_uri"), "request_uri_not_supported");
  ensure(!params.has("registration"), "registration_not_supported");

  const responseType = params.get("response_type");
  ensure(responseType !== undefined, "missing_response_type");
  ensure(responseType === "code", "unsupported_response_type");
  ensure(client.grantTypes.includes("authorization_code"), "unauthorized_client",
    "This client is not registered for the authorization_code grant.");

  const scope = parseScope(params.get("scope")) ?? [];
  if (!client.plainOAuth2) ensure(scope.includes("openid"), "openid_scope_required");
  const allowed = new Set<string>([...STANDARD_SCOPES, ...client.scope]);
  const refused = scope.find((s) => !allowed.has(s));
  if (refused !== undefined) throw new OAuthError("invalid_scope", `The scope ${refused} is not allowed for this client.`);

  const challenge = params.get("code_challenge");
  const method = params.get("code_challenge_method");
  const pkceRequired = client.authMethod === "none" || config.requirePkceForAll;
  if (challenge === undefined) {
    ensure(!pkceRequired, "pkce_required");
    ensure(method === undefined, "invalid_request", "code_challenge_method was sent without code_challenge.");
  } else {
    ensure(PKCE_VALUE.test(challenge), "pkce_invalid_challenge");
    // RFC 7636 §4.3: a missing method means plain, which we accept only from clients configured for it.
    const effective = method ?? "plain";
    ensure(effective === "S256" || (effective === "plain" && client.allowPlainPkce), "pkce_method_not_allowed");
  }

  const promptValue = params.get("prompt");
  let prompt: AuthorizationRequest["prompt"];
  if (promptValue !== undefined) {
    const values = promptValue.split(" ").filter(Boolean);
    ensure(values.length === 1, "invalid_prompt", "Send exactly one prompt value.");
    ensure((PROMPTS as readonly string[]).includes(values[0]!), "invalid_prompt");
    prompt = values[0] as AuthorizationRequest["prompt"];
  }

  const maxAgeValue = params.get("max_age");
  let maxAge: number | undefined;
  if (maxAgeValue !== undefined) {
    ensure(/^\d{1,10}$/.test(maxAgeValue), "invalid_max_age");
    maxAge = Number(maxAgeValue);
  }

  const request: AuthorizationRequest = { ...target, clientId: client.clientId, scope };
  const optional = {
    nonce: params.get("nonce"),
    codeChallenge: challenge,
    codeChallengeMethod: challenge === undefined ? undefined : ((method ?? "plain") as "S256" | "plain"),
    prompt,
    maxAge,
    loginHint: params.get("login_hint"),
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) (request as unknown as Record<string, unknown>)[key] = value;
  return request;
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

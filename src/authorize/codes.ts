import { open, seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";
import { MAX_CODE_LENGTH } from "./limits";
import type { AuthorizationDetail } from "./authorization-details";
import type { ClaimsRequest } from "./claims-request";
import type { Authorized } from "./request";
import type { ReplayNamespace } from "../replay/replay-cache";

/**
 * Authorization codes (RFC 6749 §4.1.2). A code is self-contained: its binding — client, redirect
 * URI, PKCE challenge, nonce, scope, user, auth_time, session, grant — is sealed into it with
 * AES-256-GCM, so redeeming it needs no lookup and works at any edge location the moment it is
 * issued (no waiting for KV to propagate). What makes it single use is the atomic reservation of
 * its random `jti` in the ReplayGuard Durable Object at redemption (see docs/storage.md).
 * Entropy: 128 random bits in `jti` plus a 96-bit random IV; integrity from the GCM tag. What the
 * request may put in a code is bounded (src/authorize/limits.ts), so every code issued is
 * within MAX_CODE_LENGTH and redeemable.
 */
export interface CodePayload {
  jti: string;
  clientId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  scope: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  /** RFC 9449 §10: the DPoP key (JWK thumbprint) the code must be redeemed with. */
  dpopJkt?: string;
  /** RFC 8707 §2: the resources granted; the token request picks one as the access token's `aud`. */
  resources?: string[];
  /** RFC 9396 §2: the authorization details granted. */
  authorizationDetails?: AuthorizationDetail[];
  /** OIDC Core §5.5: the claims asked for by name, released in the ID token and at UserInfo. */
  claims?: ClaimsRequest;
  /** OIDC Core §3.1.2.1, §5.5.1.1: the acr values wanted; the ID token's `acr` is the first the sign-in satisfies. */
  acrValues?: string[];
  sub: string;
  authTime: number;
  sid: string;
  amr: string[];
  /**
   * The consent (grant) the code was issued under. Every code has one: a first-party client skips
   * the consent page, but its grant is recorded all the same (src/authorize/flow.ts), so it can be
   * listed and withdrawn, and withdrawing it stops the code (and what it issued).
   */
  grantId: string;
  exp: number;
}

/** Code reservations in the ReplayCache: server-wide, spread over 16 objects. */
export const CODE_NAMESPACE: ReplayNamespace = { name: "authorization_code", shardHexDigits: 1 };

/** What a code is bound to from its authorization: the request's client and scope, and its redirect completion. */
export type CodeBinding = Pick<CodePayload, "clientId" | "redirectUri" | "redirectUriSent" | "scope" | "nonce" | "codeChallenge" | "codeChallengeMethod" | "dpopJkt" | "resources" | "authorizationDetails" | "claims" | "acrValues">;

export async function issueCode(
  request: CodeBinding,
  who: Authorized,
  deps: { encryptionKey: string; now: number; ttl: number },
): Promise<string> {
  const payload: CodePayload = {
    jti: randomToken(16),
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    redirectUriSent: request.redirectUriSent,
    scope: request.scope,
    ...(request.nonce !== undefined && { nonce: request.nonce }),
    ...(request.codeChallenge !== undefined && { codeChallenge: request.codeChallenge, codeChallengeMethod: request.codeChallengeMethod }),
    ...(request.dpopJkt !== undefined && { dpopJkt: request.dpopJkt }),
    ...(request.resources !== undefined && { resources: request.resources }),
    ...(request.authorizationDetails !== undefined && { authorizationDetails: request.authorizationDetails }),
    ...(request.claims !== undefined && { claims: request.claims }),
    ...(request.acrValues !== undefined && { acrValues: request.acrValues }),
    ...who,
    exp: deps.now + deps.ttl,
  };
  const code = await seal(deps.encryptionKey, "authorization-code", "code", JSON.stringify(payload));
  // The request's bounds make this impossible (src/authorize/limits.ts); never issue a code openCode would refuse.
  if (code.length > MAX_CODE_LENGTH) throw new Error(`authorization code of ${code.length} characters exceeds MAX_CODE_LENGTH`);
  return code;
}

/**
 * Opens a code; anything not sealed by us (or tampered with) is `code_invalid`. Expiry is checked by
 * the grant. Anything longer than the longest code issueCode can produce is refused unopened.
 */
export async function openCode(code: string, encryptionKey: string): Promise<CodePayload> {
  if (code.length > MAX_CODE_LENGTH) throw new OAuthError("code_invalid");
  try {
    return JSON.parse(await open(encryptionKey, "authorization-code", "code", code)) as CodePayload;
  } catch {
    throw new OAuthError("code_invalid");
  }
}

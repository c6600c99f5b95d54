import { open, seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";
import type { AuthorizationRequest } from "./request";
import type { ReplayNamespace } from "../replay/replay-cache";

/**
 * Authorization codes (RFC 6749 §4.1.2). A code is self-contained: its binding — client, redirect
 * URI, PKCE challenge, nonce, scope, user, auth_time, session, grant — is sealed into it with
 * AES-256-GCM, so redeeming it needs no lookup and works at any edge location the moment it is
 * issued (no waiting for KV to propagate). What makes it single use is the atomic reservation of
 * its random `jti` in the ReplayGuard Durable Object at redemption (see docs/storage.md).
 * Entropy: 128 random bits in `jti` plus a 96-bit random IV; integrity from the GCM tag.
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
  sub: string;
  authTime: number;
  sid: string;
  amr: string[];
  /** The consent (grant) the code was issued under; first-party clients have none. */
  grantId?: string;
  exp: number;
}

/** Code reservations in the ReplayCache: server-wide, spread over 16 objects. */
export const CODE_NAMESPACE: ReplayNamespace = { name: "authorization_code", shardHexDigits: 1 };

export function issueCode(
  request: AuthorizationRequest,
  who: { sub: string; authTime: number; sid: string; amr: string[]; grantId?: string },
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
    ...who,
    exp: deps.now + deps.ttl,
  };
  return seal(deps.encryptionKey, "authorization-code", "code", JSON.stringify(payload));
}

/** Opens a code; anything not sealed by us (or tampered with) is `code_invalid`. Expiry is checked by the grant. */
export async function openCode(code: string, encryptionKey: string): Promise<CodePayload> {
  if (code.length > 4096) throw new OAuthError("code_invalid");
  try {
    return JSON.parse(await open(encryptionKey, "authorization-code", "code", code)) as CodePayload;
  } catch {
    throw new OAuthError("code_invalid");
  }
}

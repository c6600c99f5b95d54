import { revokeFamily } from "../tokens/refresh-token";
import { allAttempted } from "../tokens/revocation";

/**
 * The token half of "sign out everywhere" (after a password reset, a password change, or the
 * person's own request on /account): every live refresh-token family of the person is revoked —
 * its refresh tokens, and through the KV list the access tokens issued with them
 * (src/tokens/refresh-token.ts revokeFamily). The session half, with the back-channel logout to
 * the clients signed in through the sessions, is src/logout/end-session.ts endAllSessions; the
 * route runs both (src/endpoints/password.tsx signOutEverywhere).
 *
 * Access tokens issued without a refresh token are not listed anywhere; they end with their short
 * lifetime (config.accessTokenTtl). Consent stays: the apps ask the person to sign in again, not to
 * allow them again.
 */
export async function revokeRefreshTokensOf(deps: { db: D1Database; kv: KVNamespace; now: number }, userId: string): Promise<number> {
  const { results } = await deps.db
    .prepare("SELECT family_id FROM refresh_token_families WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?")
    .bind(userId, deps.now)
    .all<{ family_id: string }>();
  await allAttempted(results.map((f) => revokeFamily(deps.db, deps.kv, f.family_id, { now: deps.now, reason: "revocation" })));
  return results.length;
}

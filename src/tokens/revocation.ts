/**
 * The access-token revocation list: one KV key per revoked token, `revoked:at:<jti>`, kept until the
 * token would have expired anyway.
 *
 * Trade-offs, deliberately accepted:
 * - KV is eventually consistent: a revocation written in one location can take about 60 s to be
 *   seen elsewhere (and a location that recently read the key as absent may keep that answer for
 *   its cache time). Our own endpoints (UserInfo) therefore honour a revocation within ~60 s, not
 *   at once.
 * - Resource servers that verify our JWT access tokens locally (RFC 9068) never consult this list,
 *   so for them a revoked token stays valid until `exp`.
 * Both are why access tokens are short-lived (config.accessTokenTtl, 600 s by default; RFC 9700
 * §4.10): revocation narrows the window, the short lifetime bounds it. Stronger revocation
 * (immediate, everywhere) would need introspection (RFC 7662) on every request.
 */

/** KV refuses expirationTtl below 60 s. */
const KV_MIN_TTL = 60;

const revokedKey = (jti: string) => `revoked:at:${jti}`;

/** KV keys are at most 512 bytes; our jtis are 22 characters, so anything long is not ours. */
function checkJti(jti: string): void {
  if (jti.length === 0 || jti.length > 256) throw new Error("access token jti must be 1-256 characters");
}

/**
 * Puts a token on the list until its `exp` (at least KV's 60 s minimum, which also covers the
 * verifier's clock-skew allowance for a token at the edge of expiry). A token that expired more than
 * that long ago is already refused everywhere, so nothing is written.
 */
export async function revokeAccessToken(kv: KVNamespace, jti: string, exp: number, now: number): Promise<void> {
  checkJti(jti);
  if (exp + KV_MIN_TTL <= now) return;
  await kv.put(revokedKey(jti), "1", { expirationTtl: Math.max(KV_MIN_TTL, exp - now) });
}

/** Whether the token with this `jti` was revoked (as far as this location's KV knows; see above). */
export async function isRevoked(kv: KVNamespace, jti: string): Promise<boolean> {
  checkJti(jti);
  return (await kv.get(revokedKey(jti))) !== null;
}

/**
 * Waits for every step, then throws the first failure. Revocation tries each of its steps whatever
 * the others do (a failed KV write must not spare a refresh token, src/tokens/refresh-token.ts
 * revokeFamily), and still reports the failure, so the request answers server_error and is retried.
 */
export async function allAttempted(steps: (Promise<unknown> | undefined)[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) throw failed.reason;
}

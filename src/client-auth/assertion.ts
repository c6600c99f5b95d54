import type { Client } from "../clients/model";
import { ensure } from "../errors/oauth-error";
import type { ReplayNamespace } from "../replay/replay-cache";
import { verifyJws } from "../tokens/jws";
import type { AssertionAudience, ClientAuthDeps, Presented } from "./types";

type AssertionPresented = Extract<Presented, { carrier: "assertion" }>;

/**
 * One client's assertion `jti`s (RFC 7523 §3) in the ReplayCache: one object per client. The client
 * is already the partition, and one object commits a client's concurrent reservations together,
 * which costs about a third less than spreading them over 16 (docs/performance.md). A client that
 * sends more than about a thousand assertions a second would need shards here.
 */
const clientAssertions = (clientId: string): ReplayNamespace => ({ name: `client_assertion:${clientId}`, shardHexDigits: 0 });

/** Whether an assertion's `aud` names this server under `audience`'s rule (types.ts AudienceRule). */
export function audienceAccepted(aud: unknown, issuer: string, { endpoint, rule }: AssertionAudience): boolean {
  if (rule === "issuer") return aud === issuer;
  const values: unknown[] = typeof aud === "string" ? [aud] : Array.isArray(aud) ? aud : [];
  return values.some((value) => value === issuer || value === endpoint);
}

/**
 * The RFC 7523 §3 / OIDC Core §9 processing rules for a client assertion, in order: cheap claim
 * checks first, then the signature, and only then the `jti` reservation, so that unauthenticated
 * input can never burn a legitimate client's `jti`.
 */
export async function verifyAssertion(
  presented: AssertionPresented,
  client: Client,
  key: CryptoKey,
  audience: AssertionAudience,
  deps: ClientAuthDeps,
): Promise<void> {
  const { claims } = presented;
  const { now, config } = deps;
  const skew = config.clockSkew;

  ensure(claims.iss === client.clientId, "client_assertion_invalid_issuer");
  ensure(claims.sub === client.clientId, "client_assertion_invalid_subject");

  ensure(audienceAccepted(claims.aud, config.issuer, audience), "client_assertion_invalid_audience",
    audience.rule === "issuer"
      ? "The client_assertion aud claim must be the issuer, as a single string."
      : `The client_assertion aud claim must be the issuer or ${audience.endpoint}.`);

  ensure(typeof claims.exp === "number" && Number.isFinite(claims.exp), "client_assertion_expiration_required");
  ensure(claims.exp > now - skew, "client_assertion_expired_token");
  ensure(claims.exp - now <= config.maxAssertionLifetime, "client_assertion_expires_too_far_in_future",
    `The client_assertion exp may be at most ${config.maxAssertionLifetime} seconds ahead.`);
  if (claims.nbf !== undefined) {
    ensure(typeof claims.nbf === "number", "client_assertion_invalid_jwt", "The client_assertion nbf claim must be a number.");
    ensure(claims.nbf <= now + skew, "client_assertion_not_yet_valid");
  }
  if (claims.iat !== undefined) {
    ensure(typeof claims.iat === "number", "client_assertion_invalid_jwt", "The client_assertion iat claim must be a number.");
    ensure(claims.iat <= now + skew, "client_assertion_issued_at_in_future");
  }
  ensure(typeof claims.jti === "string" && claims.jti.length > 0 && claims.jti.length <= 256, "client_assertion_jti_required");

  ensure(await verifyJws(presented.jws, key), "client_assertion_invalid_signature");

  const first = await deps.replay.reserve(clientAssertions(client.clientId), claims.jti, claims.exp + skew);
  ensure(first, "client_assertion_already_used");
}

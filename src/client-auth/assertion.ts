import type { Client } from "../clients/model";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { ErrorCode } from "../errors/catalog";
import type { ReplayNamespace } from "../replay/replay-cache";
import { checkJwt, type JwtFailure, type JwtFailureKind, type JwtRules } from "../tokens/verify-jwt";
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
  if (typeof aud === "string") return aud === issuer || aud === endpoint;
  return Array.isArray(aud) && aud.some((value) => value === issuer || value === endpoint);
}

/** The verifier's rules for one assertion: RFC 7523 §3 / OIDC Core §9. */
interface AssertionRules extends JwtRules {
  readonly issuer: string;
  readonly audience: AssertionAudience;
}

const ASSERTION_REQUIRED = {
  jti: (jti: unknown) => typeof jti === "string" && jti.length > 0 && jti.length <= 256,
} as const;
const assertionAudience = (aud: unknown, rules: AssertionRules) => audienceAccepted(aud, rules.issuer, rules.audience);
const anyAlg = () => true;

/** The verifier's failure kinds as client-assertion errors (the catalog's client_assertion_*). */
const ASSERTION_ERRORS: Record<JwtFailureKind, ErrorCode> = {
  malformed: "client_assertion_invalid_jwt",
  typ: "client_assertion_invalid_jwt",
  alg: "client_assertion_invalid_signature_algorithm",
  key_not_found: "client_assertion_invalid_kid",
  signature: "client_assertion_invalid_signature",
  iss: "client_assertion_invalid_issuer",
  sub: "client_assertion_invalid_subject",
  aud: "client_assertion_invalid_audience",
  expired: "client_assertion_expired_token",
  lifetime: "client_assertion_expires_too_far_in_future",
  not_yet_valid: "client_assertion_not_yet_valid",
  iat: "client_assertion_issued_at_in_future",
  missing_claim: "client_assertion_jti_required",
};

function assertionError({ kind, claim }: JwtFailure, rules: AssertionRules, maxLifetime: number): OAuthError {
  switch (kind) {
    case "missing_claim":
      return new OAuthError(claim === "exp" ? "client_assertion_expiration_required" : "client_assertion_jti_required");
    case "malformed":
      return new OAuthError("client_assertion_invalid_jwt", claim && `The client_assertion ${claim} claim must be a number.`);
    case "aud":
      return new OAuthError("client_assertion_invalid_audience", rules.audience.rule === "issuer"
        ? "The client_assertion aud claim must be the issuer, as a single string."
        : `The client_assertion aud claim must be the issuer or ${rules.audience.endpoint}.`);
    case "lifetime":
      return new OAuthError("client_assertion_expires_too_far_in_future",
        `The client_assertion exp may be at most ${maxLifetime} seconds ahead.`);
    default:
      return new OAuthError(ASSERTION_ERRORS[kind]);
  }
}

/**
 * The RFC 7523 §3 / OIDC Core §9 processing rules for a client assertion, through the one JWT
 * verifier (src/tokens/verify-jwt.ts), claims first: `iss` and `sub` the client, `aud` by the
 * endpoint's rule, `exp` required and at most config.maxAssertionLifetime ahead, `nbf` and `iat`
 * when present, `jti` required; then the signature with the key the method chose (its alg family
 * was checked by the method); and only then the `jti` reservation, so that unauthenticated input
 * can never burn a legitimate client's `jti`.
 */
export async function verifyAssertion(
  presented: AssertionPresented,
  client: Client,
  key: CryptoKey,
  audience: AssertionAudience,
  deps: ClientAuthDeps,
): Promise<void> {
  const { now, config } = deps;
  const rules: AssertionRules = {
    alg: anyAlg,
    key,
    iss: client.clientId,
    sub: client.clientId,
    aud: assertionAudience,
    expiry: "required",
    maxLifetime: config.maxAssertionLifetime,
    iatNotInFuture: true,
    required: ASSERTION_REQUIRED,
    claimsFirst: true,
    now,
    skew: config.clockSkew,
    issuer: config.issuer,
    audience,
  };
  const failure = await checkJwt(presented, rules);
  if (failure !== undefined) throw assertionError(failure, rules, config.maxAssertionLifetime);

  const first = await deps.replay.reserve(clientAssertions(client.clientId), presented.claims.jti!, presented.claims.exp! + config.clockSkew);
  ensure(first, "client_assertion_already_used");
}

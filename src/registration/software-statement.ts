import { importJWK, type JSONWebKeySet, type JWK, type JWTPayload } from "jose";
import type { ErrorCode } from "../errors/catalog";
import { OAuthError, ensure } from "../errors/oauth-error";
import { isAsymmetricAlg } from "../keys/algorithms";
import { COMPACT_JWS } from "../tokens/jws";
import { isNonEmptyString, jwtFailure, matchingKeys, verifyJwt, type JwtFailure, type JwtRules, type KeyChoice } from "../tokens/verify-jwt";

/**
 * Software statements (RFC 7591 §2.3): a JWT, signed by an issuer the operator trusts
 * (config.softwareStatementKeys), asserting metadata about the client software. Its claims take
 * precedence over the same members in the registration request (§3.1.1; the caller merges them).
 * Verified by the one JWT verifier (src/tokens/verify-jwt.ts): an asymmetric alg, the one trusted
 * key that fits the header (its kid, its alg), the signature, then `exp` / `nbf` when present
 * (config.clockSkew) and `iss` required.
 *
 * Outcomes (RFC 7591 §3.2.2):
 * - not a signed JWT, `alg` none or HMAC, no `iss` → `invalid_software_statement`
 *   (software_statement_malformed);
 * - expired or not yet valid → `invalid_software_statement` (software_statement_expired);
 * - its `kid` names a trusted key but the signature does not verify → `invalid_software_statement`
 *   (software_statement_signature_invalid): the statement was altered;
 * - no trusted key verifies it (none configured, unknown kid, another signer, more than one key
 *   fits and no kid) → `unapproved_software_statement` (software_statement_unapproved).
 */
const MAX_STATEMENT_LENGTH = 16 * 1024;

interface StatementRules extends JwtRules {
  readonly trusted: JSONWebKeySet;
}

const NO_KEYS: JSONWebKeySet = { keys: [] };
const STATEMENT_REQUIRED = { iss: isNonEmptyString } as const;

/** Trusted keys imported once per key and alg (the set lives as long as the configuration). */
const imported = new WeakMap<JWK, Map<string, Promise<CryptoKey>>>();

async function trustedKey(header: Readonly<Record<string, unknown>>, rules: StatementRules): Promise<KeyChoice> {
  const alg = header.alg as string;
  const kid = typeof header.kid === "string" ? header.kid : undefined;
  const candidates = matchingKeys(rules.trusted.keys, alg, kid);
  if (candidates.length !== 1) return jwtFailure("key_not_found");
  const jwk = candidates[0]!;
  let byAlg = imported.get(jwk);
  if (byAlg === undefined) imported.set(jwk, (byAlg = new Map()));
  let key = byAlg.get(alg);
  if (key === undefined) {
    key = importJWK(jwk, alg) as Promise<CryptoKey>;
    byAlg.set(alg, key);
    key.catch(() => byAlg.delete(alg));
  }
  return key.catch(() => jwtFailure("malformed"));
}

export async function verifySoftwareStatement(
  statement: unknown,
  deps: { keys: JSONWebKeySet | null; now: number; clockSkew: number },
): Promise<JWTPayload> {
  ensure(typeof statement === "string" && statement.length <= MAX_STATEMENT_LENGTH && COMPACT_JWS.test(statement),
    "software_statement_malformed");
  const rules: StatementRules = {
    alg: isAsymmetricAlg,
    key: trustedKey,
    trusted: deps.keys ?? NO_KEYS,
    expiry: "when_present",
    required: STATEMENT_REQUIRED,
    now: deps.now,
    skew: deps.clockSkew,
  };
  const verified = await verifyJwt(statement, rules);
  if (verified.ok) return verified.jwt.claims as JWTPayload;
  throw statementError(verified.failure, verified.jwt?.jws.header.kid, rules.trusted);
}

/** A verifier failure as RFC 7591 §3.2.2 names it. */
function statementError(failure: JwtFailure, kid: unknown, keys: JSONWebKeySet): OAuthError {
  const code = STATEMENT_ERRORS[failure.kind];
  switch (failure.kind) {
    case "malformed":
      // A time claim that is not a number is a validity failure (as exp, nbf); anything else a malformed JWT.
      return failure.claim !== undefined
        ? new OAuthError("software_statement_expired")
        : new OAuthError(code, "software_statement is not a valid signed JWT.");
    case "alg":
      return new OAuthError(code, "software_statement must be signed with an asymmetric algorithm (not none or HMAC).");
    case "missing_claim":
      return failure.claim === "iss"
        ? new OAuthError(code, "software_statement must contain an iss claim.")
        : new OAuthError(code, `software_statement has a malformed ${failure.claim} claim.`);
    case "key_not_found":
      return new OAuthError(code, keys.keys.length === 0 ? "This server trusts no software statement issuer." : undefined);
    case "signature":
      // The header's kid names a trusted key, yet the signature fails: altered. Otherwise: not ours to trust.
      return new OAuthError(typeof kid === "string" && keys.keys.some((k) => k.kid === kid)
        ? "software_statement_signature_invalid"
        : "software_statement_unapproved");
    default:
      return new OAuthError(code);
  }
}

const STATEMENT_ERRORS: Record<JwtFailure["kind"], ErrorCode> = {
  malformed: "software_statement_malformed",
  typ: "software_statement_malformed",
  alg: "software_statement_malformed",
  key_not_found: "software_statement_unapproved",
  signature: "software_statement_unapproved",
  iss: "software_statement_malformed",
  sub: "software_statement_malformed",
  aud: "software_statement_malformed",
  expired: "software_statement_expired",
  lifetime: "software_statement_expired",
  not_yet_valid: "software_statement_expired",
  iat: "software_statement_expired",
  missing_claim: "software_statement_malformed",
};


import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { OAuthError, ensure } from "../errors/oauth-error";
import { ASYMMETRIC_ASSERTION_ALGS } from "../keys/algorithms";
import { COMPACT_JWS } from "../tokens/jws";

/**
 * Software statements (RFC 7591 §2.3): a JWT, signed by an issuer the operator trusts
 * (config.softwareStatementKeys), asserting metadata about the client software. Its claims take
 * precedence over the same members in the registration request (§3.1.1; the caller merges them).
 *
 * Outcomes (RFC 7591 §3.2.2):
 * - not a signed JWT, `alg` none or HMAC, no `iss` → `invalid_software_statement`
 *   (software_statement_malformed);
 * - expired or not yet valid → `invalid_software_statement` (software_statement_expired);
 * - its `kid` names a trusted key but the signature does not verify → `invalid_software_statement`
 *   (software_statement_signature_invalid): the statement was altered;
 * - no trusted key verifies it (none configured, unknown kid, another signer) →
 *   `unapproved_software_statement` (software_statement_unapproved).
 */
const MAX_STATEMENT_LENGTH = 16 * 1024;

export async function verifySoftwareStatement(
  statement: unknown,
  deps: { keys: JSONWebKeySet | null; now: number; clockSkew: number },
): Promise<JWTPayload> {
  ensure(typeof statement === "string" && statement.length <= MAX_STATEMENT_LENGTH && COMPACT_JWS.test(statement),
    "software_statement_malformed");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(statement);
  } catch (cause) {
    throw new OAuthError("software_statement_malformed", "software_statement has a malformed JWS header.", { cause });
  }
  ensure(typeof header.alg === "string" && (ASYMMETRIC_ASSERTION_ALGS as readonly string[]).includes(header.alg),
    "software_statement_malformed", "software_statement must be signed with an asymmetric algorithm (not none or HMAC).");
  ensure(deps.keys !== null && deps.keys.keys.length > 0, "software_statement_unapproved",
    "This server trusts no software statement issuer.");
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(statement, createLocalJWKSet(deps.keys), {
      algorithms: [...ASYMMETRIC_ASSERTION_ALGS],
      currentDate: new Date(deps.now * 1000),
      clockTolerance: deps.clockSkew,
    }));
  } catch (cause) {
    throw classify(cause, header.kid, deps.keys);
  }
  ensure(typeof payload.iss === "string" && payload.iss.length > 0, "software_statement_malformed", "software_statement must contain an iss claim.");
  return payload;
}

function classify(cause: unknown, kid: string | undefined, keys: JSONWebKeySet): OAuthError {
  const code = (cause as { code?: string } | null)?.code;
  const claim = (cause as { claim?: string } | null)?.claim;
  if (code === "ERR_JWT_EXPIRED" || (code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && (claim === "nbf" || claim === "iat"))) {
    return new OAuthError("software_statement_expired", undefined, { cause });
  }
  if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" && kid !== undefined && keys.keys.some((k) => k.kid === kid)) {
    return new OAuthError("software_statement_signature_invalid", undefined, { cause });
  }
  if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED" || code === "ERR_JWKS_NO_MATCHING_KEY" || code === "ERR_JWKS_MULTIPLE_MATCHING_KEYS") {
    return new OAuthError("software_statement_unapproved", undefined, { cause });
  }
  return new OAuthError("software_statement_malformed", "software_statement is not a valid signed JWT.", { cause });
}

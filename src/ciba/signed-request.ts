import type { ProtectedHeaderParameters } from "jose";
import { MAX_REQUEST_OBJECT_LIFETIME, JWT_CLAIMS, audienceIsIssuer } from "../authorize/request-object";
import { clientVerificationKey } from "../client-auth/client-keys";
import type { ClientAuthDeps } from "../client-auth/types";
import type { Client } from "../clients/model";
import type { ErrorCode } from "../errors/catalog";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { Params } from "../http/form";
import type { ReplayNamespace } from "../replay/replay-cache";
import { checkJwt, decodeJwt, isNonEmptyString, isTime, type JwtFailure, type JwtRules } from "../tokens/verify-jwt";

/**
 * Signed authentication requests (OpenID CIBA Core 1.0 §7.1.1): the `request` parameter of
 * `POST /bc-authorize`, a JWT signed with one of the client's registered keys (its `jwks` or
 * `jwks_uri`, src/client-auth/client-keys.ts) and checked by the one JWT verifier
 * (src/tokens/verify-jwt.ts), the request-object module's audience and lifetime rules reused:
 *
 * - only from a client that registered `backchannel_authentication_request_signing_alg`, and then
 *   REQUIRED (a plain request is refused); `alg` exactly that registered (asymmetric) alg;
 * - `iss` the client_id, `aud` the issuer (a string, or an array naming it), `exp` not past and at
 *   most 60 minutes ahead, `iat` and `nbf` required, neither ahead nor more than 60 minutes old,
 *   `exp − nbf` at most 60 minutes (FAPI-CIBA), `jti` required and single use (the ReplayCache,
 *   one namespace per client, reserved only once everything else passed, so a forged or stale JWT
 *   never burns a client's jti);
 * - the authentication request parameters come from the JWT's claims only (numbers such as
 *   requested_expiry as their decimal string); besides `request`, only client-authentication
 *   parameters may be sent outside it (§7.1.1: the parameters MUST NOT also appear outside);
 * - every failure is `invalid_request` (§13) under its own catalog code.
 */

/** One client's signed-request `jti`s in the ReplayCache (like client assertions: one object per client). */
const cibaRequests = (clientId: string): ReplayNamespace => ({ name: `ciba_request:${clientId}`, shardHexDigits: 0 });

/** The parameters that may accompany `request`: client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2). */
const OUTSIDE_ALLOWED = new Set(["request", "client_id", "client_secret", "client_assertion", "client_assertion_type"]);

/** The client's registered `backchannel_authentication_request_signing_alg` (CIBA §4), kept in its metadata. */
export function cibaRequestSigningAlg(client: Client): string | undefined {
  const alg = client.metadata.backchannel_authentication_request_signing_alg;
  return typeof alg === "string" ? alg : undefined;
}

interface SignedRequestRules extends JwtRules {
  readonly issuer: string;
}

const REQUIRED = {
  iat: isTime,
  nbf: isTime,
  jti: (jti: unknown) => isNonEmptyString(jti) && jti.length <= 256,
};

const CODES: Record<JwtFailure["kind"], ErrorCode> = {
  malformed: "ciba_request_malformed",
  typ: "ciba_request_malformed",
  alg: "ciba_request_alg",
  key_not_found: "ciba_request_key",
  signature: "ciba_request_signature",
  iss: "ciba_request_iss",
  sub: "ciba_request_malformed",
  aud: "ciba_request_aud",
  expired: "ciba_request_expired",
  lifetime: "ciba_request_lifetime",
  not_yet_valid: "ciba_request_nbf",
  iat: "ciba_request_iat",
  missing_claim: "ciba_request_claim_missing",
};

function failureError(failure: JwtFailure): OAuthError {
  if (failure.kind === "missing_claim" && failure.claim === "jti") return new OAuthError("ciba_request_jti_missing");
  if (failure.claim !== undefined) return new OAuthError(CODES[failure.kind], `The signed authentication request's ${failure.claim} claim is missing or malformed.`);
  return new OAuthError(CODES[failure.kind]);
}

/**
 * The parameters of the authentication request at /bc-authorize, for an authenticated `client`:
 * `params` as sent for a client that signs nothing, else those of its verified `request` JWT.
 */
export async function backchannelRequestParams(params: Params, client: Client, deps: ClientAuthDeps): Promise<Params> {
  const registered = cibaRequestSigningAlg(client);
  const jwt = params.get("request");
  if (registered === undefined) {
    ensure(jwt === undefined, "ciba_request_not_registered");
    return params;
  }
  ensure(jwt !== undefined, "ciba_request_required");
  const outside = [...params.keys()].find((name) => !OUTSIDE_ALLOWED.has(name));
  ensure(outside === undefined, "ciba_request_parameter_outside",
    `${outside} must be inside the signed authentication request, not beside it.`);

  const decoded = decodeJwt(jwt);
  if (decoded === undefined) throw new OAuthError("ciba_request_malformed");
  const { config, now } = deps;
  const rules: SignedRequestRules = {
    alg: (alg) => alg === registered,
    key: async (header) => {
      try {
        return await clientVerificationKey(client, header as ProtectedHeaderParameters, deps);
      } catch (cause) {
        if (cause instanceof OAuthError) throw new OAuthError("ciba_request_key", `No usable key of the client (${cause.code}).`, { cause });
        throw cause;
      }
    },
    iss: client.clientId,
    aud: audienceIsIssuer,
    expiry: "required",
    maxLifetime: MAX_REQUEST_OBJECT_LIFETIME,
    iatNotInFuture: true,
    required: REQUIRED,
    now,
    skew: config.clockSkew,
    issuer: config.issuer,
  };
  const failure = await checkJwt(decoded, rules);
  if (failure !== undefined) throw failureError(failure);

  const claims = decoded.claims as Readonly<Record<string, unknown>> & { exp: number; nbf: number; iat: number; jti: string };
  const oldest = now - MAX_REQUEST_OBJECT_LIFETIME - config.clockSkew;
  ensure(claims.nbf >= oldest, "ciba_request_nbf", "The signed authentication request's nbf is more than 60 minutes old.");
  ensure(claims.iat >= oldest, "ciba_request_iat", "The signed authentication request's iat is more than 60 minutes old.");
  ensure(claims.exp - claims.nbf <= MAX_REQUEST_OBJECT_LIFETIME, "ciba_request_lifetime");
  ensure(claims.request === undefined && claims.request_uri === undefined, "ciba_request_malformed",
    "A signed authentication request must not contain request or request_uri.");
  ensure(claims.client_id === undefined || claims.client_id === client.clientId, "ciba_request_iss",
    "The signed authentication request's client_id must be the authenticated client's.");

  const inside = new Map<string, string>();
  for (const [name, value] of Object.entries(claims)) {
    if (JWT_CLAIMS.has(name) || name === "client_id" || value === null || value === undefined) continue;
    inside.set(name, typeof value === "string" ? value : typeof value === "number" ? String(value) : JSON.stringify(value));
  }
  // Last: only a request that passed every other rule spends its jti.
  ensure(await deps.replay.reserve(cibaRequests(client.clientId), claims.jti, claims.exp + config.clockSkew), "ciba_request_jti_replayed");
  return inside;
}

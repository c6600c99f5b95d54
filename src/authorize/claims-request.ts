import { acrValuesSupported, type AcrTable } from "../acr";
import { OAuthError, ensure } from "../errors/oauth-error";
import { USER_CLAIM_NAMES, claimsNamed, scopeClaimNames } from "../tokens/claims";
import type { User } from "../users/model";
import { ensureWithinBound } from "./limits";

/**
 * The `claims` request parameter (OIDC Core §5.5) and the authentication context the request asks
 * for (`acr_values`, §3.1.2.1, and the `acr` claim, §5.5.1.1), reduced to what the rest of the flow
 * needs to carry in the sealed transaction and the code — small, and bounded whatever the request:
 *
 * - the names of the person's claims asked for in the ID token and at UserInfo, each one of
 *   USER_CLAIM_NAMES (a name this server does not know is ignored: §5.5 lets the OP ignore claims it
 *   does not understand). Essential or voluntary, they are released the same way — when the person
 *   has a value, with the consent the authorization records (src/authorize/decision.ts asks for it
 *   when they go beyond the scope's claims); `value`/`values` on these claims change nothing;
 * - the `sub` the request names (`id_token.sub.value`, §5.5.1: only that person may answer it),
 *   treated like an id_token_hint's subject;
 * - the acr values wanted, in order of preference, kept only when the operator's table (src/acr.ts)
 *   knows them — a value no sign-in here earns cannot be satisfied and is dropped — and whether
 *   they are essential (the `acr` claim with `essential: true`).
 */

/** What a claims request asks for, by name. */
export interface ClaimsRequest {
  /** OIDC Core §5.5 `id_token` member: claims the ID token carries. */
  idToken?: string[];
  /** OIDC Core §5.5 `userinfo` member: claims UserInfo answers beyond the scope's. */
  userinfo?: string[];
}

/** The `acr` member of `id_token`, as sent: the values it asks for (value, values) and whether essential. */
export interface AcrClaim {
  values?: string[];
  essential: boolean;
}

export interface ParsedClaims {
  claims?: ClaimsRequest;
  acrClaim?: AcrClaim;
  /** `id_token.sub.value`. */
  subject?: string;
}

/** A subject of this server: an account id (src/users/store.ts makes 22 characters; room to spare). */
const SUBJECT = /^[\x21-\x7e]{1,64}$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const invalid = (detail: string) => new OAuthError("claims_invalid", `The claims parameter is not valid: ${detail}.`);

/** One individual claim request (§5.5.1): null, or an object whose essential is a boolean and values an array. */
function checkClaimRequest(name: string, request: unknown): void {
  if (request === null) return;
  if (!isObject(request)) throw invalid(`${name} must be null or an object`);
  if (request.essential !== undefined && typeof request.essential !== "boolean") throw invalid(`${name}.essential must be a boolean`);
  if (request.values !== undefined && !Array.isArray(request.values)) throw invalid(`${name}.values must be an array`);
}

/** The `acr` request's values (§5.5.1.1: `value`, or `values` in order of preference), strings only. */
function acrClaimOf(request: unknown): AcrClaim {
  if (request === null) return { essential: false };
  const { essential, value, values } = request as { essential?: boolean; value?: unknown; values?: unknown[] };
  const wanted = values ?? (value === undefined ? undefined : [value]);
  if (wanted !== undefined && !wanted.every((v) => typeof v === "string")) throw invalid("acr values must be strings");
  return { essential: essential === true, ...(wanted !== undefined && { values: wanted as string[] }) };
}

/** Parses the claims parameter (a JSON object, §5.5); anything else is claims_invalid. */
export function parseClaimsParameter(value: string): ParsedClaims {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalid("it is not JSON");
  }
  if (!isObject(parsed)) throw invalid("it must be a JSON object");
  const out: ParsedClaims = {};
  const claims: ClaimsRequest = {};
  for (const [member, key] of [["id_token", "idToken"], ["userinfo", "userinfo"]] as const) {
    const requests = parsed[member];
    if (requests === undefined || requests === null) continue;
    if (!isObject(requests)) throw invalid(`${member} must be an object`);
    const names: string[] = [];
    for (const [name, request] of Object.entries(requests)) {
      checkClaimRequest(name, request);
      if (USER_CLAIM_NAMES.includes(name)) names.push(name);
      if (member !== "id_token") continue;
      if (name === "acr") out.acrClaim = acrClaimOf(request);
      const subject = name === "sub" && isObject(request) ? request.value : undefined;
      if (subject !== undefined) {
        if (typeof subject !== "string" || !SUBJECT.test(subject)) throw invalid("sub value is not a subject of this server");
        out.subject = subject;
      }
    }
    if (names.length > 0) claims[key] = names;
  }
  if (claims.idToken !== undefined || claims.userinfo !== undefined) out.claims = claims;
  return out;
}

/** The acr a request asks for, as carried: values the table knows, in order of preference, and whether essential. */
export interface AcrRequest {
  acrValues?: string[];
  acrEssential?: true;
}

/**
 * The acr requirement from `acr_values` (voluntary, §3.1.2.1) and the `acr` claim (§5.5.1.1; its
 * values win over acr_values, and `essential: true` without values means any value of
 * acr_values, or else any value the table knows). Unknown values are dropped. An essential
 * requirement no value of the table meets can never be met: unmet_authentication_requirements
 * (OpenID Connect Core Unmet Authentication Requirements 1.0 §1).
 */
export function acrRequest(acrValues: readonly string[] | undefined, claim: AcrClaim | undefined, table: AcrTable): AcrRequest {
  const supported = acrValuesSupported(table);
  const asked = claim?.values ?? acrValues ?? (claim?.essential ? supported : []);
  const kept = [...new Set(asked)].filter((value) => supported.includes(value));
  ensure(!claim?.essential || kept.length > 0, "unmet_authentication_requirements",
    `None of the requested acr values can be met here; this server offers ${supported.join(", ") || "none"}.`);
  if (kept.length === 0) return {};
  // Within the bound acr_values has (src/authorize/limits.ts), so the transaction and code stay redeemable.
  ensureWithinBound("acr_values", kept.join(" "));
  return { acrValues: kept, ...(claim?.essential && { acrEssential: true as const }) };
}

/** Claims asked for one by one that the scope does not stand for: what the consent page lists besides the scopes. */
export function claimsBeyondScope(claims: ClaimsRequest | undefined, scope: readonly string[]): string[] {
  if (claims === undefined) return [];
  const covered = scopeClaimNames(scope);
  return [...new Set([...(claims.idToken ?? []), ...(claims.userinfo ?? [])])].filter((name) => !covered.has(name));
}

/**
 * What an authorization's claims request releases when its code is redeemed: the person's values of
 * the ID token's claims (those they have), and the names UserInfo answers beyond the scope's.
 */
export function releasedClaims(claims: ClaimsRequest | undefined, user: User): { idTokenClaims?: Record<string, unknown>; userinfoClaims?: string[] } {
  const idTokenClaims = claims?.idToken === undefined ? {} : claimsNamed(user, claims.idToken);
  return {
    ...(Object.keys(idTokenClaims).length > 0 && { idTokenClaims }),
    ...(claims?.userinfo !== undefined && { userinfoClaims: claims.userinfo }),
  };
}

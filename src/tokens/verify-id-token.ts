import type { Config } from "../config";
import { isServerSigningAlg } from "../keys/algorithms";
import type { Keyring } from "../keys/keyring";
import { looksLikeOwnJwt } from "./jws";
import { checkJwt, decodeJwt, isNonEmptyString, ownKey, type DecodedJwt, type JwtRules } from "./verify-jwt";

/** The claims of one of our ID tokens that something presented back to us (id_token_hint, revocation) relies on. */
export interface OwnIdTokenClaims {
  sub: string;
  /** `aud` as an array. */
  aud: string[];
  /** The client the token was issued to, when `aud` names others too (OIDC Core §2). */
  azp?: string;
  /** The session the ID token was issued in (OIDC Back-Channel Logout `sid`). */
  sid?: string;
  exp: number;
}

export interface VerifyOwnIdTokenDeps {
  config: Config;
  keys: Keyring;
  /** For `nbf` and a future `iat`, which our ID tokens do not carry; `exp` is not checked. */
  now: number;
}


interface IdTokenRules extends JwtRules {
  readonly keys: Keyring;
}
const ID_TOKEN_TYP = ["jwt"];
const isAudience = (aud: unknown) => isNonEmptyString(aud) || (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === "string"));
const ID_TOKEN_REQUIRED = { sub: isNonEmptyString, aud: isAudience, exp: (exp: unknown) => typeof exp === "number" } as const;

/**
 * An ID token this server issued, presented back to it, through the one JWT verifier
 * (src/tokens/verify-jwt.ts): a compact JWS with header `typ: JWT` (our ID tokens' type, so an
 * access token `at+jwt` or a logout token `logout+jwt` never passes for one), a `kid` naming one of
 * our published keys (current, next or retired), `alg` equal to that key's, a valid signature,
 * `iss` our issuer, and `sub`, `aud` and `exp` present. Expiry is NOT checked: an expired ID token
 * is still one we issued, and OIDC RP-Initiated Logout §2 asks the OP to accept it as an
 * `id_token_hint`. Returns null for any failure (its callers have one answer for all: not a hint,
 * not a token of ours); never throws for a bad token.
 */
export async function verifyOwnIdToken(token: string, deps: VerifyOwnIdTokenDeps): Promise<OwnIdTokenClaims | null> {
  const jwt = looksLikeOwnJwt(token) ? decodeJwt(token) : undefined;
  return jwt === undefined ? null : checkOwnIdToken(jwt, deps);
}

/** `verifyOwnIdToken` for a token decoded already (src/tokens/find-token.ts decodes once to read its typ). */
export async function checkOwnIdToken(jwt: DecodedJwt, deps: VerifyOwnIdTokenDeps): Promise<OwnIdTokenClaims | null> {
  const rules: IdTokenRules = {
    typ: ID_TOKEN_TYP,
    alg: isServerSigningAlg,
    key: ownKey,
    keys: deps.keys,
    iss: deps.config.issuer,
    expiry: "not_checked",
    required: ID_TOKEN_REQUIRED,
    now: deps.now,
    skew: deps.config.clockSkew,
  };
  if ((await checkJwt(jwt, rules)) !== undefined) return null;
  const { sub, aud, azp, sid, exp } = jwt.claims as { sub: string; aud: string | string[]; azp?: unknown; sid?: unknown; exp: number };
  return {
    sub, aud: typeof aud === "string" ? [aud] : aud, exp,
    ...(typeof azp === "string" && { azp }),
    ...(typeof sid === "string" && sid !== "" && { sid }),
  };
}

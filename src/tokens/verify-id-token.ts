import type { Config } from "../config";
import { decodeJsonObject } from "../crypto/encoding";
import type { Keyring } from "../keys/keyring";
import { decodeJws, looksLikeOwnJwt, verifyJws } from "./jws";

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
}


/**
 * An ID token this server issued, presented back to it: a compact JWS with header `typ: JWT` (our
 * ID tokens' type, so an access token `at+jwt` or a logout token `logout+jwt` never passes for
 * one), a `kid` naming one of our published keys (current, next or retired), `alg` equal to that
 * key's, a valid signature, `iss` our issuer, and `sub` and `aud` present. Expiry is NOT checked:
 * an expired ID token is still one we issued, and OIDC RP-Initiated Logout §2 asks the OP to accept
 * it as an `id_token_hint`. Returns null for anything else; never throws for a bad token.
 */
export async function verifyOwnIdToken(token: string, deps: VerifyOwnIdTokenDeps): Promise<OwnIdTokenClaims | null> {
  if (!looksLikeOwnJwt(token)) return null;
  const jws = decodeJws(token);
  if (jws === undefined) return null;
  const { kid, alg, typ } = jws.header;
  if (typeof typ !== "string" || typ.toLowerCase() !== "jwt" || typeof kid !== "string") return null;
  const key = await deps.keys.verifier(kid);
  if (key === undefined || alg !== key.alg || !(await verifyJws(jws, key.key))) return null;
  const claims = decodeJsonObject(jws.payload);
  if (claims === undefined) return null;
  const { iss, sub, aud, azp, sid, exp } = claims;
  if (iss !== deps.config.issuer || typeof sub !== "string" || sub === "" || typeof exp !== "number") return null;
  const audience = typeof aud === "string" ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === "string") ? (aud as string[]) : [];
  if (audience.length === 0) return null;
  return {
    sub, aud: audience, exp,
    ...(typeof azp === "string" && { azp }),
    ...(typeof sid === "string" && sid !== "" && { sid }),
  };
}

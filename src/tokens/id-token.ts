import type { Config } from "../config";
import { base64url, utf8 } from "../crypto/encoding";
import type { Keyring } from "../keys/keyring";
import { clientAlgSigner, signJwt } from "./jws";

/** What the authorization_code grant knows when it issues an ID token (OIDC Core §2, §3.1.3.6). */
export interface IdTokenInput {
  /** The user's `sub`. */
  sub: string;
  /** The client: the ID token's `aud`. */
  clientId: string;
  /** The client's `id_token_signed_response_alg` (OIDC Registration §2; Client.idTokenSignedResponseAlg). */
  alg: string;
  /** Lifetime in seconds: `exp` = now + ttl. The caller passes the configured value. */
  ttl: number;
  /** When the user authenticated (the session's auth_time), Unix seconds. */
  authTime?: number;
  /** The authorization request's `nonce`, echoed unchanged; omitted when the request had none (§3.1.2.1). */
  nonce?: string;
  /** The access token issued alongside; gives `at_hash` (§3.1.3.6). */
  accessToken?: string;
  /** The session id (OIDC Front-/Back-Channel Logout `sid`). */
  sid?: string;
  /** Authentication methods references (RFC 8176), e.g. ["pwd"]. */
  amr?: readonly string[];
  /** Authentication context class reference, when one was requested and satisfied. */
  acr?: string;
  /**
   * CIBA push mode (CIBA Core §10.3.1): the auth_req_id the tokens answer, as the claim
   * `urn:openid:params:jwt:claim:auth_req_id`, and the refresh token issued alongside (if any),
   * hashed like at_hash into `urn:openid:params:jwt:claim:rt_hash`.
   */
  backchannel?: { authReqId: string; refreshToken?: string };
  /**
   * OIDC Core §5.5: the person's claims the claims request asked the ID token for (src/authorize/
   * claims-request.ts releasedClaims); the protocol claims above are never overridden by them.
   */
  claims?: Record<string, unknown>;
  /**
   * Audiences besides the client, if ever needed. With more than one audience `azp` is set to the
   * client (§2); normally empty, so `aud` is the client_id alone and `azp` is omitted.
   */
  extraAudiences?: readonly string[];
}

export interface IdTokenDeps {
  config: Config;
  keys: Keyring;
  now: number;
}

/**
 * The hash behind `at_hash` / `c_hash` for a JWS alg (OIDC Core §3.1.3.6: the hash used by the
 * alg's signature). EdDSA with Ed25519 uses SHA-512, as the OpenID Connect errata and the
 * conformance suite do (Ed25519 signs with SHA-512 internally).
 */
export function hashForAlg(alg: string): "SHA-256" | "SHA-384" | "SHA-512" {
  if (alg === "EdDSA" || alg === "Ed25519") return "SHA-512";
  const bits = /^(?:RS|PS|ES|HS)(256|384|512)$/.exec(alg)?.[1];
  if (bits === undefined) throw new Error(`no at_hash rule for alg ${alg}`);
  return `SHA-${bits}` as "SHA-256" | "SHA-384" | "SHA-512";
}

/** CIBA Core §10.3.1: the ID token claims of a push delivery. */
export const AUTH_REQ_ID_CLAIM = "urn:openid:params:jwt:claim:auth_req_id";
export const RT_HASH_CLAIM = "urn:openid:params:jwt:claim:rt_hash";

/** `at_hash` (and CIBA's rt_hash, computed the same way over the refresh token): base64url of the left half of hash(ASCII octets of the access token) (OIDC Core §3.1.3.6). */
export async function atHash(accessToken: string, alg: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest(hashForAlg(alg), utf8(accessToken)));
  return base64url(digest.slice(0, digest.length / 2));
}

/**
 * Signs an ID token (OIDC Core §2) as a compact JWS with header `typ: JWT` and the key's `kid`.
 * Claims: iss, sub, aud, exp, iat, and auth_time, nonce, at_hash, acr, amr, sid, azp when they apply.
 * The scope's user claims are not added here: in the code flow they come from the UserInfo endpoint
 * (§5.4); only those a claims request asks the ID token for (§5.5) are.
 */
export async function issueIdToken(input: IdTokenInput, deps: IdTokenDeps): Promise<string> {
  const signer = await clientAlgSigner(deps.keys, input.alg);
  const audience = [input.clientId, ...(input.extraAudiences ?? []).filter((aud) => aud !== input.clientId)];
  const claims: Record<string, unknown> = {
    ...input.claims,
    iss: deps.config.issuer,
    sub: input.sub,
    aud: audience.length > 1 ? audience : input.clientId,
    iat: deps.now,
    exp: deps.now + input.ttl,
  };
  if (input.authTime !== undefined) claims.auth_time = input.authTime;
  if (input.nonce !== undefined) claims.nonce = input.nonce;
  if (input.accessToken !== undefined) claims.at_hash = await atHash(input.accessToken, signer.alg);
  if (input.backchannel !== undefined) {
    claims[AUTH_REQ_ID_CLAIM] = input.backchannel.authReqId;
    if (input.backchannel.refreshToken !== undefined) claims[RT_HASH_CLAIM] = await atHash(input.backchannel.refreshToken, signer.alg);
  }
  if (input.acr !== undefined) claims.acr = input.acr;
  if (input.amr !== undefined && input.amr.length > 0) claims.amr = [...input.amr];
  if (input.sid !== undefined) claims.sid = input.sid;
  if (audience.length > 1) claims.azp = input.clientId;
  return signJwt(signer, "JWT", claims);
}

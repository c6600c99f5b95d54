import { OAuthError, ensure, errorBody } from "../errors/oauth-error";
import { NO_STORE, type Step } from "../http/context";
import { readForm } from "../http/form";
import { clientStore, encryptionKey, grantStateStore, replayCache, requestKeyring, revocationKv } from "../services";
import { timingSafeEqual } from "../crypto/hash";
import { certificateThumbprint, tlsClientAuthOf, nonceDeps, nonceRequired, proofDeps, RESOURCE_PROOF_ERRORS } from "../dpop/binding";
import { currentNonce } from "../dpop/nonce";
import { DPOP_SIGNING_ALGS, validateProof } from "../dpop/proof";
import type { TokenScheme } from "../resource-server/challenge";
import { tokenFromAuthorization } from "../resource-server/credentials";

/** The Authorization scheme a token came with (a form-body token is Bearer, RFC 6750 §2.2); parsed by the one reader, src/resource-server/credentials.ts. */
export type { TokenScheme };
import { claimsForScope } from "../tokens/claims";
import { clientAlgSigner, signJwt } from "../tokens/jws";
import { userinfoSignedResponseAlg } from "../clients/model";
import { verifyAccessToken } from "../tokens/verify-access-token";

/**
 * The UserInfo endpoint (OIDC Core §5.3) as a pipeline of named steps, for GET and POST. A protected
 * resource: the bearer token is the only credential, errors are RFC 6750 §3 challenges, and any
 * origin may call it (RFC 9700 §2.6 allows CORS here; no cookies are involved).
 */

/** Browsers may call UserInfo from any origin and read the challenge of a failed call. */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "WWW-Authenticate, DPoP-Nonce",
} as const;

/**
 * Wraps the pipeline: turns OAuthErrors into RFC 6750 §3 responses and adds the CORS headers to
 * every answer. With no credentials at all the challenge carries no error attribute (§3.1); otherwise
 * it names the error (and `scope="openid"` for insufficient_scope). The JSON body is the catalog's.
 *
 * Hono's compose hands a thrown error to app.onError (src/errors/respond.ts, which also logs it) at
 * the step that threw and records it in `c.error`; this step then replaces that response. An error
 * that reaches it directly (an app without onError) is handled the same way.
 */
export const userinfoErrors: Step = async function userinfoErrors(c, next) {
  let error: unknown;
  try {
    await next();
    error = c.error;
  } catch (err) {
    if (!(err instanceof OAuthError)) throw err;
    error = err;
  }
  if (error instanceof OAuthError) {
    // Setting c.res merges the old response's headers into the new one; clear it first.
    c.res = undefined;
    c.res = bearerErrorResponse(error, c.get("config").issuer, c.get("userinfoScheme"));
  }
  for (const [name, value] of Object.entries(CORS)) c.res.headers.set(name, value);
};

/** The algs a DPoP challenge names (RFC 9449 §7.1). */
const DPOP_ALGS = `algs="${DPOP_SIGNING_ALGS.join(" ")}"`;

/**
 * An RFC 6750 §3 / RFC 9449 §7.1 error response for a UserInfo (or any protected-resource)
 * request. Both schemes are accepted, so both challenges are sent (RFC 9449 §7.2): the error is
 * named in the challenge of the scheme the request used (DPoP for a DPoP error such as
 * use_dpop_nonce, whatever the scheme), the other challenge bare. No credentials: both bare.
 */
export function bearerErrorResponse(error: OAuthError, realm: string, scheme: TokenScheme = "Bearer"): Response {
  const body = errorBody(error);
  const { status } = error.entry;
  const headers = new Headers({ "content-type": "application/json", ...NO_STORE, ...error.headers });
  const bearer = `Bearer realm="${realm}"`;
  if (error.code === "bearer_token_missing") {
    headers.append("www-authenticate", bearer);
    headers.append("www-authenticate", `DPoP ${DPOP_ALGS}`);
  } else if (status === 400 || status === 401 || status === 403) {
    // errorBody keeps both texts to RFC 6749 §5.2's characters: no quote or backslash can end the quoted-string.
    let named = `error="${body.error}", error_description="${body.error_description}"`;
    if (body.error === "insufficient_scope") named += `, scope="openid"`;
    if (scheme === "DPoP" || body.error === "invalid_dpop_proof" || body.error === "use_dpop_nonce") {
      headers.append("www-authenticate", `DPoP ${named}, ${DPOP_ALGS}`);
      headers.append("www-authenticate", bearer);
    } else {
      headers.append("www-authenticate", `${bearer}, ${named}`);
      headers.append("www-authenticate", `DPoP ${DPOP_ALGS}`);
    }
  }
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * Finds the one bearer token: the Authorization header (scheme case-insensitive, RFC 9110 §11.1) or,
 * on POST, an `access_token` form parameter (RFC 6750 §2.2). Both at once is an error (§2); a token
 * in the query string is refused outright (§2.3, RFC 9700 §4.3.2), since it leaks into logs and
 * Referer headers.
 */
export const readBearerToken: Step = async function readBearerToken(c, next) {
  ensure(!c.req.url.includes("?") || !new URL(c.req.url).searchParams.has("access_token"), "invalid_request",
    "Access tokens must not be sent in the URI query; use the Authorization header.");
  const presented = tokenFromAuthorization(c.req.header("authorization") ?? null, true);
  if (presented !== undefined) c.set("userinfoScheme", presented.scheme);
  const fromHeader = presented?.token;
  const fromBody = c.req.method === "POST" && isForm(c.req.header("content-type"))
    ? (await readForm(c.req.raw, c.get("config").maxBodyBytes)).get("access_token")
    : undefined;
  ensure(fromHeader === undefined || fromBody === undefined, "multiple_bearer_tokens");
  const token = fromHeader ?? fromBody;
  ensure(token !== undefined, "bearer_token_missing");
  c.set("userinfoToken", token);
  await next();
};

function isForm(contentType: string | undefined): boolean {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase() === "application/x-www-form-urlencoded";
}

/**
 * Verifies the token (src/tokens/verify-access-token.ts). UserInfo accepts tokens meant for the
 * issuer or for the default access-token audience, not ones restricted to another resource server
 * (RFC 8707, RFC 9700 §2.3).
 */
export const verifyBearerToken: Step = async function verifyBearerToken(c, next) {
  const config = c.get("config");
  const now = c.get("now");
  const claims = await verifyAccessToken(c.get("userinfoToken"), {
    config,
    keys: await requestKeyring(c),
    kv: revocationKv(c),
    now,
    audiences: [config.issuer, config.accessTokenAudience],
  });
  c.set("userinfoClaims", claims);
  await next();
};

/**
 * The token's sender constraint (src/dpop/): a DPoP-bound token (`cnf.jkt`) only with the DPoP
 * scheme and a valid proof of that key whose `ath` is the token's hash (RFC 9449 §7.1, §4.3 check
 * 12; as Bearer it is refused, §7.2), the server nonce when required (§9); a token without
 * `cnf.jkt` only with the Bearer scheme; a certificate-bound token (`cnf.x5t#S256`) only over a
 * TLS connection presenting that certificate (RFC 8705 §3). A DPoP answer carries a fresh nonce.
 */
export const confirmSender: Step = async function confirmSender(c, next) {
  const { cnf, client_id: clientId } = c.get("userinfoClaims");
  const scheme = c.get("userinfoScheme") ?? "Bearer";
  if (cnf?.["x5t#S256"] !== undefined) {
    const presented = certificateThumbprint(tlsClientAuthOf(c.req.raw));
    ensure(presented !== undefined && timingSafeEqual(presented, cnf["x5t#S256"]), "certificate_token_mismatch");
  }
  if (cnf?.jkt === undefined) {
    ensure(scheme === "Bearer", "dpop_scheme_unbound_token");
    return next();
  }
  ensure(scheme === "DPoP", "dpop_token_as_bearer");
  const config = c.get("config");
  const deps = { now: c.get("now"), encryptionKey: encryptionKey(c), replay: replayCache(c) };
  const client = await clientStore(c).get(clientId);
  const proof = await validateProof(
    {
      header: c.req.raw.headers.get("dpop"), method: c.req.method, url: c.req.url,
      accessToken: c.get("userinfoToken"), nonceRequired: nonceRequired(config, client ?? undefined),
    },
    proofDeps(config, deps, RESOURCE_PROOF_ERRORS),
  );
  ensure(proof.jkt === cnf.jkt, "dpop_token_key_mismatch");
  await next();
  c.res.headers.set("dpop-nonce", await currentNonce(nonceDeps(config, deps)));
};

/** OIDC Core §5.3: UserInfo answers only tokens granted for OpenID Connect (RFC 6750 §3.1 insufficient_scope, 403). */
export const requireOpenidScope: Step = async function requireOpenidScope(c, next) {
  ensure(c.get("userinfoClaims").scope.split(" ").includes("openid"), "insufficient_scope");
  await next();
};

/**
 * The token's grant must still be the user's current consent for the client: withdrawing consent
 * (deleting it, or withdrawing and re-giving it, which makes a new grant id) stops access tokens
 * issued before, here, at once (source document, issue 3). Then answers the user's claims for the
 * token's scope (OIDC Core §5.3.2, §5.4) as JSON, `sub` always equal to the token's (and so the ID
 * token's) `sub`; a user who is gone or disabled makes the token invalid. The consent and the user
 * are read in one query.
 */
export const sendUserinfo: Step = async function sendUserinfo(c) {
  const { sub, scope, client_id: clientId, gid, userinfo_claims: requested } = c.get("userinfoClaims");
  ensure(gid !== undefined, "invalid_token", "The access token was not issued for a user's consent.");
  const [{ user, consent }, client] = await Promise.all([grantStateStore(c).get(sub, clientId), clientStore(c).get(clientId)]);
  ensure(user !== null && !user.disabled, "invalid_token", "The user of the access token no longer exists or is disabled.");
  ensure(consent !== null && consent.grantId === gid, "token_consent_revoked");
  // OIDC Core §5.5: the scope's claims and those the authorization's claims request asked UserInfo for.
  const claims = claimsForScope(user, scope.split(" "), requested?.split(" "));
  const alg = client === null ? undefined : userinfoSignedResponseAlg(client);
  if (alg === undefined) return c.json(claims, 200, { ...NO_STORE, ...CORS });
  // OIDC Core §5.3.2: signed, the response is a JWS of the claims with iss and aud (the client) added.
  const signer = await clientAlgSigner(await requestKeyring(c), alg);
  const jwt = await signJwt(signer, "JWT", { ...claims, iss: c.get("config").issuer, aud: clientId, iat: c.get("now") });
  return c.body(jwt, 200, { ...NO_STORE, ...CORS, "content-type": "application/jwt" });
};

/** CORS preflight (Fetch standard §3.2.2) for browser calls with an Authorization header or a form body. */
export const userinfoPreflight: Step = async function userinfoPreflight(c) {
  return c.body(null, 204, {
    ...CORS,
    "access-control-allow-methods": "GET, POST",
    "access-control-allow-headers": "Authorization, Content-Type, DPoP",
    "access-control-max-age": "600",
    allow: "GET, POST, OPTIONS",
  });
};

/** Any other method: 405 with Allow (RFC 9110 §15.5.6). */
export const rejectOtherUserinfoMethods: Step = async function rejectOtherUserinfoMethods() {
  throw new OAuthError("method_not_allowed", "The UserInfo endpoint accepts GET and POST.", { headers: { allow: "GET, POST, OPTIONS" } });
};

/** GET and POST /userinfo. */
export const userinfoEndpoint = [userinfoErrors, readBearerToken, verifyBearerToken, confirmSender, requireOpenidScope, sendUserinfo] as const;

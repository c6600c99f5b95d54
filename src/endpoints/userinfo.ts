import { OAuthError, ensure, errorBody } from "../errors/oauth-error";
import { NO_STORE, type Step } from "../http/context";
import { readForm } from "../http/form";
import { grantStateStore, requestKeyring, revocationKv } from "../services";
import { claimsForScope } from "../tokens/claims";
import { verifyAccessToken } from "../tokens/verify-access-token";

/**
 * The UserInfo endpoint (OIDC Core §5.3) as a pipeline of named steps, for GET and POST. A protected
 * resource: the bearer token is the only credential, errors are RFC 6750 §3 challenges, and any
 * origin may call it (RFC 9700 §2.6 allows CORS here; no cookies are involved).
 */

/** Browsers may call UserInfo from any origin and read the challenge of a failed call. */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "WWW-Authenticate",
} as const;

/** token68 (RFC 7235 §2.1), the syntax of a Bearer credential (RFC 6750 §2.1). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

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
    c.res = bearerErrorResponse(error, c.get("config").issuer);
  }
  for (const [name, value] of Object.entries(CORS)) c.res.headers.set(name, value);
};

/** An RFC 6750 §3 error response for a UserInfo (or any protected-resource) request. */
export function bearerErrorResponse(error: OAuthError, realm: string): Response {
  const body = errorBody(error);
  const { status } = error.entry;
  const headers: Record<string, string> = { "content-type": "application/json", ...NO_STORE, ...error.headers };
  if (error.code === "bearer_token_missing") {
    headers["www-authenticate"] = `Bearer realm="${realm}"`;
  } else if (status === 400 || status === 401 || status === 403) {
    // errorBody keeps both texts to RFC 6749 §5.2's characters: no quote or backslash can end the quoted-string.
    let challenge = `Bearer realm="${realm}", error="${body.error}", error_description="${body.error_description}"`;
    if (body.error === "insufficient_scope") challenge += `, scope="openid"`;
    headers["www-authenticate"] = challenge;
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
  const fromHeader = bearerFromHeader(c.req.header("authorization"));
  const fromBody = c.req.method === "POST" && isForm(c.req.header("content-type"))
    ? (await readForm(c.req.raw, c.get("config").maxBodyBytes)).get("access_token")
    : undefined;
  ensure(fromHeader === undefined || fromBody === undefined, "multiple_bearer_tokens");
  const token = fromHeader ?? fromBody;
  ensure(token !== undefined, "bearer_token_missing");
  c.set("userinfoToken", token);
  await next();
};

/** The Bearer credential of an Authorization header; undefined when there is none or another scheme is used. */
function bearerFromHeader(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const space = value.indexOf(" ");
  const scheme = space === -1 ? value : value.slice(0, space);
  if (scheme.toLowerCase() !== "bearer") return undefined;
  const credentials = space === -1 ? "" : value.slice(space + 1).trim();
  ensure(TOKEN68.test(credentials), "invalid_request", "The Authorization header does not hold a valid Bearer token.");
  return credentials;
}

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
  const { sub, scope, client_id: clientId, gid } = c.get("userinfoClaims");
  ensure(gid !== undefined, "invalid_token", "The access token was not issued for a user's consent.");
  const { user, consent } = await grantStateStore(c).get(sub, clientId);
  ensure(user !== null && !user.disabled, "invalid_token", "The user of the access token no longer exists or is disabled.");
  ensure(consent !== null && consent.grantId === gid, "token_consent_revoked");
  return c.json(claimsForScope(user, scope.split(" ")), 200, { ...NO_STORE, ...CORS });
};

/** CORS preflight (Fetch standard §3.2.2) for browser calls with an Authorization header or a form body. */
export const userinfoPreflight: Step = async function userinfoPreflight(c) {
  return c.body(null, 204, {
    ...CORS,
    "access-control-allow-methods": "GET, POST",
    "access-control-allow-headers": "Authorization, Content-Type",
    "access-control-max-age": "600",
    allow: "GET, POST, OPTIONS",
  });
};

/** Any other method: 405 with Allow (RFC 9110 §15.5.6). */
export const rejectOtherUserinfoMethods: Step = async function rejectOtherUserinfoMethods() {
  throw new OAuthError("method_not_allowed", "The UserInfo endpoint accepts GET and POST.", { headers: { allow: "GET, POST, OPTIONS" } });
};

/** GET and POST /userinfo. */
export const userinfoEndpoint = [userinfoErrors, readBearerToken, verifyBearerToken, requireOpenidScope, sendUserinfo] as const;

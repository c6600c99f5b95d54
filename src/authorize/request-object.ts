import type { ProtectedHeaderParameters } from "jose";
import { clientVerificationKey } from "../client-auth/client-keys";
import type { ClientAuthDeps } from "../client-auth/types";
import type { Client } from "../clients/model";
import type { Config } from "../config";
import { requestObjectAlgAllowed, underFapi2 } from "../profiles/fapi2";
import { MAX_URI_LENGTH, validFetchedUri } from "../clients/register-uris";
import { decodeJsonObject, decodeUtf8, fromBase64url } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import { isAsymmetricAlg } from "../keys/algorithms";
import type { Params } from "../http/form";
import { OutboundError, outboundFetch } from "../http/outbound";
import { freshnessLifetime } from "../clients/metadata-document";
import { log } from "../log";
import type { ReplayNamespace } from "../replay/replay-cache";
import { checkJwt, decodeJwt, isNonEmptyString, type JwtFailure, type JwtRules } from "../tokens/verify-jwt";

/**
 * Request objects passed by value (RFC 9101 JAR, OIDC Core §6.1): the `request` parameter, a JWT
 * signed with one of the client's registered keys (its `jwks` or `jwks_uri`, src/client-auth/
 * client-keys.ts) and checked by the one JWT verifier (src/tokens/verify-jwt.ts):
 *
 * - `typ` `oauth-authz-req+jwt` (RFC 9101 §10.8), or `JWT` / none at all, which OIDC request objects carry;
 * - `alg` the client's registered `request_object_signing_alg` when it registered one, else any
 *   signing alg the client's key fits; `none` only when the client registered
 *   `request_object_signing_alg: none`, and never for a client that must push its requests or
 *   under PAR with the server-wide requirement (RFC 9126 §2.3, FAPI 2.0);
 * - `iss` the client, `aud` the issuer (a string, or an array naming it), `exp` required and not
 *   past, `nbf` (when present) not ahead, and — FAPI 2.0 §5.3.2.1 — `exp − nbf` at most 60 minutes
 *   and `nbf` at most 60 minutes old; `client_id`, when present, the client's;
 * - failures are `invalid_request_object` (request_object_invalid) with what was wrong.
 *
 * The parameters it yields: a JAR object (typ oauth-authz-req+jwt) alone, the ones outside ignored
 * (RFC 9101 §6.3); an OIDC request object's values over those outside it (OIDC Core §6.3.3),
 * which lets a client keep state and nonce outside a cached, pre-signed object.
 */

export const JAR_TYP = "oauth-authz-req+jwt";
/** FAPI 2.0 Security Profile §5.3.2.1 (and the checklist): exp − nbf ≤ 60 min, nbf ≤ 60 min old. */
export const MAX_REQUEST_OBJECT_LIFETIME = 3600;
/** The JWT's own claims, never authorization request parameters. */
export const JWT_CLAIMS: ReadonlySet<string> = new Set(["iss", "aud", "exp", "nbf", "iat", "jti", "sub"]);

/** The client's registered `request_object_signing_alg` (OIDC Registration §2), kept in its metadata. */
export function requestObjectSigningAlg(client: Client): string | undefined {
  const alg = client.metadata.request_object_signing_alg;
  return typeof alg === "string" ? alg : undefined;
}

/**
 * Whether this client must push its authorization requests (RFC 9126 §6 client metadata), or the
 * server says all must (§5), or the client is under FAPI 2.0 (§5.3.2.2 item 3, src/profiles/fapi2.ts).
 */
export function pushRequired(client: Client, config: Pick<Config, "requirePushedAuthorizationRequests" | "fapiProfile">): boolean {
  return config.requirePushedAuthorizationRequests || client.metadata.require_pushed_authorization_requests === true || underFapi2(config, client);
}

interface RequestObjectRules extends JwtRules {
  readonly issuer: string;
}
export const audienceIsIssuer = (aud: unknown, rules: { readonly issuer: string }) =>
  aud === rules.issuer || (Array.isArray(aud) && aud.includes(rules.issuer));

const invalid = (detail: string) => new OAuthError("request_object_invalid", detail);

const FAILURES: Record<JwtFailure["kind"], string> = {
  malformed: "The request object is not a signed JWT.",
  typ: "The request object's typ must be oauth-authz-req+jwt or JWT.",
  alg: "The request object's signing algorithm is not allowed for this client.",
  key_not_found: "No registered key of the client verifies the request object.",
  signature: "The request object's signature does not verify.",
  iss: "The request object's iss must be the client_id.",
  sub: "The request object's sub is not accepted.",
  aud: "The request object's aud must be the issuer.",
  expired: "The request object has expired.",
  lifetime: "The request object lives too long (exp at most 60 minutes after nbf).",
  not_yet_valid: "The request object is not valid yet (nbf).",
  iat: "The request object's iat is in the future.",
  missing_claim: "The request object needs an exp claim.",
};

/**
 * The authorization request carried by `request` (already known to be present), as parameters:
 * `outside` are the parameters sent beside it. Throws request_object_invalid.
 */
export async function requestObjectParams(
  jwt: string,
  outside: Params,
  client: Client,
  deps: ClientAuthDeps,
  opts: { pushed: boolean; fetched?: boolean },
): Promise<Map<string, string>> {
  const decoded = decodeJwt(jwt) ?? unsigned(jwt);
  if (decoded === undefined) throw invalid(FAILURES.malformed);
  const { header } = decoded.jws;
  const typ = typeof header.typ === "string" ? header.typ.toLowerCase() : undefined;
  ensure(typ === undefined || typ === JAR_TYP || typ === "jwt", "request_object_invalid", FAILURES.typ);
  const registered = requestObjectSigningAlg(client);
  const { config, now } = deps;

  if (header.alg === "none") {
    // OIDC Core §6.1: unsigned only for a client that registered it; never where pushing is required (RFC 9126 §2.3).
    ensure(registered === "none" && !pushRequired(client, config), "request_object_invalid", "Unsigned request objects are not accepted from this client.");
  } else {
    ensure(registered === undefined || registered === header.alg, "request_object_invalid", FAILURES.alg);
    const rules: RequestObjectRules = {
      // Any alg the client's key fits, but FAPI 2.0's only for a client under it (§5.4.1).
      alg: (alg) => requestObjectAlgAllowed(config, client, alg),
      key: async (h) => {
        try {
          return await clientVerificationKey(client, h as ProtectedHeaderParameters, deps);
        } catch (cause) {
          if (cause instanceof OAuthError) throw new OAuthError("request_object_invalid", `${FAILURES.key_not_found} (${cause.code})`, { cause });
          throw cause;
        }
      },
      iss: client.clientId,
      aud: audienceIsIssuer,
      expiry: "required",
      iatNotInFuture: true,
      now,
      skew: config.clockSkew,
      issuer: config.issuer,
    };
    const failure = await checkJwt(decoded, rules);
    if (failure !== undefined) throw invalid(failure.claim ? `${FAILURES[failure.kind]} (${failure.claim})` : FAILURES[failure.kind]);
  }
  const { claims } = decoded;
  if (header.alg === "none") {
    // The verifier never sees alg none: the same claim rules by hand.
    ensure(claims.iss === undefined || claims.iss === client.clientId, "request_object_invalid", FAILURES.iss);
    ensure(claims.aud === undefined || audienceIsIssuer(claims.aud, { issuer: config.issuer }), "request_object_invalid", FAILURES.aud);
    ensure(typeof claims.exp !== "number" || claims.exp > now - config.clockSkew, "request_object_invalid", FAILURES.expired);
  }
  const { nbf, exp } = claims;
  if (typeof nbf === "number" && header.alg !== "none") {
    ensure(nbf >= now - MAX_REQUEST_OBJECT_LIFETIME - config.clockSkew, "request_object_invalid", "The request object's nbf is more than 60 minutes old.");
    ensure(typeof exp !== "number" || exp - nbf <= MAX_REQUEST_OBJECT_LIFETIME, "request_object_invalid", FAILURES.lifetime);
  }
  ensure(claims.client_id === undefined || claims.client_id === client.clientId, "request_object_invalid",
    "The request object's client_id must be the client_id of the request.");
  ensure(claims.request === undefined && claims.request_uri === undefined, "request_object_invalid",
    "A request object must not contain request or request_uri.");
  ensure(claims.jti === undefined || (isNonEmptyString(claims.jti) && claims.jti.length <= 256), "request_object_invalid",
    "The request object's jti must be a string of at most 256 characters.");

  const params = new Map<string, string>();
  if (!opts.pushed && typ !== JAR_TYP) {
    // OIDC Core §6.1: response_type sent both outside and inside must be the same value.
    const inside = claims.response_type;
    ensure(inside === undefined || !outside.has("response_type") || outside.get("response_type") === inside, "request_object_invalid",
      "response_type outside the request object must match the one inside.");
    for (const [name, value] of outside) if (name !== "request" && name !== "request_uri") params.set(name, value);
  }
  for (const [name, value] of Object.entries(claims)) {
    if (JWT_CLAIMS.has(name) || value === null || value === undefined) continue;
    params.set(name, typeof value === "string" ? value : typeof value === "number" ? String(value) : JSON.stringify(value));
  }
  params.set("client_id", client.clientId);
  // Last, once every rule of the object passed (a forged or stale object never spends a client's jti).
  if (!opts.fetched) await spendJti(claims, client, deps);
  return params;
}

/**
 * Replayed request objects (RFC 7519 §4.1.7, RFC 9101 §10.2): a request object the client sent by
 * value — at the authorization endpoint or in a pushed request — whose `jti` was seen before is
 * refused (request_object_replayed), atomically through the ReplayCache: one namespace per client,
 * as for client assertions, over 16 objects; each jti kept until the object's `exp` (or, without
 * one, MAX_REQUEST_OBJECT_LIFETIME from now) has passed, and at most a day (an object that lives
 * longer, which FAPI 2.0 would refuse, could be replayed after that). An object without `jti` is
 * not tracked (JAR does not require one). An object fetched from a registered request_uri is
 * exempt: OIDC Core §6.2 lets a client publish one object there for many requests, and the server,
 * not the user agent, fetches it.
 */
const JTI_MEMORY = 24 * 3600;
const requestObjectJtis = (clientId: string): ReplayNamespace => ({ name: `request_object:${clientId}`, shardHexDigits: 1 });

async function spendJti(claims: Readonly<Record<string, unknown>>, client: Client, deps: ClientAuthDeps): Promise<void> {
  if (typeof claims.jti !== "string") return;
  const until = typeof claims.exp === "number" ? Math.min(claims.exp, deps.now + JTI_MEMORY) : deps.now + MAX_REQUEST_OBJECT_LIFETIME;
  ensure(await deps.replay.reserve(requestObjectJtis(client.clientId), claims.jti, until + deps.config.clockSkew), "request_object_replayed");
}

/** An unsigned request object (`alg: none`, RFC 7519 §6): header.payload. with an empty signature. */
function unsigned(jwt: string): ReturnType<typeof decodeJwt> {
  const parts = jwt.split(".");
  if (parts.length !== 3 || parts[2] !== "") return undefined;
  const header = decodeJsonObject(fromBase64url(parts[0]!));
  const payload = fromBase64url(parts[1]!);
  const claims = decodeJsonObject(payload);
  if (header?.alg !== "none" || claims === undefined) return undefined;
  return { jws: { token: jwt, header, payload: payload! }, claims };
}

// ── By reference (RFC 9101 §5.2, OIDC Core §6.2) ───────────────────────────────────────────────

/** The largest request object fetched from a request_uri (RFC 9101 §5.2.3: the server bounds what it reads). */
export const MAX_REQUEST_OBJECT_BYTES = 16 * 1024;
const withoutFragment = (uri: string): string => (uri.includes("#") ? uri.slice(0, uri.indexOf("#")) : uri);

/** The client's registered `request_uris` (OIDC Registration §2), kept in its metadata. */
export function registeredRequestUris(client: Client): string[] {
  const uris = client.metadata.request_uris;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === "string") : [];
}

/**
 * The request object at `requestUri` (RFC 9101 §5.2, OIDC Core §6.2): only a URL the client
 * registered in `request_uris` (require_request_uri_registration; compared without the fragment,
 * which OIDC Core §6.2 lets a client use to version the content), fetched ONLY through the
 * outbound-fetch policy (src/http/outbound.ts: https, a public host, no redirects, a deadline,
 * MAX_REQUEST_OBJECT_BYTES).
 *
 * **Cached** (RFC 9101 §5.2.3, OIDC Core §6.2: the server may cache the content of a request_uri)
 * in the isolate, by the request_uri exactly as sent, its fragment included: a client that changes
 * the content changes the fragment (OIDC Core §6.2: the content's SHA-256), and the new URI is
 * fetched afresh. For as long as the answer's own caching headers allow (Cache-Control max-age,
 * or Expires; no-store and no-cache, or none of these: not kept), and never longer than
 * REQUEST_URI_CACHE_SECONDS. Only the fetched text is kept: each use checks it again (signature,
 * exp, the client) as a request object by value.
 */
export async function fetchRequestObject(requestUri: string, client: Client, deps: ClientAuthDeps): Promise<string> {
  const target = withoutFragment(requestUri);
  ensure(requestUri.length <= MAX_URI_LENGTH && registeredRequestUris(client).some((r) => withoutFragment(r) === target), "request_uri_not_registered");
  const cached = fetchedRequestObjects.get(requestUri);
  if (cached !== undefined && cached.until > deps.now) return cached.text;
  let body: Uint8Array;
  let headers: Headers;
  try {
    ({ body, headers } = await outboundFetch(target, {
      purpose: "request_uri",
      accept: "application/oauth-authz-req+jwt, application/jwt",
      maxBytes: MAX_REQUEST_OBJECT_BYTES,
      timeoutMs: deps.config.jwksFetchTimeoutMs,
      okStatus: [200],
    }, { allowInsecure: deps.config.allowInsecureClientUris }));
  } catch (cause) {
    if (!(cause instanceof OutboundError)) throw cause;
    log("warn", "request_uri_fetch_failed", { uri: target, reason: cause.reason });
    throw new OAuthError("request_uri_fetch_failed", cause.failure === "forbidden_url" ? "The request_uri is not one this server fetches." : undefined, { cause });
  }
  const text = decodeUtf8(body)?.trim();
  ensure(text !== undefined, "request_uri_fetch_failed", "The request object at the request_uri is not UTF-8.");
  const lifetime = freshnessLifetime(headers, { minTtl: 0, maxTtl: REQUEST_URI_CACHE_SECONDS });
  if (lifetime > 0) {
    if (fetchedRequestObjects.size >= MAX_CACHED_REQUEST_OBJECTS) fetchedRequestObjects.clear();
    fetchedRequestObjects.set(requestUri, { text, until: deps.now + lifetime });
  } else {
    fetchedRequestObjects.delete(requestUri);
  }
  return text;
}

/** The longest a fetched request object is kept, whatever its headers say; and how many are kept per isolate. */
export const REQUEST_URI_CACHE_SECONDS = 300;
const MAX_CACHED_REQUEST_OBJECTS = 512;
const fetchedRequestObjects = new Map<string, { text: string; until: number }>();

/** A request object by reference: fetched, then checked as by value; an invalid one is invalid_request_uri (OIDC Core §3.1.2.6). */
export async function requestUriParams(requestUri: string, outside: Params, client: Client, deps: ClientAuthDeps): Promise<Map<string, string>> {
  const jwt = await fetchRequestObject(requestUri, client, deps);
  try {
    return await requestObjectParams(jwt, outside, client, deps, { pushed: false, fetched: true });
  } catch (error) {
    if (error instanceof OAuthError && error.code === "request_object_invalid") throw new OAuthError("request_uri_object_invalid", error.detail, { cause: error });
    throw error;
  }
}

/**
 * Registration (OIDC Registration §2, RFC 9126 §6): `request_object_signing_alg` (an asymmetric
 * alg this server verifies, or `none`), `require_pushed_authorization_requests` (a boolean) and
 * `request_uris` (URLs the outbound policy fetches, a fragment allowed), kept in the client's
 * metadata where the rules above read them.
 */
export function requestObjectMetadata(input: Readonly<Record<string, unknown>>, metadata: Record<string, unknown>, allowInsecureUris = false): void {
  const uris = input.request_uris;
  if (uris !== undefined) {
    ensure(Array.isArray(uris) && uris.length <= 16, "request_uris_malformed");
    // The outbound policy's URL rule, as for every URL the server fetches; the fragment is the client's (OIDC Core §6.2).
    for (const uri of uris) validFetchedUri("request_uris", typeof uri === "string" ? withoutFragment(uri) : uri, allowInsecureUris);
    metadata.request_uris = uris;
  }
  const alg = input.request_object_signing_alg;
  if (alg !== undefined) {
    ensure(typeof alg === "string" && (alg === "none" || isAsymmetricAlg(alg)), "request_object_signing_alg_unsupported");
    metadata.request_object_signing_alg = alg;
  }
  const pushed = input.require_pushed_authorization_requests;
  if (pushed !== undefined) {
    ensure(typeof pushed === "boolean", "require_pushed_authorization_requests_malformed");
    metadata.require_pushed_authorization_requests = pushed;
  }
}

import { certificateThumbprint, tlsClientAuthOf, RESOURCE_PROOF_ERRORS } from "../dpop/binding";
import { DPOP_SIGNING_ALGS, validateProof } from "../dpop/proof";
import { timingSafeEqual } from "../crypto/hash";
import { OAuthError, ensure } from "../errors/oauth-error";
import { SERVER_SIGNING_ALGS } from "../keys/algorithms";
import { looksLikeOwnJwt } from "../tokens/jws";
import { AT_REQUIRED, AT_TYP, accessTokenError, type AccessTokenClaims } from "../tokens/verify-access-token";
import { checkJwt, decodeJwt, jwtFailure, type JwtRules } from "../tokens/verify-jwt";
import { challengeResponse, type TokenScheme } from "./challenge";
import { tokenFromAuthorization } from "./credentials";
import { Introspector, type IntrospectionOptions } from "./introspection";
import { IssuerClient, IssuerUnavailable, issuerProblem } from "./issuer";
import { memoryReplayStore, type ReplayStore } from "./memory";
import { metadataDocument, metadataPath, type ResourceDescription } from "./metadata";

/**
 * The resource-server kit (issue #15): what a Worker that is NOT Latchkey imports to accept
 * Latchkey's access tokens (RFC 9068) without calling Latchkey on each request, and to tell clients
 * where to get one (RFC 9728, RFC 6750 §3, RFC 9449 §7).
 *
 *   import { protectedResource } from "latchkey/resource-server";
 *   const rs = protectedResource({ issuer: "https://id.example", resource: "https://mcp.example/mcp", scopes: ["mcp:tools"] });
 *   export default { async fetch(request) {
 *     const metadata = rs.metadata(request);            // GET /.well-known/oauth-protected-resource/mcp
 *     if (metadata) return metadata;
 *     const auth = await rs.authenticate(request);      // { ok: true, token } | { ok: false, response }
 *     if (!auth.ok) return auth.response;
 *     …auth.token.sub, auth.token.scope …
 *   } };
 *
 * The checks, in order: the token in the Authorization header (Bearer, or DPoP when allowed; never
 * in the query, RFC 6750 §2.3 / RFC 9700 §4.3.2); a compact JWS of bounded size; through the one JWT
 * verifier (src/tokens/verify-jwt.ts) `typ` at+jwt (RFC 9068 §4), `alg` on the allow-list (default
 * Latchkey's algs, never `none`), the issuer's key by `kid` (src/resource-server/issuer.ts: JWKS
 * cached, refetched for an unknown kid at most once a minute), the signature, `iss` exactly the
 * issuer, `aud` exactly this resource (RFC 8707 §2, RFC 9068 §4: path included — a token for
 * another path of the same host is refused), `exp` / `nbf` / `iat` with `clockSkew`, the RFC 9068
 * §2.2 claims; then the scopes this resource requires (403 insufficient_scope); then the sender
 * constraint (a `cnf.jkt` token only with the DPoP scheme and a valid proof of that key whose `ath`
 * is the token's hash, RFC 9449 §7.1, §4.3 — as Bearer it is refused, §7.2; a token without
 * `cnf.jkt` only as Bearer; a `cnf.x5t#S256` token only over mTLS with that certificate, RFC 8705
 * §3); and, when `introspection` is configured, that the issuer still says it is active (RFC 7662).
 */
export interface ProtectedResourceOptions extends ResourceDescription {
  /** Latchkey's issuer identifier (its discovery `issuer`): https, or http on a loopback host. */
  issuer: string;
  /** This resource's canonical URI (RFC 8707 §2; MCP: the server's URL): the `aud` tokens must carry. */
  resource: string;
  /** Scopes every request needs (all of them). Default none. */
  scopes?: readonly string[];
  /** Accept DPoP-bound tokens (RFC 9449 §7). Default true. */
  dpop?: boolean;
  /** Accepted token algs. Default Latchkey's signing algs (ES256, RS256, EdDSA). */
  algs?: readonly string[];
  /** Seconds of clock difference allowed on exp, nbf, iat. Default 15 (Latchkey's). */
  clockSkew?: number;
  /** How old a DPoP proof's iat may be, seconds. Default 300 (Latchkey's). */
  dpopProofMaxAge?: number;
  /** Bounds on how long the issuer's metadata and keys are cached, seconds. Default [60, 3600]. */
  cacheTtl?: { min: number; max: number };
  /** An unknown kid refetches the keys at most this often, seconds. Default 60. */
  refetchInterval?: number;
  /** Deadline of each fetch to the issuer, ms. Default 5000. */
  timeoutMs?: number;
  /** Revocation check by introspection (optional; see introspection.ts). */
  introspection?: IntrospectionOptions;
  /** Where DPoP proof jtis are remembered. Default this isolate's memory (memory.ts). */
  replay?: ReplayStore;
  /** The fetch the kit uses to reach the issuer (a service binding's, in tests the Worker's). Default global fetch. */
  fetch?: typeof fetch;
  /** Now, in Unix seconds. Default the clock. */
  now?: () => number;
}

/** A token that passed every check. */
export interface VerifiedToken {
  /** The person (or, for client_credentials, the client) the token acts for. */
  sub: string;
  clientId: string;
  scope: string[];
  scheme: TokenScheme;
  /** The DPoP key's thumbprint for a DPoP-bound token (RFC 9449 §6.1). */
  jkt?: string;
  claims: Readonly<AccessTokenClaims>;
}

export type Authentication = { ok: true; token: VerifiedToken } | { ok: false; response: Response };

export interface ProtectedResource {
  /** The resource URI, as configured. */
  readonly resource: string;
  /** The path of this resource's metadata (RFC 9728 §3.1): /.well-known/oauth-protected-resource + the resource's path. */
  readonly metadataPath: string;
  /** Its absolute URL: the challenges' `resource_metadata` (RFC 9728 §5.1). */
  readonly metadataUrl: string;
  /** The metadata document (RFC 9728 §2). */
  readonly metadataDocument: Readonly<Record<string, unknown>>;
  /** The metadata response for a GET or HEAD of `metadataPath` (or an OPTIONS preflight); undefined for any other request. */
  metadata(request: Request): Response | undefined;
  /** Checks the request's access token (see above). */
  authenticate(request: Request): Promise<Authentication>;
  /** The issuer's documents fetched so far (for tests and operators). */
  readonly fetches: Readonly<{ metadata: number; jwks: number }>;
}

interface KitRules extends JwtRules {
  readonly client: IssuerClient;
  readonly resource: string;
}

const audienceIs = (aud: unknown, rules: KitRules) =>
  aud === rules.resource || (Array.isArray(aud) && aud.includes(rules.resource));
const keyOf = (header: Readonly<Record<string, unknown>>, rules: KitRules) => rules.client.keyFor(header);

/** DPoP nonces (RFC 9449 §9) are not asked for by the kit: the proof's iat window and jti bound replays. */
const NO_NONCE = { encryptionKey: "", now: 0, window: 1 };

export function protectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const problem = issuerProblem(options.issuer);
  if (problem !== undefined) throw new Error(`protectedResource: issuer ${options.issuer} is not usable: ${problem}`);
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const dpop = options.dpop ?? true;
  const scopes = options.scopes ?? [];
  const algs = options.algs ?? SERVER_SIGNING_ALGS;
  const skew = options.clockSkew ?? 15;
  const path = metadataPath(options.resource);
  const metadataUrl = `${new URL(options.resource).origin}${path}`;
  const document = metadataDocument(options, { dpop });
  const client = new IssuerClient({
    issuer: options.issuer,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now,
    minTtl: options.cacheTtl?.min ?? 60,
    maxTtl: options.cacheTtl?.max ?? 3600,
    refetchInterval: options.refetchInterval ?? 60,
    timeoutMs: options.timeoutMs ?? 5000,
  });
  const introspector = options.introspection && new Introspector(client, options.introspection, now);
  const replay = options.replay ?? memoryReplayStore(now);
  const documentJson = JSON.stringify(document);
  const challengeScope = (document.scopes_supported as string[] | undefined) ?? [...scopes];

  async function check(request: Request, scheme: TokenScheme, token: string): Promise<VerifiedToken> {
    ensure(looksLikeOwnJwt(token), "invalid_token", "The access token is not a signed JWT.");
    const jwt = decodeJwt(token);
    if (jwt === undefined) throw accessTokenError(jwtFailure("malformed"));
    const rules: KitRules = {
      typ: AT_TYP,
      alg: (alg) => algs.includes(alg),
      key: keyOf,
      client,
      resource: options.resource,
      iss: options.issuer,
      aud: audienceIs,
      expiry: "required",
      iatNotInFuture: true,
      required: AT_REQUIRED,
      now: now(),
      skew,
    };
    const failure = await checkJwt(jwt, rules);
    if (failure !== undefined) throw accessTokenError(failure);
    const claims = jwt.claims as unknown as AccessTokenClaims;
    const granted = claims.scope.split(" ").filter(Boolean);
    const missing = scopes.filter((s) => !granted.includes(s));
    if (missing.length > 0) throw new OAuthError("insufficient_scope", `The access token does not carry the scope ${missing.join(" ")} this resource requires.`);
    const jkt = await confirmSender(request, scheme, token, claims);
    if (introspector !== undefined) ensure(await introspector.isActive(token, claims.jti, claims.exp), "token_revoked");
    return { sub: claims.sub, clientId: claims.client_id, scope: granted, scheme, ...(jkt !== undefined && { jkt }), claims };
  }

  /** RFC 9449 §7.1, §7.2 and RFC 8705 §3 (see above); the proof key's thumbprint for a DPoP-bound token. */
  async function confirmSender(request: Request, scheme: TokenScheme, token: string, claims: AccessTokenClaims): Promise<string | undefined> {
    const { cnf } = claims;
    if (cnf?.["x5t#S256"] !== undefined) {
      const presented = certificateThumbprint(tlsClientAuthOf(request));
      ensure(presented !== undefined && timingSafeEqual(presented, cnf["x5t#S256"]), "certificate_token_mismatch");
    }
    if (cnf?.jkt === undefined) {
      ensure(scheme === "Bearer", "dpop_scheme_unbound_token");
      return undefined;
    }
    ensure(dpop && scheme === "DPoP", "dpop_token_as_bearer");
    const proof = await validateProof(
      { header: request.headers.get("dpop"), method: request.method, url: request.url, accessToken: token, nonceRequired: false },
      { now: now(), skew, maxAge: options.dpopProofMaxAge ?? 300, nonce: NO_NONCE, replay, errors: RESOURCE_PROOF_ERRORS },
    );
    ensure(timingSafeEqual(proof.jkt, cnf.jkt), "dpop_token_key_mismatch");
    return proof.jkt;
  }

  return {
    resource: options.resource,
    metadataPath: path,
    metadataUrl,
    metadataDocument: document,
    get fetches() {
      return { ...client.fetches };
    },

    metadata(request) {
      if (new URL(request.url).pathname !== path) return undefined;
      const cors = { "access-control-allow-origin": "*" };
      if (request.method === "OPTIONS") {
        return new Response(null, { status: 204, headers: { ...cors, "access-control-allow-methods": "GET, HEAD", "access-control-allow-headers": "MCP-Protocol-Version", allow: "GET, HEAD, OPTIONS" } });
      }
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response(null, { status: 405, headers: { allow: "GET, HEAD, OPTIONS" } });
      }
      const headers = { ...cors, "content-type": "application/json", "cache-control": "public, max-age=3600" };
      return new Response(request.method === "HEAD" ? null : documentJson, { status: 200, headers });
    },

    async authenticate(request) {
      let scheme: TokenScheme | undefined;
      try {
        ensure(!new URL(request.url).searchParams.has("access_token"), "invalid_request",
          "Access tokens must not be sent in the URI query; use the Authorization header.");
        const presented = tokenFromAuthorization(request.headers.get("authorization"), dpop);
        ensure(presented !== undefined, "bearer_token_missing");
        scheme = presented.scheme;
        return { ok: true, token: await check(request, presented.scheme, presented.token) };
      } catch (error) {
        const problem = error instanceof IssuerUnavailable
          ? new OAuthError("temporarily_unavailable", "The authorization server could not be reached to check the access token; try again later.")
          : error;
        if (!(problem instanceof OAuthError)) throw error;
        const ctx = { resourceMetadata: metadataUrl, scope: problem.code === "insufficient_scope" ? [...scopes] : challengeScope, dpop, ...(scheme && { scheme }) };
        return { ok: false, response: challengeResponse(problem, ctx) };
      }
    },
  };
}

export { DPOP_SIGNING_ALGS };
export type { IntrospectionOptions, ReplayStore, ResourceDescription, TokenScheme };
export { memoryReplayStore };
export { protect } from "./hono";

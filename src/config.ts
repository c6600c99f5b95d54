import type { JSONWebKeySet } from "jose";
import { parseAcrTable, type AcrTable } from "./acr";
import { parseAuthorizationDetailsTypes, type AuthorizationDetailsType } from "./authorize/authorization-details";
import { RESOURCE_BYTES, resourceProblem } from "./authorize/resource";
import type { Env } from "./env";
import { checkProfileConfig, profileSetting, type ProfileName } from "./profiles/fapi2";

/**
 * Every setting with its default and the reason for it. Parsed once per `env` object and validated
 * then, so a misconfiguration fails the first request loudly (server_error, logged) instead of
 * producing subtly wrong tokens.
 */
export interface Config {
  /** Issuer identifier, no trailing slash (RFC 8414 §2, OIDC Discovery §4.3: iss must match exactly). */
  readonly issuer: string;
  /** Default `aud` of access tokens (RFC 9068 §3). */
  readonly accessTokenAudience: string;
  /**
   * The resource servers this server issues access tokens for (RESOURCES: space-separated absolute
   * URIs without fragments, RFC 8707 §2). A `resource` parameter must name one of them exactly (an
   * MCP server's resource URI, path included); a client's operator-set `allowed_resources` narrows
   * the list (src/authorize/resource.ts). Default none: every `resource` is invalid_target.
   */
  readonly resources: readonly string[];
  /**
   * Access-token lifetime. Default 600 s: short, because JWT access tokens are verified locally by
   * resource servers and cannot be recalled from them (RFC 9068 §6, RFC 9700 §4.10).
   */
  readonly accessTokenTtl: number;
  /**
   * Allowed clock skew for `iat`/`nbf`/`exp` of incoming JWTs. Default 15 s (FAPI 2.0 tests accept
   * an `nbf` 8 s ahead and require rejecting one 60 s ahead).
   */
  readonly clockSkew: number;
  /**
   * Longest accepted client-assertion lifetime (`exp` − now). Default 600 s. The `jti` is kept
   * until `exp`, so this also bounds the replay cache (RFC 7523 §3 item 4 lets us reject far-future exp).
   */
  readonly maxAssertionLifetime: number;
  /** Largest accepted form body. Default 64 KiB: room for assertions with x5c chains. */
  readonly maxBodyBytes: number;
  /** jwks_uri fetch: timeout (ms) and cache lifetime (s). Defaults 3000 ms / 300 s. */
  readonly jwksFetchTimeoutMs: number;
  readonly jwksCacheTtl: number;
  /** Allow http:// client URIs (development only). Default false: https only. */
  readonly allowInsecureClientUris: boolean;
  /**
   * How long an isolate may reuse a client's registration at the token endpoint. Default 30 s: a
   * rotated secret or disabled client takes effect everywhere within that time, and the hot path
   * skips a D1 read per request (docs/performance.md).
   */
  readonly clientCacheTtl: number;
  /** Authorization-code lifetime. Default 60 s (RFC 6749 §4.1.2 recommends ≤ 10 min; FAPI 2.0 ≤ 60 s). */
  readonly codeTtl: number;
  /** How long a person has to finish sign-in and consent for one authorization request. Default 600 s. */
  readonly interactionTtl: number;
  /** Device authorization (RFC 8628 §3.2): device_code/user_code lifetime (600 s) and the first polling interval (5 s). */
  readonly deviceCodeTtl: number;
  readonly deviceCodeInterval: number;
  /** CIBA (src/ciba/): an authentication request's default and longest lifetime (requested_expiry), and the poll interval; seconds. */
  readonly cibaRequestTtl: number;
  readonly cibaMaxRequestTtl: number;
  readonly cibaInterval: number;
  /**
   * DPoP (RFC 9449, src/dpop/): how old a proof's `iat` may be (300 s, with clockSkew either way; its
   * `jti` is kept that long), the nonce window (300 s: a nonce lives one to two windows) and whether
   * every DPoP request needs a server nonce (DPOP_NONCE_REQUIRED, default false; a client can ask
   * for it alone with the `dpop_nonce_required` metadata).
   */
  readonly dpopProofMaxAge: number;
  readonly dpopNonceWindow: number;
  readonly dpopNonceRequired: boolean;
  /** Pushed authorization requests (RFC 9126 §2.2): the request_uri's lifetime (60 s) and whether every client must push (REQUIRE_PUSHED_AUTHORIZATION_REQUESTS). */
  readonly parTtl: number;
  readonly requirePushedAuthorizationRequests: boolean;
  /**
   * The FAPI 2.0 Security Profile for every client (FAPI_PROFILE=fapi2-security), or null (the
   * default): then only clients whose operator set `fapi_profile` are under it. Its rules live in
   * src/profiles/fapi2.ts; a config that breaks them (codes over 60 s, request_uris of 600 s or
   * more) is refused there.
   */
  readonly fapiProfile: ProfileName | null;
  /** ID-token lifetime. Default 600 s: an ID token is consumed once by the client at sign-in. */
  readonly idTokenTtl: number;
  /**
   * Absolute lifetime of a refresh-token family: from the authorization code's redemption, no
   * rotation extends it (REFRESH_TOKEN_TTL). Default 30 days: a person who uses an app signs in
   * again about once a month, which bounds what a stolen-but-unnoticed family is worth (RFC 9700
   * §4.14.2). A client may carry its own value in metadata (`refresh_token_absolute_lifetime`).
   */
  readonly refreshTokenTtl: number;
  /**
   * Idle lifetime: a refresh token not used within this time expires; each rotation starts a new
   * period, never beyond the absolute limit (REFRESH_TOKEN_IDLE_TTL). Default 14 days: an app in
   * regular use never notices it, a device left in a drawer for two weeks must sign in again (RFC
   * 9700 §4.14.2: "refresh tokens … expire if they are not used for a certain time"). Per client:
   * `refresh_token_idle_lifetime`.
   */
  readonly refreshTokenIdleTtl: number;
  /**
   * Reuse grace window (REFRESH_TOKEN_REUSE_GRACE, 0 disables it): within this many seconds of a
   * rotation, the same request again (same client, same refresh token, same requested scope) gets
   * the same answer — the same successor — instead of counting as reuse, which would revoke the
   * whole family. Default 30 s: mobile apps retry a refresh whose answer was lost on the network,
   * and several browser tabs refresh at once; both are within seconds. At most 300 s and less than
   * the access-token lifetime, since the retry gets the access token issued at the rotation. Per
   * client: `refresh_token_reuse_grace`.
   */
  readonly refreshTokenReuseGrace: number;
  /** Require PKCE S256 from every client, not only public ones. Default true (RFC 9700 §2.1.1). */
  readonly requirePkceForAll: boolean;
  /**
   * Browser-session lifetime (absolute, from sign-in). Default 14 days (SESSION_TTL): long enough
   * that people are not asked for their password every few days, short enough that a forgotten
   * session on a shared computer ends; clients needing fresher authentication send max_age.
   */
  readonly sessionTtl: number;
  /**
   * Email-verification link lifetime. Default 24 h: a person may read the mail the next day; the
   * link is single use and bound to the address it was sent to.
   */
  readonly emailVerificationTtl: number;
  /**
   * Failed sign-ins allowed per key within a window, after which sign-in is refused (too_many_attempts)
   * until the window, which starts at the first failure, has passed (RFC 9700 §4.x; OWASP
   * Authentication Cheat Sheet). Per account: 5 per 15 min, which bounds online guessing of one
   * password to 480 a day while a person who mistypes a few times is not locked out for long. Per
   * client IP (CF-Connecting-IP; IPv6 per /64): 50 per 15 min, which slows one source spraying many
   * accounts yet leaves room for a shared NAT or office.
   */
  readonly loginThrottle: {
    readonly account: ThrottlePolicy;
    readonly ip: ThrottlePolicy;
  };
  /**
   * Mail that sign-up and the verification resend may send to one address (the verification link,
   * or the "someone tried to sign up with your address" notice): 3 per hour. Those forms answer
   * anyone about any address (src/users/sign-up.ts), so without a bound anyone could flood an
   * inbox through them; beyond it the mail is not sent (logged) and the answer stays the same.
   */
  readonly signUpMailThrottle: ThrottlePolicy;
  /** How mail is sent: "outbox" (D1 table, local development; the default) or "cloudflare" (Email Service). */
  readonly mailProvider: "outbox" | "cloudflare";
  /** Sender of outgoing mail (MAIL_FROM); default "Latchkey <no-reply@<issuer host>>". */
  readonly mailFrom: string;
  /** Self-service sign-up. Default false: a deployment opts in (SIGNUP_ENABLED=true); operators create users. */
  readonly signupEnabled: boolean;
  /**
   * Who may use the registration endpoint (REGISTRATION_POLICY, RFC 7591 §3). Default
   * "initial_access_token": only a holder of a Bearer initial access token the operator created, so
   * a deployment does not hand clients to anyone who finds the URL; "open": anyone (what local
   * development runs with, scripts/local-worker.mjs).
   */
  readonly registrationPolicy: "open" | "initial_access_token";
  /**
   * Scopes a self-registered client may list in its `scope` besides the OpenID Connect ones every
   * client may request (REGISTRATION_SCOPES, space-separated). Default none: API scopes open doors
   * at resource servers, so the operator decides who holds them (RFC 7591 §2 `scope`, §5).
   */
  readonly registrationScopes: readonly string[];
  /**
   * Keys trusted to sign software statements (SOFTWARE_STATEMENT_KEYS: a JWK Set as JSON, public
   * keys only). Default none: trusting a statement issuer is the operator's decision, so without
   * keys every statement is `unapproved_software_statement` (RFC 7591 §2.3, §3.2.2).
   */
  readonly softwareStatementKeys: JSONWebKeySet | null;
  /**
   * Budgets of POST /register (src/registration/limits.ts), reserved in the LoginThrottle Durable
   * Object before the registration is looked at: per client network (CF-Connecting-IP; IPv6 per
   * /64) REGISTRATION_LIMIT_PER_IP, default 20 an hour, enough for a developer trying things out or
   * an office of people each adding an app; for the whole server REGISTRATION_LIMIT_GLOBAL, default
   * 1000 an hour, which bounds what a flood from many addresses can add (24 000 clients a day, each
   * removed after unusedClientTtl unless used). 0 turns a limit off (null here). The operator API
   * is never limited.
   */
  readonly registrationLimits: { readonly ip: ThrottlePolicy | null; readonly global: ThrottlePolicy | null };
  /**
   * A self-registered client to which no token was issued within this many seconds of its
   * registration is removed by maintenance (UNUSED_CLIENT_TTL, 0 = never). Default 86 400 (a day):
   * an app that registers is normally used within minutes; one that registered and never completed
   * an authorization in a day is a leftover or a flood's, and registers again if it comes back.
   */
  readonly unusedClientTtl: number;
  /**
   * Lifetime of the secrets the registration endpoint issues (DYNAMIC_CLIENT_SECRET_TTL, seconds;
   * RFC 7591 §3.2.1 client_secret_expires_at). Default 0 = never: a client whose secret expires
   * must rotate it through RFC 7592 (`rotate_client_secret`), which many clients do not implement,
   * and unused self-registered clients are removed anyway; set it where registered clients are
   * known to rotate. Operator-set secrets expire only as the operator says.
   */
  readonly dynamicClientSecretTtl: number;
  /**
   * sector_identifier_uri fetch at registration (OIDC Registration §5): timeout 3000 ms and at most
   * 64 KiB, the same bounds as a client's jwks_uri, so a slow or huge document cannot hold a request.
   */
  readonly sectorIdentifierFetch: { readonly timeoutMs: number; readonly maxBytes: number };
  /**
   * Logout-token lifetime (OIDC Back-Channel Logout §2.4). Default 120 s: the token is delivered
   * the moment it is made, and §4 asks for short expiry ("preferably at most two minutes") so a
   * captured token cannot be replayed later.
   */
  readonly logoutTokenTtl: number;
  /**
   * How long one back-channel logout POST may take before it is abandoned (logged). Default
   * 3000 ms, as for a client's jwks_uri: delivery runs after the logout has answered
   * (`waitUntil`), so a slow client never delays the person, but it must not hold the Worker either.
   */
  readonly backChannelLogoutTimeoutMs: number;
  /**
   * Which `acr` a sign-in earns from its `amr` (src/acr.ts): ACR_TABLE, a JSON array of
   * {"acr", "amr": [...]} rules, first match wins; default phrh for a device-bound passkey, phr for
   * any passkey, none for a password. Its values are discovery's `acr_values_supported`.
   */
  readonly acrTable: AcrTable;
  /**
   * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document; src/clients/metadata-document.ts):
   * a `client_id` that is an https URL names a document the server fetches for the client's metadata.
   * - `enabled` (CLIENT_ID_METADATA_DOCUMENTS, default true; discovery advertises it): MCP's
   *   authorization rules ask for it (SHOULD), and each fetch is bounded by the outbound policy.
   * - `hostsAllowed` (CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED: hosts separated by spaces or commas,
   *   `*.example.com` for its subdomains; default none = any public host) and `hostsBlocked`
   *   (…_HOSTS_BLOCKED, same form, wins over allowed): the draft's domain trust policy (§6.8).
   * - `timeoutMs` 3000 and `maxBytes` 5 KiB: the draft recommends 5 KB at most (§6.6).
   * - `minTtl` 60 s and `maxTtl` 24 h: the bounds its HTTP caching headers are clamped to (§4.4); a
   *   document without freshness (no max-age or Expires, or no-store / no-cache) gets `minTtl`, so a
   *   sign-in's several lookups share one fetch while a change is seen within a minute.
   * - `refetchInterval` 30 s: an unknown `kid` in a client assertion refetches the document at most
   *   this often (as for a registered jwks_uri), so random kids cannot make us a request amplifier.
   */
  readonly clientIdMetadataDocuments: {
    readonly enabled: boolean;
    readonly hostsAllowed: readonly string[];
    readonly hostsBlocked: readonly string[];
    readonly timeoutMs: number;
    readonly maxBytes: number;
    readonly minTtl: number;
    readonly maxTtl: number;
    readonly refetchInterval: number;
  };
  /**
   * RFC 9396 authorization_details types (AUTHORIZATION_DETAILS_TYPES, a JSON array; docs/operator.md):
   * discovery's authorization_details_types_supported. Default none: authorization_details is refused.
   */
  readonly authorizationDetailsTypes: readonly AuthorizationDetailsType[];
}

/** A failure budget: at most `limit` failures within `windowSeconds` of the first one. */
export interface ThrottlePolicy {
  readonly limit: number;
  readonly windowSeconds: number;
}

const parsed = new WeakMap<object, Config>();

function seconds(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer number of seconds`);
  return n;
}

export function configFrom(env: Env): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const issuer = validIssuer(env.ISSUER);
  const accessTokenTtl = seconds(env.ACCESS_TOKEN_TTL, 600, "ACCESS_TOKEN_TTL");
  const config: Config = {
    issuer,
    accessTokenAudience: env.ACCESS_TOKEN_AUDIENCE || issuer,
    resources: resourceSetting(env.RESOURCES),
    accessTokenTtl,
    clockSkew: 15,
    maxAssertionLifetime: 600,
    maxBodyBytes: 64 * 1024,
    jwksFetchTimeoutMs: 3000,
    jwksCacheTtl: 300,
    allowInsecureClientUris: env.ALLOW_INSECURE_CLIENT_URIS === "true",
    clientCacheTtl: 30,
    codeTtl: 60,
    interactionTtl: 600,
    deviceCodeTtl: 600,
    deviceCodeInterval: 5,
    cibaRequestTtl: 300,
    cibaMaxRequestTtl: 1800,
    cibaInterval: 5,
    dpopProofMaxAge: 300,
    dpopNonceWindow: 300,
    dpopNonceRequired: flag(env.DPOP_NONCE_REQUIRED, false, "DPOP_NONCE_REQUIRED"),
    parTtl: 60,
    requirePushedAuthorizationRequests: flag(env.REQUIRE_PUSHED_AUTHORIZATION_REQUESTS, false, "REQUIRE_PUSHED_AUTHORIZATION_REQUESTS"),
    fapiProfile: profileSetting(env.FAPI_PROFILE),
    idTokenTtl: 600,
    refreshTokenTtl: seconds(env.REFRESH_TOKEN_TTL, 30 * 24 * 3600, "REFRESH_TOKEN_TTL"),
    refreshTokenIdleTtl: seconds(env.REFRESH_TOKEN_IDLE_TTL, 14 * 24 * 3600, "REFRESH_TOKEN_IDLE_TTL"),
    refreshTokenReuseGrace: reuseGrace(env.REFRESH_TOKEN_REUSE_GRACE, accessTokenTtl),
    requirePkceForAll: env.REQUIRE_PKCE_FOR_ALL !== "false",
    sessionTtl: seconds(env.SESSION_TTL, 14 * 24 * 3600, "SESSION_TTL"),
    emailVerificationTtl: 24 * 3600,
    loginThrottle: {
      account: { limit: 5, windowSeconds: 15 * 60 },
      ip: { limit: 50, windowSeconds: 15 * 60 },
    },
    signUpMailThrottle: { limit: 3, windowSeconds: 3600 },
    ...mailSettings(env, issuer),
    signupEnabled: flag(env.SIGNUP_ENABLED, false, "SIGNUP_ENABLED"),
    ...registrationSettings(env),
    ...registrationAbuseSettings(env),
    sectorIdentifierFetch: { timeoutMs: 3000, maxBytes: 64 * 1024 },
    logoutTokenTtl: 120,
    backChannelLogoutTimeoutMs: 3000,
    acrTable: parseAcrTable(env.ACR_TABLE),
    clientIdMetadataDocuments: {
      enabled: flag(env.CLIENT_ID_METADATA_DOCUMENTS, true, "CLIENT_ID_METADATA_DOCUMENTS"),
      hostsAllowed: hostPatterns(env.CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED, "CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED"),
      hostsBlocked: hostPatterns(env.CLIENT_ID_METADATA_DOCUMENT_HOSTS_BLOCKED, "CLIENT_ID_METADATA_DOCUMENT_HOSTS_BLOCKED"),
      timeoutMs: 3000,
      maxBytes: 5 * 1024,
      minTtl: 60,
      maxTtl: 24 * 3600,
      refetchInterval: 30,
    },
    authorizationDetailsTypes: parseAuthorizationDetailsTypes(env.AUTHORIZATION_DETAILS_TYPES),
  };
  checkProfileConfig(config);
  parsed.set(env, config);
  return config;
}

/** REFRESH_TOKEN_REUSE_GRACE: 0 (off) to 300 s, and shorter than the access-token lifetime (default 30 s). */
function reuseGrace(value: string | undefined, accessTokenTtl: number): number {
  if (value === undefined || value === "") return Math.min(30, accessTokenTtl - 1);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 300) throw new Error("REFRESH_TOKEN_REUSE_GRACE must be an integer number of seconds from 0 to 300");
  if (n >= accessTokenTtl) throw new Error("REFRESH_TOKEN_REUSE_GRACE must be shorter than ACCESS_TOKEN_TTL");
  return n;
}

/** RESOURCES: space-separated absolute URIs without fragments (RFC 8707 §2), each at most RESOURCE_BYTES. */
function resourceSetting(value: string | undefined): readonly string[] {
  const resources = [...new Set((value ?? "").split(" ").filter(Boolean))];
  for (const uri of resources) {
    if (uri.length > RESOURCE_BYTES || resourceProblem(uri) !== undefined) {
      throw new Error(`RESOURCES: ${uri.slice(0, 64)} is not an absolute URI without a fragment (at most ${RESOURCE_BYTES} characters)`);
    }
  }
  return resources;
}

function flag(value: string | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined || value === "") return fallback;
  if (value !== "true" && value !== "false") throw new Error(`${name} must be "true" or "false"`);
  return value === "true";
}

/** A list of host names (`*.example.com`: its subdomains), separated by spaces or commas, lower-cased. */
function hostPatterns(value: string | undefined, name: string): string[] {
  const hosts = (value ?? "").toLowerCase().split(/[\s,]+/).filter(Boolean);
  if (!hosts.every((h) => /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$|^\[[0-9a-f:.]+\]$/.test(h))) {
    throw new Error(`${name} must be host names separated by spaces or commas (*.example.com for subdomains)`);
  }
  return hosts;
}

/** MAIL_PROVIDER=cloudflare needs the `send_email` binding and a sender; refuse to run without them. */
function mailSettings(env: Env, issuer: string): Pick<Config, "mailProvider" | "mailFrom"> {
  const provider = env.MAIL_PROVIDER || "outbox";
  if (provider !== "outbox" && provider !== "cloudflare") throw new Error('MAIL_PROVIDER must be "outbox" or "cloudflare"');
  if (provider === "cloudflare") {
    if (!env.EMAIL) throw new Error("MAIL_PROVIDER is cloudflare but the EMAIL send_email binding is missing (see src/mail/cloudflare.ts)");
    if (!env.MAIL_FROM) throw new Error("MAIL_PROVIDER is cloudflare but MAIL_FROM is not set");
  }
  return { mailProvider: provider, mailFrom: env.MAIL_FROM || `Latchkey <no-reply@${new URL(issuer).hostname}>` };
}

/** REGISTRATION_POLICY, REGISTRATION_SCOPES and SOFTWARE_STATEMENT_KEYS, checked once. */
function registrationSettings(env: Env): Pick<Config, "registrationPolicy" | "registrationScopes" | "softwareStatementKeys"> {
  const policy = env.REGISTRATION_POLICY || "initial_access_token";
  if (policy !== "open" && policy !== "initial_access_token") throw new Error('REGISTRATION_POLICY must be "open" or "initial_access_token"');
  const scopes = (env.REGISTRATION_SCOPES ?? "").split(" ").filter(Boolean);
  if (!scopes.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) throw new Error("REGISTRATION_SCOPES must be space-separated scope tokens (RFC 6749 3.3)");
  return { registrationPolicy: policy, registrationScopes: scopes, softwareStatementKeys: trustedKeys(env.SOFTWARE_STATEMENT_KEYS) };
}

/** REGISTRATION_LIMIT_PER_IP, REGISTRATION_LIMIT_GLOBAL (per hour), UNUSED_CLIENT_TTL, DYNAMIC_CLIENT_SECRET_TTL; 0 turns each off. */
function registrationAbuseSettings(env: Env): Pick<Config, "registrationLimits" | "unusedClientTtl" | "dynamicClientSecretTtl"> {
  const hourly = (limit: number): ThrottlePolicy | null => (limit === 0 ? null : { limit, windowSeconds: 3600 });
  return {
    registrationLimits: {
      ip: hourly(wholeNumber(env.REGISTRATION_LIMIT_PER_IP, 20, "REGISTRATION_LIMIT_PER_IP")),
      global: hourly(wholeNumber(env.REGISTRATION_LIMIT_GLOBAL, 1000, "REGISTRATION_LIMIT_GLOBAL")),
    },
    unusedClientTtl: wholeNumber(env.UNUSED_CLIENT_TTL, 24 * 3600, "UNUSED_CLIENT_TTL"),
    dynamicClientSecretTtl: wholeNumber(env.DYNAMIC_CLIENT_SECRET_TTL, 0, "DYNAMIC_CLIENT_SECRET_TTL"),
  };
}

function wholeNumber(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new Error(`${name} must be a whole number (0 turns it off)`);
  return n;
}

function trustedKeys(value: string | undefined): JSONWebKeySet | null {
  if (value === undefined || value.trim() === "") return null;
  let set: unknown;
  try {
    set = JSON.parse(value);
  } catch {
    throw new Error("SOFTWARE_STATEMENT_KEYS is not JSON");
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === "object" && typeof k.kty === "string")) {
    throw new Error("SOFTWARE_STATEMENT_KEYS must be a JWK Set");
  }
  if (keys.some((k) => ["d", "p", "q", "dp", "dq", "qi", "k"].some((m) => m in k))) throw new Error("SOFTWARE_STATEMENT_KEYS must hold public keys only");
  return set as JSONWebKeySet;
}

function validIssuer(value: string | undefined): string {
  if (!value) throw new Error("ISSUER is not configured");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error("ISSUER is not a URL");
  }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) throw new Error("ISSUER must use https");
  if (url.search || url.hash) throw new Error("ISSUER must not have a query or fragment (RFC 8414 2)");
  return value.replace(/\/+$/, "");
}

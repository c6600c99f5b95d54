import type { CibaRequest } from "../workers/ciba-request";
import type { DeviceAuthorization } from "../workers/device-authorization";
import type { LoginThrottle } from "../workers/login-throttle";
import type { ReplayGuard } from "../workers/replay-guard";

/** The bindings wrangler.toml declares, plus secrets (`wrangler secret put`). */
export interface Env {
  /** D1: clients, signing keys, users, sessions, consent, refresh-token families, the mail outbox (docs/storage.md). */
  DB: D1Database;
  /** KV: the access-token revocation list (src/tokens/revocation.ts), read at userinfo and introspection. */
  KV: KVNamespace;
  /** Durable Object: the atomic arbiter of single use — authorization codes and assertion `jti`s (src/replay/). */
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuard>;
  /** Durable Object: sign-in attempts per account and per client IP, and sign-up mail (src/users/throttle.ts). */
  LOGIN_THROTTLE: DurableObjectNamespace<LoginThrottle>;
  /** Durable Object: one device authorization request (RFC 8628) each, and its user code's lookup (src/device/). */
  DEVICE_AUTHORIZATIONS: DurableObjectNamespace<DeviceAuthorization>;
  /** Durable Object: one CIBA authentication request each, and its approval page handle (src/ciba/). */
  CIBA_REQUESTS: DurableObjectNamespace<CibaRequest>;
  /** Cloudflare Email Service `send_email` binding; required when MAIL_PROVIDER is "cloudflare". */
  EMAIL?: EmailSendBinding;
  /** "outbox" (default: mail is written to the D1 `outbox` table, for local development) or "cloudflare". */
  MAIL_PROVIDER?: string;
  /** Sender address of outgoing mail, e.g. "Latchkey <login@example.com>"; required with MAIL_PROVIDER=cloudflare. */
  MAIL_FROM?: string;
  /** "true" lets people create their own accounts on the sign-in page. Default false: operators create users. */
  SIGNUP_ENABLED?: string;
  /** Optional: browser-session lifetime in seconds (default in src/config.ts). */
  SESSION_TTL?: string;
  /** The issuer identifier (RFC 8414 §2): https origin (and optional path), no query or fragment. */
  ISSUER: string;
  /** Audience of access tokens when the request names none; empty → the issuer. */
  ACCESS_TOKEN_AUDIENCE?: string;
  /** Space-separated absolute URIs of the resource servers tokens may be issued for (RFC 8707; src/config.ts). Default none. */
  RESOURCES?: string;
  /** "true" lets client jwks_uri values use http:// (local development only). */
  ALLOW_INSECURE_CLIENT_URIS?: string;
  /** Secret: ≥ 32 random bytes, base64url. Root of encryption at rest (src/crypto/aead.ts). */
  ENCRYPTION_KEY: string;
  /** Secret: bearer credential for the operator API under /admin. Unset → the admin API is off. */
  ADMIN_TOKEN?: string;
  /** "initial_access_token" (default) or "open": who may register clients at /register (src/config.ts). */
  REGISTRATION_POLICY?: string;
  /** Space-separated scopes self-registered clients may have besides the OpenID ones; default none. */
  REGISTRATION_SCOPES?: string;
  /** A JWK Set (JSON, public keys) trusted to sign software statements (RFC 7591 §2.3); default none. */
  SOFTWARE_STATEMENT_KEYS?: string;
  /** POST /register budgets per client IP and in total, per hour (src/config.ts registrationLimits); 0 = off. Defaults 20 and 1000. */
  REGISTRATION_LIMIT_PER_IP?: string;
  REGISTRATION_LIMIT_GLOBAL?: string;
  /** Seconds after which a self-registered client never issued a token is removed (default 86400; 0 = never). */
  UNUSED_CLIENT_TTL?: string;
  /** Lifetime in seconds of secrets the registration endpoint issues (default 0 = never). */
  DYNAMIC_CLIENT_SECRET_TTL?: string;
  /** "false" lets confidential clients omit PKCE (public clients always need it). Default: required. */
  REQUIRE_PKCE_FOR_ALL?: string;
  /** "true": every DPoP proof must carry a server nonce (RFC 9449 §8, §9). Default false. */
  DPOP_NONCE_REQUIRED?: string;
  /** "true": every authorization request must be pushed first (RFC 9126 §5 require_pushed_authorization_requests). Default false. */
  REQUIRE_PUSHED_AUTHORIZATION_REQUESTS?: string;
  /** "fapi2-security": every client under the FAPI 2.0 Security Profile (src/profiles/fapi2.ts). Default unset: only clients whose operator set `fapi_profile`. */
  FAPI_PROFILE?: string;
  /** "true" serves the local mail outbox at /dev/outbox (development only; it shows verification links). */
  SHOW_DEV_OUTBOX?: string;
  /** Optional tuning, seconds; see src/config.ts for defaults. */
  ACCESS_TOKEN_TTL?: string;
  /** Refresh tokens: absolute and idle lifetimes, and the reuse grace window (0 = off); seconds, defaults in src/config.ts. */
  REFRESH_TOKEN_TTL?: string;
  REFRESH_TOKEN_IDLE_TTL?: string;
  REFRESH_TOKEN_REUSE_GRACE?: string;
  /** Optional: the sign-in → `acr` table as JSON (src/acr.ts); default phrh/phr for passkeys. */
  ACR_TABLE?: string;
  /** "false" turns off client ID metadata documents (https URLs as client_id); default on (src/config.ts). */
  CLIENT_ID_METADATA_DOCUMENTS?: string;
  /** Hosts whose client ID metadata documents are accepted / refused (spaces or commas, `*.example.com`); src/config.ts. */
  CLIENT_ID_METADATA_DOCUMENT_HOSTS_ALLOWED?: string;
  CLIENT_ID_METADATA_DOCUMENT_HOSTS_BLOCKED?: string;
  /** Optional: the RFC 9396 authorization_details types as JSON (src/authorize/authorization-details.ts); default none. */
  AUTHORIZATION_DETAILS_TYPES?: string;
}

/**
 * The part of Cloudflare Email Service's `send_email` binding that Latchkey uses (see
 * src/mail/cloudflare.ts). Typed here, minimally, so the adapter does not depend on the full
 * workers-types declaration, which is still evolving while the service is in beta.
 */
export interface EmailSendBinding {
  send(message: {
    from: string | { email: string; name: string };
    to: string;
    subject: string;
    text: string;
  }): Promise<{ messageId: string }>;
}

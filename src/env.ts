import type { ReplayGuard } from "../workers/replay-guard";

/** The bindings wrangler.toml declares, plus secrets (`wrangler secret put`). */
export interface Env {
  /** D1: clients, signing keys; later users, consent and refresh-token state. */
  DB: D1Database;
  /** KV: replicated replay cache of client-assertion `jti`s; later authorization codes. */
  KV: KVNamespace;
  /** Durable Object: the atomic arbiter of single-use values (assertion `jti`s). */
  REPLAY_GUARD: DurableObjectNamespace<ReplayGuard>;
  /** The issuer identifier (RFC 8414 §2): https origin (and optional path), no query or fragment. */
  ISSUER: string;
  /** Audience of access tokens when the request names none; empty → the issuer. */
  ACCESS_TOKEN_AUDIENCE?: string;
  /** "true" lets client jwks_uri values use http:// (local development only). */
  ALLOW_INSECURE_CLIENT_URIS?: string;
  /** Secret: ≥ 32 random bytes, base64url. Root of encryption at rest (src/crypto/aead.ts). */
  ENCRYPTION_KEY: string;
  /** Secret: bearer credential for the operator API under /admin. Unset → the admin API is off. */
  ADMIN_TOKEN?: string;
  /** "false" lets confidential clients omit PKCE (public clients always need it). Default: required. */
  REQUIRE_PKCE_FOR_ALL?: string;
  /** Optional tuning, seconds; see src/config.ts for defaults. */
  ACCESS_TOKEN_TTL?: string;
}

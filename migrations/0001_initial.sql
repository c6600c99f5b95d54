-- Migration 0001: the initial Latchkey schema (wrangler D1 migrations; `wrangler d1 migrations apply DB`).
-- Every statement is CREATE … IF NOT EXISTS so that this first migration also adopts a database made
-- before there were migrations (from the old schema.sql): there it changes nothing and is recorded
-- as applied. Later migrations are ordinary, one-way steps: never edit a migration once it has been
-- committed; add the next number. schema.sql is all of them in order (`npm run schema` writes it).
--
-- Secrets and tokens are stored as hashes; values the server must read back are sealed
-- (AES-256-GCM under a key derived from the ENCRYPTION_KEY secret, src/crypto/aead.ts).

-- OAuth clients (RFC 7591 metadata). List-valued fields are JSON arrays.
CREATE TABLE IF NOT EXISTS clients (
  client_id TEXT PRIMARY KEY,
  client_name TEXT,
  -- none | client_secret_basic | client_secret_post | client_secret_jwt | private_key_jwt
  -- | tls_client_auth | self_signed_tls_client_auth
  token_endpoint_auth_method TEXT NOT NULL,
  -- Required alg of JWT client assertions, or NULL for any allowed one.
  token_endpoint_auth_signing_alg TEXT,
  -- base64url(SHA-256(secret)); NULL for clients without a secret.
  client_secret_hash TEXT,
  -- The secret sealed for client_secret_jwt clients only (HMAC needs the value back).
  client_secret_sealed TEXT,
  -- Unix seconds; 0 = never expires (RFC 7591 §3.2.1).
  client_secret_expires_at INTEGER NOT NULL DEFAULT 0,
  grant_types TEXT NOT NULL DEFAULT '["authorization_code"]',
  response_types TEXT NOT NULL DEFAULT '["code"]',
  redirect_uris TEXT NOT NULL DEFAULT '[]',
  -- Space-separated scopes the client may be granted.
  scope TEXT NOT NULL DEFAULT '',
  jwks TEXT,
  jwks_uri TEXT,
  -- RFC 8705 §2.1.2: exactly one of these identifies a tls_client_auth client's certificate.
  tls_client_auth_subject_dn TEXT,
  tls_client_auth_san_dns TEXT,
  tls_client_auth_san_uri TEXT,
  tls_client_auth_san_ip TEXT,
  tls_client_auth_san_email TEXT,
  -- Other registered metadata (RFC 7591 §2), JSON object.
  metadata TEXT NOT NULL DEFAULT '{}',
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Signing keys. Life cycle: next (published, not signing) → current (signing) → retired
-- (published until every token it signed has expired, then deleted).
CREATE TABLE IF NOT EXISTS signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('next', 'current', 'retired')),
  public_jwk TEXT NOT NULL,
  private_jwk_sealed TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  retired_at INTEGER,
  -- When a retired key leaves the JWKS (Unix seconds).
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS signing_keys_state ON signing_keys (state, alg);

-- People. `id` is the OIDC `sub` (random, never reassigned). Email is unique, case-insensitively.
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  email_verified INTEGER NOT NULL DEFAULT 0,
  -- "pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>": parameters stored with the hash.
  password_hash TEXT,
  -- Standard claims (OIDC Core §5.1) other than sub/email/email_verified, JSON object.
  claims TEXT NOT NULL DEFAULT '{}',
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Browser sessions. The cookie holds a random value; only its hash is stored.
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  -- Public session id: the ID token's `sid`.
  sid TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  auth_time INTEGER NOT NULL,
  -- JSON array of authentication methods references (RFC 8176), e.g. ["pwd"].
  amr TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

-- OIDC Back-Channel Logout §2.3: the clients (those with a backchannel_logout_uri) that received an
-- ID token in a session, written at code redemption. Ending the session takes its rows and sends
-- each client a logout token; `expires_at` is the session's, so maintenance removes the rest.
CREATE TABLE IF NOT EXISTS session_clients (
  sid TEXT NOT NULL,
  client_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (sid, client_id)
);
CREATE INDEX IF NOT EXISTS session_clients_expiry ON session_clients (expires_at);

-- Consent: what a person granted a client. `grant_id` changes when consent is withdrawn and
-- given again, so tokens issued under an old grant stop working.
CREATE TABLE IF NOT EXISTS consents (
  user_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  grant_id TEXT NOT NULL UNIQUE,
  scope TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
);

-- Single-use email verification links; the token is stored hashed.
CREATE TABLE IF NOT EXISTS email_verifications (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  email TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

-- The local mail outbox (MAIL_PROVIDER=outbox, the development default).
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY,
  recipient TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Refresh tokens, stored hashed, bound to client, user, grant, scope, auth_time and sid.
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  auth_time INTEGER NOT NULL,
  sid TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_grant ON refresh_tokens (grant_id);

-- Refresh-token families (RFC 9700 §4.14.2): the chain of rotations that starts when one
-- authorization code is redeemed. Revoking a family revokes every refresh token in it and puts the
-- access tokens issued with them on the KV revocation list. `expires_at` is the absolute limit no
-- rotation extends. (Beside refresh_tokens rather than new columns in it: databases created before
-- rotation need no ALTER.)
CREATE TABLE IF NOT EXISTS refresh_token_families (
  family_id TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  -- reuse | revocation | code_reuse
  revoked_reason TEXT
);
CREATE INDEX IF NOT EXISTS refresh_token_families_grant ON refresh_token_families (grant_id);

-- Rotation state of each refresh token (one row per refresh_tokens row, same token_hash).
CREATE TABLE IF NOT EXISTS refresh_token_rotations (
  token_hash TEXT PRIMARY KEY,
  family_id TEXT NOT NULL,
  -- The access token issued together with this refresh token (jti, exp): revoked with the family.
  access_jti TEXT,
  access_exp INTEGER,
  -- Set once, by the one request that rotated this token (a conditional UPDATE decides which).
  rotated_at INTEGER,
  successor_hash TEXT,
  -- The rotating request's scope parameter, normalized ('' when it sent none): a retry must match.
  rotation_scope TEXT,
  -- The rotating request's answer, sealed (src/crypto/aead.ts, purpose refresh-retry), so a retry
  -- within the grace window gets the same successor. Cleared when the successor is used or the
  -- family is revoked; useless after the grace window.
  retry_sealed TEXT
);
CREATE INDEX IF NOT EXISTS refresh_token_rotations_family ON refresh_token_rotations (family_id);
CREATE INDEX IF NOT EXISTS refresh_token_rotations_successor ON refresh_token_rotations (successor_hash);

-- Browser origins allowed to call the token endpoint with CORS, per client (derived from the
-- client's redirect URIs or an explicit allow-list at registration).
CREATE TABLE IF NOT EXISTS client_origins (
  origin TEXT NOT NULL,
  client_id TEXT NOT NULL,
  PRIMARY KEY (origin, client_id)
);

-- Registration access tokens (RFC 7592 §3): one per dynamically registered client, stored hashed;
-- the client presents it at its registration_client_uri. Deleted with the client.
CREATE TABLE IF NOT EXISTS registration_tokens (
  client_id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

-- Initial access tokens (RFC 7591 §3) the operator hands out when REGISTRATION_POLICY is
-- initial_access_token, stored hashed. `max_uses` NULL = unlimited; `expires_at` NULL = never.
CREATE TABLE IF NOT EXISTS initial_access_tokens (
  token_hash TEXT PRIMARY KEY,
  expires_at INTEGER,
  max_uses INTEGER,
  uses INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

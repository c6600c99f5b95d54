-- Migration 0003: passkeys (WebAuthn Level 3 credential records, src/passkeys/store.ts).
--
-- One row per registered credential (§4 "credential record"): its id, public key (COSE, base64url),
-- signature counter, whether it may be synced (backup eligible, BE: fixed at registration, checked
-- at every use) and whether it is backed up now (BS), the transports the browser reported, and the
-- name the person gave it. Challenges are not stored here: they travel sealed in the page and are
-- spent in the ReplayGuard Durable Object (src/passkeys/challenge.ts).
CREATE TABLE passkeys (
  credential_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  public_key TEXT NOT NULL,
  counter INTEGER NOT NULL DEFAULT 0,
  backup_eligible INTEGER NOT NULL,
  backed_up INTEGER NOT NULL,
  transports TEXT NOT NULL DEFAULT '[]',
  aaguid TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

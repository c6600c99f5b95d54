-- Migration 0002: password reset links (src/users/password-reset.ts).
--
-- A link carries a single-use token of 256 random bits; only its SHA-256 is stored. It is bound to
-- the user and to the address it was mailed to (an address changed since then makes it useless),
-- lives 30 minutes, and is consumed by one conditional UPDATE, so of concurrent uses exactly one
-- sets the password. Setting a password (by any way) uses up every other open link of the person.
CREATE TABLE IF NOT EXISTS password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  email TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE INDEX IF NOT EXISTS password_resets_user ON password_resets (user_id);
CREATE INDEX IF NOT EXISTS password_resets_expiry ON password_resets (expires_at);

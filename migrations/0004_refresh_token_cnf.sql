-- Migration 0004: the sender constraint recorded with each refresh token (src/tokens/minter.ts).
--
-- `cnf` is the confirmation claim (RFC 7800 §3.1) the tokens were bound to, as JSON: {"jkt": …} for
-- a DPoP key (RFC 9449 §6.1) or {"x5t#S256": …} for a client certificate (RFC 8705 §3.1); NULL for
-- Bearer tokens (every token before this migration, and every token today). A rotation copies it to
-- the successor, so a whole family stays bound to the one key.
ALTER TABLE refresh_tokens ADD COLUMN cnf TEXT;

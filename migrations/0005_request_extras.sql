-- Migration 0005: what an authorization request granted beyond its scope, kept with each refresh
-- token so every rotation mints tokens for the same grant (src/tokens/refresh-token.ts).
--
-- `resources` are the RFC 8707 resource indicators granted, as a JSON array of absolute URIs; a
-- refresh request may name any one of them as its access token's `aud` (RFC 8707 §2.2). NULL when
-- none were granted (every token before this migration): its access tokens get the default audience.
-- `authorization_details` are the RFC 9396 authorization details granted, as a JSON array of
-- objects (§7: the refreshed access token carries them again); NULL when none were granted.
ALTER TABLE refresh_tokens ADD COLUMN resources TEXT;
ALTER TABLE refresh_tokens ADD COLUMN authorization_details TEXT;

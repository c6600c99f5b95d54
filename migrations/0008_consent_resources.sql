-- Migration 0008: consent is per scope and per resource (RFC 8707 §2; OIDC Core §3.1.2.4). The
-- resources (RESOURCES, src/authorize/resource.ts) a person consented to a client using, as a JSON
-- array of URIs; NULL = none (every consent given before this migration). A request naming a
-- resource not listed here shows the consent page again (src/consent/store.ts covers).
ALTER TABLE consents ADD COLUMN resources TEXT;

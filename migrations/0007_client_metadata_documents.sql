-- Migration 0007: client ID metadata documents (draft-ietf-oauth-client-id-metadata-document;
-- src/clients/metadata-document.ts). One row per client_id URL the server has resolved or the
-- operator has blocked. The row is the shared cache every isolate reads (docs/storage.md):
--
--   client      the client as the last valid document described it, after the one metadata
--               validator (JSON of src/clients/model.ts Client); NULL until a valid document was
--               fetched (an operator may block a URL never seen). Errors are never stored (§4.4).
--   fetched_at  when that document was fetched; expires_at  until when it is fresh (its HTTP
--               caching headers, clamped to the configured bounds).
--   forced_at   the last refetch an unknown `kid` in a client assertion caused (one per interval).
--   first_seen, last_seen  the first and latest use (last_seen is updated at most every few minutes).
--   blocked     1: the operator blocked this client; it resolves as a disabled client.
CREATE TABLE client_metadata_documents (
  client_id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  client_name TEXT,
  client TEXT,
  fetched_at INTEGER,
  expires_at INTEGER NOT NULL DEFAULT 0,
  forced_at INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  blocked INTEGER NOT NULL DEFAULT 0
);

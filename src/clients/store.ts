import type { JSONWebKeySet } from "jose";
import type { AuthMethod, Client } from "./model";

/** Storage port for clients. */
export interface ClientStore {
  get(clientId: string): Promise<Client | null>;
  /** Insert or replace the whole registration (and its CORS origins). */
  put(client: Client): Promise<void>;
  /** Whether any client may call the token endpoint from this browser origin (CORS preflight). */
  allowsOrigin(origin: string): Promise<boolean>;
  /**
   * Looks again at a client whose keys may have changed (an unknown `kid`): a client ID metadata
   * document is refetched (src/clients/metadata-document.ts, at most once per interval); null when
   * there is nothing to look at again. Stores without such clients leave it out.
   */
  refresh?(clientId: string): Promise<Client | null>;
}

interface ClientRow {
  client_id: string;
  client_name: string | null;
  token_endpoint_auth_method: string;
  token_endpoint_auth_signing_alg: string | null;
  client_secret_hash: string | null;
  client_secret_sealed: string | null;
  client_secret_expires_at: number;
  grant_types: string;
  response_types: string;
  redirect_uris: string;
  scope: string;
  jwks: string | null;
  jwks_uri: string | null;
  tls_client_auth_subject_dn: string | null;
  metadata: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}

/** Fields kept in the `metadata` JSON column (added after the first schema; no migration needed). */
interface StoredMetadata {
  application_type?: "web" | "native";
  id_token_signed_response_alg?: string;
  first_party?: boolean;
  allow_plain_pkce?: boolean;
  plain_oauth2?: boolean;
  allowed_cors_origins?: string[];
  post_logout_redirect_uris?: string[];
  [other: string]: unknown;
}

function fromRow(row: ClientRow): Client {
  const {
    application_type, id_token_signed_response_alg, first_party, allow_plain_pkce, plain_oauth2,
    allowed_cors_origins, post_logout_redirect_uris, ...rest
  } = JSON.parse(row.metadata) as StoredMetadata;
  return {
    ...baseFromRow(row),
    applicationType: application_type ?? "web",
    idTokenSignedResponseAlg: id_token_signed_response_alg ?? "RS256",
    firstParty: first_party ?? false,
    allowPlainPkce: allow_plain_pkce ?? false,
    plainOAuth2: plain_oauth2 ?? false,
    allowedCorsOrigins: allowed_cors_origins ?? [],
    postLogoutRedirectUris: post_logout_redirect_uris ?? [],
    metadata: rest,
  };
}

function toMetadata(c: Client): StoredMetadata {
  return {
    ...c.metadata,
    application_type: c.applicationType,
    id_token_signed_response_alg: c.idTokenSignedResponseAlg,
    first_party: c.firstParty,
    allow_plain_pkce: c.allowPlainPkce,
    plain_oauth2: c.plainOAuth2,
    allowed_cors_origins: c.allowedCorsOrigins,
    post_logout_redirect_uris: c.postLogoutRedirectUris,
  };
}

/** The browser origins a client may call the token endpoint from: its web redirect URIs' and its allow-list. */
export function corsOrigins(c: Client): string[] {
  const origins = new Set(c.allowedCorsOrigins);
  for (const uri of c.redirectUris) {
    try {
      const url = new URL(uri);
      if (url.protocol === "https:" || url.protocol === "http:") origins.add(url.origin);
    } catch {
      // Registration validated these; an unparsable one simply contributes no origin.
    }
  }
  return [...origins];
}

const baseFromRow = (row: ClientRow): Omit<Client, "applicationType" | "idTokenSignedResponseAlg" | "firstParty" | "allowPlainPkce" | "plainOAuth2" | "allowedCorsOrigins" | "postLogoutRedirectUris"> => ({
  clientId: row.client_id,
  clientName: row.client_name,
  authMethod: row.token_endpoint_auth_method as AuthMethod,
  authSigningAlg: row.token_endpoint_auth_signing_alg,
  secretHash: row.client_secret_hash,
  secretSealed: row.client_secret_sealed,
  secretExpiresAt: row.client_secret_expires_at,
  grantTypes: JSON.parse(row.grant_types) as string[],
  responseTypes: JSON.parse(row.response_types) as string[],
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  scope: row.scope ? row.scope.split(" ") : [],
  jwks: row.jwks ? (JSON.parse(row.jwks) as JSONWebKeySet) : null,
  jwksUri: row.jwks_uri,
  tlsSubjectDn: row.tls_client_auth_subject_dn,
  metadata: {},
  disabled: row.disabled === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export function d1ClientStore(db: D1Database): ClientStore {
  return {
    async get(clientId) {
      const row = await db.prepare("SELECT * FROM clients WHERE client_id = ?").bind(clientId).first<ClientRow>();
      return row ? fromRow(row) : null;
    },
    async put(c) {
      forget(c.clientId);
      const origins = corsOrigins(c);
      await db.batch([
        db
        .prepare(
          `INSERT OR REPLACE INTO clients (client_id, client_name, token_endpoint_auth_method, token_endpoint_auth_signing_alg,
             client_secret_hash, client_secret_sealed, client_secret_expires_at, grant_types, response_types, redirect_uris,
             scope, jwks, jwks_uri, tls_client_auth_subject_dn, metadata, disabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(
          c.clientId, c.clientName, c.authMethod, c.authSigningAlg, c.secretHash, c.secretSealed, c.secretExpiresAt,
          JSON.stringify(c.grantTypes), JSON.stringify(c.responseTypes), JSON.stringify(c.redirectUris), c.scope.join(" "),
          c.jwks ? JSON.stringify(c.jwks) : null, c.jwksUri, c.tlsSubjectDn, JSON.stringify(toMetadata(c)), c.disabled ? 1 : 0,
          c.createdAt, c.updatedAt,
        ),
        db.prepare("DELETE FROM client_origins WHERE client_id = ?").bind(c.clientId),
        ...origins.map((o) => db.prepare("INSERT INTO client_origins (origin, client_id) VALUES (?, ?)").bind(o, c.clientId)),
      ]);
    },
    async allowsOrigin(origin) {
      return (await db.prepare("SELECT 1 FROM client_origins WHERE origin = ? LIMIT 1").bind(origin).first()) !== null;
    },
  };
}

/** A bounded isolate-level map whose entries are fresh for `ttl` seconds after they were stored. Cleared when full. */
function isolateCache<V>(max: number) {
  const entries = new Map<string, { at: number; value: V }>();
  return {
    get(key: string, now: number, ttl: number): V | undefined {
      const hit = entries.get(key);
      return hit && now >= hit.at && now - hit.at < ttl ? hit.value : undefined;
    },
    set(key: string, value: V, now: number): void {
      if (entries.size >= max) entries.clear();
      entries.set(key, { at: now, value });
    },
    delete: (key: string) => void entries.delete(key),
    clear: () => entries.clear(),
  };
}

/**
 * An isolate-level cache in front of a ClientStore, for the token endpoint's hot path: a D1 read
 * and the row's JSON decoding were most of a client_credentials request's CPU (docs/performance.md).
 * Entries live `ttl` seconds; `put` through this store drops its entry at once in this isolate, and
 * other isolates see a change (a rotated secret, a disabled client) within `ttl`. Unknown ids are
 * not cached, so a client is usable the moment it is registered. Bounded: cleared at 1000 entries.
 *
 * The browser origins allowed to call the token endpoint (CORS preflights and cross-origin error
 * answers) are cached the same way: an allowed origin for `ttl` seconds, an unknown one never (so a
 * newly registered origin works at once); any `put` drops them all, since a changed client may have
 * lost an origin.
 */
const clientCache = isolateCache<Client>(1000);
const allowedOrigins = isolateCache<true>(1000);

export function cachedClientStore(inner: ClientStore, now: number, ttl: number): ClientStore {
  return {
    async get(clientId) {
      const hit = clientCache.get(clientId, now, ttl);
      if (hit) return hit;
      const client = await inner.get(clientId);
      if (client === null) clientCache.delete(clientId);
      else clientCache.set(clientId, client, now);
      return client;
    },
    async put(client) {
      await inner.put(client);
      forget(client.clientId);
    },
    async refresh(clientId) {
      const client = (await inner.refresh?.(clientId)) ?? null;
      if (client !== null) clientCache.set(clientId, client, now);
      return client;
    },
    async allowsOrigin(origin) {
      if (allowedOrigins.get(origin, now, ttl)) return true;
      const allowed = await inner.allowsOrigin(origin);
      if (allowed) allowedOrigins.set(origin, true, now);
      else allowedOrigins.delete(origin);
      return allowed;
    },
  };
}

/** After a client changed: its cached registration and every cached origin go, in this isolate. */
function forget(clientId: string): void {
  clientCache.delete(clientId);
  allowedOrigins.clear();
}

/** Drops every cached client and origin in this isolate (after an operator change; tests). */
export function clearClientCache(): void {
  clientCache.clear();
  allowedOrigins.clear();
}

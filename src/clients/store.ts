import type { JSONWebKeySet } from "jose";
import type { AuthMethod, Client } from "./model";

/** Storage port for clients. */
export interface ClientStore {
  get(clientId: string): Promise<Client | null>;
  /** Insert or replace the whole registration. */
  put(client: Client): Promise<void>;
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

const fromRow = (row: ClientRow): Client => ({
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
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
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
      await db
        .prepare(
          `INSERT OR REPLACE INTO clients (client_id, client_name, token_endpoint_auth_method, token_endpoint_auth_signing_alg,
             client_secret_hash, client_secret_sealed, client_secret_expires_at, grant_types, response_types, redirect_uris,
             scope, jwks, jwks_uri, tls_client_auth_subject_dn, metadata, disabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(
          c.clientId, c.clientName, c.authMethod, c.authSigningAlg, c.secretHash, c.secretSealed, c.secretExpiresAt,
          JSON.stringify(c.grantTypes), JSON.stringify(c.responseTypes), JSON.stringify(c.redirectUris), c.scope.join(" "),
          c.jwks ? JSON.stringify(c.jwks) : null, c.jwksUri, c.tlsSubjectDn, JSON.stringify(c.metadata), c.disabled ? 1 : 0,
          c.createdAt, c.updatedAt,
        )
        .run();
    },
  };
}

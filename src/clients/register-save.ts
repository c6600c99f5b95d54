import { seal } from "../crypto/aead";
import { randomToken } from "../crypto/encoding";
import { hashForStorage } from "../crypto/hash";
import { SECRET_METHODS, type Client } from "./model";
import { OPERATOR_METADATA_MEMBERS, validateClientMetadata, type ClientInput, type RegisterDeps, type ValidMetadata } from "./register";

/**
 * Storing a registration: the one way a client is written, after the one metadata validator
 * (src/clients/register.ts). The server assigns the client_id (unless the operator chose one) and
 * issues or keeps the secret.
 */

export interface RegisterOptions {
  /** The client being replaced (RFC 7592 PUT, operator PUT): keeps its client_id_issued_at. */
  existing?: Client | null;
  /** "dynamic": the client_id of the client being replaced (from its registration_client_uri). */
  clientId?: string;
  /**
   * What happens to an existing secret when the method still uses one: "rotate" (default; what
   * the operator PUT always did) issues a new one, "keep" keeps the stored one.
   */
  secret?: "rotate" | "keep";
  /** The current secret as the client sent it (already checked against the stored hash), so a switch to client_secret_jwt can seal it. */
  currentSecret?: string;
}

export interface Registered {
  client: Client;
  /** Present when a secret was issued; shown once, stored only as a hash (and sealed for client_secret_jwt). */
  clientSecret?: string;
}

/** 64 random bytes: long enough for HS512 (RFC 7518 §3.2) when used by client_secret_jwt. */
const SECRET_BYTES = 64;

/**
 * Validates and stores a registration (insert, or full replacement of `options.existing`).
 * Returns the client and, when one was issued, the secret in clear (shown once).
 */
export async function registerClient(deps: RegisterDeps, input: ClientInput, options: RegisterOptions = {}): Promise<Registered> {
  return saveRegistration(deps, await validateClientMetadata(input, deps), options);
}

/** Stores validated metadata: assigns the client_id (unless given) and issues or keeps the secret. */
export async function saveRegistration(deps: RegisterDeps, valid: ValidMetadata, options: RegisterOptions = {}): Promise<Registered> {
  const op = valid.operator;
  const clientId = op?.clientId ?? options.clientId ?? randomToken(16);
  const existing = options.existing !== undefined ? options.existing : await deps.store.get(clientId);
  const method = valid.authMethod;

  let clientSecret: string | undefined;
  let secretHash: string | null = null;
  let secretSealed: string | null = null;
  let secretExpiresAt = op?.clientSecretExpiresAt ?? 0;
  if (SECRET_METHODS.includes(method)) {
    const keep = options.secret === "keep" && existing?.secretHash && op?.clientSecret === undefined &&
      (method !== "client_secret_jwt" || existing.secretSealed !== null || options.currentSecret !== undefined);
    if (keep) {
      secretHash = existing.secretHash;
      secretExpiresAt = op?.clientSecretExpiresAt ?? existing.secretExpiresAt;
      if (method === "client_secret_jwt") {
        secretSealed = existing.secretSealed ?? (await seal(deps.encryptionKey, "client-secret", clientId, options.currentSecret!));
      }
    } else {
      clientSecret = op?.clientSecret ?? randomToken(SECRET_BYTES);
      // RFC 7591 §3.2.1: a secret the registration endpoint issues (or rotates) lives config.dynamicClientSecretTtl.
      if (op === undefined && deps.dynamicSecretTtl) secretExpiresAt = deps.now + deps.dynamicSecretTtl;
      secretHash = await hashForStorage(clientSecret);
      if (method === "client_secret_jwt") secretSealed = await seal(deps.encryptionKey, "client-secret", clientId, clientSecret);
    }
  }

  // A client replacing its own registration keeps what only the operator may set.
  const kept = op ?? {
    firstParty: existing?.firstParty ?? false,
    allowPlainPkce: existing?.allowPlainPkce ?? false,
    plainOAuth2: existing?.plainOAuth2 ?? false,
    allowedCorsOrigins: existing?.allowedCorsOrigins ?? [],
  };
  const client: Client = {
    clientId,
    clientName: valid.clientName,
    authMethod: method,
    authSigningAlg: valid.authSigningAlg,
    secretHash,
    secretSealed,
    secretExpiresAt: secretHash === null ? 0 : secretExpiresAt,
    grantTypes: valid.grantTypes,
    responseTypes: valid.responseTypes,
    redirectUris: valid.redirectUris,
    scope: valid.scope,
    jwks: valid.jwks,
    jwksUri: valid.jwksUri,
    tlsSubjectDn: valid.tlsSubjectDn,
    applicationType: valid.applicationType,
    idTokenSignedResponseAlg: valid.idTokenSignedResponseAlg,
    firstParty: kept.firstParty,
    allowPlainPkce: kept.allowPlainPkce,
    plainOAuth2: kept.plainOAuth2,
    allowedCorsOrigins: kept.allowedCorsOrigins,
    postLogoutRedirectUris: valid.postLogoutRedirectUris,
    metadata: op ? valid.metadata : { ...valid.metadata, ...operatorMetadataOf(existing) },
    disabled: op ? false : (existing?.disabled ?? false),
    createdAt: existing?.createdAt ?? deps.now,
    updatedAt: deps.now,
  };
  await deps.store.put(client);
  return clientSecret === undefined ? { client } : { client, clientSecret };
}

/** The operator-only metadata members of a stored client, kept when it replaces its own registration. */
function operatorMetadataOf(client: Client | null | undefined): Record<string, unknown> {
  if (!client) return {};
  return Object.fromEntries(OPERATOR_METADATA_MEMBERS.filter((m) => client.metadata[m] !== undefined).map((m) => [m, client.metadata[m]]));
}

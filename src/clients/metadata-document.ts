import type { Config } from "../config";
import { decodeJsonObject } from "../crypto/encoding";
import { OAuthError, ensure } from "../errors/oauth-error";
import { OutboundError, outboundFetch } from "../http/outbound";
import { log } from "../log";
import { documentTable, type DocumentRow, type DocumentTable } from "./metadata-document-table";
import type { Client } from "./model";
import { isLoopbackHost } from "./redirect-uris";
import { validateClientMetadata } from "./register";
import type { ClientStore } from "./store";

/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document-00, which MCP's
 * authorization rules build on): a `client_id` that is an https URL names a JSON document, served
 * by the client, holding its metadata. Section numbers below are -00's.
 *
 * Resolution happens in ONE place, the client store (`metadataDocumentClientStore`, built in
 * src/services.ts), so every endpoint that looks a client up — authorize, PAR, token, revocation,
 * introspection, the interaction pages, logout — works with such a client as with a registered one.
 * A registered client wins: an operator may register a URL as a client_id (§6 "pre-registering").
 *
 * - §3: https (http on a loopback host only with ALLOW_INSECURE_CLIENT_URIS, local tests), a path
 *   other than "/", no `.`/`..` segments, fragment, user name or password; and, so that what is
 *   fetched, compared and stored is one string, the URL as the WHATWG parser writes it.
 * - §4, §6.5, §6.6: fetched only through the outbound policy (src/http/outbound.ts: a public host,
 *   no redirects, a deadline, 5 KiB at most), 200 only; the operator's host policy (§6.8) first.
 * - §4.1: a JSON object whose `client_id` is the URL exactly; its metadata through THE metadata
 *   validator (src/clients/register.ts, origin "document": `none` or `private_key_jwt`, no secret).
 * - §4.4: kept in D1 (every isolate) for as long as its HTTP caching headers say, within
 *   config.clientIdMetadataDocuments' bounds; errors and invalid documents are never kept, and a
 *   document that cannot be fetched again once expired makes the client unusable (§4.3).
 * - Loopback redirect URIs on any port (RFC 8252 §7.3) only where the document says
 *   `application_type: native`; a web document's redirect URIs are https and matched exactly.
 */

/** Marks a Client resolved from a document (in its metadata; never settable by a document, unknown members are dropped). */
const FROM_DOCUMENT = "client_id_metadata_document";

/** A client resolved from a client ID metadata document (not registered with this server). */
export const isMetadataDocumentClient = (client: Client): boolean => client.metadata[FROM_DOCUMENT] === true;

/** Only ids that start like a URL are looked at as documents; every other unknown id stays unknown. */
const looksLikeUrl = (clientId: string): boolean => /^https?:\/\//i.test(clientId);

/** The first §3 rule `clientId` breaks, in words, or undefined. */
export function clientIdUrlProblem(clientId: string, allowInsecure: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "it is not a URL";
  }
  const localHttp = allowInsecure && url.protocol === "http:" && isLoopbackHost(url.hostname);
  if (url.protocol !== "https:" && !localHttp) return "it must use https";
  if (url.username !== "" || url.password !== "") return "it must not contain a user name or password";
  if (clientId.includes("#")) return "it must not contain a fragment";
  const rawPath = clientId.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "").split("?")[0]!;
  if (rawPath.split("/").some((segment) => segment === "." || segment === "..")) return "it must not contain . or .. path segments";
  if (url.pathname === "/" || rawPath === "") return "it must have a path (https://app.example/client.json)";
  if (url.href !== clientId) return `it must be written in normal form: ${url.href}`;
  return undefined;
}

const hostMatches = (host: string, pattern: string): boolean =>
  pattern.startsWith("*.") ? host.endsWith(pattern.slice(1)) : host === pattern;

/** The operator's domain trust policy (§6.8): blocked hosts never, and only allowed hosts when there is an allow-list. */
export function hostAccepted(host: string, policy: Config["clientIdMetadataDocuments"]): boolean {
  if (policy.hostsBlocked.some((p) => hostMatches(host, p))) return false;
  return policy.hostsAllowed.length === 0 || policy.hostsAllowed.some((p) => hostMatches(host, p));
}

/**
 * How long a fetched document stays fresh, in seconds (§4.4, RFC 9111 §4.2.1): `no-store` or
 * `no-cache` → none; else `max-age`; else `Expires` − `Date` (an invalid Expires is already
 * expired, §5.3); then clamped to [minTtl, maxTtl], so nothing is refetched on every lookup and
 * nothing kept for ever.
 */
export function freshnessLifetime(headers: Headers, bounds: { minTtl: number; maxTtl: number }): number {
  const directives = (headers.get("cache-control") ?? "").toLowerCase().split(",").map((d) => d.trim());
  let lifetime = 0;
  if (!directives.some((d) => d === "no-store" || d === "no-cache" || d.startsWith("no-cache="))) {
    const maxAge = directives.map((d) => /^max-age\s*=\s*"?(\d+)"?$/.exec(d)).find((m) => m !== null);
    if (maxAge) {
      lifetime = Number(maxAge[1]);
    } else if (headers.has("expires")) {
      const expires = Date.parse(headers.get("expires")!);
      const date = Date.parse(headers.get("date") ?? "");
      if (!Number.isNaN(expires)) lifetime = Math.floor((expires - (Number.isNaN(date) ? Date.now() : date)) / 1000);
    }
  }
  return Math.min(bounds.maxTtl, Math.max(bounds.minTtl, lifetime));
}

export interface MetadataDocumentDeps {
  db: D1Database;
  config: Config;
  now: number;
  /**
   * Never fetch: a document client as it was last fetched (even when no longer fresh), or unknown.
   * For pages and operator views that come after the endpoint that resolved it (consent, device
   * and CIBA approval, grants), which need its name and URLs, not a new fetch.
   */
  offline?: boolean;
}

/** A client store that also resolves client ID metadata documents (see above). */
export interface DocumentAwareClientStore extends ClientStore {
  /** Refetches a document client's document (an unknown `kid`), at most once per refetchInterval; null for other clients. */
  refresh(clientId: string): Promise<Client | null>;
}

export function metadataDocumentClientStore(inner: ClientStore, deps: MetadataDocumentDeps): DocumentAwareClientStore {
  const table = documentTable(deps.db);
  const usable = (clientId: string) => deps.config.clientIdMetadataDocuments.enabled && looksLikeUrl(clientId);
  return {
    async get(clientId) {
      const registered = await inner.get(clientId);
      if (registered !== null || !usable(clientId)) return registered;
      return resolve(clientId, table, deps, false);
    },
    put: (client) => inner.put(client),
    async allowsOrigin(origin) {
      if (await inner.allowsOrigin(origin)) return true;
      return deps.config.clientIdMetadataDocuments.enabled && /^https?:\/\/[^/?#]+$/.test(origin) && table.allowsOrigin(origin);
    },
    async refresh(clientId) {
      if (!usable(clientId) || (await inner.get(clientId)) !== null) return null;
      return resolve(clientId, table, deps, true);
    },
  };
}

/** Fetches in progress in this isolate, by URL: concurrent lookups of one document share one fetch. */
const inflight = new Map<string, Promise<Client>>();

async function resolve(clientId: string, table: DocumentTable, deps: MetadataDocumentDeps, forced: boolean): Promise<Client | null> {
  const policy = deps.config.clientIdMetadataDocuments;
  const problem = clientIdUrlProblem(clientId, deps.config.allowInsecureClientUris);
  if (problem !== undefined) throw new OAuthError("client_id_metadata_document_url_invalid", `client_id ${clientId}: ${problem}.`);
  const host = new URL(clientId).hostname;
  ensure(hostAccepted(host, policy), "client_id_metadata_document_host_not_allowed",
    `This server does not accept client ID metadata documents from ${host}.`);
  const row = await table.get(clientId);
  if (row?.blocked) return blockedClient(row, deps.now);
  if (deps.offline) return row?.client ? (JSON.parse(row.client) as Client) : null;
  if (row?.client && row.expires_at > deps.now) {
    if (!forced || !(await table.claimRefetch(clientId, deps.now, policy.refetchInterval))) {
      await table.seen(row, deps.now);
      return JSON.parse(row.client) as Client;
    }
  }
  let fetching = inflight.get(clientId);
  if (fetching === undefined) {
    fetching = fetchDocument(clientId, host, row, table, deps);
    inflight.set(clientId, fetching);
    const done = () => void inflight.delete(clientId);
    fetching.then(done, done);
  }
  return fetching;
}

/** A client the operator blocked: known, but disabled everywhere (the token endpoint says client_disabled). */
function blockedClient(row: DocumentRow, now: number): Client {
  if (row.client !== null) return { ...(JSON.parse(row.client) as Client), disabled: true };
  return {
    clientId: row.client_id, clientName: null, authMethod: "none", authSigningAlg: null, secretHash: null, secretSealed: null,
    secretExpiresAt: 0, grantTypes: [], responseTypes: [], redirectUris: [], scope: [], jwks: null, jwksUri: null,
    tlsSubjectDn: null, applicationType: "web", idTokenSignedResponseAlg: "RS256", firstParty: false, allowPlainPkce: false,
    plainOAuth2: false, allowedCorsOrigins: [], postLogoutRedirectUris: [], metadata: { [FROM_DOCUMENT]: true }, disabled: true,
    createdAt: row.first_seen, updatedAt: now,
  };
}

async function fetchDocument(clientId: string, host: string, row: DocumentRow | null, table: DocumentTable, deps: MetadataDocumentDeps): Promise<Client> {
  const { config, now } = deps;
  const policy = config.clientIdMetadataDocuments;
  let answer;
  try {
    answer = await outboundFetch(clientId, {
      purpose: "client ID metadata document",
      accept: "application/json",
      maxBytes: policy.maxBytes,
      timeoutMs: policy.timeoutMs,
      okStatus: [200],
    }, { allowInsecure: config.allowInsecureClientUris });
  } catch (cause) {
    if (!(cause instanceof OutboundError)) throw cause;
    log("warn", "client_id_metadata_document_fetch_failed", { client_id: clientId, reason: cause.reason });
    throw new OAuthError(cause.failure === "forbidden_url" ? "client_id_metadata_document_forbidden" : "client_id_metadata_document_unreachable",
      `${clientId}: ${cause.message}`, { cause });
  }
  const document = decodeJsonObject(answer.body);
  ensure(document !== undefined, "client_id_metadata_document_not_json", `${clientId} did not answer with a JSON object.`);
  ensure(document.client_id === clientId, "client_id_metadata_document_client_id_mismatch",
    `The document at ${clientId} names client_id ${String(document.client_id).slice(0, 200)}; it must be its own URL exactly.`);
  let valid;
  try {
    valid = await validateClientMetadata(document, {
      store: { get: async () => null, put: async () => {}, allowsOrigin: async () => false },
      encryptionKey: "",
      now,
      allowInsecureUris: config.allowInsecureClientUris,
      origin: "document",
      registrationScopes: config.registrationScopes,
      softwareStatementKeys: config.softwareStatementKeys,
      sectorIdentifierFetch: config.sectorIdentifierFetch,
      clockSkew: config.clockSkew,
      authorizationDetailsTypes: config.authorizationDetailsTypes,
    });
  } catch (cause) {
    if (!(cause instanceof OAuthError)) throw cause;
    throw new OAuthError("client_id_metadata_document_invalid", `${cause.message} (${cause.code})`, { cause });
  }
  const { operator: _none, ...metadata } = valid;
  const client: Client = {
    ...metadata,
    clientId,
    secretHash: null,
    secretSealed: null,
    secretExpiresAt: 0,
    firstParty: false,
    allowPlainPkce: false,
    plainOAuth2: false,
    allowedCorsOrigins: [],
    metadata: { ...metadata.metadata, [FROM_DOCUMENT]: true },
    disabled: false,
    createdAt: row?.first_seen ?? now,
    updatedAt: now,
  };
  await table.store(client, host, now, now + freshnessLifetime(answer.headers, policy));
  return client;
}

/**
 * At the authorization endpoint a client that cannot be used is an error page, never a redirect
 * (RFC 6749 §4.1.2.1; §4.3: abort the request): the document's invalid_client becomes the page's
 * `authorize_unusable_client`, naming the rule it broke.
 */
export function unusableClientPage(err: unknown): never {
  if (err instanceof OAuthError && err.entry.error === "invalid_client") {
    throw new OAuthError("authorize_unusable_client", `${err.message} (${err.code})`, { cause: err });
  }
  throw err;
}

import { importJWK, type JWK, type JSONWebKeySet, type ProtectedHeaderParameters } from "jose";
import type { Client } from "../clients/model";
import { OAuthError } from "../errors/oauth-error";
import { MIN_RSA_BITS, rsaModulusBits } from "../keys/algorithms";
import { log } from "../log";
import { decodeUtf8 } from "../crypto/encoding";
import { OutboundError, outboundFetch } from "../http/outbound";
import { matchingKeys } from "../tokens/verify-jwt";
import type { ClientAuthDeps } from "./types";

/**
 * A client's verification keys: its registered `jwks`, or its `jwks_uri` fetched through the
 * outbound-fetch policy (src/http/outbound.ts: a public https host, a timeout, a 64 KiB bound, no
 * redirects; a URL stored before the policy is refused without a fetch, jwks_uri_forbidden) and
 * kept in an isolate-level cache. An assertion whose `kid` is not in a cached set triggers
 * one refetch (the client may have rotated); such forced refetches happen at most once per
 * `REFETCH_FLOOR` seconds per URI, so random kids cannot turn us into a request amplifier.
 * A client ID metadata document's client whose keys still lack the `kid` has its document
 * refetched (ClientStore.refresh: at most once per config.clientIdMetadataDocuments.refetchInterval),
 * since its `jwks` or `jwks_uri` may have changed, and the key is chosen from what it says now.
 */
const REFETCH_FLOOR = 30;
const MAX_JWKS_BYTES = 64 * 1024;
const PUBLIC_MEMBERS = ["kty", "crv", "x", "y", "n", "e", "kid", "alg", "use", "key_ops", "x5c"] as const;

interface Fetched {
  fetchedAt: number;
  /** When the last refetch forced by an unknown kid happened. */
  forcedAt: number;
  keys: Promise<JWK[]>;
}
const remote = new Map<string, Fetched>();
/** Keys already chosen from a key set (by alg and kid), for as long as that set is in memory. */
const chosenKeys = new WeakMap<JWK[], Map<string, Promise<CryptoKey>>>();

export function clearClientKeyCaches(): void {
  remote.clear();
}

export async function clientVerificationKey(
  client: Client,
  header: ProtectedHeaderParameters,
  deps: ClientAuthDeps,
): Promise<CryptoKey> {
  try {
    return await verificationKey(client, header, deps);
  } catch (err) {
    if (!(err instanceof OAuthError && err.code === "client_assertion_invalid_kid") || deps.clients.refresh === undefined) throw err;
    const refreshed = await deps.clients.refresh(client.clientId);
    if (refreshed === null || refreshed.disabled) throw err;
    return verificationKey(refreshed, header, deps);
  }
}

async function verificationKey(client: Client, header: ProtectedHeaderParameters, deps: ClientAuthDeps): Promise<CryptoKey> {
  const alg = header.alg!;
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== "string") throw new OAuthError("client_assertion_invalid_kid");
  let keys: JWK[];
  if (client.jwks) {
    keys = validSet(client.jwks);
  } else if (client.jwksUri) {
    keys = await fetchKeys(client.jwksUri, deps, false);
    if (kid !== undefined && !keys.some((k) => k.kid === kid)) {
      keys = await fetchKeys(client.jwksUri, deps, true);
    }
  } else {
    throw new OAuthError("client_assertion_jwks_not_configured");
  }
  // A key chosen for this set, alg and kid is chosen again from the same set the same way: keep it
  // for as long as the set itself is kept (the client's registration, or the fetched jwks_uri).
  let chosen = chosenKeys.get(keys);
  if (chosen === undefined) chosenKeys.set(keys, (chosen = new Map()));
  const memo = kid === undefined ? alg : `${alg} ${kid}`;
  let key = chosen.get(memo);
  if (key === undefined) {
    key = importPublic(chooseKey(keys, alg, kid), alg);
    chosen.set(memo, key);
    key.catch(() => chosen.delete(memo));
  }
  return key;
}

/**
 * The one key of `keys` that can verify `alg` (its type and curve, and its `alg`, `use` and
 * `key_ops` where given), and whose `kid` is the header's when the header names one.
 */
function chooseKey(keys: JWK[], alg: string, kid: string | undefined): JWK {
  const usable = matchingKeys(keys, alg, undefined);
  let candidates = usable;
  if (kid !== undefined) {
    candidates = usable.filter((k) => k.kid === kid);
    if (candidates.length === 0) throw new OAuthError("client_assertion_invalid_kid");
  }
  if (candidates.length === 0) throw new OAuthError("jwks_uri_no_key", `The client's JWK Set holds no key usable with ${alg}.`);
  if (candidates.length > 1) throw new OAuthError("client_assertion_ambiguous_key");
  const key = candidates[0]!;
  if (key.kty === "RSA" && rsaModulusBits(key.n) < MIN_RSA_BITS) {
    throw new OAuthError("client_assertion_invalid_jwks", `The client's RSA key must have a modulus of ${MIN_RSA_BITS} bits or more (RFC 7518 section 3.3).`);
  }
  return key;
}

function validSet(jwks: JSONWebKeySet | unknown): JWK[] {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === "object" && typeof k.kty === "string")) {
    throw new OAuthError("client_assertion_invalid_jwks");
  }
  return keys as JWK[];
}

/** The key's public members only, imported for `alg` (kept by the caller, in `chosenKeys`). */
function importPublic(jwk: JWK, alg: string): Promise<CryptoKey> {
  const pub: JWK = {};
  for (const member of PUBLIC_MEMBERS) if (jwk[member] !== undefined) (pub as Record<string, unknown>)[member] = jwk[member];
  return (importJWK(pub, alg) as Promise<CryptoKey>).catch((cause) => {
    throw new OAuthError("client_assertion_invalid_jwks", "A registered key could not be imported.", { cause });
  });
}

function fetchKeys(uri: string, deps: ClientAuthDeps, force: boolean): Promise<JWK[]> {
  const cached = remote.get(uri);
  if (cached && deps.now - cached.fetchedAt < deps.config.jwksCacheTtl) {
    if (!force || deps.now - cached.forcedAt < REFETCH_FLOOR) return cached.keys;
  }
  const keys = download(uri, deps);
  const entry = { fetchedAt: deps.now, forcedAt: force ? deps.now : -Infinity, keys };
  remote.set(uri, entry);
  keys.catch(() => {
    if (remote.get(uri) === entry) remote.delete(uri);
  });
  return keys;
}

async function download(uri: string, deps: ClientAuthDeps): Promise<JWK[]> {
  let bytes: Uint8Array;
  try {
    ({ body: bytes } = await outboundFetch(uri, {
      purpose: "jwks_uri",
      accept: "application/jwk-set+json, application/json",
      maxBytes: MAX_JWKS_BYTES,
      timeoutMs: deps.config.jwksFetchTimeoutMs,
      okStatus: [200],
    }, { allowInsecure: deps.config.allowInsecureClientUris }));
  } catch (cause) {
    if (!(cause instanceof OutboundError)) throw cause;
    log("warn", "jwks_uri_fetch_failed", { uri, reason: cause.reason });
    if (cause.failure === "forbidden_url") throw new OAuthError("jwks_uri_forbidden", undefined, { cause });
    throw new OAuthError("jwks_uri_error", cause.failure === "too_large" ? "The client's JWK Set is too large." : undefined, { cause });
  }
  const text = decodeUtf8(bytes);
  if (text === undefined) throw new OAuthError("client_assertion_invalid_jwks", "The client's JWK Set is not UTF-8.");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new OAuthError("client_assertion_invalid_jwks", "The client's jwks_uri did not return JSON.", { cause });
  }
  return validSet(parsed);
}

import { importJWK, type JWK } from "jose";
import { decodeJsonObject } from "../crypto/encoding";
import { readBounded } from "../http/body";
import { jwtFailure, matchingKeys, type KeyChoice } from "../tokens/verify-jwt";

/**
 * What the kit knows of the authorization server (Latchkey), fetched from it and cached per isolate:
 * its metadata (RFC 8414 §3) and its signing keys (the metadata's `jwks_uri`, RFC 7517 §5).
 *
 * The kit's fetch rule (it is not Latchkey's outbound policy, src/http/outbound.ts, which guards
 * URLs that clients supply): it fetches only URLs on the configured issuer's origin — the metadata
 * at the issuer's well-known URL, and the `jwks_uri` and `introspection_endpoint` that metadata
 * names, each refused unless on that origin. The issuer is https, or http on a loopback host
 * (127.0.0.0/8, ::1, localhost) for local development. No redirects (a 3xx is a failure), one
 * deadline per fetch, a bounded body.
 *
 * Caching: each document lives as its Cache-Control `max-age` says, clamped to [minTtl, maxTtl]
 * (no max-age, no-store or no-cache: minTtl). A token whose `kid` is not in the cached key set
 * refetches the set — at most once per `refetchInterval`, so tokens with made-up kids cannot turn
 * the resource server into a stream of requests to the issuer; a failed fetch is retried no sooner
 * than that either, and a key set fetched before stays in use while the issuer cannot be reached.
 * Concurrent requests share one fetch.
 */

export interface IssuerOptions {
  issuer: string;
  fetch: typeof fetch;
  /** Seconds (Unix time) now. */
  now: () => number;
  minTtl: number;
  maxTtl: number;
  refetchInterval: number;
  timeoutMs: number;
}

/** The issuer's metadata members the kit uses. */
export interface IssuerMetadata {
  jwks_uri: string;
  introspection_endpoint?: string;
}

/** The issuer could not be reached, or answered with something unusable: not the token's fault (503). */
export class IssuerUnavailable extends Error {
  override name = "IssuerUnavailable";
}

const MAX_BYTES = 64 * 1024;

/** Whether `issuer` is one the kit accepts: https, or http on a loopback host; no query, fragment or credentials. */
export function issuerProblem(issuer: string): string | undefined {
  if (!URL.canParse(issuer)) return "not an absolute URL";
  const url = new URL(issuer);
  if (url.search !== "" || issuer.includes("#") || url.username !== "" || url.password !== "") return "it must not have a query, fragment or credentials";
  if (url.protocol === "https:") return undefined;
  return url.protocol === "http:" && isLoopback(url.hostname) ? undefined : "it must use https (http only on a loopback host)";
}

const isLoopback = (host: string) => host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

/** The max-age of a response (RFC 9111 §5.2.2.1), 0 for no-store / no-cache, clamped to the bounds. */
export function freshness(headers: Headers, minTtl: number, maxTtl: number): number {
  const value = (headers.get("cache-control") ?? "").toLowerCase();
  if (/(^|,)\s*(no-store|no-cache)\b/.test(value)) return minTtl;
  const maxAge = /(^|,)\s*max-age\s*=\s*"?(\d+)"?/.exec(value);
  const seconds = maxAge === null ? minTtl : Number(maxAge[2]);
  return Math.min(maxTtl, Math.max(minTtl, seconds));
}

interface Cached<T> {
  value: T;
  fetchedAt: number;
  expiresAt: number;
}

interface KeySet {
  keys: JWK[];
  imported: Map<string, Promise<CryptoKey | undefined>>;
}

export class IssuerClient {
  private readonly origin: string;
  private metadataCache: Cached<IssuerMetadata> | undefined;
  private keysCache: Cached<KeySet> | undefined;
  private pendingMetadata: Promise<IssuerMetadata> | undefined;
  private pendingKeys: Promise<KeySet> | undefined;
  /** When the key set was last asked for from the issuer (success or not): the refetch limit counts from here. */
  private keysAttemptedAt = -Infinity;
  /** How many times each document was fetched (for tests and operators' curiosity). */
  readonly fetches = { metadata: 0, jwks: 0 };

  constructor(private readonly options: IssuerOptions) {
    this.origin = new URL(options.issuer).origin;
  }

  /** The issuer's metadata (RFC 8414 §3): fetched, checked (`issuer` exact, §3.3), cached. */
  metadata(): Promise<IssuerMetadata> {
    const now = this.options.now();
    if (this.metadataCache !== undefined && now < this.metadataCache.expiresAt) return Promise.resolve(this.metadataCache.value);
    this.pendingMetadata ??= this.fetchMetadata(now).finally(() => (this.pendingMetadata = undefined));
    return this.pendingMetadata;
  }

  private async fetchMetadata(now: number): Promise<IssuerMetadata> {
    const issuer = new URL(this.options.issuer);
    // RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
    const path = issuer.pathname === "/" ? "" : issuer.pathname.replace(/\/$/, "");
    try {
      const { body, ttl } = await this.getJson(`${issuer.origin}/.well-known/oauth-authorization-server${path}`);
      this.fetches.metadata++;
      if (body.issuer !== this.options.issuer) throw new IssuerUnavailable("the metadata's issuer is not the configured issuer (RFC 8414 3.3)");
      if (typeof body.jwks_uri !== "string") throw new IssuerUnavailable("the metadata has no jwks_uri");
      const value: IssuerMetadata = { jwks_uri: this.onIssuerOrigin(body.jwks_uri, "jwks_uri") };
      if (typeof body.introspection_endpoint === "string") {
        value.introspection_endpoint = this.onIssuerOrigin(body.introspection_endpoint, "introspection_endpoint");
      }
      this.metadataCache = { value, fetchedAt: now, expiresAt: now + ttl };
      return value;
    } catch (error) {
      // A document fetched before serves while the issuer cannot be reached.
      if (this.metadataCache !== undefined) return this.metadataCache.value;
      throw error;
    }
  }

  /**
   * The key for a token's header (RFC 7515 §4.1.4 `kid`, required; its `alg` must fit the key and
   * the key's own `alg`): from the cached set, or — for a kid not in it — from a fresh set, at most
   * once per refetchInterval. key_not_found when there is none.
   */
  async keyFor(header: Readonly<Record<string, unknown>>): Promise<KeyChoice> {
    const { kid, alg } = header;
    if (typeof kid !== "string" || kid.length === 0) return jwtFailure("key_not_found");
    const now = this.options.now();
    let set = await this.keySet(now, false);
    let found = pick(set, alg as string, kid);
    if (found === undefined && now - this.keysAttemptedAt >= this.options.refetchInterval) {
      set = await this.keySet(now, true);
      found = pick(set, alg as string, kid);
    }
    const key = found === undefined ? undefined : await importOnce(set, found, alg as string);
    return key ?? jwtFailure("key_not_found");
  }

  private keySet(now: number, refetch: boolean): Promise<KeySet> {
    const cached = this.keysCache;
    const fresh = cached !== undefined && now < cached.expiresAt;
    if (fresh && !refetch) return Promise.resolve(cached.value);
    // Expired (or never fetched) but asked for too recently: the old set, or the failure again.
    if (now - this.keysAttemptedAt < this.options.refetchInterval) {
      if (cached !== undefined) return Promise.resolve(cached.value);
      if (this.pendingKeys === undefined) return Promise.reject(new IssuerUnavailable("the issuer's keys could not be fetched; retrying later"));
    }
    this.pendingKeys ??= this.fetchKeys(now).finally(() => (this.pendingKeys = undefined));
    return this.pendingKeys;
  }

  private async fetchKeys(now: number): Promise<KeySet> {
    this.keysAttemptedAt = now;
    try {
      const { jwks_uri } = await this.metadata();
      const { body, ttl } = await this.getJson(jwks_uri);
      this.fetches.jwks++;
      if (!Array.isArray(body.keys)) throw new IssuerUnavailable("jwks_uri did not answer a JWK Set");
      const keys = (body.keys as unknown[]).filter((k): k is JWK => typeof k === "object" && k !== null && !Array.isArray(k));
      const value: KeySet = { keys, imported: new Map() };
      this.keysCache = { value, fetchedAt: now, expiresAt: now + ttl };
      return value;
    } catch (error) {
      if (this.keysCache !== undefined) return this.keysCache.value;
      throw error instanceof IssuerUnavailable ? error : new IssuerUnavailable("the issuer's keys could not be fetched", { cause: error });
    }
  }

  /** A URL the metadata names, allowed only on the issuer's origin (the kit's fetch rule). */
  private onIssuerOrigin(uri: string, member: string): string {
    if (!URL.canParse(uri) || new URL(uri).origin !== this.origin) throw new IssuerUnavailable(`the metadata's ${member} is not on the issuer's origin`);
    return uri;
  }

  /** GET (or POST with a form) a JSON object from the issuer's origin, without redirects, bounded in time and size. */
  async getJson(uri: string, init: { form?: URLSearchParams; authorization?: string } = {}): Promise<{ body: Record<string, unknown>; ttl: number }> {
    if (new URL(uri).origin !== this.origin) throw new IssuerUnavailable("the kit fetches from the issuer's origin only");
    const headers: Record<string, string> = { accept: "application/json" };
    if (init.authorization !== undefined) headers.authorization = init.authorization;
    if (init.form !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let response: Response;
    let bytes: Uint8Array | undefined;
    try {
      response = await this.options.fetch(uri, {
        method: init.form === undefined ? "GET" : "POST",
        headers,
        ...(init.form !== undefined && { body: init.form.toString() }),
        redirect: "manual",
        signal,
      });
      bytes = await readBounded(response.body, MAX_BYTES, signal);
    } catch (cause) {
      throw new IssuerUnavailable(`${uri} could not be fetched`, { cause });
    }
    if (response.status !== 200) throw new IssuerUnavailable(`${uri} answered ${response.status}`);
    const body = decodeJsonObject(bytes);
    if (body === undefined) throw new IssuerUnavailable(`${uri} did not answer a JSON object of at most ${MAX_BYTES} bytes`);
    return { body, ttl: freshness(response.headers, this.options.minTtl, this.options.maxTtl) };
  }
}

/** The one key of the set with this kid that can verify `alg` (none, or several: none). */
function pick(set: KeySet, alg: string, kid: string): JWK | undefined {
  const keys = matchingKeys(set.keys, alg, kid);
  return keys.length === 1 ? keys[0] : undefined;
}

function importOnce(set: KeySet, jwk: JWK, alg: string): Promise<CryptoKey | undefined> {
  const memo = `${jwk.kid} ${alg}`;
  let key = set.imported.get(memo);
  if (key === undefined) {
    // Only the public members reach Web Crypto.
    const members = jwk as Record<string, unknown>;
    const pub = Object.fromEntries(["kty", "crv", "x", "y", "n", "e"].filter((m) => typeof members[m] === "string").map((m) => [m, members[m]]));
    key = importJWK(pub as JWK, alg).then(
      (k) => (k instanceof CryptoKey ? k : undefined),
      () => undefined,
    );
    set.imported.set(memo, key);
  }
  return key;
}

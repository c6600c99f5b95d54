import { env } from "cloudflare:workers";
import fc from "fast-check";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { keyring, invalidateKeyring, type Keyring } from "../src/keys/keyring";
import { ensureSigningKeys } from "../src/keys/provision";
import { DEFAULT_PUBLISH_DELAY, KEYRING_RELOAD_SECONDS, rotateSigningKeys, rotationPolicy, type RotationPolicy } from "../src/keys/rotation";
import { d1KeyStore, type SigningKeyRow } from "../src/keys/store";
import { issueAccessToken } from "../src/tokens/access-token";
import { issueIdToken } from "../src/tokens/id-token";
import { verifyAccessToken } from "../src/tokens/verify-access-token";
import { ISSUER, call } from "./helpers";

/**
 * Issue 4, signing-key rotation: next (published, not signing) → current → retired (published
 * until every token it signed has expired) → deleted. Time is injected (`now`), never slept.
 * This file owns its D1 storage (isolated per test file) and wipes signing_keys before each test.
 */
const store = d1KeyStore(env.DB);
const config = configFrom(env);
const policy = rotationPolicy(config);
const T0 = 1_900_000_000;

const rotate = (now: number, options: Partial<RotationPolicy> = {}) =>
  rotateSigningKeys(store, now, { ...policy, ...options }, env.ENCRYPTION_KEY);

/** The keys as an isolate that (re)loaded them at `now` sees them. */
function ringAt(now: number): Promise<Keyring> {
  invalidateKeyring();
  return keyring(store, env.ENCRYPTION_KEY, now);
}

const jwksAt = async (now: number): Promise<JSONWebKeySet> => JSON.parse((await ringAt(now)).jwksJson) as JSONWebKeySet;
const kidsAt = async (now: number) => (await jwksAt(now)).keys.map((k) => k.kid);
const byState = async (alg: string) => {
  const rows = (await store.all()).filter((r) => r.alg === alg);
  const kids = (state: SigningKeyRow["state"]) => rows.filter((r) => r.state === state).map((r) => r.kid);
  return { next: kids("next"), current: kids("current"), retired: kids("retired") };
};

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM signing_keys").run();
  invalidateKeyring();
});

describe("issue 4 signing-key rotation: the life cycle", () => {
  it("derives its timing from the settings: retired keys outlive the longest token, next keys outwait the JWKS cache", async () => {
    expect(policy.maxTokenLifetime).toBe(Math.max(config.accessTokenTtl, config.idTokenTtl) + KEYRING_RELOAD_SECONDS + config.clockSkew);
    const res = await call("/jwks");
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    // A verifier can hold a JWKS without the new key for max-age + one keyring reload.
    expect(maxAge + KEYRING_RELOAD_SECONDS).toBeLessThan(DEFAULT_PUBLISH_DELAY);
    expect(policy.publishDelay).toBe(DEFAULT_PUBLISH_DELAY);
  });

  it("on an empty store, makes a current key at once (nothing can be signed without one) and a next key", async () => {
    const report = await rotate(T0, { algs: ["ES256"] });
    const { current, next } = await byState("ES256");
    expect(current).toHaveLength(1);
    expect(next).toHaveLength(1);
    expect(report.algs[0]).toMatchObject({ alg: "ES256", promoted: current[0], retired: [], next: { kid: next[0], promotable_at: T0 + DEFAULT_PUBLISH_DELAY } });
    expect(report.algs[0]!.created).toEqual([current[0], next[0]]);
  });

  it("a next key is published at once but signs only after publishDelay; then the old key is retired, not removed", async () => {
    await ensureSigningKeys(store, env.ENCRYPTION_KEY, T0, ["ES256"]);
    const [k0] = (await byState("ES256")).current;

    const first = await rotate(T0 + 10, { algs: ["ES256"] });
    const n1 = first.algs[0]!.created[0]!;
    expect(first.algs[0]).toMatchObject({ promoted: null, retired: [], next: { kid: n1, promotable_at: T0 + 10 + DEFAULT_PUBLISH_DELAY } });
    expect(await kidsAt(T0 + 10)).toEqual([k0, n1]);
    expect((await (await ringAt(T0 + 10)).signer("ES256")).kid).toBe(k0);

    // Runs before the delay change nothing (and create no second next key).
    const early = await rotate(T0 + 10 + DEFAULT_PUBLISH_DELAY - 1, { algs: ["ES256"] });
    expect(early.algs[0]).toMatchObject({ promoted: null, created: [], next: { kid: n1 } });
    expect(await byState("ES256")).toEqual({ next: [n1], current: [k0], retired: [] });

    const due = T0 + 10 + DEFAULT_PUBLISH_DELAY;
    const promoted = await rotate(due, { algs: ["ES256"] });
    const n2 = promoted.algs[0]!.created[0]!;
    expect(promoted.algs[0]).toMatchObject({ promoted: n1, retired: [k0], next: { kid: n2 } });
    expect(await byState("ES256")).toEqual({ next: [n2], current: [n1], retired: [k0] });
    const retired = (await store.all()).find((r) => r.kid === k0)!;
    expect(retired).toMatchObject({ retired_at: due, expires_at: due + policy.maxTokenLifetime });
    expect((await (await ringAt(due)).signer("ES256")).kid).toBe(n1);
    expect(await kidsAt(due)).toEqual([k0, n1, n2]);

    // The retired key leaves the JWKS at expires_at, and the next run deletes it.
    expect(await kidsAt(due + policy.maxTokenLifetime - 1)).toContain(k0);
    expect(await kidsAt(due + policy.maxTokenLifetime)).not.toContain(k0);
    const cleanup = await rotate(due + policy.maxTokenLifetime, { algs: ["ES256"] });
    expect(cleanup.deleted).toEqual([k0]);
    expect((await store.all()).map((r) => r.kid)).not.toContain(k0);
  });

  it("tokens signed just before the promotion verify against the JWKS until they expire (access token ES256, ID token RS256)", async () => {
    await ensureSigningKeys(store, env.ENCRYPTION_KEY, T0, ["ES256", "RS256"]);
    await rotate(T0, { algs: ["ES256", "RS256"] });
    const signedAt = T0 + DEFAULT_PUBLISH_DELAY - 1;
    const ring = await ringAt(signedAt);
    const access = await issueAccessToken({ sub: "user-1", clientId: "rp", scope: ["openid"], grantId: "g1" }, { config, keys: ring, now: signedAt });
    const idToken = await issueIdToken({ sub: "user-1", clientId: "rp", alg: "RS256", ttl: config.idTokenTtl }, { config, keys: ring, now: signedAt });
    const oldKids = [decodeProtectedHeader(access.token).kid, decodeProtectedHeader(idToken).kid];

    const promotedAt = T0 + DEFAULT_PUBLISH_DELAY;
    const report = await rotate(promotedAt, { algs: ["ES256", "RS256"] });
    expect(report.algs.flatMap((a) => a.retired)).toEqual(oldKids);

    const lastValid = signedAt + config.accessTokenTtl + config.clockSkew - 1;
    for (const at of [promotedAt, promotedAt + 60, signedAt + 300, lastValid]) {
      await rotate(at);
      const jwks = createLocalJWKSet(await jwksAt(at));
      const options = { issuer: ISSUER, currentDate: new Date(at * 1000), clockTolerance: config.clockSkew };
      await expect(jwtVerify(access.token, jwks, { ...options, typ: "at+jwt" }), `access token at +${at - signedAt}s`).resolves.toBeDefined();
      await expect(jwtVerify(idToken, jwks, { ...options, audience: "rp" }), `ID token at +${at - signedAt}s`).resolves.toBeDefined();
      const claims = await verifyAccessToken(access.token, { config, keys: await ringAt(at), kv: env.KV, now: at });
      expect(claims.jti).toBe(access.jti);
    }
  });

  it("--force promotes at once, creating the next key first when there is none", async () => {
    await ensureSigningKeys(store, env.ENCRYPTION_KEY, T0, ["ES256"]);
    const [k0] = (await byState("ES256")).current;
    const report = await rotate(T0 + 1, { algs: ["ES256"], force: true });
    const [made, spare] = report.algs[0]!.created;
    expect(report.algs[0]).toMatchObject({ promoted: made, retired: [k0], next: { kid: spare } });
    expect(await byState("ES256")).toEqual({ next: [spare], current: [made], retired: [k0] });
    // With a next key already waiting, force promotes that one.
    const again = await rotate(T0 + 2, { algs: ["ES256"], force: true });
    expect(again.algs[0]).toMatchObject({ promoted: spare, retired: [made] });
  });

  it("concurrent runs (cron and operator) leave exactly one current and one next key per algorithm", async () => {
    await ensureSigningKeys(store, env.ENCRYPTION_KEY, T0, ["ES256"]);
    await Promise.all([rotate(T0, { algs: ["ES256"] }), rotate(T0, { algs: ["ES256"] }), rotate(T0, { algs: ["ES256"] })]);
    let keys = await byState("ES256");
    expect([keys.current.length, keys.next.length]).toEqual([1, 1]);
    const due = T0 + DEFAULT_PUBLISH_DELAY;
    const reports = await Promise.all([rotate(due, { algs: ["ES256"] }), rotate(due, { algs: ["ES256"] }), rotate(due, { algs: ["ES256"] })]);
    expect(reports.filter((r) => r.algs[0]!.promoted !== null)).toHaveLength(1);
    keys = await byState("ES256");
    expect([keys.current.length, keys.next.length, keys.retired.length]).toEqual([1, 1, 1]);
  });
});

/**
 * The property behind the life cycle, over random rotation schedules, against the worst timing the
 * caches allow. An isolate serves and signs with the keys it loaded up to 60 s ago
 * (src/keys/keyring.ts); a verifier uses a JWKS for up to its max-age after fetching it. So a key
 * that is current at any moment in [a, b] signs tokens from a until b + 59 s, those tokens are
 * verified until they expire (+ clock skew), and the JWKS a verifier holds at a moment v can be
 * what the store published at any L in (v - 360 s, v]. The key must therefore be published at every
 * L from (first signature − 359 s) to (last signature + token lifetime + skew − 1 s): in
 * particular it is published long enough before it signs, and stays until its last token expires.
 * What the store publishes is read through the real adapter (store.published) after every run.
 */
describe("issue 4 signing-key rotation: the JWKS never lacks the key a live token names", () => {
  const JWKS_MAX_AGE = 300;
  const VERIFIER_LAG = JWKS_MAX_AGE + KEYRING_RELOAD_SECONDS;
  const TAIL = 2000;

  const schedules = fc.array(fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 1500 })), { minLength: 3, maxLength: 30 });

  /** Per second from T0: the kids published and the kids signing (current) at that moment, as the store says. */
  async function timeline(gaps: number[], options: Partial<RotationPolicy>) {
    const published: Set<string>[] = [];
    const current: Set<string>[] = [];
    const runs = [T0];
    for (const gap of gaps) runs.push(runs.at(-1)! + gap);
    const end = runs.at(-1)! + TAIL;
    for (const [i, run] of runs.entries()) {
      await rotate(run, { algs: ["ES256"], ...options });
      const until = runs[i + 1] ?? end;
      // Between runs the table is unchanged; what is published changes only when a retired key expires.
      const expiries = (await store.all()).map((r) => r.expires_at).filter((e): e is number => e !== null && e > run && e < until);
      const breaks = [...new Set([run, ...expiries])].sort((a, b) => a - b);
      for (const [j, from] of breaks.entries()) {
        const rows = await store.published(from);
        const kids = new Set(rows.map((r) => r.kid));
        const signing = new Set(rows.filter((r) => r.state === "current").map((r) => r.kid));
        for (let at = from; at < (breaks[j + 1] ?? until); at++) {
          published[at - T0] = kids;
          current[at - T0] = signing;
        }
      }
    }
    return { published, current };
  }

  function violations({ published, current }: Awaited<ReturnType<typeof timeline>>): string[] {
    const found: string[] = [];
    const signs = new Map<string, { first: number; last: number }>();
    current.forEach((kids, at) => {
      for (const kid of kids) {
        const span = signs.get(kid);
        if (span) span.last = at;
        else signs.set(kid, { first: at, last: at });
      }
    });
    for (const [kid, { first, last }] of signs) {
      const from = Math.max(0, first - VERIFIER_LAG + 1);
      const to = Math.min(published.length - 1, last + KEYRING_RELOAD_SECONDS - 1 + config.accessTokenTtl + config.clockSkew - 1);
      for (let at = from; at <= to; at++) {
        if (!published[at]!.has(kid)) {
          found.push(`${kid.slice(0, 8)} signs from +${first}s to +${last + KEYRING_RELOAD_SECONDS - 1}s but is not published at +${at}s`);
          break;
        }
      }
    }
    return found;
  }

  it("holds for random rotation schedules", async () => {
    await fc.assert(
      fc.asyncProperty(schedules, async (gaps) => {
        await env.DB.prepare("DELETE FROM signing_keys").run();
        expect(violations(await timeline(gaps, {}))).toEqual([]);
      }),
      { numRuns: 30 },
    );
  }, 60_000); // ~100 ms of D1 work per schedule; generous for a loaded machine

  it("would catch a shorter publish delay or a retired key removed before its last token expires", async () => {
    const gaps = [400, 300, 100, 2000];
    await env.DB.prepare("DELETE FROM signing_keys").run();
    expect(violations(await timeline(gaps, { publishDelay: JWKS_MAX_AGE }))).not.toEqual([]);
    await env.DB.prepare("DELETE FROM signing_keys").run();
    expect(violations(await timeline(gaps, { maxTokenLifetime: config.accessTokenTtl + config.clockSkew }))).not.toEqual([]);
    await env.DB.prepare("DELETE FROM signing_keys").run();
    expect(violations(await timeline(gaps, {}))).toEqual([]);
  });
});

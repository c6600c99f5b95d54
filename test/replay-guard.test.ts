import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { ReplayGuard } from "../workers/replay-guard";
import { describe, expect, it } from "vitest";
import { LEASE_SECONDS, durableReplayCache, type Held, type Reservation, type ReplayNamespace } from "../src/replay/replay-cache";
import { nowSeconds } from "./helpers";

/** A fresh namespace per test (Durable Object storage outlives a run), spread over 16^digits objects. */
const ns = (name: string, shardHexDigits: ReplayNamespace["shardHexDigits"] = 1): ReplayNamespace => ({
  name: `${name}-${crypto.randomUUID()}`,
  shardHexDigits,
});

describe("single-use reservations (ReplayGuard Durable Object)", () => {
  it.each([0, 1, 2] as const)("of 50 concurrent reservations of one key, exactly one wins (16^%i objects)", async (digits) => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const namespace = ns("test", digits);
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.reserve(namespace, key, nowSeconds() + 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("namespaces are independent; a one-step reservation is spent at once", async () => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const [a, b] = [ns("a"), ns("b")];
    expect(await cache.reserve(a, key, nowSeconds() + 60)).toBe(true);
    expect(await cache.reserve(b, key, nowSeconds() + 60)).toBe(true);
    expect(await cache.reserve(a, key, nowSeconds() + 60)).toBe(false);
  });

  it("the alarm purges expired keys and re-arms for the next expiry; an expired key may be reserved again", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(`purge-test-${crypto.randomUUID()}`));
    const past = nowSeconds() - 10;
    expect(await stub.reserve("k", past, past - 5)).toBe(true);
    expect(await stub.reserve("k", past + 100, nowSeconds())).toBe(true);
    expect(await stub.reserve("k2", past, past - 5)).toBe(true);
    // Reservations in the past scheduled an alarm that may already have fired; run the purge
    // explicitly so the test does not depend on that timing.
    await runInDurableObject(stub, (instance: ReplayGuard) => instance.alarm());
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).not.toBeNull();
    const remaining = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec<{ key: string }>("SELECT key FROM seen").toArray().map((r) => r.key),
    );
    expect(remaining).toEqual(["k"]);
  });
});

describe("two-phase single use: begin → complete | release (src/replay/issue-once.ts)", () => {
  const held = (r: Reservation) => {
    expect(r.outcome).toBe("held");
    return r as Held;
  };

  it.each([0, 1] as const)("of 50 concurrent begins of one key exactly one holds it; the others find it in use (16^%i objects)", async (digits) => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const namespace = ns("code", digits);
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.begin(namespace, key, nowSeconds() + 60)));
    expect(results.filter((r) => r.outcome === "held")).toHaveLength(1);
    expect(results.filter((r) => r.outcome === "in_use")).toHaveLength(49);
  });

  it("RFC 6749 §4.1.2: after complete, a reuse finds the key used with what was issued", async () => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const code = ns("code");
    const first = held(await cache.begin(code, key, nowSeconds() + 60));
    expect(await cache.complete(first, "issued")).toBe("done");
    expect(await cache.begin(code, key, nowSeconds() + 60)).toEqual({ outcome: "used", record: "issued" });
    // A release in someone else's name changes nothing.
    await cache.release({ ...first, holder: "someone else" });
    expect(await cache.begin(code, key, nowSeconds() + 60)).toEqual({ outcome: "used", record: "issued" });
  });

  it("RFC 6749 §4.1.2: a reuse that races the holder is reported to the holder when it completes", async () => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const code = ns("code");
    const first = held(await cache.begin(code, key, nowSeconds() + 60));
    expect((await cache.begin(code, key, nowSeconds() + 60)).outcome).toBe("in_use");
    expect(await cache.complete(first, "issued")).toBe("reused");
  });

  it("a released key is not a use: the next begin holds it, and the released holder can complete nothing", async () => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const code = ns("code");
    const first = held(await cache.begin(code, key, nowSeconds() + 60));
    await cache.release(first);
    const second = held(await cache.begin(code, key, nowSeconds() + 60));
    expect(await cache.complete(first, "late")).toBe("lost");
    expect(await cache.complete(second, "issued")).toBe("done");
  });

  it(`a holder that neither completes nor releases keeps the key ${LEASE_SECONDS} s; then another holds it, and the first has lost it`, async () => {
    const key = crypto.randomUUID();
    const code = ns("code");
    const start = nowSeconds();
    const first = held(await durableReplayCache(env.REPLAY_GUARD, start).begin(code, key, start + 60));
    const during = durableReplayCache(env.REPLAY_GUARD, start + LEASE_SECONDS - 1);
    expect((await during.begin(code, key, start + 60)).outcome).toBe("in_use");
    const after = durableReplayCache(env.REPLAY_GUARD, start + LEASE_SECONDS);
    const second = held(await after.begin(code, key, start + 60));
    // The slow first holder finds the key lost (and undoes what it issued); its release leaves the second's hold alone.
    expect(await after.complete(first, "slow")).toBe("lost");
    await after.release(first);
    expect(await after.complete(second, "issued")).toBe("done");
    expect(await after.begin(code, key, start + 60)).toEqual({ outcome: "used", record: "issued" });
  });

  it("rows written before the two-phase columns existed keep their meaning: used", async () => {
    const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(`migration-test-${crypto.randomUUID()}`));
    const expires = nowSeconds() + 60;
    const found = await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("DROP TABLE seen");
      state.storage.sql.exec("CREATE TABLE seen (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, attached TEXT, reused INTEGER NOT NULL DEFAULT 0)");
      state.storage.sql.exec("INSERT INTO seen (key, expires_at, attached) VALUES ('old-code', ?, 'issued'), ('old-jti', ?, NULL)", expires, expires);
      // The object as this release starts it on the old table.
      const migrated = new ReplayGuard(state, env);
      return [migrated.begin("old-code", "h", expires, nowSeconds() + 10, nowSeconds()), migrated.reserve("old-jti", expires, nowSeconds())];
    });
    expect(found).toEqual([{ outcome: "used", record: "issued" }, false]);
  });
});

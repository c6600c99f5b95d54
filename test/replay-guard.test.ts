import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import type { ReplayGuard } from "../workers/replay-guard";
import { describe, expect, it } from "vitest";
import { durableReplayCache, type ReplayNamespace } from "../src/replay/replay-cache";
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

  it("namespaces are independent, and the winner's attachment is readable by later callers", async () => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const [a, b] = [ns("a"), ns("b")];
    expect(await cache.reserve(a, key, nowSeconds() + 60)).toBe(true);
    expect(await cache.reserve(b, key, nowSeconds() + 60)).toBe(true);
    expect(await cache.attached(a, key)).toBeNull();
    expect(await cache.attach(a, key, "issued")).toBe(false);
    expect(await cache.reserve(a, key, nowSeconds() + 60)).toBe(false);
    expect(await cache.attached(a, key)).toBe("issued");
  });

  it("RFC 6749 §4.1.2: a reuse that races the winner is reported to the winner when it attaches", async () => {
    const cache = durableReplayCache(env.REPLAY_GUARD, nowSeconds());
    const key = crypto.randomUUID();
    const code = ns("code");
    expect(await cache.reserve(code, key, nowSeconds() + 60)).toBe(true);
    // The second redemption arrives before the first has recorded what it issued.
    expect(await cache.reserve(code, key, nowSeconds() + 60)).toBe(false);
    expect(await cache.attached(code, key)).toBeNull();
    expect(await cache.attach(code, key, "issued")).toBe(true);
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

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { invalidateKeyring } from "../src/keys/keyring";
import { ensureSigningKeys } from "../src/keys/provision";
import { DEFAULT_PUBLISH_DELAY } from "../src/keys/rotation";
import { d1KeyStore } from "../src/keys/store";
import { OUTBOX_RETENTION, REVOKED_FAMILY_RETENTION, RETRY_ANSWER_RETENTION, runMaintenance } from "../src/maintenance";
import worker from "../workers/index";

/**
 * Issue 4: the scheduled handler rotates signing keys and removes expired rows. Time is injected.
 * This file owns its D1 storage (isolated per test file) and empties the tables it seeds first.
 */
const T0 = 1_900_000_000;
const DAY = 86_400;
const store = d1KeyStore(env.DB);
const SEEDED = [
  "session_clients",
  "sessions",
  "email_verifications",
  "password_resets",
  "initial_access_tokens",
  "refresh_tokens",
  "refresh_token_rotations",
  "refresh_token_families",
  "outbox",
  "signing_keys",
];

beforeEach(async () => {
  await env.DB.batch(SEEDED.map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
  invalidateKeyring();
});

const ids = async (sql: string) => (await env.DB.prepare(sql).all<{ id: string }>()).results.map((r) => r.id).sort();

const session = (id: string, expiresAt: number, endedAt: number | null = null) =>
  env.DB.prepare(
    `INSERT INTO sessions (id_hash, sid, user_id, auth_time, amr, created_at, expires_at, ended_at)
     VALUES (?, ?, 'u1', ?, '["pwd"]', ?, ?, ?)`,
  ).bind(id, `sid-${id}`, T0 - DAY, T0 - DAY, expiresAt, endedAt);

/** A client remembered for back-channel logout in session `sid-<sessionId>` (src/sessions/session-clients.ts). */
const sessionClient = (sessionId: string, clientId: string, expiresAt: number) =>
  env.DB.prepare("INSERT INTO session_clients (sid, client_id, expires_at) VALUES (?, ?, ?)").bind(`sid-${sessionId}`, clientId, expiresAt);

const verification = (id: string, expiresAt: number, usedAt: number | null = null) =>
  env.DB.prepare(
    "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at, used_at) VALUES (?, 'u1', 'a@example.com', ?, ?, ?)",
  ).bind(id, T0 - DAY, expiresAt, usedAt);

const reset = (id: string, expiresAt: number, usedAt: number | null = null) =>
  env.DB.prepare(
    "INSERT INTO password_resets (token_hash, user_id, email, created_at, expires_at, used_at) VALUES (?, 'u1', 'a@example.com', ?, ?, ?)",
  ).bind(id, T0 - 600, expiresAt, usedAt);

const iat = (id: string, expiresAt: number | null) =>
  env.DB.prepare("INSERT INTO initial_access_tokens (token_hash, expires_at, created_at) VALUES (?, ?, ?)").bind(id, expiresAt, T0 - DAY);

const outbox = (id: string, createdAt: number) =>
  env.DB.prepare("INSERT INTO outbox (id, recipient, subject, body, created_at) VALUES (?, 'a@example.com', 's', 'b', ?)").bind(id, createdAt);

const family = (id: string, expiresAt: number, revokedAt: number | null = null) =>
  env.DB.prepare(
    `INSERT INTO refresh_token_families (family_id, grant_id, client_id, user_id, created_at, expires_at, revoked_at)
     VALUES (?, 'g1', 'c1', 'u1', ?, ?, ?)`,
  ).bind(id, T0 - 20 * DAY, expiresAt, revokedAt);

/** A token of `familyId` (or of none) with its own idle expiry; rotated at `rotatedAt` if given. */
function token(hash: string, familyId: string | null, expiresAt: number, rotatedAt: number | null = null, retry: string | null = null) {
  const stmts = [
    env.DB.prepare(
      `INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, auth_time, created_at, expires_at)
       VALUES (?, 'g1', 'c1', 'u1', 'openid', ?, ?, ?)`,
    ).bind(hash, T0 - 20 * DAY, T0 - 20 * DAY, expiresAt),
  ];
  if (familyId !== null) {
    stmts.push(
      env.DB.prepare(
        "INSERT INTO refresh_token_rotations (token_hash, family_id, rotated_at, successor_hash, retry_sealed) VALUES (?, ?, ?, ?, ?)",
      ).bind(hash, familyId, rotatedAt, rotatedAt === null ? null : `${hash}-next`, retry),
    );
  }
  return stmts;
}

describe("issue 4 maintenance: expired rows", () => {
  it("removes exactly the expired, ended (5 minutes ago or more) or used rows of each kind", async () => {
    await env.DB.batch([
      session("s-live", T0 + 1),
      session("s-expired", T0 - 1),
      session("s-ended", T0 + DAY, T0 - 301),
      // Ended moments ago: kept a while, so the logout's back-channel deliveries still find its clients.
      session("s-just-ended", T0 + DAY, T0 - 5),
      verification("v-live", T0 + 100),
      verification("v-expired", T0 - 1),
      verification("v-used", T0 + 100, T0 - 10),
      reset("r-live", T0 + 100),
      reset("r-expired", T0 - 1),
      reset("r-used", T0 + 100, T0 - 10),
      iat("i-live", T0 + 100),
      iat("i-forever", null),
      iat("i-expired", T0 - 1),
      outbox("o-live", T0 - OUTBOX_RETENTION + 60),
      outbox("o-old", T0 - OUTBOX_RETENTION - 1),
    ]);

    const report = await runMaintenance(env, T0);

    expect(await ids("SELECT id_hash AS id FROM sessions")).toEqual(["s-just-ended", "s-live"]);
    expect(await ids("SELECT token_hash AS id FROM email_verifications")).toEqual(["v-live"]);
    expect(await ids("SELECT token_hash AS id FROM password_resets")).toEqual(["r-live"]);
    expect(await ids("SELECT token_hash AS id FROM initial_access_tokens")).toEqual(["i-forever", "i-live"]);
    expect(await ids("SELECT id FROM outbox")).toEqual(["o-live"]);
    expect(report.cleanup).toMatchObject({ ok: true, sessions: 2, email_verifications: 2, password_resets: 2, initial_access_tokens: 1, outbox: 1 });
  });

  it("back-channel logout's session_clients: rows of expired and long-ended sessions go; a live or just-ended session's stay", async () => {
    await env.DB.batch([
      session("s-live", T0 + DAY),
      session("s-expired", T0 - 1),
      session("s-ended", T0 + DAY, T0 - 301),
      session("s-just-ended", T0 + DAY, T0 - 5),
      sessionClient("s-live", "c1", T0 + DAY),
      sessionClient("s-live", "c2", T0 + DAY),
      sessionClient("s-expired", "c1", T0 - 1),
      sessionClient("s-ended", "c1", T0 + DAY),
      // Its logout's waitUntil may not have taken it yet.
      sessionClient("s-just-ended", "c1", T0 + DAY),
      // Its session row is already gone (an earlier run), and it has expired with it.
      sessionClient("s-gone", "c1", T0 - 60),
    ]);

    const report = await runMaintenance(env, T0);

    expect(await ids("SELECT sid || '/' || client_id AS id FROM session_clients")).toEqual(["sid-s-just-ended/c1", "sid-s-live/c1", "sid-s-live/c2"]);
    expect(report.cleanup).toMatchObject({ ok: true, session_clients: 3, sessions: 2 });
  });

  it("removes refresh-token state a whole family at a time, keeping families that are still alive", async () => {
    await env.DB.batch([
      // Past its absolute expiry: everything goes.
      family("f-expired", T0 - 1),
      ...token("f-expired-1", "f-expired", T0 - 2 * DAY, T0 - 3 * DAY),
      ...token("f-expired-2", "f-expired", T0 - 1),
      // Revoked long enough ago: goes. Revoked just now: kept for the retention period.
      family("f-revoked-old", T0 + 10 * DAY, T0 - REVOKED_FAMILY_RETENTION - 1),
      ...token("f-revoked-old-1", "f-revoked-old", T0 + DAY),
      family("f-revoked-new", T0 + 10 * DAY, T0 - 10),
      ...token("f-revoked-new-1", "f-revoked-new", T0 + DAY),
      // Last rotated long ago, every token idle-expired, absolute expiry ahead: kept entirely, so
      // presenting the old rotated token is still detected as reuse.
      family("f-idle", T0 + 10 * DAY),
      ...token("f-idle-1", "f-idle", T0 - 15 * DAY, T0 - 16 * DAY),
      ...token("f-idle-2", "f-idle", T0 - 2 * DAY),
      // A live family.
      family("f-live", T0 + 10 * DAY),
      ...token("f-live-1", "f-live", T0 + DAY),
      // Tokens that belong to no family (no rotation state): unreachable, removed once expired.
      ...token("orphan-expired", null, T0 - 1),
      ...token("orphan-live", null, T0 + DAY),
    ]);

    const report = await runMaintenance(env, T0);

    expect(await ids("SELECT family_id AS id FROM refresh_token_families")).toEqual(["f-idle", "f-live", "f-revoked-new"]);
    expect(await ids("SELECT token_hash AS id FROM refresh_token_rotations")).toEqual([
      "f-idle-1",
      "f-idle-2",
      "f-live-1",
      "f-revoked-new-1",
    ]);
    expect(await ids("SELECT token_hash AS id FROM refresh_tokens")).toEqual([
      "f-idle-1",
      "f-idle-2",
      "f-live-1",
      "f-revoked-new-1",
      "orphan-live",
    ]);
    expect(report.cleanup).toMatchObject({ ok: true, refresh_token_families: 2, refresh_token_rotations: 3, refresh_tokens: 4 });
  });

  it("clears sealed retry answers once the grace window is certainly over, keeping the rotation itself", async () => {
    await env.DB.batch([
      family("f1", T0 + 10 * DAY),
      ...token("t-old", "f1", T0 + DAY, T0 - RETRY_ANSWER_RETENTION - 1, "sealed-old"),
      ...token("t-new", "f1", T0 + DAY, T0 - 5, "sealed-new"),
    ]);
    const report = await runMaintenance(env, T0);
    const rows = (
      await env.DB.prepare("SELECT token_hash, rotated_at, retry_sealed FROM refresh_token_rotations ORDER BY token_hash").all()
    ).results;
    expect(rows).toEqual([
      { token_hash: "t-new", rotated_at: T0 - 5, retry_sealed: "sealed-new" },
      { token_hash: "t-old", rotated_at: T0 - RETRY_ANSWER_RETENTION - 1, retry_sealed: null },
    ]);
    expect(report.cleanup).toMatchObject({ ok: true, retry_answers_cleared: 1 });
  });

  it("is idempotent: a second run finds nothing more", async () => {
    await env.DB.batch([session("s-expired", T0 - 1), family("f-expired", T0 - 1), ...token("t", "f-expired", T0 - 1)]);
    await runMaintenance(env, T0);
    const again = await runMaintenance(env, T0);
    expect(again.cleanup).toMatchObject({ ok: true, sessions: 0, refresh_tokens: 0, refresh_token_rotations: 0, refresh_token_families: 0 });
  });
});

describe("issue 4 maintenance: signing-key rotation", () => {
  const states = async () => {
    const rows = await store.all();
    return {
      next: rows.filter((r) => r.state === "next").map((r) => r.kid),
      current: rows.filter((r) => r.state === "current").map((r) => r.kid),
      retired: rows.filter((r) => r.state === "retired").map((r) => r.kid),
    };
  };

  it("publishes a next key on the first run and promotes it only after the publish delay", async () => {
    const initial = await ensureSigningKeys(store, env.ENCRYPTION_KEY, T0);
    expect(initial.length).toBeGreaterThan(0);

    const first = await runMaintenance(env, T0);
    const afterFirst = await states();
    expect(afterFirst.current.sort()).toEqual([...initial].sort());
    expect(afterFirst.next).toHaveLength(initial.length);
    expect(first.rotation).toMatchObject({ ok: true, created: initial.length, promoted: 0 });

    // Too early (cron every 10 minutes may fire just before the delay is over): nothing changes.
    const early = await runMaintenance(env, T0 + DEFAULT_PUBLISH_DELAY - 1);
    expect(early.rotation).toMatchObject({ ok: true, created: 0, promoted: 0 });
    expect(await states()).toEqual(afterFirst);

    const due = await runMaintenance(env, T0 + DEFAULT_PUBLISH_DELAY);
    const afterDue = await states();
    expect(due.rotation).toMatchObject({ ok: true, promoted: initial.length, retired: initial.length, created: initial.length });
    expect(afterDue.current.sort()).toEqual([...afterFirst.next].sort());
    expect(afterDue.retired.sort()).toEqual([...initial].sort());
    expect(afterDue.next).toHaveLength(initial.length);
  });

  it("does one step's work even when the other fails, and does not throw", async () => {
    await env.DB.batch([session("s-expired", T0 - 1)]);
    // A broken ENCRYPTION_KEY makes rotation fail; cleanup still runs.
    const report = await runMaintenance({ ...env, ENCRYPTION_KEY: "too-short" }, T0);
    expect(report.rotation.ok).toBe(false);
    expect(report.cleanup).toMatchObject({ ok: true, sessions: 1 });
    expect(await ids("SELECT id_hash AS id FROM sessions")).toEqual([]);
  });
});

describe("issue 4 maintenance: the scheduled entry point", () => {
  it("runs rotation and cleanup from the Worker's scheduled handler, at the controller's scheduled time", async () => {
    await ensureSigningKeys(store, env.ENCRYPTION_KEY, T0);
    await env.DB.batch([session("s-live", T0 + DAY), session("s-expired", T0 - 1)]);
    const controller = createScheduledController({ scheduledTime: new Date(T0 * 1000), cron: "*/10 * * * *" });
    const ctx = createExecutionContext();
    worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await ids("SELECT id_hash AS id FROM sessions")).toEqual(["s-live"]);
    const rows = await store.all();
    expect(rows.filter((r) => r.state === "next").every((r) => r.created_at === T0)).toBe(true);
    expect(rows.some((r) => r.state === "next")).toBe(true);
  });
});

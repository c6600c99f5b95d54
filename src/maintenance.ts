import { configFrom } from "./config";
import type { Env } from "./env";
import { rotateSigningKeys, rotationPolicy } from "./keys/rotation";
import { d1KeyStore } from "./keys/store";
import { log, type LogFields } from "./log";

/**
 * The scheduled handler's work (issue 4; wrangler.toml [triggers]): rotate signing keys and remove
 * rows nothing can use any more, so storage does not grow without bound. The two steps are
 * independent: a failure in one is logged and does not stop the other, and nothing is thrown, so a
 * cron run never ends half-done with an unlogged error. Every step is safe to repeat and to overlap
 * with another run (an operator rotation, a slow previous cron run).
 */

/** A revoked family is kept this long, so a late retry of one of its tokens still meets "revoked". */
export const REVOKED_FAMILY_RETENTION = 600;
/** A rotation's sealed retry answer is useless after the grace window (at most 300 s, src/config.ts). */
export const RETRY_ANSWER_RETENTION = 300;
/** Local-development mail stays readable in the outbox for a week. */
export const OUTBOX_RETENTION = 7 * 24 * 3600;

export interface CleanupCounts {
  session_clients: number;
  sessions: number;
  email_verifications: number;
  password_resets: number;
  initial_access_tokens: number;
  refresh_tokens: number;
  refresh_token_rotations: number;
  refresh_token_families: number;
  retry_answers_cleared: number;
  outbox: number;
  /** Self-registered clients never used within config.unusedClientTtl (src/registration/usage.ts). */
  unused_clients: number;
}

export interface MaintenanceReport {
  rotation: { ok: boolean; created: number; promoted: number; retired: number; deleted: number };
  cleanup: ({ ok: true } & CleanupCounts) | { ok: false };
}

/** Runs key rotation and expired-row cleanup at `now` (Unix seconds); never rejects. */
export async function runMaintenance(env: Env, now: number): Promise<MaintenanceReport> {
  const [rotation, cleanup] = await Promise.all([rotate(env, now), cleanUp(env, now)]);
  const fields: LogFields = { now, rotation_ok: rotation.ok, cleanup_ok: cleanup.ok };
  for (const [k, v] of Object.entries(rotation)) if (k !== "ok") fields[`keys_${k}`] = v;
  for (const [k, v] of Object.entries(cleanup)) if (k !== "ok") fields[`deleted_${k}`] = v;
  log(rotation.ok && cleanup.ok ? "info" : "warn", "maintenance", fields);
  return { rotation, cleanup };
}

async function rotate(env: Env, now: number): Promise<MaintenanceReport["rotation"]> {
  try {
    // Not forced: a next key signs only once it has been published for the publish delay, so
    // running this at any frequency is safe.
    const report = await rotateSigningKeys(d1KeyStore(env.DB), now, rotationPolicy(configFrom(env)), env.ENCRYPTION_KEY);
    let created = 0;
    let promoted = 0;
    let retired = 0;
    for (const alg of report.algs) {
      created += alg.created.length;
      if (alg.promoted !== null) promoted += 1;
      retired += alg.retired.length;
    }
    return { ok: true, created, promoted, retired, deleted: report.deleted.length };
  } catch (error) {
    log("error", "maintenance_rotation_failed", { message: String(error instanceof Error ? error.message : error) });
    return { ok: false, created: 0, promoted: 0, retired: 0, deleted: 0 };
  }
}

/**
 * Deletes expired rows in one D1 batch (one transaction). Refresh-token state goes a whole family
 * at a time, never a token at a time: a rotated token past its own idle expiry must still be found
 * while its family lives, or presenting it again would no longer count as reuse (and would not
 * revoke the family).
 */
/** Seconds an ended session's row is kept: longer than any logout's back-channel deliveries take. */
const ENDED_SESSION_RETENTION = 300;

async function cleanUp(env: Env, now: number): Promise<MaintenanceReport["cleanup"]> {
  const db = env.DB;
  const deadFamilies = `SELECT family_id FROM refresh_token_families
     WHERE expires_at < ?1 OR (revoked_at IS NOT NULL AND revoked_at < ?1 - ${REVOKED_FAMILY_RETENTION})`;
  try {
    const unusedTtl = configFrom(env).unusedClientTtl;
    // Self-registered clients (a client_registrations row) to which no token was ever issued, older
    // than UNUSED_CLIENT_TTL (0: none). Never used, they hold no refresh tokens or sessions; what
    // they may hold (a consent given for a code never redeemed, the registration access token,
    // CORS origins) goes with them, as deleteClient (src/clients/lifecycle.ts) would take it.
    const unusedClients = "SELECT client_id FROM client_registrations WHERE first_used_at IS NULL AND ?2 > 0 AND created_at < ?1 - ?2";
    const results = await db.batch([
      // Before the sessions: what back-channel logout remembered for sessions that expired, or
      // that ended without taking their rows (src/sessions/session-clients.ts). Ended sessions are
      // kept ENDED_SESSION_RETENTION seconds, so a logout's waitUntil still finds its rows.
      db
        .prepare(
          `DELETE FROM session_clients WHERE expires_at < ?1
             OR sid IN (SELECT sid FROM sessions WHERE ended_at < ?1 - ${ENDED_SESSION_RETENTION})`,
        )
        .bind(now),
      db.prepare(`DELETE FROM sessions WHERE ended_at < ?1 - ${ENDED_SESSION_RETENTION} OR expires_at < ?1`).bind(now),
      db.prepare("DELETE FROM email_verifications WHERE used_at IS NOT NULL OR expires_at < ?").bind(now),
      db.prepare("DELETE FROM initial_access_tokens WHERE expires_at IS NOT NULL AND expires_at < ?").bind(now),
      // Tokens first, while their rotation rows still name their family; then rotations, then families.
      db
        .prepare(
          `DELETE FROM refresh_tokens WHERE token_hash IN
             (SELECT token_hash FROM refresh_token_rotations WHERE family_id IN (${deadFamilies}))`,
        )
        .bind(now),
      db.prepare(`DELETE FROM refresh_token_rotations WHERE family_id IN (${deadFamilies})`).bind(now),
      db.prepare(`DELETE FROM refresh_token_families WHERE family_id IN (${deadFamilies})`).bind(now),
      // A token without rotation state belongs to no family: no lookup can find it (it joins
      // refresh_token_rotations), so once expired it is only weight.
      db
        .prepare(
          `DELETE FROM refresh_tokens WHERE expires_at < ?
             AND NOT EXISTS (SELECT 1 FROM refresh_token_rotations r WHERE r.token_hash = refresh_tokens.token_hash)`,
        )
        .bind(now),
      db
        .prepare("UPDATE refresh_token_rotations SET retry_sealed = NULL WHERE retry_sealed IS NOT NULL AND rotated_at < ?")
        .bind(now - RETRY_ANSWER_RETENTION),
      db.prepare("DELETE FROM outbox WHERE created_at < ?").bind(now - OUTBOX_RETENTION),
      db.prepare("DELETE FROM password_resets WHERE used_at IS NOT NULL OR expires_at < ?").bind(now),
      ...["consents", "registration_tokens", "client_origins", "clients", "client_registrations"].map((table) =>
        db.prepare(`DELETE FROM ${table} WHERE client_id IN (${unusedClients})`).bind(now, unusedTtl)),
    ]);
    const n = (i: number) => results[i]?.meta.changes ?? 0;
    return {
      ok: true,
      session_clients: n(0),
      sessions: n(1),
      email_verifications: n(2),
      initial_access_tokens: n(3),
      refresh_tokens: n(4) + n(7),
      refresh_token_rotations: n(5),
      refresh_token_families: n(6),
      retry_answers_cleared: n(8),
      outbox: n(9),
      password_resets: n(10),
      unused_clients: n(14),
    };
  } catch (error) {
    log("error", "maintenance_cleanup_failed", { message: String(error instanceof Error ? error.message : error) });
    return { ok: false };
  }
}

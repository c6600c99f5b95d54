import { Hono } from "hono";
import { NO_STORE, type AppEnv } from "../http/context";
import { ensureSigningKeys } from "../keys/provision";
import { rotateSigningKeys, rotationPolicy } from "../keys/rotation";
import { encryptionKey, keyStore } from "../services";
import type { SigningKeyRow } from "../keys/store";
import { jsonObject, optionalBoolean } from "./admin-input";

/**
 * The operator API for signing keys, mounted at /admin/keys behind `requireOperator`:
 *
 *   POST /          make sure every algorithm has a current key (new deployments) → 200 { created }
 *   GET  /          every stored key, no private material                         → 200 { keys }
 *   POST /rotate    { force? }  one rotation step (src/keys/rotation.ts)          → 200 { deleted, algs, keys }
 *
 * `force: true` promotes the waiting next key (or a new one) at once; see rotation.ts for the risk.
 */
function keyJson(row: SigningKeyRow, now: number) {
  return {
    kid: row.kid,
    alg: row.alg,
    state: row.state,
    created_at: row.created_at,
    activated_at: row.activated_at,
    retired_at: row.retired_at,
    expires_at: row.expires_at,
    /** Whether /jwks lists it (retired keys until expires_at). */
    published: row.state !== "retired" || row.expires_at === null || row.expires_at > now,
  };
}

export const adminKeys = new Hono<AppEnv>()
  .post("/", async (c) => {
    const created = await ensureSigningKeys(keyStore(c), encryptionKey(c), c.get("now"));
    return c.json({ created }, 200, NO_STORE);
  })
  .get("/", async (c) => {
    const rows = await keyStore(c).all();
    return c.json({ keys: rows.map((row) => keyJson(row, c.get("now"))) }, 200, NO_STORE);
  })
  .post("/rotate", async (c) => {
    const body = await jsonObject(c, ["force"], { optional: true });
    const force = optionalBoolean(body, "force") ?? false;
    const store = keyStore(c);
    const report = await rotateSigningKeys(store, c.get("now"), rotationPolicy(c.get("config"), { force }), encryptionKey(c));
    const keys = (await store.all()).map((row) => keyJson(row, c.get("now")));
    return c.json({ ...report, keys }, 200, NO_STORE);
  });

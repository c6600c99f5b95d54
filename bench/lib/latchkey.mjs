// Latchkey for the bench: the built Worker in workerd through Miniflare, as scripts/local-worker.mjs
// starts it (same bundle, bindings, local settings, migrations and signing key), with one difference:
// the Worker also listens on a socket of its own (Miniflare's `unsafeDirectSockets`), and that
// socket is its issuer and what the bench loads. Miniflare's usual address reaches the Worker
// through Miniflare's router (entry) Worker, which costs more CPU per request than a Latchkey token
// request and has no counterpart in production; the bench keeps that address only to measure what
// the router adds.

import { randomBytes } from "node:crypto";
import { LOCAL_DEV_VARS, buildWorker, freePort, workerConfig } from "../../scripts/local-worker.mjs";
import { applyMigrations } from "../../scripts/migrations.mjs";
import { startDirectWorker } from "./workerd.mjs";

/**
 * @param {{ persistTo?: string, inspectorPort?: number }} o  local storage directory; a V8 inspector port (bench/profile.mjs)
 * @returns {Promise<{ url: string, routedUrl: string, adminToken: string, pid: number | undefined, dispose: () => Promise<void>,
 *          mailTo: (recipient: string, afterRowid?: number) => Promise<{ rowid: number, body: string }[]> }>}
 *          `url` is the direct socket (the issuer), `routedUrl` the same Worker behind Miniflare's router,
 *          `mailTo` the outbox's mail to a recipient after a rowid, oldest first.
 */
export async function startBenchLatchkey({ persistTo, inspectorPort } = {}) {
  const [scriptPath, directPort] = await Promise.all([buildWorker(), freePort()]);
  const issuer = `http://127.0.0.1:${directPort}`;
  const adminToken = randomBytes(32).toString("base64url");
  const vars = { ISSUER: issuer, ...LOCAL_DEV_VARS, ENCRYPTION_KEY: randomBytes(32).toString("base64url"), ADMIN_TOKEN: adminToken };
  const config = await workerConfig(scriptPath, vars);
  const worker = await startDirectWorker({
    config, directPort, persistTo, inspectorPort,
    prepare: async (mf, url) => {
      if (url !== issuer) throw new Error(`the direct socket is at ${url}, not ${issuer}`);
      await applyMigrations(await mf.getD1Database("DB"));
      const res = await fetch(`${url}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` } });
      if (res.status !== 200) throw new Error(`POST /admin/keys answered ${res.status}: ${await res.text()}`);
    },
  });
  // The mail the Worker wrote to its outbox (MAIL_PROVIDER=outbox): CIBA's approval links (bench/lib/ciba.mjs).
  const db = await worker.mf.getD1Database("DB");
  const mailTo = async (recipient, afterRowid = 0) =>
    (await db.prepare("SELECT rowid, body FROM outbox WHERE recipient = ? AND rowid > ? ORDER BY rowid").bind(recipient, afterRowid).all()).results;
  return { url: worker.url, routedUrl: worker.routedUrl, adminToken, pid: worker.pid, dispose: worker.dispose, mailTo };
}

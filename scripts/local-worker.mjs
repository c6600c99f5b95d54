// Starts the real Latchkey Worker bundle in workerd through Miniflare, for end-to-end tests and
// the benchmark. The bundle is exactly what `wrangler deploy` would upload; the bindings mirror
// wrangler.toml (D1 DB, KV KV, SQLite-backed Durable Objects REPLAY_GUARD → ReplayGuard and
// LOGIN_THROTTLE → LoginThrottle), and the D1 database gets the migrations in migrations/ as
// `wrangler d1 migrations apply` gives them (scripts/migrations.mjs).
//
//   const { url, adminToken, mf, dispose, admin } = await startLocalWorker({ vars: { … } });
//
// `url` is the issuer (http://127.0.0.1:PORT) and a real listening HTTP server; `mf.dispatchFetch`
// reaches the same Worker and can attach a `cf` object (e.g. cf.tlsClientAuth for mTLS tests).
// Like `npm run dev`, it runs as a local development server (LOCAL_DEV_VARS: self-service sign-up,
// mail to the D1 outbox, shown at /dev/outbox); `vars` override those.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { Miniflare } from "miniflare";
import { applyMigrations } from "./migrations.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const OUT_DIR = join(ROOT, ".build", "worker");
const BUNDLE = join(OUT_DIR, "index.js");
const WORKER_NAME = "latchkey";
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
/** Inputs of the bundle: when none is newer than it, the cached bundle is reused. */
const SOURCES = ["src", "workers", "wrangler.toml", "package-lock.json"];

/**
 * Settings for local development only (npm run dev, tests, the benchmark), never for a deployment:
 * people may sign up, clients may register themselves at /register, and mail is not sent but kept
 * in the D1 outbox and shown at /dev/outbox.
 */
export const LOCAL_DEV_VARS = Object.freeze({
  SIGNUP_ENABLED: "true",
  SHOW_DEV_OUTBOX: "true",
  MAIL_PROVIDER: "outbox",
  REGISTRATION_POLICY: "open", // anyone may register a client (RFC 7591); deployments default to initial access tokens
  // Every local request comes from 127.0.0.1 (CF-Connecting-IP): a per-network budget would be one
  // budget for everything; the global one (1000 an hour) still applies.
  REGISTRATION_LIMIT_PER_IP: "0",
});

const randomSecret = () => randomBytes(32).toString("base64url");

async function newestMtime(path) {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.map((entry) => newestMtime(join(path, entry))));
  return Math.max(info.mtimeMs, ...times);
}

let building;

/**
 * Bundles the Worker with `wrangler deploy --dry-run` (no upload) into .build/worker/index.js and
 * returns that path. Skipped when the bundle is newer than every source. The build goes to a
 * private directory first and is renamed into place, so concurrent callers never read half a file.
 */
export function buildWorker() {
  building ??= (async () => {
    const built = await stat(BUNDLE).catch(() => undefined);
    const newestSource = Math.max(...(await Promise.all(SOURCES.map((s) => newestMtime(join(ROOT, s))))));
    if (built && built.mtimeMs > newestSource) return BUNDLE;

    await mkdir(join(ROOT, ".build"), { recursive: true });
    const tmp = await mkdtemp(join(ROOT, ".build", "worker-tmp-"));
    try {
      await promisify(execFile)(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", tmp], {
        cwd: ROOT,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
        maxBuffer: 16 * 1024 * 1024,
      });
      await mkdir(OUT_DIR, { recursive: true });
      if (existsSync(join(tmp, "index.js.map"))) await rename(join(tmp, "index.js.map"), `${BUNDLE}.map`);
      await rename(join(tmp, "index.js"), BUNDLE);
    } catch (error) {
      building = undefined;
      throw new Error(`wrangler build failed: ${error.stderr || error.stdout || error.message}`);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return BUNDLE;
  })();
  return building;
}

/** Asks the OS for a free loopback port, so ISSUER can name it before the server starts. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** wrangler.toml's compatibility_date, for every local start of a Worker. */
export async function compatibilityDate() {
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const match = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml);
  if (!match) throw new Error("wrangler.toml has no compatibility_date");
  return match[1];
}

/**
 * Secrets for this run. With `persistTo`, they are kept next to the data: the stored signing keys
 * are sealed under ENCRYPTION_KEY, so a persisted database is useless with a new one.
 */
async function secrets(persistTo) {
  const fresh = { ENCRYPTION_KEY: randomSecret(), ADMIN_TOKEN: randomSecret() };
  if (!persistTo) return fresh;
  const file = join(persistTo, "local-worker-secrets.json");
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    await mkdir(persistTo, { recursive: true });
    await writeFile(file, JSON.stringify(fresh, null, 2), { mode: 0o600 });
    return fresh;
  }
}

/**
 * The Worker's Miniflare config as wrangler.toml describes it: the bundle, `vars` as text bindings,
 * D1, KV and the Durable Object classes. The one list of bindings for every local start (the e2e
 * and browser tests here, the benchmark in bench/lib/latchkey.mjs): a new binding is added once.
 */
export async function workerConfig(scriptPath, vars) {
  const text = (value) => ({ type: "text", value: String(value) });
  return {
    name: WORKER_NAME,
    manifest: {
      mainModule: "index.js",
      modulesRoot: dirname(scriptPath),
      modules: { "index.js": { type: "esm", contents: await readFile(scriptPath, "utf8") } },
    },
    env: {
      ...Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, text(value)])),
      DB: { type: "d1", id: "latchkey" },
      KV: { type: "kv", id: "latchkey" },
      REPLAY_GUARD: { type: "durable-object", worker: WORKER_NAME, exportName: "ReplayGuard" },
      LOGIN_THROTTLE: { type: "durable-object", worker: WORKER_NAME, exportName: "LoginThrottle" },
      DEVICE_AUTHORIZATIONS: { type: "durable-object", worker: WORKER_NAME, exportName: "DeviceAuthorization" },
      CIBA_REQUESTS: { type: "durable-object", worker: WORKER_NAME, exportName: "CibaRequest" },
    },
    // wrangler.toml's migrations (new_sqlite_classes) as live export declarations.
    exports: {
      ReplayGuard: { type: "durable-object", storage: "sqlite" },
      LoginThrottle: { type: "durable-object", storage: "sqlite" },
      DeviceAuthorization: { type: "durable-object", storage: "sqlite" },
      CibaRequest: { type: "durable-object", storage: "sqlite" },
    },
  };
}

/**
 * `outbound`, when given, answers every fetch the Worker makes (Miniflare's outbound service, a
 * `(request) => Response` handler): a test serves a document at a public https URL without DNS or
 * a certificate (the MCP browser test's client ID metadata document).
 *
 * @param {{ vars?: Record<string, any>, persistTo?: string, port?: number, inspectorPort?: number, outbound?: (request: any) => any }} [options]
 */
export async function startLocalWorker({ vars = {}, persistTo = undefined, port = 0, inspectorPort = undefined, outbound = undefined } = {}) {
  const [scriptPath, date, secret] = await Promise.all([buildWorker(), compatibilityDate(), secrets(persistTo)]);
  const listenPort = port || (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  const bindings = { ISSUER: url, ...LOCAL_DEV_VARS, ...secret, ...vars };

  const mf = new Miniflare({
    host: "127.0.0.1",
    port: listenPort,
    cf: false, // no download of the real `request.cf` template; tests pass their own cf
    ...(inspectorPort && { inspectorPort }), // V8 inspector (bench/profile.mjs)
    ...(persistTo && { resourcePersistencePath: resolve(persistTo) }), // else in-memory/temporary
    workers: [{
      config: { ...(await workerConfig(scriptPath, bindings)), compatibilityDate: date },
      ...(outbound && { dev: { outboundService: { type: "fetcher", handler: outbound } } }),
    }],
  });
  const dispose = () => mf.dispose();
  try {
    await mf.ready;
    const db = await mf.getD1Database("DB");
    await applyMigrations(db);

    const res = await fetch(`${url}/admin/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${bindings.ADMIN_TOKEN}` },
    });
    if (res.status !== 200) throw new Error(`POST /admin/keys answered ${res.status}: ${await res.text()}`);
  } catch (error) {
    await dispose();
    throw error;
  }
  /** A call to the operator API (/admin/…) with the Worker's admin token and a JSON body. */
  const admin = (path, method, body) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bindings.ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  return { url, adminToken: bindings.ADMIN_TOKEN, mf, dispose, admin };
}

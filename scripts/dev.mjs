// `npm run dev`: a local Latchkey with demo clients, a demo person and a demo app, through
// `wrangler dev` (local D1, KV and Durable Objects under .wrangler/state). Safe to run again:
// .dev.vars is kept, migrations are applied once each, keys are only created when missing and the
// demo clients are PUT.
//
//   npm run dev                      http://localhost:8787
//   npm run dev -- --port 8799       or PORT=8799 npm run dev
//
//   0. the port: when something already listens on it, the first line says so and nothing else runs
//   1. .dev.vars (gitignored): random ENCRYPTION_KEY and ADMIN_TOKEN, ALLOW_INSECURE_CLIENT_URIS,
//      SIGNUP_ENABLED and SHOW_DEV_OUTBOX true, MAIL_PROVIDER=outbox, REGISTRATION_POLICY=open
//      (open dynamic client registration at /register; an older .dev.vars that lacks
//      one of these settings gets it with `wrangler dev --var`, so old checkouts work unchanged)
//   2. migrations/ → local D1 (wrangler d1 migrations apply DB --local)
//   3. wrangler dev on the port, ISSUER http://localhost:<port>
//   4. POST /admin/keys             5. demo clients, person and app (scripts/seed.mjs), then examples
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { lookup } from "node:dns/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { LOCAL_DEV_VARS } from "./local-worker.mjs";
import { DEMO_SECRETS, DEMO_USER, demoAppUrl, readDevVar, seedDemo } from "./seed.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const DEFAULT_PORT = 8787;
/** The host wrangler dev listens on by default (its --ip), and the one every printed URL names. */
const HOST = "localhost";
const DEV_VARS = join(ROOT, ".dev.vars");
const STARTUP_TIMEOUT_MS = 90_000;
/** Local-only settings: http loopback client URIs, self-service sign-up, mail to /dev/outbox, the demo app. */
const DEV_SETTINGS = { ALLOW_INSECURE_CLIENT_URIS: "true", ...LOCAL_DEV_VARS };

/** --port N (or --port=N), else $PORT, else 8787. Exits 2 on anything that is not a port. */
function chosenPort() {
  let values;
  try {
    ({ values } = parseArgs({ options: { port: { type: "string" } }, strict: true }));
  } catch (error) {
    console.error(`npm run dev: ${error.message.replace(/\. To specify a positional argument.*$/s, "")}. Usage: npm run dev -- [--port N]`);
    process.exit(2);
  }
  const text = values.port ?? process.env.PORT ?? String(DEFAULT_PORT);
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    console.error(`npm run dev: the port must be a number from 1 to 65535, not "${text}".`);
    process.exit(2);
  }
  return port;
}

/** Whether `port` can be bound on every address `HOST` names (127.0.0.1, ::1), as wrangler dev will. */
async function portIsFree(port) {
  const addresses = await lookup(HOST, { all: true }).catch(() => [{ address: "127.0.0.1" }]);
  for (const { address } of addresses) {
    const problem = await new Promise((done) => {
      const server = createServer();
      server.once("error", (error) => done(error.code));
      server.listen({ port, host: address, exclusive: true }, () => server.close(() => done(null)));
    });
    // An address the machine does not have (no IPv6) cannot be taken by anyone either.
    if (problem !== null && problem !== "EADDRNOTAVAIL" && problem !== "EAFNOSUPPORT") return false;
  }
  return true;
}

const PORT = chosenPort();
if (!(await portIsFree(PORT))) {
  console.error(`Port ${PORT} is already in use: stop what listens there, or choose another port: npm run dev -- --port ${PORT + 1}`);
  process.exit(1);
}
const URL_BASE = `http://${HOST}:${PORT}`;

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`Node ${process.versions.node} is too old for wrangler; run \`npm run dev\` (it uses the project's Node 22).`);
  process.exit(1);
}

// Wrangler and anything it starts use this Node (node_modules/.bin first on PATH). No telemetry,
// and no download of the `request.cf` template from workers.cloudflare.com (offline it prints a
// stack trace on every reload; the local placeholder serves development as well).
const childEnv = {
  ...process.env,
  PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
  WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false",
  CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
};

function wrangler(args, options = {}) {
  return spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env: childEnv, stdio: "inherit", ...options });
}

/** Runs a wrangler command quietly; its output is shown only if it fails. */
function run(args) {
  return new Promise((done, fail) => {
    let output = "";
    const child = wrangler(args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", fail).on("exit", (code) => {
      if (code === 0) return done();
      process.stderr.write(output);
      fail(new Error(`wrangler ${args.join(" ")} exited with ${code}`));
    });
  });
}

async function ensureDevVars() {
  if (existsSync(DEV_VARS)) return;
  const secret = () => randomBytes(32).toString("base64url");
  await writeFile(
    DEV_VARS,
    [
      "# Local secrets for `wrangler dev`, made by scripts/dev.mjs. Gitignored; delete to regenerate",
      "# (then also delete .wrangler/state: stored signing keys are sealed under ENCRYPTION_KEY).",
      `ENCRYPTION_KEY="${secret()}"`,
      `ADMIN_TOKEN="${secret()}"`,
      "# Local development only: http loopback redirect URIs, sign-up, mail kept in the outbox (/dev/outbox).",
      ...Object.entries(DEV_SETTINGS).map(([name, value]) => `${name}="${value}"`),
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  console.log("Created .dev.vars with fresh local secrets.");
}

/** Polls the metadata endpoint until wrangler dev serves it; fails early if wrangler exits. */
async function waitUntilUp(child) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${URL_BASE}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`${URL_BASE} did not answer within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

async function provision(adminToken) {
  const res = await fetch(`${URL_BASE}/admin/keys`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`POST /admin/keys answered ${res.status}: ${await res.text()}`);
  const { created } = await res.json();
  console.log(created.length ? `Created ${created.length} signing keys.` : "Signing keys already present.");
  console.log("\nDemo clients and user (local demo credentials, never use them elsewhere):\n");
  await seedDemo({ url: URL_BASE, adminToken, stateDir: join(ROOT, ".wrangler", "demo") });
  console.log(`
Sign in through the demo app (open in a browser; ${DEMO_USER.email} / ${DEMO_USER.password}, or create an account):
  ${demoAppUrl(URL_BASE)}/login
  It runs the code flow with PKCE, shows the ID token's claims and UserInfo, refreshes, and signs out.
Mail (verification links): ${URL_BASE}/dev/outbox

A client_credentials token:
  curl -s -u demo-basic:${DEMO_SECRETS["demo-basic"]} -d grant_type=client_credentials -d scope=read ${URL_BASE}/token

Metadata: ${URL_BASE}/.well-known/openid-configuration   Keys: ${URL_BASE}/jwks
Operator CLI: npm run admin -- clients list --url ${URL_BASE}   (the token is read from .dev.vars)
Stop: Ctrl-C. Requests are logged below.
`);
}

await ensureDevVars();
const adminToken = await readDevVar("ADMIN_TOKEN", DEV_VARS);
if (!adminToken) throw new Error(".dev.vars has no ADMIN_TOKEN; add one or delete the file to regenerate it");

await run(["d1", "migrations", "apply", "DB", "--local"]);
console.log("Applied the D1 migrations to the local database.");

// The issuer is this local origin; wrangler.toml holds the production placeholder. Local settings
// that .dev.vars does not name (made by an older dev.mjs) are passed on the command line.
const devVarArgs = [];
for (const [name, value] of Object.entries(DEV_SETTINGS)) {
  if ((await readDevVar(name, DEV_VARS)) === undefined) devVarArgs.push("--var", `${name}:${value}`);
}
// No interactive session (hotkeys, raw terminal): its output goes through this script, and Ctrl-C
// stays an ordinary SIGINT that stops both.
const dev = wrangler(["dev", "--port", String(PORT), "--var", `ISSUER:${URL_BASE}`, "--show-interactive-dev-session=false", ...devVarArgs], {
  stdio: ["inherit", "pipe", "pipe"],
});
// Until the server is seeded, wrangler's start-up output (banner, bindings table, the seeding's own
// admin requests) is held back and shown only if the start fails; afterwards it passes through
// (request log, reloads, the Worker's errors).
const held = [];
let passThrough = false;
for (const [from, to] of [[dev.stdout, process.stdout], [dev.stderr, process.stderr]]) {
  from.on("data", (chunk) => (passThrough ? to.write(chunk) : held.push([to, chunk])));
}
const showHeld = () => {
  for (const [to, chunk] of held.splice(0)) to.write(chunk);
};
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    stopping = true;
    if (dev.exitCode === null) dev.kill(signal);
  });
}
dev.on("exit", (code) => {
  if (!passThrough && !stopping) showHeld();
  process.exit(process.exitCode || code || 0);
});

try {
  await waitUntilUp(dev);
  await provision(adminToken);
  held.length = 0;
  passThrough = true;
} catch (error) {
  if (!stopping) {
    showHeld();
    console.error(`\nnpm run dev: ${error.message}`);
    if (dev.exitCode === null) dev.kill("SIGTERM");
    process.exitCode = 1;
  }
}

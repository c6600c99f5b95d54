// `npm run dev`: a local Latchkey on http://localhost:8787 with demo clients, through `wrangler dev`
// (local D1, KV and Durable Objects under .wrangler/state). Safe to run again: .dev.vars is kept,
// the schema is idempotent, keys are only created when missing and the demo clients are PUT.
//
//   1. .dev.vars (gitignored): random ENCRYPTION_KEY and ADMIN_TOKEN, ALLOW_INSECURE_CLIENT_URIS,
//      SIGNUP_ENABLED and SHOW_DEV_OUTBOX true, MAIL_PROVIDER=outbox, REGISTRATION_POLICY=open
//      (open dynamic client registration at /register; an older .dev.vars that lacks
//      one of these settings gets it with `wrangler dev --var`, so old checkouts work unchanged)
//   2. schema.sql → local D1        3. wrangler dev on port 8787
//   4. POST /admin/keys             5. demo clients and user (scripts/seed.mjs), then examples
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LOCAL_DEV_VARS } from "./local-worker.mjs";
import { DEMO_SECRETS, DEMO_USER, DEMO_WEB_REDIRECT_URIS, readDevVar, seedDemo } from "./seed.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
const PORT = 8787;
const URL_BASE = `http://localhost:${PORT}`;
const DEV_VARS = join(ROOT, ".dev.vars");
const STARTUP_TIMEOUT_MS = 90_000;
/** Local-only settings: http loopback client URIs, self-service sign-up, mail to /dev/outbox. */
const DEV_SETTINGS = { ALLOW_INSECURE_CLIENT_URIS: "true", ...LOCAL_DEV_VARS };

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`Node ${process.versions.node} is too old for wrangler; run \`npm run dev\` (it uses the project's Node 22).`);
  process.exit(1);
}

// Wrangler and anything it starts use this Node (node_modules/.bin first on PATH).
const childEnv = {
  ...process.env,
  PATH: `${join(ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
  WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? "false",
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
  console.log(created.length ? `Created signing keys: ${created.join(", ")}` : "Signing keys already present.");
  console.log("\nDemo clients and user (local demo credentials, never use them elsewhere):\n");
  await seedDemo({ url: URL_BASE, adminToken, stateDir: join(ROOT, ".wrangler", "demo") });
  const signIn = new URL("/authorize", URL_BASE);
  for (const [name, value] of Object.entries({
    response_type: "code", client_id: "demo-web", redirect_uri: DEMO_WEB_REDIRECT_URIS[0], scope: "openid profile email",
    state: "demo-state", nonce: "demo-nonce",
    // PKCE (RFC 7636 Appendix B): this challenge belongs to the verifier dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk
    code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256",
  })) signIn.searchParams.set(name, value);
  console.log(`
Try it:
  curl -s -u demo-basic:${DEMO_SECRETS["demo-basic"]} \\
    -d grant_type=client_credentials -d scope=read ${URL_BASE}/token

Sign in (open in a browser; ${DEMO_USER.email} / ${DEMO_USER.password}, or create an account):
  ${signIn}
  The browser lands on ${DEMO_WEB_REDIRECT_URIS[0]}?code=…; redeem the code with
  curl -s -u demo-web:${DEMO_SECRETS["demo-web"]} -d grant_type=authorization_code -d code=CODE \\
    -d redirect_uri=${DEMO_WEB_REDIRECT_URIS[0]} -d code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk ${URL_BASE}/token
Mail (verification links): ${URL_BASE}/dev/outbox

Metadata: ${URL_BASE}/.well-known/oauth-authorization-server   Keys: ${URL_BASE}/jwks
Admin API: Authorization: Bearer <ADMIN_TOKEN from .dev.vars>   Stop: Ctrl-C
`);
}

await ensureDevVars();
const adminToken = await readDevVar("ADMIN_TOKEN", DEV_VARS);
if (!adminToken) throw new Error(".dev.vars has no ADMIN_TOKEN; add one or delete the file to regenerate it");

await run(["d1", "execute", "DB", "--local", "--file", "schema.sql"]);
console.log("Applied schema.sql to the local D1 database.");

// The issuer is this local origin; wrangler.toml holds the production placeholder. Local settings
// that .dev.vars does not name (made by an older dev.mjs) are passed on the command line.
const devVarArgs = [];
for (const [name, value] of Object.entries(DEV_SETTINGS)) {
  if ((await readDevVar(name, DEV_VARS)) === undefined) devVarArgs.push("--var", `${name}:${value}`);
}
const dev = wrangler(["dev", "--port", String(PORT), "--var", `ISSUER:${URL_BASE}`, ...devVarArgs]);
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    stopping = true;
    if (dev.exitCode === null) dev.kill(signal);
  });
}
dev.on("exit", (code) => process.exit(process.exitCode || code || 0));

try {
  await waitUntilUp(dev);
  await provision(adminToken);
} catch (error) {
  if (!stopping) {
    console.error(`\nnpm run dev: ${error.message}`);
    if (dev.exitCode === null) dev.kill("SIGTERM");
    process.exitCode = 1;
  }
}

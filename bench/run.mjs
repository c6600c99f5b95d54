// `npm run bench`: Latchkey's token, UserInfo and sign-in endpoints against a "floor" Worker that
// does only the same cryptographic work, in the same run on the same machine. See docs/performance.md.
//
//   npm run bench [-- --rounds 3 --duration 5 --warmup 1.5 --concurrency 16 --storage tmpfs
//                     --flow-duration 3 --flow-warmup 1
//                     --signin-duration 4 --signin-warmup 1 --signin-concurrency 2
//                     --out bench/results/latest.json]
//
// Each round runs the scenarios back to back, each flow right after its floor; a pair's ratio is
// taken within a round (same machine state), and the reported ratio is the median over rounds.
// --duration/--warmup size the token-endpoint windows (a)–(d), --flow-* the code-exchange and
// UserInfo windows (e)–(h): authorization codes are single use and live 60 s, and minting them is
// slower than redeeming them, so each round mints a fresh supply (prompt=none requests on a
// signed-in session) just before the code-exchange pair, sized for a shorter window. The sign-in
// pair (i)/(j) is measured once, after the rounds (--signin-*; --signin-duration 0 skips it).
//
// Exit status: 0 when every request succeeded (targets are reported as PASS/MISS, not enforced);
// 1 when any request failed or the bench could not run.

import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { buildWorker, startLocalWorker } from "../scripts/local-worker.mjs";
import { processCpuMs, workerdPids } from "./lib/cpu.mjs";
import { startFloorWorker } from "./lib/floor.mjs";
import { runLoad, summarize } from "./lib/load.mjs";
import { mintCodes, signInAndConsent, signInForm } from "./lib/signin.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const TARGET_RATIO = 0.6;
const TARGET_BUNDLE_GZIP_BYTES = 150 * 1024;
/** Other processes' CPU (cores) above which a run is flagged as noisy. */
const NOISY_NEIGHBOUR_CORES = 0.2;
/** Upper bound on pre-signed assertions (memory and signing time stay small). */
const MAX_ASSERTIONS = 300_000;
/** Hard stop: the bench must never hang a terminal or CI (raised below for long settings). */
const WATCHDOG_MS = 5 * 60 * 1000;
/** Authorization codes expire 60 s after issue (config.codeTtl); every code must be redeemed well within. */
const CODE_TTL_SECONDS = 60;
/** Minting stops after this long, so the last window still ends inside the codes' lifetime. */
const MINT_DEADLINE_SECONDS = 30;
/**
 * Codes minted per round: this many times what one (e) window needs at the fastest (e) rate seen so
 * far, plus 100. The first round goes by the pilot's rate, which a busy machine can make low: twice.
 */
const CODE_SUPPLY_FACTOR = 1.3;
const FIRST_CODE_SUPPLY_FACTOR = 2;
const MAX_CODES = 60_000;
/** The code-flow client: a confidential web app, ID tokens RS256 (the registration default). */
const WEB_CLIENT = { clientId: "bench-web", redirectUri: "https://bench.example/callback", scope: "openid profile email" };
const BENCH_PASSWORD = "bench-password-not-for-production";
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1.5" },
    concurrency: { type: "string", default: "16" },
    "flow-duration": { type: "string", default: "3" },
    "flow-warmup": { type: "string", default: "1" },
    "signin-duration": { type: "string", default: "4" },
    "signin-warmup": { type: "string", default: "1" },
    "signin-concurrency": { type: "string", default: "2" },
    out: { type: "string", default: join(ROOT, "bench", "results", "latest.json") },
    storage: { type: "string", default: existsSync("/dev/shm") ? "tmpfs" : "disk" },
  },
});
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const flowMs = Number(args["flow-duration"]) * 1000;
const flowWarmupMs = Number(args["flow-warmup"]) * 1000;
const signinMs = Number(args["signin-duration"]) * 1000;
const signinWarmupMs = Number(args["signin-warmup"]) * 1000;
const signinConcurrency = Number(args["signin-concurrency"]);
const valid =
  durationMs > 0 && warmupMs >= 0 && Number.isInteger(rounds) && rounds >= 1 && rounds <= 20 &&
  Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 256 && ["tmpfs", "disk"].includes(args.storage) &&
  flowMs > 0 && flowWarmupMs >= 0 && signinMs >= 0 && signinWarmupMs >= 0 && Number.isInteger(signinConcurrency) && signinConcurrency > 0 && signinConcurrency <= 16 &&
  // Codes are minted before the code-exchange floor's window; all of them must outlive both windows.
  MINT_DEADLINE_SECONDS + (2 * (flowWarmupMs + flowMs)) / 1000 < CODE_TTL_SECONDS - 5;
if (!valid) {
  console.error(
    "usage: npm run bench -- [--rounds N] [--duration SECONDS] [--warmup SECONDS] [--concurrency N] [--storage tmpfs|disk]\n" +
      "                       [--flow-duration SECONDS] [--flow-warmup SECONDS]\n" +
      "                       [--signin-duration SECONDS (0 skips the sign-in pair)] [--signin-warmup SECONDS] [--signin-concurrency N] [--out FILE]\n" +
      `(flow warm-up + duration at most ${(CODE_TTL_SECONDS - 5 - MINT_DEADLINE_SECONDS) / 2} s: authorization codes live ${CODE_TTL_SECONDS} s)`,
  );
  process.exit(2);
}

// The longest the run should take (minting at its deadline, 60 s for set-up), twice over.
const expectedMs =
  rounds * (4 * (warmupMs + durationMs) + 4 * (flowWarmupMs + flowMs) + MINT_DEADLINE_SECONDS * 1000) + 2 * (signinWarmupMs + signinMs) + 60_000;
const watchdogMs = Math.max(WATCHDOG_MS, 2 * expectedMs);
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${watchdogMs / 1000} s; giving up`);
  process.exit(1);
}, watchdogMs);
watchdog.unref();

const log = (message) => console.error(`bench: ${message}`);
const b64json = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** RFC 6749 §2.3.1 / Appendix B: form-encode id and secret, then base64 `id:secret`. */
function basicAuth(id, secret) {
  const enc = (s) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString("base64")}`;
}

/** Pre-signed client assertions (RFC 7523 §3), each with its own jti, valid for the whole run. */
function signAssertions(count, { clientId, kid, privateKey, audience }) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64json({ alg: "ES256", kid, typ: "JWT" });
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    // exp 5 minutes ahead: outlasts the run, within Latchkey's 600 s maximum assertion lifetime.
    const input = `${header}.${b64json({ iss: clientId, sub: clientId, aud: audience, iat: now, exp: now + 300, jti: randomUUID() })}`;
    out[i] = `${input}.${sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  }
  return out;
}

async function expectOk(label, response, status = 200) {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${label}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

/** Response checks for the load generator (the token requests use its default: 200 with an access token). */
const expectIdToken = (status, text) =>
  status === 200 && text.includes('"access_token"') && text.includes('"id_token"') ? undefined : `${status} (expected 200 with an ID token) ${text}`;
const expectSub = (status, text) => (status === 200 && text.includes('"sub"') ? undefined : `${status} (expected 200 with sub) ${text}`);
const expectSignedIn = (status, text, headers) =>
  status === 303 && String(headers.location ?? "").startsWith("/authorize/continue?") && String(headers["set-cookie"] ?? "").includes("session")
    ? undefined
    : `${status} (expected 303 to /authorize/continue with a session cookie) location=${headers.location} ${text.slice(0, 300)}`;

async function bundleSize(bundlePath) {
  const bytes = await readFile(bundlePath);
  return { file: relative(ROOT, bundlePath), bytes: bytes.byteLength, gzipBytes: gzipSync(bytes).byteLength };
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const pct = (r) => (Number.isFinite(r) ? `${(r * 100).toFixed(1)}%` : "n/a");
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The commit measured (with "+dirty" when the Worker's sources have uncommitted changes). */
function commit() {
  try {
    const git = (...a) => execFileSync("git", a, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = git("status", "--porcelain", "--", "src", "workers", "wrangler.toml", "package-lock.json") !== "";
    return `${git("rev-parse", "--short", "HEAD")}${dirty ? "+dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

function table(rows, columns) {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("  ");
  return [line(columns), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main() {
  const started = Date.now();
  const measured = commit(); // before the build: HEAD may move while the bench runs
  const disposers = [];
  try {
    log("building the Worker and starting it in Miniflare (workerd) …");
    const bundlePath = await buildWorker();
    const bundle = await bundleSize(bundlePath);
    // Local D1/KV/Durable Object storage on tmpfs: the bench measures CPU per request, not this
    // VM's fsync latency (a DO write holds its response until the write is durable).
    let persistTo;
    if (args.storage === "tmpfs") {
      persistTo = await mkdtemp("/dev/shm/latchkey-bench-");
      disposers.push(() => rm(persistTo, { recursive: true, force: true }));
    }
    const before = new Set(workerdPids());
    const latchkey = await startLocalWorker({ persistTo });
    disposers.push(latchkey.dispose);
    const latchkeyPid = workerdPids().find((p) => !before.has(p));

    const discovery = await expectOk("discovery", await fetch(`${latchkey.url}/.well-known/openid-configuration`));
    const issuer = discovery.issuer;

    // The two clients, registered through the operator API.
    const admin = { authorization: `Bearer ${latchkey.adminToken}`, "content-type": "application/json" };
    const register = async (id, body) =>
      expectOk(`register ${id}`, await fetch(`${latchkey.url}/admin/clients/${id}`, { method: "PUT", headers: admin, body: JSON.stringify(body) }));
    const basicClient = await register("bench-basic", {
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["client_credentials"],
      scope: "read write",
    });
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const publicJwk = { ...publicKey.export({ format: "jwk" }), kid: "bench-es256", alg: "ES256", use: "sig" };
    await register("bench-jwt", {
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [publicJwk] },
      grant_types: ["client_credentials"],
      scope: "read write",
    });
    const signer = { clientId: "bench-jwt", kid: publicJwk.kid, privateKey, audience: issuer };

    const floor = await startFloorWorker({ clientJwk: publicJwk, issuer });
    disposers.push(floor.dispose);
    const origin = new URL(latchkey.url).origin;

    // The code flow: a confidential web client (client_secret_basic, ID tokens RS256 by default)
    // and people with passwords, created through the operator API.
    const webClient = await register(WEB_CLIENT.clientId, {
      client_name: "Bench Web App",
      token_endpoint_auth_method: "client_secret_basic",
      grant_types: ["authorization_code"],
      response_types: ["code"],
      redirect_uris: [WEB_CLIENT.redirectUri],
    });
    const createUser = async (email) => {
      const body = { email, password: BENCH_PASSWORD, email_verified: true, claims: { name: "Bench Person", given_name: "Bench", family_name: "Person" } };
      const user = await expectOk(`create ${email}`, await fetch(`${origin}/admin/users`, { method: "POST", headers: admin, body: JSON.stringify(body) }), 201);
      return { ...user, password: BENCH_PASSWORD };
    };
    const person = await createUser("bench-person@example.com");
    // Sign-in scenario: one account per concurrent loop (and at least two), used round robin.
    const signinUsers = [];
    for (let i = 1; i <= Math.max(2, signinConcurrency); i++) signinUsers.push(await createUser(`bench-signin-${i}@example.com`));

    // The real flow once: /authorize → /login → /consent → the client, with a session cookie to keep.
    log("signing in through /authorize, /login and /consent …");
    const signedIn = await signInAndConsent({ origin, client: WEB_CLIENT, user: person });
    const sessionCookie = signedIn.browser.cookieHeader;

    // Request makers. Every assertion is used once against Latchkey (a fresh jti per request).
    const basicBody = "grant_type=client_credentials&scope=read+write";
    const basicHeaders = { ...FORM, authorization: basicAuth("bench-basic", basicClient.client_secret) };
    const jwtBody = (assertion) =>
      `grant_type=client_credentials&scope=read+write&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${assertion}`;
    let assertions = signAssertions(1, signer);

    const webHeaders = { ...FORM, authorization: basicAuth(WEB_CLIENT.clientId, webClient.client_secret) };
    const exchangeBody = ({ code, verifier }) =>
      `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(WEB_CLIENT.redirectUri)}&code_verifier=${verifier}`;
    /** Pre-minted codes for the current round's (e) window, oldest first; each is redeemed once. */
    let codes = [];

    // One request of each kind first: a wrong setup fails here, with the server's answer.
    await expectOk("client_secret_basic", await fetch(`${origin}/token`, { method: "POST", headers: basicHeaders, body: basicBody }));
    await expectOk("private_key_jwt", await fetch(`${origin}/token`, { method: "POST", headers: FORM, body: jwtBody(assertions[0]) }));
    await expectOk("floor /sign", await fetch(`${floor.url}/sign`, { method: "POST", body: "" }));
    await expectOk("floor /verify-sign", await fetch(`${floor.url}/verify-sign`, { method: "POST", body: assertions[0] }));
    const firstTokens = await expectOk(
      "authorization_code",
      await fetch(`${origin}/token`, { method: "POST", headers: webHeaders, body: exchangeBody(signedIn) }),
    );
    const idTokenAlg = firstTokens.id_token ? JSON.parse(Buffer.from(firstTokens.id_token.split(".")[0], "base64url")).alg : undefined;
    if (idTokenAlg !== "RS256") throw new Error(`the code exchange answered no RS256 ID token (alg ${idTokenAlg})`);
    // UserInfo: every request of a round reuses one access token, from a code of that round (below).
    let userinfoHeaders = { authorization: `Bearer ${firstTokens.access_token}` };
    await expectOk("userinfo", await fetch(`${origin}/userinfo`, { headers: userinfoHeaders }));
    // The floor's sealed code has exactly the plaintext size of Latchkey's (v1.<iv>.<ciphertext+16-byte tag>).
    const codePlaintextBytes = Buffer.from(signedIn.code.split(".")[2] ?? "", "base64url").length - 16;
    const floorCodeQuery = new URLSearchParams({
      size: String(codePlaintextBytes), client_id: WEB_CLIENT.clientId, redirect_uri: WEB_CLIENT.redirectUri, scope: WEB_CLIENT.scope, sub: person.id,
    });
    const floorCode = await expectOk("floor /code", await fetch(`${floor.url}/code?${floorCodeQuery}`));
    if (floorCode.code.length !== signedIn.code.length) log(`note: floor code ${floorCode.code.length} characters, Latchkey's ${signedIn.code.length}`);
    const floorExchangeBody = exchangeBody({ code: floorCode.code, verifier: floorCode.code_verifier });
    const floorTokens = await expectOk("floor /exchange", await fetch(`${floor.url}/exchange`, { method: "POST", headers: webHeaders, body: floorExchangeBody }));
    const floorUserinfoHeaders = { authorization: `Bearer ${floorTokens.access_token}` };
    await expectOk("floor /userinfo", await fetch(`${floor.url}/userinfo`, { headers: floorUserinfoHeaders }));
    // Sign-in: one sealed transaction and CSRF token (with its cookie) serve every POST /login.
    const loginForm = await signInForm({ origin, client: WEB_CLIENT });
    const loginHeaders = { ...FORM, cookie: loginForm.cookie, origin, "sec-fetch-site": "same-origin" };
    const loginBodies = signinUsers.map((user) => {
      const fields = new URLSearchParams(loginForm.fields);
      fields.set("email", user.email);
      fields.set("password", user.password);
      return fields.toString();
    });
    {
      const res = await fetch(`${origin}/login`, { method: "POST", headers: loginHeaders, body: loginBodies[0], redirect: "manual" });
      const problem = expectSignedIn(res.status, await res.text(), { location: res.headers.get("location"), "set-cookie": res.headers.get("set-cookie") });
      if (problem) throw new Error(`POST /login: ${problem}`);
    }
    await expectOk("floor /pbkdf2", await fetch(`${floor.url}/pbkdf2`, { method: "POST", body: BENCH_PASSWORD }));

    const scenarios = {
      basic: {
        label: "client_secret_basic",
        origin,
        serverPid: latchkeyPid,
        next: () => ({ path: "/token", headers: basicHeaders, body: basicBody }),
      },
      privateKeyJwt: {
        label: "private_key_jwt (fresh assertion per request)",
        origin,
        serverPid: latchkeyPid,
        next: () => (jwtNext < assertions.length ? { path: "/token", headers: FORM, body: jwtBody(assertions[jwtNext++]) } : null),
      },
      floorSign: {
        label: "floor /sign (1 ES256 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        next: () => ({ path: "/sign", headers: {}, body: "" }),
      },
      floorVerifySign: {
        label: "floor /verify-sign (1 ES256 verify + 1 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        next: () => ({ path: "/verify-sign", headers: {}, body: assertions[floorNext++ % assertions.length] }),
      },
      codeExchange: {
        label: "authorization_code + PKCE + ID token (fresh code per request)",
        origin,
        serverPid: latchkeyPid,
        check: expectIdToken,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => (codeNext < codes.length ? { path: "/token", headers: webHeaders, body: exchangeBody(codes[codeNext++]) } : null),
      },
      floorExchange: {
        label: "floor /exchange (AES-GCM open, 2 SHA-256, ES256 + RS256 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectIdToken,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ path: "/exchange", headers: webHeaders, body: floorExchangeBody }),
      },
      userinfo: {
        label: "GET /userinfo (one access token, reused)",
        origin,
        serverPid: latchkeyPid,
        check: expectSub,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ method: "GET", path: "/userinfo", headers: userinfoHeaders }),
      },
      floorUserinfo: {
        label: "floor /userinfo (1 ES256 verify)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectSub,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ method: "GET", path: "/userinfo", headers: floorUserinfoHeaders }),
      },
      signIn: {
        label: "POST /login (correct password)",
        origin,
        serverPid: latchkeyPid,
        concurrency: signinConcurrency,
        warmupMs: signinWarmupMs,
        durationMs: signinMs,
        check: expectSignedIn,
        next: () => ({ path: "/login", headers: loginHeaders, body: loginBodies[loginNext++ % loginBodies.length] }),
      },
      floorPbkdf2: {
        label: "floor /pbkdf2 (1 PBKDF2-SHA256, 100,000 iterations)",
        origin: floor.url,
        serverPid: floor.pid,
        concurrency: signinConcurrency,
        warmupMs: signinWarmupMs,
        durationMs: signinMs,
        check: (status, text) => (status === 200 ? undefined : `${status} ${text}`),
        next: () => ({ path: "/pbkdf2", headers: {}, body: BENCH_PASSWORD }),
      },
    };
    let jwtNext = 0;
    let floorNext = 0;
    let codeNext = 0;
    let loginNext = 0;
    const signinMeasured = signinMs > 0;
    const windows = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
    const pairs = [
      ["basic", "floorSign"],
      ["privateKeyJwt", "floorVerifySign"],
      ["codeExchange", "floorExchange"],
      ["userinfo", "floorUserinfo"],
      ["signIn", "floorPbkdf2"],
    ];
    const roundRatios = { basicToSign: [], privateKeyJwtToVerifySign: [], codeExchangeToFloor: [], userinfoToFloor: [], signInToPbkdf2: [] };
    const minting = [];

    const measure = async (key, round) => {
      const { label, ...options } = scenarios[key];
      const w = await runLoad({ concurrency, warmupMs, durationMs, ...options });
      windows[key].push(w);
      const rps = w.latencies.length / w.seconds;
      log(`  ${typeof round === "number" ? `round ${round}` : `${round}   `}  ${label.padEnd(62)} ${fmt(rps).padStart(6)} req/s${w.failures ? `, ${w.failures} FAILED` : ""}${w.supplyExhausted ? " (supply ran out)" : ""}`);
      return rps;
    };

    /** Mints `count` fresh codes for the next (e) window and records what minting cost. */
    const mint = async (count, round) => {
      const cpuBefore = processCpuMs(latchkeyPid);
      const m = await mintCodes({ origin, cookie: sessionCookie, client: WEB_CLIENT, count, concurrency, deadlineSeconds: MINT_DEADLINE_SECONDS });
      const cpuAfter = processCpuMs(latchkeyPid);
      const serverMsPerCode = cpuBefore !== undefined && cpuAfter !== undefined && m.codes.length ? (cpuAfter - cpuBefore) / m.codes.length : null;
      minting.push({ round, wanted: count, minted: m.codes.length, seconds: m.seconds, serverMsPerCode });
      log(`  ${typeof round === "number" ? `round ${round}` : round}  minted ${m.codes.length} codes (prompt=none) in ${fmt(m.seconds, 1)} s: ${fmt(m.codes.length / m.seconds)} codes/s, ${fmt(serverMsPerCode, 2)} ms workerd CPU each`);
      codes = m.codes;
      codeNext = 0;
    };

    // A short unmeasured run of code exchanges: warms the path (the first 200) and estimates its rate
    // (the next 400), from which the first round's code supply is sized; later rounds use the fastest
    // (e) window so far.
    await mint(600, "pilot");
    const supply = codes;
    const pilotRun = async (part) => {
      codes = part;
      codeNext = 0;
      const w = await runLoad({ ...scenarios.codeExchange, concurrency, warmupMs: 0, durationMs: 30_000 });
      if (w.failures) throw new Error(`code exchange pilot: ${w.failures} failed: ${w.failureSamples.join(" | ")}`);
      return w.latencies.length / Math.max(w.seconds, 0.001);
    };
    await pilotRun(supply.slice(0, 200));
    let codeRate = await pilotRun(supply.slice(200));
    log(`pilot: 600 code exchanges, the last 400 at ${fmt(codeRate)} req/s`);

    log(
      `${rounds} round(s) × (4 token scenarios × (${warmupMs / 1000} s warm-up + ${durationMs / 1000} s) + 4 code-exchange/UserInfo scenarios × ` +
        `(${flowWarmupMs / 1000} s + ${flowMs / 1000} s)), concurrency ${concurrency}, storage on ${args.storage}`,
    );
    if (signinMeasured) log(`then the sign-in pair once: ${signinWarmupMs / 1000} s warm-up + ${signinMs / 1000} s per window, concurrency ${signinConcurrency}`);
    for (let round = 1; round <= rounds; round++) {
      // Each flow right after its floor, so the pair sees the same machine state.
      const sign = await measure("floorSign", round);
      const basic = await measure("basic", round);
      if (round === 1) {
        // Enough assertions for every private_key_jwt window, sized from the basic flow's rate (an
        // upper bound: the JWT flow does strictly more work), all signed before their windows start.
        const perWindow = basic * ((warmupMs + durationMs) / 1000);
        const needed = Math.min(MAX_ASSERTIONS, Math.ceil(perWindow * rounds * 1.5) + 2000);
        log(`signing ${needed} client assertions …`);
        assertions = signAssertions(needed, signer);
      }
      const verifySign = await measure("floorVerifySign", round);
      const jwt = await measure("privateKeyJwt", round);
      roundRatios.basicToSign.push(basic / sign);
      roundRatios.privateKeyJwtToVerifySign.push(jwt / verifySign);

      // (e)/(f): this round's codes, minted just before the pair (they live 60 s; see the usage check).
      const factor = round === 1 ? FIRST_CODE_SUPPLY_FACTOR : CODE_SUPPLY_FACTOR;
      await mint(Math.min(MAX_CODES, Math.ceil(codeRate * ((flowWarmupMs + flowMs) / 1000) * factor) + 101), round);
      // One of them for this round's UserInfo token (access tokens live 10 minutes; a long run outlasts one).
      const tokens = await expectOk("authorization_code", await fetch(`${origin}/token`, { method: "POST", headers: webHeaders, body: exchangeBody(codes.pop()) }));
      userinfoHeaders = { authorization: `Bearer ${tokens.access_token}` };
      const exchangeFloor = await measure("floorExchange", round);
      const exchange = await measure("codeExchange", round);
      codeRate = Math.max(codeRate, exchange);
      roundRatios.codeExchangeToFloor.push(exchange / exchangeFloor);

      const userinfoFloor = await measure("floorUserinfo", round);
      const userinfo = await measure("userinfo", round);
      roundRatios.userinfoToFloor.push(userinfo / userinfoFloor);

    }
    // Sign-in: once, PBKDF2 floor first. No ratio target; the CPU per request is what matters.
    if (signinMeasured) {
      const pbkdf2 = await measure("floorPbkdf2", "once");
      const signIn = await measure("signIn", "once");
      roundRatios.signInToPbkdf2.push(signIn / pbkdf2);
    }

    // ---- report ----
    const results = Object.fromEntries(
      Object.entries(windows).filter(([, ws]) => ws.length).map(([k, ws]) => [k, { label: scenarios[k].label, ...summarize(ws) }]),
    );
    const median = (xs) => {
      const sorted = [...xs].sort((x, y) => x - y);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const ratioKeys = ["basicToSign", "privateKeyJwtToVerifySign", "codeExchangeToFloor", "userinfoToFloor", "signInToPbkdf2"];
    const ratios = Object.fromEntries(ratioKeys.map((key) => [key, roundRatios[key].length ? median(roundRatios[key]) : NaN]));
    const cpuRatio = (flow, floorKey) =>
      (results[floorKey]?.cpu.serverMsPerRequest ?? NaN) / (results[flow]?.cpu.serverMsPerRequest ?? NaN);
    const cpuRatios = Object.fromEntries(ratioKeys.map((key, i) => [key, cpuRatio(...pairs[i])]));
    const failures = Object.values(results).reduce((n, r) => n + r.failures, 0);
    const exhausted = Object.values(results).some((r) => r.supplyExhausted);
    const targets = {
      basicRatio: { target: `>= ${TARGET_RATIO * 100}%`, value: ratios.basicToSign, pass: ratios.basicToSign >= TARGET_RATIO },
      privateKeyJwtRatio: {
        target: `>= ${TARGET_RATIO * 100}%`,
        value: ratios.privateKeyJwtToVerifySign,
        pass: ratios.privateKeyJwtToVerifySign >= TARGET_RATIO,
      },
      codeExchangeRatio: { target: `>= ${TARGET_RATIO * 100}%`, value: ratios.codeExchangeToFloor, pass: ratios.codeExchangeToFloor >= TARGET_RATIO },
      userinfoRatio: { target: `>= ${TARGET_RATIO * 100}%`, value: ratios.userinfoToFloor, pass: ratios.userinfoToFloor >= TARGET_RATIO },
      bundleGzip: { target: `< ${kib(TARGET_BUNDLE_GZIP_BYTES)}`, value: bundle.gzipBytes, pass: bundle.gzipBytes < TARGET_BUNDLE_GZIP_BYTES },
    };

    const order = [
      "basic", "floorSign", "privateKeyJwt", "floorVerifySign", "codeExchange", "floorExchange", "userinfo", "floorUserinfo", "signIn", "floorPbkdf2",
    ].filter((k) => results[k]);
    const letters = {
      basic: "a", privateKeyJwt: "b", floorSign: "c", floorVerifySign: "d", codeExchange: "e", floorExchange: "f",
      userinfo: "g", floorUserinfo: "h", signIn: "i", floorPbkdf2: "j",
    };
    console.log();
    console.log(`Latchkey token endpoint bench — ${new Date().toISOString()} — commit ${measured}`);
    console.log(
      `${rounds} round(s) of ${durationMs / 1000} s per scenario (after ${warmupMs / 1000} s warm-up each), concurrency ${concurrency}, storage on ${args.storage}, ${cpus().length} CPUs`,
    );
    console.log(`(e)–(h): ${flowMs / 1000} s per scenario per round (after ${flowWarmupMs / 1000} s warm-up each), same concurrency`);
    if (signinMeasured) console.log(`(i) and (j): once, ${signinMs / 1000} s each (after ${signinWarmupMs / 1000} s warm-up), concurrency ${signinConcurrency}`);
    console.log();
    console.log(
      table(
        order.map((k) => {
          const r = results[k];
          return [
            `(${letters[k]}) ${r.label}`,
            fmt(r.rps),
            fmt(r.p50Ms, 2),
            fmt(r.p99Ms, 2),
            fmt(r.cpu?.serverMsPerRequest, 3),
            fmt(r.cpu?.serverCores, 2),
            r.failures,
          ];
        }),
        ["scenario", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "server cores", "failed"],
      ),
    );
    console.log();
    const mark = (t) => (t.pass ? "PASS" : "MISS");
    const ratioLine = (name, key, target) =>
      `${name} ${pct(ratios[key]).padStart(6)} of the floor's req/s  [target ${target.target}: ${mark(target)}]` +
      `  rounds: ${roundRatios[key].map(pct).join(", ")}; floor/flow CPU per request: ${pct(cpuRatios[key])}`;
    console.log(ratioLine("(a)/(c) client_secret_basic:", "basicToSign", targets.basicRatio));
    console.log(ratioLine("(b)/(d) private_key_jwt:    ", "privateKeyJwtToVerifySign", targets.privateKeyJwtRatio));
    console.log(ratioLine("(e)/(f) authorization_code: ", "codeExchangeToFloor", targets.codeExchangeRatio));
    console.log(ratioLine("(g)/(h) userinfo:           ", "userinfoToFloor", targets.userinfoRatio));
    if (signinMeasured) {
      const flowMs = results.signIn.cpu.serverMsPerRequest;
      const floorMs = results.floorPbkdf2.cpu.serverMsPerRequest;
      console.log(
        `(i) sign-in: ${fmt(flowMs, 1)} ms workerd CPU per POST /login against (j) ${fmt(floorMs, 1)} ms for one PBKDF2: ` +
          `the floor is ${pct(cpuRatios.signInToPbkdf2)} of it (${fmt(flowMs - floorMs, 1)} ms besides PBKDF2); ` +
          `${fmt(results.signIn.rps, 1)} vs ${fmt(results.floorPbkdf2.rps, 1)} req/s (${pct(ratios.signInToPbkdf2)}). No target.`,
      );
    }
    const minted = minting.filter((m) => m.round !== "pilot");
    if (minted.length) {
      const codesMinted = minted.reduce((n, m) => n + m.minted, 0);
      const mintSeconds = minted.reduce((t, m) => t + m.seconds, 0);
      const cpuEach = minted.map((m) => m.serverMsPerCode).filter(Number.isFinite);
      console.log(
        `Codes: ${minted.map((m) => m.minted).join(" + ")} minted by prompt=none authorization requests at ${fmt(codesMinted / mintSeconds)} codes/s ` +
          `(${cpuEach.length ? `${fmt(Math.min(...cpuEach), 2)}–${fmt(Math.max(...cpuEach), 2)}` : "n/a"} ms workerd CPU each), ` +
          `of which ${results.codeExchange?.sent ?? 0} were redeemed.`,
      );
    }    console.log(`Worker bundle ${bundle.file}: ${kib(bundle.bytes)}, gzip ${kib(bundle.gzipBytes)}   [target ${targets.bundleGzip.target}: ${mark(targets.bundleGzip)}]`);
    const lg = Object.values(results).map((r) => r.cpu?.loadGeneratorCores ?? NaN).filter(Number.isFinite);
    if (lg.length) console.log(`Load generator (Node) used ${fmt(Math.min(...lg), 2)}–${fmt(Math.max(...lg), 2)} of this machine's cores during the windows.`);
    const others = Object.values(results).map((r) => r.cpu?.otherCores ?? NaN).filter(Number.isFinite);
    const busiestNeighbour = others.length ? Math.max(...others) : NaN;
    if (Number.isFinite(busiestNeighbour)) {
      console.log(`Other processes used up to ${fmt(busiestNeighbour, 2)} cores during the windows.`);
      if (busiestNeighbour > NOISY_NEIGHBOUR_CORES) console.log("WARNING: the machine was not quiet; these figures are noisy. Run again when nothing else is running.");
    }
    if (exhausted) {
      const which = order.filter((k) => results[k].supplyExhausted).map((k) => `(${letters[k]})`).join(", ");
      console.log(`WARNING: the pre-made assertions or codes ran out before the end of a window of ${which}; that window was shortened.`);
    }
    console.log(
      failures
        ? `FAILED: ${failures} request(s) were not answered as expected.`
        : "All requests answered as expected: token requests 200 with an access token (and an ID token for codes), UserInfo 200, sign-in 303.",
    );
    for (const r of Object.values(results)) for (const sample of r.failureSamples) console.log(`  ${r.label}: ${sample}`);

    const report = {
      date: new Date().toISOString(),
      commit: measured,
      machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model },
      settings: {
        rounds, concurrency, warmupSeconds: warmupMs / 1000, durationSeconds: durationMs / 1000, storage: args.storage,
        flow: { warmupSeconds: flowWarmupMs / 1000, durationSeconds: flowMs / 1000 },
        signin: signinMeasured ? { concurrency: signinConcurrency, warmupSeconds: signinWarmupMs / 1000, durationSeconds: signinMs / 1000 } : null,
      },
      scenarios: Object.fromEntries(order.map((k) => [k, results[k]])),
      ratios,
      roundRatios,
      cpuRatios,
      codeMinting: minting,
      bundle,
      targets,
      failures,
      totalSeconds: (Date.now() - started) / 1000,
    };
    await mkdir(dirname(args.out), { recursive: true });
    const rounded = (_key, value) => (typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value);
    await writeFile(args.out, `${JSON.stringify(report, rounded, 2)}\n`);
    console.log(`Results: ${relative(process.cwd(), args.out)} (total ${fmt(report.totalSeconds, 0)} s)`);
    return failures === 0 ? 0 : 1;
  } finally {
    for (const dispose of disposers.reverse()) await dispose().catch(() => {});
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench: ${error?.stack ?? error}`);
    process.exit(1);
  },
);

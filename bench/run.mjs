// `npm run bench`: Latchkey's token endpoint against a "floor" Worker that does only the same
// signature work, in the same run on the same machine. See docs/performance.md.
//
//   npm run bench [-- --rounds 3 --duration 5 --warmup 1.5 --concurrency 16 --storage tmpfs
//                     --out bench/results/latest.json]
//
// Each round runs the four scenarios back to back, each flow right after its floor; a pair's ratio
// is taken within a round (same machine state), and the reported ratio is the median over rounds.
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
import { workerdPids } from "./lib/cpu.mjs";
import { startFloorWorker } from "./lib/floor.mjs";
import { runLoad, summarize } from "./lib/load.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const TARGET_RATIO = 0.6;
const TARGET_BUNDLE_GZIP_BYTES = 150 * 1024;
/** Other processes' CPU (cores) above which a run is flagged as noisy. */
const NOISY_NEIGHBOUR_CORES = 0.2;
/** Upper bound on pre-signed assertions (memory and signing time stay small). */
const MAX_ASSERTIONS = 300_000;
/** Hard stop: the bench must never hang a terminal or CI. */
const WATCHDOG_MS = 5 * 60 * 1000;
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1.5" },
    concurrency: { type: "string", default: "16" },
    out: { type: "string", default: join(ROOT, "bench", "results", "latest.json") },
    storage: { type: "string", default: existsSync("/dev/shm") ? "tmpfs" : "disk" },
  },
});
const durationMs = Number(args.duration) * 1000;
const warmupMs = Number(args.warmup) * 1000;
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const valid =
  durationMs > 0 && warmupMs >= 0 && Number.isInteger(rounds) && rounds >= 1 && rounds <= 20 &&
  Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 256 && ["tmpfs", "disk"].includes(args.storage);
if (!valid) {
  console.error(
    "usage: npm run bench -- [--rounds N] [--duration SECONDS] [--warmup SECONDS] [--concurrency N] [--storage tmpfs|disk] [--out FILE]",
  );
  process.exit(2);
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 1000} s; giving up`);
  process.exit(1);
}, WATCHDOG_MS);
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

async function expectOk(label, response) {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${label}: HTTP ${response.status}: ${text}`);
  return JSON.parse(text);
}

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

    // Request makers. Every assertion is used once against Latchkey (a fresh jti per request).
    const basicBody = "grant_type=client_credentials&scope=read+write";
    const basicHeaders = { ...FORM, authorization: basicAuth("bench-basic", basicClient.client_secret) };
    const jwtBody = (assertion) =>
      `grant_type=client_credentials&scope=read+write&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${assertion}`;
    let assertions = signAssertions(1, signer);

    // One request of each kind first: a wrong setup fails here, with the server's answer.
    const origin = new URL(latchkey.url).origin;
    await expectOk("client_secret_basic", await fetch(`${origin}/token`, { method: "POST", headers: basicHeaders, body: basicBody }));
    await expectOk("private_key_jwt", await fetch(`${origin}/token`, { method: "POST", headers: FORM, body: jwtBody(assertions[0]) }));
    await expectOk("floor /sign", await fetch(`${floor.url}/sign`, { method: "POST", body: "" }));
    await expectOk("floor /verify-sign", await fetch(`${floor.url}/verify-sign`, { method: "POST", body: assertions[0] }));

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
    };
    let jwtNext = 0;
    let floorNext = 0;
    const windows = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
    const pairs = [
      ["basic", "floorSign"],
      ["privateKeyJwt", "floorVerifySign"],
    ];
    const roundRatios = { basicToSign: [], privateKeyJwtToVerifySign: [] };

    const measure = async (key, round) => {
      const { label, ...options } = scenarios[key];
      const w = await runLoad({ concurrency, warmupMs, durationMs, ...options });
      windows[key].push(w);
      const rps = w.latencies.length / w.seconds;
      log(`  round ${round}  ${label.padEnd(46)} ${fmt(rps).padStart(6)} req/s${w.failures ? `, ${w.failures} FAILED` : ""}`);
      return rps;
    };

    log(`${rounds} round(s) × 4 scenarios × (${warmupMs / 1000} s warm-up + ${durationMs / 1000} s), concurrency ${concurrency}, storage on ${args.storage}`);
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
    }

    // ---- report ----
    const results = Object.fromEntries(Object.entries(windows).map(([k, ws]) => [k, { label: scenarios[k].label, ...summarize(ws) }]));
    const median = (xs) => {
      const sorted = [...xs].sort((x, y) => x - y);
      const mid = sorted.length >> 1;
      return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const ratios = {
      basicToSign: median(roundRatios.basicToSign),
      privateKeyJwtToVerifySign: median(roundRatios.privateKeyJwtToVerifySign),
    };
    const cpuRatio = (flow, floorKey) =>
      (results[floorKey].cpu.serverMsPerRequest ?? NaN) / (results[flow].cpu.serverMsPerRequest ?? NaN);
    const cpuRatios = {
      basicToSign: cpuRatio(...pairs[0]),
      privateKeyJwtToVerifySign: cpuRatio(...pairs[1]),
    };
    const failures = Object.values(results).reduce((n, r) => n + r.failures, 0);
    const exhausted = Object.values(results).some((r) => r.supplyExhausted);
    const targets = {
      basicRatio: { target: `>= ${TARGET_RATIO * 100}%`, value: ratios.basicToSign, pass: ratios.basicToSign >= TARGET_RATIO },
      privateKeyJwtRatio: {
        target: `>= ${TARGET_RATIO * 100}%`,
        value: ratios.privateKeyJwtToVerifySign,
        pass: ratios.privateKeyJwtToVerifySign >= TARGET_RATIO,
      },
      bundleGzip: { target: `< ${kib(TARGET_BUNDLE_GZIP_BYTES)}`, value: bundle.gzipBytes, pass: bundle.gzipBytes < TARGET_BUNDLE_GZIP_BYTES },
    };

    const order = ["basic", "floorSign", "privateKeyJwt", "floorVerifySign"];
    const letters = { basic: "a", privateKeyJwt: "b", floorSign: "c", floorVerifySign: "d" };
    console.log();
    console.log(`Latchkey token endpoint bench — ${new Date().toISOString()} — commit ${measured}`);
    console.log(
      `${rounds} round(s) of ${durationMs / 1000} s per scenario (after ${warmupMs / 1000} s warm-up each), concurrency ${concurrency}, storage on ${args.storage}, ${cpus().length} CPUs`,
    );
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
    console.log(`Worker bundle ${bundle.file}: ${kib(bundle.bytes)}, gzip ${kib(bundle.gzipBytes)}   [target ${targets.bundleGzip.target}: ${mark(targets.bundleGzip)}]`);
    const lg = Object.values(results).map((r) => r.cpu?.loadGeneratorCores ?? NaN).filter(Number.isFinite);
    if (lg.length) console.log(`Load generator (Node) used ${fmt(Math.min(...lg), 2)}–${fmt(Math.max(...lg), 2)} of this machine's cores during the windows.`);
    const others = Object.values(results).map((r) => r.cpu?.otherCores ?? NaN).filter(Number.isFinite);
    const busiestNeighbour = others.length ? Math.max(...others) : NaN;
    if (Number.isFinite(busiestNeighbour)) {
      console.log(`Other processes used up to ${fmt(busiestNeighbour, 2)} cores during the windows.`);
      if (busiestNeighbour > NOISY_NEIGHBOUR_CORES) console.log("WARNING: the machine was not quiet; these figures are noisy. Run again when nothing else is running.");
    }
    if (exhausted) console.log("WARNING: the pre-signed assertions ran out before the end of a window; that window was shortened.");
    console.log(failures ? `FAILED: ${failures} request(s) did not get a 200 with an access token.` : "All requests answered 200 with an access token.");
    for (const r of Object.values(results)) for (const sample of r.failureSamples) console.log(`  ${r.label}: ${sample}`);

    const report = {
      date: new Date().toISOString(),
      commit: measured,
      machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model },
      settings: { rounds, concurrency, warmupSeconds: warmupMs / 1000, durationSeconds: durationMs / 1000, storage: args.storage },
      scenarios: Object.fromEntries(order.map((k) => [k, results[k]])),
      ratios,
      roundRatios,
      cpuRatios,
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

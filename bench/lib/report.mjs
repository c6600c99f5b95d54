// The bench's report: the table of scenarios, each pair's ratio against its target, the notes on
// how quiet the machine was, and the JSON written to --out.

import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..", "..");
export const TARGET_RATIO = 0.6;
export const TARGET_BUNDLE_GZIP_BYTES = 150 * 1024;
/** Other processes' CPU (cores) above which a run is flagged as noisy. */
const NOISY_NEIGHBOUR_CORES = 0.2;

/**
 * Each Latchkey scenario beside its floor, in report order. `ratio` names the pair's median ratio
 * (of req/s); `target: false` marks the one pair with no target (a sign-in is its PBKDF2).
 */
export const PAIRS = [
  { ratio: "basicToSign", flow: "basic", floor: "floorSign", letters: ["a", "c"], name: "client_secret_basic" },
  { ratio: "privateKeyJwtToVerifySign", flow: "privateKeyJwt", floor: "floorVerifySign", letters: ["b", "d"], name: "private_key_jwt" },
  { ratio: "codeExchangeToFloor", flow: "codeExchange", floor: "floorExchange", letters: ["e", "f"], name: "authorization_code" },
  { ratio: "userinfoToFloor", flow: "userinfo", floor: "floorUserinfo", letters: ["g", "h"], name: "userinfo" },
  { ratio: "refreshToFloor", flow: "refresh", floor: "floorRefresh", letters: ["k", "l"], name: "refresh_token" },
  { ratio: "introspectionToFloor", flow: "introspection", floor: "floorIntrospection", letters: ["m", "n"], name: "introspection" },
  { ratio: "signInToPbkdf2", flow: "signIn", floor: "floorPbkdf2", letters: ["i", "j"], name: "sign-in", target: false },
];

export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
const pct = (r) => (Number.isFinite(r) ? `${(r * 100).toFixed(1)}%` : "n/a");
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

/** The commit measured (with "+dirty" when the Worker's sources have uncommitted changes). */
export function commit() {
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

const median = (xs) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length ? (sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2) : NaN;
};

/**
 * Prints the report and returns the JSON document for --out.
 * @param {object} o
 * @param {Record<string, object>} o.results    summarize() of each scenario measured, with its label
 * @param {Record<string, number[]>} o.roundRatios  each pair's ratio per round
 */
export function report({ measured, settings, results, roundRatios, minting, bundle, started }) {
  const letterOf = Object.fromEntries(PAIRS.flatMap((p) => [[p.flow, p.letters[0]], [p.floor, p.letters[1]]]));
  const ratios = Object.fromEntries(PAIRS.map((p) => [p.ratio, median(roundRatios[p.ratio] ?? [])]));
  const cpuRatios = Object.fromEntries(
    PAIRS.map((p) => [p.ratio, (results[p.floor]?.cpu.serverMsPerRequest ?? NaN) / (results[p.flow]?.cpu.serverMsPerRequest ?? NaN)]),
  );
  const targets = Object.fromEntries(
    PAIRS.filter((p) => p.target !== false && results[p.flow]).map((p) => [
      p.ratio,
      { target: `>= ${TARGET_RATIO * 100}%`, value: ratios[p.ratio], pass: ratios[p.ratio] >= TARGET_RATIO },
    ]),
  );
  targets.bundleGzip = { target: `< ${kib(TARGET_BUNDLE_GZIP_BYTES)}`, value: bundle.gzipBytes, pass: bundle.gzipBytes < TARGET_BUNDLE_GZIP_BYTES };
  const failures = Object.values(results).reduce((n, r) => n + r.failures, 0);
  const order = PAIRS.flatMap((p) => [p.flow, p.floor]).filter((k) => results[k]);
  const { rounds, concurrency, durationMs, warmupMs, flowMs, flowWarmupMs, signin, storage, sliceMs } = settings;

  console.log();
  console.log(`Latchkey bench — ${new Date().toISOString()} — commit ${measured}`);
  console.log(`${rounds} round(s) of ${durationMs / 1000} s per scenario (after ${warmupMs / 1000} s warm-up each), concurrency ${concurrency}, storage on ${storage}, ${cpus().length} CPUs`);
  console.log(`(e)–(h), (k)–(n): ${flowMs / 1000} s per scenario per round (after ${flowWarmupMs / 1000} s warm-up each), same concurrency`);
  if (signin) console.log(`(i) and (j): once, ${signin.durationMs / 1000} s each (after ${signin.warmupMs / 1000} s warm-up), concurrency ${signin.concurrency}`);
  console.log(`each flow and its floor measured in alternating slices of at most ${sliceMs / 1000} s, an even number per side (floor, flow, flow, floor, …)`);
  console.log();
  console.log(
    table(
      order.map((k) => {
        const r = results[k];
        return [`(${letterOf[k]}) ${r.label}`, fmt(r.rps), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), fmt(r.cpu?.serverMsPerRequest, 3), fmt(r.cpu?.serverCores, 2), r.failures];
      }),
      ["scenario", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "server cores", "failed"],
    ),
  );
  console.log();
  const mark = (t) => (t.pass ? "PASS" : "MISS");
  const width = Math.max(...PAIRS.map((p) => p.name.length)) + 9;
  for (const p of PAIRS.filter((p) => p.target !== false && results[p.flow])) {
    console.log(
      `${`(${p.letters.join(")/(")}) ${p.name}:`.padEnd(width)} ${pct(ratios[p.ratio]).padStart(6)} of the floor's req/s  [target ${targets[p.ratio].target}: ${mark(targets[p.ratio])}]` +
        `  rounds: ${roundRatios[p.ratio].map(pct).join(", ")}; floor/flow CPU per request: ${pct(cpuRatios[p.ratio])}`,
    );
  }
  if (results.signIn && results.floorPbkdf2) {
    const flowMsPerReq = results.signIn.cpu.serverMsPerRequest;
    const floorMsPerReq = results.floorPbkdf2.cpu.serverMsPerRequest;
    console.log(
      `(i) sign-in: ${fmt(flowMsPerReq, 1)} ms workerd CPU per POST /login against (j) ${fmt(floorMsPerReq, 1)} ms for one PBKDF2: ` +
        `the floor is ${pct(cpuRatios.signInToPbkdf2)} of it (${fmt(flowMsPerReq - floorMsPerReq, 1)} ms besides PBKDF2); ` +
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
  }
  console.log(`Worker bundle ${bundle.file}: ${kib(bundle.bytes)}, gzip ${kib(bundle.gzipBytes)}   [target ${targets.bundleGzip.target}: ${mark(targets.bundleGzip)}]`);
  const lg = Object.values(results).map((r) => r.cpu?.loadGeneratorCores ?? NaN).filter(Number.isFinite);
  if (lg.length) console.log(`Load generator (Node) used ${fmt(Math.min(...lg), 2)}–${fmt(Math.max(...lg), 2)} of this machine's cores during the windows.`);
  const others = Object.values(results).map((r) => r.cpu?.otherCores ?? NaN).filter(Number.isFinite);
  const busiestNeighbour = others.length ? Math.max(...others) : NaN;
  if (Number.isFinite(busiestNeighbour)) {
    console.log(`Other processes used up to ${fmt(busiestNeighbour, 2)} cores during the windows.`);
    if (busiestNeighbour > NOISY_NEIGHBOUR_CORES) console.log("WARNING: the machine was not quiet; these figures are noisy. Run again when nothing else is running.");
  }
  const exhausted = order.filter((k) => results[k].supplyExhausted);
  if (exhausted.length) {
    console.log(`WARNING: the pre-made assertions or codes ran out before the end of a window of ${exhausted.map((k) => `(${letterOf[k]})`).join(", ")}; that window was shortened.`);
  }
  console.log(
    failures
      ? `FAILED: ${failures} request(s) were not answered as expected.`
      : "All requests answered as expected: token requests 200 with an access token (and ID and refresh tokens where due), UserInfo 200, introspection active, sign-in 303.",
  );
  for (const r of Object.values(results)) for (const sample of r.failureSamples) console.log(`  ${r.label}: ${sample}`);

  return {
    date: new Date().toISOString(),
    commit: measured,
    machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model },
    settings: {
      rounds, concurrency, warmupSeconds: warmupMs / 1000, durationSeconds: durationMs / 1000, sliceSeconds: sliceMs / 1000, storage,
      flow: { warmupSeconds: flowWarmupMs / 1000, durationSeconds: flowMs / 1000 },
      signin: signin ? { concurrency: signin.concurrency, warmupSeconds: signin.warmupMs / 1000, durationSeconds: signin.durationMs / 1000 } : null,
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
}

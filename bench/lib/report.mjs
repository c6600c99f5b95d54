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
 * Each Latchkey scenario beside what it is held against, in report order. `ratio` names the pair's
 * median ratio (of req/s, the flow's over the other side's, within each round); `target` is the
 * least ratio wanted (reported, not enforced), false for a pair with none. `against` says what the
 * other side is: the floor Worker (its cryptography alone), the peer (node-oidc-provider doing the
 * same work), or the same Worker behind Miniflare's router (what the router adds).
 */
export const PAIRS = [
  { ratio: "basicToSign", flow: "basic", floor: "floorSign", letters: ["a", "c"], name: "client_secret_basic" },
  { ratio: "privateKeyJwtToVerifySign", flow: "privateKeyJwt", floor: "floorVerifySign", letters: ["b", "d"], name: "private_key_jwt" },
  { ratio: "dpopToFloor", flow: "dpop", floor: "floorDpop", letters: ["ab", "ac"], name: "DPoP client_credentials" },
  { ratio: "basicToPeer", flow: "basic", floor: "peerBasic", letters: ["a", "o"], name: "client_secret_basic", against: "peer", target: 1.2 },
  { ratio: "privateKeyJwtToPeer", flow: "privateKeyJwt", floor: "peerPrivateKeyJwt", letters: ["b", "p"], name: "private_key_jwt", against: "peer", target: 1.5 },
  { ratio: "codeExchangeToFloor", flow: "codeExchange", floor: "floorExchange", letters: ["e", "f"], name: "authorization_code" },
  { ratio: "codeExchangeToPeer", flow: "codeExchange", floor: "peerCodeExchange", letters: ["e", "r"], name: "authorization_code", against: "peer", target: false },
  { ratio: "userinfoToFloor", flow: "userinfo", floor: "floorUserinfo", letters: ["g", "h"], name: "userinfo" },
  { ratio: "refreshToFloor", flow: "refresh", floor: "floorRefresh", letters: ["k", "l"], name: "refresh_token" },
  { ratio: "refreshToPeer", flow: "refresh", floor: "peerRefresh", letters: ["k", "s"], name: "refresh_token", against: "peer", target: false },
  { ratio: "introspectionToFloor", flow: "introspection", floor: "floorIntrospection", letters: ["m", "n"], name: "introspection" },
  { ratio: "devicePollToFloor", flow: "devicePoll", floor: "floorDevicePoll", letters: ["t", "u"], name: "device poll (pending)", target: false },
  { ratio: "deviceExchangeToFloor", flow: "deviceExchange", floor: "floorDeviceExchange", letters: ["v", "w"], name: "device_code exchange" },
  { ratio: "cibaPollToFloor", flow: "cibaPoll", floor: "floorCibaPoll", letters: ["x", "y"], name: "CIBA poll (pending)", target: false },
  { ratio: "cibaExchangeToFloor", flow: "cibaExchange", floor: "floorCibaExchange", letters: ["z", "aa"], name: "CIBA exchange" },
  { ratio: "signInToPbkdf2", flow: "signIn", floor: "floorPbkdf2", letters: ["i", "j"], name: "sign-in", target: false },
  { ratio: "directToRouted", flow: "basic", floor: "basicRouted", letters: ["a", "q"], name: "router overhead", against: "router", target: false },
].map((p) => ({ against: "floor", target: TARGET_RATIO, ...p }));

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

/** A pair's two sides in the JSON: req/s and CPU per request of each. */
const sides = ({ flow, floor }) => ({
  flowRps: flow.rps, otherRps: floor.rps, flowCpuMsPerRequest: flow.cpu.serverMsPerRequest, otherCpuMsPerRequest: floor.cpu.serverMsPerRequest,
});

/**
 * What a DPoP proof adds to a client_credentials request: (ab) against (a) — the same client
 * authentication, plus the proof's verification, nonce check and jti reservation — in workerd CPU
 * per request and req/s over all their windows; and (ac) against (c), the same for the floors (the
 * proof's cryptography alone). Null unless both (a) and (ab) were measured.
 */
function dpopOverhead(results) {
  const { basic, dpop, floorSign, floorDpop } = results;
  if (!basic || !dpop) return null;
  const cpu = (r) => r?.cpu?.serverMsPerRequest ?? NaN;
  return {
    basicServerMsPerRequest: cpu(basic),
    dpopServerMsPerRequest: cpu(dpop),
    addedServerMsPerRequest: cpu(dpop) - cpu(basic),
    floorAddedServerMsPerRequest: cpu(floorDpop) - cpu(floorSign),
    basicRps: basic.rps,
    dpopRps: dpop.rps,
    rpsRatio: dpop.rps / basic.rps,
  };
}

/** A ratio as the report shows it: a percentage of a floor, a multiple of the peer or the routed path. */
const shown = (p, r) => (p.against === "floor" ? pct(r) : Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a");

/**
 * Prints the report and returns the JSON document for --out.
 * @param {object} o
 * @param {Record<string, object>} o.results    summarize() of each scenario measured (all its windows), with its label
 * @param {Record<string, { flow: object, floor: object }>} o.pairResults  summarize() of each side of each pair,
 *        over that pair's windows only (a flow measured in several pairs has its windows in each)
 * @param {Record<string, number[]>} o.roundRatios  each pair's ratio per round
 * @param {{ device: object[], ciba: object[] }} o.polled  each polled grant's requests: started for the pending polls, and started and approved for the exchanges
 * @param {object | null} o.peer  the peer measured: name, version, Node version
 */
export function report({ measured, settings, results, pairResults, roundRatios, minting, polled, bundle, started, peer }) {
  const letterOf = Object.fromEntries(PAIRS.flatMap((p) => [[p.flow, p.letters[0]], [p.floor, p.letters[1]]]));
  const measuredPairs = PAIRS.filter((p) => pairResults[p.ratio]);
  const ratios = Object.fromEntries(measuredPairs.map((p) => [p.ratio, median(roundRatios[p.ratio] ?? [])]));
  // The other side's CPU per request over the flow's, in the pair's own windows: above 1, the flow is cheaper.
  const cpuRatios = Object.fromEntries(
    measuredPairs.map((p) => [p.ratio, (pairResults[p.ratio].floor.cpu.serverMsPerRequest ?? NaN) / (pairResults[p.ratio].flow.cpu.serverMsPerRequest ?? NaN)]),
  );
  const targets = Object.fromEntries(
    measuredPairs.filter((p) => p.target !== false).map((p) => [
      p.ratio,
      { target: `>= ${p.against === "floor" ? `${p.target * 100}%` : `${p.target}×`}`, value: ratios[p.ratio], pass: ratios[p.ratio] >= p.target },
    ]),
  );
  targets.bundleGzip = { target: `< ${kib(TARGET_BUNDLE_GZIP_BYTES)}`, value: bundle.gzipBytes, pass: bundle.gzipBytes < TARGET_BUNDLE_GZIP_BYTES };
  const failures = Object.values(results).reduce((n, r) => n + r.failures, 0);
  const order = [...new Set(PAIRS.flatMap((p) => [p.flow, p.floor]))].filter((k) => results[k]);
  const { rounds, concurrency, durationMs, warmupMs, flowMs, flowWarmupMs, signin, storage, sliceMs, pinning } = settings;

  console.log();
  console.log(`Latchkey bench — ${new Date().toISOString()} — commit ${measured}`);
  console.log(`${rounds} round(s) of ${durationMs / 1000} s per scenario (after ${warmupMs / 1000} s warm-up each), concurrency ${concurrency}, storage on ${storage}, ${cpus().length} CPUs`);
  console.log(`(e)–(h), (k)–(n), (r), (s), (t)–(aa): ${flowMs / 1000} s per scenario per round (after ${flowWarmupMs / 1000} s warm-up each), same concurrency`);
  if (signin) console.log(`(i) and (j): once, ${signin.durationMs / 1000} s each (after ${signin.warmupMs / 1000} s warm-up), concurrency ${signin.concurrency}`);
  console.log(`each flow and what it is held against measured in alternating slices of at most ${sliceMs / 1000} s, an even number per side (floor, flow, flow, floor, …)`);
  console.log(`Workers served on sockets bound directly to them (Miniflare unsafeDirectSockets); (q) is (a) through Miniflare's router, measured once`);
  if (peer) console.log(`peer (o), (p), (r), (s): ${peer.name} ${peer.version} on Node ${peer.node}, one process, in-memory storage`);
  console.log(pinning ? `servers pinned to CPU ${pinning.serverCpu} (all threads), load generator to CPU ${pinning.clientCpus}` : "no CPU pinning");
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
  const cpuOf = (p, side) => fmt(pairResults[p.ratio][side].cpu.serverMsPerRequest, 3);
  for (const p of measuredPairs.filter((p) => p.ratio !== "signInToPbkdf2")) {
    const head = `${`(${p.letters.join(")/(")}) ${p.name}:`.padEnd(width)} ${shown(p, ratios[p.ratio]).padStart(6)}`;
    const target = p.target === false ? "No target." : `[target ${targets[p.ratio].target}: ${mark(targets[p.ratio])}]`;
    const perRound = `rounds: ${roundRatios[p.ratio].map((r) => shown(p, r)).join(", ")}`;
    if (p.against === "floor") {
      console.log(`${head} of the floor's req/s  ${target}  ${perRound}; floor/flow CPU per request: ${pct(cpuRatios[p.ratio])}`);
    } else if (p.against === "peer") {
      console.log(
        `${head} the peer's req/s  ${target}  ${perRound}; CPU per request ${cpuOf(p, "flow")} ms against the peer's ${cpuOf(p, "floor")} ms ` +
          `(the peer's is ${shown(p, cpuRatios[p.ratio])} Latchkey's)`,
      );
    } else {
      console.log(
        `${head} the req/s through the router (direct socket against router)  ${target}  CPU per request ${cpuOf(p, "flow")} ms direct, ` +
          `${cpuOf(p, "floor")} ms through the router (+${fmt(pairResults[p.ratio].floor.cpu.serverMsPerRequest - pairResults[p.ratio].flow.cpu.serverMsPerRequest, 3)} ms)`,
      );
    }
  }
  if (pairResults.signInToPbkdf2) {
    const flowMsPerReq = pairResults.signInToPbkdf2.flow.cpu.serverMsPerRequest;
    const floorMsPerReq = pairResults.signInToPbkdf2.floor.cpu.serverMsPerRequest;
    console.log(
      `(i) sign-in: ${fmt(flowMsPerReq, 1)} ms workerd CPU per POST /login against (j) ${fmt(floorMsPerReq, 1)} ms for one PBKDF2: ` +
        `the floor is ${pct(cpuRatios.signInToPbkdf2)} of it (${fmt(flowMsPerReq - floorMsPerReq, 1)} ms besides PBKDF2); ` +
        `${fmt(results.signIn.rps, 1)} vs ${fmt(results.floorPbkdf2.rps, 1)} req/s (${pct(ratios.signInToPbkdf2)}). No target.`,
    );
  }
  const dpop = dpopOverhead(results);
  if (dpop) {
    console.log(
      `(ab) DPoP adds ${fmt(dpop.addedServerMsPerRequest, 3)} ms workerd CPU per request to (a) client_secret_basic ` +
        `(${fmt(dpop.dpopServerMsPerRequest, 3)} against ${fmt(dpop.basicServerMsPerRequest, 3)} ms; the floor's proof crypto alone: ` +
        `${fmt(dpop.floorAddedServerMsPerRequest, 3)} ms, (ac) against (c)); ${fmt(dpop.dpopRps)} against ${fmt(dpop.basicRps)} req/s (${pct(dpop.rpsRatio)}).`,
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
  const polledLine = (records, name, [pollLetter, exchangeLetter], approvedWith, exchanged) => {
    const ring = records.filter((d) => d.use === "pending polls");
    const supplies = records.filter((d) => d.use === "exchange" && d.round !== "pilot");
    if (!ring.length || !supplies.length) return;
    const rate = (ds, n, t) => fmt(ds.reduce((a, d) => a + d[n], 0) / ds.reduce((a, d) => a + d[t], 0));
    console.log(
      `${name} requests: ${ring.map((d) => d.started).join(" + ")} started for (${pollLetter}) (${rate(ring, "started", "startSeconds")}/s), of which ` +
        `${ring.map((d) => d.polled).join(" + ")} were polled, each every ${fmt(ring[0].gapSeconds, 1)} s at most; ` +
        `${supplies.map((d) => d.approved).join(" + ")} started and approved for (${exchangeLetter}) (${rate(supplies, "started", "startSeconds")}/s started, ` +
        `${rate(supplies, "approved", "approveSeconds")}/s approved with ${approvedWith}), of which ${exchanged ?? 0} were exchanged.`,
    );
  };
  polledLine(polled.device, "Device", ["t", "v"], "POST /device/confirm", results.deviceExchange?.sent);
  polledLine(polled.ciba, "CIBA", ["x", "z"], "POST /ciba/{handle}", results.cibaExchange?.sent);
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
      : "All requests answered as expected: token requests 200 with an access token (and ID and refresh tokens where due), UserInfo 200, introspection active, sign-in 303, pending device and CIBA polls 400 authorization_pending (never slow_down).",
  );
  for (const r of Object.values(results)) for (const sample of r.failureSamples) console.log(`  ${r.label}: ${sample}`);

  return {
    date: new Date().toISOString(),
    commit: measured,
    machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length, cpuModel: cpus()[0]?.model },
    settings: {
      rounds, concurrency, warmupSeconds: warmupMs / 1000, durationSeconds: durationMs / 1000, sliceSeconds: sliceMs / 1000, storage, pinning,
      flow: { warmupSeconds: flowWarmupMs / 1000, durationSeconds: flowMs / 1000 },
      signin: signin ? { concurrency: signin.concurrency, warmupSeconds: signin.warmupMs / 1000, durationSeconds: signin.durationMs / 1000 } : null,
    },
    peer,
    scenarios: Object.fromEntries(order.map((k) => [k, results[k]])),
    // Each pair's two sides over the pair's own windows (a flow in several pairs is in each).
    pairs: Object.fromEntries(
      measuredPairs.map((p) => [p.ratio, { against: p.against, flow: p.flow, other: p.floor, ...sides(pairResults[p.ratio]) }]),
    ),
    ratios,
    roundRatios,
    cpuRatios,
    dpopOverhead: dpop,
    codeMinting: minting,
    deviceRequests: polled.device,
    cibaRequests: polled.ciba,
    bundle,
    targets,
    failures,
    totalSeconds: (Date.now() - started) / 1000,
  };
}

// Closed-loop HTTP load generator for `npm run bench`: a fixed number of concurrent loops, each
// sending its next request as soon as the previous one has answered, over keep-alive connections
// (an undici Pool, one connection per loop). A warm-up phase is sent and thrown away; then a fixed
// measurement window. Every response is checked, in the warm-up too: by default anything but a 200
// with an access token is a failure; a scenario may pass its own `check`.

import { Pool } from "undici";
import { cpuSnapshot } from "./cpu.mjs";

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_FAILURE_SAMPLES = 5;

/** The default check: a 200 carrying an access token (a token endpoint's answer). */
export function expectAccessToken(status, text) {
  if (status !== 200) return `${status} ${text}`;
  if (!text.includes('"access_token"')) return `200 without access_token: ${text}`;
  return undefined;
}

/** The origin, if it is a loopback one (nothing else is ever loaded); throws otherwise. */
function loopbackOrigin(origin) {
  const url = new URL(origin);
  if (url.hostname !== "127.0.0.1" || url.protocol !== "http:") throw new Error(`refusing to load a non-loopback target: ${origin}`);
  return url.origin;
}

/** A keep-alive pool of `concurrency` connections to a loopback origin. */
function loopbackPool(origin, concurrency) {
  return new Pool(loopbackOrigin(origin), {
    connections: concurrency,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
}

/** A window's result before anything is measured: runLoad's and runPair's shape. */
const emptyResult = () => ({ seconds: 0, latencies: [], sent: 0, failures: 0, failureSamples: [], supplyExhausted: false });

/**
 * The closed loop: `concurrency` loops over `pool`, each sending its next request as soon as the
 * previous one is answered, until `until` (a performance.now() time) or until `next` has no more.
 * Every answer is checked (a failure is counted in `result` with a sample); a good one goes to
 * `answered`, and its latency to `result` when `measured(t1)` says it falls in a measured window.
 * Requests in flight at `until` are awaited. Resolves when the supply ran out, if it did.
 */
async function closedLoop({ pool, concurrency, until, next, check, answered, result, counts, measured }) {
  let exhaustedAt;
  const fail = (text) => {
    result.failures++;
    if (result.failureSamples.length < MAX_FAILURE_SAMPLES) result.failureSamples.push(text.slice(0, 300));
  };
  async function loop(_, index) {
    while (performance.now() < until) {
      const request = next(index);
      if (request === null) {
        exhaustedAt ??= performance.now();
        return;
      }
      if (counts) result.sent++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: request.method ?? "POST", path: request.path, headers: request.headers, body: request.body });
        const text = await res.body.text();
        const t1 = performance.now();
        const problem = check(res.statusCode, text, res.headers);
        if (problem !== undefined) fail(problem);
        else {
          answered?.(index, text);
          if (measured(t1)) result.latencies.push(t1 - t0);
        }
      } catch (error) {
        fail(`request error: ${error?.message ?? error}`);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
  return exhaustedAt;
}

/**
 * @param {object} o
 * @param {string} o.origin             http://127.0.0.1:PORT (loopback only)
 * @param {number} o.concurrency
 * @param {number} o.warmupMs
 * @param {number} o.durationMs
 * @param {(loop: number) => ({ method?: string, path: string, headers: Record<string, string>, body?: string } | null)} o.next
 *        The next request of loop number `loop` (0 … concurrency − 1; POST unless `method` says
 *        otherwise); null when a finite request supply (pre-signed assertions, pre-minted
 *        authorization codes) is used up.
 * @param {(loop: number, text: string) => void} [o.answered]
 *        Called with each response that passed `check`, before the loop's next request: a chain of
 *        requests (a refresh token, rotated by every request) carries its state from one to the next.
 * @param {number | undefined} o.serverPid  workerd process whose CPU time is sampled over the window
 * @param {(status: number, text: string, headers: Record<string, string | string[] | undefined>) => string | undefined} [o.check]
 *        Describes what is wrong with a response (a failure), or undefined when it is as expected.
 */
export async function runLoad({ origin, concurrency, warmupMs, durationMs, next, answered, serverPid, check = expectAccessToken }) {
  const pool = loopbackPool(origin, concurrency);
  const start = performance.now();
  const windowStart = start + warmupMs;
  const windowEnd = windowStart + durationMs;
  const result = emptyResult();

  let cpuAtStart, cpuAtEnd;
  const startTimer = setTimeout(() => (cpuAtStart = cpuSnapshot(serverPid)), warmupMs);
  const endTimer = setTimeout(() => (cpuAtEnd = cpuSnapshot(serverPid)), warmupMs + durationMs);
  let exhaustedAt;
  try {
    exhaustedAt = await closedLoop({
      pool, concurrency, until: windowEnd, next, check, answered, result, counts: true, measured: (t1) => t1 >= windowStart && t1 <= windowEnd,
    });
  } finally {
    clearTimeout(startTimer);
    clearTimeout(endTimer);
    await pool.close().catch(() => {});
  }
  // The loops may finish a moment before the end timer fires (they stop at windowEnd, the timer
  // was armed a moment after it was computed): then the end snapshot is taken now.
  cpuAtEnd ??= cpuSnapshot(serverPid);

  // A request supply that ran dry shortens the window; throughput uses the real window length.
  const measuredEnd = exhaustedAt !== undefined && exhaustedAt < windowEnd ? exhaustedAt : windowEnd;
  const delta = (key) =>
    cpuAtStart?.[key] !== undefined && cpuAtEnd?.[key] !== undefined ? cpuAtEnd[key] - cpuAtStart[key] : undefined;
  return {
    ...result,
    seconds: Math.max(0, measuredEnd - windowStart) / 1000,
    supplyExhausted: exhaustedAt !== undefined && exhaustedAt < windowEnd,
    // CPU time (ms) over the window: the workerd process, this Node process, the whole machine.
    cpu: { wallMs: delta("wallMs"), serverMs: delta("serverMs"), clientMs: delta("clientMs"), machineMs: delta("machineMs") },
  };
}

/** Throughput, latency percentiles and CPU figures of one or more windows of the same scenario. */
export function summarize(windows) {
  const latencies = windows.flatMap((w) => w.latencies).sort((x, y) => x - y);
  const completed = latencies.length;
  const seconds = windows.reduce((t, w) => t + w.seconds, 0);
  const q = (p) => (completed ? latencies[Math.min(completed - 1, Math.floor(p * completed))] : NaN);
  const sum = (key) => windows.reduce((t, w) => (t === undefined || w.cpu[key] === undefined ? undefined : t + w.cpu[key]), 0);
  const wall = sum("wallMs");
  const server = sum("serverMs");
  const client = sum("clientMs");
  const machine = sum("machineMs");
  return {
    requests: completed,
    seconds,
    rps: seconds > 0 ? completed / seconds : 0,
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    maxMs: completed ? latencies[completed - 1] : NaN,
    sent: windows.reduce((t, w) => t + w.sent, 0),
    failures: windows.reduce((t, w) => t + w.failures, 0),
    failureSamples: windows.flatMap((w) => w.failureSamples).slice(0, MAX_FAILURE_SAMPLES),
    supplyExhausted: windows.some((w) => w.supplyExhausted),
    cpu: {
      // workerd CPU time (all threads: the Worker, the runtime, local D1/KV/DO) per request, ms.
      serverMsPerRequest: server !== undefined && completed ? server / completed : null,
      // Cores busy on average during the windows.
      serverCores: server !== undefined && wall ? server / wall : null,
      loadGeneratorCores: client !== undefined && wall ? client / wall : null,
      // Everything else on the machine (other processes): a busy neighbour makes the run noisy.
      otherCores:
        machine !== undefined && server !== undefined && client !== undefined && wall
          ? Math.max(0, (machine - server - client) / wall)
          : null,
    },
  };
}

/**
 * Measures a pair — a floor and the flow held against it — in interleaved slices instead of one
 * window after the other, so that both see the same machine. On a shared VM the speed of the
 * machine drifts by tens of percent over seconds; alternating short slices (floor, flow, flow,
 * floor, …) puts every stretch of that drift on both sides of the ratio.
 *
 * Each side first gets its warm-up (thrown away), then `durationMs` of measurement cut into slices
 * of `sliceMs`. Within a slice, `concurrency` loops send requests until the slice ends; a request
 * counts if it completes inside the slice, and those still in flight are awaited (and checked, and
 * passed to `answered`) before the next slice starts, outside any measurement. CPU is sampled at
 * every slice boundary and summed over the slices.
 *
 * @param {object} o
 * @param {object} o.floor  runLoad's options for the floor (origin, next, answered, serverPid, check)
 * @param {object} o.flow   the same for the flow
 * @param {number} o.concurrency
 * @param {number} o.warmupMs
 * @param {number} o.durationMs  measured time per side
 * @param {number} o.sliceMs
 * @returns {Promise<{ floor: object, flow: object }>} each in runLoad's result shape
 */
export async function runPair({ floor, flow, concurrency, warmupMs, durationMs, sliceMs }) {
  for (const { origin } of [floor, flow]) loopbackOrigin(origin); // both checked before either pool opens
  const sides = [floor, flow].map((options) => ({
    options,
    check: options.check ?? expectAccessToken,
    pool: loopbackPool(options.origin, concurrency),
    result: { ...emptyResult(), cpu: { wallMs: 0, serverMs: 0, clientMs: 0, machineMs: 0 } },
  }));

  /** One stretch of closed-loop load on one side; measured unless it is a warm-up. */
  async function run(side, ms, measured) {
    const { options, check, pool, result } = side;
    const start = performance.now();
    const end = start + ms;
    const before = measured ? cpuSnapshot(options.serverPid) : undefined;
    let after;
    const endTimer = measured ? setTimeout(() => (after = cpuSnapshot(options.serverPid)), ms) : undefined;
    let exhaustedAt;
    try {
      exhaustedAt = await closedLoop({
        pool, concurrency, until: end, next: options.next, check, answered: options.answered, result, counts: measured, measured: (t1) => measured && t1 <= end,
      });
    } finally {
      clearTimeout(endTimer);
    }
    if (!measured) return;
    after ??= cpuSnapshot(options.serverPid);
    const stoppedAt = exhaustedAt !== undefined && exhaustedAt < end ? exhaustedAt : end;
    result.seconds += Math.max(0, stoppedAt - start) / 1000;
    if (exhaustedAt !== undefined && exhaustedAt < end) result.supplyExhausted = true;
    for (const key of Object.keys(result.cpu)) {
      result.cpu[key] = result.cpu[key] === undefined || before[key] === undefined || after[key] === undefined
        ? undefined
        : result.cpu[key] + (after[key] - before[key]);
    }
  }

  try {
    for (const side of sides) if (warmupMs > 0) await run(side, warmupMs, false);
    // An even number of slices per side: floor, flow | flow, floor | … then puts a steady drift
    // on both sides alike (an odd count would leave the flow a third of a slice later on average).
    const wanted = Math.max(1, Math.ceil(durationMs / sliceMs));
    const slices = wanted % 2 === 0 ? wanted : wanted + 1;
    const sliceLength = durationMs / slices;
    for (let i = 0; i < slices; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) await run(side, sliceLength, true);
    }
  } finally {
    await Promise.all(sides.map((side) => side.pool.close().catch(() => {})));
  }
  return { floor: sides[0].result, flow: sides[1].result };
}

// Command-line options of `npm run bench` (see the usage text and docs/performance.md).

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";

/** Parsed and checked options; prints the usage and exits with status 2 when they do not hold. */
export function parseOptions({ defaultOut, mintDeadlineSeconds, codeTtlSeconds }) {
  const { values: args } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1.5" },
      concurrency: { type: "string", default: "16" },
      slice: { type: "string", default: "1" },
      "flow-duration": { type: "string", default: "3" },
      "flow-warmup": { type: "string", default: "1" },
      "signin-duration": { type: "string", default: "4" },
      "signin-warmup": { type: "string", default: "1" },
      "signin-concurrency": { type: "string", default: "2" },
      out: { type: "string", default: defaultOut },
      storage: { type: "string", default: existsSync("/dev/shm") ? "tmpfs" : "disk" },
      pin: { type: "string", default: "auto" },
      // The device and CIBA pairs (t)–(aa): off unless asked for. Each of their requests is a Durable
      // Object or two, and at a quiet machine's rates a full run makes more objects than workerd has
      // open files for (SQLITE_CANTOPEN at 20,000 here): run them with short windows.
      polled: { type: "boolean", default: false },
      // Only these pairs (their ratio names in bench/lib/report.mjs PAIRS, comma-separated), e.g.
      // --only dpopToFloor,basicToSign: a short run that proves one scenario works.
      only: { type: "string" },
    },
  });
  if (args.only !== undefined) args.only = args.only.split(",").filter(Boolean);
  const durationMs = Number(args.duration) * 1000;
  const warmupMs = Number(args.warmup) * 1000;
  const concurrency = Number(args.concurrency);
  const rounds = Number(args.rounds);
  const flowMs = Number(args["flow-duration"]) * 1000;
  const flowWarmupMs = Number(args["flow-warmup"]) * 1000;
  const signinMs = Number(args["signin-duration"]) * 1000;
  const signinWarmupMs = Number(args["signin-warmup"]) * 1000;
  const signinConcurrency = Number(args["signin-concurrency"]);
  const sliceMs = Number(args.slice) * 1000;
  const valid =
    durationMs > 0 && warmupMs >= 0 && Number.isInteger(rounds) && rounds >= 1 && rounds <= 20 &&
    Number.isInteger(concurrency) && concurrency > 0 && concurrency <= 256 && ["tmpfs", "disk"].includes(args.storage) && ["auto", "on", "off"].includes(args.pin) &&
    sliceMs >= 100 && flowMs > 0 && flowWarmupMs >= 0 && signinMs >= 0 && signinWarmupMs >= 0 && Number.isInteger(signinConcurrency) && signinConcurrency > 0 && signinConcurrency <= 16 &&
    // Codes are minted before the code-exchange floor's window; all of them must outlive both windows.
    mintDeadlineSeconds + (2 * (flowWarmupMs + flowMs)) / 1000 < codeTtlSeconds - 5;
  if (!valid) {
    console.error(
      "usage: npm run bench -- [--rounds N] [--duration SECONDS] [--warmup SECONDS] [--concurrency N] [--slice SECONDS] [--storage tmpfs|disk] [--pin auto|on|off]\n" +
        "                       [--flow-duration SECONDS] [--flow-warmup SECONDS]\n" +
        "                       [--signin-duration SECONDS (0 skips the sign-in pair)] [--signin-warmup SECONDS] [--signin-concurrency N] [--out FILE]\n" +
        "                       [--polled (the device and CIBA pairs; with short windows, e.g. --rounds 1 --flow-duration 1)]\n" +
        "                       [--only PAIR,PAIR… (only those pairs, named as in bench/lib/report.mjs PAIRS, e.g. dpopToFloor)]\n" +
        `(flow warm-up + duration at most ${(codeTtlSeconds - 5 - mintDeadlineSeconds) / 2} s: authorization codes live ${codeTtlSeconds} s)`,
    );
    process.exit(2);
  }
  return { args, durationMs, warmupMs, concurrency, rounds, flowMs, flowWarmupMs, signinMs, signinWarmupMs, signinConcurrency, sliceMs };
}

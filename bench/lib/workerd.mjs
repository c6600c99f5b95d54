// The bench's Workers in workerd: one Miniflare instance (one workerd process) per Worker, served on
// a socket bound directly to the Worker (Miniflare's `unsafeDirectSockets`), with Miniflare's own
// address — through its router Worker — kept beside it.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Miniflare } from "miniflare";
import { compatibilityDate } from "../../scripts/local-worker.mjs";
import { workerdPids } from "./cpu.mjs";

/**
 * Starts one Worker (`config`, Miniflare's worker config; its compatibility date is wrangler.toml's)
 * with a direct socket on 127.0.0.1:`directPort` (0: any free port), then runs `prepare(mf, url)`
 * (set-up on the running instance). Disposes of the instance if anything fails.
 * @returns {Promise<{ mf: Miniflare, url: string, routedUrl: string, pid: number | undefined, dispose: () => Promise<void> }>}
 *          `url` the direct socket's origin, `routedUrl` Miniflare's, `pid` the workerd process
 */
export async function startDirectWorker({ config, directPort = 0, persistTo, inspectorPort, prepare }) {
  const before = new Set(workerdPids());
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    ...(inspectorPort && { inspectorPort }),
    ...(persistTo && { resourcePersistencePath: resolve(persistTo) }),
    workers: [
      {
        config: { compatibilityDate: await compatibilityDate(), ...config },
        dev: { unsafeDirectSockets: [{ host: "127.0.0.1", port: directPort }] },
      },
    ],
  });
  const dispose = () => mf.dispose();
  try {
    const routed = await mf.ready;
    const { origin: url } = await mf.unsafeGetDirectURL(config.name);
    const pid = workerdPids().find((p) => !before.has(p));
    if (pid !== undefined) raiseOpenFiles(pid);
    await prepare?.(mf, url);
    return { mf, url, routedUrl: routed.origin, pid, dispose };
  } catch (error) {
    await dispose().catch(() => {});
    throw error;
  }
}

/**
 * workerd keeps files open for every live Durable Object (its SQLite database and journal), and a
 * run of the device and CIBA scenarios makes thousands of objects that live until their expiry: at
 * this machine's limit of 20,000 open files a quiet run failed with SQLITE_CANTOPEN. So the bench
 * raises the workerd process's limit as far as it may: to the system's maximum where the user is
 * allowed (root), else the soft limit to the hard one. Best effort: without util-linux's prlimit,
 * or without the right, the limit stays as it was.
 */
function raiseOpenFiles(pid) {
  const max = (() => {
    try {
      return readFileSync("/proc/sys/fs/nr_open", "utf8").trim();
    } catch {
      return undefined;
    }
  })();
  for (const limit of [max, "hard"]) {
    if (limit === undefined) continue;
    try {
      const value = limit === "hard" ? hardOpenFiles(pid) : limit;
      if (value === undefined) continue;
      execFileSync("prlimit", ["--pid", String(pid), `--nofile=${value}:${value}`], { stdio: "ignore" });
      return;
    } catch {
      // not allowed, or no prlimit: try the next, then leave the limit alone
    }
  }
}

/** The process's hard limit on open files, from /proc/<pid>/limits. */
function hardOpenFiles(pid) {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  return line?.trim().split(/\s+/)[4];
}

// The bench's Workers in workerd: one Miniflare instance (one workerd process) per Worker, served on
// a socket bound directly to the Worker (Miniflare's `unsafeDirectSockets`), with Miniflare's own
// address — through its router Worker — kept beside it.

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
    await prepare?.(mf, url);
    return { mf, url, routedUrl: routed.origin, pid: workerdPids().find((pid) => !before.has(pid)), dispose };
  } catch (error) {
    await dispose().catch(() => {});
    throw error;
  }
}

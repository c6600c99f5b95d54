// Starts bench/floor-worker.mjs in its own Miniflare instance (its own workerd process), served like
// Latchkey in the bench (bench/lib/latchkey.mjs): through a socket bound directly to the Worker,
// not through Miniflare's router.

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { startDirectWorker } from "./workerd.mjs";

const BENCH_DIR = resolve(import.meta.dirname, "..");

/**
 * @param {{ clientJwk: object, issuer: string, inspectorPort?: number }} o  the client's public JWK (to
 *        verify assertions with); Latchkey's issuer; a V8 inspector port (bench/profile.mjs)
 */
export async function startFloorWorker({ clientJwk, issuer, inspectorPort }) {
  const { url, pid, dispose } = await startDirectWorker({
    inspectorPort,
    config: {
      name: "floor",
      manifest: {
        mainModule: "floor-worker.mjs",
        modulesRoot: BENCH_DIR,
        modules: { "floor-worker.mjs": { type: "esm", contents: await readFile(join(BENCH_DIR, "floor-worker.mjs"), "utf8") } },
      },
      env: {
        FLOOR_CLIENT_JWK: { type: "text", value: JSON.stringify(clientJwk) },
        ISSUER: { type: "text", value: issuer },
      },
    },
  });
  return { url, pid, dispose };
}

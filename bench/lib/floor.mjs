// Starts bench/floor-worker.mjs in its own Miniflare instance (its own workerd process), with the
// same instance options scripts/local-worker.mjs gives Latchkey, so both are served the same way.

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Miniflare } from "miniflare";
import { workerdPids } from "./cpu.mjs";

const BENCH_DIR = resolve(import.meta.dirname, "..");
const ROOT = resolve(BENCH_DIR, "..");

async function compatibilityDate() {
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const match = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml);
  if (!match) throw new Error("wrangler.toml has no compatibility_date");
  return match[1];
}

/**
 * @param {{ clientJwk: object, issuer: string, inspectorPort?: number }} o  the client's public JWK (to
 *        verify assertions with); Latchkey's issuer; a V8 inspector port (bench/profile.mjs)
 */
export async function startFloorWorker({ clientJwk, issuer, inspectorPort }) {
  const before = new Set(workerdPids());
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    cf: false,
    ...(inspectorPort && { inspectorPort }),
    workers: [
      {
        config: {
          name: "floor",
          compatibilityDate: await compatibilityDate(),
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
      },
    ],
  });
  try {
    const ready = await mf.ready;
    const pid = workerdPids().find((p) => !before.has(p));
    return { url: ready.origin, pid, dispose: () => mf.dispose() };
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
}

// What the bench's Miniflare instances share: the compatibility date, and which workerd process
// an instance started (its CPU time is the server's cost per request).

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { workerdPids } from "./cpu.mjs";

const ROOT = resolve(import.meta.dirname, "..", "..");

export async function compatibilityDate() {
  const toml = await readFile(join(ROOT, "wrangler.toml"), "utf8");
  const match = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml);
  if (!match) throw new Error("wrangler.toml has no compatibility_date");
  return match[1];
}

/** Call before starting an instance; the function returned names the workerd process that appeared since. */
export function newWorkerdPid() {
  const before = new Set(workerdPids());
  return () => workerdPids().find((pid) => !before.has(pid));
}

// CPU pinning for the bench (Linux `taskset`): every server under test — Latchkey's workerd, the
// floor's workerd, the peer's Node process — on the same one core, all their threads; the load
// generator (this process) on the others. One core each is the fair comparison of a one-thread
// Worker isolate with a Node server whose Web Crypto work may run on libuv's thread pool, and it
// keeps the load generator from taking CPU from the server it loads.

import { execFileSync } from "node:child_process";
import { cpus } from "node:os";

/** The pinning plan: `serverCpu` for every server, `clientCpus` (taskset list) for the load generator; null when off. */
export function pinningPlan(mode) {
  if (mode === "off") return null;
  const count = cpus().length;
  let available = false;
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    available = true;
  } catch {}
  if (!available || count < 2) {
    if (mode === "on") throw new Error(available ? "--pin on needs at least 2 CPUs" : "--pin on needs taskset (util-linux)");
    return null;
  }
  const serverCpu = count - 1;
  return { serverCpu, clientCpus: count === 2 ? "0" : `0-${count - 2}`, command: ["taskset", "-c", String(serverCpu)] };
}

/** Pins a running process, every thread of it, to `cpus` (a taskset list); throws when taskset fails. */
export function pin(pid, cpus) {
  if (pid === undefined) throw new Error("cannot pin a server whose process was not found");
  execFileSync("taskset", ["-a", "-p", "-c", String(cpus), String(pid)], { stdio: "ignore" });
}

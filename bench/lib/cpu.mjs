// CPU accounting for the bench (Linux /proc; elsewhere the server figures are simply left out).
// Miniflare runs each instance's Workers in one `workerd` child process of this Node process, so
// that process's CPU time over the measurement window, divided by the requests served, is the
// server's CPU cost per request — the quantity Workers bill and cap.

import { readFileSync, readdirSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every mainstream Linux build.

function stat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    return { comm, ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Pids of the `workerd` processes descended from this Node process. */
export function workerdPids() {
  let entries;
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const procs = new Map();
  for (const name of entries) {
    const s = stat(name);
    if (s) procs.set(Number(name), s);
  }
  const descends = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 16; p = procs.get(p)?.ppid ?? 0, hops++) {
      if (p === process.pid) return true;
    }
    return false;
  };
  return [...procs].filter(([pid, s]) => s.comm.startsWith("workerd") && descends(pid)).map(([pid]) => pid);
}

/** Process CPU time (user + system) in ms, or undefined if it cannot be read. */
export function processCpuMs(pid) {
  const s = pid === undefined ? undefined : stat(pid);
  return s ? ((s.utime + s.stime) * 1000) / TICKS_PER_SECOND : undefined;
}

/** Busy CPU time of the whole machine (all cores) in ms, from /proc/stat, or undefined. */
export function machineBusyMs() {
  try {
    const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return ((user + nice + system + irq + softirq + steal) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(serverPid) {
  const { user, system } = process.cpuUsage();
  return {
    wallMs: performance.now(),
    serverMs: processCpuMs(serverPid),
    clientMs: (user + system) / 1000,
    machineMs: machineBusyMs(),
  };
}

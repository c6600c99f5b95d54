// `npm run bench:profile -- [--scenario private-key-jwt|basic|floor-verify-sign|floor-sign] [--seconds 5] [--top 40]`:
// where the Worker's CPU goes. Starts the built Worker in workerd with the V8 inspector on, drives
// one scenario of `npm run bench` (closed loop, 16 connections, on the socket bound directly to the
// Worker as in the bench, so Miniflare's router is not in the way) while the sampling profiler runs in
// the Worker's isolate, and prints the functions with the most self time (and the bundle's modules
// they belong to). The floor-* scenarios profile the floor Worker's (d) and (c) instead, to hold
// Latchkey's profile against. A tool for finding what to make cheaper; the figures to report come
// from `npm run bench`.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { registerFixtures } from "./lib/fixtures.mjs";
import { startFloorWorker } from "./lib/floor.mjs";
import { startBenchLatchkey } from "./lib/latchkey.mjs";
import { freePort } from "../scripts/local-worker.mjs";
import { runLoad } from "./lib/load.mjs";
import { FORM, JWT_BEARER, basicAuth, expectOk, signAssertions } from "./lib/requests.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "private-key-jwt" },
    seconds: { type: "string", default: "5" },
    top: { type: "string", default: "40" },
  },
});

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
async function devtools(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let id = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.id !== undefined && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error.message));
      else resolve(message.result);
    }
  });
  return {
    send: (method, params = {}) =>
      new Promise((resolve, reject) => {
        pending.set(++id, { resolve, reject });
        socket.send(JSON.stringify({ id, method, params }));
      }),
    close: () => socket.close(),
  };
}

/** The bundle's module of each line, from esbuild's `// path` markers (node_modules paths shortened to the package). */
async function moduleOfLine() {
  const lines = (await readFile(join(ROOT, ".build", "worker", "index.js"), "utf8")).split("\n");
  const modules = new Array(lines.length);
  let current = "(bundle)";
  for (let i = 0; i < lines.length; i++) {
    const marker = /^\/\/ ((?:node_modules\/((?:@[^/]+\/)?[^/]+))|[^ ]+\.(?:ts|tsx|js|mjs))$/.exec(lines[i]);
    if (marker) current = marker[2] ?? marker[1];
    modules[i] = current;
  }
  return modules;
}

/** Self time per function and per bundle module of a CPU profile. */
function selfTimes(profile, modules) {
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], (dt.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const byFunction = new Map();
  const byModule = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const us = dt.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    const file = f.url ? f.url.split("/").pop() : "";
    const key = `${f.functionName || "(anonymous)"} ${file}${f.url ? `:${f.lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const module = f.url.endsWith("index.js") ? modules[f.lineNumber] ?? "(bundle)" : `(native) ${f.functionName || "(anonymous)"}`;
    const moduleKey = module.startsWith("(native)") && !["(idle)", "(program)", "(garbage collector)"].includes(f.functionName) ? "(runtime built-ins)" : module;
    byModule.set(moduleKey, (byModule.get(moduleKey) ?? 0) + us);
  }
  const sorted = (m) => [...m].sort((a, b) => b[1] - a[1]);
  return { total, byFunction: sorted(byFunction), byModule: sorted(byModule) };
}

async function main() {
  const floorScenario = args.scenario.startsWith("floor-");
  const inspectorPort = await freePort();
  const persistTo = await mkdtemp("/dev/shm/latchkey-profile-");
  const latchkey = await startBenchLatchkey({ persistTo, ...(!floorScenario && { inspectorPort }) });
  let floor;
  try {
    const origin = new URL(latchkey.url).origin;
    const { issuer } = await expectOk("discovery", await fetch(`${origin}/.well-known/openid-configuration`));
    const { basicClient, signer, publicJwk } = await registerFixtures({ origin, adminToken: latchkey.adminToken, issuer, signinAccounts: 0 });
    const seconds = Number(args.seconds);
    const assertions = () => signAssertions(Math.ceil(seconds * 3000) + 4000, signer);
    let next;
    let target = origin;
    if (args.scenario === "private-key-jwt") {
      const signed = assertions();
      let i = 0;
      next = () =>
        i < signed.length
          ? { path: "/token", headers: FORM, body: `grant_type=client_credentials&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${signed[i++]}` }
          : null;
    } else if (args.scenario === "basic") {
      const headers = { ...FORM, authorization: basicAuth("bench-basic", basicClient.client_secret) };
      next = () => ({ path: "/token", headers, body: "grant_type=client_credentials&scope=read+write" });
    } else if (floorScenario) {
      floor = await startFloorWorker({ clientJwk: publicJwk, issuer, inspectorPort });
      target = floor.url;
      if (args.scenario === "floor-verify-sign") {
        const signed = assertions();
        let i = 0;
        next = () => ({ path: "/verify-sign", headers: {}, body: signed[i++ % signed.length] });
      } else if (args.scenario === "floor-sign") next = () => ({ path: "/sign", headers: {}, body: "" });
      else throw new Error(`unknown scenario ${args.scenario}`);
    } else throw new Error(`unknown scenario ${args.scenario}`);

    await runLoad({ origin: target, concurrency: 16, warmupMs: 0, durationMs: 1500, next }); // warm-up
    const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
    const name = floorScenario ? "floor" : "latchkey";
    const inspected = targets.find((t) => t.title?.includes(name) || t.id?.includes(name)) ?? targets[0];
    const session = await devtools(inspected.webSocketDebuggerUrl);
    await session.send("Profiler.enable");
    await session.send("Profiler.setSamplingInterval", { interval: 50 });
    await session.send("Profiler.start");
    const w = await runLoad({ origin: target, concurrency: 16, warmupMs: 0, durationMs: seconds * 1000, next });
    const { profile } = await session.send("Profiler.stop");
    if (process.env.PROFILE_OUT) await (await import("node:fs/promises")).writeFile(process.env.PROFILE_OUT, JSON.stringify(profile));
    session.close();
    const { total, byFunction, byModule } = selfTimes(profile, floorScenario ? [] : await moduleOfLine());
    const requests = w.latencies.length;
    console.log(`${args.scenario}: ${requests} requests in ${seconds} s (${w.failures} failed); isolate ${inspected.title}: ${(total / 1000 / requests).toFixed(3)} ms sampled per request`);
    const line = ([label, us]) => console.log(`${(us / 1000 / requests).toFixed(4).padStart(8)} ms/req  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${label}`);
    console.log("\nby module (self time):");
    byModule.slice(0, 25).forEach(line);
    console.log("\nby function (self time):");
    byFunction.slice(0, Number(args.top)).forEach(line);
  } finally {
    await floor?.dispose();
    await latchkey.dispose();
    await rm(persistTo, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error?.stack ?? error);
    process.exit(1);
  },
);

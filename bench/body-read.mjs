// `npm run bench:body`: what it costs a Worker to read a request body each way workerd offers, as
// workerd CPU per request of a Worker that does nothing else (a ~730-byte form body like a
// private_key_jwt token request, 16 connections, the ways measured in alternating slices of 0.6 s,
// 16 rounds). The figures behind the choice in src/http/body.ts (docs/security.md, "Request bodies").

import { Miniflare } from "miniflare";
import { Pool } from "undici";
import { processCpuMs, workerdPids } from "./lib/cpu.mjs";

const WORKER = `
async function chunkByChunk(body, max) {
  const reader = body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) { await reader.cancel(); return undefined; }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.byteLength; }
  return out;
}
const WAYS = {
  "/text": (request) => request.text(),
  "/array-buffer": async (request) => new Uint8Array(await request.arrayBuffer()),
  "/chunk-by-chunk": (request) => chunkByChunk(request.body, 65536),
  "/read-at-least": async (request, length) => {
    const reader = request.body.getReader({ mode: "byob" });
    const { value } = await reader.readAtLeast(length + 1, new Uint8Array(length + 1));
    reader.releaseLock();
    return value;
  },
  "/fixed-length-stream": async (request, length) =>
    new Uint8Array(await new Response(request.body.pipeThrough(new FixedLengthStream(length))).arrayBuffer()),
};
export default {
  async fetch(request) {
    const body = await WAYS[new URL(request.url).pathname](request, Number(request.headers.get("content-length")));
    return new Response(String(body.length));
  },
};`;

const WAYS = ["/text", "/array-buffer", "/chunk-by-chunk", "/read-at-least", "/fixed-length-stream"];
const BODY = `grant_type=client_credentials&scope=read+write&client_assertion_type=x&client_assertion=${"y".repeat(640)}`;

const before = new Set(workerdPids());
const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  workers: [{ config: { name: "body-read", compatibilityDate: "2026-11-01", manifest: { mainModule: "w.mjs", modules: { "w.mjs": { type: "esm", contents: WORKER } } } } }],
});
try {
  const url = await mf.ready;
  const pid = workerdPids().find((p) => !before.has(p));
  const pool = new Pool(url.origin, { connections: 16 });
  const slice = async (path, ms) => {
    const cpuBefore = processCpuMs(pid);
    const end = performance.now() + ms;
    let answered = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (performance.now() < end) {
          const res = await pool.request({ method: "POST", path, body: BODY, headers: { "content-type": "application/x-www-form-urlencoded" } });
          if ((await res.body.text()) !== String(BODY.length)) throw new Error(`${path}: wrong length`);
          answered++;
        }
      }),
    );
    return { answered, cpuMs: processCpuMs(pid) - cpuBefore };
  };
  const totals = Object.fromEntries(WAYS.map((w) => [w, { answered: 0, cpuMs: 0 }]));
  for (const way of WAYS) await slice(way, 1000); // warm-up
  for (let round = 0; round < 16; round++) {
    for (const way of round % 2 ? [...WAYS].reverse() : WAYS) {
      const { answered, cpuMs } = await slice(way, 600);
      totals[way].answered += answered;
      totals[way].cpuMs += cpuMs;
    }
  }
  await pool.close();
  console.log("workerd CPU per request (the whole request: HTTP, the Worker, reading the body):");
  for (const way of WAYS) console.log(`  ${way.slice(1).padEnd(20)} ${((1000 * totals[way].cpuMs) / totals[way].answered).toFixed(0).padStart(5)} µs  (${totals[way].answered} requests)`);
} finally {
  await mf.dispose();
}

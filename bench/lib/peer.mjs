// Starts the peer, node-oidc-provider (bench/peer-oidc-provider.mjs), as a child process: the Node
// that runs the bench (Node 22 under `npm run`: the project's `node` devDependency), NODE_ENV
// production, on loopback, pinned with `taskset` when the bench pins its servers.

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { freePort } from "./ports.mjs";

const SCRIPT = resolve(import.meta.dirname, "..", "peer-oidc-provider.mjs");
const START_TIMEOUT_MS = 20_000;

/**
 * @param {{ basicSecret: string, jwtPublicJwk: object, prefix?: string[] }} o  the clients' credentials
 *        (the same as Latchkey's); a command to run it under (`taskset -c N`)
 * @returns {Promise<{ url: string, issuer: string, pid: number, node: string, dispose: () => Promise<void> }>}
 */
export async function startPeer({ basicSecret, jwtPublicJwk, prefix = [] }) {
  if (Number(process.versions.node.split(".")[0]) < 22) {
    console.error(`bench: note: the peer runs on this Node, ${process.version}; \`npm run bench\` runs Node 22 (the project's node devDependency)`);
  }
  const port = await freePort();
  const [command, ...args] = [...prefix, process.execPath, SCRIPT];
  const child = spawn(command, args, {
    env: { ...process.env, NODE_ENV: "production", PEER_CONFIG: JSON.stringify({ port, basicSecret, jwtPublicJwk }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise((done) => child.once("exit", done));
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  child.stderr.on("data", (chunk) => {
    output += chunk;
    // server_error lines go on to the bench's log (a failed request is also counted by the load generator).
    if (String(chunk).includes("server_error")) process.stderr.write(`bench: ${chunk}`);
  });
  try {
    const issuer = await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the peer did not start in ${START_TIMEOUT_MS / 1000} s: ${output}`)), START_TIMEOUT_MS);
      child.stdout.on("data", (chunk) => {
        output += chunk;
        const ready = /^ready (\S+)$/m.exec(output);
        if (ready) {
          clearTimeout(timer);
          done(ready[1]);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        fail(new Error(`the peer exited (${code}) before it was ready: ${output}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, issuer, pid: child.pid, node: process.version, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

// Starts the peer, node-oidc-provider (bench/peer-oidc-provider.mjs), as a child process: the Node
// that runs the bench (Node 22 under `npm run`: the project's `node` devDependency), NODE_ENV
// production, on loopback, pinned with `taskset` when the bench pins its servers.

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { freePort } from "../../scripts/local-worker.mjs";

const SCRIPT = resolve(import.meta.dirname, "..", "peer-oidc-provider.mjs");
const START_TIMEOUT_MS = 20_000;

/**
 * @param {{ basicSecret: string, jwtPublicJwk: object, web: object, app: object, person: object, prefix?: string[] }} o
 *        the clients' credentials and the person (the same as Latchkey's: bench/peer-oidc-provider.mjs
 *        says what each holds); a command to run it under (`taskset -c N`)
 * @returns {Promise<{ url: string, issuer: string, pid: number, node: string, mintCodes: (client: string, count: number) => Promise<{ code: string, verifier: string }[]>, dispose: () => Promise<void> }>}
 *          mintCodes: set-up only, codes straight from the provider's models (not measured)
 */
export async function startPeer({ basicSecret, jwtPublicJwk, web, app, person, prefix = [] }) {
  if (Number(process.versions.node.split(".")[0]) < 22) {
    console.error(`bench: note: the peer runs on this Node, ${process.version}; \`npm run bench\` runs Node 22 (the project's node devDependency)`);
  }
  const [port, setupPort] = [await freePort(), await freePort()];
  const [command, ...args] = [...prefix, process.execPath, SCRIPT];
  const child = spawn(command, args, {
    env: { ...process.env, NODE_ENV: "production", PEER_CONFIG: JSON.stringify({ port, setupPort, basicSecret, jwtPublicJwk, web, app, person }) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk) => (output = (output + chunk).slice(-16_000)); // for error messages
  // The bench may end by process.exit (its watchdog): the peer goes with it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise((done) => child.once("exit", done)).then(() => process.off("exit", killOnExit));
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((done) => setTimeout(done, 5000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  child.stderr.on("data", (chunk) => {
    keep(chunk);
    // server_error lines go on to the bench's log (a failed request is also counted by the load generator).
    if (String(chunk).includes("server_error")) process.stderr.write(`bench: ${chunk}`);
  });
  try {
    const issuer = await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the peer did not start in ${START_TIMEOUT_MS / 1000} s: ${output}`)), START_TIMEOUT_MS);
      child.stdout.on("data", (chunk) => {
        keep(chunk);
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
    const mintCodes = async (client, count) => {
      const res = await fetch(`http://127.0.0.1:${setupPort}/codes`, { method: "POST", body: JSON.stringify({ client, count }) });
      if (res.status !== 200) throw new Error(`the peer's code minting answered ${res.status}: ${await res.text()}`);
      return res.json();
    };
    return { url: `http://127.0.0.1:${port}`, issuer, pid: child.pid, node: process.version, mintCodes, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

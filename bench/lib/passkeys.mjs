// Passkey sign-in CPU, for `npm run bench` (issue 16): POST /login/passkey — the sign-in page's
// WebAuthn assertion, verified by @simplewebauthn/server (one ES256 signature), the challenge spent
// in the ReplayGuard Durable Object, the credential record updated, a session made — read against
// the Workers Free plan's 10 ms of CPU per request, as the password sign-in is (./free-plan.mjs).
//
// Set-up (unmeasured): a person signs in with a password and registers a passkey on
// /account/passkeys, answered by the tests' software authenticator (test/webauthn-authenticator.mjs,
// 'none' attestation, ES256); then one sign-in page is loaded per sign-in to come (each page's
// challenge is single use) and its assertion signed ahead. Measured: the POSTs, `concurrency` at a
// time, after a tenth of them as warm-up; the server's CPU is workerd's process CPU over the run
// divided by the sign-ins, as minting is measured (./cpu.mjs) — locally that process also runs the
// Durable Object and D1's SQLite, which on Cloudflare are not the request's CPU, so this is an
// upper bound. workerd on this machine is not Cloudflare's hardware; after deploying, the Workers
// metrics are what count. A check outside the bench (startLocalWorker, 200 sign-ins, concurrency 2,
// a busy machine): 6.8 ms per sign-in.

import { SoftAuthenticator } from "../../test/webauthn-authenticator.mjs";
import { processCpuMs } from "./cpu.mjs";
import { FREE_PLAN_CPU_MS } from "./free-plan.mjs";
import { Browser } from "./signin.mjs";

const PASSWORD = "bench-passkey-password-not-for-production";
const HTML_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" };

/** The options of the form `id` on a page (its data-options attribute). */
function optionsOf(html, id) {
  const found = new RegExp(`id="${id}" data-options="([^"]*)"`).exec(html);
  if (!found) throw new Error(`no #${id} with options on the page`);
  return JSON.parse(found[1].replace(/&(amp|lt|gt|quot|#39);/g, (_, name) => HTML_ENTITIES[name]));
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool(items, concurrency, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

/** A person with a registered passkey, and `count` sign-in POST bodies signed by it. */
async function prepare({ origin, issuer, adminToken, count }) {
  const email = `bench-passkey-${Date.now().toString(36)}@example.com`;
  const created = await fetch(`${origin}/admin/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, email_verified: true }),
  });
  if (created.status !== 201) throw new Error(`passkey bench: POST /admin/users answered ${created.status}`);
  const person = new Browser(origin);
  let page = await person.go("/login?return=account");
  page = await person.submit(page, "/login", { email, password: PASSWORD });
  page = await person.go("/account/passkeys");
  const authenticator = await SoftAuthenticator.create({ origin: new URL(issuer).origin });
  page = await person.submit(page, "/account/passkeys/add", { name: "Bench", credential: await authenticator.register(optionsOf(page.html, "passkey-add")) });
  if (page.url.search !== "?notice=added") throw new Error(`passkey bench: registration failed: ${person.trail.join(", ")}`);

  // One browser (one CSRF cookie) loads a sign-in page per sign-in; its counter stays 0, so the
  // assertions may arrive in any order.
  const signer = new Browser(origin);
  await signer.go("/login?return=account");
  const bodies = [];
  await pool(Array.from({ length: count }), 8, async () => {
    const signInPage = await signer.go("/login?return=account");
    const form = signer.form(signInPage, "/login/passkey");
    form.fields.set("credential", await authenticator.assert(optionsOf(signInPage.html, "passkey-form")));
    bodies.push(form.fields.toString());
  });
  const headers = { "content-type": "application/x-www-form-urlencoded", cookie: signer.cookieHeader, origin, "sec-fetch-site": "same-origin" };
  return { headers, bodies };
}

/**
 * Measures `count` passkey sign-ins (plus a tenth as warm-up): the workerd CPU per POST
 * /login/passkey, and whether it fits the Free plan's limit.
 */
export async function measurePasskeySignIn({ origin, issuer, adminToken, serverPid, concurrency, count = 1000 }) {
  const warmup = Math.ceil(count / 10);
  const { headers, bodies } = await prepare({ origin, issuer, adminToken, count: count + warmup });
  let failures = 0;
  const send = async (body) => {
    const res = await fetch(`${origin}/login/passkey`, { method: "POST", headers, body, redirect: "manual" });
    await res.body?.cancel();
    if (res.status !== 303 || res.headers.get("location") !== "/account") failures++;
  };
  await pool(bodies.slice(0, warmup), concurrency, send);
  failures = 0;
  const cpuBefore = processCpuMs(serverPid);
  const started = performance.now();
  await pool(bodies.slice(warmup), concurrency, send);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = processCpuMs(serverPid);
  if (failures) throw new Error(`passkey bench: ${failures} of ${count} sign-ins failed`);
  const serverMsPerRequest = cpuBefore !== undefined && cpuAfter !== undefined ? (cpuAfter - cpuBefore) / count : null;
  return { label: "POST /login/passkey (ES256 assertion)", requests: count, seconds, perSecond: count / seconds, serverMsPerRequest, limitMs: FREE_PLAN_CPU_MS, fits: serverMsPerRequest !== null && serverMsPerRequest <= FREE_PLAN_CPU_MS };
}

/** One line for the console report. */
export function printPasskeySignIn(result) {
  if (!result) return;
  const ms = result.serverMsPerRequest;
  console.log(
    `Passkey sign-in CPU against the Workers Free plan's ${result.limitMs} ms per request: POST /login/passkey ` +
      `${ms === null ? "n/a" : `${ms.toFixed(1)} ms`} (${result.requests} sign-ins, ${result.perSecond.toFixed(0)}/s). ` +
      (result.fits ? "Fits the Free plan here." : "Over the Free plan's limit here."),
  );
}

// CIBA (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0) in poll mode for
// `npm run bench`: authentication requests started as a call-centre app starts them (POST
// /bc-authorize, client_secret_basic, login_hint = the person's email, a binding message of its
// own), approved as the person approves them (the link mailed to them — read from the local outbox
// — and the approval page, with the bench's signed-in session), and the polls of the token endpoint
// the app then sends. The ring of pending polls and the exchanges are the device grant's
// (pollRing, approveRequests, polledGrant in bench/lib/device.mjs).

import { randomBytes } from "node:crypto";
import { CIBA_GRANT } from "./fixtures.mjs";
import { approveRequests } from "./device.mjs";
import { makeMany, signInOnPages } from "./signin.mjs";

/** A poll of the token endpoint for `authReqId` (CIBA §10.1); the client authenticates in the headers. */
export const cibaPollBody = (authReqId) => `grant_type=${encodeURIComponent(CIBA_GRANT)}&auth_req_id=${encodeURIComponent(authReqId)}`;

/**
 * Starts `count` CIBA requests (`headers` authenticate the client) for the person `loginHint`,
 * `concurrency` at a time, none after `deadlineSeconds`, each living `expirySeconds` (requested_expiry)
 * with a binding message of its own. Returns each one's poll body and binding message (oldest first),
 * the interval the server asked for (seconds), and the time it took.
 */
export async function startCibaRequests({ origin, headers, scope, loginHint, expirySeconds, count, concurrency, deadlineSeconds }) {
  let interval;
  const { items, seconds } = await makeMany({ origin, count, concurrency, deadlineSeconds }, async (pool) => {
    const bindingMessage = `Bench ${randomBytes(6).toString("hex")}`;
    const body = new URLSearchParams({ scope, login_hint: loginHint, binding_message: bindingMessage, requested_expiry: String(expirySeconds) }).toString();
    const res = await pool.request({ method: "POST", path: "/bc-authorize", headers, body });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`POST /bc-authorize answered ${res.statusCode}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text);
    interval = answer.interval;
    return { body: cibaPollBody(answer.auth_req_id), bindingMessage };
  });
  return { bodies: items.map((r) => r.body), bindingMessages: items.map((r) => r.bindingMessage), interval, seconds };
}

/**
 * The approval pages' handles mailed to `recipient` since the last call, by binding message (each
 * request's mail names its binding message and links /ciba/{handle}): `mailTo` reads the outbox
 * (bench/lib/latchkey.mjs).
 */
export function mailedHandles({ mailTo, recipient }) {
  let after = 0;
  return async () => {
    const handles = new Map();
    for (const { rowid, body } of await mailTo(recipient, after)) {
      after = Math.max(after, rowid);
      const found = /message: "([^"]+)"[\s\S]*?\/ciba\/([A-Za-z0-9_-]+)/.exec(body);
      if (found) handles.set(found[1], found[2]);
    }
    return handles;
  };
}

/**
 * The person approves the request behind `handle` in a `browser` that holds their session, through
 * the pages: the approval page, Approve, then consent as the server asks (the first approval for a
 * client). Returns what every later approval needs: the page's hidden fields (its CSRF token) and
 * the browser's cookies.
 */
export async function approveCibaThroughPages({ browser, handle, user }) {
  let page = await browser.go(`/ciba/${handle}`);
  const form = browser.form(page, `/ciba/${handle}`);
  if (!form) throw new Error(`no approval form on /ciba/{handle}: ${browser.trail.join(", ")}`);
  page = await signInOnPages(browser, await browser.submit(page, `/ciba/${handle}`, { decision: "approve" }), user);
  if (page.url.pathname !== "/ciba/done" || page.url.searchParams.get("result") !== "approved") {
    throw new Error(`the CIBA approval did not end approved: ${browser.trail.join(", ")}`);
  }
  return { fields: form.fields, cookie: browser.cookieHeader };
}

/** Approves the requests behind `handles` as the approval page's Approve button does (POST /ciba/{handle}: approveRequests). */
export const approveCibaRequests = ({ handles, ...rest }) =>
  approveRequests({ ...rest, forms: handles.map((handle) => ({ path: `/ciba/${handle}` })), doneLocation: "/ciba/done?result=approved" });



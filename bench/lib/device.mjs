// The device authorization grant (RFC 8628) for `npm run bench`: device requests started as a TV
// or CLI starts them (POST /device_authorization), approved as the person approves them (the
// /device pages, with the bench's signed-in session: bench/lib/signin.mjs), and the polls of the
// token endpoint the device then sends, as request makers for the load generator.

import { DEVICE_GRANT } from "./fixtures.mjs";
import { FORM } from "./requests.mjs";
import { makeMany, signInOnPages } from "./signin.mjs";

/** A poll of the token endpoint for `deviceCode` by the public client `clientId` (RFC 8628 §3.4). */
export const pollBody = (clientId, deviceCode) =>
  `grant_type=${encodeURIComponent(DEVICE_GRANT)}&device_code=${encodeURIComponent(deviceCode)}&client_id=${encodeURIComponent(clientId)}`;

/** A pending poll's answer (RFC 8628 §3.5, CIBA §11): 400 authorization_pending — slow_down is a failure here. */
export const expectPending = (status, text) =>
  status === 400 && text.includes('"error":"authorization_pending"') ? undefined : `${status} (expected 400 authorization_pending) ${text.slice(0, 300)}`;

/**
 * Starts `count` device requests of the public `client`, `concurrency` at a time, none after
 * `deadlineSeconds`. Returns each one's device_code and user_code (oldest first), the interval the
 * server asked for (seconds), and the time it took.
 */
export async function startDeviceRequests({ origin, client, count, concurrency, deadlineSeconds }) {
  const body = new URLSearchParams({ client_id: client.clientId, scope: client.scope }).toString();
  let interval;
  const { items, seconds } = await makeMany({ origin, count, concurrency, deadlineSeconds }, async (pool) => {
    const res = await pool.request({ method: "POST", path: "/device_authorization", headers: FORM, body });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`POST /device_authorization answered ${res.statusCode}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text);
    interval = answer.interval;
    return { deviceCode: answer.device_code, userCode: answer.user_code };
  });
  return { requests: items, interval, seconds };
}

/**
 * The person approves `userCode` in a `browser` (bench/lib/signin.mjs) that holds their session, through
 * every page: the code page (prefilled from verification_uri_complete, still submitted), the
 * confirmation, Approve, then sign-in and consent as the server asks (the first approval for a
 * client asks for consent). Returns what every later approval needs: the confirmation form's
 * hidden fields (its CSRF token) and the browser's cookies (the session and the CSRF cookie).
 */
export async function approveThroughPages({ browser, userCode, user }) {
  let page = await browser.go(`/device?user_code=${encodeURIComponent(userCode)}`);
  page = await browser.submit(page, "/device", { user_code: userCode });
  const confirm = browser.form(page, "/device/confirm");
  if (!confirm) throw new Error(`no confirmation form after /device: ${browser.trail.join(", ")}`);
  page = await signInOnPages(browser, await browser.submit(page, "/device/confirm", { decision: "approve" }), user);
  if (page.url.pathname !== "/device/done" || page.url.searchParams.get("result") !== "approved") {
    throw new Error(`the device approval did not end approved: ${browser.trail.join(", ")}`);
  }
  return { fields: confirm.fields, cookie: browser.cookieHeader };
}

/**
 * Approves each of `forms` as an approval page's Approve button does (a form POST to its `path` with
 * the person's session, the page's hidden fields, its own `fields` and decision=approve; the client's
 * consent is already given, so each answers a 303 to `doneLocation`), `concurrency` at a time, none
 * after `deadlineSeconds`. Serves the device grant (POST /device/confirm with the user_code) and
 * CIBA (POST /ciba/{handle}: bench/lib/ciba.mjs). Returns how many were approved (the first ones of
 * `forms`) and the time it took.
 */
export async function approveRequests({ origin, approval, forms, doneLocation, concurrency, deadlineSeconds }) {
  const headers = { ...FORM, cookie: approval.cookie, origin, "sec-fetch-site": "same-origin" };
  let next = 0;
  const { items, seconds } = await makeMany({ origin, count: forms.length, concurrency, deadlineSeconds }, async (pool) => {
    const { path, fields: own = {} } = forms[next++];
    const fields = new URLSearchParams(approval.fields);
    for (const [name, value] of Object.entries(own)) fields.set(name, value);
    fields.set("decision", "approve");
    const res = await pool.request({ method: "POST", path, headers, body: fields.toString() });
    const text = await res.body.text();
    if (res.statusCode !== 303 || res.headers.location !== doneLocation) {
      throw new Error(`POST ${path} answered ${res.statusCode} (location ${res.headers.location}): ${text.slice(0, 300)}`);
    }
    return true;
  });
  return { approved: items.length, seconds };
}

/** Approves device requests by their `userCodes` (POST /device/confirm: approveRequests). */
export const approveDeviceRequests = ({ userCodes, ...rest }) =>
  approveRequests({ ...rest, forms: userCodes.map((userCode) => ({ path: "/device/confirm", fields: { user_code: userCode } })), doneLocation: "/device/done?result=approved" });

/**
 * Pending polls spread over many requests (device requests, or CIBA's: `bodies` holds each one's
 * poll form), each polled as a device (or a CIBA client) at its interval polls:
 * a request answered is due again `gapMs` later (the server's interval and a margin), and the
 * loops take the request due longest, or, when none is due yet, one not polled so far. So no poll
 * is too fast and every answer is authorization_pending — never slow_down, which would also raise
 * the request's interval — and each request in use is polled about every `gapMs`, however fast
 * the server answers: only as many requests are in use as the rate needs. When none is due and
 * all are in use, the supply counts as used up (`next` answers null: the window is shortened and
 * the report warns). `next(loop)` answers the poll's form body; `answered(loop)` records the
 * answer to that loop's poll. A failed poll's request is not polled again.
 */
export function pollRing({ bodies, gapMs }) {
  const unused = bodies.map((body) => ({ body }));
  /** Requests answered, in the order of their answers (and so of when they are due again). */
  const waiting = [];
  const inFlight = [];
  return {
    size: bodies.length,
    /** How many requests have been polled at least once. */
    get used() {
      return bodies.length - unused.length;
    },
    next(loop) {
      const entry = waiting.length && waiting[0].due <= performance.now() ? waiting.shift() : unused.pop();
      if (entry === undefined) return null;
      inFlight[loop] = entry;
      return entry.body;
    },
    answered(loop) {
      const entry = inFlight[loop];
      entry.due = performance.now() + gapMs;
      waiting.push(entry);
    },
  };
}

/**
 * One polled grant's two scenarios (the device grant's, CIBA's): pending polls spread over a ring of
 * requests (pollRing), replaced by `startRing` before they expire, and exchanges of requests started
 * and approved just before their window (`prepareExchanges`), each exchanged once. `start(count,
 * deadlineSeconds)` starts requests and answers `{ bodies, seconds, ... }` (each request's poll form
 * body); `startToApprove` (by default `start`) the exchanges' requests; `approve(started, deadlineSeconds)` approves them and answers `{ approved, seconds }` (the
 * first `approved` of `started.bodies`). `records` is what the report and its JSON keep.
 */
export function polledGrant({ name, start, startToApprove = start, approve, gapMs, log }) {
  const records = [];
  let ring = pollRing({ bodies: [], gapMs });
  let ringStartedAt = -Infinity;
  let ringRecord;
  let approved = [];
  let next = 0;
  return {
    records,
    gapMs,
    /** Seconds since the pending polls' requests were started. */
    ringAge: () => (performance.now() - ringStartedAt) / 1000,
    /** The pilot's ring: `count` fresh requests, each polled once (a gap without end). */
    async pilotRing(count) {
      ring = pollRing({ bodies: (await start(count)).bodies, gapMs: Infinity });
    },
    /** Starts `wanted` requests for the pending polls, each to be polled at most every `gapMs`. */
    async startRing(wanted, round, deadlineSeconds) {
      const startedAt = performance.now();
      const { bodies, seconds } = await start(wanted, deadlineSeconds);
      ring = pollRing({ bodies, gapMs });
      ringStartedAt = startedAt;
      ringRecord = { round, use: "pending polls", wanted, started: bodies.length, startSeconds: seconds, gapSeconds: gapMs / 1000, polled: 0 };
      records.push(ringRecord);
      log(`  round ${round}  started ${bodies.length} ${name} requests for the pending polls in ${seconds.toFixed(1)} s, each to be polled at most every ${gapMs / 1000} s`);
    },
    /** After a pending-poll window: how many of the ring's requests were polled. */
    polled(round) {
      ringRecord.polled = ring.used;
      log(`  round ${round}  ${ring.used} of ${ring.size} ${name} requests polled so far`);
    },
    /** Starts `count` requests and approves them, for the next exchange window. */
    async prepareExchanges(count, round, deadlineSeconds) {
      const started = await startToApprove(count, deadlineSeconds);
      const { approved: n, seconds } = await approve(started, deadlineSeconds);
      approved = started.bodies.slice(0, n);
      next = 0;
      records.push({ round, use: "exchange", wanted: count, started: started.bodies.length, startSeconds: started.seconds, approved: n, approveSeconds: seconds });
      log(`  round ${round}  started ${started.bodies.length} ${name} requests in ${started.seconds.toFixed(1)} s and approved ${n} in ${seconds.toFixed(1)} s`);
    },
    /** The load generator's hooks: a pending poll's body (null: the ring is used up), its answer, an exchange's body. */
    nextPoll: (loop) => ring.next(loop),
    answered: (loop) => ring.answered(loop),
    nextExchange: () => (next < approved.length ? approved[next++] : null),
  };
}

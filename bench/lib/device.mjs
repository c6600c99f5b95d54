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

/** A pending poll's answer (RFC 8628 §3.5): 400 authorization_pending — slow_down is a failure here. */
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
 * Approves each of `userCodes` as the confirmation page's Approve button does (POST /device/confirm
 * with the person's session; the client's consent is already given, so each answers a 303 to the
 * result page), `concurrency` at a time, none after `deadlineSeconds`. Returns how many were
 * approved (the first ones of `userCodes`) and the time it took.
 */
export async function approveDeviceRequests({ origin, approval, userCodes, concurrency, deadlineSeconds }) {
  const headers = { ...FORM, cookie: approval.cookie, origin, "sec-fetch-site": "same-origin" };
  let next = 0;
  const { items, seconds } = await makeMany({ origin, count: userCodes.length, concurrency, deadlineSeconds }, async (pool) => {
    const fields = new URLSearchParams(approval.fields);
    fields.set("user_code", userCodes[next++]);
    fields.set("decision", "approve");
    const res = await pool.request({ method: "POST", path: "/device/confirm", headers, body: fields.toString() });
    const text = await res.body.text();
    if (res.statusCode !== 303 || res.headers.location !== "/device/done?result=approved") {
      throw new Error(`POST /device/confirm answered ${res.statusCode} (location ${res.headers.location}): ${text.slice(0, 300)}`);
    }
    return true;
  });
  return { approved: items.length, seconds };
}

/**
 * Pending polls spread over many device requests, each polled as a device at its interval polls:
 * a request answered is due again `gapMs` later (the server's interval and a margin), and the
 * loops take the request due longest, or, when none is due yet, one not polled so far. So no poll
 * is too fast and every answer is authorization_pending — never slow_down, which would also raise
 * the request's interval — and each request in use is polled about every `gapMs`, however fast
 * the server answers: only as many requests are in use as the rate needs. When none is due and
 * all are in use, the supply counts as used up (`next` answers null: the window is shortened and
 * the report warns). `next(loop)` answers the poll's form body; `answered(loop)` records the
 * answer to that loop's poll. A failed poll's request is not polled again.
 */
export function pollRing({ clientId, requests, gapMs }) {
  const unused = requests.map(({ deviceCode }) => ({ body: pollBody(clientId, deviceCode) }));
  /** Requests answered, in the order of their answers (and so of when they are due again). */
  const waiting = [];
  const inFlight = [];
  return {
    size: requests.length,
    /** How many requests have been polled at least once. */
    get used() {
      return requests.length - unused.length;
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

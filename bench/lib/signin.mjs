// The browser side of the sign-in flow, for `npm run bench`: just enough of a browser to sign a
// person in through Latchkey's real pages (/authorize → /login → /consent), and then to mint many
// authorization codes with `prompt=none` requests that carry the resulting session cookie.
//
// A cookie jar for the server's origin; redirects followed while they stay on the server; a form
// submitted with its hidden fields (csrf, txn) plus what the person types, with the Origin and
// `Sec-Fetch-Site: same-origin` a browser sends. The redirect to the client is captured, never
// followed. (test/e2e/http-browser.ts does the same for the end-to-end tests, in TypeScript.)

import { createHash, randomBytes } from "node:crypto";
import { Pool } from "undici";

const HTML_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'", "#x27": "'" };
const unescapeHtml = (text) => text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, name) => HTML_ENTITIES[name]);
const attr = (tag, name) => {
  const found = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return found ? unescapeHtml(found[1]) : undefined;
};

/** PKCE (RFC 7636 §4.1–4.2): a random verifier and its S256 challenge. */
export function pkcePair() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export class Browser {
  /** @type {Map<string, string>} */
  cookies = new Map();
  /** What happened, for error messages. */
  trail = [];

  constructor(origin) {
    this.origin = origin;
  }

  get cookieHeader() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  async #send(url, init = {}) {
    const headers = new Headers(init.headers);
    if (url.origin === this.origin && this.cookies.size) headers.set("cookie", this.cookieHeader);
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    if (url.origin === this.origin) {
      for (const line of res.headers.getSetCookie()) {
        const pair = line.split(";", 1)[0];
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (value === "" || /;\s*max-age=0\b/i.test(line)) this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    }
    this.trail.push(`${init.method ?? "GET"} ${url.pathname} → ${res.status}`);
    return res;
  }

  /** Loads a URL and follows redirects on the server; stops at a page, or when sent to another origin. */
  async go(target, init = {}) {
    let url = new URL(target, this.origin);
    let res = await this.#send(url, init);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops === 10) throw new Error(`too many redirects: ${this.trail.join(", ")}`);
      const next = new URL(res.headers.get("location") ?? "", url);
      if (next.origin !== this.origin) {
        await res.body?.cancel();
        return { url: next, status: res.status, html: "", left: true };
      }
      await res.body?.cancel();
      url = next;
      res = await this.#send(url);
    }
    return { url, status: res.status, html: await res.text(), left: false };
  }

  /** The form posting to `action` on a page: its URL and hidden fields. */
  form(page, action) {
    for (const [, attrs, body] of page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
      const url = new URL(attr(` ${attrs}`, "action") ?? "", page.url);
      if (url.origin !== this.origin || url.pathname !== action) continue;
      const fields = new URLSearchParams();
      for (const [input] of body.matchAll(/<input\b[^>]*>/g)) {
        const name = attr(input, "name");
        if (attr(input, "type") === "hidden" && name !== undefined) fields.append(name, attr(input, "value") ?? "");
      }
      return { url, fields };
    }
    return undefined;
  }

  /** Submits the page's form for `action` with its hidden fields and `typed`. */
  async submit(page, action, typed) {
    const form = this.form(page, action);
    if (!form) throw new Error(`no ${action} form on ${page.url.pathname} (HTTP ${page.status}): ${this.trail.join(", ")}`);
    for (const [name, value] of Object.entries(typed)) form.fields.set(name, value);
    return this.go(form.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.origin, "sec-fetch-site": "same-origin" },
      body: form.fields.toString(),
    });
  }
}

/**
 * One authorization request of the code flow with PKCE S256 and a nonce, as a relying party makes
 * it. Returns the path to send and the verifier to keep.
 */
export function authorizationRequest({ clientId, redirectUri, scope, prompt }) {
  const { verifier, challenge } = pkcePair();
  const query = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state: randomBytes(16).toString("base64url"),
    nonce: randomBytes(16).toString("base64url"),
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...(prompt && { prompt }),
  });
  return { path: `/authorize?${query}`, verifier };
}

/** The code out of a redirect to the client, or an error naming what came instead. */
function codeFrom(location, redirectUri) {
  const url = new URL(location ?? "", "http://invalid/");
  const code = url.searchParams.get("code");
  if (!location?.startsWith(`${redirectUri}?`) || !code) throw new Error(`expected a code at ${redirectUri}, got ${location}`);
  return code;
}

/**
 * From `page` on, signs `user` in on `/login` and allows on `/consent`, whichever of the two the
 * server shows, until a page has neither form (or the browser is sent to another origin).
 * Returns that page.
 */
export async function signInOnPages(browser, page, user) {
  for (let step = 0; step < 4 && !page.left; step++) {
    if (page.status !== 200) throw new Error(`sign-in flow: HTTP ${page.status} at ${page.url.pathname}: ${browser.trail.join(", ")}`);
    if (browser.form(page, "/login")) page = await browser.submit(page, "/login", { email: user.email, password: user.password });
    else if (browser.form(page, "/consent")) page = await browser.submit(page, "/consent", { decision: "allow" });
    else break;
  }
  return page;
}

/**
 * Signs `user` in through the real pages and allows the client on the consent page (whichever of
 * the two pages the server shows). Returns the browser (its cookie jar holds the session) and the
 * first code with its verifier.
 */
export async function signInAndConsent({ origin, client, user }) {
  const browser = new Browser(origin);
  const request = authorizationRequest(client);
  const page = await signInOnPages(browser, await browser.go(request.path), user);
  if (!page.left) throw new Error(`sign-in flow did not reach the client: ${browser.trail.join(", ")}`);
  return { browser, code: codeFrom(page.url.href, client.redirectUri), verifier: request.verifier };
}

/**
 * The two values a sign-in form POST needs besides the person's email and password: a sealed
 * transaction (`txn`, from an authorization request without a session) and a CSRF token with its
 * cookie. Both stay valid for many submissions (the transaction for the interaction lifetime).
 */
export async function signInForm({ origin, client }) {
  const browser = new Browser(origin);
  const page = await browser.go(authorizationRequest(client).path);
  const form = browser.form(page, "/login");
  if (!form) throw new Error(`no sign-in form after /authorize: ${browser.trail.join(", ")}`);
  return { fields: form.fields, cookie: browser.cookieHeader };
}

/**
 * Makes up to `count` things over one keep-alive pool to `origin`, `concurrency` at a time: each
 * `make(pool)` sends what it needs and resolves to one item (or throws). No item is started after
 * `deadlineSeconds`. Returns the items in the order they were made, and the time it took.
 */
export async function makeMany({ origin, count, concurrency, deadlineSeconds = Infinity }, make) {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 });
  const items = [];
  let started = 0;
  const t0 = performance.now();
  const deadline = t0 + deadlineSeconds * 1000;
  const loop = async () => {
    while (started < count && performance.now() < deadline) {
      started++;
      items.push(await make(pool));
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    await pool.close().catch(() => {});
  }
  return { items, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Mints `count` authorization codes with `prompt=none` requests carrying the session `cookie`,
 * `concurrency` at a time; no request is started after `deadlineSeconds`. Each has its own PKCE
 * verifier, state and nonce. Returns the codes in the order they were issued (oldest first) and
 * the time it took.
 */
export async function mintCodes({ origin, cookie, client, count, concurrency, deadlineSeconds = Infinity }) {
  const { items: codes, seconds } = await makeMany({ origin, count, concurrency, deadlineSeconds }, async (pool) => {
    const request = authorizationRequest({ ...client, prompt: "none" });
    const res = await pool.request({ method: "GET", path: request.path, headers: { cookie } });
    const text = await res.body.text();
    if (res.statusCode !== 302) throw new Error(`prompt=none answered ${res.statusCode}: ${text.slice(0, 300)}`);
    return { code: codeFrom(res.headers.location, client.redirectUri), verifier: request.verifier };
  });
  return { codes, seconds };
}

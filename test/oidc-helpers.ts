import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { ISSUER, basic, call, createClient, tokenRequest, uniqueId } from "./helpers";

export const REDIRECT_URI = "https://rp.example/callback";
export const PASSWORD = "correct horse battery staple";

/** A minimal browser: a cookie jar and manual redirects, driving the Worker's real fetch handler. */
export class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await call(path, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows same-origin redirects (our own pages) until a page or a redirect to elsewhere. */
  async follow(res: Response): Promise<Response> {
    let current = res;
    for (let hops = 0; hops < 10 && current.status >= 300 && current.status < 400; hops++) {
      const location = new URL(current.headers.get("location")!, ISSUER);
      if (location.origin !== ISSUER) return current;
      current = await this.fetch(location.pathname + location.search);
    }
    return current;
  }

  /** Submits the page's form with the given fields (hidden fields, csrf and txn included). */
  async submit(page: Response | string, fields: Record<string, string>, action?: string): Promise<Response> {
    const html = typeof page === "string" ? page : await page.text();
    const form = action ? html.slice(html.indexOf(`action="${action}"`)) : html;
    const target = action ?? decode(/<form[^>]*action="([^"]+)"/.exec(form)?.[1] ?? "");
    const body = new URLSearchParams(hiddenFields(form.slice(0, form.indexOf("</form>") + 7)));
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    return this.fetch(target, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
  }
}

const decode = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1];
    if (name !== undefined) out[decode(name)] = decode(value ?? "");
  }
  return out;
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const verifier = b64(bytes);
  const challenge = b64(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

export async function oidcClient(input: Record<string, unknown> = {}) {
  return createClient({
    grant_types: ["authorization_code"],
    redirect_uris: [REDIRECT_URI],
    client_name: "Example RP",
    ...input,
  });
}

/** A person, created through the operator API. */
export async function person(input: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `${uniqueId("user")}@example.com`;
  const res = await call("/admin/users", {
    method: "POST",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD, email_verified: true, ...input }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

export interface FlowResult {
  /** The final redirect to the client (or the form_post page). */
  response: Response;
  params: URLSearchParams;
}

/** The parameters an authorization response delivered, whatever the response mode. */
export async function responseParams(res: Response): Promise<URLSearchParams> {
  if (res.status === 200) return new URLSearchParams(hiddenFields(await res.text()));
  const location = new URL(res.headers.get("location")!);
  return location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
}

/**
 * Runs the browser part of the code flow: authorization request, sign-in (if asked), consent (if
 * asked), and returns what reached the client.
 */
export async function authorize(
  browser: Browser,
  params: Record<string, string>,
  user?: { email: string; password?: string },
  opts: { consent?: "allow" | "deny"; method?: "GET" | "POST" } = {},
): Promise<FlowResult> {
  const query = new URLSearchParams(params).toString();
  let res =
    opts.method === "POST"
      ? await browser.fetch("/authorize", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: query })
      : await browser.fetch(`/authorize?${query}`);
  res = await browser.follow(res);
  for (let step = 0; step < 4 && res.status === 200; step++) {
    const html = await res.clone().text();
    if (html.includes('action="/login"') && user) {
      res = await browser.follow(await browser.submit(html, { email: user.email, password: user.password ?? PASSWORD }, "/login"));
    } else if (html.includes('action="/consent"')) {
      res = await browser.follow(await browser.submit(html, { decision: opts.consent ?? "allow" }, "/consent"));
    } else break;
  }
  const isClientResponse = res.status === 302 || res.status === 303 || (res.status === 200 && (await res.clone().text()).includes("<form") && !(await res.clone().text()).includes('action="/'));
  return { response: res, params: isClientResponse ? await responseParams(res.clone()) : new URLSearchParams() };
}

/** Exchanges a code at the token endpoint with client_secret_basic. */
export function redeem(client: { client_id: string; client_secret?: string }, code: string, verifier?: string, extra: Record<string, string> = {}) {
  const form: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, ...extra };
  if (verifier) form.code_verifier = verifier;
  return tokenRequest(form, client.client_secret ? { authorization: basic(client.client_id, client.client_secret) } : {});
}

/** The standard code-flow request parameters for a client, with PKCE. */
export async function codeRequest(clientId: string, extra: Record<string, string> = {}) {
  const { verifier, challenge } = await pkce();
  const params: Record<string, string> = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: "openid",
    state: uniqueId("state"),
    nonce: uniqueId("nonce"),
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...extra,
  };
  return { params, verifier };
}

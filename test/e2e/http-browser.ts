/**
 * A person's browser, reduced to what the sign-in pages need, for end-to-end tests over real HTTP:
 * a cookie jar for the server's origin, redirects followed only while they stay on the server (the
 * redirect to a client's redirect URI is captured, not followed), and form submission that sends
 * the form's hidden fields (csrf, txn, …) plus what the person types. Like a browser, a POST
 * carries the page's Origin and `Sec-Fetch-Site: same-origin`.
 */

/** A page the server answered with, or the moment the browser was sent away to a client. */
export interface Visit {
  /** Where the browser is: the page's URL, or the client URL it was sent to (`left`). */
  url: string;
  status: number;
  /** The HTML of a page (empty after a redirect away). */
  html: string;
  /** True when the server redirected the browser to another origin (a client's redirect URI). */
  left: boolean;
  response: Response;
}

export interface Form {
  action: string;
  method: string;
  fields: URLSearchParams;
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&#x27;": "'" };
export const decodeHtml = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#39|#x27);/g, (entity) => ENTITIES[entity]!);

const attribute = (tag: string, name: string) => {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? decodeHtml(match[1]!) : undefined;
};

/**
 * The forms of a page: action, method, and the hidden inputs (what a browser submits untouched).
 * Server-rendered hono/jsx markup: double-quoted attributes, no nested forms.
 */
export function forms(html: string, base: string): Form[] {
  const out: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const [, attrs = "", body = ""] = match;
    const fields = new URLSearchParams();
    for (const input of body.matchAll(/<input\b[^>]*>/g)) {
      if (attribute(input[0], "type") !== "hidden") continue;
      const name = attribute(input[0], "name");
      if (name !== undefined) fields.append(name, attribute(input[0], "value") ?? "");
    }
    out.push({
      action: new URL(attribute(` ${attrs}`, "action") ?? "", base).href,
      method: (attribute(` ${attrs}`, "method") ?? "get").toUpperCase(),
      fields,
    });
  }
  return out;
}

/** The text of the page's first <h1>, tags removed. */
export const heading = (html: string) => decodeHtml((/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? "").replace(/<[^>]+>/g, "")).trim();

/** The href of the first link whose text contains `text`. */
export function linkHref(html: string, text: string, base: string): string | undefined {
  for (const match of html.matchAll(/<a\b([^>]*)>([\s\S]*?)<\/a>/g)) {
    if (match[2]!.replace(/<[^>]+>/g, "").includes(text)) {
      const href = attribute(` ${match[1]}`, "href");
      if (href !== undefined) return new URL(href, base).href;
    }
  }
  return undefined;
}

export class HttpBrowser {
  readonly cookies = new Map<string, string>();
  /** Every URL the browser was at, in order: pages and redirects (for failure messages). */
  readonly history: string[] = [];

  constructor(readonly origin: string) {}

  private async send(url: URL, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    const sameOrigin = url.origin === this.origin;
    if (sameOrigin && this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    if (sameOrigin) {
      for (const line of res.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (/;\s*max-age=0\b/i.test(line) || value === "") this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
    }
    return res;
  }

  /** Loads `url` (GET, or the given request) and follows redirects while they stay on the server. */
  async go(url: string, init: RequestInit = {}): Promise<Visit> {
    let current = new URL(url, this.origin);
    let res = await this.send(current, init);
    this.history.push(`${init.method ?? "GET"} ${current.pathname} → ${res.status}`);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops > 10) throw new Error(`redirect loop: ${this.history.join(", ")}`);
      const next = new URL(res.headers.get("location")!, current);
      if (next.origin !== this.origin) return { url: next.href, status: res.status, html: "", left: true, response: res };
      current = next;
      res = await this.send(current, {});
      this.history.push(`GET ${current.pathname} → ${res.status}`);
    }
    return { url: current.href, status: res.status, html: await res.text(), left: false, response: res };
  }

  /** Submits the page's form whose action ends with `action`, with its hidden fields and `typed`. */
  async submit(page: Visit, action: string, typed: Record<string, string> = {}): Promise<Visit> {
    const form = forms(page.html, page.url).find((f) => new URL(f.action).pathname === action || f.action === action);
    if (!form) throw new Error(`no form for ${action} on ${page.url} (${heading(page.html)}): ${this.history.join(", ")}`);
    const body = new URLSearchParams(form.fields);
    for (const [name, value] of Object.entries(typed)) body.set(name, value);
    return this.go(form.action, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: new URL(page.url).origin,
        "sec-fetch-site": new URL(form.action).origin === new URL(page.url).origin ? "same-origin" : "cross-site",
      },
      body: body.toString(),
    });
  }
}

/**
 * A person's side of an authorization request: opens `url`; whenever the page offers the sign-in
 * form, signs in as `person`; whenever it offers the consent form, allows. Stops when the server
 * sends the browser away (to the client's redirect URI) or shows a page with neither form. Returns
 * the last visit and the headings of the pages seen; a page that is not 200 is an error.
 */
export async function signInAndConsent(
  browser: HttpBrowser,
  url: URL | string,
  person: { email: string; password: string },
): Promise<{ visit: Visit; headings: string[] }> {
  const headings: string[] = [];
  let visit = await browser.go(String(url));
  while (!visit.left && headings.length < 4) {
    if (visit.status !== 200) throw new Error(`${visit.status} on "${heading(visit.html)}": ${browser.history.join(", ")}`);
    headings.push(heading(visit.html));
    const paths = new Set(forms(visit.html, visit.url).map((form) => new URL(form.action).pathname));
    if (paths.has("/login")) visit = await browser.submit(visit, "/login", { email: person.email, password: person.password });
    else if (paths.has("/consent")) visit = await browser.submit(visit, "/consent", { decision: "allow" });
    else break;
  }
  return { visit, headings };
}

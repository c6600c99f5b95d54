import { Hono, type Context } from "hono";
import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/errors/oauth-error";
import { renderPage, type PageSource, type RenderOptions } from "../src/http/page-security";
import {
  ConsentPage,
  ErrorPage,
  FormPostPage,
  OutboxPage,
  SignInPage,
  SignUpPage,
  VerifyEmailConfirmPage,
  VerifyEmailDonePage,
  VerifyEmailSentPage,
  describeScopes,
  renderErrorPage,
  renderFormPost,
} from "../src/pages";

const HOSTILE = `<script>alert(1)</script>`;
const QUOTED_TXN = `t"x'n><img src=x onerror=alert(1)>`;

/** Serves one handler through a real Hono app (as a route would) and returns the response and its HTML. */
async function serve(handler: (c: Context) => Promise<Response>) {
  const app = new Hono().get("/", handler);
  const res = await app.request("/");
  return { res, html: await res.text() };
}

const page = (source: PageSource, options?: RenderOptions) => serve((c) => renderPage(c, source, options));

/** Every page: HTML headers, a CSP nonce that every <style>/<script> carries, and nothing inline without it. */
function expectPageSecurity(res: Response, html: string) {
  expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  const nonce = /style-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
  expect(nonce).toBeDefined();
  expect(csp).toContain(`script-src 'nonce-${nonce}'`);
  expect(html.startsWith("<!DOCTYPE html><html lang=\"en\">")).toBe(true);
  const tags = [...html.matchAll(/<(style|script)\b[^>]*>/g)].map((m) => m[0]);
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
  // No inline event handlers or style attributes (the CSP would block them anyway); values aside.
  const markup = html.replace(/"[^"]*"/g, '""');
  expect(markup).not.toMatch(/\son[a-z]+=/i);
  expect(markup).not.toMatch(/\sstyle=/i);
  expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
  return nonce!;
}

/** The value attribute of the input named `name` (HTML-unescaped). */
function field(html: string, name: string): string | undefined {
  const tag = [...html.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).find((t) => t.includes(` name="${name}"`));
  const value = tag && /\svalue="([^"]*)"/.exec(tag)?.[1];
  return value
    ?.replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

describe("SignInPage", () => {
  it("posts email and password to /login with hidden txn and csrf", async () => {
    const { res, html } = await page((nonce) =>
      SignInPage({ nonce, csrf: "csrf-token", txn: "txn-1", loginHint: "ada@example.com", clientName: "Example App", signupEnabled: true }));
    expect(res.status).toBe(200);
    expectPageSecurity(res, html);
    expect(html).toContain('<form method="post" action="/login">');
    expect(field(html, "txn")).toBe("txn-1");
    expect(field(html, "csrf")).toBe("csrf-token");
    expect(field(html, "email")).toBe("ada@example.com");
    expect(html).toMatch(/<input[^>]*name="email"[^>]*autocomplete="username"/);
    expect(html).toMatch(/<input[^>]*name="password"[^>]*type="password"[^>]*autocomplete="current-password"/);
    expect(html).toContain('<label for="email">');
    expect(html).toContain('<label for="password">');
    expect(html).toContain('href="/signup?txn=txn-1"');
    expect(html).toContain("Example App");
  });

  it("hides sign-up when disabled, and shows one message for unknown user and wrong password", async () => {
    const { html } = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", error: "invalid_credentials", signupEnabled: false }));
    expect(html).not.toContain("/signup");
    expect(html).toContain('role="alert"');
    expect(html).toContain("The email address or password is incorrect.");
    expect(html).not.toMatch(/no account|not found|unknown user/i);
  });

  it("escapes a hostile client name, login hint and txn", async () => {
    const { html } = await page((nonce) =>
      SignInPage({ nonce, csrf: "c", txn: QUOTED_TXN, loginHint: `"><script>x()</script>`, clientName: HOSTILE, signupEnabled: true }));
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<img");
    expect(field(html, "txn")).toBe(QUOTED_TXN);
    expect(field(html, "email")).toBe(`"><script>x()</script>`);
    expect(html).toContain(`href="/signup?txn=${encodeURIComponent(QUOTED_TXN).replace(/'/g, "&#39;")}"`);
    expect([...html.matchAll(/<script/g)]).toHaveLength(0);
  });
});

describe("SignUpPage", () => {
  it("posts email, new password and optional name to /signup", async () => {
    const { res, html } = await page((nonce) =>
      SignUpPage({ nonce, csrf: "c1", txn: "t1", email: "new@example.com", error: "weak_password", passwordMinLength: 12 }));
    expectPageSecurity(res, html);
    expect(html).toContain('<form method="post" action="/signup">');
    expect(field(html, "csrf")).toBe("c1");
    expect(field(html, "txn")).toBe("t1");
    expect(field(html, "email")).toBe("new@example.com");
    expect(html).toMatch(/<input[^>]*name="password"[^>]*autocomplete="new-password"[^>]*minlength="12"/);
    expect(html).toMatch(/<input[^>]*name="name"/);
    expect(html).not.toMatch(/<input[^>]*name="name"[^>]*required/);
    expect(html).toContain("at least 12 characters");
    expect(html).toContain('href="/login?txn=t1"');
  });

  it("works without a txn and escapes values", async () => {
    const { html } = await page((nonce) => SignUpPage({ nonce, csrf: "c", email: `a"b@example.com`, name: HOSTILE }));
    expect(html).not.toMatch(/name="txn"/);
    expect(html).not.toContain(HOSTILE);
    expect(field(html, "name")).toBe(HOSTILE);
    expect(field(html, "email")).toBe(`a"b@example.com`);
  });
});

describe("email verification pages", () => {
  it("VerifyEmailSentPage: resend form, outbox link only in development", async () => {
    const dev = await page((nonce) => VerifyEmailSentPage({ nonce, csrf: "c", email: "ada@example.com", txn: "t", outboxHint: true }));
    expectPageSecurity(dev.res, dev.html);
    expect(dev.html).toContain('<form method="post" action="/verify-email/resend">');
    expect(field(dev.html, "csrf")).toBe("c");
    expect(field(dev.html, "email")).toBe("ada@example.com");
    expect(field(dev.html, "txn")).toBe("t");
    expect(dev.html).toContain('href="/dev/outbox"');
    const prod = await page((nonce) => VerifyEmailSentPage({ nonce, csrf: "c", email: HOSTILE }));
    expect(prod.html).not.toContain("/dev/outbox");
    expect(prod.html).not.toContain(HOSTILE);
  });

  it("VerifyEmailConfirmPage: GET shows a button that POSTs the token", async () => {
    const { res, html } = await page((nonce) => VerifyEmailConfirmPage({ nonce, csrf: "c", token: QUOTED_TXN }));
    expectPageSecurity(res, html);
    expect(html).toContain('<form method="post" action="/verify-email">');
    expect(field(html, "token")).toBe(QUOTED_TXN);
    expect(field(html, "csrf")).toBe("c");
    expect(html).toMatch(/<button type="submit"/);
  });

  it("VerifyEmailDonePage: continue link only to a path on this server", async () => {
    const ok = await page((nonce) => VerifyEmailDonePage({ nonce, continueUrl: "/authorize/continue?txn=a&b=c" }));
    expectPageSecurity(ok.res, ok.html);
    expect(ok.html).toContain('href="/authorize/continue?txn=a&amp;b=c"');
    for (const bad of ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "/\\evil.example"]) {
      const { html } = await page((nonce) => VerifyEmailDonePage({ nonce, continueUrl: bad }));
      expect(html).not.toContain("evil.example");
      expect(html).not.toContain("javascript:");
      expect(html).toContain("close this tab");
    }
  });
});

describe("ConsentPage", () => {
  it("posts decision=allow|deny to /consent and describes every scope", async () => {
    const { res, html } = await page(
      (nonce) =>
        ConsentPage({
          nonce,
          csrf: "c",
          txn: "t",
          clientName: "Example App",
          clientUri: "https://app.example/about",
          scopes: describeScopes("openid profile email address phone offline_access payments:read"),
          userEmail: "ada@example.com",
        }),
      { formActionOrigins: ["https://app.example/cb"] },
    );
    expectPageSecurity(res, html);
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://app.example;");
    expect(html).toContain('<form method="post" action="/consent">');
    expect(field(html, "txn")).toBe("t");
    expect(field(html, "csrf")).toBe("c");
    expect(html).toContain('<button type="submit" name="decision" value="allow">');
    expect(html).toMatch(/<button type="submit" name="decision" value="deny"/);
    for (const text of ["account ID", "basic profile", "email address", "postal address", "phone number", "when you are not using the app", "payments:read"]) {
      expect(html).toContain(text);
    }
    expect(html).toContain('href="https://app.example/about"');
    expect(html).toContain("ada@example.com");
  });

  it("escapes a hostile client name and scope, and drops a javascript: client_uri", async () => {
    const { html } = await page((nonce) =>
      ConsentPage({
        nonce,
        csrf: "c",
        txn: QUOTED_TXN,
        clientName: HOSTILE,
        clientUri: "javascript:alert(1)",
        scopes: describeScopes(["openid", `<b>x</b>`]),
        userEmail: `"><svg>`,
      }));
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain("<b>x</b>");
    expect(html).not.toContain("<svg>");
    expect(html).not.toContain("javascript:");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(field(html, "txn")).toBe(QUOTED_TXN);
  });
});

describe("ErrorPage", () => {
  it("renders with the given status and no internals", async () => {
    const { res, html } = await page(
      (nonce) => ErrorPage({ nonce, title: "Unknown application", message: HOSTILE, code: "authorize_unknown_client" }),
      { status: 400 },
    );
    expect(res.status).toBe(400);
    expectPageSecurity(res, html);
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain("<code>authorize_unknown_client</code>");
  });

  it("renderErrorPage: the catalog's status and words; server errors say nothing specific", async () => {
    const csrf = await serve((c) => renderErrorPage(c, new OAuthError("csrf_invalid")));
    expect(csrf.res.status).toBe(403);
    expectPageSecurity(csrf.res, csrf.html);
    expect(csrf.html).toContain("This form has expired");
    const boom = await serve((c) => renderErrorPage(c, new OAuthError("server_error", "D1_ERROR: no such table: users")));
    expect(boom.res.status).toBe(500);
    expect(boom.html).not.toContain("D1_ERROR");
    expect(boom.html).toContain("Something went wrong");
  });
});

describe("FormPostPage (OAuth 2.0 Form Post Response Mode)", () => {
  const params = { code: "c0de", state: `s"t<a>te'&`, iss: "https://latchkey.test" };

  it("holds every parameter as a hidden field and auto-submits with a nonce'd script", async () => {
    const { res, html } = await serve((c) => renderFormPost(c, "https://app.example/cb?x=1", params));
    const nonce = expectPageSecurity(res, html);
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self' https://app.example;");
    expect(html).toContain('<form method="post" action="https://app.example/cb?x=1">');
    for (const [name, value] of Object.entries(params)) expect(field(html, name)).toBe(value);
    expect(html).toContain(`<script nonce="${nonce}">document.forms[0].submit();</script>`);
    expect(html).toMatch(/<button type="submit">Continue<\/button>/);
    expect(html).not.toContain("<a>");
  });

  it("escapes hostile names and values", async () => {
    const { html } = await page((nonce) =>
      FormPostPage({ nonce, action: `https://app.example/cb?a="b"`, params: { [`x"><script>`]: HOSTILE } }));
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain(`"><script>`);
    expect(field(html, `x"><script>`)).toBe(undefined); // the name is escaped, so it does not match raw
    expect(html).toContain('action="https://app.example/cb?a=&quot;b&quot;"');
    expect([...html.matchAll(/<script/g)]).toHaveLength(1);
  });
});

describe("OutboxPage", () => {
  it("lists messages with clickable http(s) links and escapes the rest", async () => {
    const { res, html } = await page((nonce) =>
      OutboxPage({
        nonce,
        messages: [
          {
            recipient: "ada@example.com",
            subject: "Verify your email",
            body: `Open http://localhost:8787/verify-email?token=abc&x=1.\nIgnore ${HOSTILE} and javascript:alert(1)`,
            createdAt: 1_700_000_000,
          },
        ],
      }));
    expectPageSecurity(res, html);
    expect(html).toContain('<a href="http://localhost:8787/verify-email?token=abc&amp;x=1">http://localhost:8787/verify-email?token=abc&amp;x=1</a>.');
    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain("2023-11-14 22:13:20 UTC");
  });

  it("says so when empty", async () => {
    const { html } = await page((nonce) => OutboxPage({ nonce, messages: [] }));
    expect(html).toContain("No messages yet.");
  });
});

describe("renderPage", () => {
  it("gives the page the header's nonce, sends Set-Cookie values and keeps headers set on the context", async () => {
    const { res, html } = await serve((c) => {
      c.header("set-cookie", "session=abc; Path=/; Secure; HttpOnly", { append: true });
      return renderPage(c, (nonce) => ErrorPage({ nonce, title: "t", message: "m" }), {
        setCookies: ["__Host-csrf=x; Path=/; Secure", undefined],
      });
    });
    const nonce = /'nonce-([A-Za-z0-9_-]+)'/.exec(res.headers.get("content-security-policy")!)![1];
    expect(html).toContain(`nonce="${nonce}"`);
    expect(res.headers.getSetCookie()).toEqual(["session=abc; Path=/; Secure; HttpOnly", "__Host-csrf=x; Path=/; Secure"]);
  });

  it("uses a fresh nonce per response", async () => {
    const a = await page((nonce) => ErrorPage({ nonce, title: "t", message: "m" }));
    const b = await page((nonce) => ErrorPage({ nonce, title: "t", message: "m" }));
    expect(a.res.headers.get("content-security-policy")).not.toBe(b.res.headers.get("content-security-policy"));
  });
});

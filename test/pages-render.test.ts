import { Hono, type Context } from "hono";
import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/errors/oauth-error";
import { imageSource, renderPage, type PageSource, type RenderOptions } from "../src/http/page-security";
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
import { SignedOutPage } from "../src/pages/logout";
import { expectPageSecurity } from "./pages-helpers";

const HOSTILE = `<script>alert(1)</script>`;
const QUOTED_TXN = `t"x'n><img src=x onerror=alert(1)>`;

/** Serves one handler through a real Hono app (as a route would) and returns the response and its HTML. */
async function serve(handler: (c: Context) => Promise<Response>) {
  const app = new Hono().get("/", handler);
  const res = await app.request("/");
  return { res, html: await res.text() };
}

const page = (source: PageSource, options?: RenderOptions) => serve((c) => renderPage(c, source, options));

/** The source list of one CSP directive, e.g. `img-src` → "'self' data:". */
const directive = (res: Response, name: string) =>
  new RegExp(`(?:^|;\\s*)${name} ([^;]*)`).exec(res.headers.get("content-security-policy") ?? "")?.[1];

/** A client's RFC 7591 §2 URLs, as the routes pass them (and the logo's render option). */
const CLIENT = {
  clientName: "Example App",
  clientUri: "https://app.example/about",
  logoUri: "https://cdn.app.example/logo.png",
  policyUri: "https://app.example/privacy",
  tosUri: "https://app.example/terms",
};
const LOGO_ONLY: RenderOptions = { imgOrigins: [CLIENT.logoUri] };

/** URLs that are not https, or that a page must not show or name in its CSP. */
const UNSAFE_URLS = [
  "http://app.example/x",
  "javascript:alert(1)//https://app.example",
  "data:image/svg+xml,<svg onload=alert(1)>",
  "//app.example/x",
  "/relative",
  "https://bank.example@evil.example/x",
  "not a url",
];

/** Every <img> and every external link the page has. */
const images = (html: string) => [...html.matchAll(/<img\b[^>]*>/g)].map((m) => m[0]);
const externalLinks = (html: string) => [...html.matchAll(/<a href="([a-z]+:[^"]*)"/g)].map((m) => m[1]);

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

  it("after a wrong password the password field is aria-invalid and described by the error (WCAG 3.3.1)", async () => {
    const wrong = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", error: "invalid_credentials", signupEnabled: false }));
    expect(wrong.html).toContain('<p class="alert" role="alert" id="signin-error">');
    expect(wrong.html).toMatch(/<input id="password"[^>]* aria-invalid="true" aria-describedby="signin-error"\/>/);
    const throttled = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", error: "too_many_attempts", signupEnabled: false }));
    expect(throttled.html).toMatch(/<input id="password"[^>]* aria-describedby="signin-error"\/>/);
    expect(throttled.html).not.toContain("aria-invalid");
    const fresh = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", signupEnabled: false }));
    expect(fresh.html).not.toMatch(/aria-invalid|aria-describedby/);
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

  it("outside an authorization request: a hidden return instead of txn, no client, sign-up without txn", async () => {
    const { res, html } = await page((nonce) => SignInPage({ nonce, csrf: "c", returnTo: "account", signupEnabled: true }));
    expectPageSecurity(res, html);
    expect(field(html, "return")).toBe("account");
    expect(html).not.toMatch(/name="txn"/);
    expect(html).toContain('<p class="lead">to your account</p>');
    expect(html).toContain('href="/signup"');
  });
});

describe("SignInPage: the client's logo, home page, privacy policy and terms", () => {
  it("shows them, https only, with the logo's exact origin (and no other) in img-src", async () => {
    const { res, html } = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", signupEnabled: false, ...CLIENT }), LOGO_ONLY);
    expectPageSecurity(res, html);
    expect(directive(res, "img-src")).toBe("'self' data: https://cdn.app.example");
    expect(directive(res, "default-src")).toBe("'none'");
    expect(images(html)).toEqual([
      '<img src="https://cdn.app.example/logo.png" alt="" width="64" height="64" referrerpolicy="no-referrer" decoding="async"/>',
    ]);
    expect(html).toMatch(/\.client-logo img\{[^}]*width:4rem;height:4rem;object-fit:contain/);
    expect(html).toContain('<ul class="client-links" aria-label="About Example App">');
    expect(html).toContain('<a href="https://app.example/about" rel="noopener noreferrer" target="_blank">app.example</a>');
    expect(html).toContain('<a href="https://app.example/privacy" rel="noopener noreferrer" target="_blank">Privacy policy</a>');
    expect(html).toContain('<a href="https://app.example/terms" rel="noopener noreferrer" target="_blank">Terms of service</a>');
  });

  it("shows only what the client registered, and nothing of it without a client name", async () => {
    const some = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", signupEnabled: false, clientName: "A", policyUri: CLIENT.policyUri }));
    expect(directive(some.res, "img-src")).toBe("'self' data:");
    expect(images(some.html)).toEqual([]);
    expect(externalLinks(some.html)).toEqual([CLIENT.policyUri]);
    const none = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", signupEnabled: false, clientName: "A" }));
    expect(none.html).not.toContain('class="client-links"');
    const nameless = await page((nonce) => SignInPage({ nonce, csrf: "c", txn: "t", signupEnabled: false, ...CLIENT, clientName: undefined }));
    expect(images(nameless.html)).toEqual([]);
    expect(externalLinks(nameless.html)).toEqual([]);
  });

  it("refuses every URL that is not https (no link, no image, nothing added to the CSP)", async () => {
    for (const bad of UNSAFE_URLS) {
      const { res, html } = await page(
        (nonce) => SignInPage({ nonce, csrf: "c", txn: "t", signupEnabled: false, clientName: "A", clientUri: bad, logoUri: bad, policyUri: bad, tosUri: bad }),
        { imgOrigins: [bad] },
      );
      expect(directive(res, "img-src")).toBe("'self' data:");
      expect(images(html)).toEqual([]);
      expect(externalLinks(html)).toEqual([]);
      expect(html).not.toContain('class="client-links"');
      expect(html).not.toContain("javascript:");
      expect(html).not.toContain("evil.example");
      expect(html).not.toContain("<svg");
    }
  });

  it("escapes hostile URLs and names", async () => {
    const hostile = `https://app.example/p?q="><script>alert(1)</script>&x='y'`;
    const { res, html } = await page(
      (nonce) => SignInPage({
        nonce, csrf: "c", txn: "t", signupEnabled: false, clientName: `"><script>x()</script>`,
        clientUri: hostile, logoUri: hostile, policyUri: hostile, tosUri: hostile,
      }),
      { imgOrigins: [hostile] },
    );
    expectPageSecurity(res, html);
    expect([...html.matchAll(/<script/g)]).toHaveLength(0);
    expect(html).not.toContain(`"><script>`);
    expect(html).not.toContain(`='y'`);
    expect(directive(res, "img-src")).toBe("'self' data: https://app.example");
    expect(images(html)).toHaveLength(1);
    expect(externalLinks(html)).toEqual(Array(3).fill("https://app.example/p?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&amp;x=%27y%27"));
    expect(html).toContain('aria-label="About &quot;&gt;&lt;script&gt;x()&lt;/script&gt;"');
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

describe("ConsentPage: the client's logo, home page, privacy policy and terms", () => {
  const consent = (client: Partial<typeof CLIENT>, options?: RenderOptions) =>
    page((nonce) => ConsentPage({
      nonce, csrf: "c", txn: "t", clientName: "Example App", ...client, scopes: describeScopes("openid"), userEmail: "ada@example.com",
    }), options);

  it("shows them, https only, with the logo's exact origin (and no other) in img-src", async () => {
    const { res, html } = await consent(CLIENT, { ...LOGO_ONLY, formActionOrigins: ["https://app.example/cb"] });
    expectPageSecurity(res, html);
    expect(directive(res, "img-src")).toBe("'self' data: https://cdn.app.example");
    expect(directive(res, "form-action")).toBe("'self' https://app.example");
    expect(images(html)).toHaveLength(1);
    expect(images(html)[0]).toContain('src="https://cdn.app.example/logo.png"');
    expect(images(html)[0]).toContain('referrerpolicy="no-referrer"');
    expect(externalLinks(html)).toEqual([CLIENT.clientUri, CLIENT.policyUri, CLIENT.tosUri]);
    expect(html).toContain(">Privacy policy</a>");
    expect(html).toContain(">Terms of service</a>");
  });

  it("refuses every URL that is not https", async () => {
    for (const bad of UNSAFE_URLS) {
      const { res, html } = await consent({ clientUri: bad, logoUri: bad, policyUri: bad, tosUri: bad }, { imgOrigins: [bad] });
      expect(directive(res, "img-src")).toBe("'self' data:");
      expect(images(html)).toEqual([]);
      expect(externalLinks(html)).toEqual([]);
      expect(html).not.toContain("javascript:");
    }
  });

  it("does not show a logo whose origin the CSP could not name exactly", async () => {
    for (const logoUri of ["https://a;img-src.example/l.png", "https://[2001:db8::1]/l.png", "https://a_b.example/l.png", "https://*.example/l.png"]) {
      const { res, html } = await consent({ logoUri }, { imgOrigins: [logoUri] });
      expect(directive(res, "img-src")).toBe("'self' data:");
      expect(images(html)).toEqual([]);
    }
  });
});

describe("ErrorPage", () => {
  it("renders with the given status and no internals", async () => {
    const { res, html } = await page(
      (nonce) => ErrorPage({ nonce, title: "Unknown app", message: HOSTILE, code: "authorize_unknown_client" }),
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

  it("calls the relying party \"app\" on every page, never \"client\" or \"application\" (the catalog's protocol words stay in JSON)", async () => {
    const codes = [
      "interaction_expired", "authorize_missing_client_id", "authorize_unknown_client", "authorize_missing_redirect_uri",
      "authorize_redirect_uri_mismatch", "authorize_duplicate_parameter", "logout_id_token_hint_invalid", "logout_client_mismatch",
      "logout_unknown_client", "logout_redirect_uri_without_client", "logout_redirect_uri_not_registered",
    ] as const;
    for (const code of codes) {
      const { html } = await serve((c) => renderErrorPage(c, new OAuthError(code)));
      const words = html.slice(html.indexOf("<main>"), html.indexOf('<p class="code">'));
      expect(words, code).not.toMatch(/client|application/i);
      expect(words, code).toMatch(/\bapp\b/);
    }
  });
});

describe("SignedOutPage", () => {
  it("is no dead end: signed out, Sign in again (back to the account page); still signed in, the account page", async () => {
    const out = await page((nonce) => SignedOutPage({ nonce, outcome: "signed_out" }));
    expectPageSecurity(out.res, out.html);
    expect(out.html).toContain("<h1>You are signed out</h1>");
    expect(out.html).toContain('<a class="button" href="/login?return=account">Sign in again</a>');
    expect(out.html).not.toContain("close this window");
    const stayed = await page((nonce) => SignedOutPage({ nonce, outcome: "stayed" }));
    expect(stayed.html).toContain('<a class="button" href="/account">Go to your account</a>');
  });

  it("when the app named where to go, the way on is the app instead", async () => {
    const fields = { client_id: "app-1", post_logout_redirect_uri: "https://app.example/bye", state: "s" };
    const { html } = await page((nonce) => SignedOutPage({ nonce, outcome: "signed_out", continueTo: { csrf: "c", clientName: "Example App", fields } }));
    expect(html).toContain("Continue to Example App");
    expect(html).not.toContain("Sign in again");
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

  it("imgOrigins: adds exactly each https origin to img-src, once, and nothing else", async () => {
    const { res } = await page((nonce) => ErrorPage({ nonce, title: "t", message: "m" }), {
      imgOrigins: [
        "https://cdn.app.example/a.png", "https://cdn.app.example/b.png?x=1", "https://Bücher.example:8443/l.png",
        "*", "'unsafe-inline'", "https:", "http://app.example/l.png", "https://a;script-src.example/x", "https://a'b.example/x",
        "https://a,b.example/x", "https://[::1]/x", "https://u:p@app.example/x", "",
      ],
    });
    expect(directive(res, "img-src")).toBe("'self' data: https://cdn.app.example https://xn--bcher-kva.example:8443");
    expect(res.headers.get("content-security-policy")?.split(";")).toHaveLength(7);
    const plain = await page((nonce) => ErrorPage({ nonce, title: "t", message: "m" }));
    expect(directive(plain.res, "img-src")).toBe("'self' data:");
  });

  it("imageSource: the origin of an https URL that CSP host-source grammar can write, else undefined", () => {
    expect(imageSource("https://rp.example/logo.png")).toBe("https://rp.example");
    expect(imageSource("https://rp.example:443/logo.png")).toBe("https://rp.example");
    expect(imageSource("https://10.0.0.1:8443/logo.png")).toBe("https://10.0.0.1:8443");
    for (const bad of [undefined, "", "rp.example", "http://rp.example/", "ftp://rp.example/", "https://u@rp.example/", "https://a%3Bb.example/", "https://a!b.example/"]) {
      expect(imageSource(bad)).toBeUndefined();
    }
  });

  it("uses a fresh nonce per response", async () => {
    const a = await page((nonce) => ErrorPage({ nonce, title: "t", message: "m" }));
    const b = await page((nonce) => ErrorPage({ nonce, title: "t", message: "m" }));
    expect(a.res.headers.get("content-security-policy")).not.toBe(b.res.headers.get("content-security-policy"));
  });
});

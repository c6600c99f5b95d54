import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { REQUEST_BOUNDS } from "../src/authorize/limits";
import { ISSUER, basic, call, expectError, tokenRequest } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectErrorPage, expectRedirectError, expectTokenResponse,
  formPostOf, oidcClient, person, redeem, signIn, verifyIdToken,
} from "./oidc-helpers";

/**
 * Bad input on every parameter of /authorize (and its interaction pages) and of the
 * authorization_code token request: long values, control characters, non-UTF-8 percent-escapes,
 * JSON and huge bodies. Each gets the error the specs ask for — a page while client_id and
 * redirect_uri are not validated, a redirect after — and never a 5xx. A property test then throws
 * random query strings at /authorize.
 */

const LONG = "a".repeat(10_000);
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const get = (query: string, browser = new Browser()) => browser.fetch(`/authorize?${query}`);
const post = (body: BodyInit, contentType = "application/x-www-form-urlencoded", headers: Record<string, string> = {}) =>
  call("/authorize", { method: "POST", headers: { "content-type": contentType, ...headers }, body });

let client: { client_id: string; client_secret?: string };
let base: Record<string, string>;
beforeAll(async () => {
  client = await oidcClient();
  base = (await codeRequest(client.client_id)).params;
});

/** The base request with one parameter replaced (undefined removes it), as a query string. */
const withParam = (name: string, value: string | undefined) => {
  const params = { ...base };
  if (value === undefined) delete params[name];
  else params[name] = value;
  return q(params);
};

describe("/authorize before the client is validated: pages, never redirects", () => {
  for (const [what, value, code] of [
    ["a 10 000-character client_id", LONG, "authorize_unknown_client"],
    ["a client_id with a NUL", "\u0000abc", "authorize_unknown_client"],
    ["a client_id with a newline", `${"x"}\n`, "authorize_unknown_client"],
    ["a client_id with non-ASCII", "clïent", "authorize_unknown_client"],
  ] as const) {
    it(`${what} → ${code} page`, async () => {
      await expectErrorPage(await get(withParam("client_id", value)), code);
    });
  }

  for (const [what, value] of [
    ["a 10 000-character redirect_uri", `${REDIRECT_URI}?${LONG}`],
    ["a redirect_uri with a NUL", `${REDIRECT_URI}\u0000`],
    ["a redirect_uri with CR LF", `${REDIRECT_URI}\r\nLocation: https://evil.example`],
    ["a javascript: redirect_uri", "javascript:alert(1)"],
    ["a data: redirect_uri", "data:text/html,<script>alert(1)</script>"],
  ] as const) {
    it(`${what} → authorize_redirect_uri_mismatch page`, async () => {
      const html = await expectErrorPage(await get(withParam("redirect_uri", value)), "authorize_redirect_uri_mismatch");
      expect(html).not.toContain("<script>alert");
    });
  }

  for (const query of ["client_id=%ff", "client_id=%E2%82", "state=%C3%28&client_id=x", "%", "client_id=%zz", "client_id=%%"]) {
    it(`non-UTF-8 or malformed percent-escapes (${query}) → invalid_request page`, async () => {
      await expectErrorPage(await get(query), "invalid_request");
    });
  }

  it("a non-UTF-8 escape in an otherwise valid request is still a page (nothing can be trusted to redirect to)", async () => {
    await expectErrorPage(await get(`${q(base)}&state=%ff`), "invalid_request");
  });

  it("no parameters at all → authorize_missing_client_id page", async () => {
    await expectErrorPage(await call("/authorize"), "authorize_missing_client_id");
  });

  it("5 000 unknown parameters → the request still works (they are ignored)", async () => {
    const extra = Array.from({ length: 5000 }, (_, i) => `x${i}=1`).join("&");
    const res = await get(`${q(base)}&${extra}`);
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location")!, ISSUER).pathname).toBe("/login");
  });

  it("an unknown parameter with a 50 000-character value is ignored", async () => {
    const res = await get(`${q(base)}&junk=${"j".repeat(50_000)}`);
    expect(res.status).toBe(302);
  });
});

describe("/authorize after the client is validated: redirected errors", () => {
  const refused = async (name: string, value: string | undefined, error: string, description?: RegExp) =>
    expectRedirectError(await get(withParam(name, value)), error, {
      state: name === "state" ? value : base.state,
      ...(description && { description }),
    });

  it("response_type: 10 000 characters, a NUL → unsupported_response_type", async () => {
    await refused("response_type", LONG, "unsupported_response_type");
    await refused("response_type", "code\u0000", "unsupported_response_type");
  });

  it("scope: 10 000 characters → invalid_scope; control characters → invalid_scope", async () => {
    await refused("scope", `openid ${LONG}`, "invalid_scope");
    await refused("scope", "openid\tprofile", "invalid_scope");
    await refused("scope", "openid\u0000", "invalid_scope");
  });

  it("code_challenge and code_challenge_method: 10 000 characters → invalid_request", async () => {
    await refused("code_challenge", LONG, "invalid_request");
    await refused("code_challenge_method", LONG, "invalid_request");
  });

  it("prompt: 10 000 characters, a NUL → invalid_request", async () => {
    await refused("prompt", LONG, "invalid_request");
    await refused("prompt", "none\u0000", "invalid_request");
  });

  it("max_age: a 1 000-digit number, hex, negative zero → invalid_request", async () => {
    await refused("max_age", "1".repeat(1000), "invalid_request");
    await refused("max_age", "0x10", "invalid_request");
    await refused("max_age", "-0", "invalid_request");
  });

  it("response_mode: 10 000 characters → invalid_request in the query", async () => {
    await refused("response_mode", LONG, "invalid_request");
  });

  const { state: STATE, nonce: NONCE, login_hint: LOGIN_HINT } = REQUEST_BOUNDS;

  it(`state longer than ${STATE.bytes} bytes → state_too_long (state echoed); ${STATE.bytes} works end to end`, async () => {
    await refused("state", "s".repeat(STATE.bytes + 1), "invalid_request", /^state must be at most/);
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { state: "s".repeat(STATE.bytes) });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    expect(back.get("state")).toBe(params.state);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });

  it(`nonce longer than ${NONCE.bytes} bytes → nonce_too_long; ${NONCE.bytes} is echoed in the ID token`, async () => {
    await refused("nonce", "n".repeat(NONCE.bytes + 1), "invalid_request", /^nonce must be at most/);
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { nonce: "n".repeat(NONCE.bytes) });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    await verifyIdToken(tokens.id_token!, client.client_id, { nonce: params.nonce });
  });

  it(`login_hint longer than ${LOGIN_HINT.bytes} bytes → login_hint_too_long`, async () => {
    await refused("login_hint", "h".repeat(LOGIN_HINT.bytes + 1), "invalid_request", /^login_hint must be at most/);
  });

  it("state, nonce and login_hint all at their limits (ASCII) still fit the sign-in pages", async () => {
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { state: "s".repeat(STATE.bytes), nonce: "n".repeat(NONCE.bytes), login_hint: "h".repeat(LOGIN_HINT.bytes) });
    const { response, pages } = await authorize(new Browser(), params, user);
    expect(pages).toEqual(["login", "consent"]);
    const back = clientRedirect(response);
    expect(back.get("state")).toBe(params.state);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });

  it("within the bounds in characters but not in bytes (multi-byte) → the bound's error, counted in bytes", async () => {
    const wide = "€".repeat(STATE.bytes / 2);
    expectRedirectError(await get(q({ ...base, state: wide })), "invalid_request", { state: wide, description: /^state must be at most/ });
  });

  it("characters JSON escapes (NUL: 6 bytes sealed) count as sealed → the bound's error, not an expired sign-in", async () => {
    const nul = "\u0000".repeat(NONCE.bytes / 4);
    expectRedirectError(await get(q({ ...base, nonce: nul })), "invalid_request", { state: base.state, description: /^nonce must be at most/ });
  });

  it("control characters and markup in state come back intact in the query and in form_post", async () => {
    const user = await person();
    const browser = new Browser();
    await signIn(browser, client, user);
    const state = "\u0001\u001f\r\n\t<>&\"' ü😀";
    const query = await get(q({ ...base, state, prompt: "none" }), browser);
    expect(clientRedirect(query).get("state")).toBe(state);
    const form = await get(q({ ...base, state, prompt: "none", response_mode: "form_post" }), browser);
    const html = await form.text();
    expect(html).not.toContain("<>&");
    // (A browser's HTML parser turns the CR LF inside the attribute into LF before submitting; see the report.)
    expect(formPostOf(html).fields.get("state")).toBe(state);
  });
});

describe("POST /authorize bodies", () => {
  it("a JSON body → 400 page (unsupported_content_type), nothing redirected", async () => {
    await expectErrorPage(await post(JSON.stringify(base), "application/json"), "unsupported_content_type");
  });

  it("no content type, text/plain, multipart → 400 page", async () => {
    await expectErrorPage(await call("/authorize", { method: "POST", body: q(base) }), "unsupported_content_type");
    await expectErrorPage(await post(q(base), "text/plain"), "unsupported_content_type");
    await expectErrorPage(await post(q(base), "multipart/form-data; boundary=x"), "unsupported_content_type");
  });

  it("a 100 KiB body → 400 page (request_body_too_large), announced or not", async () => {
    const huge = `${q(base)}&junk=${"j".repeat(100 * 1024)}`;
    await expectErrorPage(await post(huge), "request_body_too_large");
    const stream = new Blob([huge]).stream();
    await expectErrorPage(await call("/authorize", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: stream }), "request_body_too_large");
  });

  it("a body that is not UTF-8 → 400 page", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode(`${q(base)}&state=`), 0xff, 0xfe]);
    await expectErrorPage(await post(bytes), "request_body_not_utf8");
  });

  it("a non-UTF-8 charset → 400 page", async () => {
    await expectErrorPage(await post(q(base), "application/x-www-form-urlencoded; charset=iso-8859-1"), "unsupported_content_type");
  });

  it("an empty body → authorize_missing_client_id page; query parameters of a POST are not read", async () => {
    await expectErrorPage(await post(""), "authorize_missing_client_id");
    const res = await call(`/authorize?${q(base)}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "" });
    await expectErrorPage(res, "authorize_missing_client_id");
  });

  it("other methods (PUT, DELETE) are not the authorization endpoint: a 4xx, never a redirect", async () => {
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const res = await call(`/authorize?${q(base)}`, { method });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("location")).toBeNull();
    }
  });
});

describe("interaction pages with bad transactions", () => {
  for (const [what, txn] of [
    ["missing", undefined],
    ["garbage", "garbage"],
    ["10 000 characters", LONG],
    ["an authorization code instead", "AAAA.BBBB.CCCC"],
    ["non-UTF-8", "%ff"],
  ] as const) {
    it(`txn ${what}: /authorize/continue, /login, /consent, /verify-email/needed → a 400 page`, async () => {
      const query = txn === undefined ? "" : `?txn=${txn === "%ff" ? txn : encodeURIComponent(txn)}`;
      for (const path of ["/authorize/continue", "/login", "/consent", "/verify-email/needed"]) {
        const res = await call(`${path}${query}`);
        expect(res.status, path).toBe(400);
        expect(res.headers.get("location")).toBeNull();
        expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      }
    });
  }

  it("POST /login and /consent without a CSRF token → 403 page; with a JSON body → a 4xx page", async () => {
    for (const path of ["/login", "/consent"]) {
      const res = await call(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "txn=x&email=a&password=b&decision=allow" });
      await expectErrorPage(res, "csrf_invalid", 403);
      const json = await call(path, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(json.status).toBeGreaterThanOrEqual(400);
      expect(json.status).toBeLessThan(500);
    }
  });

  it("a sign-in with a 10 000-character email or password → the sign-in page again (400), not a 500", async () => {
    const browser = new Browser();
    const login = await browser.follow(await get(q(base), browser));
    const html = await login.text();
    for (const fields of [{ email: LONG, password: "x" }, { email: "a@example.com", password: LONG }, { email: "\u0000", password: "\u0000" }]) {
      const res = await browser.submit(html, fields, "/login");
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('action="/login"');
    }
  });
});

describe("the authorization_code token request with bad input", () => {
  const auth = () => ({ authorization: basic(client.client_id, client.client_secret!) });
  const codeGrant = (extra: Record<string, string>) =>
    tokenRequest({ grant_type: "authorization_code", redirect_uri: REDIRECT_URI, code_verifier: "v".repeat(43), ...extra }, auth());

  it("code: 10 000 characters, control characters, a JWT-looking value → invalid_grant", async () => {
    for (const code of [LONG, "\u0000\r\n", "eyJhbGciOiJub25lIn0.e30.", "a.b.c.d.e"]) {
      await expectError(await codeGrant({ code }), 400, "invalid_grant", "code_invalid");
    }
  });

  it("non-UTF-8 escapes in the body → invalid_request", async () => {
    const res = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...auth() },
      body: "grant_type=authorization_code&code=%ff",
    });
    await expectError(res, 400, "invalid_request");
  });

  it("code_verifier of 10 000 characters → invalid_request (malformed) for a real code, which survives", async () => {
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id);
    const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
    await expectError(await redeem(client, code, LONG), 400, "invalid_request", "pkce_verifier_malformed");
    await expectError(await redeem(client, code, undefined, { redirect_uri: `${REDIRECT_URI}\u0000` }), 400, "invalid_grant", "redirect_uri_mismatch");
    await expectTokenResponse(await redeem(client, code, verifier));
  });

  it("the code twice in one request → invalid_request", async () => {
    const res = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...auth() },
      body: "grant_type=authorization_code&code=a&code=b",
    });
    await expectError(res, 400, "invalid_request");
  });

  it("a JSON body and a 100 KiB body → invalid_request", async () => {
    const json = await call("/token", { method: "POST", headers: { "content-type": "application/json", ...auth() }, body: JSON.stringify({ grant_type: "authorization_code", code: "x" }) });
    await expectError(json, 400, "invalid_request", "unsupported_content_type");
    await expectError(await codeGrant({ code: "c".repeat(100 * 1024) }), 400, "invalid_request", "request_body_too_large");
  });
});

describe("property: random /authorize query strings", () => {
  it("never a 5xx, and any redirect goes only to our own pages or to the registered redirect URI", async () => {
    const names = fc.constantFrom(
      "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "prompt", "max_age", "response_mode",
      "code_challenge", "code_challenge_method", "login_hint", "request", "request_uri", "display", "id_token_hint", "x", "",
    );
    const good = fc.constantFrom(
      client.client_id, client.client_id, REDIRECT_URI, REDIRECT_URI, "https://evil.example/cb", `${REDIRECT_URI}/`, "code", "token",
      "openid", "openid profile", "none", "login", "consent", "0", "1", "form_post", "fragment", "query", "S256", "plain",
      base.code_challenge!, "javascript:alert(1)",
    );
    const junk = fc.constantFrom("%", "%zz", "%ff", "%C3%28", "%00", "%0d%0a", "+", "&", "=");
    const value = fc.oneof(
      good.map(encodeURIComponent),
      fc.string({ maxLength: 40 }).map(encodeURIComponent),
      fc.string({ unit: "grapheme", maxLength: 20 }).map(encodeURIComponent),
      junk,
    );
    const query = fc
      .tuple(fc.boolean(), fc.array(fc.tuple(names, value), { maxLength: 10 }))
      .map(([valid, pairs]) => {
        const prefix = valid ? [`client_id=${encodeURIComponent(client.client_id)}`, `redirect_uri=${encodeURIComponent(REDIRECT_URI)}`] : [];
        return [...prefix, ...pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`)].join("&");
      });

    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom("GET", "POST"), async (qs, method) => {
        const res =
          method === "GET"
            ? await call(`/authorize?${qs}`)
            : await call("/authorize", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: qs });
        expect(res.status, qs).toBeLessThan(500);
        const location = res.headers.get("location");
        if (location !== null) {
          const ours = new URL(location, ISSUER).origin === ISSUER && !/^[a-z][a-z0-9+.-]*:/i.test(location);
          const toClient = location.startsWith(`${REDIRECT_URI}?`) || location.startsWith(`${REDIRECT_URI}#`);
          expect(ours || toClient, `${qs} → ${location}`).toBe(true);
        } else if (res.status === 200) {
          const html = await res.text();
          const { action } = formPostOf(html);
          if (!action.startsWith("/")) expect(action, qs).toBe(REDIRECT_URI);
        }
      }),
      { numRuns: 400 },
    );
  });
});

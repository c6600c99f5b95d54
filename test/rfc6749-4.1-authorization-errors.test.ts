import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ISSUER, createClient } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectRedirectError, expectTokenResponse, oidcClient, person,
  redeem, responseParams, signIn, workerWithEnv,
} from "./oidc-helpers";

/**
 * RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6: once client_id and redirect_uri are valid, every
 * problem with the request goes back to the client as `error` with `state` and `iss` (RFC 9207),
 * in the query by default (our default response mode, also for a response_type we do not
 * support), 302 after a GET and 303 after a POST.
 */

const send = (query: string, browser = new Browser()) => browser.fetch(`/authorize?${query}`);
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function refused(extra: Record<string, string | undefined>, error: string, description?: RegExp) {
  const client = await oidcClient();
  const { params } = await codeRequest(client.client_id);
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete params[k];
    else params[k] = v;
  }
  return expectRedirectError(await send(q(params)), error, { state: params.state, ...(description && { description }) });
}

describe("scope (RFC 6749 §3.3, OIDC Core §3.1.2.1)", () => {
  it("openid missing → invalid_scope", async () => {
    await refused({ scope: "profile email" }, "invalid_scope", /openid/);
  });

  it("no scope at all → invalid_scope (openid required)", async () => {
    await refused({ scope: undefined }, "invalid_scope");
  });

  it("an unknown scope → invalid_scope naming it", async () => {
    await refused({ scope: "openid bogus" }, "invalid_scope", /bogus/);
  });

  it("a malformed scope (two spaces, a quote) → invalid_scope", async () => {
    await refused({ scope: "openid  profile" }, "invalid_scope");
    await refused({ scope: 'openid "x"' }, "invalid_scope");
  });

  it("a scope the client registered is allowed; one another client registered is not", async () => {
    const client = await oidcClient({ scope: "api:read" });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid api:read" });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    expect((await expectTokenResponse(await redeem(client, back.get("code")!, verifier))).scope).toBe("openid api:read");
    await refused({ scope: "openid api:read" }, "invalid_scope", /api:read/);
  });

  it("the same scope value twice in one scope parameter is the same scope (no error)", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid profile openid" });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    expect((await expectTokenResponse(await redeem(client, back.get("code")!, verifier))).scope).toBe("openid profile");
  });

  it("the scope parameter twice → invalid_request, redirected (RFC 6749 §3.1)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    expectRedirectError(await send(`${q(params)}&scope=openid`), "invalid_request", { state: params.state, description: /scope/ });
  });

  it("state twice → invalid_request, redirected with the first state", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id);
    expectRedirectError(await send(`${q(params)}&state=other`), "invalid_request", { state: params.state, description: /state/ });
  });

  it("a plain OAuth 2.0 client may leave openid out: no ID token then", async () => {
    const client = await oidcClient({ plain_oauth2: true, scope: "api" });
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "api" });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    const tokens = await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
    expect(tokens.id_token).toBeUndefined();
  });
});

describe("prompt (OIDC Core §3.1.2.1; one value only, as issue 3 decides)", () => {
  it("two values (login consent) → invalid_request", async () => {
    await refused({ prompt: "login consent" }, "invalid_request");
  });

  it("none with another value → invalid_request", async () => {
    await refused({ prompt: "none login" }, "invalid_request");
  });

  it("select_account (not supported) → invalid_request", async () => {
    await refused({ prompt: "select_account" }, "invalid_request");
  });

  it("an unknown value → invalid_request", async () => {
    await refused({ prompt: "bogus" }, "invalid_request");
  });

  it("discovery advertises exactly the supported values", async () => {
    const meta = (await (await new Browser().fetch("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.prompt_values_supported).toEqual(["none", "login", "consent"]);
  });
});

describe("max_age (OIDC Core §3.1.2.1)", () => {
  for (const value of ["-1", "abc", "1.5", "1e3", "99999999999"]) {
    it(`max_age=${value} → invalid_request`, async () => {
      await refused({ max_age: value }, "invalid_request", /max_age/);
    });
  }
});

describe("response_type and response_mode", () => {
  it("response_type=token → unsupported_response_type (in the query: our default)", async () => {
    await refused({ response_type: "token" }, "unsupported_response_type");
  });

  it("response_type=code id_token → unsupported_response_type", async () => {
    await refused({ response_type: "code id_token" }, "unsupported_response_type");
  });

  it("response_type=id_token code (another order) → unsupported_response_type", async () => {
    await refused({ response_type: "id_token code" }, "unsupported_response_type");
  });

  it("response_mode=bogus → invalid_request, delivered in the query", async () => {
    await refused({ response_mode: "bogus" }, "invalid_request", /response_mode/);
  });

  it("response_mode=fragment → the code (and state, iss) in the fragment", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { response_mode: "fragment" });
    const { response } = await authorize(new Browser(), params, user);
    const location = new URL(response.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.search).toBe("");
    const back = await responseParams(response);
    expect(back.get("state")).toBe(params.state);
    expect(back.get("iss")).toBe(ISSUER);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });

  it("response_mode=query explicitly → the query", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { response_mode: "query" });
    const back = clientRedirect((await authorize(new Browser(), params, user)).response);
    await expectTokenResponse(await redeem(client, back.get("code")!, verifier));
  });

  it("a client not registered for authorization_code → unauthorized_client", async () => {
    const client = await createClient({ grant_types: ["client_credentials"], redirect_uris: [REDIRECT_URI] });
    const { params } = await codeRequest(client.client_id);
    expectRedirectError(await send(q(params)), "unauthorized_client", { state: params.state });
  });
});

describe("state", () => {
  it("no state in the request → no state in the error", async () => {
    await refused({ state: undefined, scope: "profile" }, "invalid_scope");
  });

  it("a state with every kind of character comes back byte for byte", async () => {
    const state = "a b+c&d=e%f/ü😀\"'<>";
    await refused({ state, scope: "profile" }, "invalid_scope");
  });
});

describe("consent denied (RFC 6749 §4.1.2.1 access_denied)", () => {
  it("the person presses Deny → access_denied with state and iss, 303 after the POST", async () => {
    const client = await oidcClient();
    const user = await person();
    const { params } = await codeRequest(client.client_id);
    const { response, pages } = await authorize(new Browser(), params, user, { consent: "deny" });
    expect(pages).toEqual(["login", "consent"]);
    expect(response.status).toBe(303);
    expectRedirectError(response, "access_denied", { state: params.state });
  });

  it("a denial records nothing: the next request asks again", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser();
    await authorize(browser, (await codeRequest(client.client_id)).params, user, { consent: "deny" });
    const { pages } = await authorize(browser, (await codeRequest(client.client_id)).params, user);
    expect(pages).toEqual(["consent"]);
  });
});

describe("server_error instead of a 500 (RFC 6749 §4.1.2.1)", () => {
  /** D1 whose session queries fail, as in an outage: everything else works. */
  const sessionsDown = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          if (/\bsessions\b/.test(sql)) throw new Error("D1_ERROR: simulated outage");
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  it("an unexpected failure after the redirect URI is validated → server_error sent to the client with state and iss", async () => {
    const client = await oidcClient();
    const user = await person();
    const signedIn = new Browser();
    await signIn(signedIn, client, user);
    const broken = new Browser(workerWithEnv({ DB: sessionsDown }));
    for (const [name, value] of signedIn.cookies) broken.cookies.set(name, value);
    const { params } = await codeRequest(client.client_id);
    const res = await broken.fetch(`/authorize?${q(params)}`);
    expectRedirectError(res, "server_error", { state: params.state });
  });

  it("the same failure before the redirect URI is validated → a 500 page, nothing redirected", async () => {
    const clientsDown = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") return () => { throw new Error("D1_ERROR: simulated outage"); };
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const { params } = await codeRequest("any-client");
    const res = await new Browser(workerWithEnv({ DB: clientsDown })).fetch(`/authorize?${q(params)}`);
    expect(res.status).toBe(500);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });
});

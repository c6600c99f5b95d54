import { Hono, type ExecutionContext } from "hono";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from "jose";
import { base64url, fromBase64url, randomToken } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import { pageErrors } from "../endpoints/authorize";
import type { Env } from "../env";
import { ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv, Step } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, readCookie, renderPage } from "../http/page-security";
import { DemoAppPage, type DemoAppView } from "../pages/demo-app";
import { bindings, devOutboxShown, encryptionKey } from "../services";

/**
 * The demo app: a relying party served by the development server itself, so that the sign-in URL
 * `npm run dev` prints ends on a page showing what the app received (issue 17). Only when
 * SHOW_DEV_OUTBOX is "true" (local development: npm run dev, the local Worker of the e2e and
 * browser tests); otherwise every path here is 404. Mounted at DEMO_APP_PATH:
 *
 *   GET  /dev/demo-app           signed out: "Sign in"; signed in: the ID token's claims; back
 *                                from sign-out: the `state` checked
 *   GET  /dev/demo-app/login     a new authorization request (code, S256 PKCE, state, nonce) → 302 /authorize
 *   GET  /dev/demo-app/callback  state and iss checked; the code redeemed at /token; the ID token
 *                                verified (JWKS, iss, aud, nonce); UserInfo called; the page shows all three
 *   POST /dev/demo-app/refresh   the refresh_token grant, then UserInfo with the new access token
 *   POST /dev/demo-app/logout    RP-Initiated Logout: 303 to /logout with id_token_hint, the
 *                                post_logout_redirect_uri back here, and a state
 *
 * It is the public client "demo-app" (token_endpoint_auth_method none; scripts/seed.mjs registers
 * it with its redirect URIs on this server): no secret has to be shared between the seeding
 * script and the Worker. Its back-channel requests (/token, /userinfo, /jwks) are real Requests
 * handed to this server's own request pipeline in-process (`serve`), exactly as they would arrive
 * over HTTP: a Worker cannot count on reaching its own hostname with fetch. The app keeps its
 * state the way a small web app does, in cookies on its own path: the pending request (state,
 * nonce, PKCE verifier) for ten minutes, then the ID token (for the logout hint) and the refresh
 * token. Its forms carry this server's CSRF token.
 */

export const DEMO_APP_PATH = "/dev/demo-app";
export const DEMO_APP_CLIENT_ID = "demo-app";
const SCOPE = "openid profile email address phone offline_access";
const FLOW_COOKIE = "demo-app-flow";
const TOKENS_COOKIE = "demo-app-tokens";
const FLOW_TTL = 600;

/** How the app reaches this server's endpoints: the Worker's own fetch handler (src/app.ts). */
export type Serve = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** The pending authorization request, or the pending sign-out. */
interface Flow {
  state: string;
  nonce?: string;
  verifier?: string;
}

/** What the app keeps while signed in. */
interface Tokens {
  id_token: string;
  refresh_token?: string;
}

type TokenResponse = { access_token?: string; id_token?: string; refresh_token?: string } & Record<string, unknown>;

/** Every path is 404 unless this is a development server (the same setting that serves /dev/outbox). */
const developmentOnly: Step = async function developmentOnly(c, next) {
  ensure(devOutboxShown(c), "not_found");
  await next();
};

const cookie = (name: string, value: string, maxAge: number) =>
  `${name}=${value}; Max-Age=${maxAge}; Path=${DEMO_APP_PATH}; HttpOnly; SameSite=Lax`;

const packed = (value: object) => base64url(new TextEncoder().encode(JSON.stringify(value)));

/** A cookie this app wrote, read back; anything else is undefined. */
function unpacked<T>(c: AppContext, name: string): T | undefined {
  const bytes = fromBase64url(readCookie(c.req.raw, name) ?? "");
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch {
    return undefined;
  }
}

/** Tokens shown shortened: enough to recognise, not enough to use. */
function shortened(response: TokenResponse): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(response).map(([name, value]) =>
      name.endsWith("_token") && typeof value === "string" ? [name, `${value.slice(0, 12)}… (${value.length} characters)`] : [name, value],
    ),
  );
}

/** The server's endpoints as seen by this app. */
function server(c: AppContext, serve: Serve) {
  const issuer = c.get("config").issuer;
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await serve(new Request(`${issuer}${path}`, init), bindings(c), c.executionCtx);
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { status: res.status, "www-authenticate": res.headers.get("www-authenticate"), body: text };
    }
    return { status: res.status, body };
  };
  return {
    issuer,
    token: (form: Record<string, string>) =>
      call("/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...form, client_id: DEMO_APP_CLIENT_ID }),
      }),
    userinfo: (accessToken: string) => call("/userinfo", { headers: { authorization: `Bearer ${accessToken}` } }),
    /** The ID token checked as OIDC Core §3.1.3.7 asks: signature by a key in /jwks, iss, aud, exp, and the nonce. */
    async verifyIdToken(idToken: string, nonce?: string): Promise<JWTPayload> {
      const jwks = await call("/jwks");
      const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks.body as unknown as JSONWebKeySet), {
        issuer,
        audience: DEMO_APP_CLIENT_ID,
      });
      if (nonce !== undefined && payload.nonce !== nonce) throw new Error("the ID token's nonce is not the one the app sent");
      return payload;
    },
  };
}

/** The page, for the signed-in or signed-out app, with any cookies the step set. */
async function page(c: AppContext, view: DemoAppView, options: { signedIn: boolean; setCookies?: string[] }): Promise<Response> {
  const csrf = options.signedIn ? await csrfFor(c.req.raw, encryptionKey(c)) : undefined;
  return renderPage(
    c,
    (nonce) => <DemoAppPage nonce={nonce} csrf={csrf?.token} base={DEMO_APP_PATH} signInHref={`${DEMO_APP_PATH}/login`} {...view} />,
    { setCookies: [...(options.setCookies ?? []), csrf?.setCookie] },
  );
}

/** The ID token, UserInfo and token response after a code or refresh grant; keeps the new tokens. */
async function signedIn(c: AppContext, serve: Serve, response: TokenResponse, notice: string, nonce?: string, previous?: Tokens) {
  const endpoints = server(c, serve);
  const idToken = response.id_token ?? previous?.id_token;
  if (typeof idToken !== "string" || typeof response.access_token !== "string") {
    return page(c, { failure: { message: "The token response has no ID token or access token.", answer: response } }, { signedIn: false });
  }
  const claims = await endpoints.verifyIdToken(idToken, nonce);
  const userinfo = await endpoints.userinfo(response.access_token);
  const tokens: Tokens = { id_token: idToken, refresh_token: response.refresh_token ?? previous?.refresh_token };
  return page(
    c,
    { notice, idTokenClaims: claims, userinfo: userinfo.body, tokenResponse: shortened(response) },
    { signedIn: true, setCookies: [cookie(TOKENS_COOKIE, packed(tokens), 86_400), cookie(FLOW_COOKIE, "", 0)] },
  );
}

export function demoApp(serve: Serve) {
  return new Hono<AppEnv>()
    .use("*", pageErrors, developmentOnly)
    .get("/", async (c) => {
      const tokens = unpacked<Tokens>(c, TOKENS_COOKIE);
      const returned = c.req.query("state");
      if (returned !== undefined) {
        const expected = unpacked<Flow>(c, FLOW_COOKIE)?.state;
        const notice = returned === expected ? "Signed out of Latchkey; it sent you back here with the app's state." : undefined;
        const failure = returned === expected ? undefined : { message: "Back from sign-out with a state this app did not send." };
        return page(c, { notice, failure }, { signedIn: false, setCookies: [cookie(FLOW_COOKIE, "", 0)] });
      }
      if (tokens === undefined) return page(c, {}, { signedIn: false });
      const claims = await server(c, serve).verifyIdToken(tokens.id_token).catch(() => undefined);
      if (claims === undefined) return page(c, {}, { signedIn: false, setCookies: [cookie(TOKENS_COOKIE, "", 0)] });
      return page(c, { notice: "Signed in.", idTokenClaims: claims }, { signedIn: true });
    })
    .get("/login", async (c) => {
      const flow: Flow = { state: randomToken(16), nonce: randomToken(16), verifier: randomToken(32) };
      const authorize = new URL("/authorize", c.get("config").issuer);
      for (const [name, value] of Object.entries({
        response_type: "code",
        client_id: DEMO_APP_CLIENT_ID,
        redirect_uri: `${c.get("config").issuer}${DEMO_APP_PATH}/callback`,
        scope: SCOPE,
        state: flow.state,
        nonce: flow.nonce!,
        code_challenge: base64url(await sha256(flow.verifier!)),
        code_challenge_method: "S256",
        // OIDC Core §11: a request for offline_access (a refresh token) asks for consent.
        prompt: "consent",
      })) authorize.searchParams.set(name, value);
      return new Response(null, {
        status: 302,
        headers: { location: authorize.href, "cache-control": "no-store", "set-cookie": cookie(FLOW_COOKIE, packed(flow), FLOW_TTL) },
      });
    })
    .get("/callback", async (c) => {
      const flow = unpacked<Flow>(c, FLOW_COOKIE);
      const params = new URL(c.req.url).searchParams;
      const endpoints = server(c, serve);
      if (flow?.verifier === undefined || params.get("state") !== flow.state) {
        return page(c, { failure: { message: "This callback's state is not the one the app sent (or the app's request expired): sign in again." } }, { signedIn: false });
      }
      if (params.get("iss") !== endpoints.issuer) {
        return page(c, { failure: { message: "This callback's iss is not this server (RFC 9207)." } }, { signedIn: false });
      }
      if (params.has("error")) {
        return page(c, { failure: { message: "Latchkey answered with an error.", answer: Object.fromEntries(params) } }, { signedIn: false });
      }
      const redeemed = await endpoints.token({
        grant_type: "authorization_code",
        code: params.get("code") ?? "",
        redirect_uri: `${endpoints.issuer}${DEMO_APP_PATH}/callback`,
        code_verifier: flow.verifier,
      });
      if (redeemed.status !== 200) {
        return page(c, { failure: { message: "The code was not redeemed.", answer: redeemed.body } }, { signedIn: false });
      }
      return signedIn(c, serve, redeemed.body, "Signed in: the code was redeemed with the PKCE verifier.", flow.nonce);
    })
    .post("/refresh", async (c) => {
      await postedForm(c);
      const tokens = unpacked<Tokens>(c, TOKENS_COOKIE);
      if (tokens?.refresh_token === undefined) return page(c, { failure: { message: "The app has no refresh token: sign in again." } }, { signedIn: false });
      const refreshed = await server(c, serve).token({ grant_type: "refresh_token", refresh_token: tokens.refresh_token });
      if (refreshed.status !== 200) {
        return page(c, { failure: { message: "The refresh was refused.", answer: refreshed.body } }, { signedIn: false, setCookies: [cookie(TOKENS_COOKIE, "", 0)] });
      }
      return signedIn(c, serve, refreshed.body, "Refreshed: a new access token, and the refresh token was rotated.", undefined, tokens);
    })
    .post("/logout", async (c) => {
      await postedForm(c);
      const tokens = unpacked<Tokens>(c, TOKENS_COOKIE);
      const issuer = c.get("config").issuer;
      const flow: Flow = { state: randomToken(16) };
      const logout = new URL("/logout", issuer);
      if (tokens !== undefined) logout.searchParams.set("id_token_hint", tokens.id_token);
      else logout.searchParams.set("client_id", DEMO_APP_CLIENT_ID);
      logout.searchParams.set("post_logout_redirect_uri", `${issuer}${DEMO_APP_PATH}`);
      logout.searchParams.set("state", flow.state);
      const response = seeOther(logout.href);
      response.headers.append("set-cookie", cookie(TOKENS_COOKIE, "", 0));
      response.headers.append("set-cookie", cookie(FLOW_COOKIE, packed(flow), FLOW_TTL));
      return response;
    });
}

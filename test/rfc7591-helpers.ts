import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { expect, vi } from "vitest";
import { configFrom } from "../src/config";
import { registration } from "../src/endpoints/registration";
import type { Env } from "../src/env";
import { errorResponse } from "../src/errors/respond";
import type { AppEnv, Step } from "../src/http/context";
import { createInitialAccessToken } from "../src/registration/initial-access-token";
import { ISSUER, expectError, nowSeconds } from "./helpers";
import { REDIRECT_URI } from "./oidc-helpers";

/**
 * Test plumbing for dynamic registration (RFC 7591) and management (RFC 7592). The registration
 * routes run in an app with the same context step and error handler as src/app.ts, over the test
 * Worker's bindings (the same D1, KV and Durable Objects), so a client registered here is used at
 * /authorize, /token and /userinfo through the real Worker (`call`).
 */
const context: Step = async function context(c, next) {
  c.set("now", Math.floor(Date.now() / 1000));
  c.set("config", configFrom(c.env));
  await next();
};
const registrationApp = new Hono<AppEnv>().use("*", context).route("/register", registration);
registrationApp.onError(errorResponse);

/** Settings every registration test pins (a developer's .dev.vars must not change them). */
export const OPEN: Partial<Env> = { REGISTRATION_POLICY: "open", REGISTRATION_SCOPES: "read write", SOFTWARE_STATEMENT_KEYS: "" };
export const GATED: Partial<Env> = { ...OPEN, REGISTRATION_POLICY: "initial_access_token" };

const envs = new Map<string, Env>();
function envWith(overrides: Partial<Env>): Env {
  const key = JSON.stringify(overrides);
  let e = envs.get(key);
  if (!e) {
    e = { ...env, ...overrides } as Env;
    envs.set(key, e);
  }
  return e;
}

/** A request to the registration routes (path relative to the issuer, or a full registration_client_uri). */
export async function registrationRequest(path: string, init: RequestInit = {}, overrides: Partial<Env> = OPEN): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await registrationApp.fetch(new Request(new URL(path, ISSUER), init), envWith(overrides), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** POST /register with a JSON body (a string is sent as is). */
export function register(
  metadata: unknown,
  opts: { token?: string; headers?: Record<string, string>; env?: Partial<Env> } = {},
): Promise<Response> {
  return registrationRequest(
    "/register",
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(opts.token !== undefined && { authorization: `Bearer ${opts.token}` }),
        ...opts.headers,
      },
      body: typeof metadata === "string" ? metadata : JSON.stringify(metadata),
    },
    opts.env ?? OPEN,
  );
}

export type Registration = Record<string, unknown> & {
  client_id: string;
  client_secret?: string;
  registration_access_token: string;
  registration_client_uri: string;
};

/** Registers and expects 201 (RFC 7591 §3.2.1). */
export async function registered(metadata: Record<string, unknown>, opts: Parameters<typeof register>[1] = {}): Promise<Registration> {
  const res = await register(metadata, opts);
  expect(res.status, await res.clone().text()).toBe(201);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return res.json();
}

/** A web client for the code flow at the shared test redirect URI. */
export const webClient = (extra: Record<string, unknown> = {}) => ({ redirect_uris: [REDIRECT_URI], client_name: "Dynamic RP", ...extra });

/** GET / PUT / DELETE at a registration_client_uri with a registration access token (RFC 7592). */
export function manage(method: "GET" | "PUT" | "DELETE" | "POST" | "PATCH", uri: string, token: string | undefined, body?: unknown): Promise<Response> {
  return registrationRequest(uri, {
    method,
    headers: {
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

/** A registration error (RFC 7591 §3.2.2): 400 JSON, no-store, one ASCII error, a description naming the field. */
export async function expectRegistrationError(res: Response, error: string, code: string, field?: string): Promise<Record<string, string>> {
  const body = await expectError(res, 400, error, code);
  expect(Object.keys(body).sort()).toEqual(["error", "error_code", "error_description"]);
  if (field !== undefined) expect(body.error_description).toContain(field);
  return body;
}

/** 401 invalid_token with a Bearer challenge (RFC 6750 §3). */
export async function expectInvalidToken(res: Response, code: string): Promise<void> {
  await expectError(res, 401, "invalid_token", code);
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
}

/** An initial access token, made as the operator would (src/registration/initial-access-token.ts). */
export async function initialAccessToken(opts: { ttl?: number | null; maxUses?: number | null } = {}): Promise<string> {
  return (await createInitialAccessToken(env.DB, opts, nowSeconds())).token;
}

/**
 * Serves documents at https://rp.example/… for the Worker's outbound fetches (sector_identifier_uri,
 * jwks_uri, back-channel logout POSTs); anything else goes out as usual. Each answer gets the
 * request the Worker made (method, headers, body, abort signal). Returns the URLs fetched.
 */
export function serveRpDocuments(documents: Record<string, (request: Request) => Response | Promise<Response>>): string[] {
  const fetched: string[] = [];
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    const document = documents[url];
    if (!url.startsWith("https://rp.example/")) return real(input, init);
    fetched.push(url);
    return document ? document(new Request(input, init)) : new Response("not found", { status: 404 });
  });
  return fetched;
}

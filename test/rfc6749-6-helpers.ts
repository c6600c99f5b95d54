import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { clearClientCache } from "../src/clients/store";
import { basic, call, tokenRequest } from "./helpers";
import {
  Browser, authorize, clientRedirect, codeRequest, expectTokenResponse, oidcClient, person, redeemAsRegistered, type TokenSet,
} from "./oidc-helpers";

/**
 * Shared by the token-lifecycle tests (refresh RFC 6749 §6 / RFC 9700 §4.14, revocation RFC 7009,
 * introspection RFC 7662): clients registered for the refresh grant, a code flow with
 * offline_access, and calls to /token, /revoke, /introspect and /userinfo.
 */

export type Registered = { client_id: string; client_secret?: string; token_endpoint_auth_method?: unknown };

/** A client registered for authorization_code and refresh_token (client_secret_basic unless told otherwise). */
export function refreshClient(input: Record<string, unknown> = {}): Promise<Registered> {
  return oidcClient({ grant_types: ["authorization_code", "refresh_token"], ...input });
}

/**
 * Sets members of a client's stored metadata directly (the lifecycle tests' shortcut for the
 * operator's lifetimes), and drops the isolate's client cache.
 */
export async function setClientMetadata(clientId: string, members: Record<string, unknown>): Promise<void> {
  const row = await env.DB.prepare("SELECT metadata FROM clients WHERE client_id = ?").bind(clientId).first<{ metadata: string }>();
  const metadata = { ...(JSON.parse(row!.metadata) as Record<string, unknown>), ...members };
  await env.DB.prepare("UPDATE clients SET metadata = ? WHERE client_id = ?").bind(JSON.stringify(metadata), clientId).run();
  clearClientCache();
}

/** The credentials a client sends, as it is registered: Basic, or client_id alone for public clients. */
export function credentials(client: Registered): { form: Record<string, string>; headers: Record<string, string> } {
  if (client.token_endpoint_auth_method === "none") return { form: { client_id: client.client_id }, headers: {} };
  return { form: {}, headers: { authorization: basic(client.client_id, client.client_secret!) } };
}

/** Runs the code flow with offline_access (and openid unless told otherwise) and redeems the code. */
export async function offlineTokens(
  client: Registered,
  opts: { user?: { id: string; email: string }; scope?: string; browser?: Browser } = {},
): Promise<{ tokens: TokenSet & { refresh_token: string }; user: { id: string; email: string }; nonce: string | undefined }> {
  const user = opts.user ?? (await person());
  const { params, verifier } = await codeRequest(client.client_id, { scope: opts.scope ?? "openid offline_access", prompt: "consent" });
  const flow = await authorize(opts.browser ?? new Browser(), params, user);
  const code = clientRedirect(flow.response).get("code")!;
  const tokens = await expectTokenResponse(await redeemAsRegistered(client, code, verifier));
  expect(tokens.refresh_token).toBeTruthy();
  return { tokens: tokens as TokenSet & { refresh_token: string }, user, nonce: params.nonce };
}

/** A refresh_token grant request, authenticated as the client is registered. */
export function refresh(client: Registered, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
  const { form, headers } = credentials(client);
  return tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken, ...form, ...extra }, headers);
}

/** A refresh that must succeed; returns the token response. */
export async function refreshed(client: Registered, refreshToken: string, extra: Record<string, string> = {}) {
  return (await expectTokenResponse(await refresh(client, refreshToken, extra))) as TokenSet & { refresh_token: string };
}

export const userinfo = (accessToken: string) => call("/userinfo", { headers: { authorization: `Bearer ${accessToken}` } });

// ── /revoke and /introspect ─────────────────────────────────────────────────────────────────

/** A request to /revoke or /introspect on the Worker under test. */
export function lifecycleCall(path: "/revoke" | "/introspect", init: RequestInit): Promise<Response> {
  return call(path, init);
}

/** A form POST to /revoke or /introspect with the given credentials. */
export function formPost(path: "/revoke" | "/introspect", form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return lifecycleCall(path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** RFC 7009 revocation by `client`, authenticated as registered. */
export function revoke(client: Registered, token: string, extra: Record<string, string> = {}): Promise<Response> {
  const { form, headers } = credentials(client);
  return formPost("/revoke", { token, ...form, ...extra }, headers);
}

/** RFC 7662 introspection by `caller`; returns the response and its JSON body. */
export async function introspect(caller: Registered, token: string, extra: Record<string, string> = {}) {
  const { form, headers } = credentials(caller);
  const res = await formPost("/introspect", { token, ...form, ...extra }, headers);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as Record<string, unknown> & { active: boolean };
}

/** Introspection says inactive, and nothing else (RFC 7662 §2.2). */
export async function expectInactive(caller: Registered, token: string): Promise<void> {
  expect(await introspect(caller, token)).toEqual({ active: false });
}

/** The D1 state of the refresh tokens of one family, oldest first (for atomicity assertions). */
export async function familyOf(refreshTokenHash: string) {
  const { results } = await env.DB.prepare(
    `SELECT r.token_hash, r.rotated_at, r.successor_hash, t.revoked_at, f.revoked_at AS family_revoked_at, f.revoked_reason
     FROM refresh_token_rotations r JOIN refresh_tokens t USING (token_hash) JOIN refresh_token_families f USING (family_id)
     WHERE r.family_id = (SELECT family_id FROM refresh_token_rotations WHERE token_hash = ?)
     ORDER BY t.created_at, r.rotated_at IS NULL`,
  ).bind(refreshTokenHash).all<{
    token_hash: string; rotated_at: number | null; successor_hash: string | null; revoked_at: number | null;
    family_revoked_at: number | null; revoked_reason: string | null;
  }>();
  return results;
}

/** base64url(SHA-256(token)): how refresh tokens are stored. */
export async function storedHash(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

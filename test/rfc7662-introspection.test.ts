import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { d1ConsentStore } from "../src/consent/store";
import { ISSUER, basic, call, createClient, expectError, tokenRequest } from "./helpers";
import { frozenClock } from "./oidc-helpers";
import {
  credentials, expectInactive, formPost, introspect, lifecycleCall, offlineTokens, refreshClient, refreshed, setClientMetadata,
} from "./rfc6749-6-helpers";
import { registered } from "./rfc7591-helpers";

/**
 * RFC 7662 token introspection: the caller authenticates as a confidential client; it sees tokens
 * issued to it, or any token when registered as a resource server (`"introspection": "any"`).
 * Anything expired, revoked, rotated, unknown or not visible to the caller is `{"active": false}`
 * and nothing more; an active token gets its claims. Never cached.
 */

afterEach(() => vi.useRealTimers());

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };

describe("RFC 7662 §2.2 an active access token", () => {
  it("answers active with scope, client_id, sub, aud, iss, exp, iat, jti, token_type and auth_time", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client, { scope: "openid email offline_access" });
    const claims = decodeJwt(tokens.access_token);
    const answer = await introspect(client, tokens.access_token);
    expect(answer).toEqual({
      active: true,
      token_type: "Bearer",
      scope: tokens.scope,
      client_id: client.client_id,
      sub: user.id,
      aud: claims.aud,
      iss: ISSUER,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      auth_time: claims.auth_time,
    });
  });

  it("a client_credentials token: sub is the client", async () => {
    const client = await createClient({ grant_types: ["client_credentials"] });
    const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, credentials(client).headers);
    const { access_token } = (await res.json()) as { access_token: string };
    expect(await introspect(client, access_token)).toMatchObject({ active: true, sub: client.client_id, client_id: client.client_id, scope: "read" });
  });

  it("the hint does not matter", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    for (const hint of ["access_token", "refresh_token", "unknown"]) {
      expect((await introspect(client, tokens.access_token, { token_type_hint: hint })).active).toBe(true);
      expect((await introspect(client, tokens.refresh_token, { token_type_hint: hint })).active).toBe(true);
    }
  });
});

describe("RFC 7662 §2.2 an active refresh token", () => {
  it("answers token_type refresh_token, its scope, client_id, sub, iss, exp (idle limit) and iat; no jti", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    const now = Math.floor(Date.now() / 1000);
    const answer = await introspect(client, tokens.refresh_token);
    expect(answer).toEqual({
      active: true,
      token_type: "refresh_token",
      scope: "openid offline_access",
      client_id: client.client_id,
      sub: user.id,
      iss: ISSUER,
      exp: now + 14 * 24 * 3600,
      iat: now,
    });
    clock.restore();
  });

  it("after rotation the old token is inactive and the successor active", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const next = await refreshed(client, tokens.refresh_token);
    await expectInactive(client, tokens.refresh_token);
    expect((await introspect(client, next.refresh_token)).active).toBe(true);
  });
});

describe("RFC 7662 §2.2 {\"active\": false} and nothing else", () => {
  it("unknown, malformed, forged or altered tokens", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const [h, p, s] = tokens.access_token.split(".");
    const altered = `${h}.${p}.${s!.slice(0, -3)}${s!.at(-3) === "A" ? "B" : "A"}${s!.slice(-2)}`;
    for (const token of ["x".repeat(43), "not a token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", altered, "a".repeat(5000)]) {
      await expectInactive(client, token);
    }
  });

  it("an ID token is not an access token", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectInactive(client, tokens.id_token!);
  });

  it("an expired access token; an idle-expired refresh token", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    await setClientMetadata(client.client_id, { refresh_token_idle_lifetime: 600 });
    const { tokens } = await offlineTokens(client);
    clock.advance(600 + 16);
    await expectInactive(client, tokens.access_token);
    await expectInactive(client, tokens.refresh_token);
  });

  it("tokens whose consent was withdrawn", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    await d1ConsentStore(env.DB).revoke(user.id, client.client_id);
    await expectInactive(client, tokens.access_token);
    await expectInactive(client, tokens.refresh_token);
  });

  it("tokens of a disabled user", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    const res = await call(`/admin/users/${user.id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ disabled: true }) });
    expect(res.status).toBe(200);
    await expectInactive(client, tokens.access_token);
    await expectInactive(client, tokens.refresh_token);
  });

  it("another client's tokens", async () => {
    const client = await refreshClient();
    const other = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectInactive(other, tokens.access_token);
    await expectInactive(other, tokens.refresh_token);
  });
});

describe("RFC 7662 §2.1 / §4 who may introspect", () => {
  it("a resource server registered by the operator with introspection: any sees every client's tokens", async () => {
    const client = await refreshClient();
    const rs = await createClient({ grant_types: ["client_credentials"], introspection: "any" });
    expect(rs.introspection).toBe("any");
    const { tokens, user } = await offlineTokens(client);
    expect(await introspect(rs, tokens.access_token)).toMatchObject({ active: true, client_id: client.client_id, sub: user.id });
    expect(await introspect(rs, tokens.refresh_token)).toMatchObject({ active: true, client_id: client.client_id, token_type: "refresh_token" });
    // Back to "own" (the operator's PATCH): the other client's tokens are invisible again.
    const patched = await call(`/admin/clients/${rs.client_id}`, { method: "PATCH", headers: admin, body: JSON.stringify({ introspection: "own" }) });
    expect(patched.status).toBe(200);
    await expectInactive(rs, tokens.access_token);
  });

  it("introspection is the operator's to set: any other value is refused, and a client registering itself cannot set it", async () => {
    const bad = await call("/admin/clients/rs-bad-introspection", {
      method: "PUT", headers: admin, body: JSON.stringify({ grant_types: ["client_credentials"], introspection: "all" }),
    });
    await expectError(bad, 400, "invalid_client_metadata", "operator_extension_malformed");
    const self = await registered({ grant_types: ["client_credentials"], token_endpoint_auth_method: "client_secret_basic", introspection: "any" });
    expect(self.introspection).toBeUndefined();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectInactive({ client_id: self.client_id, client_secret: self.client_secret! }, tokens.access_token);
  });

  it("a public client → 401 invalid_client", async () => {
    const client = await refreshClient({ token_endpoint_auth_method: "none" });
    const { tokens } = await offlineTokens(client);
    await expectError(await formPost("/introspect", { token: tokens.access_token, client_id: client.client_id }), 401, "invalid_client", "introspection_public_client");
  });

  it("no credentials, or wrong ones → 401 invalid_client (with a Basic challenge)", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectError(await formPost("/introspect", { token: tokens.access_token }), 401, "invalid_client", "missing_client_credentials");
    const wrong = await formPost("/introspect", { token: tokens.access_token }, { authorization: basic(client.client_id, "w".repeat(86)) });
    await expectError(wrong, 401, "invalid_client", "invalid_client_secret");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /);
  });

  it("client_secret_post callers are accepted too", async () => {
    const client = await refreshClient({ token_endpoint_auth_method: "client_secret_post" });
    const { tokens } = await offlineTokens(client);
    const res = await formPost("/introspect", { token: tokens.access_token, client_id: client.client_id, client_secret: client.client_secret! });
    expect(((await res.json()) as { active: boolean }).active).toBe(true);
  });
});

describe("RFC 7662 §2.1 the request", () => {
  it("without the token parameter → 400 invalid_request", async () => {
    const client = await refreshClient();
    await expectError(await formPost("/introspect", {}, credentials(client).headers), 400, "invalid_request", "missing_parameter");
  });

  it("GET → 405 with Allow: POST", async () => {
    const res = await lifecycleCall("/introspect", { method: "GET" });
    await expectError(res, 405, "invalid_request", "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });
});

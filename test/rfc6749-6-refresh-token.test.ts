import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clearClientCache } from "../src/clients/store";
import { d1ConsentStore } from "../src/consent/store";
import { call, createClient, expectError, tokenRequest } from "./helpers";
import { frozenClock, verifyIdToken } from "./oidc-helpers";
import {
  credentials, offlineTokens, refresh, refreshClient, refreshed, setClientMetadata, userinfo,
} from "./rfc6749-6-helpers";

/**
 * RFC 6749 §6 (refreshing an access token) and OIDC Core §12 (using refresh tokens), with the rules
 * of issue 4 around them: the token is bound to its client, the requested scope may narrow but
 * never widen, the grant behind the token must still hold (consent, user enabled and verified), and
 * tokens expire when idle and at an absolute limit, both configurable per client.
 */

afterEach(() => vi.useRealTimers());

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const patchUser = async (id: string, body: Record<string, unknown>) => {
  const res = await call(`/admin/users/${id}`, { method: "PATCH", headers: admin, body: JSON.stringify(body) });
  expect(res.status, await res.clone().text()).toBe(200);
};

describe("RFC 6749 §6 the refresh_token grant", () => {
  it("answers a new access token, a new refresh token, the scope and an ID token (OIDC Core §12.2)", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    const original = decodeJwt(tokens.id_token!);

    const next = await refreshed(client, tokens.refresh_token);
    expect(next.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect(next.scope!.split(" ").sort()).toEqual(["offline_access", "openid"]);

    // §12.2: same iss, sub and aud; auth_time of the original authentication; no nonce; a new iat.
    const idToken = await verifyIdToken(next.id_token!, client.client_id, { nonce: undefined, accessToken: next.access_token });
    expect(idToken.sub).toBe(user.id);
    expect(idToken.auth_time).toBe(original.auth_time);
    expect(idToken.sid).toBe(original.sid);

    const at = decodeJwt(next.access_token);
    expect(at).toMatchObject({ sub: user.id, client_id: client.client_id, scope: next.scope, auth_time: original.auth_time });
    expect(at.gid).toBe(decodeJwt(tokens.access_token).gid);
    expect((await userinfo(next.access_token)).status).toBe(200);
  });

  it("rotates on every use: each answer's refresh token works once, and the chain goes on", async () => {
    const client = await refreshClient();
    let { refresh_token: current } = (await offlineTokens(client)).tokens;
    const seen = new Set([current]);
    for (let i = 0; i < 4; i++) {
      const next = await refreshed(client, current);
      expect(seen.has(next.refresh_token)).toBe(false);
      seen.add(next.refresh_token);
      current = next.refresh_token;
    }
  });

  it("a public client refreshes with its client_id alone (rotation protects its tokens, RFC 9700 §4.14.2)", async () => {
    const client = await refreshClient({ token_endpoint_auth_method: "none" });
    const { tokens } = await offlineTokens(client);
    expect(credentials(client).headers).toEqual({});
    await refreshed(client, tokens.refresh_token);
  });

  it("without the refresh_token parameter → invalid_request", async () => {
    const client = await refreshClient();
    await expectError(await tokenRequest({ grant_type: "refresh_token" }, credentials(client).headers), 400, "invalid_request", "missing_parameter");
  });

  it("an unknown or malformed refresh token → invalid_grant", async () => {
    const client = await refreshClient();
    for (const value of ["x".repeat(43), "not a token", "a".repeat(2000)]) {
      await expectError(await refresh(client, value), 400, "invalid_grant", "refresh_token_invalid");
    }
  });

  it("a client not registered for the refresh_token grant → unauthorized_client", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const res = await call(`/admin/clients/${client.client_id}`, {
      method: "PUT",
      headers: admin,
      body: JSON.stringify({ grant_types: ["authorization_code"], redirect_uris: ["https://rp.example/callback"], client_secret: client.client_secret }),
    });
    expect(res.status).toBe(200);
    clearClientCache(); // the token endpoint caches registrations per isolate (clientCacheTtl)
    await expectError(await refresh(client, tokens.refresh_token), 400, "unauthorized_client");
  });
});

describe("RFC 6749 §6 / §10.4 the refresh token is bound to its client", () => {
  it("a confidential client must authenticate: a wrong secret → invalid_client, and the token is not burnt", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectError(await refresh({ ...client, client_secret: "w".repeat(86) }, tokens.refresh_token), 401, "invalid_client");
    await expectError(
      await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: client.client_id }),
      401,
      "invalid_client",
    );
    await refreshed(client, tokens.refresh_token);
  });

  it("another client (confidential or public) → invalid_grant, and the owner can still use it", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    for (const other of [await refreshClient(), await refreshClient({ token_endpoint_auth_method: "none" })]) {
      await expectError(await refresh(other, tokens.refresh_token), 400, "invalid_grant", "refresh_token_client_mismatch");
    }
    await refreshed(client, tokens.refresh_token);
  });
});

describe("RFC 6749 §6 scope: may narrow, never widen", () => {
  it("a narrower scope gives a narrower access token; the new refresh token keeps the original scope", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client, { scope: "openid email profile offline_access" });
    const narrow = await refreshed(client, tokens.refresh_token, { scope: "openid email" });
    expect(narrow.scope).toBe("openid email");
    expect(decodeJwt(narrow.access_token).scope).toBe("openid email");
    // The successor still carries the whole grant (§6: "identical to that of the refresh token").
    const wide = await refreshed(client, narrow.refresh_token, { scope: "profile openid email offline_access" });
    expect(wide.scope!.split(" ").sort()).toEqual(["email", "offline_access", "openid", "profile"]);
  });

  it("without openid in the requested scope there is no ID token", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client, { scope: "openid email offline_access" });
    const next = await refreshed(client, tokens.refresh_token, { scope: "email" });
    expect(next.id_token).toBeUndefined();
    expect(next.scope).toBe("email");
  });

  it("a wider scope → invalid_scope, and the token is not burnt", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const body = await expectError(await refresh(client, tokens.refresh_token, { scope: "openid profile" }), 400, "invalid_scope", "refresh_scope_widened");
    expect(body.error_description).toContain("profile");
    await expectError(await refresh(client, tokens.refresh_token, { scope: "openid  bad" }), 400, "invalid_scope", "malformed_scope");
    await refreshed(client, tokens.refresh_token, { scope: "openid" });
  });
});

describe("the grant behind the token must still hold (issue 4, source document oidc-errors-and-edge-cases)", () => {
  it("consent withdrawn → invalid_grant", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    await d1ConsentStore(env.DB).revoke(user.id, client.client_id);
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "grant_consent_revoked");
  });

  it("consent withdrawn and given again (a new grant id) → the old token stays refused", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    await d1ConsentStore(env.DB).revoke(user.id, client.client_id);
    await d1ConsentStore(env.DB).grant(user.id, client.client_id, ["openid", "offline_access"], Math.floor(Date.now() / 1000));
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "grant_consent_revoked");
  });

  it("the user's email no longer verified → invalid_grant; verified again → it works", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    await patchUser(user.id, { email_verified: false });
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "grant_user_unverified");
    await patchUser(user.id, { email_verified: true });
    await refreshed(client, tokens.refresh_token);
  });

  it("the user disabled → invalid_grant", async () => {
    const client = await refreshClient();
    const { tokens, user } = await offlineTokens(client);
    await patchUser(user.id, { disabled: true });
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "grant_user_disabled");
  });
});

describe("RFC 9700 §4.14.2 idle and absolute lifetimes", () => {
  it("defaults: a token unused for 14 days expires; used within that, the chain lives", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const a = (await offlineTokens(client)).tokens;
    const b = (await offlineTokens(client)).tokens;
    clock.advance(14 * 24 * 3600 - 10);
    const next = await refreshed(client, a.refresh_token);
    clock.advance(20);
    await expectError(await refresh(client, b.refresh_token), 400, "invalid_grant", "refresh_token_expired");
    await refreshed(client, next.refresh_token);
  });

  it("defaults: 30 days after the code, the chain ends however often it was used", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    let current = (await offlineTokens(client)).tokens.refresh_token;
    for (let week = 1; week <= 4; week++) {
      clock.advance(7 * 24 * 3600);
      current = (await refreshed(client, current)).refresh_token;
    }
    clock.advance(2 * 24 * 3600);
    await expectError(await refresh(client, current), 400, "invalid_grant", "refresh_token_expired");
  });

  it("per client (metadata refresh_token_idle_lifetime / refresh_token_absolute_lifetime)", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    await setClientMetadata(client.client_id, { refresh_token_idle_lifetime: 120, refresh_token_absolute_lifetime: 300 });
    const idle = (await offlineTokens(client)).tokens;
    let current = (await offlineTokens(client)).tokens.refresh_token;
    clock.advance(100);
    current = (await refreshed(client, current)).refresh_token;
    clock.advance(100);
    current = (await refreshed(client, current)).refresh_token;
    await expectError(await refresh(client, idle.refresh_token), 400, "invalid_grant", "refresh_token_expired");
    clock.advance(101);
    await expectError(await refresh(client, current), 400, "invalid_grant", "refresh_token_expired");
  });

  it("a shorter per-client lifetime applies to tokens issued before the change", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await setClientMetadata(client.client_id, { refresh_token_idle_lifetime: 60 });
    clock.advance(61);
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_expired");
  });

  it("a client_credentials client gets no refresh token (RFC 6749 §4.4.3), so cannot use the grant with one", async () => {
    const client = await createClient({ grant_types: ["client_credentials", "refresh_token"] });
    const res = await tokenRequest({ grant_type: "client_credentials" }, credentials(client).headers);
    expect(((await res.json()) as Record<string, unknown>).refresh_token).toBeUndefined();
  });
});

import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { findRefreshToken, openRetryAnswer, rotateRefreshToken } from "../src/tokens/refresh-token";
import { expectError } from "./helpers";
import { Browser, authorize, clientRedirect, codeRequest, expectTokenResponse, frozenClock, person, redeem } from "./oidc-helpers";
import {
  expectInactive, familyOf, introspect, offlineTokens, refresh, refreshClient, refreshed, setClientMetadata, storedHash, userinfo,
} from "./rfc6749-6-helpers";

/**
 * RFC 9700 §4.14.2: refresh-token rotation with reuse detection. Every use issues a successor;
 * presenting a token that was already rotated revokes its whole family — every refresh token of it
 * and the access tokens issued with them — and answers invalid_grant. Within a grace window the
 * same request again gets the same successor instead, so concurrent or retried refreshes do not
 * end a person's session; of N concurrent refreshes exactly one successor continues.
 */

afterEach(() => vi.useRealTimers());

/** Every access token of a family is refused at UserInfo (401) and inactive at introspection. */
async function expectAccessTokensDead(client: { client_id: string; client_secret?: string }, accessTokens: string[]) {
  for (const token of accessTokens) {
    const res = await userinfo(token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    await expectInactive(client, token);
  }
}

describe("RFC 9700 §4.14.2 reuse of a rotated refresh token revokes the family", () => {
  it("after the grace window: invalid_grant, the successor dies, and every access token of the family stops working", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const second = await refreshed(client, tokens.refresh_token);
    const third = await refreshed(client, second.refresh_token);
    clock.advance(31);
    for (const t of [tokens.access_token, second.access_token, third.access_token]) expect((await userinfo(t)).status).toBe(200);

    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, third.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    await expectAccessTokensDead(client, [tokens.access_token, second.access_token, third.access_token]);
    const family = await familyOf(await storedHash(tokens.refresh_token));
    expect(family).toHaveLength(3);
    expect(family.every((t) => t.revoked_at !== null && t.family_revoked_at !== null && t.revoked_reason === "reuse")).toBe(true);
  });

  it("reusing a middle token of the chain revokes the newest one too", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const second = await refreshed(client, tokens.refresh_token);
    const third = await refreshed(client, second.refresh_token);
    const fourth = await refreshed(client, third.refresh_token);
    clock.advance(60);
    await expectError(await refresh(client, second.refresh_token), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, fourth.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    await expectInactive(client, fourth.refresh_token);
  });

  it("another family of the same person and client is untouched (each code starts its own family)", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const user = await person();
    const phone = await offlineTokens(client, { user });
    const laptop = await offlineTokens(client, { user });
    await refreshed(client, phone.tokens.refresh_token);
    clock.advance(31);
    await expectError(await refresh(client, phone.tokens.refresh_token), 400, "invalid_grant", "refresh_token_reused");
    expect((await userinfo(laptop.tokens.access_token)).status).toBe(200);
    await refreshed(client, laptop.tokens.refresh_token);
  });

  it("a public client's reuse is detected the same way", async () => {
    const clock = frozenClock();
    const client = await refreshClient({ token_endpoint_auth_method: "none" });
    const { tokens } = await offlineTokens(client);
    const next = await refreshed(client, tokens.refresh_token);
    clock.advance(31);
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, next.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
  });

  it("reuse of the authorization code after a refresh revokes what the refresh issued too (RFC 6749 §4.1.2)", async () => {
    const client = await refreshClient();
    const user = await person();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid offline_access", prompt: "consent" });
    const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
    const tokens = await expectTokenResponse(await redeem(client, code, verifier));
    const next = await refreshed(client, tokens.refresh_token!);
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "code_reused");
    await expectError(await refresh(client, next.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    await expectAccessTokensDead(client, [tokens.access_token, next.access_token]);
  });
});

describe("RFC 9700 §4.14.2 the grace window: the same request again gets the same successor", () => {
  it("a retry within 30 s gets the very same answer (refresh token, access token, ID token), and the family lives on", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const first = await refreshed(client, tokens.refresh_token);
    clock.advance(30);
    const retry = await refreshed(client, tokens.refresh_token);
    expect(retry.refresh_token).toBe(first.refresh_token);
    expect(retry.access_token).toBe(first.access_token);
    expect(retry.id_token).toBe(first.id_token);
    expect(retry.expires_in).toBe(first.expires_in - 30);
    expect((await userinfo(first.access_token)).status).toBe(200);
    await refreshed(client, first.refresh_token);
  });

  it("the same narrowed scope is the same request; its order does not matter", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client, { scope: "openid email offline_access" });
    const first = await refreshed(client, tokens.refresh_token, { scope: "openid email" });
    const retry = await refreshed(client, tokens.refresh_token, { scope: "email openid" });
    expect(retry.refresh_token).toBe(first.refresh_token);
  });

  it("a different request within the window (another scope) is reuse: the family is revoked", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client, { scope: "openid email offline_access" });
    const first = await refreshed(client, tokens.refresh_token);
    await expectError(await refresh(client, tokens.refresh_token, { scope: "openid" }), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, first.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    await expectAccessTokensDead(client, [tokens.access_token, first.access_token]);
  });

  it("after the window (31 s) the same request is reuse: the family is revoked", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const first = await refreshed(client, tokens.refresh_token);
    clock.advance(31);
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, first.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    await expectAccessTokensDead(client, [first.access_token]);
  });

  it("once the successor has been used, a retry of the old token is reuse even within the window", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const first = await refreshed(client, tokens.refresh_token);
    const second = await refreshed(client, first.refresh_token);
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_reused");
    await expectError(await refresh(client, second.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
  });

  it("per client: refresh_token_reuse_grace 0 turns the window off; 5 shortens it", async () => {
    const clock = frozenClock();
    const strict = await refreshClient();
    await setClientMetadata(strict.client_id, { refresh_token_reuse_grace: 0 });
    const a = (await offlineTokens(strict)).tokens;
    await refreshed(strict, a.refresh_token);
    await expectError(await refresh(strict, a.refresh_token), 400, "invalid_grant", "refresh_token_reused");

    const short = await refreshClient();
    await setClientMetadata(short.client_id, { refresh_token_reuse_grace: 5 });
    const b = (await offlineTokens(short)).tokens;
    const first = await refreshed(short, b.refresh_token);
    clock.advance(5);
    expect((await refreshed(short, b.refresh_token)).refresh_token).toBe(first.refresh_token);
    clock.advance(1);
    await expectError(await refresh(short, b.refresh_token), 400, "invalid_grant", "refresh_token_reused");
  });

  it("the answer kept for retries is sealed: D1 holds no refresh token in the clear", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const first = await refreshed(client, tokens.refresh_token);
    const row = await env.DB.prepare("SELECT * FROM refresh_token_rotations WHERE token_hash = ?").bind(await storedHash(tokens.refresh_token)).first();
    const dump = JSON.stringify(await env.DB.prepare("SELECT * FROM refresh_token_rotations").all()) + JSON.stringify(await env.DB.prepare("SELECT * FROM refresh_tokens").all());
    expect(row?.retry_sealed).toMatch(/^v1\./);
    for (const t of [tokens.refresh_token, first.refresh_token, first.access_token]) expect(dump).not.toContain(t);
  });
});

describe("RFC 9700 §4.14.2 concurrent refreshes of one token: exactly one successor family continues", () => {
  it("10 identical concurrent requests: one rotation, all ten get the same successor, which works", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(client, tokens.refresh_token)));
    const bodies = await Promise.all(answers.map((res) => expectTokenResponse(res)));
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.access_token)).size).toBe(1);

    const family = await familyOf(await storedHash(tokens.refresh_token));
    expect(family).toHaveLength(2);
    expect(family[0]!.successor_hash).toBe(await storedHash(bodies[0]!.refresh_token!));
    expect(family.every((t) => t.revoked_at === null)).toBe(true);
    const next = await refreshed(client, bodies[0]!.refresh_token!);
    expect((await introspect(client, next.refresh_token)).active).toBe(true);
  });

  it("the rotation step itself: of 10 concurrent conditional writes for one token exactly one wins", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const stored = (await findRefreshToken(env.DB, tokens.refresh_token))!;
    const now = Math.floor(Date.now() / 1000);
    const successors = Array.from({ length: 10 }, (_, i) => ({
      token: `successor-${i}-${crypto.randomUUID()}`,
      accessToken: { jti: `jti-${i}-${crypto.randomUUID()}`, exp: now + 600 },
      retryAnswer: { attempt: i },
      requestScope: "",
    }));
    const won = await Promise.all(
      successors.map((s) => rotateRefreshToken(env.DB, stored, s, { now, policy: { idle: 3600 }, encryptionKey: env.ENCRYPTION_KEY })),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = successors[won.indexOf(true)]!;
    const family = await familyOf(stored.hash);
    expect(family.map((t) => t.token_hash).sort()).toEqual([stored.hash, await storedHash(winner.token)].sort());
    expect(family.find((t) => t.token_hash === stored.hash)!.successor_hash).toBe(await storedHash(winner.token));
    expect(await openRetryAnswer((await findRefreshToken(env.DB, tokens.refresh_token))!, env.ENCRYPTION_KEY)).toEqual({ attempt: won.indexOf(true) });
  });

  it("10 concurrent requests with the grace window off: exactly one rotates, the rest are reuse and end the family", async () => {
    const client = await refreshClient();
    await setClientMetadata(client.client_id, { refresh_token_reuse_grace: 0 });
    const { tokens } = await offlineTokens(client);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(client, tokens.refresh_token)));
    expect(answers.filter((res) => res.status === 200)).toHaveLength(1);
    for (const res of answers.filter((r) => r.status !== 200)) await expectError(res, 400, "invalid_grant");
    const family = await familyOf(await storedHash(tokens.refresh_token));
    expect(family).toHaveLength(2);
    expect(family.filter((t) => t.rotated_at !== null)).toHaveLength(1);
    expect(family.every((t) => t.revoked_at !== null)).toBe(true);
  });

  it("10 concurrent requests, each with a different scope: one rotation, and the reuse ends the family", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client, { scope: "openid email profile phone address offline_access" });
    const scopes = ["openid", "email", "profile", "phone", "address", "openid email", "openid profile", "openid phone", "openid address", "email phone"];
    const answers = await Promise.all(scopes.map((scope) => refresh(client, tokens.refresh_token, { scope })));
    expect(answers.filter((res) => res.status === 200)).toHaveLength(1);
    const family = await familyOf(await storedHash(tokens.refresh_token));
    expect(family.filter((t) => t.rotated_at !== null)).toHaveLength(1);
    expect(family).toHaveLength(2);
    expect(family.every((t) => t.revoked_at !== null)).toBe(true);
  });
});

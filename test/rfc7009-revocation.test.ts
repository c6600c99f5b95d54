import { decodeJwt } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { basic, createClient, expectError, tokenRequest } from "./helpers";
import { frozenClock, person } from "./oidc-helpers";
import {
  credentials, expectInactive, familyOf, formPost, introspect, lifecycleCall, offlineTokens, refresh, refreshClient, refreshed, revoke,
  storedHash, userinfo,
} from "./rfc6749-6-helpers";

/**
 * RFC 7009 token revocation: client authentication through the token endpoint's dispatcher,
 * token_type_hint as a hint only, 200 for unknown or already invalid tokens and for other
 * clients' tokens (which are not revoked), unsupported_token_type for ID tokens. Revoking a refresh
 * token revokes its family and the access tokens issued with it; revoking an access token puts it
 * on the revocation list UserInfo and introspection honour.
 */

afterEach(() => vi.useRealTimers());

/** §2.2: 200, not cached, and `{}` as JSON (clients parse the body; an empty one throws in some, e.g. simple-oauth2). */
async function expectRevoked(res: Response) {
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(await res.json()).toEqual({});
}

describe("RFC 7009 §2.1 revoking a refresh token", () => {
  it("revokes the family: the token and its successors fail, and the family's access tokens stop working", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const next = await refreshed(client, tokens.refresh_token);
    await expectRevoked(await revoke(client, next.refresh_token, { token_type_hint: "refresh_token" }));
    await expectError(await refresh(client, next.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    for (const at of [tokens.access_token, next.access_token]) {
      expect((await userinfo(at)).status).toBe(401);
      await expectInactive(client, at);
    }
    const family = await familyOf(await storedHash(tokens.refresh_token));
    expect(family.every((t) => t.revoked_at !== null && t.revoked_reason === "revocation")).toBe(true);
  });

  it("the hint is only a hint: a refresh token sent as access_token (or with an unknown hint) is still revoked", async () => {
    const client = await refreshClient();
    for (const hint of ["access_token", "urn:example:unknown"]) {
      const { tokens } = await offlineTokens(client);
      await expectRevoked(await revoke(client, tokens.refresh_token, { token_type_hint: hint }));
      await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
    }
  });

  it("a public client revokes its own refresh token with its client_id", async () => {
    const client = await refreshClient({ token_endpoint_auth_method: "none" });
    const { tokens } = await offlineTokens(client);
    await expectRevoked(await revoke(client, tokens.refresh_token));
    await expectError(await refresh(client, tokens.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
  });

  it("another client's refresh token: 200, and it is not revoked", async () => {
    const client = await refreshClient();
    const other = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectRevoked(await revoke(other, tokens.refresh_token));
    await refreshed(client, tokens.refresh_token);
  });

  it("revoking twice, or a rotated token: 200", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await refreshed(client, tokens.refresh_token);
    await expectRevoked(await revoke(client, tokens.refresh_token));
    await expectRevoked(await revoke(client, tokens.refresh_token));
  });
});

describe("RFC 7009 §2.1 revoking an access token", () => {
  it("goes on the revocation list: UserInfo refuses it, introspection says inactive; the refresh token lives on", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectRevoked(await revoke(client, tokens.access_token, { token_type_hint: "access_token" }));
    const res = await userinfo(tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    await expectInactive(client, tokens.access_token);
    const next = await refreshed(client, tokens.refresh_token);
    expect((await userinfo(next.access_token)).status).toBe(200);
  });

  it("with the refresh_token hint, an access token is found all the same", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectRevoked(await revoke(client, tokens.access_token, { token_type_hint: "refresh_token" }));
    expect((await userinfo(tokens.access_token)).status).toBe(401);
  });

  it("a client_credentials access token", async () => {
    const client = await createClient({ grant_types: ["client_credentials"] });
    const res = await tokenRequest({ grant_type: "client_credentials" }, credentials(client).headers);
    const { access_token } = (await res.json()) as { access_token: string };
    expect((await introspect(client, access_token)).active).toBe(true);
    await expectRevoked(await revoke(client, access_token));
    await expectInactive(client, access_token);
  });

  it("another client's access token: 200, and it keeps working", async () => {
    const client = await refreshClient();
    const other = await refreshClient();
    const { tokens } = await offlineTokens(client);
    await expectRevoked(await revoke(other, tokens.access_token));
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });

  it("an expired access token: 200 (§2.2: invalid tokens do not cause an error)", async () => {
    const clock = frozenClock();
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    clock.advance(700);
    await expectRevoked(await revoke(client, tokens.access_token));
  });
});

describe("RFC 7009 §2.2 unknown and invalid tokens: 200", () => {
  it("random strings, a forged JWT, an altered access token, a huge value", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const [h, p, s] = tokens.access_token.split(".");
    const altered = `${h}.${p}.${s!.slice(0, -3)}${s!.at(-3) === "A" ? "B" : "A"}${s!.slice(-2)}`;
    for (const token of ["x".repeat(43), "not a token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", altered, "a".repeat(5000)]) {
      await expectRevoked(await revoke(client, token));
    }
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });
});

describe("RFC 7009 §2.2.1 unsupported_token_type", () => {
  it("an ID token issued to this client → 400 unsupported_token_type; another client's ID token → 200", async () => {
    const client = await refreshClient();
    const other = await refreshClient();
    const { tokens } = await offlineTokens(client);
    expect(decodeJwt(tokens.id_token!).aud).toBe(client.client_id);
    await expectError(await revoke(client, tokens.id_token!), 400, "unsupported_token_type", "unsupported_token_type");
    await expectRevoked(await revoke(other, tokens.id_token!));
  });
});

describe("RFC 7009 §2.1 the request", () => {
  it("a confidential client must authenticate: none, or a wrong secret → 401 invalid_client, nothing revoked", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const none = await formPost("/revoke", { token: tokens.refresh_token, client_id: client.client_id });
    await expectError(none, 401, "invalid_client", "missing_client_credentials");
    const wrong = await formPost("/revoke", { token: tokens.refresh_token }, { authorization: basic(client.client_id, "w".repeat(86)) });
    await expectError(wrong, 401, "invalid_client", "invalid_client_secret");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /);
    await expectError(await formPost("/revoke", { token: tokens.refresh_token }), 401, "invalid_client");
    await refreshed(client, tokens.refresh_token);
  });

  it("without the token parameter → 400 invalid_request", async () => {
    const client = await refreshClient();
    await expectError(await revoke(client, ""), 400, "invalid_request", "missing_parameter");
  });

  it("the token twice → 400 invalid_request; a JSON body → 400 invalid_request", async () => {
    const client = await refreshClient();
    const body = "token=a&token=b";
    const twice = await lifecycleCall("/revoke", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...credentials(client).headers },
      body,
    });
    await expectError(twice, 400, "invalid_request", "duplicate_parameter");
    const json = await lifecycleCall("/revoke", {
      method: "POST",
      headers: { "content-type": "application/json", ...credentials(client).headers },
      body: JSON.stringify({ token: "a" }),
    });
    await expectError(json, 400, "invalid_request", "unsupported_content_type");
  });

  it("GET → 405 with Allow: POST", async () => {
    const res = await lifecycleCall("/revoke", { method: "GET" });
    await expectError(res, 405, "invalid_request", "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("CORS: a browser client's origin may call it (RFC 9700 §2.6), as at the token endpoint", async () => {
    const client = await refreshClient({ token_endpoint_auth_method: "none" });
    const { tokens } = await offlineTokens(client, { user: await person() });
    const res = await formPost("/revoke", { token: tokens.refresh_token, client_id: client.client_id }, { origin: "https://rp.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://rp.example");
    const elsewhere = await formPost("/revoke", { token: "x", client_id: client.client_id }, { origin: "https://evil.example" });
    expect(elsewhere.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("revocation racing a refresh", () => {
  it("a refresh running while the family is revoked leaves nothing usable", async () => {
    const client = await refreshClient();
    const { tokens } = await offlineTokens(client);
    const [refreshedRes] = await Promise.all([refresh(client, tokens.refresh_token), revoke(client, tokens.refresh_token)]);
    if (refreshedRes.status === 200) {
      const next = (await refreshedRes.json()) as { refresh_token: string; access_token: string };
      await expectError(await refresh(client, next.refresh_token), 400, "invalid_grant", "refresh_token_revoked");
      expect((await userinfo(next.access_token)).status).toBe(401);
    } else {
      await expectError(refreshedRes, 400, "invalid_grant");
    }
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { d1ConsentStore } from "../src/consent/store";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";
import { issueAccessToken } from "../src/tokens/access-token";
import type { UserClaims } from "../src/users/model";
import { FULL_CLAIMS, ISSUER, call, expectError, nowSeconds, uniqueId } from "./helpers";

// ── fixture ───────────────────────────────────────────────────────────────────────────────────
/** A UserInfo request to the Worker under test. */
function userinfo(init: RequestInit = {}, query = ""): Promise<Response> {
  return call(`${ISSUER}/userinfo${query}`, init);
}

interface UserRowInput {
  email?: string;
  emailVerified?: boolean;
  claims?: UserClaims;
  disabled?: boolean;
  updatedAt?: number;
}

async function insertUser(input: UserRowInput = {}): Promise<string> {
  const id = uniqueId("user");
  const now = nowSeconds();
  await env.DB.prepare(
    `INSERT INTO users (id, email, email_verified, password_hash, claims, disabled, created_at, updated_at)
     VALUES (?, ?, ?, NULL, ?, ?, ?, ?)`,
  )
    .bind(id, input.email ?? `${id}@example.com`, input.emailVerified === false ? 0 : 1, JSON.stringify(input.claims ?? {}),
      input.disabled ? 1 : 0, now - 100, input.updatedAt ?? now - 50)
    .run();
  return id;
}

/** A user, their consent to a client for `scope`, and an access token under that consent. */
async function signedIn(scope: string[], user: UserRowInput = {}) {
  const userId = await insertUser(user);
  const clientId = uniqueId("client");
  const now = nowSeconds();
  const consent = await d1ConsentStore(env.DB).grant(userId, clientId, scope, now);
  const keys = await keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, now);
  const { token } = await issueAccessToken({ sub: userId, clientId, scope, grantId: consent.grantId, authTime: now }, { config: configFrom(env), keys, now });
  return { userId, clientId, token, grantId: consent.grantId };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function claimsOf(res: Response): Promise<Record<string, unknown>> {
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return res.json();
}

const PROFILE = ["name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale"] as const;

// ── tests ─────────────────────────────────────────────────────────────────────────────────────
describe("OIDC Core §5.3.1 UserInfo request", () => {
  it("GET with the Authorization header [cs: oidcc-userinfo-get]", async () => {
    const { userId, token } = await signedIn(["openid"]);
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({ sub: userId });
  });

  it("POST with the Authorization header [cs: oidcc-userinfo-post-header]", async () => {
    const { userId, token } = await signedIn(["openid"]);
    expect(await claimsOf(await userinfo({ method: "POST", headers: bearer(token) }))).toEqual({ sub: userId });
  });

  it("POST with access_token in a form body, RFC 6750 §2.2 [cs: oidcc-userinfo-post-body]", async () => {
    const { userId, token } = await signedIn(["openid", "email"]);
    const res = await userinfo({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
      body: new URLSearchParams({ access_token: token }).toString(),
    });
    expect((await claimsOf(res)).sub).toBe(userId);
  });

  it("the Bearer scheme is case-insensitive (RFC 9110 §11.1)", async () => {
    const { userId, token } = await signedIn(["openid"]);
    for (const scheme of ["bearer", "BEARER", "BeArEr"]) {
      expect(await claimsOf(await userinfo({ headers: { authorization: `${scheme} ${token}` } }))).toEqual({ sub: userId });
    }
  });
});

describe("OIDC Core §5.3.2 / §5.4 UserInfo response: claims by scope", () => {
  it("§5.3.2 sub always, equal to the token's sub; nothing else for openid alone", async () => {
    const { userId, token } = await signedIn(["openid"], { claims: FULL_CLAIMS });
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({ sub: userId });
  });

  it("profile → the profile claims and updated_at [cs: oidcc-scope-profile]", async () => {
    const { userId, token } = await signedIn(["openid", "profile"], { claims: FULL_CLAIMS, updatedAt: 1_700_000_000 });
    const claims = await claimsOf(await userinfo({ headers: bearer(token) }));
    const expected: Record<string, unknown> = { sub: userId, updated_at: 1_700_000_000 };
    for (const name of PROFILE) expected[name] = FULL_CLAIMS[name];
    expect(claims).toEqual(expected);
  });

  it("email → email and email_verified [cs: oidcc-scope-email]", async () => {
    const { userId, token } = await signedIn(["openid", "email"], { email: "Ada@Example.com", emailVerified: false, claims: FULL_CLAIMS });
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({ sub: userId, email: "Ada@Example.com", email_verified: false });
  });

  it("address → the address object [cs: oidcc-scope-address]", async () => {
    const { userId, token } = await signedIn(["openid", "address"], { claims: FULL_CLAIMS });
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({ sub: userId, address: FULL_CLAIMS.address });
  });

  it("phone → phone_number and phone_number_verified [cs: oidcc-scope-phone]", async () => {
    const { userId, token } = await signedIn(["openid", "phone"], { claims: FULL_CLAIMS });
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({
      sub: userId,
      phone_number: FULL_CLAIMS.phone_number,
      phone_number_verified: true,
    });
  });

  it("all four scopes → every standard claim [cs: oidcc-scope-all]", async () => {
    const { userId, token } = await signedIn(["openid", "profile", "email", "address", "phone"], { claims: FULL_CLAIMS, updatedAt: 1_700_000_000 });
    const claims = await claimsOf(await userinfo({ headers: bearer(token) }));
    expect(claims).toMatchObject({ sub: userId, email_verified: true, address: FULL_CLAIMS.address, phone_number: FULL_CLAIMS.phone_number, updated_at: 1_700_000_000 });
    for (const name of PROFILE) expect(claims[name], name).toBe(FULL_CLAIMS[name]);
    expect(Object.keys(claims)).toHaveLength(1 + PROFILE.length + 1 + 2 + 1 + 2);
  });

  it("claims the user does not have are omitted, not null (§5.3.2)", async () => {
    const { userId, token } = await signedIn(["openid", "profile", "address", "phone"], {
      claims: { given_name: "Grace", nickname: "", address: {} },
      updatedAt: 1_700_000_001,
    });
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({ sub: userId, given_name: "Grace", updated_at: 1_700_000_001 });
  });

  it("scopes other than the §5.4 ones add nothing", async () => {
    const { userId, token } = await signedIn(["openid", "offline_access", "read"], { claims: FULL_CLAIMS });
    expect(await claimsOf(await userinfo({ headers: bearer(token) }))).toEqual({ sub: userId });
  });
});

describe("UserInfo refuses tokens whose grant or user is gone (issue 3)", () => {
  it("without openid in the token's scope → 403 insufficient_scope", async () => {
    const { token } = await signedIn(["profile"]);
    await expectError(await userinfo({ headers: bearer(token) }), 403, "insufficient_scope", "insufficient_scope");
  });

  it("consent withdrawn → 401 invalid_token (token_consent_revoked)", async () => {
    const { userId, clientId, token } = await signedIn(["openid"]);
    expect((await userinfo({ headers: bearer(token) })).status).toBe(200);
    await d1ConsentStore(env.DB).revoke(userId, clientId);
    const res = await userinfo({ headers: bearer(token) });
    await expectError(res, 401, "invalid_token", "token_consent_revoked");
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("consent withdrawn and given again (a new grant id) → the old token stays refused", async () => {
    const { userId, clientId, token, grantId } = await signedIn(["openid"]);
    const consents = d1ConsentStore(env.DB);
    await consents.revoke(userId, clientId);
    const again = await consents.grant(userId, clientId, ["openid"], nowSeconds());
    expect(again.grantId).not.toBe(grantId);
    await expectError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "token_consent_revoked");
  });

  it("consent widened (same grant id) → the token keeps working", async () => {
    const { userId, clientId, token } = await signedIn(["openid"]);
    await d1ConsentStore(env.DB).grant(userId, clientId, ["profile"], nowSeconds());
    expect((await userinfo({ headers: bearer(token) })).status).toBe(200);
  });

  it("a disabled user → 401 invalid_token", async () => {
    const { userId, token } = await signedIn(["openid"]);
    await env.DB.prepare("UPDATE users SET disabled = 1 WHERE id = ?").bind(userId).run();
    await expectError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "invalid_token");
  });

  it("a deleted user → 401 invalid_token", async () => {
    const { userId, token } = await signedIn(["openid"]);
    await env.DB.prepare("DELETE FROM users WHERE id = ?").bind(userId).run();
    await expectError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "invalid_token");
  });

  it("a token without a grant id (client_credentials style) → 401 invalid_token", async () => {
    const userId = await insertUser();
    const now = nowSeconds();
    const keys = await keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, now);
    const { token } = await issueAccessToken({ sub: userId, clientId: uniqueId("client"), scope: ["openid"] }, { config: configFrom(env), keys, now });
    await expectError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "invalid_token");
  });
});

describe("UserInfo CORS (RFC 9700 §2.6 allows it here; the bearer token is the only credential)", () => {
  it("answers and errors carry Access-Control-Allow-Origin: * and expose WWW-Authenticate", async () => {
    const { token } = await signedIn(["openid"]);
    for (const res of [await userinfo({ headers: { ...bearer(token), origin: "https://app.example" } }), await userinfo({ headers: { origin: "https://app.example" } })]) {
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-expose-headers")).toMatch(/www-authenticate/i);
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("preflight: 204 allowing GET and POST with Authorization", async () => {
    const res = await userinfo({
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toMatch(/GET.*POST|POST.*GET/);
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });
});

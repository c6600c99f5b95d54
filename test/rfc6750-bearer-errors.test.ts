import { env } from "cloudflare:workers";
import { SignJWT, base64url, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { d1ConsentStore } from "../src/consent/store";
import { OAuthError } from "../src/errors/oauth-error";
import { keyring } from "../src/keys/keyring";
import { d1KeyStore } from "../src/keys/store";
import { issueAccessToken } from "../src/tokens/access-token";
import { issueIdToken } from "../src/tokens/id-token";
import { isRevoked, revokeAccessToken } from "../src/tokens/revocation";
import { verifyAccessToken } from "../src/tokens/verify-access-token";
import { ISSUER, call, expectError, keyPair, nowSeconds, uniqueId } from "./helpers";

// ── fixture ───────────────────────────────────────────────────────────────────────────────────
/** A UserInfo request to the Worker under test. */
function userinfo(init: RequestInit = {}, query = ""): Promise<Response> {
  return call(`${ISSUER}/userinfo${query}`, init);
}

const config = configFrom(env);
const keys = () => keyring(d1KeyStore(env.DB), env.ENCRYPTION_KEY, nowSeconds());

/** A user with consent for a client; `mint` signs access tokens under that consent (claims may be overridden). */
async function fixture(scope = ["openid"]) {
  const userId = uniqueId("user");
  const now = nowSeconds();
  await env.DB.prepare("INSERT INTO users (id, email, email_verified, claims, disabled, created_at, updated_at) VALUES (?, ?, 1, '{}', 0, ?, ?)")
    .bind(userId, `${userId}@example.com`, now, now)
    .run();
  const clientId = uniqueId("client");
  const { grantId } = await d1ConsentStore(env.DB).grant(userId, clientId, scope, now);
  const issue = async (at = nowSeconds()) =>
    issueAccessToken({ sub: userId, clientId, scope, grantId }, { config, keys: await keys(), now: at });
  /** Signs arbitrary claims and header with our real ES256 key. */
  const mint = async (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
    const signer = await (await keys()).signer("ES256");
    const t = nowSeconds();
    const body: Record<string, unknown> = {
      iss: ISSUER, sub: userId, aud: ISSUER, client_id: clientId, scope: scope.join(" "), jti: crypto.randomUUID(),
      iat: t, exp: t + 300, gid: grantId, ...claims,
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    return new SignJWT(body).setProtectedHeader({ alg: "ES256", kid: signer.kid, typ: "at+jwt", ...header }).sign(signer.key);
  };
  return { userId, clientId, grantId, issue, mint };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const form = (fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** An RFC 6750 §3 error: the catalog's JSON body and a Bearer challenge naming the error. */
async function expectBearerError(res: Response, status: number, error: string, code?: string) {
  const body = await expectError(res, status, error, code);
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^Bearer realm="https:\/\/latchkey\.test", /);
  expect(challenge).toContain(`error="${error}"`);
  expect(challenge).toContain(`error_description="${body.error_description}"`);
  return { body, challenge };
}

// ── tests ─────────────────────────────────────────────────────────────────────────────────────
describe("RFC 6750 §3.1 no credentials: 401, a challenge without an error attribute", () => {
  for (const [name, init] of [
    ["GET without Authorization", {}],
    ["POST without a body", { method: "POST" }],
    ["POST with a form body lacking access_token", form({ other: "x" })],
    ["another auth scheme (Basic)", { headers: { authorization: "Basic YTpi" } }],
  ] as const) {
    it(name, async () => {
      const res = await userinfo(init as RequestInit);
      await expectError(res, 401, "invalid_request", "bearer_token_missing");
      // RFC 9449 §7.2: both schemes are accepted, so both challenges, neither naming an error.
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="https:\/\/latchkey\.test", DPoP algs="[^"]+"$/);
    });
  }
});

describe("RFC 6750 §2 how the token is sent", () => {
  it("§2.3 / RFC 9700 §4.3.2: a token in the query string is refused (400 invalid_request), even with a header", async () => {
    const { issue } = await fixture();
    const { token } = await issue();
    await expectBearerError(await userinfo({}, `?access_token=${token}`), 400, "invalid_request", "invalid_request");
    await expectBearerError(await userinfo({ headers: bearer(token) }, `?access_token=${token}`), 400, "invalid_request", "invalid_request");
  });

  it("§2: header and form body at once → 400 invalid_request (multiple_bearer_tokens)", async () => {
    const { issue } = await fixture();
    const { token } = await issue();
    await expectBearerError(await userinfo(form({ access_token: token }, bearer(token))), 400, "invalid_request", "multiple_bearer_tokens");
  });

  it("§2.2: access_token twice in the body → 400", async () => {
    const { issue } = await fixture();
    const { token } = await issue();
    const res = await userinfo({ method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `access_token=${token}&access_token=${token}` });
    await expectBearerError(res, 400, "invalid_request", "duplicate_parameter");
  });

  it("§2.2: a non-form body is not read for a token; the header still works", async () => {
    const { userId, issue } = await fixture();
    const { token } = await issue();
    const res = await userinfo({ method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify({ access_token: "x" }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sub: string }).sub).toBe(userId);
  });

  it("§2.1: a Bearer header without a token68 credential → 400 invalid_request", async () => {
    for (const authorization of ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b", 'Bearer "abc"']) {
      await expectBearerError(await userinfo({ headers: { authorization } }), 400, "invalid_request", "invalid_request");
    }
  });
});

describe("RFC 6750 §3.1 invalid_token (401) with a Bearer challenge", () => {
  it("malformed: not a JWT", async () => {
    for (const token of ["abc", "a.b.c", "a.b", `${"A".repeat(5000)}.b.c`]) {
      await expectBearerError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "invalid_token");
    }
  });

  it("forged: our kid, someone else's key", async () => {
    const { mint } = await fixture();
    const genuine = await mint();
    const { privateKey } = await keyPair("ES256");
    const [, payload] = genuine.split(".");
    const forged = await new SignJWT(JSON.parse(new TextDecoder().decode(base64url.decode(payload!))))
      .setProtectedHeader(decodeProtectedHeader(genuine) as { alg: string })
      .sign(privateKey);
    await expectBearerError(await userinfo({ headers: bearer(forged) }), 401, "invalid_token", "invalid_token");
  });

  it("forged: the signature of a valid token over a changed payload", async () => {
    const { mint, userId } = await fixture();
    const [h, , s] = (await mint()).split(".");
    const other = await mint({ sub: `${userId}-other` });
    const spliced = `${h}.${other.split(".")[1]}.${s}`;
    await expectBearerError(await userinfo({ headers: bearer(spliced) }), 401, "invalid_token", "invalid_token");
  });

  it("alg none, an unknown kid, an alg that is not the key's → invalid_token", async () => {
    const { mint } = await fixture();
    const genuine = await mint();
    const [, payload] = genuine.split(".");
    const { kid } = decodeProtectedHeader(genuine);
    const none = `${base64url.encode(JSON.stringify({ alg: "none", kid, typ: "at+jwt" }))}.${payload}.`;
    const unknownKid = await mint({}, { kid: "not-a-key-of-ours" });
    const { privateKey } = await keyPair("RS256");
    const wrongAlg = await new SignJWT({ iss: ISSUER }).setProtectedHeader({ alg: "RS256", kid, typ: "at+jwt" }).sign(privateKey);
    for (const [token, why] of [[none, /signed JWT/], [unknownKid, /key of this server/], [wrongAlg, /alg/]] as const) {
      const { body } = await expectBearerError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "invalid_token");
      expect(body.error_description).toMatch(why);
    }
  });

  it("expired (issued an hour ago) → token_expired; within the clock skew still accepted", async () => {
    const { issue, mint } = await fixture();
    const { token } = await issue(nowSeconds() - 3600);
    await expectBearerError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "token_expired");
    const edge = await mint({ exp: nowSeconds() - 5 });
    expect((await userinfo({ headers: bearer(edge) })).status).toBe(200);
  });

  it("revoked (on the revocation list) → token_revoked", async () => {
    const { issue } = await fixture();
    const { token, jti } = await issue();
    expect((await userinfo({ headers: bearer(token) })).status).toBe(200);
    const now = nowSeconds();
    await revokeAccessToken(env.KV, jti, now + 600, now);
    await expectBearerError(await userinfo({ headers: bearer(token) }), 401, "invalid_token", "token_revoked");
  });

  it("issued by another issuer (even signed with our key) → invalid_token", async () => {
    const { mint } = await fixture();
    for (const iss of ["https://evil.example", `${ISSUER}/`, "https://LATCHKEY.test"]) {
      await expectBearerError(await userinfo({ headers: bearer(await mint({ iss })) }), 401, "invalid_token", "invalid_token");
    }
  });

  it("not an access token: an ID token (typ JWT) or a JWT without typ → invalid_token (RFC 9068 §4)", async () => {
    const { userId, clientId, mint } = await fixture();
    const idToken = await issueIdToken({ sub: userId, clientId, alg: "ES256", ttl: 300 }, { config, keys: await keys(), now: nowSeconds() });
    await expectBearerError(await userinfo({ headers: bearer(idToken) }), 401, "invalid_token", "invalid_token");
    await expectBearerError(await userinfo({ headers: bearer(await mint({}, { typ: undefined })) }), 401, "invalid_token", "invalid_token");
    expect((await userinfo({ headers: bearer(await mint({}, { typ: "application/at+JWT" })) })).status).toBe(200);
  });

  it("an audience other than the issuer / default access-token audience → invalid_token (RFC 8707)", async () => {
    const { mint } = await fixture();
    await expectBearerError(await userinfo({ headers: bearer(await mint({ aud: "https://api.other.example" })) }), 401, "invalid_token", "invalid_token");
    expect((await userinfo({ headers: bearer(await mint({ aud: ["https://api.other.example", ISSUER] })) })).status).toBe(200);
  });

  it("a required claim missing or mistyped → invalid_token", async () => {
    const { mint } = await fixture();
    for (const claims of [{ jti: undefined }, { sub: undefined }, { client_id: undefined }, { exp: undefined }, { exp: "soon" }, { scope: ["openid"] }, { gid: 7 }]) {
      const res = await userinfo({ headers: bearer(await mint(claims)) });
      await expectBearerError(res, 401, "invalid_token", "invalid_token");
    }
  });
});

describe("RFC 6750 §3.1 insufficient_scope (403)", () => {
  it("names the needed scope in the challenge", async () => {
    const { issue } = await fixture(["profile", "email"]);
    const { token } = await issue();
    const { challenge } = await expectBearerError(await userinfo({ headers: bearer(token) }), 403, "insufficient_scope", "insufficient_scope");
    expect(challenge).toContain('scope="openid"');
  });
});

describe("other methods", () => {
  it("PUT and DELETE → 405 with Allow (RFC 9110 §15.5.6)", async () => {
    for (const method of ["PUT", "DELETE"]) {
      const res = await userinfo({ method });
      await expectError(res, 405, "invalid_request", "method_not_allowed");
      expect(res.headers.get("allow")).toBe("GET, POST, OPTIONS");
    }
  });
});

describe("verifyAccessToken throws only OAuthError for bad input", () => {
  it("garbage of every shape", async () => {
    const deps = { config, keys: await keys(), kv: env.KV, now: nowSeconds() };
    const header = (h: unknown) => base64url.encode(JSON.stringify(h));
    const inputs = [
      "", ".", "..", "a.b.c", "é.b.c", `${header("x")}.e30.c`, `${header({ alg: "ES256", typ: "at+jwt" })}.e30.c`,
      `${header({ alg: "ES256", typ: "at+jwt", kid: 5 })}.e30.c`, `${base64url.encode("{")}.e30.c`,
      `${header({ alg: "ES256", typ: "at+jwt", kid: "k", crit: ["x"] })}.e30.c`,
    ];
    for (const token of inputs) {
      const error = await verifyAccessToken(token, deps).then(() => undefined, (e: unknown) => e);
      expect(error, token).toBeInstanceOf(OAuthError);
      expect((error as OAuthError).entry.error).toBe("invalid_token");
    }
  });

  it("returns the claims of a good token", async () => {
    const { issue, userId, clientId, grantId } = await fixture();
    const { token, jti } = await issue();
    const claims = await verifyAccessToken(token, { config, keys: await keys(), kv: env.KV, now: nowSeconds() });
    expect(claims).toMatchObject({ iss: ISSUER, sub: userId, client_id: clientId, scope: "openid", gid: grantId, jti });
  });
});

describe("the access-token revocation list (KV)", () => {
  async function expirationOf(jti: string) {
    const { keys: listed } = await env.KV.list({ prefix: `revoked:at:${jti}` });
    return listed.map((k) => k.expiration);
  }

  it("keeps an entry until the token's exp", async () => {
    const now = nowSeconds();
    const jti = uniqueId("jti");
    expect(await isRevoked(env.KV, jti)).toBe(false);
    await revokeAccessToken(env.KV, jti, now + 600, now);
    expect(await isRevoked(env.KV, jti)).toBe(true);
    const [expiration] = await expirationOf(jti);
    expect(expiration).toBeGreaterThanOrEqual(now + 599);
    expect(expiration).toBeLessThanOrEqual(now + 602);
  });

  it("at least KV's 60 s minimum, even for a token about to expire", async () => {
    const now = nowSeconds();
    const jti = uniqueId("jti");
    await revokeAccessToken(env.KV, jti, now + 5, now);
    const [expiration] = await expirationOf(jti);
    expect(expiration).toBeGreaterThanOrEqual(now + 59);
  });

  it("writes nothing for a token long expired", async () => {
    const now = nowSeconds();
    const jti = uniqueId("jti");
    await revokeAccessToken(env.KV, jti, now - 3600, now);
    expect(await expirationOf(jti)).toEqual([]);
  });
});

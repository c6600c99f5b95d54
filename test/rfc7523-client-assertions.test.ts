import { env } from "cloudflare:workers";
import { generateSecret } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authenticateClient } from "../src/client-auth";
import { audienceAccepted } from "../src/client-auth/assertion";
import { clearClientKeyCaches } from "../src/client-auth/client-keys";
import type { AudienceRule } from "../src/client-auth/types";
import { d1ClientStore } from "../src/clients/store";
import { configFrom } from "../src/config";
import { durableReplayCache } from "../src/replay/replay-cache";
import {
  ISSUER, JWT_BEARER, TOKEN_ENDPOINT, assertion, call, createClient, expectError, keyPair, nowSeconds, tokenRequest, type KeyPair,
} from "./helpers";

const CC = { grant_type: "client_credentials" };
const utf8 = (s: string) => new TextEncoder().encode(s);

function formRequest(path: string, form: Record<string, string>) {
  return call(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
}

function send(jwt: string, extra: Record<string, string> = {}) {
  return tokenRequest({ ...CC, client_assertion_type: JWT_BEARER, client_assertion: jwt, ...extra });
}

async function pkjClient(alg = "ES256", opts: Record<string, unknown> = {}): Promise<{ id: string; key: KeyPair }> {
  const key = await keyPair(alg, crypto.randomUUID());
  const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] }, ...opts });
  return { id: c.client_id, key };
}

afterEach(() => {
  vi.restoreAllMocks();
  clearClientKeyCaches();
});

describe("RFC 7523 §2.2 / OIDC Core §9 private_key_jwt", () => {
  // Every asymmetric alg we accept (RFC 7518 §3.3–3.5, RFC 8037 §3.1), each with its own Web Crypto parameters.
  for (const alg of ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "Ed25519"]) {
    it(`accepts a valid ${alg} assertion`, async () => {
      const { id, key } = await pkjClient(alg);
      const res = await send(await assertion(id, key.privateKey, { alg, header: { kid: key.publicJwk.kid } }));
      expect(res.status, await res.clone().text()).toBe(200);
    });
  }

  it("accepts the token endpoint URL as aud, and aud as an array (RFC 7523 §3 item 3)", async () => {
    const { id, key } = await pkjClient();
    for (const aud of [TOKEN_ENDPOINT, [ISSUER, "https://other.example"]]) {
      const res = await send(await assertion(id, key.privateKey, { claims: { aud } }));
      expect(res.status).toBe(200);
    }
  });

  it("accepts a body client_id equal to sub (RFC 7523 §3.1)", async () => {
    const { id, key } = await pkjClient();
    const res = await send(await assertion(id, key.privateKey), { client_id: id });
    expect(res.status).toBe(200);
  });

  it("selects the key by kid among several", async () => {
    const a = await keyPair("ES256", "a");
    const b = await keyPair("ES256", "b");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [a.publicJwk, b.publicJwk] } });
    const res = await send(await assertion(c.client_id, b.privateKey, { header: { kid: "b" } }));
    expect(res.status).toBe(200);
  });

  const claimFailures: [string, Record<string, unknown>, string][] = [
    ["iss is not the client_id", { iss: "someone-else" }, "client_assertion_invalid_issuer"],
    ["iss is missing", { iss: undefined }, "client_assertion_invalid_issuer"],
    ["aud is another server", { aud: "https://evil.example" }, "client_assertion_invalid_audience"],
    ["aud is missing", { aud: undefined }, "client_assertion_invalid_audience"],
    ["exp is missing", { exp: undefined }, "client_assertion_expiration_required"],
    ["exp is not a number", { exp: "soon" }, "client_assertion_expiration_required"],
    ["exp is 5 minutes in the past", { exp: nowSeconds() - 300 }, "client_assertion_expired_token"],
    ["exp is an hour ahead", { exp: nowSeconds() + 3600 }, "client_assertion_expires_too_far_in_future"],
    ["nbf is 60 s in the future", { nbf: nowSeconds() + 60 }, "client_assertion_not_yet_valid"],
    ["iat is 60 s in the future", { iat: nowSeconds() + 60 }, "client_assertion_issued_at_in_future"],
    ["jti is missing", { jti: undefined }, "client_assertion_jti_required"],
    ["jti is empty", { jti: "" }, "client_assertion_jti_required"],
    ["jti is not a string", { jti: 42 }, "client_assertion_jti_required"],
  ];
  for (const [name, claims, code] of claimFailures) {
    it(`refuses an assertion whose ${name} (${code})`, async () => {
      const { id, key } = await pkjClient();
      const res = await send(await assertion(id, key.privateKey, { claims }));
      await expectError(res, 401, "invalid_client", code);
    });
  }

  it("accepts nbf and iat within the allowed skew (FAPI 2.0: 8 s ahead)", async () => {
    const { id, key } = await pkjClient();
    const res = await send(await assertion(id, key.privateKey, { claims: { nbf: nowSeconds() + 8, iat: nowSeconds() + 8 } }));
    expect(res.status).toBe(200);
  });

  it("refuses an assertion without sub when client_id names the client (invalid_subject)", async () => {
    const { id, key } = await pkjClient();
    const res = await send(await assertion(id, key.privateKey, { claims: { sub: undefined } }), { client_id: id });
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_subject");
  });

  it("refuses an assertion without sub or client_id", async () => {
    const { id, key } = await pkjClient();
    const res = await send(await assertion(id, key.privateKey, { claims: { sub: undefined } }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_subject");
  });

  it("refuses a body client_id that differs from sub", async () => {
    const { id, key } = await pkjClient();
    const res = await send(await assertion(id, key.privateKey), { client_id: "other" });
    await expectError(res, 401, "invalid_client", "client_id_mismatch");
  });

  it("refuses a signature made with another key", async () => {
    const { id, key } = await pkjClient();
    const other = await keyPair("ES256");
    const res = await send(await assertion(id, other.privateKey, { header: { kid: key.publicJwk.kid } }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature");
  });

  it("refuses a tampered payload", async () => {
    const { id, key } = await pkjClient();
    const [h, , s] = (await assertion(id, key.privateKey)).split(".");
    const forged = btoa(JSON.stringify({ iss: id, sub: id, aud: ISSUER, exp: nowSeconds() + 60, jti: "x" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const res = await send(`${h}.${forged}.${s}`);
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature");
  });

  it("refuses a signature that does not fit the alg's form (RFC 7518 §3.4: ES256 is 64 octets)", async () => {
    const { id, key } = await pkjClient();
    const [h, p, s] = (await assertion(id, key.privateKey)).split(".");
    const raw = Uint8Array.fromBase64(s!, { alphabet: "base64url" });
    for (const signature of [raw.subarray(0, 63), new Uint8Array([...raw, 0]), new Uint8Array()]) {
      const res = await send(`${h}.${p}.${signature.toBase64({ alphabet: "base64url", omitPadding: true })}`);
      await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature");
    }
    await expectError(await send(`${h}.${p}.${s}=`), 401, "invalid_client", "client_assertion_invalid_signature");
  });

  it("refuses a header with crit: we understand no JWS extension (RFC 7515 §4.1.11)", async () => {
    const { id, key } = await pkjClient();
    const enc = (o: object) => utf8(JSON.stringify(o)).toBase64({ alphabet: "base64url", omitPadding: true });
    const input = `${enc({ alg: "ES256", crit: ["urn:example:ext"], "urn:example:ext": true })}.${enc({
      iss: id, sub: id, aud: ISSUER, exp: nowSeconds() + 60, jti: crypto.randomUUID(),
    })}`;
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey as CryptoKey, utf8(input)));
    const res = await send(`${input}.${signature.toBase64({ alphabet: "base64url", omitPadding: true })}`);
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature");
  });

  it("refuses alg none (RFC 8725 §3.1)", async () => {
    const { id } = await pkjClient();
    const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const jwt = `${enc({ alg: "none" })}.${enc({ iss: id, sub: id, aud: ISSUER, exp: nowSeconds() + 60, jti: "n" })}.`;
    const res = await send(jwt);
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature_algorithm");
  });

  it("refuses an HMAC assertion keyed with the client's public key (algorithm confusion, RFC 8725 §2.1)", async () => {
    const { id, key } = await pkjClient("RS256");
    const publicKeyAsSecret = utf8(JSON.stringify(key.publicJwk));
    const res = await send(await assertion(id, publicKeyAsSecret, { alg: "HS256" }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature_algorithm");
  });

  it("refuses an alg other than the registered token_endpoint_auth_signing_alg", async () => {
    const key = await keyPair("ES256");
    const rsa = await keyPair("RS256");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", token_endpoint_auth_signing_alg: "ES256",
      jwks: { keys: [key.publicJwk, rsa.publicJwk] } });
    const res = await send(await assertion(c.client_id, rsa.privateKey, { alg: "RS256" }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature_algorithm");
  });

  it("refuses an unknown kid", async () => {
    const { id, key } = await pkjClient();
    const res = await send(await assertion(id, key.privateKey, { header: { kid: "nope" } }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_kid");
  });

  it("refuses an assertion without kid when several keys fit (ambiguous)", async () => {
    const a = await keyPair("ES256", "a");
    const b = await keyPair("ES256", "b");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [a.publicJwk, b.publicJwk] } });
    const res = await send(await assertion(c.client_id, a.privateKey));
    await expectError(res, 401, "invalid_client", "client_assertion_ambiguous_key");
  });

  it("refuses an alg for which the client registered no key", async () => {
    const { id } = await pkjClient("ES256");
    const rsa = await keyPair("RS256");
    const res = await send(await assertion(id, rsa.privateKey, { alg: "RS256" }));
    await expectError(res, 401, "invalid_client", "jwks_uri_no_key");
  });

  const garbage: [string, string][] = [
    ["not a JWT", "garbage"],
    ["two segments", "a.b"],
    ["undecodable header", "!!.e30.sig"],
    ["a JSON array payload", `${btoa('{"alg":"ES256"}')}.${btoa("[1]")}.c2ln`],
    ["a JWE (five segments)", "a.b.c.d.e"],
  ];
  for (const [name, jwt] of garbage) {
    it(`refuses ${name} as client_assertion_invalid_jwt`, async () => {
      await expectError(await send(jwt), 401, "invalid_client", "client_assertion_invalid_jwt");
    });
  }

  it("refuses a wrong or missing client_assertion_type", async () => {
    const { id, key } = await pkjClient();
    const jwt = await assertion(id, key.privateKey);
    await expectError(await tokenRequest({ ...CC, client_assertion_type: "urn:x", client_assertion: jwt }), 401, "invalid_client", "unsupported_client_assertion_type");
    await expectError(await tokenRequest({ ...CC, client_assertion: jwt }), 401, "invalid_client", "unsupported_client_assertion_type");
    await expectError(await tokenRequest({ ...CC, client_assertion_type: JWT_BEARER }), 401, "invalid_client", "client_assertion_missing");
  });

  it("refuses an assertion for a client registered for client_secret_basic", async () => {
    const key = await keyPair("ES256");
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await send(await assertion(c.client_id, key.privateKey));
    await expectError(res, 401, "invalid_client", "invalid_token_endpoint_auth_method");
  });
});

describe("OIDC Core §9 jti: single use until exp", () => {
  it("refuses the same assertion twice", async () => {
    const { id, key } = await pkjClient();
    const jwt = await assertion(id, key.privateKey);
    expect((await send(jwt)).status).toBe(200);
    await expectError(await send(jwt), 401, "invalid_client", "client_assertion_already_used");
  });

  it("of 12 concurrent requests with one assertion, exactly one succeeds", async () => {
    const { id, key } = await pkjClient();
    const jwt = await assertion(id, key.privateKey);
    const results = await Promise.all(Array.from({ length: 12 }, () => send(jwt)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(11);
    for (const r of results.filter((r) => r.status === 401)) {
      expect(((await r.json()) as { error_code: string }).error_code).toBe("client_assertion_already_used");
    }
  });

  it("a jti used by one client does not block another client", async () => {
    const a = await pkjClient();
    const b = await pkjClient();
    const jti = crypto.randomUUID();
    expect((await send(await assertion(a.id, a.key.privateKey, { claims: { jti } }))).status).toBe(200);
    expect((await send(await assertion(b.id, b.key.privateKey, { claims: { jti } }))).status).toBe(200);
  });

  it("a failed signature does not burn the jti", async () => {
    const { id, key } = await pkjClient();
    const other = await keyPair("ES256");
    const jti = crypto.randomUUID();
    expect((await send(await assertion(id, other.privateKey, { claims: { jti } }))).status).toBe(401);
    expect((await send(await assertion(id, key.privateKey, { claims: { jti } }))).status).toBe(200);
  });
});

describe("private_key_jwt with jwks_uri", () => {
  function serveJwks(sets: object[]) {
    const calls: string[] = [];
    const real = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://client.example/")) return real(input, init);
      calls.push(url);
      const set = sets[Math.min(calls.length - 1, sets.length - 1)];
      if (url.endsWith("/down")) return new Response("nope", { status: 503 });
      if (url.endsWith("/html")) return new Response("<html>", { status: 200 });
      if (url.endsWith("/huge")) return new Response(new Blob([`{"keys":[${" ".repeat(70 * 1024)}]}`]).stream(), { status: 200 });
      return Response.json(set);
    });
    return calls;
  }

  it("fetches the client's keys and caches them", async () => {
    const key = await keyPair("ES256", "k1");
    const calls = serveJwks([{ keys: [key.publicJwk] }]);
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/jwks" });
    for (let i = 0; i < 3; i++) {
      const res = await send(await assertion(c.client_id, key.privateKey, { header: { kid: "k1" } }));
      expect(res.status).toBe(200);
    }
    expect(calls).toHaveLength(1);
  });

  it("refetches once when the assertion names a kid the cached set lacks (client key rotation)", async () => {
    const old = await keyPair("ES256", "old");
    const rotated = await keyPair("ES256", "new");
    const calls = serveJwks([{ keys: [old.publicJwk] }, { keys: [rotated.publicJwk] }]);
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/rotating" });
    expect((await send(await assertion(c.client_id, old.privateKey, { header: { kid: "old" } }))).status).toBe(200);
    expect((await send(await assertion(c.client_id, rotated.privateKey, { header: { kid: "new" } }))).status).toBe(200);
    expect(calls).toHaveLength(2);
  });

  it("RFC 7518 §3.3: an RSA key under 2048 bits at the jwks_uri is refused (client_assertion_invalid_jwks)", async () => {
    const weak = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const { n, e } = (await crypto.subtle.exportKey("jwk", weak.publicKey)) as { n: string; e: string };
    const publicJwk = { kty: "RSA", n, e, kid: "weak" };
    serveJwks([{ keys: [publicJwk] }]);
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/weak" });
    // Signed by hand: jose will not sign with a key this small.
    const enc = (o: object) => utf8(JSON.stringify(o)).toBase64({ alphabet: "base64url", omitPadding: true });
    const input = `${enc({ alg: "RS256", kid: "weak" })}.${enc({
      iss: c.client_id, sub: c.client_id, aud: ISSUER, exp: nowSeconds() + 60, jti: crypto.randomUUID(),
    })}`;
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, weak.privateKey, utf8(input)));
    const res = await send(`${input}.${signature.toBase64({ alphabet: "base64url", omitPadding: true })}`);
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_jwks");
  });

  it("an unreachable jwks_uri is invalid_client (jwks_uri_error)", async () => {
    serveJwks([{}]);
    const key = await keyPair("ES256");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/down" });
    await expectError(await send(await assertion(c.client_id, key.privateKey)), 401, "invalid_client", "jwks_uri_error");
  });

  it("a jwks_uri that returns no JSON JWK Set is invalid_client", async () => {
    serveJwks([{}]);
    const key = await keyPair("ES256");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/html" });
    await expectError(await send(await assertion(c.client_id, key.privateKey)), 401, "invalid_client", "client_assertion_invalid_jwks");
  });

  it("a JWK Set larger than 64 KiB is refused while streaming (jwks_uri_error)", async () => {
    serveJwks([{}]);
    const key = await keyPair("ES256");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/huge" });
    await expectError(await send(await assertion(c.client_id, key.privateKey)), 401, "invalid_client", "jwks_uri_error");
  });

  it("an empty JWK Set is jwks_uri_no_key", async () => {
    serveJwks([{ keys: [] }]);
    const key = await keyPair("ES256");
    const c = await createClient({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://client.example/empty" });
    await expectError(await send(await assertion(c.client_id, key.privateKey)), 401, "invalid_client", "jwks_uri_no_key");
  });
});

describe("OIDC Core §9 client_secret_jwt", () => {
  for (const alg of ["HS256", "HS384", "HS512"]) {
    it(`accepts a valid ${alg} assertion keyed with the client secret`, async () => {
      const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
      const res = await send(await assertion(c.client_id, utf8(c.client_secret!), { alg }));
      expect(res.status, await res.clone().text()).toBe(200);
    });
  }

  it("refuses a secret shorter than the alg needs (RFC 7518 §3.2)", async () => {
    const secret = "a-43-character-secret-chosen-by-an-operator";
    const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt", client_secret: secret });
    const res = await send(await assertion(c.client_id, utf8(secret), { alg: "HS512" }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_secret_length");
  });

  it("refuses an HMAC with the wrong secret", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const res = await send(await assertion(c.client_id, await generateSecret("HS256", { extractable: true }) as CryptoKey, { alg: "HS256" }));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature");
  });

  it("refuses an asymmetric assertion from a client_secret_jwt client", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const key = await keyPair("ES256");
    const res = await send(await assertion(c.client_id, key.privateKey));
    await expectError(res, 401, "invalid_client", "client_assertion_invalid_signature_algorithm");
  });

  it("stores the secret sealed, not in the clear, and its hash for comparison", async () => {
    const { env } = await import("cloudflare:workers");
    const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const row = await env.DB.prepare("SELECT * FROM clients WHERE client_id = ?").bind(c.client_id).first<Record<string, string>>();
    expect(JSON.stringify(row)).not.toContain(c.client_secret!);
    expect(row!.client_secret_sealed).toMatch(/^v1\./);
  });
});

describe("RFC 7523 §3 item 3 / OIDC Core §9 aud: the issuer, or the URL of the endpoint being called", () => {
  const discovery = async () => (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, string>;
  /** One authenticated request to each endpoint that authenticates clients, as discovery advertises it. */
  const ENDPOINTS = {
    token_endpoint: (jwt: string) => send(jwt),
    revocation_endpoint: (jwt: string) => formRequest("/revoke", { token: "unknown", client_assertion_type: JWT_BEARER, client_assertion: jwt }),
    introspection_endpoint: (jwt: string) => formRequest("/introspect", { token: "unknown", client_assertion_type: JWT_BEARER, client_assertion: jwt }),
  } as const;

  it("each endpoint accepts its own advertised URL and the issuer, and refuses another endpoint's URL", async () => {
    const metadata = await discovery();
    const { id, key } = await pkjClient();
    for (const [name, request] of Object.entries(ENDPOINTS)) {
      const own = metadata[name]!;
      expect(own.startsWith(ISSUER)).toBe(true);
      for (const aud of [own, ISSUER, [own, "https://other.example"]]) {
        const res = await request(await assertion(id, key.privateKey, { claims: { aud } }));
        expect(res.status, `${name} with aud ${JSON.stringify(aud)}: ${await res.clone().text()}`).toBe(200);
      }
      for (const other of Object.keys(ENDPOINTS).filter((n) => n !== name)) {
        const res = await request(await assertion(id, key.privateKey, { claims: { aud: metadata[other] } }));
        await expectError(res, 401, "invalid_client", "client_assertion_invalid_audience");
      }
    }
  });

  it("client_secret_jwt: the same rule (introspection endpoint URL at introspection, not at the token endpoint)", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const aud = (await discovery()).introspection_endpoint;
    const jwt = () => assertion(c.client_id, utf8(c.client_secret!), { alg: "HS256", claims: { aud } });
    expect((await ENDPOINTS.introspection_endpoint(await jwt())).status).toBe(200);
    await expectError(await ENDPOINTS.token_endpoint(await jwt()), 401, "invalid_client", "client_assertion_invalid_audience");
  });

  it("the issuer-only rule (for FAPI 2.0 §5.3.2.1) accepts the issuer as a single string and nothing else", async () => {
    const endpoint = `${ISSUER}/introspect`;
    const rule = (aud: unknown, r: AudienceRule) => audienceAccepted(aud, ISSUER, { endpoint, rule: r });
    expect([ISSUER, endpoint, [endpoint], [ISSUER, "x"], `${ISSUER}/token`].map((aud) => rule(aud, "issuer-or-endpoint")))
      .toEqual([true, true, true, true, false]);
    expect([ISSUER, [ISSUER], endpoint, `${ISSUER}/`, undefined].map((aud) => rule(aud, "issuer"))).toEqual([true, false, false, false, false]);

    // Through the dispatcher: the rule is a parameter of client authentication.
    const { id, key } = await pkjClient();
    const now = nowSeconds();
    const deps = {
      config: configFrom(env), clients: d1ClientStore(env.DB), replay: durableReplayCache(env.REPLAY_GUARD, now),
      encryptionKey: env.ENCRYPTION_KEY, now,
    };
    const authenticate = async (aud: unknown, audienceRule?: AudienceRule) => authenticateClient({
      authorization: null, tls: undefined, endpoint, audienceRule,
      params: new Map([["client_assertion_type", JWT_BEARER], ["client_assertion", await assertion(id, key.privateKey, { claims: { aud } })]]),
    }, deps);
    await expect(authenticate(endpoint)).resolves.toMatchObject({ method: "private_key_jwt" });
    await expect(authenticate(endpoint, "issuer")).rejects.toMatchObject({ code: "client_assertion_invalid_audience" });
    await expect(authenticate([ISSUER], "issuer")).rejects.toMatchObject({ code: "client_assertion_invalid_audience" });
    await expect(authenticate(ISSUER, "issuer")).resolves.toMatchObject({ method: "private_key_jwt" });
  });
});

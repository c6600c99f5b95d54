import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { open, seal } from "../src/crypto/aead";
import { invalidateKeyring } from "../src/keys/keyring";
import { createSigningKey } from "../src/keys/provision";
import { d1KeyStore } from "../src/keys/store";
import { basic, call, createClient, nowSeconds, tokenRequest } from "./helpers";

const ROOT = env.ENCRYPTION_KEY;

describe("encryption at rest (AES-256-GCM under HKDF subkeys)", () => {
  it("round-trips, and binds purpose and row id as additional data", async () => {
    const sealed = await seal(ROOT, "client-secret", "row-1", "s3cret");
    expect(await open(ROOT, "client-secret", "row-1", sealed)).toBe("s3cret");
    await expect(open(ROOT, "client-secret", "row-2", sealed)).rejects.toThrow();
    await expect(open(ROOT, "signing-key", "row-1", sealed)).rejects.toThrow();
  });

  it("refuses a root key shorter than 32 bytes", async () => {
    await expect(seal("c2hvcnQ", "client-secret", "x", "y")).rejects.toThrow(/32 random bytes/);
  });
});

describe("signing keys", () => {
  it("private keys are stored sealed; the JWKS carries only public members", async () => {
    const rows = await env.DB.prepare("SELECT * FROM signing_keys").all<Record<string, string>>();
    expect(rows.results.length).toBeGreaterThanOrEqual(3);
    for (const row of rows.results) {
      expect(row.private_jwk_sealed).toMatch(/^v1\./);
      expect(JSON.parse(row.public_jwk!).d).toBeUndefined();
    }
  });

  it("a key in state next is published in the JWKS but does not sign", async () => {
    const kid = await createSigningKey(d1KeyStore(env.DB), ROOT, nowSeconds(), "ES256", "next");
    invalidateKeyring();
    const { keys } = (await (await call("/jwks")).json()) as { keys: { kid: string }[] };
    expect(keys.map((k) => k.kid)).toContain(kid);
    const c = await createClient({});
    const res = await tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
    const { access_token } = (await res.json()) as { access_token: string };
    expect(JSON.parse(atob(access_token.split(".")[0]!)).kid).not.toBe(kid);
    await env.DB.prepare("DELETE FROM signing_keys WHERE kid = ?").bind(kid).run();
    invalidateKeyring();
  });

  it("no request path generates a key: without a current key, issuing fails as server_error", async () => {
    const saved = await env.DB.prepare("SELECT * FROM signing_keys WHERE alg = 'ES256' AND state = 'current'").all();
    await env.DB.prepare("UPDATE signing_keys SET state = 'retired', expires_at = ? WHERE alg = 'ES256' AND state = 'current'").bind(nowSeconds() + 3600).run();
    invalidateKeyring();
    try {
      const c = await createClient({});
      const res = await tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
      expect(res.status).toBe(500);
      const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM signing_keys WHERE alg = 'ES256' AND state = 'current'").first<{ n: number }>();
      expect(count!.n).toBe(0);
    } finally {
      for (const row of saved.results as { kid: string }[]) {
        await env.DB.prepare("UPDATE signing_keys SET state = 'current', expires_at = NULL WHERE kid = ?").bind(row.kid).run();
      }
      invalidateKeyring();
    }
  });
});

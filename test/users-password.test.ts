import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/errors/oauth-error";
import { ITERATIONS, MAX_ITERATIONS, hashPassword, needsRehash, passwordProblem, verifyPassword } from "../src/users/password";
import { base64url } from "../src/crypto/encoding";

async function reference(password: string, salt: Uint8Array, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  return base64url(new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256)));
}

describe("password storage: PBKDF2-SHA-256 with per-user salt (issue 3; NIST SP 800-63B 3.1.1.2)", () => {
  it("stores pbkdf2-sha256$<iterations>$<16-byte salt>$<32-byte hash> at the Workers maximum of 100,000 iterations", async () => {
    const stored = await hashPassword("correct horse battery staple");
    const [scheme, iterations, salt, hash, ...rest] = stored.split("$");
    expect({ scheme, iterations: Number(iterations), rest }).toEqual({ scheme: "pbkdf2-sha256", iterations: 100_000, rest: [] });
    expect(ITERATIONS).toBe(100_000);
    expect(ITERATIONS).toBeLessThanOrEqual(MAX_ITERATIONS);
    expect(salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("the hash is PBKDF2-HMAC-SHA-256 of the password with the stored salt and count", async () => {
    const stored = await hashPassword("correct horse battery staple");
    const [, iterations, salt, hash] = stored.split("$");
    const saltBytes = Uint8Array.from(atob(salt!.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));
    expect(await reference("correct horse battery staple", saltBytes, Number(iterations))).toBe(hash);
  });

  it("each hash has its own random salt", async () => {
    const [a, b] = await Promise.all([hashPassword("same password"), hashPassword("same password")]);
    expect(a.split("$")[2]).not.toBe(b.split("$")[2]);
    expect(a.split("$")[3]).not.toBe(b.split("$")[3]);
  });

  it("round trip: the right password verifies, a wrong one does not", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(await verifyPassword("correct horse battery stapler", stored)).toBe(false);
    expect(await verifyPassword("", stored)).toBe(false);
  });

  it("Unicode passwords are compared after NFKC normalization", async () => {
    const stored = await hashPassword("caf\u00e9-password");
    expect(await verifyPassword("cafe\u0301-password", stored)).toBe(true);
  });

  it("an unknown user (no stored hash) and a wrong password get the same answer after a full PBKDF2 run", async () => {
    const stored = await hashPassword("correct horse battery staple");
    const time = async (f: () => Promise<boolean>) => {
      const start = performance.now();
      for (let i = 0; i < 3; i++) expect(await f()).toBe(false);
      return performance.now() - start;
    };
    const unknown = await time(() => verifyPassword("correct horse battery staple", null));
    const missing = await time(() => verifyPassword("correct horse battery staple", undefined));
    const wrong = await time(() => verifyPassword("wrong password!", stored));
    // Same order of magnitude: there is no fast path that would reveal an unknown account.
    expect(unknown).toBeGreaterThan(wrong / 3);
    expect(missing).toBeGreaterThan(wrong / 3);
  });

  it("malformed or over-limit stored hashes never verify (and never ask for more than 100,000 iterations)", async () => {
    const good = await hashPassword("correct horse battery staple");
    const [, , salt, hash] = good.split("$");
    for (const bad of [
      "",
      "plain",
      `pbkdf2-sha1$100000$${salt}$${hash}`,
      `pbkdf2-sha256$100001$${salt}$${hash}`,
      `pbkdf2-sha256$0$${salt}$${hash}`,
      `pbkdf2-sha256$1e5$${salt}$${hash}`,
      `pbkdf2-sha256$100000$${salt}$`,
      `pbkdf2-sha256$100000$!!$${hash}`,
      `${good}$extra`,
    ]) {
      expect(await verifyPassword("correct horse battery staple", bad), bad).toBe(false);
    }
  });

  it("needsRehash: true for fewer iterations or another format, false for a current hash", async () => {
    const current = await hashPassword("correct horse battery staple");
    expect(needsRehash(current)).toBe(false);
    const [, , salt, hash] = current.split("$");
    expect(needsRehash(`pbkdf2-sha256$10000$${salt}$${hash}`)).toBe(true);
    expect(needsRehash("$2b$10$legacybcrypthash")).toBe(true);
  });

  it("an older, lower iteration count still verifies (the count travels with the hash)", async () => {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const stored = `pbkdf2-sha256$1000$${base64url(salt)}$${await reference("correct horse battery staple", salt, 1000)}`;
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    expect(needsRehash(stored)).toBe(true);
  });

  it("policy on set: 8 to 256 characters, not only whitespace, with a clear error", async () => {
    expect(passwordProblem("12345678")).toBeUndefined();
    expect(passwordProblem("x".repeat(256))).toBeUndefined();
    expect(passwordProblem("1234567")).toMatch(/at least 8/);
    expect(passwordProblem("x".repeat(257))).toMatch(/at most 256/);
    expect(passwordProblem(" \t\n        ")).toMatch(/spaces/);
    expect(passwordProblem(12345678)).toMatch(/string/);
    // Length counts characters, not UTF-16 units: four emoji are four characters.
    expect(passwordProblem("\u{1F600}".repeat(4))).toMatch(/at least 8/);
    const err = await hashPassword("short").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).code).toBe("password_policy");
    expect((err as OAuthError).message).toMatch(/at least 8 characters/);
  });
});

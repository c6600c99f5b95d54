import { generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { subtleJwsParams } from "../src/keys/algorithms";
import { decodeJws, verifyJws } from "../src/tokens/jws";

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => bytes.toBase64({ alphabet: "base64url", omitPadding: true });
const b64json = (value: unknown) => b64(utf8(JSON.stringify(value)));

async function signed(alg: string, header: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const input = `${b64json({ alg, ...header })}.${b64json({ sub: "x" })}`;
  const signature = new Uint8Array(await crypto.subtle.sign(subtleJwsParams(alg, privateKey)!, privateKey, utf8(input)));
  return { token: `${input}.${b64(signature)}`, publicKey, privateKey };
}

/** An RSA key pair of `bits` bits for RS256, made with Web Crypto (jose refuses to make one under 2048). */
async function rsaPair(bits: number) {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  return pair;
}

describe("RFC 7515 §5.2 decodeJws and verifyJws, the one JWS signature check", () => {
  it("decodes the header from the token's own first part and verifies a valid signature", async () => {
    const { token, publicKey } = await signed("ES256", { kid: "k" });
    const jws = decodeJws(token)!;
    expect(jws.header).toEqual({ alg: "ES256", kid: "k" });
    expect(new TextDecoder().decode(jws.payload)).toBe('{"sub":"x"}');
    expect(await verifyJws(jws, publicKey)).toBe(true);
  });

  it("decodes only three base64url parts whose first is a JSON object", async () => {
    const { token } = await signed("ES256");
    const [h, p, s] = token.split(".");
    for (const bad of [`${h}.${p}`, `${h}.${p}.${s}.x`, `${h}`, `${b64(utf8("[1]"))}.${p}.${s}`, `${h}!.${p}.${s}`, `${h}.${p}=.${s}`, `.${p}.${s}`]) {
      expect(decodeJws(bad), bad).toBeUndefined();
    }
  });

  it("RFC 8725 §3.1: a key verifies only the alg it is a key for (algorithm, hash, curve)", async () => {
    const es256 = await generateKeyPair("ES256");
    const es384 = await generateKeyPair("ES384");
    const rs256 = await generateKeyPair("RS256");
    const ps256 = await generateKeyPair("PS256");
    expect(subtleJwsParams("ES256", es256.publicKey)).toEqual({ name: "ECDSA", hash: "SHA-256" });
    expect(subtleJwsParams("ES384", es256.publicKey)).toBeUndefined(); // P-256 key, P-384 alg
    expect(subtleJwsParams("ES256", es384.publicKey)).toBeUndefined();
    expect(subtleJwsParams("RS384", rs256.publicKey)).toBeUndefined(); // SHA-256 key, SHA-384 alg
    expect(subtleJwsParams("PS256", rs256.publicKey)).toBeUndefined(); // PKCS#1 v1.5 key, PSS alg
    expect(subtleJwsParams("PS256", ps256.publicKey)).toEqual({ name: "RSA-PSS", saltLength: 32 });
    expect(subtleJwsParams("HS256", es256.publicKey)).toBeUndefined();
    const hs256 = await crypto.subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    expect(subtleJwsParams("HS256", hs256)).toEqual({ name: "HMAC" });
    expect(subtleJwsParams("HS384", hs256)).toBeUndefined(); // SHA-256 key, HS384 alg
    expect(subtleJwsParams("none", es256.publicKey)).toBeUndefined();
    expect(subtleJwsParams("toString", es256.publicKey)).toBeUndefined(); // not an own member of the table
  });

  it("RFC 7518 §3.3: an RSA key under 2048 bits verifies nothing, even its own valid signature", async () => {
    const weak = await rsaPair(1024);
    const input = `${b64json({ alg: "RS256" })}.${b64json({ sub: "x" })}`;
    const signature = new Uint8Array(await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, weak.privateKey, utf8(input)));
    expect(subtleJwsParams("RS256", weak.publicKey)).toBeUndefined();
    expect(await verifyJws(decodeJws(`${input}.${b64(signature)}`)!, weak.publicKey)).toBe(false);
    const strong = await rsaPair(2048);
    expect(subtleJwsParams("RS256", strong.publicKey)).toEqual({ name: "RSASSA-PKCS1-v1_5" });
  });

  it("refuses a header whose alg does not fit the key, even with a valid signature", async () => {
    const { token, publicKey } = await signed("ES256");
    // The same signature bytes under a header that claims another alg: the header is the token's own.
    const [, p, s] = token.split(".");
    expect(await verifyJws(decodeJws(`${b64json({ alg: "ES384" })}.${p}.${s}`)!, publicKey)).toBe(false);
    expect(await verifyJws(decodeJws(`${b64json({})}.${p}.${s}`)!, publicKey)).toBe(false);
  });

  it("refuses crit (RFC 7515 §4.1.11), a signature over other bytes, and a malformed signature", async () => {
    const withCrit = await signed("ES256", { crit: ["exp"], exp: 1 });
    expect(await verifyJws(decodeJws(withCrit.token)!, withCrit.publicKey)).toBe(false);
    const { token, publicKey } = await signed("ES256");
    const [h, p, s] = token.split(".");
    for (const bad of [`${h}.${b64json({ sub: "y" })}.${s}`, `${h}.${p}.`, `${h}.${p}.${s}!`, `${h}.${p}.${s!.slice(0, -2)}`]) {
      const jws = decodeJws(bad);
      expect(jws === undefined || !(await verifyJws(jws, publicKey)), bad).toBe(true);
    }
  });
});

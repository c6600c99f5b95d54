import { generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { subtleJwsParams } from "../src/keys/algorithms";
import { verifyJws } from "../src/tokens/jws";

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (bytes: Uint8Array) => bytes.toBase64({ alphabet: "base64url", omitPadding: true });

async function signed(alg: string, header: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const input = `${b64(utf8(JSON.stringify({ alg, ...header })))}.${b64(utf8('{"sub":"x"}'))}`;
  const signature = new Uint8Array(await crypto.subtle.sign(subtleJwsParams(alg, privateKey)!, privateKey, utf8(input)));
  return { jws: `${input}.${b64(signature)}`, publicKey, header: { alg, ...header } };
}

describe("RFC 7515 §5.2 verifyJws, the one JWS signature check", () => {
  it("returns the payload of a valid signature", async () => {
    const { jws, publicKey, header } = await signed("ES256");
    expect(new TextDecoder().decode(await verifyJws(jws, header, publicKey))).toBe('{"sub":"x"}');
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
    expect(subtleJwsParams("none", es256.publicKey)).toBeUndefined();
    expect(subtleJwsParams("toString", es256.publicKey)).toBeUndefined(); // not an own member of the table
  });

  it("refuses a header whose alg does not fit the key, even with a valid signature", async () => {
    const { jws, publicKey } = await signed("ES256");
    expect(await verifyJws(jws, { alg: "ES384" }, publicKey)).toBeUndefined();
    expect(await verifyJws(jws, {}, publicKey)).toBeUndefined();
  });

  it("refuses crit, a malformed compact form, and a signature over other bytes", async () => {
    const { jws, publicKey, header } = await signed("ES256");
    expect(await verifyJws(jws, { ...header, crit: ["exp"] }, publicKey)).toBeUndefined();
    const [h, p, s] = jws.split(".");
    for (const bad of [`${h}.${p}`, `${h}.${p}.${s}.x`, `${h}..${s}`, `${h}.${p}.${s}!`, `${h}.${p}x.${s}`, `${h}.${p}.`]) {
      expect(await verifyJws(bad, header, publicKey), bad).toBeUndefined();
    }
  });
});

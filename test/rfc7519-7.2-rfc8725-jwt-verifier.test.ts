import { SignJWT, base64url, generateKeyPair, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import type { Keyring } from "../src/keys/keyring";
import {
  checkJwt, decodeJwt, isNonEmptyString, matchingKeys, ownKey, verifyJwt,
  type JwtFailureKind, type JwtRules, type OwnKeyRules,
} from "../src/tokens/verify-jwt";

/**
 * The one JWT verifier (src/tokens/verify-jwt.ts) against RFC 7519 §7.2 (validating a JWT) and
 * RFC 8725 §3 (JWT best current practice): every failure kind it returns, the order of its checks
 * (signature first, or claims first where a caller asks), the skew on every time claim, and the key
 * choices its callers share. The callers' own mappings to catalog codes are tested at their
 * endpoints (rfc7523, rfc6750, oidc-core-5.3, rfc7662, rfc7591-2.3, oidc-rp-initiated-logout).
 */

const NOW = 1_800_000_000;
const SKEW = 15;
const ISS = "https://issuer.example";
const { privateKey, publicKey } = await generateKeyPair("ES256");
const other = await generateKeyPair("ES256");

async function sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key: CryptoKey = privateKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", typ: "test+jwt", ...header }).sign(key);
}

/** A JWS made by hand (jose will not sign a crit it does not know): ES256 over Web Crypto, r‖s as RFC 7518 §3.4 says. */
async function signRaw(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** Rules a test changes one at a time: everything checked, the key given. */
function rules(overrides: Partial<JwtRules> = {}): JwtRules {
  return {
    typ: ["test+jwt"],
    alg: (alg) => alg === "ES256",
    key: publicKey,
    iss: ISS,
    sub: "alice",
    aud: (aud) => aud === "rp",
    expiry: "required",
    iatNotInFuture: true,
    required: { jti: isNonEmptyString },
    now: NOW,
    skew: SKEW,
    ...overrides,
  };
}

const GOOD = { iss: ISS, sub: "alice", aud: "rp", exp: NOW + 60, iat: NOW, jti: "j1" };

async function failureOf<R extends JwtRules>(token: string, r?: R): Promise<{ kind: JwtFailureKind; claim?: string } | undefined> {
  const result = await verifyJwt(token, r ?? rules());
  return result.ok ? undefined : { ...result.failure };
}

describe("RFC 7519 §7.2 / RFC 8725 §3: the one JWT verifier", () => {
  it("a JWT that meets every rule passes, and its claims come back as sent", async () => {
    const result = await verifyJwt(await sign(GOOD), rules());
    expect(result.ok && result.jwt.claims).toEqual(GOOD);
  });

  it("malformed (§7.2 steps 1–8): not three parts, a header or payload that is not a JSON object", async () => {
    const good = await sign(GOOD);
    const [h, p, s] = good.split(".");
    const b64 = (text: string) => btoa(text).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    for (const token of ["", "abc", "a.b", `${h}.${p}`, `${h}.${p}.${s}.x`, `${b64("[]")}.${p}.${s}`, `${h}.${b64("42")}.${s}`, `${h}.${b64("{")}.${s}`]) {
      expect(await failureOf(token), token).toEqual({ kind: "malformed" });
      expect(decodeJwt(token)).toBeUndefined();
    }
  });

  it("malformed time claims: nbf or iat that is not a number names the claim", async () => {
    expect(await failureOf(await sign({ ...GOOD, nbf: "soon" }))).toEqual({ kind: "malformed", claim: "nbf" });
    expect(await failureOf(await sign({ ...GOOD, iat: "now" }))).toEqual({ kind: "malformed", claim: "iat" });
  });

  it("typ (RFC 8725 §3.11): absent or another type; compared case-insensitively (RFC 7515 §4.1.9)", async () => {
    expect(await failureOf(await sign(GOOD, { typ: undefined }))).toEqual({ kind: "typ" });
    expect(await failureOf(await sign(GOOD, { typ: "at+jwt" }))).toEqual({ kind: "typ" });
    expect(await failureOf(await sign(GOOD, { typ: "TEST+JWT" }))).toBeUndefined();
    expect(await failureOf(await sign(GOOD, { typ: undefined }), rules({ typ: undefined }))).toBeUndefined();
  });

  it("alg (RFC 8725 §3.1): none is refused whatever the allow-list says, and so is an alg off the list", async () => {
    const [, p] = (await sign(GOOD)).split(".");
    const none = `${btoa(JSON.stringify({ alg: "none", typ: "test+jwt" })).replace(/=+$/, "")}.${p}.sig`;
    expect(await failureOf(none, rules({ alg: () => true }))).toEqual({ kind: "alg" });
    expect(await failureOf(await sign(GOOD), rules({ alg: (alg) => alg === "RS256" }))).toEqual({ kind: "alg" });
  });

  it("key_not_found: the caller's resolver found no key (and is never asked when alg already failed)", async () => {
    let asked = 0;
    const resolver = () => { asked++; return { kind: "key_not_found" as const }; };
    expect(await failureOf(await sign(GOOD), rules({ key: resolver }))).toEqual({ kind: "key_not_found" });
    expect(await failureOf(await sign(GOOD), rules({ key: resolver, alg: () => false }))).toEqual({ kind: "alg" });
    expect(asked).toBe(1);
  });

  it("signature (RFC 7515 §5.2): another signer, an altered payload, a crit header (no extension is understood)", async () => {
    expect(await failureOf(await sign(GOOD, {}, other.privateKey))).toEqual({ kind: "signature" });
    const [h, , s] = (await sign(GOOD)).split(".");
    const [, p2] = (await sign({ ...GOOD, sub: "mallory" })).split(".");
    expect(await failureOf(`${h}.${p2}.${s}`, rules({ sub: undefined }))).toEqual({ kind: "signature" });
    expect(await failureOf(await signRaw({ alg: "ES256", typ: "test+jwt", crit: ["x"], x: 1 }, GOOD))).toEqual({ kind: "signature" });
    expect(await failureOf(await signRaw({ alg: "ES256", typ: "test+jwt" }, GOOD))).toBeUndefined();
  });

  it("iss, sub, aud (RFC 7519 §4.1.1–4.1.3): the caller's expected values or rule", async () => {
    expect(await failureOf(await sign({ ...GOOD, iss: "https://evil.example" }))).toEqual({ kind: "iss" });
    expect(await failureOf(await sign({ ...GOOD, iss: undefined }))).toEqual({ kind: "iss" });
    expect(await failureOf(await sign({ ...GOOD, sub: "bob" }))).toEqual({ kind: "sub" });
    expect(await failureOf(await sign({ ...GOOD, aud: "other-rp" }))).toEqual({ kind: "aud" });
    expect(await failureOf(await sign({ ...GOOD, aud: "other-rp" }), rules({ aud: undefined }))).toBeUndefined();
    expect(await failureOf(await sign({ ...GOOD, iss: "x" }), rules({ iss: (iss) => iss === "x" }))).toBeUndefined();
  });

  it("expired (§4.1.4): at or before now − skew; within the skew still accepted", async () => {
    expect(await failureOf(await sign({ ...GOOD, exp: NOW - SKEW }))).toEqual({ kind: "expired" });
    expect(await failureOf(await sign({ ...GOOD, exp: NOW - SKEW + 1 }))).toBeUndefined();
  });

  it("exp required, when present, or not checked", async () => {
    expect(await failureOf(await sign({ ...GOOD, exp: undefined }))).toEqual({ kind: "missing_claim", claim: "exp" });
    expect(await failureOf(await sign({ ...GOOD, exp: "later" }))).toEqual({ kind: "missing_claim", claim: "exp" });
    expect(await failureOf(await sign({ ...GOOD, exp: undefined }), rules({ expiry: "when_present" }))).toBeUndefined();
    expect(await failureOf(await sign({ ...GOOD, exp: NOW - 3600 }), rules({ expiry: "when_present" }))).toEqual({ kind: "expired" });
    expect(await failureOf(await sign({ ...GOOD, exp: NOW - 3600 }), rules({ expiry: "not_checked" }))).toBeUndefined();
  });

  it("lifetime: exp further ahead than maxLifetime (RFC 7523 §3 item 4: a reasonable window)", async () => {
    expect(await failureOf(await sign({ ...GOOD, exp: NOW + 601 }), rules({ maxLifetime: 600 }))).toEqual({ kind: "lifetime" });
    expect(await failureOf(await sign({ ...GOOD, exp: NOW + 600 }), rules({ maxLifetime: 600 }))).toBeUndefined();
  });

  it("not_yet_valid (§4.1.5): nbf after now + skew", async () => {
    expect(await failureOf(await sign({ ...GOOD, nbf: NOW + SKEW + 1 }))).toEqual({ kind: "not_yet_valid" });
    expect(await failureOf(await sign({ ...GOOD, nbf: NOW + SKEW }))).toBeUndefined();
  });

  it("iat (§4.1.6): after now + skew when the caller refuses a future iat; older than maxAge (DPoP); required by maxAge", async () => {
    expect(await failureOf(await sign({ ...GOOD, iat: NOW + SKEW + 1 }))).toEqual({ kind: "iat" });
    expect(await failureOf(await sign({ ...GOOD, iat: NOW + SKEW }))).toBeUndefined();
    expect(await failureOf(await sign({ ...GOOD, iat: NOW + 3600 }), rules({ iatNotInFuture: false }))).toBeUndefined();
    const dpopLike = rules({ iatNotInFuture: false, maxAge: 60 });
    expect(await failureOf(await sign({ ...GOOD, iat: NOW - SKEW - 61 }), dpopLike)).toEqual({ kind: "iat" });
    expect(await failureOf(await sign({ ...GOOD, iat: NOW - SKEW - 60 }), dpopLike)).toBeUndefined();
    expect(await failureOf(await sign({ ...GOOD, iat: NOW + SKEW + 1 }), dpopLike)).toEqual({ kind: "iat" });
    expect(await failureOf(await sign({ ...GOOD, iat: undefined }), dpopLike)).toEqual({ kind: "missing_claim", claim: "iat" });
  });

  it("missing_claim: a required claim absent or not of its type, named", async () => {
    expect(await failureOf(await sign({ ...GOOD, jti: undefined }))).toEqual({ kind: "missing_claim", claim: "jti" });
    expect(await failureOf(await sign({ ...GOOD, jti: "" }))).toEqual({ kind: "missing_claim", claim: "jti" });
  });

  it("order: the signature first by default (RFC 7519 §7.2); claims first when the caller asks (client assertions)", async () => {
    const forgedAndExpired = await sign({ ...GOOD, exp: NOW - 3600 }, {}, other.privateKey);
    expect(await failureOf(forgedAndExpired)).toEqual({ kind: "signature" });
    expect(await failureOf(forgedAndExpired, rules({ claimsFirst: true }))).toEqual({ kind: "expired" });
  });

  it("checkJwt takes what is decoded already and decodes nothing again", async () => {
    const decoded = decodeJwt(await sign(GOOD))!;
    expect(await checkJwt(decoded, rules())).toBeUndefined();
    expect(await checkJwt({ jws: decoded.jws, claims: { ...GOOD, sub: "bob" } }, rules({ claimsFirst: true }))).toEqual({ kind: "sub" });
  });
});

describe("key choice shared by callers", () => {
  const ownRules = (keys: Keyring): OwnKeyRules => ({ ...rules(), key: ownKey, keys }) as unknown as OwnKeyRules;
  const keyring = (alg: string, kid: string): Keyring => ({
    verifier: async (k: string) => (k === kid ? { alg, key: publicKey } : undefined),
  }) as unknown as Keyring;

  it("ownKey: our key by kid, whose alg must be the header's (key_not_found: no kid or an unknown one; alg: another alg)", async () => {
    expect(await failureOf(await sign(GOOD, { kid: "k1" }), ownRules(keyring("ES256", "k1")))).toBeUndefined();
    expect(await failureOf(await sign(GOOD, { kid: "k2" }), ownRules(keyring("ES256", "k1")))).toEqual({ kind: "key_not_found" });
    expect(await failureOf(await sign(GOOD), ownRules(keyring("ES256", "k1")))).toEqual({ kind: "key_not_found" });
    expect(await failureOf(await sign(GOOD, { kid: "k1" }), ownRules(keyring("RS256", "k1")))).toEqual({ kind: "alg" });
  });

  it("matchingKeys: type and curve for the alg, alg/use/key_ops where given, the kid when named", async () => {
    const ec = { kty: "EC", crv: "P-256", x: "x", y: "y" };
    const keys: JWK[] = [
      { ...ec, kid: "a" },
      { ...ec, kid: "b", alg: "ES384" },
      { ...ec, kid: "c", use: "enc" },
      { ...ec, kid: "d", key_ops: ["encrypt"] },
      { ...ec, crv: "P-384", kid: "e" },
      { kty: "RSA", n: "n", e: "AQAB", kid: "f" },
      { ...ec, kid: "g", alg: "ES256", use: "sig", key_ops: ["verify"] },
    ];
    expect(matchingKeys(keys, "ES256", undefined).map((k) => k.kid)).toEqual(["a", "g"]);
    expect(matchingKeys(keys, "ES256", "g").map((k) => k.kid)).toEqual(["g"]);
    expect(matchingKeys(keys, "ES256", "f")).toEqual([]);
    expect(matchingKeys(keys, "RS256", undefined).map((k) => k.kid)).toEqual(["f"]);
  });
});

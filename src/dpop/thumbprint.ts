import { base64url, utf8 } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";

/**
 * The JWK SHA-256 thumbprint (RFC 7638 §3): the key's required members only, in lexicographic
 * order, no whitespace, hashed with SHA-256 and base64url-encoded. DPoP names a key by it
 * (`cnf.jkt`, `dpop_jkt`, RFC 9449 §6.1, §10). Undefined for a key type without a rule here or a
 * required member that is not a string.
 */
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ["crv", "kty", "x", "y"],
  RSA: ["e", "kty", "n"],
  OKP: ["crv", "kty", "x"],
};

export async function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): Promise<string | undefined> {
  const members = typeof jwk.kty === "string" && Object.hasOwn(REQUIRED, jwk.kty) ? REQUIRED[jwk.kty]! : undefined;
  if (members === undefined || !members.every((m) => typeof jwk[m] === "string")) return undefined;
  // JSON.stringify of strings gives RFC 7638 §3.3's form (the members are base64url or names: nothing to escape).
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(",")}}`;
  return base64url(await sha256(utf8(canonical)));
}

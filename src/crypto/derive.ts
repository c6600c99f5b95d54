import { fromBase64url, utf8 } from "./encoding";

/**
 * Every key Latchkey uses that is not a signing key derives from one operator secret
 * (`ENCRYPTION_KEY`, ≥ 32 random bytes, base64url) through HKDF-SHA-256 with a purpose label
 * (`latchkey/<purpose>/v1`), so each purpose has an independent key. Cached per isolate.
 */
export interface DerivedKeyUse {
  purpose: string;
  algorithm: { name: "AES-GCM"; length: 256 } | { name: "HMAC"; hash: "SHA-256"; length: 256 };
  usages: ("encrypt" | "decrypt" | "sign" | "verify")[];
}

const derived = new Map<string, Promise<CryptoKey>>();

export function derivedKey(root: string, use: DerivedKeyUse): Promise<CryptoKey> {
  const cacheKey = `${use.purpose}:${root}`;
  let key = derived.get(cacheKey);
  if (!key) {
    key = (async () => {
      const raw = fromBase64url(root);
      if (!raw || raw.byteLength < 32) throw new Error("ENCRYPTION_KEY must be at least 32 random bytes, base64url-encoded");
      const ikm = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: utf8("latchkey"), info: utf8(`latchkey/${use.purpose}/v1`) },
        ikm,
        use.algorithm,
        false,
        use.usages,
      );
    })();
    key.catch(() => derived.delete(cacheKey));
    derived.set(cacheKey, key);
  }
  return key;
}

import { base64url, decodeUtf8, fromBase64url, utf8 } from "./encoding";

/**
 * Encryption at rest for the few values the server must read back (signing private keys, secrets
 * of `client_secret_jwt` clients). One operator secret (`ENCRYPTION_KEY`, 32 random bytes,
 * base64url) is the root; each purpose gets its own AES-256-GCM key through HKDF-SHA-256, and the
 * purpose and row id are bound as additional data so a ciphertext cannot be moved between rows.
 *
 * Format: `v1.<iv b64url>.<ciphertext+tag b64url>`.
 */
export type Purpose = "signing-key" | "client-secret" | "interaction" | "authorization-code";

const derived = new Map<string, Promise<CryptoKey>>();

function subkey(root: string, purpose: Purpose): Promise<CryptoKey> {
  const cacheKey = `${purpose}:${root}`;
  let key = derived.get(cacheKey);
  if (!key) {
    key = (async () => {
      const raw = fromBase64url(root);
      if (!raw || raw.byteLength < 32) throw new Error("ENCRYPTION_KEY must be at least 32 random bytes, base64url-encoded");
      const ikm = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: utf8("latchkey"), info: utf8(`latchkey/${purpose}/v1`) },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    key.catch(() => derived.delete(cacheKey));
    derived.set(cacheKey, key);
  }
  return key;
}

export async function seal(root: string, purpose: Purpose, aad: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(`${purpose}:${aad}`) },
    await subkey(root, purpose),
    utf8(plaintext),
  );
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

export async function open(root: string, purpose: Purpose, aad: string, sealed: string): Promise<string> {
  const [version, ivText, ctText] = sealed.split(".");
  const iv = ivText ? fromBase64url(ivText) : undefined;
  const ct = ctText ? fromBase64url(ctText) : undefined;
  if (version !== "v1" || !iv || !ct) throw new Error(`sealed ${purpose} value is malformed`);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv, additionalData: utf8(`${purpose}:${aad}`) },
    await subkey(root, purpose),
    ct,
  );
  const text = decodeUtf8(new Uint8Array(pt));
  if (text === undefined) throw new Error(`sealed ${purpose} value is not UTF-8`);
  return text;
}

import { derivedKey } from "./derive";
import { base64url, decodeUtf8, fromBase64url, utf8 } from "./encoding";

/**
 * Encryption at rest for the few values the server must read back (signing private keys, secrets
 * of `client_secret_jwt` clients). One operator secret (`ENCRYPTION_KEY`, 32 random bytes,
 * base64url) is the root; each purpose gets its own AES-256-GCM key through HKDF-SHA-256, and the
 * purpose and row id are bound as additional data so a ciphertext cannot be moved between rows.
 *
 * Format: `v1.<iv b64url>.<ciphertext+tag b64url>`.
 */
export type Purpose = "signing-key" | "client-secret" | "interaction" | "authorization-code" | "refresh-retry" | "passkey-challenge";

const subkey = (root: string, purpose: Purpose) =>
  derivedKey(root, { purpose, algorithm: { name: "AES-GCM", length: 256 }, usages: ["encrypt", "decrypt"] });

export async function seal(root: string, purpose: Purpose, aad: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(`${purpose}:${aad}`) },
    await subkey(root, purpose),
    utf8(plaintext),
  );
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

/**
 * Length of `seal`'s output for a plaintext of `bytes` UTF-8 bytes: "v1." + 16 (12-byte IV) + "." +
 * base64url of the ciphertext and its 16-byte GCM tag (4 characters per 3 bytes, no padding).
 */
export const sealedLength = (bytes: number): number => "v1.".length + 16 + ".".length + Math.ceil(((bytes + 16) * 4) / 3);

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

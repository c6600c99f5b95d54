import { base64url, utf8 } from "./encoding";

export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** base64url(SHA-256(text)): how secrets and tokens are stored at rest. */
export async function hashForStorage(text: string): Promise<string> {
  return base64url(await sha256(text));
}

/**
 * Constant-time equality of two byte strings (or strings, compared as UTF-8). Uses workerd's
 * `crypto.subtle.timingSafeEqual` when present; the length check leaks only the length, which is
 * public for the hashes we compare.
 */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === "string" ? utf8(a) : a;
  const y = typeof b === "string" ? utf8(b) : b;
  if (x.byteLength !== y.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(x, y);
  let diff = 0;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

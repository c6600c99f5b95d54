/** Byte/text encodings used across Latchkey. One place, so there is one way to do each. */
const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/** Decodes UTF-8, returning undefined for invalid byte sequences instead of U+FFFD. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * UTF-8 bytes holding one JSON object (a JWT's header or claims set, RFC 7519 §7.2), or undefined
 * for invalid UTF-8, invalid JSON or any other JSON value.
 */
export function decodeJsonObject(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  const text = bytes && decodeUtf8(bytes);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// The TC39 base64 methods of Uint8Array (workerd has them; TypeScript's ES2023 lib does not yet).
declare global {
  interface Uint8ArrayConstructor {
    fromBase64(text: string, options?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" | "stop-before-partial" }): Uint8Array;
  }
  interface Uint8Array {
    toBase64(options?: { alphabet?: "base64" | "base64url"; omitPadding?: boolean }): string;
  }
}

/** base64url without padding (RFC 4648 §5; RFC 7515 §2). */
export const base64url = (bytes: Uint8Array): string => bytes.toBase64({ alphabet: "base64url", omitPadding: true });

/**
 * Decodes after the alphabet was checked by `pattern` (the native decoder alone would also skip
 * whitespace); undefined when malformed (a length that leaves 1 character over, say).
 */
function decodeChecked(text: string, pattern: RegExp, alphabet: "base64" | "base64url"): Uint8Array | undefined {
  if (!pattern.test(text)) return undefined;
  try {
    return Uint8Array.fromBase64(text, { alphabet });
  } catch {
    return undefined;
  }
}

/** Strict standard base64 (RFC 4648 §4, padding optional); undefined when malformed. */
export const fromBase64 = (text: string): Uint8Array | undefined => decodeChecked(text, /^[A-Za-z0-9+/]*={0,2}$/, "base64");

/** Strict base64url without padding (RFC 7515 §2); undefined when malformed. */
export const fromBase64url = (text: string): Uint8Array | undefined => decodeChecked(text, /^[A-Za-z0-9_-]*$/, "base64url");

export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0");
  return out;
}

/** `n` bytes from the CSPRNG. */
export const randomBytes = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** An opaque random token: `bytes` of entropy, base64url. 32 bytes = 256 bits (RFC 6749 §10.10). */
export const randomToken = (bytes = 32): string => base64url(randomBytes(bytes));

import { randomBytes } from "../crypto/encoding";

/**
 * User codes (RFC 8628 §6.1): 8 characters from 20 consonants — no vowels (no words), no digits
 * or look-alikes — shown as XXXX-XXXX. 20^8 ≈ 2^34.6 codes; with a 10-minute life and wrong
 * entries throttled per IP (§5.1), guessing a live one is impractical.
 */
export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const USER_CODE_LENGTH = 8;

/** A fresh user code, as typed (no dash). Uniform: bytes ≥ 240 are drawn again (256 is not a multiple of 20). */
export function newUserCode(): string {
  let code = "";
  while (code.length < USER_CODE_LENGTH) {
    for (const byte of randomBytes(16)) {
      if (byte < 240 && code.length < USER_CODE_LENGTH) code += USER_CODE_ALPHABET[byte % 20];
    }
  }
  return code;
}

/** How a code is shown: XXXX-XXXX. */
export const formatUserCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

/**
 * What the person typed, as a code: case, dashes and spaces do not matter (§6.1). Undefined when
 * it cannot be a code (wrong length, a character outside the alphabet).
 */
export function normalizeUserCode(typed: string | undefined): string | undefined {
  if (typed === undefined || typed.length > 32) return undefined;
  const code = typed.replace(/[\s-]/g, "").toUpperCase();
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}

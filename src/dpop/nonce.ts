import { base64url, utf8 } from "../crypto/encoding";
import { derivedKey } from "../crypto/derive";
import { timingSafeEqual } from "../crypto/hash";

/**
 * Server-provided DPoP nonces (RFC 9449 §8 at the token endpoint, §9 at UserInfo) that any isolate
 * can check without storage: a nonce is the HMAC-SHA-256, under a key derived from ENCRYPTION_KEY
 * (purpose `dpop-nonce`), of the number of the time window it was made in. A nonce of the current
 * or the previous window is accepted, so a nonce lives between one and two windows and then
 * expires: a proof made ahead of time with it is useless after that (§11.1). 43 base64url
 * characters, within §8.1's NQCHAR.
 */
const NONCE_KEY = { purpose: "dpop-nonce", algorithm: { name: "HMAC", hash: "SHA-256", length: 256 }, usages: ["sign"] } as const;

/** The nonce of each window, kept per isolate (two windows are ever asked for). */
const byWindow = new Map<string, Promise<string>>();

function nonceOf(encryptionKey: string, window: number): Promise<string> {
  const memo = `${window}:${encryptionKey}`;
  let nonce = byWindow.get(memo);
  if (nonce === undefined) {
    if (byWindow.size >= 8) byWindow.clear();
    nonce = (async () => {
      const key = await derivedKey(encryptionKey, { ...NONCE_KEY, usages: [...NONCE_KEY.usages] });
      return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8(`dpop-nonce/${window}`))));
    })();
    nonce.catch(() => byWindow.delete(memo));
    byWindow.set(memo, nonce);
  }
  return nonce;
}

export interface NonceDeps {
  encryptionKey: string;
  now: number;
  /** The window length in seconds (config.dpopNonceWindow). */
  window: number;
}

/** The nonce to hand out now (the `DPoP-Nonce` header). */
export function currentNonce({ encryptionKey, now, window }: NonceDeps): Promise<string> {
  return nonceOf(encryptionKey, Math.floor(now / window));
}

/** Whether `nonce` was made in the current or the previous window. */
export async function isFreshNonce(nonce: unknown, { encryptionKey, now, window }: NonceDeps): Promise<boolean> {
  if (typeof nonce !== "string" || nonce.length !== 43) return false;
  const w = Math.floor(now / window);
  const [current, previous] = await Promise.all([nonceOf(encryptionKey, w), nonceOf(encryptionKey, w - 1)]);
  return timingSafeEqual(nonce, current) || timingSafeEqual(nonce, previous);
}

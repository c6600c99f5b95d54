import { base64url, fromBase64url, utf8 } from "../crypto/encoding";
import { timingSafeEqual } from "../crypto/hash";
import { OAuthError } from "../errors/oauth-error";

/**
 * Password hashing: PBKDF2-HMAC-SHA-256 through WebCrypto, the only slow KDF Workers offer.
 *
 * Stored as `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>`, so the work factor travels
 * with each hash: raising ITERATIONS later needs no migration, `needsRehash` tells the sign-in path
 * to store a fresh hash after a successful verification.
 *
 * ITERATIONS is the most Cloudflare Workers allow: the production runtime refuses PBKDF2 above
 * 100,000 iterations ("iteration counts above 100000 are not supported", workerd issue #1346).
 * The open-source workerd used by `wrangler dev` and the tests does not enforce that cap, so it
 * cannot be observed locally; MAX_ITERATIONS keeps us from ever producing (or trying to verify) a
 * hash production could not handle. OWASP asks for more for PBKDF2-SHA-256, which is why the
 * login throttle (src/users/throttle.ts) matters and why the count is stored per hash.
 */
export const ITERATIONS = 100_000;
/** Production Workers' PBKDF2 ceiling; stored hashes above it are treated as malformed. */
export const MAX_ITERATIONS = 100_000;
const SCHEME = "pbkdf2-sha256";
const SALT_BYTES = 16;
const HASH_BITS = 256;

/** Password policy (NIST SP 800-63B §3.1.1.2: at least 8 characters, allow long passphrases). */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * NIST SP 800-63B §3.1.1.2: Unicode passwords are normalized (NFKC) before hashing, so the same
 * passphrase typed on two keyboards that compose characters differently still matches.
 */
const normalize = (password: string): string => password.normalize("NFKC");

/** Why `password` is not acceptable as a new password, or undefined when it is. For forms. */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== "string") return "The password must be a string.";
  const length = [...normalize(password)].length;
  if (length < PASSWORD_MIN_LENGTH) return `The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`;
  if (length > PASSWORD_MAX_LENGTH) return `The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`;
  if (password.trim() === "") return "The password must not be only spaces.";
  return undefined;
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8(normalize(password)), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

/**
 * Hashes a new password after checking the policy. Throws `password_policy` (invalid_request)
 * with the reason when the password is not acceptable.
 */
export async function hashPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new OAuthError("password_policy", problem);
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, ITERATIONS);
  return `${SCHEME}$${ITERATIONS}$${base64url(salt)}$${base64url(hash)}`;
}

interface Parsed {
  iterations: number;
  salt: Uint8Array;
  hash: Uint8Array;
}

function parse(stored: string): Parsed | undefined {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== SCHEME || !/^[1-9][0-9]{0,8}$/.test(parts[1]!)) return undefined;
  const iterations = Number(parts[1]);
  const salt = fromBase64url(parts[2]!);
  const hash = fromBase64url(parts[3]!);
  if (iterations > MAX_ITERATIONS || !salt || salt.byteLength < SALT_BYTES || !hash || hash.byteLength !== HASH_BITS / 8) return undefined;
  return { iterations, salt, hash };
}

/**
 * Stands in for a missing or unusable hash, so that an unknown user costs one full PBKDF2 run like
 * a known one. Its hash (32 zero bytes) is not the output of any password we know of; verification
 * against it is additionally forced to fail.
 */
const DUMMY: Parsed = { iterations: ITERATIONS, salt: new Uint8Array(SALT_BYTES), hash: new Uint8Array(HASH_BITS / 8) };

/**
 * True when `password` matches `stored`. For an unknown user or a user without a password (`stored`
 * null or undefined), a malformed hash, or an over-long input, it still runs one PBKDF2 against a
 * dummy hash and answers false: the answer and the time taken do not reveal whether the account
 * exists. The comparison is constant-time.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = typeof stored === "string" ? parse(stored) : undefined;
  const usable = parsed !== undefined && typeof password === "string" && password.length <= PASSWORD_MAX_LENGTH * 4;
  const target = usable ? parsed : DUMMY;
  const candidate = await derive(typeof password === "string" ? password.slice(0, PASSWORD_MAX_LENGTH * 4) : "", target.salt, target.iterations);
  return timingSafeEqual(candidate, target.hash) && usable;
}

/** True when `stored` should be replaced by a fresh hash (weaker parameters or an unknown format). */
export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return parsed === undefined || parsed.iterations < ITERATIONS || parsed.salt.byteLength !== SALT_BYTES;
}

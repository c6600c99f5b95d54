import { open, seal } from "../crypto/aead";
import { base64url, randomBytes } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";
import type { ReplayCache, ReplayNamespace } from "../replay/replay-cache";

/**
 * WebAuthn challenges (L3 §13.4.3: random, at least 16 bytes, used once). Nothing is stored when a
 * challenge is made: the page carries it sealed (AES-GCM under the ENCRYPTION_KEY subkey for
 * "passkey-challenge") together with what it is for (registration or sign-in), what it is bound to
 * (this session's `sid` for a registration; the sign-in's pending authorization request or return
 * page for a sign-in) and when it expires. When a response comes back, the challenge is spent in
 * the ReplayGuard Durable Object (`ReplayCache.reserve`, one step: a challenge buys nothing stored
 * that a failed ceremony would have to give back — the browser asks for a new page): of any number
 * of concurrent uses exactly one goes on; every other, and every later one, is refused.
 */

/** How long a challenge may be answered: 5 minutes (L3 §15.1 recommends 300–600 s with user verification). */
export const CHALLENGE_TTL_SECONDS = 300;

export type CeremonyKind = "registration" | "sign-in";

/** One namespace of single-use keys, spread over 16 objects. */
export const PASSKEY_CHALLENGES: ReplayNamespace = { name: "passkey-challenge", shardHexDigits: 1 };

interface ChallengeState {
  kind: CeremonyKind;
  challenge: string;
  binding: string;
  expiresAt: number;
}

export interface IssuedChallenge {
  /** 32 random bytes for the options the browser gets. */
  bytes: Uint8Array;
  /** The sealed state for the page's form. */
  state: string;
}

/** A fresh challenge for a ceremony of `kind`, bound to `binding`. */
export async function issueChallenge(encryptionKey: string, kind: CeremonyKind, binding: string, now: number): Promise<IssuedChallenge> {
  const bytes = randomBytes(32);
  const state: ChallengeState = { kind, challenge: base64url(bytes), binding, expiresAt: now + CHALLENGE_TTL_SECONDS };
  return { bytes, state: await seal(encryptionKey, "passkey-challenge", kind, JSON.stringify(state)) };
}

/** Longest sealed state accepted (a state is about 200 characters). */
const MAX_STATE = 1024;

/**
 * The challenge a posted form's `state` carries, spent: throws passkey_challenge_invalid when the
 * state is not ours, is for another ceremony or binding, has expired, or was used already.
 */
export async function spendChallenge(
  deps: { replay: ReplayCache; encryptionKey: string; now: number },
  kind: CeremonyKind,
  sealed: string | undefined,
  binding: string,
): Promise<string> {
  if (!sealed || sealed.length > MAX_STATE) throw new OAuthError("passkey_challenge_invalid");
  let state: ChallengeState;
  try {
    state = JSON.parse(await open(deps.encryptionKey, "passkey-challenge", kind, sealed)) as ChallengeState;
  } catch {
    throw new OAuthError("passkey_challenge_invalid");
  }
  if (state.kind !== kind || state.binding !== binding || state.expiresAt <= deps.now) throw new OAuthError("passkey_challenge_invalid");
  if (!(await deps.replay.reserve(PASSKEY_CHALLENGES, state.challenge, state.expiresAt))) throw new OAuthError("passkey_challenge_invalid");
  return state.challenge;
}

import type { SignInFor } from "../authorize/flow";
import { hex } from "../crypto/encoding";
import { sha256 } from "../crypto/hash";
import type { PasskeyCeremony } from "../pages/passkeys";
import { authenticationOptions, registrationOptions, type RelyingParty } from "./ceremony";
import { issueChallenge } from "./challenge";
import type { Passkey } from "./store";
import type { User } from "../users/model";

/**
 * What a challenge is bound to (src/passkeys/challenge.ts). A sign-in's: what the sign-in continues
 * — the sealed authorization request it was shown for (by its hash), or the page of ours it returns
 * to — so an answer cannot be carried over to another sign-in. A registration's: the session that
 * asked for it, so it adds a passkey only to that session's person.
 */
export async function signInBinding(target: SignInFor): Promise<string> {
  return "txn" in target ? `txn:${hex(await sha256(target.txnValue))}` : `return:${target.returnTo}`;
}

export const registrationBinding = (sid: string): string => `sid:${sid}`;

/** The sign-in page's passkey offer: options for navigator.credentials.get and the sealed challenge. */
export async function signInCeremony(rp: RelyingParty, encryptionKey: string, target: SignInFor, now: number): Promise<PasskeyCeremony> {
  const { bytes, state } = await issueChallenge(encryptionKey, "sign-in", await signInBinding(target), now);
  return { options: JSON.stringify(await authenticationOptions(rp, bytes)), state };
}

/** The passkeys page's registration: options for navigator.credentials.create and the sealed challenge. */
export async function registrationCeremony(
  rp: RelyingParty,
  encryptionKey: string,
  who: { sid: string; user: User; existing: readonly Passkey[] },
  now: number,
): Promise<PasskeyCeremony> {
  const { bytes, state } = await issueChallenge(encryptionKey, "registration", registrationBinding(who.sid), now);
  return { options: JSON.stringify(await registrationOptions(rp, who.user, who.existing, bytes)), state };
}

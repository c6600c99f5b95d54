import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { base64url, fromBase64url, utf8 } from "../crypto/encoding";
import { OAuthError } from "../errors/oauth-error";
import { log } from "../log";
import type { User } from "../users/model";
import { CHALLENGE_TTL_SECONDS } from "./challenge";
import type { Passkey } from "./store";

/**
 * The two WebAuthn Level 3 ceremonies, with @simplewebauthn/server doing the parsing and the
 * checks of §7.1 (registration) and §7.2 (authentication): clientDataJSON's type, challenge and
 * origin, the RP ID hash, the UP and UV flags, CBOR/COSE decoding, the signature, the counter.
 * What the library leaves to the relying party is here: the user handle (§7.2 step 6), the backup
 * eligibility that must not change (§6.1.3), and what a sign-in's `amr` says.
 */

/** Who we are to authenticators: the RP ID is the issuer's host, the origin the issuer's origin. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export function relyingParty(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin, name: url.hostname };
}

/** ES256, EdDSA, RS256: what authenticators make (the library's defaults minus the rare ones). */
const ALGORITHMS = [-7, -8, -257];
const TIMEOUT_MS = CHALLENGE_TTL_SECONDS * 1000;

/** The user handle (§5.4.3 `user.id`): our opaque user id's bytes, never the email address. */
const userHandle = (userId: string): Uint8Array => utf8(userId);

/** Options for navigator.credentials.create(): a discoverable credential with user verification, no attestation. */
export function registrationOptions(rp: RelyingParty, user: User, existing: readonly Passkey[], challenge: Uint8Array): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userID: userHandle(user.id) as Uint8Array<ArrayBuffer>,
    userDisplayName: user.claims.name ?? user.email,
    challenge: challenge as Uint8Array<ArrayBuffer>,
    timeout: TIMEOUT_MS,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

/** Options for navigator.credentials.get(): any of our discoverable credentials, user verification required. */
export function authenticationOptions(rp: RelyingParty, challenge: Uint8Array): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({ rpID: rp.id, challenge: challenge as Uint8Array<ArrayBuffer>, timeout: TIMEOUT_MS, userVerification: "required", allowCredentials: [] });
}

/** A posted credential (the page's JSON of PublicKeyCredential), or passkey_invalid. */
export function parseCredential<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(text: string | undefined): T {
  try {
    const value = JSON.parse(text ?? "") as T;
    if (value !== null && typeof value === "object" && typeof value.id === "string" && typeof value.response === "object" && value.response !== null) return value;
  } catch {
    // below
  }
  throw new OAuthError("passkey_invalid");
}

/** Logs why a response failed (the library's message) and answers passkey_invalid. */
function refused(event: string, cause: unknown): OAuthError {
  log("warn", event, { message: String(cause instanceof Error ? cause.message : cause).slice(0, 200) });
  return new OAuthError("passkey_invalid");
}

/** §7.1: the new credential, verified against the challenge, origin and RP ID, with user verification. */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  challenge: string,
): Promise<Omit<Passkey, "userId" | "name" | "createdAt" | "lastUsedAt">> {
  let result;
  try {
    result = await verifyRegistrationResponse({
      response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id,
      requireUserPresence: true, requireUserVerification: true, supportedAlgorithmIDs: ALGORITHMS,
    });
  } catch (cause) {
    throw refused("passkey_registration_refused", cause);
  }
  if (!result.verified) throw refused("passkey_registration_refused", "not verified");
  const { credential, credentialDeviceType, credentialBackedUp, aaguid } = result.registrationInfo;
  return {
    credentialId: credential.id,
    publicKey: base64url(credential.publicKey),
    counter: credential.counter,
    backupEligible: credentialDeviceType === "multiDevice",
    backedUp: credentialBackedUp,
    transports: (response.response.transports ?? []).filter((t): t is string => typeof t === "string").slice(0, 8),
    aaguid,
  };
}

/** What a verified assertion changes in the credential record. */
export interface VerifiedAssertion {
  counter: number;
  backedUp: boolean;
  userVerified: boolean;
}

/**
 * §7.2 for the credential the response names: the user handle must be its person's (step 6), then
 * the library's checks (challenge, origin, RP ID, UP and UV, signature, counter: a counter that
 * did not grow, when either side keeps one, is refused and logged — a sign of a cloned
 * authenticator, step 21), then the backup flags: BE must be what it was at registration.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  challenge: string,
  passkey: Passkey,
): Promise<VerifiedAssertion> {
  const handle = response.response.userHandle;
  if (handle !== undefined && handle !== base64url(userHandle(passkey.userId))) throw refused("passkey_user_handle_mismatch", "the user handle is not the credential's");
  const publicKey = fromBase64url(passkey.publicKey);
  if (publicKey === undefined) throw new Error("stored passkey public key is not base64url");
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response, expectedChallenge: challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true,
      credential: { id: passkey.credentialId, publicKey: publicKey as Uint8Array<ArrayBuffer>, counter: passkey.counter, transports: passkey.transports as never },
    });
  } catch (cause) {
    const message = String(cause instanceof Error ? cause.message : cause);
    if (/counter/i.test(message)) {
      log("warn", "passkey_counter_regressed", { credential: passkey.credentialId.slice(0, 16), stored: passkey.counter });
      throw new OAuthError("passkey_invalid");
    }
    throw refused("passkey_assertion_refused", cause);
  }
  if (!result.verified) throw refused("passkey_assertion_refused", "not verified");
  const info = result.authenticationInfo;
  if ((info.credentialDeviceType === "multiDevice") !== passkey.backupEligible) {
    throw refused("passkey_backup_eligibility_changed", `BE was ${passkey.backupEligible ? 1 : 0} at registration`);
  }
  return { counter: info.newCounter, backedUp: info.credentialBackedUp, userVerified: info.userVerified };
}

/**
 * RFC 8176 `amr` of a passkey sign-in: `hwk` for a key that stays on its authenticator (not backup
 * eligible), `swk` for one that may be synced (it exists outside one piece of hardware); `user`
 * (user presence, always required); `mfa` when the authenticator verified the person (PIN or
 * biometric: something they know or are, with the device they have — always, as it is required).
 */
export const passkeyAmr = (passkey: Pick<Passkey, "backupEligible">, assertion: Pick<VerifiedAssertion, "userVerified">): string[] =>
  [passkey.backupEligible ? "swk" : "hwk", "user", ...(assertion.userVerified ? ["mfa"] : [])];

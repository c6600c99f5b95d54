import { Hono } from "hono";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { completeSignIn, signInFor } from "../authorize/flow";
import { OAuthError, ensure } from "../errors/oauth-error";
import type { AppContext, AppEnv } from "../http/context";
import { postedForm, seeOther } from "../http/page-form";
import { csrfFor, renderPage } from "../http/page-security";
import { log } from "../log";
import { parseCredential, passkeyAmr, relyingParty, verifyAssertion, verifyRegistration } from "../passkeys/ceremony";
import { spendChallenge } from "../passkeys/challenge";
import { registrationBinding, registrationCeremony, signInBinding } from "../passkeys/sign-in";
import { NAME_MAX, d1PasskeyStore, type Passkey } from "../passkeys/store";
import { PasskeysPage, isPasskeysNotice } from "../pages/passkeys";
import { database, encryptionKey, loginThrottle, replayCache, userStore } from "../services";
import { signInUrl } from "../sessions/sign-in-return";
import { signedInRecently } from "../users/reauthentication";
import { ipKey, tooManyAttempts } from "../users/throttle";
import { signedInPerson } from "./account";
import { pageErrors } from "./authorize";
import { signIn, signInPage } from "./interaction";

/**
 * Passkeys (WebAuthn Level 3; issue 16):
 *
 *   POST /login/passkey             sign in: the sign-in page's script posts the assertion the
 *                                   browser made for the page's challenge (src/pages/passkeys.tsx)
 *   GET  /account/passkeys          the person's passkeys, and Add a passkey after a fresh sign-in
 *   POST /account/passkeys/add      name, state, credential: registers the new passkey
 *   POST /account/passkeys/remove   credential_id: removes one of the person's passkeys
 *
 * Every POST passes the CSRF check first (postedForm). The ceremonies' checks are in
 * src/passkeys/ceremony.ts, the challenges' single use in src/passkeys/challenge.ts.
 */

const passkeyStore = (c: AppContext) => d1PasskeyStore(database(c));
const rp = (c: AppContext) => relyingParty(c.get("config").issuer);
const challengeDeps = (c: AppContext) => ({ replay: replayCache(c), encryptionKey: encryptionKey(c), now: c.get("now") });

/** Sign-in attempts with a passkey take a unit of the client IP's budget (there is no account to charge before the check). */
const ipKeys = (request: Request): string[] => {
  const ip = request.headers.get("cf-connecting-ip");
  return ip ? [ipKey(ip)] : [];
};

/** The credential record the assertion names, and its person — who must exist and not be disabled. */
async function signer(c: AppContext, response: AuthenticationResponseJSON) {
  const passkey = await passkeyStore(c).get(response.id);
  if (passkey === null) throw new OAuthError("passkey_invalid");
  const user = await userStore(c).get(passkey.userId);
  if (user === null || user.disabled) {
    log("warn", "passkey_sign_in_refused", { reason: user === null ? "no_user" : "disabled" });
    throw new OAuthError("passkey_invalid");
  }
  return { passkey, user };
}

export const passkeySignIn = new Hono<AppEnv>().post("/", pageErrors, async (c) => {
  const form = await postedForm(c);
  const target = await signInFor(c, form.get("txn"), form.get("return"));
  const attempt = await loginThrottle(c).reserve(ipKeys(c.req.raw));
  if (!attempt.allowed) throw tooManyAttempts(attempt.retryAfter);
  const now = c.get("now");
  let signedIn;
  try {
    const challenge = await spendChallenge(challengeDeps(c), "sign-in", form.get("state"), await signInBinding(target));
    const response = parseCredential<AuthenticationResponseJSON>(form.get("credential"));
    const { passkey, user } = await signer(c, response);
    const assertion = await verifyAssertion(rp(c), response, challenge, passkey);
    // Conditional on the counter checked: of two uses racing with the same counter, one records.
    if (!(await passkeyStore(c).recordUse(passkey.credentialId, passkey.counter, { counter: assertion.counter, backedUp: assertion.backedUp, at: now }))) {
      throw new OAuthError("passkey_invalid");
    }
    signedIn = await signIn(c, user, passkeyAmr(passkey, assertion));
  } catch (err) {
    // A failure keeps its reservation (the counted failure); the page comes back with a new challenge.
    if (err instanceof OAuthError && (err.code === "passkey_invalid" || err.code === "passkey_challenge_invalid")) {
      return signInPage(c, target, "passkey_failed");
    }
    throw err;
  }
  await attempt.succeeded();
  return completeSignIn(c, signedIn, target);
});

const toPasskeysSignIn = () => seeOther(signInUrl("passkeys"));

const listing = (p: Passkey) => ({ credentialId: p.credentialId, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, synced: p.backupEligible });

export const accountPasskeys = new Hono<AppEnv>()
  .get("/passkeys", pageErrors, async (c) => {
    const person = await signedInPerson(c);
    if (person === null) return toPasskeysSignIn();
    const { session, user } = person;
    const passkeys = await passkeyStore(c).listForUser(user.id);
    // Adding a passkey gives lasting access to the account: only within minutes of a sign-in.
    const registration = signedInRecently(session, c.get("now"))
      ? await registrationCeremony(rp(c), encryptionKey(c), { sid: session.sid, user, existing: passkeys }, c.get("now"))
      : undefined;
    const notice = c.req.query("notice");
    const csrf = await csrfFor(c.req.raw, encryptionKey(c));
    return renderPage(
      c,
      (nonce) => (
        <PasskeysPage nonce={nonce} csrf={csrf.token} userEmail={user.email} passkeys={passkeys.map(listing)}
          {...(registration !== undefined && { registration })} {...(isPasskeysNotice(notice) && { notice })} />
      ),
      { setCookies: [csrf.setCookie] },
    );
  })
  .post("/passkeys/add", pageErrors, async (c) => {
    const form = await postedForm(c);
    const person = await signedInPerson(c);
    if (person === null) return toPasskeysSignIn();
    const { session, user } = person;
    const now = c.get("now");
    ensure(signedInRecently(session, now), "passkey_reauthentication_required");
    const name = (form.get("name") ?? "").trim();
    ensure(name.length > 0 && name.length <= NAME_MAX, "passkey_name_invalid");
    const challenge = await spendChallenge(challengeDeps(c), "registration", form.get("state"), registrationBinding(session.sid));
    const credential = await verifyRegistration(rp(c), parseCredential<RegistrationResponseJSON>(form.get("credential")), challenge);
    const added = await passkeyStore(c).add({ ...credential, userId: user.id, name, createdAt: now, lastUsedAt: null });
    // A credential id registered already (to anyone) is not taken over.
    ensure(added, "passkey_invalid");
    return seeOther("/account/passkeys?notice=added");
  })
  .post("/passkeys/remove", pageErrors, async (c) => {
    const form = await postedForm(c);
    const person = await signedInPerson(c);
    if (person === null) return toPasskeysSignIn();
    const credentialId = form.get("credential_id");
    ensure(credentialId !== undefined, "missing_parameter", "The form names no passkey to remove.");
    const removed = await passkeyStore(c).remove(person.user.id, credentialId);
    return seeOther(`/account/passkeys?notice=${removed ? "removed" : "nothing_removed"}`);
  });

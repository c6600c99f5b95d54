import { CsrfField, Layout } from "./layout";
import { REGISTER_SCRIPT, SIGN_IN_SCRIPT } from "./passkeys-script";
import { UtcTime } from "./time";

/** One of the person's passkeys as the page lists it. */
export interface PasskeyListing {
  credentialId: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** Synced to the person's other devices (backup eligible). */
  synced: boolean;
}

/** What the last action did; fixed words. */
export type PasskeysNotice = "added" | "removed" | "nothing_removed";

const NOTICES: Record<PasskeysNotice, string> = {
  added: "Passkey added. You can now sign in with it.",
  removed: "Passkey removed. It can no longer be used to sign in.",
  nothing_removed: "Nothing to remove: you have no such passkey.",
};

export const isPasskeysNotice = (value: string | undefined): value is PasskeysNotice => value !== undefined && Object.hasOwn(NOTICES, value);

/** The ceremony a page offers: the options for the browser (JSON) and the sealed challenge state for the form. */
export interface PasskeyCeremony {
  options: string;
  state: string;
}

export interface PasskeysPageProps {
  nonce: string;
  csrf: string;
  userEmail: string;
  passkeys: readonly PasskeyListing[];
  /** Present when the person signed in moments ago: the form that adds one. Otherwise they are asked to sign in again. */
  registration?: PasskeyCeremony;
  notice?: PasskeysNotice;
}

/**
 * GET /account/passkeys: the person's passkeys (name, added, last used) each with Remove
 * (POST /account/passkeys/remove), and Add a passkey (POST /account/passkeys/add), offered only
 * after a fresh sign-in.
 */
export function PasskeysPage({ nonce, csrf, userEmail, passkeys, registration, notice }: PasskeysPageProps) {
  return (
    <Layout title="Passkeys" nonce={nonce}>
      <h1>Passkeys</h1>
      <p class="lead">
        Sign in to <strong>{userEmail}</strong> with your fingerprint, face or screen lock instead of a password. A passkey works only on
        this site, so it cannot be phished.
      </p>
      {notice ? (
        <p class="notice" role="status">
          {NOTICES[notice]}
        </p>
      ) : null}
      {passkeys.length === 0 ? (
        <p>You have no passkeys yet.</p>
      ) : (
        <ul class="grants" id="passkeys">
          {passkeys.map((p) => (
            <li class="grant">
              <h3>{p.name}</h3>
              <p class="dates">
                Added <UtcTime seconds={p.createdAt} precision="date" />
                {p.lastUsedAt !== null ? (
                  <>
                    , last used <UtcTime seconds={p.lastUsedAt} precision="second" />
                  </>
                ) : (
                  ", not used yet"
                )}
                {p.synced ? " · synced to your other devices" : " · on one device"}
              </p>
              <form method="post" action="/account/passkeys/remove">
                <CsrfField token={csrf} />
                <input type="hidden" name="credential_id" value={p.credentialId} />
                <button type="submit" class="danger">
                  Remove<span class="sr-only"> the passkey {p.name}</span>
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <h2>Add a passkey</h2>
      {registration ? (
        <form method="post" action="/account/passkeys/add" id="passkey-add" data-options={registration.options}>
          <CsrfField token={csrf} />
          <input type="hidden" name="state" value={registration.state} />
          <input type="hidden" name="credential" value="" />
          <p class="alert" role="alert" id="passkey-status" hidden />
          <div class="field">
            <label for="passkey-name">Name</label>
            <input id="passkey-name" name="name" type="text" maxlength={64} required placeholder="For example: Laptop" autocomplete="off" />
          </div>
          <div class="actions">
            <button type="submit">Add a passkey</button>
          </div>
        </form>
      ) : (
        <p>
          To add a passkey, <a href="/login?return=passkeys">sign in again</a> first: adding one needs a sign-in within the last 5 minutes.
        </p>
      )}
      <p class="alt">
        <a href="/account">Back to your account</a>
      </p>
      {registration ? <script nonce={nonce} dangerouslySetInnerHTML={{ __html: REGISTER_SCRIPT }} /> : null}
    </Layout>
  );
}

/**
 * The sign-in page's passkey part: a form POSTed to /login/passkey by the script (with the
 * credential), the "Sign in with a passkey" button (hidden until the script finds WebAuthn), and the
 * script, which also offers the person's passkeys in the email field's autofill (conditional UI).
 */
export function PasskeySignIn({ nonce, csrf, ceremony, txn, returnTo }: { nonce: string; csrf: string; ceremony: PasskeyCeremony; txn?: string; returnTo?: string }) {
  return (
    <>
      {/* The button keeps `hidden` until the script shows it; the layout's button rule would override the attribute. */}
      <style nonce={nonce}>{"#passkey-button[hidden]{display:none}"}</style>
      <form method="post" action="/login/passkey" id="passkey-form" data-options={ceremony.options}>
        {txn !== undefined ? <input type="hidden" name="txn" value={txn} /> : null}
        {returnTo !== undefined ? <input type="hidden" name="return" value={returnTo} /> : null}
        <CsrfField token={csrf} />
        <input type="hidden" name="state" value={ceremony.state} />
        <input type="hidden" name="credential" value="" />
        <p class="alert" role="alert" id="passkey-status" hidden />
        <div class="actions">
          <button type="button" class="secondary" id="passkey-button" hidden>
            Sign in with a passkey
          </button>
        </div>
      </form>
      <script nonce={nonce} dangerouslySetInnerHTML={{ __html: SIGN_IN_SCRIPT }} />
    </>
  );
}

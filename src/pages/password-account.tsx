import { CsrfField, Layout } from "./layout";
import { NewPasswordField } from "./password";

/**
 * The account's password pages (src/endpoints/password.tsx): change the password (the current one
 * is required) and sign out everywhere (the password, unless the person signed in moments ago).
 */

/** Why the last attempt failed; fixed words, nothing from the request. */
export type PasswordFormError = "wrong_password" | "too_many_attempts" | "weak_password";

const ERRORS: Record<PasswordFormError, string> = {
  wrong_password: "The current password is incorrect.",
  too_many_attempts: "The current password is incorrect. Too many failed attempts: wait a few minutes before you try again.",
  weak_password: "Choose a new password of at least 8 characters that is not only spaces.",
};

function FormError({ error }: { error: PasswordFormError | undefined }) {
  return error ? (
    <p class="alert" role="alert" id="form-error">
      {ERRORS[error]}
    </p>
  ) : null;
}

function CurrentPasswordField({ error }: { error: PasswordFormError | undefined }) {
  return (
    <div class="field">
      <label for="current_password">Current password</label>
      <input id="current_password" name="current_password" type="password" autocomplete="current-password" required
        aria-invalid={error === "wrong_password" || error === "too_many_attempts" ? "true" : undefined}
        aria-describedby={error ? "form-error" : undefined} />
    </div>
  );
}

export interface ChangePasswordPageProps {
  nonce: string;
  csrf: string;
  userEmail: string;
  error?: PasswordFormError;
  passwordMinLength: number;
}

/** GET /account/password: current and new password (POST /account/password). */
export function ChangePasswordPage({ nonce, csrf, userEmail, error, passwordMinLength }: ChangePasswordPageProps) {
  return (
    <Layout title="Change your password" nonce={nonce}>
      <h1>Change your password</h1>
      <p class="lead">
        For <strong>{userEmail}</strong>. Your other devices and the apps that use your account will be signed out; this browser stays
        signed in.
      </p>
      <FormError error={error} />
      <form method="post" action="/account/password">
        <CsrfField token={csrf} />
        <input type="hidden" name="username" autocomplete="username" value={userEmail} />
        <CurrentPasswordField error={error} />
        <NewPasswordField id="new_password" label="New password" minLength={passwordMinLength} />
        <div class="actions">
          <button type="submit">Change password</button>
        </div>
      </form>
      <p class="alt">
        <a href="/account">Back to your account</a> · Forgot it? <a href="/password/forgot">Reset your password</a>
      </p>
    </Layout>
  );
}

export interface SignOutEverywherePageProps {
  nonce: string;
  csrf: string;
  userEmail: string;
  /** The person signed in moments ago: no password asked. */
  fresh: boolean;
  error?: PasswordFormError;
}

/** GET /account/sign-out-everywhere: the confirmation (POST /account/sign-out-everywhere). */
export function SignOutEverywherePage({ nonce, csrf, userEmail, fresh, error }: SignOutEverywherePageProps) {
  return (
    <Layout title="Sign out everywhere" nonce={nonce}>
      <h1>Sign out everywhere</h1>
      <p class="lead">
        Ends every session of <strong>{userEmail}</strong>: on this and every other device, and in every app that uses your account.
        The apps will ask you to sign in again.
      </p>
      <FormError error={error} />
      <form method="post" action="/account/sign-out-everywhere">
        <CsrfField token={csrf} />
        {fresh ? null : (
          <>
            <input type="hidden" name="username" autocomplete="username" value={userEmail} />
            <CurrentPasswordField error={error} />
          </>
        )}
        <div class="actions">
          <button type="submit" class="danger">
            Sign out everywhere
          </button>
        </div>
      </form>
      <p class="alt">
        <a href="/account">Back to your account</a>
      </p>
    </Layout>
  );
}

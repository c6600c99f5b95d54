import { CsrfField, Layout } from "./layout";

/**
 * The password-reset pages (src/endpoints/password.tsx): ask for the address, "check your email"
 * (the same page for every address), choose a new password from the link, done.
 */

/** A new-password field with the policy's hint (autocomplete="new-password": password managers offer to generate one). */
export function NewPasswordField({ id, label, minLength }: { id: string; label: string; minLength: number }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} name={id} type="password" autocomplete="new-password" required minlength={minLength} aria-describedby={`${id}-hint`} />
      <span class="hint" id={`${id}-hint`}>
        At least {minLength} characters.
      </span>
    </div>
  );
}

export interface ForgotPasswordPageProps {
  nonce: string;
  csrf: string;
  /** Prefills the address (the one typed on the sign-in page, or after a malformed one). */
  email?: string;
  /** The address was not well formed. */
  invalidEmail?: boolean;
}

/** GET /password/forgot: the address to send a reset link to (POST /password/forgot). */
export function ForgotPasswordPage({ nonce, csrf, email, invalidEmail }: ForgotPasswordPageProps) {
  return (
    <Layout title="Reset your password" nonce={nonce}>
      <h1>Reset your password</h1>
      <p class="lead">Enter the email address of your account. We will send you a link to choose a new password.</p>
      {invalidEmail ? (
        <p class="alert" role="alert" id="forgot-error">
          Enter a valid email address.
        </p>
      ) : null}
      <form method="post" action="/password/forgot">
        <CsrfField token={csrf} />
        <div class="field">
          <label for="email">Email address</label>
          <input id="email" name="email" type="email" autocomplete="username" autocapitalize="none" spellcheck={false} required autofocus
            value={email ?? ""} aria-invalid={invalidEmail ? "true" : undefined} aria-describedby={invalidEmail ? "forgot-error" : undefined} />
        </div>
        <div class="actions">
          <button type="submit">Send the link</button>
        </div>
      </form>
      <p class="alt">
        Remembered it? <a href="/login?return=account">Sign in</a>
      </p>
    </Layout>
  );
}

export interface PasswordResetSentPageProps {
  nonce: string;
  email: string;
  /** Local development with the outbox mailer: link to /dev/outbox. */
  outboxHint?: boolean;
  /** Minutes the link lives. */
  ttlMinutes: number;
}

/**
 * What POST /password/forgot answers for every well-formed address, with or without an account:
 * the words are true either way ("if an account uses it").
 */
export function PasswordResetSentPage({ nonce, email, outboxHint, ttlMinutes }: PasswordResetSentPageProps) {
  return (
    <Layout title="Check your email" nonce={nonce}>
      <h1>Check your email</h1>
      <p>
        If an account uses <strong class="email">{email}</strong>, we have sent a link to it to choose a new password.
      </p>
      <p class="lead">
        The link works once and expires in {ttlMinutes} minutes. If nothing arrives, check your spam folder, or check that you typed the
        address of your account.
      </p>
      {outboxHint ? (
        <p class="notice">
          Development server: mail is not sent, it goes to the <a href="/dev/outbox" target="_blank" rel="noopener">local outbox</a> (opens in a new tab).
        </p>
      ) : null}
    </Layout>
  );
}

export interface SetPasswordPageProps {
  nonce: string;
  csrf: string;
  /** The token from the link, POSTed back with the new password. */
  token: string;
  /** The new password did not meet the policy (the link is not spent). */
  weakPassword?: boolean;
  passwordMinLength: number;
}

/** GET /password/reset?token=…: choose a new password (POST /password/reset). Opening it spends nothing. */
export function SetPasswordPage({ nonce, csrf, token, weakPassword, passwordMinLength }: SetPasswordPageProps) {
  return (
    <Layout title="Choose a new password" nonce={nonce}>
      <h1>Choose a new password</h1>
      <p class="lead">Saving it signs you out everywhere: on every device and in every app that uses your account.</p>
      {weakPassword ? (
        <p class="alert" role="alert">
          Choose a password of at least {passwordMinLength} characters that is not only spaces.
        </p>
      ) : null}
      <form method="post" action="/password/reset">
        <CsrfField token={csrf} />
        <input type="hidden" name="token" value={token} />
        <NewPasswordField id="password" label="New password" minLength={passwordMinLength} />
        <div class="actions">
          <button type="submit">Save the new password</button>
        </div>
      </form>
    </Layout>
  );
}

/** After a reset: the password is set, every session ended; sign in with the new one. */
export function PasswordResetDonePage({ nonce }: { nonce: string }) {
  return (
    <Layout title="Password changed" nonce={nonce}>
      <h1>Password changed</h1>
      <p>Your new password is saved. You have been signed out everywhere, and we have sent a message to your address to say so.</p>
      <div class="actions">
        <a class="button" href="/login?return=account">
          Sign in
        </a>
      </div>
    </Layout>
  );
}

import { CsrfField, Layout } from "./layout";

/**
 * Why the sign-up form came back. There is deliberately no "email already registered": the route
 * answers an existing address like a new one (VerifyEmailSentPage, and mail to the owner), so
 * the form does not reveal who has an account.
 */
export type SignUpError = "invalid_email" | "weak_password" | "invalid_name";

export interface SignUpPageProps {
  nonce: string;
  csrf: string;
  /** The pending authorization request to continue once the email is verified. */
  txn?: string;
  error?: SignUpError;
  /** Prefills the email field after a failed attempt. */
  email?: string;
  /** Prefills the name field after a failed attempt. */
  name?: string;
  /** The password policy's minimum length, shown as a hint and enforced by the browser too. Default 8. */
  passwordMinLength?: number;
}

/** POST /signup: email, password (new-password), optional name, hidden `csrf` (and `txn`). */
export function SignUpPage({ nonce, csrf, txn, error, email, name, passwordMinLength = 8 }: SignUpPageProps) {
  const messages: Record<SignUpError, string> = {
    invalid_email: "Enter a valid email address.",
    weak_password: `Choose a password of at least ${passwordMinLength} characters that is not easy to guess.`,
    invalid_name: "The name is too long or contains characters that are not allowed.",
  };
  return (
    <Layout title="Create an account" nonce={nonce}>
      <h1>Create an account</h1>
      {error ? (
        <p class="alert" role="alert">
          {messages[error]}
        </p>
      ) : null}
      <form method="post" action="/signup">
        {txn ? <input type="hidden" name="txn" value={txn} /> : null}
        <CsrfField token={csrf} />
        <div class="field">
          <label for="email">Email address</label>
          <input
            id="email"
            name="email"
            type="email"
            autocomplete="email"
            autocapitalize="none"
            spellcheck={false}
            required
            value={email ?? ""}
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="new-password"
            required
            minlength={passwordMinLength}
            aria-describedby="password-hint"
          />
          <span class="hint" id="password-hint">
            At least {passwordMinLength} characters.
          </span>
        </div>
        <div class="field">
          <label for="name">
            Name <span class="optional">(optional)</span>
          </label>
          <input id="name" name="name" type="text" autocomplete="name" maxlength={200} value={name ?? ""} />
        </div>
        <div class="actions">
          <button type="submit">Create account</button>
        </div>
      </form>
      <p class="alt">
        Already have an account? {txn ? <a href={`/login?txn=${encodeURIComponent(txn)}`}>Sign in</a> : "Sign in from the app you came from."}
      </p>
    </Layout>
  );
}

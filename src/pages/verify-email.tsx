import { localHref } from "./links";
import { CsrfField, Layout } from "./layout";

export interface VerifyEmailSentPageProps {
  nonce: string;
  csrf: string;
  email: string;
  /** The pending authorization request, carried through a resend. */
  txn?: string;
  /** Local development with the outbox mailer: link to /dev/outbox. */
  outboxHint?: boolean;
  /** Where "I have verified, continue" leads (the pending authorization request); same-server paths only. */
  continueUrl?: string;
}

/** "Check your email", with a resend form (POST /verify-email/resend) and a way back to the pending request. */
export function VerifyEmailSentPage({ nonce, csrf, email, txn, outboxHint, continueUrl }: VerifyEmailSentPageProps) {
  const next = localHref(continueUrl);
  return (
    <Layout title="Check your email" nonce={nonce}>
      <h1>Check your email</h1>
      <p>
        We have sent a message to <strong class="email">{email}</strong>. If it holds a verification link, open it to
        confirm your address, then come back here.
      </p>
      <p class="lead">The link expires after a while. If nothing arrives, check your spam folder or send it again.</p>
      {outboxHint ? (
        <p class="notice">
          Development server: mail is not sent, it goes to the <a href="/dev/outbox" target="_blank" rel="noopener">local outbox</a> (opens in a new tab).
        </p>
      ) : null}
      {next ? (
        <p>
          <a class="button" href={next}>
            I have verified my address, continue
          </a>
        </p>
      ) : null}
      <form method="post" action="/verify-email/resend">
        <CsrfField token={csrf} />
        <input type="hidden" name="email" value={email} />
        {txn ? <input type="hidden" name="txn" value={txn} /> : null}
        <div class="actions">
          <button type="submit" class="secondary">
            Send the link again
          </button>
        </div>
      </form>
    </Layout>
  );
}

export interface VerifyEmailConfirmPageProps {
  nonce: string;
  csrf: string;
  /** The token from the link (GET /verify-email?token=…). */
  token: string;
}

/**
 * What GET /verify-email?token=… shows: a button that POSTs the token. Mail scanners and link
 * previewers fetch links with GET; only a person pressing the button consumes the token.
 */
export function VerifyEmailConfirmPage({ nonce, csrf, token }: VerifyEmailConfirmPageProps) {
  return (
    <Layout title="Verify your email" nonce={nonce}>
      <h1>Verify your email</h1>
      <p>Confirm that this email address is yours to finish setting up your account.</p>
      <form method="post" action="/verify-email">
        <CsrfField token={csrf} />
        <input type="hidden" name="token" value={token} />
        <div class="actions">
          <button type="submit">Verify my email</button>
        </div>
      </form>
    </Layout>
  );
}

export interface VerifyEmailDonePageProps {
  nonce: string;
  /** Where to go next: a path on this server (e.g. back to the pending authorization). Other values are ignored. */
  continueUrl?: string;
}

export function VerifyEmailDonePage({ nonce, continueUrl }: VerifyEmailDonePageProps) {
  const next = localHref(continueUrl);
  return (
    <Layout title="Email verified" nonce={nonce}>
      <h1>Email verified</h1>
      <p>Thank you: your email address is confirmed.</p>
      {next ? (
        <div class="actions">
          <a class="button" href={next}>
            Continue
          </a>
        </div>
      ) : (
        <p class="lead">You can close this tab and return to the app you were signing in to.</p>
      )}
      <p class="alt">
        Sign in faster next time: <a href="/account/passkeys">add a passkey</a> to your account.
      </p>
    </Layout>
  );
}

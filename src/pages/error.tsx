import type { Context } from "hono";
import type { ErrorCode } from "../errors/catalog";
import type { OAuthError } from "../errors/oauth-error";
import { renderPage, type RenderOptions } from "../http/page-security";
import { Layout } from "./layout";

export interface ErrorPageProps {
  nonce: string;
  title: string;
  /** For the person reading it: what happened and what to do. Never internals. */
  message: string;
  /** The stable error code (docs/errors.md), shown small for support requests. */
  code?: string;
}

/** The page shown instead of a redirect when the client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1), and for interaction errors. */
export function ErrorPage({ nonce, title, message, code }: ErrorPageProps) {
  return (
    <Layout title={title} nonce={nonce}>
      <h1>{title}</h1>
      <p>{message}</p>
      {code ? (
        <p class="code">
          Error code: <code>{code}</code>
        </p>
      ) : null}
    </Layout>
  );
}

const TITLES: Partial<Record<ErrorCode, string>> = {
  csrf_invalid: "This form has expired",
  interaction_expired: "This sign-in request has expired",
  verification_link_invalid: "This link is not valid",
  password_reset_link_invalid: "This link is not valid",
  signup_disabled: "Sign-up is not available",
  too_many_attempts: "Too many attempts",
  authorize_missing_client_id: "This sign-in link is incomplete",
  authorize_unknown_client: "Unknown app",
  authorize_missing_redirect_uri: "This sign-in link is incomplete",
  authorize_redirect_uri_mismatch: "This sign-in link is not valid",
  authorize_duplicate_parameter: "This sign-in link is not valid",
  logout_id_token_hint_invalid: "This sign-out link is not valid",
  logout_client_mismatch: "This sign-out link is not valid",
  logout_unknown_client: "Unknown app",
  logout_redirect_uri_without_client: "This sign-out link is not valid",
  logout_redirect_uri_not_registered: "This sign-out link is not valid",
  not_found: "Page not found",
};

/**
 * What the page says for errors whose catalog words are the protocol's (client, client_id,
 * id_token_hint): a person reads "app" on every page. Other errors show the catalog's message.
 */
const MESSAGES: Partial<Record<ErrorCode, string>> = {
  interaction_expired: "This sign-in request has expired or is invalid. Start again from the app.",
  authorize_missing_client_id: "The link that brought you here does not say which app it is for. Go back to the app and try again.",
  authorize_unknown_client: "The app that sent you here is not known here, or has been disabled. Contact its developer.",
  authorize_missing_redirect_uri: "The app that sent you here did not say where to send you back. Contact its developer.",
  authorize_duplicate_parameter: "The link that brought you here names its app or return address twice. Go back to the app and try again.",
  logout_id_token_hint_invalid: "The app that sent you here to sign out sent a sign-in this server did not issue. Contact its developer.",
  logout_client_mismatch: "The app that sent you here to sign out named another app's sign-in. Contact its developer.",
  logout_unknown_client: "The app that sent you here is not known here, or has been disabled. Contact its developer.",
  logout_redirect_uri_without_client: "The app that sent you here to sign out did not say which app it is. Contact its developer.",
};

/** ErrorPage props for an OAuthError: the catalog's status and words, never a stack or internal detail. */
export function errorPageProps(err: OAuthError): Omit<ErrorPageProps, "nonce"> {
  const status = err.entry.status;
  const title = TITLES[err.code] ?? (status >= 500 ? "Something went wrong" : "This request cannot be completed");
  const message = status >= 500 ? "The server could not complete the request. Try again in a moment." : (MESSAGES[err.code] ?? err.message);
  return { title, message, code: err.code };
}

/** An OAuthError as an HTML page with the catalog's status (for browser-facing routes). */
export function renderErrorPage(c: Context, err: OAuthError, options: Omit<RenderOptions, "status"> = {}): Promise<Response> {
  const props = errorPageProps(err);
  return renderPage(c, (nonce) => <ErrorPage nonce={nonce} {...props} />, { ...options, status: err.entry.status });
}

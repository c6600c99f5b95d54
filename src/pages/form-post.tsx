import type { Context } from "hono";
import { renderPage, type RenderOptions } from "../http/page-security";
import { Layout } from "./layout";

export interface FormPostPageProps {
  nonce: string;
  /** The client's redirect URI. */
  action: string;
  /** The authorization response (`code`, `state`, `iss` … or `error` …). */
  params: Readonly<Record<string, string>>;
}

/** Submits the only form on the page as soon as it is parsed; a constant, allowed by the CSP nonce. */
const AUTO_SUBMIT = "document.forms[0].submit();";

/**
 * OAuth 2.0 Form Post Response Mode (§2, §5): the response parameters as hidden fields of a form
 * POSTed to the redirect URI. A nonce'd inline script submits it; without JavaScript the person
 * presses Continue. Values are attribute-escaped by JSX.
 */
export function FormPostPage({ nonce, action, params }: FormPostPageProps) {
  return (
    <Layout title="Continuing" nonce={nonce}>
      <h1>Returning you to the app…</h1>
      <form method="post" action={action}>
        {Object.entries(params).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <p class="lead">If nothing happens, press Continue.</p>
        <div class="actions">
          <button type="submit">Continue</button>
        </div>
      </form>
      <script nonce={nonce} dangerouslySetInnerHTML={{ __html: AUTO_SUBMIT }} />
    </Layout>
  );
}

/**
 * The form_post response, complete: the page with `action` added to the CSP `form-action`
 * sources (without it the browser refuses to submit the form).
 */
export function renderFormPost(
  c: Context,
  action: string,
  params: Readonly<Record<string, string>>,
  options: Omit<RenderOptions, "formActionOrigins"> = {},
): Promise<Response> {
  return renderPage(c, (nonce) => <FormPostPage nonce={nonce} action={action} params={params} />, {
    ...options,
    formActionOrigins: [action],
  });
}

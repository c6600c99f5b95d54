import type { AppContext } from "./context";
import { readForm, type Params } from "./form";
import { checkCsrf } from "./page-security";
import { encryptionKey } from "../services";

/**
 * What every page's form POST shares: the body read strictly (form-encoded, UTF-8, bounded, no
 * repeated fields) and the CSRF check (src/http/page-security.ts) before anything acts on it, and
 * the 303 that sends the browser on afterwards (RFC 9700 §4.12).
 */

/** The posted form of one of our pages, or `OAuthError("csrf_invalid")` (and the form errors of readForm). */
export async function postedForm(c: AppContext): Promise<Params> {
  const form = await readForm(c.req.raw, c.get("config").maxBodyBytes);
  await checkCsrf(c.req.raw, form.get("csrf"), encryptionKey(c));
  return form;
}

/** 303 See Other to `location` (a path on this server), never cached; extra headers (Set-Cookie) as given. */
export const seeOther = (location: string, headers: Record<string, string> = {}) =>
  new Response(null, { status: 303, headers: { location, "cache-control": "no-store", ...headers } });

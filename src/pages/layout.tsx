import type { Child } from "hono/jsx";
import { CSRF_FIELD } from "../http/page-security";

/**
 * The page frame every server-rendered page shares: one small stylesheet, inline under the CSP
 * nonce (no external requests but a client's logo, whose origin the route allows), system fonts, a single centred column that fits a phone and
 * reads well on a desktop, light and dark colour schemes with WCAG AA contrast, visible labels
 * and focus rings. Pages work without JavaScript; only the form_post page has a script.
 */
export const STYLES = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#1a1d21;--muted:#50565e;--border:#c9ced6;
--accent:#1f5fd1;--accent-text:#fff;--accent-hover:#174aa6;--danger-bg:#fdecec;--danger-text:#8a1414;--danger-border:#f1b5b5;
--info-bg:#eaf1fd;--info-border:#b9cef5;--focus:#f2b01e;--code-bg:#eef0f3}
@media (prefers-color-scheme:dark){:root{--bg:#111316;--card:#1b1e23;--text:#eceef1;--muted:#aab1bb;--border:#3a4049;
--accent:#6ea1ff;--accent-text:#0b1220;--accent-hover:#94baff;--danger-bg:#3a1717;--danger-text:#ffc2c2;--danger-border:#6e2b2b;
--info-bg:#172338;--info-border:#2d4670;--code-bg:#262a31}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--text);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;
display:flex;flex-direction:column;align-items:center;padding:max(1rem,env(safe-area-inset-top)) 1rem 2rem}
.brand{font-weight:700;letter-spacing:.02em;font-size:1rem;color:var(--muted);margin:.5rem 0 1rem;text-align:center}
main{width:100%;max-width:27rem;background:var(--card);border:1px solid var(--border);border-radius:12px;padding:1.5rem 1.25rem}
main.wide{max-width:48rem}
@media (min-width:40rem){body{padding-top:3rem}main{padding:2rem}}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .5rem}
h2{font-size:1.05rem;margin:1.25rem 0 .5rem}
p{margin:0 0 1rem}
main>:last-child,.message:last-child,.message pre:last-child{margin-bottom:0}
.lead{color:var(--muted)}
.lead strong{color:var(--text);overflow-wrap:anywhere}
a{color:var(--accent);text-underline-offset:2px}
a:hover{color:var(--accent-hover)}
form{margin:0}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin:0 0 .3rem}
.optional{font-weight:400;color:var(--muted)}
.hint{display:block;font-size:.875rem;color:var(--muted);margin-top:.3rem}
input[type=email],input[type=password],input[type=text]{display:block;width:100%;font:inherit;font-size:1rem;color:var(--text);
background:var(--card);border:1px solid var(--border);border-radius:8px;padding:.65rem .75rem;min-height:2.75rem}
input:hover{border-color:var(--muted)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input:focus-visible{outline-offset:0;border-color:var(--accent)}
button,.button{display:inline-flex;align-items:center;justify-content:center;text-align:center;width:100%;min-height:2.75rem;font:inherit;font-weight:600;
border-radius:8px;padding:.6rem 1rem;cursor:pointer;border:1px solid var(--accent);background:var(--accent);color:var(--accent-text);text-decoration:none}
button:hover,.button:hover{background:var(--accent-hover);border-color:var(--accent-hover);color:var(--accent-text)}
button.secondary{background:transparent;color:var(--text);border-color:var(--border)}
button.secondary:hover{background:var(--bg);color:var(--text);border-color:var(--muted)}
button.danger{background:transparent;color:var(--danger-text);border-color:var(--danger-border)}
button.danger:hover{background:var(--danger-bg);color:var(--danger-text);border-color:var(--danger-text)}
button.link{width:auto;min-height:0;padding:0;border:0;background:none;color:var(--accent);font-weight:400;text-decoration:underline;text-underline-offset:2px}
button.link:hover{background:none;color:var(--accent-hover)}
.actions{display:flex;flex-direction:column;gap:.75rem;margin-top:1.25rem}
@media (min-width:30rem){.actions.row{flex-direction:row-reverse}}
.alert{border:1px solid var(--danger-border);background:var(--danger-bg);color:var(--danger-text);border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.notice{border:1px solid var(--info-border);background:var(--info-bg);border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.alt{margin:1.25rem 0 0;padding-top:1rem;border-top:1px solid var(--border);text-align:center}
.scopes{list-style:none;padding:0;margin:0 0 1rem;border:1px solid var(--border);border-radius:8px}
.scopes li{padding:.65rem .9rem;border-top:1px solid var(--border)}
.scopes li:first-child{border-top:0}
.scopes .name{display:block;font-size:.8rem;color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.details li{overflow-wrap:anywhere}.details ul{list-style:none;padding:0;margin:.35rem 0 0;font-size:.95rem}.details ul li{padding:.1rem 0 .1rem .75rem;border:0}.detail-label{color:var(--muted)}
.who{font-size:.95rem;color:var(--muted);margin:0 0 1rem}
.grants{list-style:none;padding:0;margin:0}
.grant{padding:1rem 0;border-top:1px solid var(--border)}
.grant:last-child{padding-bottom:0}
.grant h3{font-size:1.1rem;margin:0 0 .5rem;overflow-wrap:anywhere}
.dates{font-size:.9rem;color:var(--muted)}
.dates time{white-space:nowrap}
.who strong,.email{color:var(--text);overflow-wrap:anywhere}
.code{font-size:.85rem;color:var(--muted)}
.code code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code-bg);padding:.1rem .3rem;border-radius:4px}
.message{border:1px solid var(--border);border-radius:8px;margin:0 0 1rem;overflow:hidden}
.message header{padding:.65rem .9rem;background:var(--bg);border-bottom:1px solid var(--border);font-size:.9rem}
.message header strong{display:block;font-size:1rem;overflow-wrap:anywhere}
.message pre{margin:0;padding:.9rem;white-space:pre-wrap;overflow-wrap:anywhere;font:.9rem/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.client-logo{margin:0 0 1rem}
.client-logo img{display:block;width:4rem;height:4rem;object-fit:contain}
.client-links{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.9rem}
.client-links a{overflow-wrap:anywhere}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);border:0}
`;

export interface LayoutProps {
  title: string;
  nonce: string;
  /** A wider column (the outbox). */
  wide?: boolean;
  children?: Child;
}

/** The HTML document around a page. `title` is the page's name; the product name is appended. */
export function Layout({ title, nonce, wide, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <meta name="color-scheme" content="light dark" />
        {/* No favicon request: the server has none to serve. */}
        <link rel="icon" href="data:," />
        <title>{`${title} · Latchkey`}</title>
        <style nonce={nonce} dangerouslySetInnerHTML={{ __html: STYLES }} />
      </head>
      <body>
        <p class="brand">Latchkey</p>
        <main class={wide ? "wide" : undefined}>{children}</main>
      </body>
    </html>
  );
}

/** The hidden CSRF field every form carries (src/http/page-security.ts). */
export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={token} />;
}

import { expect } from "vitest";

/** Every page: HTML headers, a CSP nonce that every <style>/<script> carries, and nothing inline without it. */
export function expectPageSecurity(res: Response, html: string) {
  expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("referrer-policy")).toBe("no-referrer");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  const nonce = /style-src 'nonce-([A-Za-z0-9_-]+)'/.exec(csp)?.[1];
  expect(nonce).toBeDefined();
  expect(csp).toContain(`script-src 'nonce-${nonce}'`);
  expect(html.startsWith("<!DOCTYPE html><html lang=\"en\">")).toBe(true);
  const tags = [...html.matchAll(/<(style|script)\b[^>]*>/g)].map((m) => m[0]);
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
  // No inline event handlers or style attributes (the CSP would block them anyway); values aside.
  const markup = html.replace(/"[^"]*"/g, '""');
  expect(markup).not.toMatch(/\son[a-z]+=/i);
  expect(markup).not.toMatch(/\sstyle=/i);
  expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"/>');
  return nonce!;
}

/**
 * Everything an observer sees of a page answer — status, headers, body — with the per-response
 * values (CSP nonce, CSRF token) and the address the form was about replaced, so that the answers
 * for two addresses compare equal exactly when they tell nothing apart (ASVS 5.0 V6.3.8).
 */
export function observableAnswer(res: Response, body: string, email: string) {
  const nonce = /'nonce-([A-Za-z0-9_-]+)'/.exec(res.headers.get("content-security-policy") ?? "")?.[1] ?? "none";
  const csrf = /name="csrf" value="([^"]*)"/.exec(body)?.[1] ?? "none";
  const scrub = (text: string) => text.split(nonce).join("NONCE").split(csrf).join("CSRF").split(email).join("EMAIL");
  return { status: res.status, headers: [...res.headers].map(([name, value]) => [name, scrub(value)]), body: scrub(body) };
}

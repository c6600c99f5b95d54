import { catalog } from "./catalog";

/** Renders docs/errors.md from the catalog (npm run docs:errors); a test keeps the file in sync. */
export function renderCatalogMarkdown(): string {
  const rows = Object.entries(catalog).map(([code, e]) => {
    const headers = e.status === 401 ? (e.error === "invalid_token" ? "`WWW-Authenticate: Bearer`" : "`WWW-Authenticate: Basic`") : "";
    return `| \`${code}\` | \`${e.error}\` | ${e.status} | ${headers} | ${e.redirect ? "yes" : "no"} | ${e.description} | ${e.ref} |`;
  });
  return [
    "# Error catalog",
    "",
    "<!-- Generated from src/errors/catalog.ts by `npm run docs:errors`; test/errors-catalog.test.ts keeps it in sync. -->",
    "",
    "Every error Latchkey returns is one of these entries. The JSON body is",
    '`{"error": <RFC error>, "error_description": <text>, "error_code": <internal code>}`; `error_code` is',
    "Latchkey's stable internal code (an extension member; clients that do not know it ignore it, RFC 6749 §5.2).",
    "All error responses carry `Content-Type: application/json`, `Cache-Control: no-store` and `Pragma: no-cache`;",
    "`error` and `error_description` contain only the characters RFC 6749 §5.2 allows (others become `?`).",
    "Every error is also logged as one JSON line (`event: oauth_error`) with the internal code.",
    "Unexpected failures are logged with their stack and answered as a bare `server_error` (500).",
    "",
    "| internal code | `error` | status | headers | may redirect | description | reference |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

import { OAuthError, ensure } from "../errors/oauth-error";
import type { AppContext } from "../http/context";

/**
 * Input parsing shared by the operator API's routes: JSON object bodies and list pagination.
 * Every failure is `invalid_request` with a description naming what was wrong.
 */

/**
 * The body as a JSON object; with `allowed`, any other member is refused by name. With `optional`,
 * an empty body is `{}`.
 */
export async function jsonObject(
  c: AppContext,
  allowed?: readonly string[],
  options: { optional?: boolean } = {},
): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (options.optional && text.trim() === "") return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new OAuthError("invalid_request", "The body must be a JSON object.");
  }
  ensure(body !== null && typeof body === "object" && !Array.isArray(body), "invalid_request", "The body must be a JSON object.");
  if (allowed) {
    for (const name of Object.keys(body)) {
      ensure(allowed.includes(name), "invalid_request", `Unknown member ${name}; expected one of ${allowed.join(", ")}.`);
    }
  }
  return body as Record<string, unknown>;
}

export function optionalBoolean(body: Record<string, unknown>, name: string): boolean | undefined {
  const value = body[name];
  ensure(value === undefined || typeof value === "boolean", "invalid_request", `${name} must be true or false.`);
  return value;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/**
 * `?limit=` (1–200, default 50) and `?after=` (the `next` cursor of the previous page). Lists answer
 * `{ <items>: [...], next: cursor | null }`; a null `next` means the last page.
 */
export function pageParams(c: AppContext): { limit: number; after?: string } {
  const limit = c.req.query("limit");
  const after = c.req.query("after");
  const n = limit === undefined ? DEFAULT_PAGE_SIZE : Number(limit);
  ensure(Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE && (limit === undefined || /^\d+$/.test(limit)), "invalid_request",
    `limit must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
  ensure(after === undefined || (after.length > 0 && after.length <= 512), "invalid_request", "after must be the next cursor of a previous page.");
  return after === undefined ? { limit: n } : { limit: n, after };
}

// The operator CLI's HTTP side (scripts/admin.mjs): one client for the admin API that turns the
// server's error JSON (error, error_code, error_description) into one readable line, and lists
// that follow `next` cursors.

/** A bad command line (exit 2). */
export class UsageError extends Error {}
/** The server answered with an error (`status`), or could not be reached (exit 1). */
export class ApiError extends Error {
  constructor(message, status = undefined) {
    super(message);
    this.status = status;
  }
}

/** `unreachableHint` is added when the server cannot be reached (e.g. "is `npm run dev` running?"). */
export function apiClient(base, token, unreachableHint = "") {
  return async function api(method, path, body) {
    let res;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      const reason = error.cause?.code ?? error.cause?.message ?? error.message;
      throw new ApiError(`cannot reach ${base}${unreachableHint}: ${reason}`);
    }
    const text = await res.text();
    let data;
    try {
      data = text === "" ? null : JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const detail = data && typeof data === "object"
        ? `${data.error ?? "error"}${data.error_code ? ` (${data.error_code})` : ""}: ${data.error_description ?? ""}`
        : text.slice(0, 200);
      const hint = res.status === 401 ? " — check --token or $ADMIN_TOKEN" : "";
      throw new ApiError(`${method} ${path} → ${res.status} ${detail}${hint}`, res.status);
    }
    if (data === undefined) throw new ApiError(`${method} ${path} → ${res.status}, but the answer is not JSON`);
    return data;
  };
}

/** Every page of a list (or the one asked for with --limit/--after), as { items, next }. */
export async function listPages(api, path, key, opts) {
  const query = (after, limit) => `${path}${path.includes("?") ? "&" : "?"}limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ""}`;
  if (opts.limit !== undefined || opts.after !== undefined) {
    const page = await api("GET", query(opts.after, opts.limit ?? 50));
    return { items: page[key], next: page.next };
  }
  const items = [];
  let after = null;
  do {
    const page = await api("GET", query(after, 200));
    items.push(...page[key]);
    after = page.next;
  } while (after);
  return { items, next: null };
}

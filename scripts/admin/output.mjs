// Output helpers of the operator CLI (scripts/admin.mjs): aligned tables, key/value listings and
// readable times. Only what a terminal needs; --json bypasses all of it.

/** Unix seconds as "2026-11-20 09:12:05Z"; empty for null/undefined, "never" for 0 where that means never. */
export function time(seconds, { zeroIsNever = false } = {}) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds === 0 && zeroIsNever) return "never";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
}

/** One cell's text: arrays joined, objects as JSON, booleans as yes/no. */
export function cell(value) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(cell).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * An aligned text table. `columns` is a list of [header, (row) => value]; the last column is not
 * padded (long values such as redirect URIs stay on one line without trailing spaces).
 */
export function table(rows, columns, { empty = "(none)" } = {}) {
  if (rows.length === 0) return empty;
  const cells = rows.map((row) => columns.map(([, get]) => cell(get(row))));
  const headers = columns.map(([header]) => header);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (values) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** A record as "name  value" lines, in the given order, skipping absent values. */
export function fields(record, names) {
  const present = names.filter(([, get]) => {
    const value = get(record);
    return value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && value.length === 0);
  });
  const width = Math.max(...present.map(([name]) => name.length));
  return present.map(([name, get]) => `${name.padEnd(width)}  ${cell(get(record))}`).join("\n");
}

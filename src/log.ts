/** Structured logging: one JSON object per line, which Workers Logs indexes field by field. */
export type LogFields = Record<string, string | number | boolean | undefined | null>;

export function log(level: "info" | "warn" | "error", event: string, fields: LogFields = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * A moment (Unix seconds) written the same way whoever reads it: in UTC, ISO 8601 order, as a date
 * ("2025-03-04") or to the second ("2025-03-04 10:20:30 UTC"), with the full ISO value in
 * `datetime`. No locale or time zone of the server or the browser enters the text.
 */
export function UtcTime({ seconds, precision }: { seconds: number; precision: "date" | "second" }) {
  const iso = new Date(seconds * 1000).toISOString();
  const text = precision === "date" ? iso.slice(0, 10) : `${iso.replace("T", " ").slice(0, 19)} UTC`;
  return <time datetime={iso}>{text}</time>;
}

import { randomToken } from "../crypto/encoding";
import type { Mailer } from "./mailer";

/**
 * The development mailer: messages are written to the D1 `outbox` table instead of being sent,
 * so a developer (or a test) can read the verification link (`listOutbox`). MAIL_PROVIDER=outbox.
 */
export function outboxMailer(db: D1Database, clock: () => number = () => Math.floor(Date.now() / 1000)): Mailer {
  return {
    async send(message) {
      await db
        .prepare("INSERT INTO outbox (id, recipient, subject, body, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(randomToken(16), message.to, message.subject, message.text, clock())
        .run();
    },
  };
}

export interface OutboxMessage {
  id: string;
  to: string;
  subject: string;
  text: string;
  createdAt: number;
}

/** Newest first, at most `limit`; only those to `recipient` (case-insensitively) when given. */
export async function listOutbox(db: D1Database, recipient?: string, limit = 50): Promise<OutboxMessage[]> {
  const where = recipient === undefined ? "" : "WHERE recipient = ? COLLATE NOCASE";
  const binds = recipient === undefined ? [limit] : [recipient.trim(), limit];
  const { results } = await db
    .prepare(`SELECT id, recipient, subject, body, created_at FROM outbox ${where} ORDER BY created_at DESC, rowid DESC LIMIT ?`)
    .bind(...binds)
    .all<{ id: string; recipient: string; subject: string; body: string; created_at: number }>();
  return results.map((r) => ({ id: r.id, to: r.recipient, subject: r.subject, text: r.body, createdAt: r.created_at }));
}

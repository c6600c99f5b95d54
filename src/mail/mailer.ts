/** Outgoing mail, behind one small interface (adapters: src/mail/outbox.ts, src/mail/cloudflare.ts). */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

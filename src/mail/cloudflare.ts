import type { EmailSendBinding } from "../env";
import type { Mailer } from "./mailer";

/**
 * Sends mail through Cloudflare Email Service's Workers binding (MAIL_PROVIDER=cloudflare).
 *
 * Setup: onboard the sender's domain under Email Sending in the Cloudflare dashboard (it adds the
 * SPF, DKIM and DMARC records), then bind it in wrangler.toml and set the sender:
 *
 *   [vars]
 *   MAIL_PROVIDER = "cloudflare"
 *   MAIL_FROM = "Latchkey <login@example.com>"
 *
 *   [[send_email]]
 *   name = "EMAIL"
 *   allowed_sender_addresses = ["login@example.com"]   # optional: pins the sender
 *
 * `env.EMAIL.send({ from, to, subject, text })` resolves with the message id once Cloudflare has
 * accepted the message and rejects (throws) when it refuses it, e.g. for an unverified sender; we
 * let that propagate to the caller. The sign-up and resend routes send after answering (their
 * answer must not depend on the mail, src/users/sign-up.ts) and log a refusal as `mail_failed`.
 */
export function cloudflareMailer(binding: EmailSendBinding, from: string): Mailer {
  const sender = parseSender(from);
  return {
    async send(message) {
      await binding.send({ from: sender, to: message.to, subject: message.subject, text: message.text });
    },
  };
}

/** "Name <address>" → { name, email }; a bare address stays a string. */
export function parseSender(from: string): string | { email: string; name: string } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from);
  if (!match) return from.trim();
  const name = match[1]!.trim();
  return name ? { email: match[2]!, name } : match[2]!;
}

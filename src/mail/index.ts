import { configFrom } from "../config";
import type { Env } from "../env";
import { cloudflareMailer } from "./cloudflare";
import type { Mailer } from "./mailer";
import { outboxMailer } from "./outbox";

export type { MailMessage, Mailer } from "./mailer";
export { listOutbox, type OutboxMessage } from "./outbox";

/**
 * The mailer MAIL_PROVIDER selects: "outbox" (the default, for local development) or "cloudflare"
 * (production, with MAIL_FROM and the EMAIL send_email binding). A "cloudflare" choice without the
 * binding or the sender is a configuration error, thrown here and by configFrom, so the server
 * refuses to run rather than silently dropping mail.
 */
export function mailerFrom(env: Env): Mailer {
  const config = configFrom(env);
  if (config.mailProvider === "cloudflare") {
    if (!env.EMAIL) throw new Error("MAIL_PROVIDER is cloudflare but the EMAIL send_email binding is missing");
    return cloudflareMailer(env.EMAIL, config.mailFrom);
  }
  return outboxMailer(env.DB);
}

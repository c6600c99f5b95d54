import type { Mailer } from "../mail/mailer";
import { describeScopes } from "../pages/scopes";

/**
 * The mail that tells the person a CIBA request waits for them (CIBA §7.1: the OP authenticates the
 * person on their authentication device): which app asks, the binding message to compare with what
 * the app's device shows, the scopes, and the approval page's link. The link carries the page's
 * own random handle, never the auth_req_id; the page itself requires the person it names.
 */
export async function mailCibaNotice(
  mailer: Mailer,
  notice: { to: string; clientName: string; bindingMessage?: string; scope: readonly string[]; link: string; expiresInMinutes: number },
): Promise<void> {
  const lines = [
    `${notice.clientName} asks you to approve a sign-in.`,
    "",
    ...(notice.bindingMessage !== undefined
      ? [`It shows this message: "${notice.bindingMessage}". Approve only if the app shows the same message.`, ""]
      : []),
    "It asks to:",
    ...describeScopes(notice.scope).map((s) => `- ${s.description}`),
    "",
    `Review and approve or deny it (within ${notice.expiresInMinutes} minutes): ${notice.link}`,
    "",
    "If you did not expect this, deny it or ignore this mail.",
  ];
  await mailer.send({ to: notice.to, subject: `Approve a sign-in to ${notice.clientName}?`, text: lines.join("\n") });
}

import { registerCompletion } from "../authorize/completions";
import { currentSession } from "../authorize/flow";
import { OAuthError } from "../errors/oauth-error";
import { seeOther } from "../http/page-form";
import { cibaRequests } from "../services";
import type { CibaDecided } from "./requests";

/**
 * The `backchannel` completion (src/authorize/completions.ts): the shared transaction signs the
 * person in, has them verify their address and consent (the code flow's pages and superset rule),
 * then — only if the person signed in is the one the request names — either shows the approval
 * page (a sign-in started from the mailed link: the person has not yet seen the binding message)
 * or approves the request with who they are and the consent grant. Someone else gets the answer a
 * nonexistent request gets. A refusal on the way (Deny on the consent page) denies the request,
 * again only for the person it names.
 */
const resultOf = (decided: CibaDecided, done: "approved" | "denied") => {
  if (decided === "not_found") throw new OAuthError("ciba_request_invalid");
  return decided === "done" ? done : decided;
};

registerCompletion("backchannel", {
  async complete(c, txn, who) {
    const { cibaRequestId, handle, sub, confirmed } = txn.completion;
    if (who.sub !== sub) throw new OAuthError("ciba_request_invalid");
    if (!confirmed) return seeOther(`/ciba/${handle}`);
    const decided = await cibaRequests(c).approve(cibaRequestId, who.sub, who);
    return seeOther(`/ciba/done?result=${resultOf(decided, "approved")}`);
  },
  async fail(c, txn) {
    const session = await currentSession(c);
    if (session === null || session.userId !== txn.completion.sub) throw new OAuthError("ciba_request_invalid");
    const decided = await cibaRequests(c).deny(txn.completion.cibaRequestId, session.userId);
    return seeOther(`/ciba/done?result=${resultOf(decided, "denied")}`);
  },
});

import { registerCompletion } from "../authorize/completions";
import { seeOther } from "../http/page-form";
import { deviceRequests } from "../services";
import type { Decided } from "./requests";

/**
 * The `device` completion (src/authorize/completions.ts): once the person is signed in, verified
 * and has consented — the code flow's pages and rules — the device request is approved with who
 * they are and the consent grant; a refusal on the way (Deny on the consent page, a disabled
 * account) denies it. Either way the browser lands on the result page.
 */
const resultOf = (decided: Decided, done: "approved" | "denied") => (decided === "done" ? done : decided);

registerCompletion("device", {
  async complete(c, txn, who) {
    const decided = await deviceRequests(c).approve(txn.completion.deviceRequestId, who);
    return seeOther(`/device/done?result=${resultOf(decided, "approved")}`);
  },
  async fail(c, txn) {
    const decided = await deviceRequests(c).deny(txn.completion.deviceRequestId);
    return seeOther(`/device/done?result=${resultOf(decided, "denied")}`);
  },
});

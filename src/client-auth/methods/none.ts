import type { ClientAuthMethod } from "../types";

/** `none`: public clients (RFC 6749 §2.1) identify themselves by client_id and prove nothing. */
export const none: ClientAuthMethod = {
  name: "none",
  carrier: "bare",
  async verify() {},
};

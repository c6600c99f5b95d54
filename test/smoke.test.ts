import { describe, expect, it } from "vitest";
import { basic, call, createClient, tokenRequest } from "./helpers";

describe("smoke", () => {
  it("discovery answers", async () => {
    const res = await call("/.well-known/oauth-authorization-server");
    expect(res.status).toBe(200);
  });
  it("client_credentials with client_secret_basic", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest({ grant_type: "client_credentials" }, { authorization: basic(c.client_id, c.client_secret!) });
    expect(res.status, await res.clone().text()).toBe(200);
  });
});

import { describe, expect, it } from "vitest";
import { basic, createClient, expectError, tokenRequest, uniqueId } from "./helpers";

const CC = { grant_type: "client_credentials" };
const b64 = (text: string) => btoa(text);

describe("RFC 6749 §2.3.1 client_secret_basic", () => {
  it("authenticates with the id and secret form-encoded before base64 (Appendix B)", async () => {
    // Characters that Appendix B requires to be form-encoded: space, %, :, +, and non-ASCII.
    const id = uniqueId("id:colon+plus%pct&amp=eq");
    const c = await createClient({ client_id: id, token_endpoint_auth_method: "client_secret_basic",
      client_secret: "s3cret with spaces:colons+plus%percent and ünïcode 0123456789" });
    const res = await tokenRequest(CC, { authorization: basic(id, c.client_secret!) });
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("accepts the scheme name in any case (RFC 9110 §11.1)", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest(CC, { authorization: basic(c.client_id, c.client_secret!).replace("Basic", "bAsIc") });
    expect(res.status).toBe(200);
  });

  it("a wrong secret is 401 invalid_client with WWW-Authenticate: Basic (§5.2)", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest(CC, { authorization: basic(c.client_id, `${c.client_secret}x`) });
    await expectError(res, 401, "invalid_client", "invalid_client_secret");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic realm="https:\/\/latchkey\.test"/);
  });

  it("an unknown client is 401 invalid_client", async () => {
    const res = await tokenRequest(CC, { authorization: basic("no-such-client", "whatever-secret") });
    await expectError(res, 401, "invalid_client", "invalid_client_id");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
  });

  const malformed: [string, string][] = [
    ["no colon", `Basic ${b64("just-an-id")}`],
    ["bad base64", "Basic !!!not-base64!!!"],
    ["base64 with bad length", "Basic abcde"],
    ["bad percent-encoding", `Basic ${b64("client%zz:secret")}`],
    ["percent-encoding of invalid UTF-8", `Basic ${b64("client%ff:secret")}`],
    ["non-UTF-8 bytes", `Basic ${btoa(String.fromCharCode(0xc3, 0x28, 0x3a, 0x61))}`],
    ["empty credentials", "Basic "],
    ["empty secret", `Basic ${b64("client:")}`],
    ["empty id", `Basic ${b64(":secret")}`],
  ];
  for (const [name, header] of malformed) {
    it(`a malformed header (${name}) is 401 invalid_client, never a 500`, async () => {
      const res = await tokenRequest(CC, { authorization: header });
      await expectError(res, 401, "invalid_client", "invalid_basic_auth_creds");
      expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
    });
  }

  it("another Authorization scheme is 401 invalid_client with a Basic challenge", async () => {
    const res = await tokenRequest(CC, { authorization: "Bearer abc" });
    await expectError(res, 401, "invalid_client", "unsupported_auth_scheme");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
  });
});

describe("RFC 6749 §2.3.1 client_secret_post", () => {
  it("authenticates with client_id and client_secret in the body", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_post" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id, client_secret: c.client_secret! });
    expect(res.status).toBe(200);
  });

  it("a wrong secret is 401 invalid_client", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_post" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id, client_secret: "wrong" });
    await expectError(res, 401, "invalid_client", "invalid_client_secret");
  });

  it("client_secret without client_id is invalid_request", async () => {
    const res = await tokenRequest({ ...CC, client_secret: "x" });
    await expectError(res, 400, "invalid_request", "missing_parameter");
  });

  it("secrets in the URI query are refused (§2.3.1)", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_post" });
    const { call } = await import("./helpers");
    const res = await call(`/token?client_secret=${c.client_secret}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...CC, client_id: c.client_id, client_secret: c.client_secret! }).toString(),
    });
    await expectError(res, 400, "invalid_request", "client_secret_in_query");
  });
});

describe("RFC 6749 §2.3 one method per request, the registered one", () => {
  it("Basic and client_secret in the body together are invalid_request", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id, client_secret: c.client_secret! },
      { authorization: basic(c.client_id, c.client_secret!) });
    await expectError(res, 400, "invalid_request", "multiple_client_auth_methods");
  });

  it("a basic client using client_secret_post is refused (invalid_token_endpoint_auth_method)", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id, client_secret: c.client_secret! });
    await expectError(res, 401, "invalid_client", "invalid_token_endpoint_auth_method");
  });

  it("a post client using Basic is refused", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_post" });
    const res = await tokenRequest(CC, { authorization: basic(c.client_id, c.client_secret!) });
    await expectError(res, 401, "invalid_client", "invalid_token_endpoint_auth_method");
    expect(res.headers.get("www-authenticate")).toMatch(/^Basic /);
  });

  it("a confidential client sending only client_id is missing_client_credentials", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id });
    await expectError(res, 401, "invalid_client", "missing_client_credentials");
  });

  it("no credentials and no client_id is missing_client_credentials", async () => {
    const res = await tokenRequest(CC);
    await expectError(res, 401, "invalid_client", "missing_client_credentials");
  });

  it("a body client_id that differs from the Basic one is refused", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest({ ...CC, client_id: "someone-else" }, { authorization: basic(c.client_id, c.client_secret!) });
    await expectError(res, 401, "invalid_client", "client_id_mismatch");
  });

  it("a body client_id equal to the Basic one is accepted", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id }, { authorization: basic(c.client_id, c.client_secret!) });
    expect(res.status).toBe(200);
  });

  it("an expired secret is refused (RFC 7591 §3.2.1 client_secret_expires_at)", async () => {
    const c = await createClient({ token_endpoint_auth_method: "client_secret_basic", client_secret_expires_at: 1000 });
    const res = await tokenRequest(CC, { authorization: basic(c.client_id, c.client_secret!) });
    await expectError(res, 401, "invalid_client", "client_secret_expired");
  });

  it("non-ASCII and control characters in client_id are invalid_client, not a 500", async () => {
    for (const id of ["ünïcode", "tab\there", "a".repeat(300)]) {
      const res = await tokenRequest({ ...CC, client_id: id, client_secret: "x" });
      await expectError(res, 401, "invalid_client", "invalid_client_id");
    }
  });
});

describe("RFC 6749 §2.1 public clients (none)", () => {
  it("a public client is identified by client_id but may not use client_credentials", async () => {
    const c = await createClient({ token_endpoint_auth_method: "none" });
    const res = await tokenRequest({ ...CC, client_id: c.client_id });
    await expectError(res, 400, "unauthorized_client", "public_client_not_allowed");
  });
});

import { describe, expect, it } from "vitest";
import { basic, call, createClient, expectError } from "./helpers";

async function post(body: BodyInit | null, headers: Record<string, string>) {
  return call("/token", { method: "POST", headers, body });
}

describe("RFC 6749 §3.2 token endpoint requests", () => {
  it("only POST: GET, PUT and DELETE are 405 with Allow: POST", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const res = await call("/token", { method });
      await expectError(res, 405, "invalid_request", "method_not_allowed");
      expect(res.headers.get("allow")).toBe("POST");
    }
  });

  it("a JSON body gets a clear invalid_request", async () => {
    const c = await createClient({});
    const res = await post(JSON.stringify({ grant_type: "client_credentials" }), {
      "content-type": "application/json",
      authorization: basic(c.client_id, c.client_secret!),
    });
    const body = await expectError(res, 400, "invalid_request", "unsupported_content_type");
    expect(body.error_description).toMatch(/application\/x-www-form-urlencoded/);
  });

  it("other or missing content types are invalid_request", async () => {
    for (const type of ["text/plain", "multipart/form-data; boundary=x", ""]) {
      const res = await post("grant_type=client_credentials", type ? { "content-type": type } : {});
      await expectError(res, 400, "invalid_request", "unsupported_content_type");
    }
  });

  it("accepts a charset=UTF-8 parameter and refuses other charsets", async () => {
    const c = await createClient({});
    const auth = { authorization: basic(c.client_id, c.client_secret!) };
    const ok = await post("grant_type=client_credentials", { "content-type": "application/x-www-form-urlencoded; charset=UTF-8", ...auth });
    expect(ok.status).toBe(200);
    const bad = await post("grant_type=client_credentials", { "content-type": "application/x-www-form-urlencoded; charset=iso-8859-1", ...auth });
    await expectError(bad, 400, "invalid_request", "unsupported_content_type");
  });

  it("§3.2 a repeated parameter is invalid_request", async () => {
    const c = await createClient({});
    const res = await post("grant_type=client_credentials&scope=read&scope=write", {
      "content-type": "application/x-www-form-urlencoded",
      authorization: basic(c.client_id, c.client_secret!),
    });
    const body = await expectError(res, 400, "invalid_request", "duplicate_parameter");
    expect(body.error_description).toContain("scope");
  });

  it("§3.1 a parameter without a value counts as omitted; unknown parameters are ignored", async () => {
    const c = await createClient({ scope: "read" });
    const res = await post("grant_type=client_credentials&scope=&unknown=1&another", {
      "content-type": "application/x-www-form-urlencoded",
      authorization: basic(c.client_id, c.client_secret!),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe("read");
  });

  it("an empty body is a clear error, not a 500", async () => {
    const res = await post("", { "content-type": "application/x-www-form-urlencoded" });
    await expectError(res, 401, "invalid_client", "missing_client_credentials");
  });

  it("an oversized body is invalid_request, whether or not Content-Length announces it", async () => {
    const big = `grant_type=client_credentials&pad=${"a".repeat(70 * 1024)}`;
    await expectError(await post(big, { "content-type": "application/x-www-form-urlencoded" }), 400, "invalid_request", "request_body_too_large");
    const stream = new Blob([big]).stream();
    const res = await call("/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: stream, duplex: "half" } as RequestInit);
    await expectError(res, 400, "invalid_request", "request_body_too_large");
  });

  it("a body without Content-Length (chunked) that streams past the bound is cut off there", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 4_000_000) return controller.close();
        pulled += 65_536;
        controller.enqueue(new Uint8Array(65_536).fill(0x61));
      },
    });
    const res = await call("/token", {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body, duplex: "half",
    } as RequestInit);
    await expectError(res, 400, "invalid_request", "request_body_too_large");
    expect(pulled).toBeLessThan(4_000_000);
  });

  it("RFC 9112 §6.3: a body longer or shorter than its Content-Length is invalid_request", async () => {
    // Only a Request made in-process (a service binding) can do this; HTTP frames a body by its length.
    const stream = (bytes: number) => new Blob([`grant_type=client_credentials&pad=${"a".repeat(bytes)}`]).stream();
    for (const [declared, body] of [["10", stream(100)], ["500", stream(10)]] as const) {
      const res = await call("/token", {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "content-length": declared }, body, duplex: "half",
      } as RequestInit);
      await expectError(res, 400, "invalid_request", "request_body_length_mismatch");
    }
  });

  it("a body that is not UTF-8 is invalid_request", async () => {
    const res = await post(new Uint8Array([0x67, 0x3d, 0xff, 0xfe]), { "content-type": "application/x-www-form-urlencoded" });
    await expectError(res, 400, "invalid_request", "request_body_not_utf8");
  });

  it("malformed percent-encoding is invalid_request", async () => {
    for (const body of ["grant_type=%zz", "grant_type=%", "grant_type=%c3%28"]) {
      await expectError(await post(body, { "content-type": "application/x-www-form-urlencoded" }), 400, "invalid_request", "invalid_request");
    }
  });

  it("unknown paths are 404 JSON errors", async () => {
    await expectError(await call("/nope"), 404, "invalid_request", "not_found");
  });
});

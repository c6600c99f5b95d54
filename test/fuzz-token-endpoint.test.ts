import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call } from "./helpers";

const ALLOWED = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
const names = fc.constantFrom(
  "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "scope", "code", "x", "",
);
const values = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom("client_credentials", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "%", "%zz", "a.b.c", "eyJhbGciOiJub25lIn0.e30."),
);
const form = fc.array(fc.tuple(names, values), { maxLength: 8 }).map((pairs) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${Math.random() < 0.2 ? v : encodeURIComponent(v)}`).join("&"),
);
const headers = fc.record(
  {
    "content-type": fc.constantFrom("application/x-www-form-urlencoded", "application/json", "text/plain", "application/x-www-form-urlencoded; charset=latin1", ""),
    authorization: fc.oneof(fc.string(), fc.constantFrom("Basic", "Basic Og==", "Basic ::::", "Bearer x", "Basic w6k6w6k=")),
  },
  { requiredKeys: [] },
);

describe("property: the token endpoint never answers 5xx to bad input", () => {
  it("random bodies, content types, methods and Authorization headers get a well-formed RFC error", async () => {
    await fc.assert(
      fc.asyncProperty(
        form,
        headers,
        fc.constantFrom("POST", "POST", "POST", "GET", "PUT"),
        fc.option(fc.uint8Array({ maxLength: 64 })),
        async (body, hdrs, method, rawBytes) => {
          const init: RequestInit = { method, headers: Object.fromEntries(Object.entries(hdrs).filter(([, v]) => /^[\x20-\x7e]*$/.test(v))) };
          if (method !== "GET") init.body = rawBytes ?? body;
          const res = await call("/token", init);
          expect(res.status).toBeLessThan(500);
          if (res.status !== 200) {
            const json = (await res.json()) as Record<string, string>;
            expect(typeof json.error).toBe("string");
            expect(json.error).toMatch(ALLOWED);
            expect(json.error_description).toMatch(ALLOWED);
            expect(res.headers.get("cache-control")).toBe("no-store");
            if (res.status === 401) expect(res.headers.get("www-authenticate")).toBeTruthy();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/errors/oauth-error";
import { parseFormEncoded, parseFormEncodedMulti } from "../src/http/form";

const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof OAuthError ? error.code : String(error);
  }
  return undefined;
};

describe("RFC 6749 Appendix B / §3.1: application/x-www-form-urlencoded parameters", () => {
  it("decodes names and values (+ is a space, %XX is UTF-8), splitting a pair at its first =", () => {
    const params = parseFormEncoded("grant_type=client_credentials&scope=read+write&x=%C3%A9%2B&a=b=c&=v");
    expect([...params]).toEqual([["grant_type", "client_credentials"], ["scope", "read write"], ["x", "é+"], ["a", "b=c"], ["", "v"]]);
  });

  it("§3.1: a parameter without a value, or with an empty one, is treated as omitted", () => {
    expect([...parseFormEncoded("a&b=&c=1&&d")]).toEqual([["c", "1"]]);
    expect([...parseFormEncoded("")]).toEqual([]);
    expect([...parseFormEncoded("&")]).toEqual([]);
    // ... and so does not count as a repeat.
    expect([...parseFormEncoded("a=1&a=&a")]).toEqual([["a", "1"]]);
  });

  it("§3.1, §3.2: a parameter sent twice is an error; the multi-valued reading keeps every value in order", () => {
    expect(codeOf(() => parseFormEncoded("scope=a&scope=b"))).toBe("duplicate_parameter");
    expect([...parseFormEncodedMulti("resource=x&a=1&resource=y")]).toEqual([["resource", ["x", "y"]], ["a", ["1"]]]);
  });

  it("malformed percent-encoding or invalid UTF-8 in a name or a value is invalid_request", () => {
    for (const body of ["a=%zz", "a=%", "a=%c3%28", "%zz=1", "a=1&b=%E2%82"]) {
      expect(codeOf(() => parseFormEncoded(body)), body).toBe("invalid_request");
    }
  });

  it("a body of many pairs without = (or with = only at its end) is parsed in one pass", () => {
    const pairs = 32 * 1024;
    expect(parseFormEncoded("a&".repeat(pairs)).size).toBe(0);
    const params = parseFormEncodedMulti(`${"a&".repeat(pairs)}z=1`);
    expect([...params]).toEqual([["z", ["1"]]]);
  });
});

import { describe, expect, it } from "vitest";
import { USER_CODE_ALPHABET, formatUserCode, newUserCode, normalizeUserCode } from "../src/device/user-code";

describe("RFC 8628 §6.1: user codes", () => {
  it("8 characters from BCDFGHJKLMNPQRSTVWXZ (no vowels, no digits), shown as XXXX-XXXX", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const code = newUserCode();
      expect(code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      for (const ch of code) seen.add(ch);
    }
    // Every letter of the alphabet comes up (the draw is uniform: no letter is left out).
    expect([...seen].sort().join("")).toBe(USER_CODE_ALPHABET);
    expect(formatUserCode("BCDFGHJK")).toBe("BCDF-GHJK");
  });

  it("typed case-, dash- and space-insensitively; anything else is not a code", () => {
    for (const typed of ["BCDF-GHJK", "bcdf-ghjk", "bcdfghjk", " bcdf ghjk ", "BC-DF-GH-JK"]) expect(normalizeUserCode(typed)).toBe("BCDFGHJK");
    for (const typed of [undefined, "", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", "B".repeat(40)]) expect(normalizeUserCode(typed)).toBeUndefined();
  });
});

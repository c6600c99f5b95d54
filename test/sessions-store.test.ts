import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { hashForStorage } from "../src/crypto/hash";
import { SESSION_COOKIE, clearSessionCookie, readSessionCookie, sessionCookie } from "../src/sessions/cookie";
import { d1SessionStore } from "../src/sessions/store";
import { nowSeconds, uniqueId } from "./helpers";

const TTL = configFrom(env).sessionTtl;
const sessions = () => d1SessionStore(env.DB, { ttl: TTL });
const withCookie = (cookie: string) => new Request("https://latchkey.test/authorize", { headers: { cookie } });

describe("sessions: server-side records named by a random cookie (issue 3; OIDC Core 2 auth_time, sid)", () => {
  it("default lifetime is 14 days", () => {
    expect(TTL).toBe(14 * 24 * 3600);
  });

  it("create returns a 256-bit cookie value and the session; get finds it by the cookie", async () => {
    const now = nowSeconds();
    const { cookieValue, session } = await sessions().create({ userId: "u1", authTime: now - 5, amr: ["pwd"] }, now);
    expect(cookieValue).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session).toEqual({ sid: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), userId: "u1", authTime: now - 5, amr: ["pwd"], expiresAt: now + TTL });
    expect(await sessions().get(cookieValue, now + 1)).toEqual(session);
  });

  it("only the SHA-256 of the cookie value is stored", async () => {
    const now = nowSeconds();
    const { cookieValue, session } = await sessions().create({ userId: "u2", authTime: now, amr: ["pwd"] }, now);
    const row = await env.DB.prepare("SELECT * FROM sessions WHERE sid = ?").bind(session.sid).first<Record<string, unknown>>();
    expect(row?.id_hash).toBe(await hashForStorage(cookieValue));
    expect(Object.values(row ?? {})).not.toContain(cookieValue);
  });

  it("an expired session is not returned", async () => {
    const now = nowSeconds();
    const { cookieValue, session } = await sessions().create({ userId: "u3", authTime: now, amr: ["pwd"] }, now);
    expect(await sessions().get(cookieValue, session.expiresAt - 1)).not.toBeNull();
    expect(await sessions().get(cookieValue, session.expiresAt)).toBeNull();
  });

  it("end(sid) ends the session: get returns null afterwards", async () => {
    const now = nowSeconds();
    const { cookieValue, session } = await sessions().create({ userId: "u4", authTime: now, amr: ["pwd"] }, now);
    await sessions().end(session.sid, now + 1);
    expect(await sessions().get(cookieValue, now + 2)).toBeNull();
    await sessions().end(session.sid, now + 3); // ending twice is harmless
  });

  it("endAllForUser ends every live session of that user and no one else's", async () => {
    const now = nowSeconds();
    const user = uniqueId("user");
    const a = await sessions().create({ userId: user, authTime: now, amr: ["pwd"] }, now);
    const b = await sessions().create({ userId: user, authTime: now, amr: ["pwd"] }, now);
    const other = await sessions().create({ userId: uniqueId("other"), authTime: now, amr: ["pwd"] }, now);
    await sessions().endAllForUser(user, now + 1);
    expect(await sessions().get(a.cookieValue, now + 2)).toBeNull();
    expect(await sessions().get(b.cookieValue, now + 2)).toBeNull();
    expect(await sessions().get(other.cookieValue, now + 2)).not.toBeNull();
  });

  it("unknown, empty or forged cookie values find nothing", async () => {
    expect(await sessions().get("", nowSeconds())).toBeNull();
    expect(await sessions().get("A".repeat(43), nowSeconds())).toBeNull();
  });
});

describe("session cookie (RFC 6265bis 4.1.3.2 __Host- prefix; 5.4.7 SameSite)", () => {
  const value = "a".repeat(21) + "_-" + "B".repeat(20);

  it("is __Host-latchkey-session, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, with Max-Age", () => {
    const header = sessionCookie(value, 1209600);
    const [pair, ...attributes] = header.split("; ");
    expect(pair).toBe(`${SESSION_COOKIE}=${value}`);
    expect(SESSION_COOKIE).toBe("__Host-latchkey-session");
    expect(attributes.sort()).toEqual(["HttpOnly", "Max-Age=1209600", "Path=/", "SameSite=Lax", "Secure"]);
    expect(header).not.toMatch(/domain=/i);
  });

  it("clearing it sends an empty value with Max-Age=0 and the same attributes", () => {
    expect(clearSessionCookie().split("; ").sort()).toEqual([`${SESSION_COOKIE}=`, "HttpOnly", "Max-Age=0", "Path=/", "SameSite=Lax", "Secure"].sort());
  });

  it("refuses to build a cookie from a value or Max-Age it did not issue", () => {
    expect(() => sessionCookie("x; Domain=evil.example", 60)).toThrow();
    expect(() => sessionCookie(value, -1)).toThrow();
  });

  it("is read from the Cookie header among others", () => {
    expect(readSessionCookie(withCookie(`${SESSION_COOKIE}=${value}`))).toBe(value);
    expect(readSessionCookie(withCookie(`a=1; ${SESSION_COOKIE}=${value}; b=2`))).toBe(value);
    expect(readSessionCookie(withCookie(`a=1;${SESSION_COOKIE}=${value}`))).toBe(value);
    expect(readSessionCookie(withCookie(`${SESSION_COOKIE}="${value}"`))).toBe(value);
    expect(readSessionCookie(new Headers({ cookie: `${SESSION_COOKIE}=${value}` }))).toBe(value);
    expect(readSessionCookie(new Request("https://latchkey.test/"))).toBeNull();
  });

  it("malformed cookie headers never throw and yield no value", () => {
    for (const header of [
      "",
      ";;;",
      "=",
      "==",
      `${SESSION_COOKIE}`,
      `${SESSION_COOKIE}=`,
      `${SESSION_COOKIE}=%ZZ`,
      `${SESSION_COOKIE}=${value}x`,
      `${SESSION_COOKIE}=${"*".repeat(43)}`,
      `latchkey-session=${value}`,
      `__host-latchkey-session=${value}`,
      `x${SESSION_COOKIE}=${value}`,
      `"${SESSION_COOKIE}"=${value}`,
    ]) {
      expect(readSessionCookie(withCookie(header)), header).toBeNull();
    }
  });

  it("when the name appears twice, the first well-formed value wins", () => {
    const other = "C".repeat(43);
    expect(readSessionCookie(withCookie(`${SESSION_COOKIE}=junk; ${SESSION_COOKIE}=${other}; ${SESSION_COOKIE}=${value}`))).toBe(other);
  });

  it("property: any Cookie header string is parsed without throwing, and a value is only ever one we could have issued", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary-ascii", maxLength: 300 }), fc.string({ unit: "binary-ascii", maxLength: 60 }), (junk, middle) => {
        const headers = new Headers();
        const header = `${junk}; ${SESSION_COOKIE}=${middle}; ${junk}`.replace(/[\r\n\0]/g, "");
        try {
          headers.set("cookie", header);
        } catch {
          return; // not a legal header value: never reaches the Worker
        }
        const result = readSessionCookie(headers);
        expect(result === null || /^[A-Za-z0-9_-]{43}$/.test(result)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { DEFAULT_PUBLISH_DELAY, rotationPolicy } from "../src/keys/rotation";
import { configFrom } from "../src/config";
import { ISSUER, basic, call, createClient, expectError, tokenRequest } from "./helpers";
import { frozenClock } from "./oidc-helpers";

/**
 * The operator API for signing keys: GET /admin/keys lists them (no private material), POST
 * /admin/keys/rotate runs one step of src/keys/rotation.ts (test/keys-rotation.test.ts covers the
 * life cycle itself). The tests run in order: each rotation builds on the previous state.
 */
const operator = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const send = (method: string, path: string, body?: string) => call(path, { method, headers: operator, ...(body !== undefined && { body }) });
const json = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as Record<string, any>;
};
type KeyJson = { kid: string; alg: string; state: string; published: boolean; created_at: number; expires_at: number | null };
const keys = async (): Promise<KeyJson[]> => (await json(await send("GET", "/admin/keys"))).keys;
const jwksKids = async () => ((await (await call("/jwks")).json()) as JSONWebKeySet).keys.map((k) => k.kid);
const kidsIn = (list: KeyJson[], state: string) => list.filter((k) => k.state === state).map((k) => k.kid);

async function accessToken(): Promise<string> {
  const client = await createClient({});
  const res = await tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(client.client_id, client.client_secret!) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("GET /admin/keys and POST /admin/keys/rotate", () => {
  it("lists every key with its state and dates, never private material", async () => {
    const list = await keys();
    expect(list.map((k) => [k.alg, k.state]).sort()).toEqual([["ES256", "current"], ["EdDSA", "current"], ["RS256", "current"]]);
    expect(list[0]).toEqual({
      kid: expect.any(String), alg: expect.any(String), state: "current", created_at: expect.any(Number), activated_at: expect.any(Number),
      retired_at: null, expires_at: null, published: true,
    });
    const text = JSON.stringify(list);
    expect(text).not.toMatch(/sealed|"d"|private/);
  });

  it("the first rotation publishes a next key per algorithm, which does not sign yet; running again changes nothing", async () => {
    const before = kidsIn(await keys(), "current");
    const report = await json(await send("POST", "/admin/keys/rotate"));
    expect(report.algs.map((a: { promoted: unknown }) => a.promoted)).toEqual([null, null, null]);
    const next = report.algs.map((a: { created: string[] }) => a.created[0]);
    expect(next.every((kid: unknown) => typeof kid === "string")).toBe(true);
    expect(kidsIn(report.keys, "next").sort()).toEqual([...next].sort());
    expect(await jwksKids()).toEqual(expect.arrayContaining([...before, ...next]));
    expect(decodeProtectedHeader(await accessToken()).kid).toBe(before.find((kid) => report.keys.find((k: KeyJson) => k.kid === kid).alg === "ES256"));

    const again = await json(await send("POST", "/admin/keys/rotate", "{}"));
    expect(again.algs.flatMap((a: { created: string[] }) => a.created)).toEqual([]);
    expect(again.algs.map((a: { next: { kid: string } }) => a.next.kid)).toEqual(next);
  });

  it(`after ${DEFAULT_PUBLISH_DELAY} s the next key signs; the old one stays in the JWKS, retired until its tokens expire`, async () => {
    const next = (await keys()).find((k) => k.alg === "ES256" && k.state === "next")!;
    const waiting = next.kid;
    const clock = frozenClock();
    try {
      // To the last second before the next key may sign (created_at + publishDelay - 1).
      clock.advance(next.created_at + DEFAULT_PUBLISH_DELAY - 1 - Date.now() / 1000);
      expect((await json(await send("POST", "/admin/keys/rotate"))).algs[0].promoted).toBeNull();
      const oldToken = await accessToken();
      const oldKid = decodeProtectedHeader(oldToken).kid!;
      clock.advance(1);
      const report = await json(await send("POST", "/admin/keys/rotate"));
      const es256 = report.algs.find((a: { alg: string }) => a.alg === "ES256");
      expect(es256).toMatchObject({ promoted: waiting, retired: [oldKid] });
      const retired = report.keys.find((k: KeyJson) => k.kid === oldKid);
      const now = Math.floor(Date.now() / 1000);
      expect(retired).toMatchObject({ state: "retired", published: true, expires_at: now + rotationPolicy(configFrom(env)).maxTokenLifetime });
      expect(decodeProtectedHeader(await accessToken()).kid).toBe(waiting);
      const jwks = (await (await call("/jwks")).json()) as JSONWebKeySet;
      expect(jwks.keys.map((k) => k.kid)).toContain(oldKid);
      await expect(jwtVerify(oldToken, createLocalJWKSet(jwks), { issuer: ISSUER, typ: "at+jwt", currentDate: new Date() })).resolves.toBeDefined();
    } finally {
      clock.restore();
    }
  });

  it("force: true promotes the waiting key at once", async () => {
    const waiting = (await keys()).filter((k) => k.state === "next").map((k) => k.kid);
    const report = await json(await send("POST", "/admin/keys/rotate", JSON.stringify({ force: true })));
    expect(report.algs.map((a: { promoted: string }) => a.promoted).sort()).toEqual([...waiting].sort());
    expect(kidsIn(report.keys, "current").sort()).toEqual([...waiting].sort());
    expect(decodeProtectedHeader(await accessToken()).kid).toBe(report.algs.find((a: { alg: string }) => a.alg === "ES256").promoted);
  });

  it("refuses a body that is not {force?: boolean}", async () => {
    await expectError(await send("POST", "/admin/keys/rotate", JSON.stringify({ force: "yes" })), 400, "invalid_request");
    await expectError(await send("POST", "/admin/keys/rotate", JSON.stringify({ forse: true })), 400, "invalid_request");
    await expectError(await send("POST", "/admin/keys/rotate", "force"), 400, "invalid_request");
  });

  it("POST /admin/keys (provisioning) creates nothing when every algorithm has a current key", async () => {
    expect(await json(await send("POST", "/admin/keys"))).toEqual({ created: [] });
  });
});

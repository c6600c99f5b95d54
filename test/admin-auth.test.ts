import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError } from "./helpers";
import { workerWithEnv } from "./oidc-helpers";

/**
 * Every operator route needs `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time):
 * without it, or with a wrong one, 401 invalid_token with a Bearer challenge (RFC 6750 §3), before
 * anything else is looked at (so unknown ids are not revealed). Without ADMIN_TOKEN the API is absent.
 */
const ROUTES: [string, string][] = [
  ["POST", "/admin/keys"],
  ["GET", "/admin/keys"],
  ["POST", "/admin/keys/rotate"],
  ["GET", "/admin/clients"],
  ["POST", "/admin/clients"],
  ["GET", "/admin/clients/some-client"],
  ["PUT", "/admin/clients/some-client"],
  ["PATCH", "/admin/clients/some-client"],
  ["DELETE", "/admin/clients/some-client"],
  ["POST", "/admin/clients/some-client/secret"],
  ["GET", "/admin/users"],
  ["POST", "/admin/users"],
  ["GET", "/admin/users?email=a@example.com"],
  ["GET", "/admin/users/some-user"],
  ["PATCH", "/admin/users/some-user"],
  ["GET", "/admin/users/some-user/grants"],
  ["DELETE", "/admin/users/some-user/grants/some-client"],
  ["POST", "/admin/initial-access-tokens"],
];

const CREDENTIALS: [string, Record<string, string>][] = [
  ["no Authorization header", {}],
  ["a wrong token", { authorization: "Bearer not-the-admin-token" }],
  ["the right token with another scheme", { authorization: `Basic ${env.ADMIN_TOKEN}` }],
  ["the token's prefix", { authorization: `Bearer ${env.ADMIN_TOKEN!.slice(0, -1)}` }],
  ["the token with a suffix", { authorization: `Bearer ${env.ADMIN_TOKEN}x` }],
];

describe("operator API authentication (RFC 6750 §3 challenge)", () => {
  for (const [method, path] of ROUTES) {
    it(`${method} ${path}: 401 invalid_token for a missing or wrong operator token`, async () => {
      for (const [, headers] of CREDENTIALS) {
        const res = await call(path, { method, headers: { ...headers, "content-type": "application/json" }, ...(method !== "GET" && { body: "{}" }) });
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="[^"]+", error="invalid_token"/);
        await expectError(res, 401, "invalid_token", "invalid_token");
      }
    });
  }

  it("with no ADMIN_TOKEN configured the operator API does not exist (404 for every route)", async () => {
    const send = workerWithEnv({ ADMIN_TOKEN: undefined });
    for (const [method, path] of ROUTES) {
      const res = await send(path, { method, headers: { authorization: "Bearer anything" }, ...(method !== "GET" && { body: "{}" }) });
      await expectError(res, 404, "invalid_request", "not_found");
    }
  });
});

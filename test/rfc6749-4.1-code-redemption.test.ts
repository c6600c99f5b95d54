import { afterEach, describe, expect, it, vi } from "vitest";
import { basic, call, expectError, tokenRequest } from "./helpers";
import {
  Browser, REDIRECT_URI, authorize, clientRedirect, codeRequest, expectTokenResponse, frozenClock, oidcClient, person, redeem,
} from "./oidc-helpers";

/**
 * RFC 6749 §4.1.2 / §4.1.3 / §10.5: the code is short-lived, single use, bound to its client and
 * redirect URI; a failed attempt (wrong client, wrong redirect URI) does not burn it for its owner.
 * Plus CORS at the token endpoint for browser clients (RFC 9700 §2.6).
 */

afterEach(() => vi.useRealTimers());

async function issuedCode(clientInput: Record<string, unknown> = {}) {
  const client = await oidcClient(clientInput);
  const user = await person();
  const { params, verifier } = await codeRequest(client.client_id);
  const code = clientRedirect((await authorize(new Browser(), params, user)).response).get("code")!;
  return { client, code, verifier, user };
}

describe("RFC 6749 §4.1.3 the code is bound to its client", () => {
  it("another client redeeming it → invalid_grant; the owner can still redeem it afterwards", async () => {
    const { client, code, verifier } = await issuedCode();
    const other = await oidcClient();
    await expectError(await redeem(other, code, verifier), 400, "invalid_grant", "code_client_mismatch");
    await expectTokenResponse(await redeem(client, code, verifier));
  });

  it("a public client's code redeemed by naming another public client_id → invalid_grant", async () => {
    const { client, code, verifier } = await issuedCode({ token_endpoint_auth_method: "none" });
    const other = await oidcClient({ token_endpoint_auth_method: "none" });
    await expectError(await redeem({ client_id: other.client_id }, code, verifier, { client_id: other.client_id }), 400, "invalid_grant", "code_client_mismatch");
    await expectTokenResponse(await redeem({ client_id: client.client_id }, code, verifier, { client_id: client.client_id }));
  });

  it("the owner with a wrong secret → invalid_client, and the code survives", async () => {
    const { client, code, verifier } = await issuedCode();
    await expectError(await redeem({ client_id: client.client_id, client_secret: "x".repeat(86) }, code, verifier), 401, "invalid_client");
    await expectTokenResponse(await redeem(client, code, verifier));
  });

  it("a confidential client's code without client authentication → invalid_client", async () => {
    const { client, code, verifier } = await issuedCode();
    await expectError(await redeem({ client_id: client.client_id }, code, verifier, { client_id: client.client_id }), 401, "invalid_client");
  });

  it("a client no longer registered for authorization_code → unauthorized_client", async () => {
    const { client, code, verifier } = await issuedCode();
    const res = await call(`/admin/clients/${client.client_id}`, {
      method: "PUT",
      headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ grant_types: ["client_credentials"], redirect_uris: [REDIRECT_URI], client_secret: client.client_secret }),
    });
    expect(res.status).toBe(200);
    await expectError(await redeem(client, code, verifier), 400, "unauthorized_client");
  });
});

describe("RFC 6749 §4.1.2 the code itself", () => {
  it("expires: 59 s after issue it redeems, 61 s after → invalid_grant", async () => {
    const clock = frozenClock();
    const a = await issuedCode();
    const b = await issuedCode();
    clock.advance(59);
    await expectTokenResponse(await redeem(a.client, a.code, a.verifier));
    clock.advance(2);
    await expectError(await redeem(b.client, b.code, b.verifier), 400, "invalid_grant", "code_expired");
  });

  it("an altered code → invalid_grant", async () => {
    const { client, code, verifier } = await issuedCode();
    const flipped = code.slice(0, -2) + (code.at(-2) === "A" ? "B" : "A") + code.at(-1);
    await expectError(await redeem(client, flipped, verifier), 400, "invalid_grant", "code_invalid");
    await expectError(await redeem(client, "not-a-code", verifier), 400, "invalid_grant", "code_invalid");
    await expectTokenResponse(await redeem(client, code, verifier));
  });

  it("no code → invalid_request", async () => {
    const client = await oidcClient();
    await expectError(
      await tokenRequest({ grant_type: "authorization_code", redirect_uri: REDIRECT_URI }, { authorization: basic(client.client_id, client.client_secret!) }),
      400, "invalid_request",
    );
  });

  it("N=10 concurrent redemptions of one code → exactly one 200, nine invalid_grant, and the winner's tokens revoked", async () => {
    const { client, code, verifier } = await issuedCode();
    const results = await Promise.all(Array.from({ length: 10 }, () => redeem(client, code, verifier)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(9).fill(400)]);
    // A loser that came while the winner was issuing finds the code in use; one that came after, used.
    for (const res of results.filter((r) => r.status === 400)) {
      expect(["code_in_use", "code_reused"]).toContain((await expectError(res, 400, "invalid_grant")).error_code);
    }
    // Whether the reuses came before or after the winner recorded its tokens, they are revoked.
    const winner = (await results.find((r) => r.status === 200)!.json()) as { access_token: string };
    expect((await call("/userinfo", { headers: { authorization: `Bearer ${winner.access_token}` } })).status).toBe(401);
  });

  it("a reuse revokes the access token of the first redemption", async () => {
    const { client, code, verifier } = await issuedCode();
    const first = await expectTokenResponse(await redeem(client, code, verifier));
    await expectError(await redeem(client, code, verifier), 400, "invalid_grant", "code_reused");
    const info = await call("/userinfo", { headers: { authorization: `Bearer ${first.access_token}` } });
    expect(info.status).toBe(401);
  });

  it("a reuse by another client neither gets tokens nor revokes the owner's (the code is checked for its client first)", async () => {
    const { client, code, verifier } = await issuedCode();
    const first = await expectTokenResponse(await redeem(client, code, verifier));
    await expectError(await redeem(await oidcClient(), code, verifier), 400, "invalid_grant", "code_client_mismatch");
    expect((await call("/userinfo", { headers: { authorization: `Bearer ${first.access_token}` } })).status).toBe(200);
  });
});

describe("CORS at the token endpoint (RFC 9700 §2.6; never *)", () => {
  const form = (code: string, verifier: string) =>
    new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }).toString();

  it("an SPA (public client) at its redirect URI's origin gets Access-Control-Allow-Origin = that origin", async () => {
    const { client, code, verifier } = await issuedCode({ token_endpoint_auth_method: "none" });
    const res = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://rp.example" },
      body: `${form(code, verifier)}&client_id=${encodeURIComponent(client.client_id)}`,
    });
    await expectTokenResponse(res.clone());
    expect(res.headers.get("access-control-allow-origin")).toBe("https://rp.example");
    expect(res.headers.get("vary")).toMatch(/Origin/i);
  });

  it("an explicitly allowed origin works too; another origin gets no CORS header", async () => {
    const a = await issuedCode({ token_endpoint_auth_method: "none", allowed_cors_origins: ["https://spa.example"] });
    const ok = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://spa.example" },
      body: `${form(a.code, a.verifier)}&client_id=${encodeURIComponent(a.client.client_id)}`,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://spa.example");

    const b = await issuedCode({ token_endpoint_auth_method: "none" });
    const other = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
      body: `${form(b.code, b.verifier)}&client_id=${encodeURIComponent(b.client.client_id)}`,
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("one client's origin gets no CORS header on another client's success", async () => {
    await oidcClient({ redirect_uris: ["https://first.example/cb"] });
    const { client, code, verifier } = await issuedCode({ token_endpoint_auth_method: "none" });
    const res = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://first.example" },
      body: `${form(code, verifier)}&client_id=${encodeURIComponent(client.client_id)}`,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("errors: readable by a registered origin, not by others; never *", async () => {
    await oidcClient();
    for (const [origin, expected] of [["https://rp.example", "https://rp.example"], ["https://evil.example", null], ["null", null]] as const) {
      const res = await call("/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
        body: "grant_type=authorization_code&code=x&client_id=nobody",
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get("access-control-allow-origin")).toBe(expected);
    }
  });

  it("preflight: 204 with the origin, POST and the headers for a registered origin; nothing for others", async () => {
    await oidcClient();
    const ok = await call("/token", {
      method: "OPTIONS",
      headers: { origin: "https://rp.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://rp.example");
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    expect(ok.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();

    const no = await call("/token", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
    expect(no.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("the authorization endpoint has no CORS at all (RFC 9700 §2.6)", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { prompt: "none" });
    const res = await call(`/authorize?${new URLSearchParams(params)}`, { headers: { origin: "https://rp.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await call("/authorize", { method: "OPTIONS", headers: { origin: "https://rp.example", "access-control-request-method": "GET" } });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { REDIRECT_URI, workerWithEnv } from "./oidc-helpers";
import { dpopKey, decodeJwt, fapiClient, fapiCode, fapiToken, formPost, clientAuth, redeemFapiCode, type FapiClient } from "./fapi2-helpers";
import { basic, createClient, tokenRequest } from "./helpers";
import { personsCode } from "./rfc9449-helpers";

/**
 * FAPI 2.0 Security Profile §5.3.2.1 item 9: no refresh-token rotation for a client under the
 * profile — the refresh token is used again (and answered again), the idle lifetime renewed, every
 * access token issued from it revoked with its family. Other clients keep rotating.
 */

const refresh = (client: FapiClient, token: string, key: Awaited<ReturnType<typeof dpopKey>>) =>
  fapiToken(client, { grant_type: "refresh_token", refresh_token: token }, key);

const introspect = async (client: FapiClient, token: string) =>
  (await (await formPost("/introspect", { token, ...(await clientAuth(client)) })).json()) as { active: boolean };

describe("FAPI 2.0 §5.3.2.1 item 9: no refresh-token rotation", () => {
  it("the same refresh token, answered again, works again; each answer a new access token bound to the proof key", async () => {
    const client = await fapiClient();
    const key = await dpopKey();
    const { code, verifier } = await fapiCode(client);
    const first = await redeemFapiCode(client, key, code, verifier);
    expect(first.refresh_token).toBeDefined();
    const seen = new Set([first.access_token]);
    for (let i = 0; i < 3; i++) {
      const res = await refresh(client, first.refresh_token!, key);
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as { access_token: string; refresh_token: string; token_type: string; id_token?: string };
      expect(body.refresh_token).toBe(first.refresh_token);
      expect(body.token_type).toBe("DPoP");
      expect(decodeJwt(body.access_token).cnf).toEqual({ jkt: key.jkt });
      expect(seen.has(body.access_token)).toBe(false);
      seen.add(body.access_token);
    }
  });

  it("concurrent refreshes with the one token all succeed (nothing to race for without rotation)", async () => {
    const client = await fapiClient();
    const key = await dpopKey();
    const { code, verifier } = await fapiCode(client);
    const { refresh_token } = await redeemFapiCode(client, key, code, verifier);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(client, refresh_token!, key)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
  });

  it("revoking the token revokes its family with every access token issued from it, not only the last", async () => {
    const client = await fapiClient();
    const key = await dpopKey();
    const { code, verifier } = await fapiCode(client);
    const first = await redeemFapiCode(client, key, code, verifier);
    const later = [];
    for (let i = 0; i < 2; i++) later.push(((await (await refresh(client, first.refresh_token!, key)).json()) as { access_token: string }).access_token);
    for (const token of [first.access_token, ...later]) expect((await introspect(client, token)).active).toBe(true);
    const revoked = await formPost("/revoke", { token: first.refresh_token!, token_type_hint: "refresh_token", ...(await clientAuth(client)) });
    expect(revoked.status).toBe(200);
    for (const token of [first.access_token, ...later]) expect((await introspect(client, token)).active).toBe(false);
    const after = await refresh(client, first.refresh_token!, key);
    expect(after.status).toBe(400);
  });

  it("the refreshed access token keeps the grant's resource as its aud (RFC 8707), as with rotation", async () => {
    const MCP = "https://mcp.example/mcp";
    const fetcher = workerWithEnv({ RESOURCES: MCP });
    const client = await fapiClient();
    const key = await dpopKey();
    const { code, verifier } = await fapiCode(client, { resource: MCP }, fetcher);
    const res = await fapiToken(client, { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI }, key, { fetcher });
    expect(res.status, await res.clone().text()).toBe(200);
    const first = (await res.json()) as { access_token: string; refresh_token: string };
    expect(decodeJwt(first.access_token).aud).toBe(MCP);
    const again = await fapiToken(client, { grant_type: "refresh_token", refresh_token: first.refresh_token }, key, { fetcher });
    expect(again.status, await again.clone().text()).toBe(200);
    const body = (await again.json()) as { access_token: string; refresh_token: string };
    expect(body.refresh_token).toBe(first.refresh_token);
    expect(decodeJwt(body.access_token).aud).toBe(MCP);
  });

  it("a client not under the profile still rotates: a new refresh token each time", async () => {
    const client = await createClient({ grant_types: ["authorization_code", "refresh_token"], redirect_uris: [REDIRECT_URI] });
    const { form } = await personsCode(client.client_id);
    const auth = { authorization: basic(client.client_id, client.client_secret!) };
    const { client_id: _id, ...exchange } = form;
    const tokens = (await (await tokenRequest(exchange, auth)).json()) as { refresh_token: string };
    const next = (await (await tokenRequest({ grant_type: "refresh_token", refresh_token: tokens.refresh_token }, auth)).json()) as { refresh_token: string };
    expect(next.refresh_token).toBeDefined();
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
  });
});

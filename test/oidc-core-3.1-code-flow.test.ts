import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { ISSUER, call } from "./helpers";
import { Browser, authorize, codeRequest, oidcClient, person, redeem } from "./oidc-helpers";

describe("OIDC Core §3.1 authorization code flow (oidcc-server)", () => {
  it("signs in, consents, gets a code that redeems for tokens, and userinfo answers", async () => {
    const client = await oidcClient();
    const user = await person({ claims: { name: "Ada Lovelace" } });
    const browser = new Browser();
    const { params, verifier } = await codeRequest(client.client_id, { scope: "openid profile email" });
    const { response, params: back } = await authorize(browser, params, user);
    expect(response.status, await response.clone().text()).toBe(302);
    expect(back.get("state")).toBe(params.state);
    expect(back.get("iss")).toBe(ISSUER);
    const code = back.get("code")!;
    expect(code).toBeTruthy();

    const res = await redeem(client, code, verifier);
    expect(res.status, await res.clone().text()).toBe(200);
    const tokens = (await res.json()) as Record<string, string>;
    const jwks = createLocalJWKSet(await (await call("/jwks")).json());
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token!, jwks, { issuer: ISSUER, audience: client.client_id });
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload.sub).toBe(user.id);
    expect(payload.nonce).toBe(params.nonce);

    const info = await call("/userinfo", { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ sub: user.id, name: "Ada Lovelace", email: user.email, email_verified: true });
  });
});

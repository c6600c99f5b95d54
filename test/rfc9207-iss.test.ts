import { describe, expect, it } from "vitest";
import { ISSUER, call } from "./helpers";
import { Browser, authorize, codeRequest, oidcClient, person, responseParams } from "./oidc-helpers";

/**
 * RFC 9207 (OAuth 2.0 Authorization Server Issuer Identification): `iss`, exactly the issuer, in
 * every authorization response, success and error, in every response mode (§2); advertised in
 * metadata (§3). Pages shown instead of a redirect carry nothing to the client, so no `iss`.
 */

const MODES = ["query", "fragment", "form_post"] as const;

describe("RFC 9207 §3 metadata", () => {
  it("authorization_response_iss_parameter_supported is true, and issuer is the iss value", async () => {
    const meta = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.issuer).toBe(ISSUER);
    const oauth = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(oauth.authorization_response_iss_parameter_supported).toBe(true);
  });
});

describe("RFC 9207 §2 iss in every authorization response", () => {
  for (const mode of MODES) {
    it(`${mode}: a code response carries iss once, equal to the issuer`, async () => {
      const client = await oidcClient();
      const { params } = await codeRequest(client.client_id, { response_mode: mode });
      const { response } = await authorize(new Browser(), params, await person());
      const back = await responseParams(response);
      expect(back.get("code")).toBeTruthy();
      expect(back.getAll("iss")).toEqual([ISSUER]);
    });

    it(`${mode}: an error before any page (login_required) carries iss`, async () => {
      const client = await oidcClient();
      const { params } = await codeRequest(client.client_id, { response_mode: mode, prompt: "none" });
      const back = await responseParams(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`));
      expect(back.get("error")).toBe("login_required");
      expect(back.getAll("iss")).toEqual([ISSUER]);
    });

    it(`${mode}: an error from a page (consent denied) carries iss`, async () => {
      const client = await oidcClient();
      const { params } = await codeRequest(client.client_id, { response_mode: mode });
      const { response } = await authorize(new Browser(), params, await person(), { consent: "deny" });
      const back = await responseParams(response);
      expect(back.get("error")).toBe("access_denied");
      expect(back.getAll("iss")).toEqual([ISSUER]);
    });

    it(`${mode}: a validation error (invalid_scope) carries iss`, async () => {
      const client = await oidcClient();
      const { params } = await codeRequest(client.client_id, { response_mode: mode, scope: "profile" });
      const back = await responseParams(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`));
      expect(back.get("error")).toBe("invalid_scope");
      expect(back.getAll("iss")).toEqual([ISSUER]);
    });
  }

  it("a client cannot override iss: an iss parameter in the request is ignored", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { iss: "https://evil.example", prompt: "none" });
    const back = await responseParams(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`));
    expect(back.getAll("iss")).toEqual([ISSUER]);
  });
});

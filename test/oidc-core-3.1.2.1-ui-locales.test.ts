import { describe, expect, it } from "vitest";
import { call, expectError } from "./helpers";
import { Browser, authorize, clientRedirect, codeRequest, expectRedirectError, person } from "./oidc-helpers";
import { push, pushed, secretClient } from "./par-jar-helpers";

/**
 * OIDC Core §3.1.2.1 ui_locales and §5.2 claims_locales: accepted at the authorization endpoint and
 * at PAR, never an error for an unsupported or odd locale (the conformance suite's oidcc-ui-locales
 * and oidcc-claims-locales send `se`); the pages stay English, which discovery says
 * (ui_locales_supported ["en"]); claims carry no language tags, so no claims_locales_supported.
 * Only a value over 256 characters is refused.
 */

describe("OIDC Core §3.1.2.1 / §5.2: ui_locales and claims_locales", () => {
  it("unsupported and unusual locales complete the code flow at the authorization endpoint; the pages are English", async () => {
    const client = await secretClient();
    for (const extra of [{ ui_locales: "se" }, { claims_locales: "se" }, { ui_locales: "fr-CA fr en", claims_locales: "de-CH" }, { ui_locales: "not a_tag!" }] as Record<string, string>[]) {
      const { params } = await codeRequest(client.client_id, extra);
      const flow = await authorize(new Browser(), params, await person());
      expect(flow.pages).toEqual(["login", "consent"]);
      expect(clientRedirect(flow.response).get("code")).toBeTruthy();
    }
    const { params } = await codeRequest(client.client_id, { ui_locales: "ja" });
    const page = await new Browser().follow(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`));
    expect(await page.text()).toMatch(/<html lang="en"/);
  });

  it("at PAR: accepted, and the pushed request completes", async () => {
    const client = await secretClient();
    const { requestUri } = await pushed(client, { ui_locales: "sv-SE", claims_locales: "sv" });
    const flow = await authorize(new Browser(), { client_id: client.client_id, request_uri: requestUri }, await person());
    expect(clientRedirect(flow.response).get("code")).toBeTruthy();
  });

  it("a value over 256 characters is invalid_request: redirected at /authorize, JSON at PAR", async () => {
    const client = await secretClient();
    const long = Array.from({ length: 90 }, () => "en").join(" ");
    expect(long.length).toBeGreaterThan(256);
    const { params } = await codeRequest(client.client_id, { ui_locales: long });
    expectRedirectError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "invalid_request", { state: params.state });
    const { params: pushedParams } = await codeRequest(client.client_id, { claims_locales: long });
    await expectError(await push(client, pushedParams), 400, "invalid_request", "locales_too_long");
  });

  it("discovery: ui_locales_supported is [\"en\"]; no claims_locales_supported", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.ui_locales_supported).toEqual(["en"]);
    expect(metadata).not.toHaveProperty("claims_locales_supported");
  });
});

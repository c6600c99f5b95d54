import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULT_ACR_TABLE, acrFor, acrValuesSupported, acrsSatisfiedBy, parseAcrTable } from "../src/acr";
import { configFrom } from "../src/config";
import { call } from "./helpers";
import { Browser, oidcClient, person, signIn } from "./oidc-helpers";

/**
 * OIDC Core §2 `acr` and RFC 8176 `amr`: which authentication context class a sign-in earns, from
 * its methods, by the operator's table (src/acr.ts, ACR_TABLE); discovery's acr_values_supported
 * (OIDC Discovery §3) lists the table's values. The passkey sign-ins' acr in ID tokens is in
 * test/webauthn-l3-7.2-authentication.test.ts.
 */

describe("OIDC Core §2: acr from amr by the operator's table", () => {
  it("default: phrh for a device-bound passkey with user verification, phr for a synced one, none for a password", () => {
    expect(acrFor(DEFAULT_ACR_TABLE, ["hwk", "user", "mfa"])).toBe("phrh");
    expect(acrFor(DEFAULT_ACR_TABLE, ["swk", "user", "mfa"])).toBe("phr");
    expect(acrFor(DEFAULT_ACR_TABLE, ["pwd"])).toBeUndefined();
    expect(acrsSatisfiedBy(DEFAULT_ACR_TABLE, ["hwk", "user", "mfa"])).toEqual(["phrh", "phr"]);
    expect(acrsSatisfiedBy(DEFAULT_ACR_TABLE, ["swk", "user", "mfa"])).toEqual(["phr"]);
    expect(acrValuesSupported(DEFAULT_ACR_TABLE)).toEqual(["phrh", "phr"]);
  });

  it("ACR_TABLE replaces it (first matching rule wins); malformed tables are refused at start-up", () => {
    const table = parseAcrTable('[{"acr":"urn:example:loa:2","amr":["mfa"]},{"acr":"urn:example:loa:1","amr":["pwd"]}]');
    expect(acrFor(table, ["hwk", "user", "mfa"])).toBe("urn:example:loa:2");
    expect(acrFor(table, ["pwd"])).toBe("urn:example:loa:1");
    expect(parseAcrTable(undefined)).toBe(DEFAULT_ACR_TABLE);
    expect(parseAcrTable("")).toBe(DEFAULT_ACR_TABLE);
    for (const bad of ["{", "{}", '[{"acr":"x"}]', '[{"acr":"x","amr":[]}]', '[{"acr":"a b","amr":["pwd"]}]', '[{"acr":1,"amr":["pwd"]}]']) {
      expect(() => parseAcrTable(bad), bad).toThrow(/ACR_TABLE/);
    }
    expect(() => configFrom({ ...env, ACR_TABLE: "[1]" })).toThrow(/ACR_TABLE/);
  });

  it("OIDC Discovery §3: acr_values_supported lists the table's values; acr is among claims_supported", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.acr_values_supported).toEqual(["phrh", "phr"]);
    expect(metadata.claims_supported).toContain("acr");
  });

  it("RFC 8176: a password sign-in's ID token says amr [pwd] and carries no acr (the default table gives a password none)", async () => {
    const client = await oidcClient();
    const user = await person();
    const { idToken } = await signIn(new Browser(), client, user);
    expect(idToken.amr).toEqual(["pwd"]);
    expect(idToken.acr).toBeUndefined();
  });
});

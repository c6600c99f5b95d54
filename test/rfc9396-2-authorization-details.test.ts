import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  coveredBy, narrowAuthorizationDetails, parseAuthorizationDetails, parseAuthorizationDetailsTypes, typesForClient,
  type AuthorizationDetail,
} from "../src/authorize/authorization-details";
import { authorizationEndpointSteps } from "../src/authorize/steps";
import { configFrom } from "../src/config";
import { OAuthError } from "../src/errors/oauth-error";
import { call, createClient, expectError } from "./helpers";
import { Browser, authorize, codeRequest, expectRedirectError, oidcClient, person } from "./oidc-helpers";
import { authorizeRequest, documentFor, documentUrl, json, serveDocuments } from "./cimd-helpers";
import { push, secretClient } from "./par-jar-helpers";
import { CUSTOMER, PAYMENT } from "./rfc9396-helpers";

/**
 * RFC 9396 (OAuth 2.0 Rich Authorization Requests) §2 and §5: the authorization_details parameter
 * at the authorization endpoint and PAR, checked against the operator's types
 * (AUTHORIZATION_DETAILS_TYPES, set for the tests in vitest.config.ts: payment_initiation with
 * required and listed members, account_information, customer_information by name only) and the
 * client's (§10.2); §6.1's subset rule for token requests; the consent page.
 */

const declared = configFrom(env).authorizationDetailsTypes;

/** The catalog code a call throws (OAuthError), or "none". */
function codeOf(run: () => unknown): string {
  try {
    run();
    return "none";
  } catch (e) {
    if (e instanceof OAuthError) return e.code;
    throw e;
  }
}
const parse = (value: unknown, allowed = declared) =>
  codeOf(() => parseAuthorizationDetails(typeof value === "string" ? value : JSON.stringify(value), declared, allowed));

describe("RFC 9396 §2: authorization_details is a JSON array of objects, each with a string type", () => {
  it("valid details are returned as sent (the RFC's examples)", () => {
    expect(parseAuthorizationDetails(JSON.stringify([PAYMENT, CUSTOMER]), declared)).toEqual([PAYMENT, CUSTOMER]);
    expect(parse([{ type: "account_information", actions: ["list_accounts"], identifier: "acc-1", privileges: ["owner"] }])).toBe("none");
  });

  it("not JSON, not an array, an empty array, an item that is not an object, no type, a type not a string → authorization_details_malformed", () => {
    for (const value of ["not json", "{", JSON.stringify({ type: "customer_information" }), "[]", "[1]", '["customer_information"]', "[null]",
      JSON.stringify([{ actions: ["read"] }]), JSON.stringify([{ type: 7 }]), JSON.stringify([{ type: "" }]), JSON.stringify([{ type: "has space" }])]) {
      expect(parse(value), value).toBe("authorization_details_malformed");
    }
  });

  it("§2.2 common members of the wrong JSON type → authorization_details_member_invalid", () => {
    const cases: Record<string, unknown>[] = [
      { locations: "https://example.com" }, { actions: ["read", 1] }, { datatypes: {} }, { privileges: [null] }, { identifier: 42 },
      { nested: { a: { b: { c: { d: 1 } } } } }, // deeper than four levels
    ];
    for (const extra of cases) expect(parse([{ ...CUSTOMER, ...extra }]), JSON.stringify(extra)).toBe("authorization_details_member_invalid");
    expect(parse([{ ...CUSTOMER, nested: { a: { b: 1 } } }])).toBe("none");
  });

  it("§5: an unknown type is authorization_details_type_unknown; a type the client is not registered for, …_type_not_allowed", () => {
    expect(parse([{ type: "wire_transfer" }])).toBe("authorization_details_type_unknown");
    const onlyAccounts = typesForClient({ metadata: { authorization_details_types: ["account_information"] } }, declared);
    expect(onlyAccounts.map((t) => t.type)).toEqual(["account_information"]);
    expect(parse([CUSTOMER], onlyAccounts)).toBe("authorization_details_type_not_allowed");
    expect(typesForClient({ metadata: {} }, declared)).toBe(declared);
  });

  it("§5: a member the type requires is missing → …_member_missing; one it does not list → …_member_unknown", () => {
    const { instructedAmount: _, ...withoutAmount } = PAYMENT;
    expect(parse([withoutAmount])).toBe("authorization_details_member_missing");
    expect(parse([{ ...PAYMENT, debtorAccount: { iban: "DE1" } }])).toBe("authorization_details_member_unknown");
    // A type declared without members takes any member.
    expect(parse([{ ...CUSTOMER, purpose: "support" }])).toBe("none");
  });

  it("the bound is on the compact JSON: 1024 bytes pass, one more is authorization_details_too_long; spaces do not count", () => {
    const detail = (n: number) => [{ type: "customer_information", identifier: "x".repeat(n) }];
    const base = JSON.stringify(detail(0)).length;
    expect(parse(detail(1024 - base))).toBe("none");
    expect(parse(detail(1025 - base))).toBe("authorization_details_too_long");
    expect(parse(JSON.stringify(detail(1024 - base), null, 2))).toBe("none");
    expect(parse(detail(1022 - base).map((d) => ({ ...d, identifier: `${d.identifier}é` })))).toBe("none");
    expect(parse(detail(1023 - base).map((d) => ({ ...d, identifier: `${d.identifier}é` })))).toBe("authorization_details_too_long"); // 1024 characters, 1025 bytes
  });

  it("the step runs in the authorization endpoint's table (and so in PAR's)", () => {
    expect(authorizationEndpointSteps.map((s) => s.name)).toContain("authorization_details");
  });
});

describe("AUTHORIZATION_DETAILS_TYPES: the operator's types (docs/operator.md)", () => {
  it("names or objects; unset is none; malformed settings are refused at start-up", () => {
    expect(parseAuthorizationDetailsTypes(undefined)).toEqual([]);
    expect(parseAuthorizationDetailsTypes('["a", {"type": "b", "required": ["x"], "renderer": "payment_initiation", "label": "Pay"}]')).toEqual([
      { type: "a", required: [] },
      { type: "b", required: ["x"], renderer: "payment_initiation", label: "Pay" },
    ]);
    for (const bad of ["{", '{"type":"a"}', '[1]', '["a","a"]', '[{"type":"a","renderer":"nope"}]', '[{"type":"a","required":"x"}]',
      '[{"type":"a","required":["x"],"members":["y"]}]', '[{"type":"a","required":["type"]}]']) {
      expect(() => parseAuthorizationDetailsTypes(bad), bad).toThrow(/AUTHORIZATION_DETAILS_TYPES/);
    }
  });
});

describe("RFC 9396 §6.1: a token request may ask for a subset of what was granted", () => {
  const narrow = (requested: unknown, granted: AuthorizationDetail[] | undefined) =>
    codeOf(() => narrowAuthorizationDetails(JSON.stringify(requested), granted, declared));

  it("without the parameter, everything granted (undefined when nothing was)", () => {
    expect(narrowAuthorizationDetails(undefined, [PAYMENT], declared)).toEqual([PAYMENT]);
    expect(narrowAuthorizationDetails(undefined, undefined, declared)).toBeUndefined();
  });

  it("the same detail, or one with fewer actions, locations or datatypes (any order), is granted as asked", () => {
    expect(narrowAuthorizationDetails(JSON.stringify([CUSTOMER]), [PAYMENT, CUSTOMER], declared)).toEqual([CUSTOMER]);
    const fewer = { ...CUSTOMER, actions: ["read"], datatypes: ["photos", "contacts"] };
    expect(coveredBy(fewer, CUSTOMER)).toBe(true);
    expect(narrowAuthorizationDetails(JSON.stringify([fewer]), [CUSTOMER], declared)).toEqual([fewer]);
    // Members of nested objects may come in any order.
    expect(coveredBy({ ...PAYMENT, instructedAmount: { amount: "123.50", currency: "EUR" } }, PAYMENT)).toBe(true);
  });

  it("more is authorization_details_not_granted: another action, a changed value, a member left out or added, another type, nothing granted", () => {
    const cases: unknown[] = [
      [{ ...CUSTOMER, actions: ["read", "delete"] }],
      [{ ...PAYMENT, instructedAmount: { currency: "EUR", amount: "999.00" } }],
      [Object.fromEntries(Object.entries(CUSTOMER).filter(([k]) => k !== "locations"))], // no locations: anywhere
      [{ ...CUSTOMER, identifier: "customer-1" }],
      [{ type: "account_information", actions: ["read"] }],
    ];
    for (const requested of cases) expect(narrow(requested, [PAYMENT, CUSTOMER]), JSON.stringify(requested)).toBe("authorization_details_not_granted");
    expect(narrow([CUSTOMER], undefined)).toBe("authorization_details_not_granted");
    // A requested value is checked like at the authorization endpoint first.
    expect(narrow([{ type: "wire_transfer" }], [CUSTOMER])).toBe("authorization_details_type_unknown");
  });
});

describe("RFC 9396 §5 at the endpoints: redirected at /authorize, JSON at PAR", () => {
  it("/authorize: an unknown type is invalid_authorization_details at the redirect URI, with state", async () => {
    const client = await oidcClient();
    const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify([{ type: "wire_transfer" }]) });
    const res = await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);
    expectRedirectError(res, "invalid_authorization_details", { state: params.state });
  });

  it("/authorize: malformed JSON and a missing required member, redirected with their descriptions", async () => {
    const client = await oidcClient();
    for (const [value, description] of [["[{", /not JSON/], [JSON.stringify([{ type: "account_information" }]), /requires actions/]] as const) {
      const { params } = await codeRequest(client.client_id, { authorization_details: value });
      expectRedirectError(await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`), "invalid_authorization_details", { state: params.state, description });
    }
  });

  it("PAR: the same rules answered as JSON 400 invalid_authorization_details (never a redirect)", async () => {
    const client = await secretClient();
    const cases: [unknown, string][] = [
      [[{ type: "wire_transfer" }], "authorization_details_type_unknown"],
      [{ type: "customer_information" }, "authorization_details_malformed"],
      [[{ ...CUSTOMER, actions: "read" }], "authorization_details_member_invalid"],
    ];
    for (const [value, code] of cases) {
      const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify(value) });
      const res = await push(client, params);
      expect(res.headers.get("location")).toBeNull();
      await expectError(res, 400, "invalid_authorization_details", code);
    }
    const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify([CUSTOMER]) });
    expect((await push(client, params)).status).toBe(201);
  });

  it("§10.2: a client registered for some types is refused the others (type_not_allowed), redirected", async () => {
    const client = await oidcClient({ authorization_details_types: ["payment_initiation"] });
    const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify([CUSTOMER]) });
    const res = await new Browser().fetch(`/authorize?${new URLSearchParams(params)}`);
    expectRedirectError(res, "invalid_authorization_details", { state: params.state, description: /not registered for the type customer_information/ });
  });
});

describe("RFC 9396 §10: metadata", () => {
  afterEach(() => vi.restoreAllMocks());

  it("§10.1 discovery lists the declared types as authorization_details_types_supported", async () => {
    const metadata = (await (await call("/.well-known/openid-configuration")).json()) as Record<string, unknown>;
    expect(metadata.authorization_details_types_supported).toEqual(["payment_initiation", "account_information", "customer_information"]);
  });

  it("§10.2 authorization_details_types: kept and echoed when the server supports each type; else invalid_client_metadata", async () => {
    const client = await createClient({ redirect_uris: ["https://rp.example/callback"], authorization_details_types: ["payment_initiation", "payment_initiation"] });
    expect(client.authorization_details_types).toEqual(["payment_initiation"]);
    const admin = (types: unknown) => call("/admin/clients", {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: JSON.stringify({ redirect_uris: ["https://rp.example/callback"], authorization_details_types: types }),
    });
    await expectError(await admin(["wire_transfer"]), 400, "invalid_client_metadata", "authorization_details_types_unsupported");
    await expectError(await admin("payment_initiation"), 400, "invalid_client_metadata", "authorization_details_types_malformed");
  });

  it("§10.2 in a client ID metadata document: its authorization_details_types hold like a registration's", async () => {
    const url = documentUrl();
    serveDocuments({ [url]: () => json(documentFor(url, { authorization_details_types: ["customer_information"] })) });
    const allowed = await authorizeRequest(url, { authorization_details: JSON.stringify([CUSTOMER]) });
    expect(allowed.res.status, await allowed.res.clone().text()).toBe(302);
    expect(new URL(allowed.res.headers.get("location")!, "https://x").pathname).toBe("/login");
    const refused = await authorizeRequest(url, { authorization_details: JSON.stringify([PAYMENT]) });
    expectRedirectError(refused.res, "invalid_authorization_details", { state: refused.params.state, description: /not registered for the type payment_initiation/ });
  });
});

describe("RFC 9396 on the consent page: each detail in plain words, consent asked whenever details are present", () => {
  const consentPage = async (clientExtra: Record<string, unknown>, details: unknown[], extra: Record<string, string> = {}) => {
    const client = await oidcClient(clientExtra);
    const browser = new Browser();
    const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify(details), ...extra });
    const user = await person();
    const flow = await authorize(browser, params, user, { consent: "deny" });
    return { client, browser, params, user, flow };
  };

  it("a renderer's sentence (payment_initiation), the generic list otherwise (customer_information): labelled, escaped, never JSON", async () => {
    const client = await oidcClient();
    const browser = new Browser();
    const user = await person();
    const hostile = { ...CUSTOMER, purpose: "<script>alert(1)</script>" };
    const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify([PAYMENT, hostile]) });
    let res = await browser.follow(await browser.fetch(`/authorize?${new URLSearchParams(params)}`));
    res = await browser.follow(await browser.submit(await res.text(), { email: user.email, password: "correct horse battery staple" }, "/login"));
    const html = await res.text();
    expect(html).toContain('action="/consent"');
    const text = html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
    expect(text).toContain("Pay 123.50 EUR to Merchant A (account DE02100100109307118603), reference “Ref Number Merchant”");
    expect(text).toContain("What it may do: initiate, status, cancel");
    expect(text).toContain("Which data: contacts, photos");
    expect(text).toContain("Where: https://example.com/customers");
    expect(text).toContain("Purpose: &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain('"type"');
    expect(html).not.toContain("instructedAmount");
  });

  it("a first-party client, which skips the consent page for scopes, is asked when details are present", async () => {
    const { flow } = await consentPage({ first_party: true }, [CUSTOMER]);
    expect(flow.pages).toContain("consent");
    expectRedirectError(flow.response, "access_denied", { state: flow.params.get("state") ?? undefined });
  });

  it("prompt=none with details is consent_required (no page may be shown), even with the scope consented before", async () => {
    const client = await oidcClient({ first_party: true });
    const browser = new Browser();
    const user = await person();
    const first = await codeRequest(client.client_id);
    expect((await authorize(browser, first.params, user)).params.get("code")).toBeTruthy();
    const { params } = await codeRequest(client.client_id, { authorization_details: JSON.stringify([CUSTOMER]), prompt: "none" });
    expectRedirectError(await browser.fetch(`/authorize?${new URLSearchParams(params)}`), "consent_required", { state: params.state });
  });
});

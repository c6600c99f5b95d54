import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  DEVICE_CODE_GRANT, STEP_TABLE, authorizationEndpointSteps, deviceAuthorizationSteps, runSteps, type StepInput,
} from "../src/authorize/steps";
import type { Client } from "../src/clients/model";
import { configFrom } from "../src/config";
import { catalog } from "../src/errors/catalog";

/**
 * RFC 6749 §4.1.1 / OIDC Core §3.1.2.1 (the authorization endpoint) and RFC 8628 §3.1 (the device
 * authorization endpoint): each rule is one named step with its catalog codes, and each entry point
 * runs its own column of the one table (src/authorize/steps.ts).
 */

const names = (steps: readonly { name: string }[]) => steps.map((s) => s.name);

const client = (overrides: Partial<Client> = {}): Client => ({
  clientId: "steps-client", clientName: null, authMethod: "client_secret_basic", authSigningAlg: null, secretHash: null,
  secretSealed: null, secretExpiresAt: 0, grantTypes: ["authorization_code", DEVICE_CODE_GRANT], responseTypes: ["code"],
  redirectUris: ["https://rp.example/cb"], scope: [], jwks: null, jwksUri: null, tlsSubjectDn: null, applicationType: "web",
  idTokenSignedResponseAlg: "RS256", firstParty: false, allowPlainPkce: false, plainOAuth2: false, allowedCorsOrigins: [],
  postLogoutRedirectUris: [], metadata: {}, disabled: false, createdAt: 0, updatedAt: 0, ...overrides,
});

const input = (params: Record<string, string>, overrides: Partial<Client> = {}): StepInput => ({
  params: new Map(Object.entries(params)), client: client(overrides), config: configFrom(env),
});

const failure = (run: () => unknown): string | undefined => {
  try {
    run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe("the step table (src/authorize/steps.ts)", () => {
  it("every step is named once, and every code a step can end a request with is a redirectable catalog entry", () => {
    const all = STEP_TABLE.map(([step]) => step);
    expect(new Set(names(all)).size).toBe(all.length);
    for (const step of all) {
      expect(step.codes.length).toBeGreaterThan(0);
      // Only the authorization endpoint's errors travel to a redirect URI; CIBA's are JSON answers (CIBA Core §13).
      const redirectable = STEP_TABLE.some(([s, entryPoints]) => s === step && entryPoints.includes("authorization"));
      for (const code of step.codes) expect(catalog[code], `${step.name}: ${code}`).toMatchObject(redirectable ? { redirect: true } : {});
    }
  });

  it("RFC 6749 §4.1.1, OIDC Core §3.1.2.1: the authorization endpoint runs these rules, in this order", () => {
    expect(names(authorizationEndpointSteps)).toEqual([
      "response_mode_supported", "state_within_bound", "nonce_within_bound", "login_hint_within_bound", "scope_within_bound",
      // Request objects by value are resolved before the table (src/authorize/pushed-request.ts, RFC 9101).
      "no_request_uri", "no_registration_parameter", "response_type_code", "client_may_use_authorization_code",
      "scope_parsed", "openid_scope_required", "scope_allowed",
      // RFC 8707 §2 (src/authorize/resource.ts).
      "resource_indicators",
      // OIDC Core §3.1.2.1 acr_values, §5.5 claims (src/authorize/claims-request.ts).
      "acr_values_within_bound", "claims_parameter", "acr_requested",
      // FAPI 2.0 §5.3.2.2 (src/profiles/fapi2.ts), before the general PKCE rule.
      "fapi2_authorization_request",
      "pkce", "dpop_jkt",
      // RFC 9396 §2 (src/authorize/authorization-details.ts).
      "authorization_details",
      "prompt_value", "max_age_value",
      // OIDC Core §3.1.2.1 ui_locales, claims_locales.
      "locales",
    ]);
  });

  it("RFC 8628 §3.1: the device authorization endpoint checks client_id's grant and scope; no redirect URI, response type, PKCE, nonce, state or prompt", () => {
    expect(names(deviceAuthorizationSteps)).toEqual([
      "scope_within_bound", "no_request_object", "no_request_uri", "no_registration_parameter", "client_may_use_device_code",
      "scope_parsed", "scope_allowed", "max_age_value",
    ]);
    const codes = new Set(deviceAuthorizationSteps.flatMap((s) => s.codes));
    for (const absent of ["unsupported_response_mode", "state_too_long", "nonce_too_long", "missing_response_type", "pkce_required", "invalid_prompt", "openid_scope_required"]) {
      expect(codes.has(absent as never), absent).toBe(false);
    }
  });
});

describe("RFC 8628 §3.1: the device authorization steps on their own", () => {
  it("a public client's request with only client_id and scope passes (no PKCE, no response_type), and parameters of the code flow are ignored", () => {
    const draft = runSteps(deviceAuthorizationSteps, input({ client_id: "steps-client", scope: "openid profile", response_type: "token", prompt: "bogus" }, { authMethod: "none" }));
    expect(draft).toEqual({ scope: ["openid", "profile"] });
  });

  it("RFC 8628 §3.1 / RFC 6749 §5.2: a client not registered for the device grant → unauthorized_client; a scope it may not have → invalid_scope", () => {
    expect(failure(() => runSteps(deviceAuthorizationSteps, input({ scope: "openid" }, { grantTypes: ["authorization_code"] })))).toBe("unauthorized_client");
    expect(failure(() => runSteps(deviceAuthorizationSteps, input({ scope: "openid admin" })))).toBe("invalid_scope");
    expect(failure(() => runSteps(deviceAuthorizationSteps, input({ scope: "a".repeat(513) })))).toBe("scope_too_long");
    expect(failure(() => runSteps(deviceAuthorizationSteps, input({ scope: "openid", request: "x" })))).toBe("request_not_supported");
  });

  it("the same request at the authorization endpoint needs response_type and, from a public client, PKCE", () => {
    expect(failure(() => runSteps(authorizationEndpointSteps, input({ scope: "openid" }, { authMethod: "none" })))).toBe("missing_response_type");
    expect(failure(() => runSteps(authorizationEndpointSteps, input({ scope: "openid", response_type: "code" }, { authMethod: "none" })))).toBe("pkce_required");
    expect(failure(() => runSteps(authorizationEndpointSteps, input({ scope: "openid", response_type: "code" }, { grantTypes: [DEVICE_CODE_GRANT] })))).toBe("unauthorized_client");
  });

  it("the authorization endpoint's draft carries what the flow needs", () => {
    const challenge = "c".repeat(43);
    const draft = runSteps(authorizationEndpointSteps, input({
      response_type: "code", scope: "openid email", nonce: "n-1", login_hint: "a@example.com", prompt: "login", max_age: "0",
      code_challenge: challenge, code_challenge_method: "S256",
    }));
    expect(draft).toEqual({
      scope: ["openid", "email"], nonce: "n-1", loginHint: "a@example.com", prompt: "login", maxAge: 0, codeChallenge: challenge, codeChallengeMethod: "S256",
    });
  });
});

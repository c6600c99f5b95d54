import { describe, expect, it } from "vitest";
import { complete, fail, registerCompletion } from "../src/authorize/completions";
import { POLICY, decide, type DecisionInput } from "../src/authorize/decision";
import type { AuthorizationRequest, Transaction } from "../src/authorize/request";
import type { Consent } from "../src/consent/store";
import { OAuthError } from "../src/errors/oauth-error";
import type { AppContext } from "../src/http/context";
import type { Session } from "../src/sessions/model";
import type { User } from "../src/users/model";

/**
 * OIDC Core §3.1.2.1–3.1.2.6, RFC 6749 §4.1.1: what the person must still do before an
 * authorization completes is a pure function of the request, the transaction, the session, the
 * person, their consent, the client and the clock (src/authorize/decision.ts). Every branch here,
 * without storage or HTTP; the same rules end to end are in oidcc-basic-prompt-and-session,
 * rfc6749-4.1-consent-and-user-state and oidc-core-3.1-code-flow.
 */

const NOW = 1_800_000_000;
const session: Session = { sid: "sid-1", userId: "u-1", authTime: NOW - 100, amr: ["pwd"], expiresAt: NOW + 3600 };
const user: User = {
  id: "u-1", email: "a@example.com", emailVerified: true, passwordHash: null, claims: {}, disabled: false, createdAt: 0, updatedAt: 0,
};
const consent: Consent = {
  userId: "u-1", clientId: "c-1", grantId: "g-1", scope: ["openid", "email"], resources: ["https://a.example/mcp"], createdAt: 0, updatedAt: 0,
};

function input(request: Partial<AuthorizationRequest> = {}, over: Partial<Omit<DecisionInput, "txn">> & Partial<Pick<Transaction, "authenticatedSid" | "consented">> = {}): DecisionInput {
  const { authenticatedSid, consented, ...rest } = over;
  return {
    txn: {
      request: { clientId: "c-1", scope: ["openid", "email"], ...request },
      ...(authenticatedSid !== undefined && { authenticatedSid }),
      ...(consented !== undefined && { consented }),
    },
    session, user, consent, client: { firstParty: false }, now: NOW,
    ...rest,
  };
}

const granted = { kind: "granted", session, user, consent, recordConsent: false };

describe("the policy (src/authorize/decision.ts)", () => {
  it("prompts in order — login, account (the named person, then the account's state), verify_email, consent — each of named checks", () => {
    expect(POLICY.map((p) => [p.name, p.checks.map((c) => c.name)])).toEqual([
      ["login", ["no_session", "prompt_login", "max_age", "acr_unmet", "other_subject"]],
      ["login", ["subject_not_signed_in"]],
      ["acr", ["acr_essential_unmet"]],
      ["account", ["other_person"]],
      ["account", ["user_disabled"]],
      ["verify_email", ["email_unverified"]],
      ["consent", ["consent_missing", "prompt_consent", "authorization_details", "claims_beyond_scope"]],
    ]);
  });

  it("RFC 6749 §4.1.1: a signed-in, verified person whose consent covers the scope → granted, nothing recorded", () => {
    expect(decide(input())).toEqual(granted);
  });
});

describe("CIBA Core §7.1: an authorization meant for one person", () => {
  const backchannel = (sub: string): DecisionInput => {
    const base = input();
    return { ...base, txn: { ...base.txn, completion: { kind: "backchannel", cibaRequestId: "r", handle: "h", sub, confirmed: false } } };
  };

  it("a session of another person ends it as a request that does not exist, before any consent page", () => {
    const decision = decide({ ...backchannel("someone-else"), consent: null });
    expect(decision).toMatchObject({ kind: "error", prompt: "account", code: "ciba_request_invalid", reasons: ["other_person"] });
  });

  it("the person it names goes on as any authorization does", () => {
    expect(decide(backchannel("u-1"))).toEqual(granted);
    expect(decide({ ...backchannel("u-1"), consent: null })).toMatchObject({ kind: "interaction", prompt: "consent" });
  });
});

describe("OIDC Core §3.1.2.3: authentication", () => {
  it("no session → the sign-in page (no_session)", () => {
    expect(decide(input({}, { session: null, user: null, consent: null }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["no_session"] });
  });

  it("OIDC Core §3.1.2.1 prompt=login: a session from before → sign in again (prompt_login); one from this transaction → granted", () => {
    expect(decide(input({ prompt: "login" }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["prompt_login"] });
    expect(decide(input({ prompt: "login" }, { authenticatedSid: "sid-1" }))).toEqual(granted);
    // A sign-in during this transaction counts only for the session it created.
    expect(decide(input({ prompt: "login" }, { authenticatedSid: "other-sid" }))).toMatchObject({ kind: "interaction", prompt: "login" });
  });

  it("OIDC Core §3.1.2.1 max_age: older than max_age → sign in again (max_age); within it → granted; exactly max_age → granted", () => {
    expect(decide(input({ maxAge: 99 }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["max_age"] });
    expect(decide(input({ maxAge: 100 }))).toEqual(granted);
    expect(decide(input({ maxAge: 3600 }))).toEqual(granted);
    expect(decide(input({ maxAge: 99 }, { authenticatedSid: "sid-1" }))).toEqual(granted);
  });

  it("OIDC Core §3.1.2.1 max_age=0 is prompt=login: stale even within the second of the last sign-in", () => {
    const justNow = { ...session, authTime: NOW };
    expect(decide(input({ maxAge: 0 }, { session: justNow }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["max_age"] });
    expect(decide(input({ maxAge: 0 }, { session: justNow, authenticatedSid: "sid-1" }))).toMatchObject({ kind: "granted" });
    expect(decide(input({ maxAge: 0, prompt: "login" }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["prompt_login", "max_age"] });
  });

  it("OIDC Core §3.1.2.6 prompt=none without a (fresh enough) session → login_required", () => {
    expect(decide(input({ prompt: "none" }, { session: null, user: null }))).toEqual({ kind: "error", prompt: "login", code: "login_required", reasons: ["no_session"] });
    expect(decide(input({ prompt: "none", maxAge: 10 }))).toEqual({ kind: "error", prompt: "login", code: "login_required", reasons: ["max_age"] });
  });
});

describe("RFC 6749 §4.1.2.1: the person's account", () => {
  it("a disabled or deleted account → user_disabled (access_denied), with or without prompt=none, never a page", () => {
    const disabled = { kind: "error", prompt: "account", code: "user_disabled", reasons: ["user_disabled"] };
    expect(decide(input({}, { user: { ...user, disabled: true } }))).toEqual(disabled);
    expect(decide(input({}, { user: null, consent: null }))).toEqual(disabled);
    expect(decide(input({ prompt: "none" }, { user: { ...user, disabled: true } }))).toEqual(disabled);
  });

  it("an unverified address → the verification page (email_unverified); with prompt=none → email_verification_required", () => {
    const unverified = { ...user, emailVerified: false };
    expect(decide(input({}, { user: unverified }))).toEqual({ kind: "interaction", prompt: "verify_email", reasons: ["email_unverified"] });
    expect(decide(input({ prompt: "none" }, { user: unverified }))).toEqual({
      kind: "error", prompt: "verify_email", code: "email_verification_required", reasons: ["email_unverified"],
    });
  });
});

describe("OIDC Core §3.1.2.4: consent", () => {
  it("no consent, or one that does not cover every scope → the consent page (consent_missing)", () => {
    expect(decide(input({}, { consent: null }))).toEqual({ kind: "interaction", prompt: "consent", reasons: ["consent_missing"] });
    expect(decide(input({ scope: ["openid", "email", "profile"] }))).toEqual({ kind: "interaction", prompt: "consent", reasons: ["consent_missing"] });
    // The superset rule: a consent to more than is asked covers the request.
    expect(decide(input({ scope: ["openid"] }))).toEqual(granted);
  });

  it("RFC 8707 §2: consent is per resource too — a resource the consent does not list → the consent page (consent_missing)", () => {
    expect(decide(input({ resources: ["https://a.example/mcp"] }))).toEqual(granted);
    const both = { resources: ["https://a.example/mcp", "https://b.example/mcp"] };
    expect(decide(input(both))).toEqual({ kind: "interaction", prompt: "consent", reasons: ["consent_missing"] });
    expect(decide(input({ ...both, prompt: "none" }))).toEqual({ kind: "error", prompt: "consent", code: "consent_required", reasons: ["consent_missing"] });
    expect(decide(input(both, { client: { firstParty: true } }))).toEqual({ ...granted, recordConsent: true });
  });

  it("OIDC Core §3.1.2.1 prompt=consent: asked again (prompt_consent) until the page is approved in this transaction", () => {
    expect(decide(input({ prompt: "consent" }))).toEqual({ kind: "interaction", prompt: "consent", reasons: ["prompt_consent"] });
    expect(decide(input({ prompt: "consent" }, { consented: true }))).toEqual(granted);
  });

  it("OIDC Core §3.1.2.6 prompt=none without covering consent → consent_required", () => {
    expect(decide(input({ prompt: "none" }, { consent: null }))).toEqual({ kind: "error", prompt: "consent", code: "consent_required", reasons: ["consent_missing"] });
  });

  it("a first-party client skips the page (even for prompt=consent or none) and the grant is recorded when not covered", () => {
    const firstParty = { client: { firstParty: true } };
    expect(decide(input({}, { ...firstParty, consent: null }))).toEqual({ ...granted, consent: null, recordConsent: true });
    expect(decide(input({ prompt: "consent" }, firstParty))).toEqual(granted);
    expect(decide(input({ prompt: "none", scope: ["openid", "phone"] }, firstParty))).toEqual({ ...granted, recordConsent: true });
  });
});

describe("the completion, by kind (src/authorize/completions.ts)", () => {
  const who = { sub: "u-1", authTime: NOW, sid: "sid-1", amr: ["pwd"], grantId: "g-1" };
  const deviceTxn: Transaction = {
    request: { clientId: "c-1", scope: ["openid"] }, completion: { kind: "device", deviceRequestId: "d-1" }, createdAt: NOW, expiresAt: NOW + 600,
  };
  const c = {} as AppContext;

  it("a kind no module registered ends in server_error", () => {
    const unknown = { ...deviceTxn, completion: { kind: "no-such-kind" } } as unknown as Transaction;
    expect(() => complete(c, unknown, who)).toThrow(expect.objectContaining({ code: "server_error" }));
    expect(() => fail(c, unknown, new OAuthError("access_denied"))).toThrow(expect.objectContaining({ code: "server_error" }));
  });

  it("a registered kind gets the transaction, who authorized and under which grant, or the error", async () => {
    const seen: unknown[] = [];
    const restore = registerCompletion("device", {
      complete: async (_c, txn, authorized) => (seen.push([txn.completion.deviceRequestId, authorized]), new Response("approved")),
      fail: async (_c, txn, error) => (seen.push([txn.completion.deviceRequestId, error.code]), new Response("denied")),
    });
    try {
      expect(await (await complete(c, deviceTxn, who)).text()).toBe("approved");
      expect(await (await fail(c, deviceTxn, new OAuthError("access_denied"))).text()).toBe("denied");
      expect(seen).toEqual([["d-1", who], ["d-1", "access_denied"]]);
    } finally {
      restore();
    }
  });
});

describe("OIDC Core §3.1.2.1, §5.5.1.1: the acr asked for (the default table: a passkey earns phr, a password nothing)", () => {
  const passkey = { ...session, amr: ["swk", "user", "mfa"] };
  it("a sign-in from before that does not satisfy it → the sign-in page (acr_unmet); prompt=none → login_required; one that does → granted", () => {
    expect(decide(input({ acrValues: ["phr"] }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["acr_unmet"] });
    expect(decide(input({ acrValues: ["phr"], prompt: "none" }))).toEqual({ kind: "error", prompt: "login", code: "login_required", reasons: ["acr_unmet"] });
    expect(decide(input({ acrValues: ["phr"] }, { session: passkey }))).toMatchObject({ kind: "granted" });
    expect(decide(input({ acrValues: ["phrh"] }, { session: passkey }))).toMatchObject({ kind: "interaction", reasons: ["acr_unmet"] });
  });

  it("a sign-in made for the request that still does not: voluntary → granted; essential → unmet_authentication_requirements, never a page", () => {
    expect(decide(input({ acrValues: ["phr"] }, { authenticatedSid: "sid-1" }))).toEqual(granted);
    expect(decide(input({ acrValues: ["phr"], acrEssential: true }, { authenticatedSid: "sid-1" }))).toEqual({
      kind: "error", prompt: "acr", code: "unmet_authentication_requirements", reasons: ["acr_essential_unmet"],
    });
    expect(decide(input({ acrValues: ["phr"], acrEssential: true }, { session: passkey, authenticatedSid: "sid-1" }))).toMatchObject({ kind: "granted" });
  });
});

describe("OIDC Core §3.1.2.1 id_token_hint, §5.5.1 sub value: the person the request names", () => {
  it("another person's session from before → the sign-in page (other_subject); prompt=none → login_required; their own → granted", () => {
    expect(decide(input({ subject: "u-2" }))).toEqual({ kind: "interaction", prompt: "login", reasons: ["other_subject"] });
    expect(decide(input({ subject: "u-2", prompt: "none" }))).toEqual({ kind: "error", prompt: "login", code: "login_required", reasons: ["other_subject"] });
    expect(decide(input({ subject: "u-1", prompt: "none" }))).toEqual(granted);
  });

  it("signed in for the request as another person → login_required (subject_not_signed_in), no second page", () => {
    expect(decide(input({ subject: "u-2" }, { authenticatedSid: "sid-1" }))).toEqual({
      kind: "error", prompt: "login", code: "login_required", reasons: ["subject_not_signed_in"],
    });
  });
});

describe("OIDC Core §5.5: claims asked for beyond the scope's", () => {
  it("need this transaction's consent (claims_beyond_scope), first-party clients excepted; those the scope stands for do not", () => {
    expect(decide(input({ claims: { idToken: ["name"] } }))).toEqual({ kind: "interaction", prompt: "consent", reasons: ["claims_beyond_scope"] });
    expect(decide(input({ claims: { userinfo: ["phone_number"] }, prompt: "none" }))).toMatchObject({ kind: "error", code: "consent_required" });
    expect(decide(input({ claims: { idToken: ["name"] } }, { consented: true }))).toEqual(granted);
    expect(decide(input({ claims: { idToken: ["name"] } }, { client: { firstParty: true } }))).toMatchObject({ kind: "granted" });
    expect(decide(input({ claims: { idToken: ["email", "email_verified"] } }))).toEqual(granted);
  });
});

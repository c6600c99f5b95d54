import type { Client } from "../clients/model";
import type { Config } from "../config";
import type { ErrorCode } from "../errors/catalog";
import { OAuthError, ensure } from "../errors/oauth-error";
import { parseScope } from "../grants/scope";
import { REQUEST_BOUNDS, ensureWithinBound, type BoundedParameter } from "./limits";
import { fapi2AuthorizationRequest } from "../profiles/fapi2";
import { acrRequest, parseClaimsParameter, type AcrClaim, type ClaimsRequest } from "./claims-request";
import { ensureResourcesAllowed, resourceValues } from "./resource";
import { parseAuthorizationDetails, typesForClient, type AuthorizationDetail } from "./authorization-details";

/**
 * The rules an authorization request is checked against, one small named step per rule, and the
 * entry points that run each (the shape of node-oidc-provider's authorization action table): the
 * authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) and the device authorization endpoint
 * (RFC 8628 §3.1) today; pushed authorization requests and CIBA add a column, not a copy.
 *
 * A step reads the request's parameters and the client, throws its catalog code when the rule is
 * broken, and records what the rest of the flow needs in the draft. Steps run in table order, so
 * the first broken rule is the error reported. What only the authorization endpoint knows — the
 * client, the redirect URI, `state` and `response_mode` for where errors go — is resolved before
 * these steps (src/endpoints/authorize.ts); the device endpoint authenticates its client first.
 */

/** Where an authorization request can enter. */
export type EntryPoint = "authorization" | "device_authorization" | "backchannel" | "par";

/** What every step may read. */
export interface StepInput {
  readonly params: ReadonlyMap<string, string>;
  readonly client: Client;
  readonly config: Config;
}

/** What the steps establish, as the rest of the flow sees it. */
export interface Draft {
  scope: string[];
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  /** RFC 9449 §10: the JWK thumbprint of the DPoP key the code is bound to. */
  dpopJkt?: string;
  prompt?: "none" | "login" | "consent";
  maxAge?: number;
  loginHint?: string;
  /** CIBA §7.1 binding_message, requested_expiry (seconds) and acr_values. */
  bindingMessage?: string;
  requestedExpiry?: number;
  acrValues?: string[];
  /** OIDC Core §5.5.1.1: the acr values (acrValues, kept to the table's) are an essential claim. */
  acrEssential?: true;
  /** OIDC Core §5.5: the claims asked for by name (src/authorize/claims-request.ts). */
  claims?: ClaimsRequest;
  /** The `acr` member of the claims request, until acr_requested merges it into acrValues. */
  acrClaim?: AcrClaim;
  /** The person the request names (OIDC Core §5.5.1 `sub` value; §3.1.2.1 id_token_hint, src/authorize/id-token-hint.ts). */
  subject?: string;
  /** RFC 8707 §2: the resource servers the tokens are for (src/authorize/resource.ts). */
  resources?: string[];
  /** RFC 9396 §2: the authorization details asked for, checked against the declared and the client's types. */
  authorizationDetails?: AuthorizationDetail[];
}

export interface ValidationStep {
  readonly name: string;
  /** The catalog codes this rule can end a request with. */
  readonly codes: readonly ErrorCode[];
  check(input: StepInput, draft: Draft): void;
}

/** How the authorization response travels back (OAuth 2.0 Multiple Response Types §2.1; Form Post Response Mode). */
export type ResponseMode = "query" | "fragment" | "form_post";
const RESPONSE_MODES: readonly ResponseMode[] = ["query", "fragment", "form_post"];

export function responseModeOf(params: ReadonlyMap<string, string>): { mode: ResponseMode; valid: boolean } {
  const requested = params.get("response_mode");
  if (requested === undefined) return { mode: "query", valid: true };
  const valid = (RESPONSE_MODES as readonly string[]).includes(requested);
  return { mode: valid ? (requested as ResponseMode) : "query", valid };
}

/** OIDC scopes every client may ask for; a client's registered `scope` adds its own. */
export const STANDARD_SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"] as const;
const PROMPTS = ["none", "login", "consent"] as const;
/** RFC 7636 §4.1 / §4.2: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;
/** RFC 8628 §3.4: the device grant's type, as clients register it in `grant_types`. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** CIBA §10.1: the CIBA grant's type (src/ciba/model.ts). */
export { CIBA_GRANT } from "../ciba/model";
import { CIBA_GRANT } from "../ciba/model";

const step = (name: string, codes: readonly ErrorCode[], check: ValidationStep["check"]): ValidationStep => ({ name, codes, check });

/** A value that ends up sealed in the transaction and the code stays within its bytes (src/authorize/limits.ts). */
const withinBound = (name: BoundedParameter, record?: (draft: Draft, value: string) => void): ValidationStep =>
  step(`${name}_within_bound`, [REQUEST_BOUNDS[name].code], ({ params }, draft) => {
    const value = params.get(name);
    ensureWithinBound(name, value);
    if (value !== undefined) record?.(draft, value);
  });

export const responseModeSupported = step("response_mode_supported", ["unsupported_response_mode"], ({ params }) => {
  ensure(responseModeOf(params).valid, "unsupported_response_mode");
});

export const stateWithinBound = withinBound("state");
export const nonceWithinBound = withinBound("nonce", (draft, nonce) => (draft.nonce = nonce));
export const loginHintWithinBound = withinBound("login_hint", (draft, hint) => (draft.loginHint = hint));
export const scopeWithinBound = withinBound("scope");

/**
 * OIDC Core §3.1.2.6, §6: dynamic registration by parameter is not supported, nor request objects
 * by reference (a `request_uri` that is not a pushed request's). Request objects by value and pushed
 * requests are resolved into the parameters before these steps (src/authorize/pushed-request.ts),
 * at the authorization and PAR endpoints; the device endpoint takes neither.
 */
export const noRequestObject = step("no_request_object", ["request_not_supported"], ({ params }) => {
  ensure(!params.has("request"), "request_not_supported");
});
export const noRequestUri = step("no_request_uri", ["request_uri_not_supported"], ({ params }) => {
  ensure(!params.has("request_uri"), "request_uri_not_supported");
});
export const noRegistrationParameter = step("no_registration_parameter", ["registration_not_supported"], ({ params }) => {
  ensure(!params.has("registration"), "registration_not_supported");
});

/** RFC 6749 §3.1.1, §4.1.1: response_type is required, and only `code` is supported. */
export const responseTypeCode = step("response_type_code", ["missing_response_type", "unsupported_response_type"], ({ params }) => {
  const responseType = params.get("response_type");
  ensure(responseType !== undefined, "missing_response_type");
  ensure(responseType === "code", "unsupported_response_type");
});

/** RFC 6749 §5.2 unauthorized_client: the client must be registered for the grant the entry point leads to. */
const clientMayUse = (grantType: string, name: string): ValidationStep =>
  step(name, ["unauthorized_client"], ({ client }) => {
    ensure(client.grantTypes.includes(grantType), "unauthorized_client", `This client is not registered for the ${grantType} grant.`);
  });
export const clientMayUseAuthorizationCode = clientMayUse("authorization_code", "client_may_use_authorization_code");
export const clientMayUseDeviceCode = clientMayUse(DEVICE_CODE_GRANT, "client_may_use_device_code");
export const clientMayUseCiba = clientMayUse(CIBA_GRANT, "client_may_use_ciba");

/** RFC 6749 §3.3: space-delimited, no empty values; repeated values count once. */
export const scopeParsed = step("scope_parsed", ["malformed_scope"], ({ params }, draft) => {
  draft.scope = parseScope(params.get("scope")) ?? [];
});

/**
 * OIDC Core §3.1.2.1: an OpenID Connect request includes `openid`. Excepted: clients registered as
 * plain OAuth 2.0, and a request that names an RFC 8707 `resource` — an OAuth 2.0 request for access
 * to that resource (what MCP clients send, with the scopes of the resource's metadata), answered
 * without an ID token.
 */
export const openidScopeRequired = step("openid_scope_required", ["openid_scope_required"], ({ client, params }, draft) => {
  if (!client.plainOAuth2 && !params.has("resource")) ensure(draft.scope.includes("openid"), "openid_scope_required");
});

/** RFC 6749 §3.3: every scope is a standard one or one the client registered. */
export const scopeAllowed = step("scope_allowed", ["invalid_scope"], ({ client }, draft) => {
  const allowed = new Set<string>([...STANDARD_SCOPES, ...client.scope]);
  const refused = draft.scope.find((s) => !allowed.has(s));
  if (refused !== undefined) throw new OAuthError("invalid_scope", `The scope ${refused} is not allowed for this client.`);
});

/** RFC 7636 §4.3, §4.4.1; RFC 9700 §2.1.1: PKCE required of public clients (or all, by configuration), S256 unless allowed. */
export const pkce = step(
  "pkce",
  ["pkce_required", "invalid_request", "pkce_invalid_challenge", "pkce_method_not_allowed"],
  ({ params, client, config }, draft) => {
    const challenge = params.get("code_challenge");
    const method = params.get("code_challenge_method");
    if (challenge === undefined) {
      ensure(!(client.authMethod === "none" || config.requirePkceForAll), "pkce_required");
      ensure(method === undefined, "invalid_request", "code_challenge_method was sent without code_challenge.");
      return;
    }
    ensure(PKCE_VALUE.test(challenge), "pkce_invalid_challenge");
    // RFC 7636 §4.3: a missing method means plain, which we accept only from clients configured for it.
    const effective = method ?? "plain";
    ensure(effective === "S256" || (effective === "plain" && client.allowPlainPkce), "pkce_method_not_allowed");
    draft.codeChallenge = challenge;
    draft.codeChallengeMethod = effective;
  },
);

/** RFC 9449 §10: `dpop_jkt`, a JWK SHA-256 thumbprint (RFC 7638: 43 base64url characters), binds the code to that DPoP key. */
export const dpopJkt = step("dpop_jkt", ["dpop_jkt_malformed"], ({ params }, draft) => {
  const jkt = params.get("dpop_jkt");
  if (jkt === undefined) return;
  ensure(DPOP_JKT.test(jkt), "dpop_jkt_malformed");
  draft.dpopJkt = jkt;
});
const DPOP_JKT = /^[A-Za-z0-9_-]{43}$/;

/** OIDC Core §3.1.2.1: one of none, login, consent (select_account is not supported). */
export const promptValue = step("prompt_value", ["invalid_prompt"], ({ params }, draft) => {
  const value = params.get("prompt");
  if (value === undefined) return;
  const values = value.split(" ").filter(Boolean);
  ensure(values.length === 1, "invalid_prompt", "Send exactly one prompt value.");
  ensure((PROMPTS as readonly string[]).includes(values[0]!), "invalid_prompt");
  draft.prompt = values[0] as Draft["prompt"];
});

/** OIDC Core §3.1.2.1: max_age is a non-negative integer of seconds. */
export const maxAgeValue = step("max_age_value", ["invalid_max_age"], ({ params }, draft) => {
  const value = params.get("max_age");
  if (value === undefined) return;
  ensure(/^\d{1,10}$/.test(value), "invalid_max_age");
  draft.maxAge = Number(value);
});

/**
 * OIDC Core §3.1.2.1 ui_locales, §5.2 claims_locales: space-separated BCP 47 tags, preferred
 * first. Accepted and never an error for a tag that is unsupported or not well formed — the
 * pages are English (discovery's ui_locales_supported) and claims carry no language tags — only
 * a value over LOCALES_MAX characters is refused. Nothing is carried on.
 */
export const LOCALES_MAX = 256;
export const locales = step("locales", ["locales_too_long"], ({ params }) => {
  for (const name of ["ui_locales", "claims_locales"]) {
    const value = params.get(name);
    ensure(value === undefined || value.length <= LOCALES_MAX, "locales_too_long", `${name} must be at most ${LOCALES_MAX} characters.`);
  }
});

/** CIBA §7.1: the request is an OpenID Connect one — `openid` is required, without exception. */
export const cibaOpenidScope = step("ciba_openid_scope", ["ciba_openid_scope_missing"], (_input, draft) => {
  ensure(draft.scope.includes("openid"), "ciba_openid_scope_missing");
});

/** CIBA §7.1: exactly one of login_hint_token, id_token_hint and login_hint; none or several → invalid_request. */
export const exactlyOneHint = step("exactly_one_hint", ["ciba_hint_missing"], ({ params }) => {
  const sent = ["login_hint_token", "id_token_hint", "login_hint"].filter((name) => params.has(name));
  ensure(sent.length === 1, "ciba_hint_missing");
});

/** CIBA §7.1: login_hint_token is not supported (refused clearly rather than ignored). */
export const noLoginHintToken = step("no_login_hint_token", ["login_hint_token_unsupported"], ({ params }) => {
  ensure(!params.has("login_hint_token"), "login_hint_token_unsupported");
});

/** CIBA §7.1 binding_message: shown to the person beside what the client's device shows; 1–64 printable characters. */
export const BINDING_MESSAGE = /^[\p{L}\p{N}\p{P}\p{S}\p{Zs}]{1,64}$/u;
export const bindingMessage = step("binding_message", ["invalid_binding_message"], ({ params }, draft) => {
  const value = params.get("binding_message");
  if (value === undefined) return;
  ensure(BINDING_MESSAGE.test(value) && value.trim() !== "", "invalid_binding_message");
  draft.bindingMessage = value;
});

/** CIBA §7.1 user_code: not supported server-wide (backchannel_user_code_parameter_supported=false). */
export const noUserCode = step("no_user_code", ["ciba_user_code_unsupported"], ({ params }) => {
  ensure(!params.has("user_code"), "ciba_user_code_unsupported");
});

/** CIBA §7.1 requested_expiry: a positive integer of seconds, sent as a number or a numeric string (a form has only strings). */
export const requestedExpiry = step("requested_expiry", ["ciba_requested_expiry_invalid"], ({ params }, draft) => {
  const value = params.get("requested_expiry");
  if (value === undefined) return;
  ensure(/^[1-9]\d{0,8}$/.test(value), "ciba_requested_expiry_invalid");
  draft.requestedExpiry = Number(value);
});

/**
 * OIDC Core §3.1.2.1, CIBA §7.1 acr_values: space-separated, in order of preference, kept as sent
 * (within its bound, src/authorize/limits.ts); the authorization endpoint's acr_requested keeps the
 * values the operator's table knows.
 */
export const acrValues = withinBound("acr_values", (draft, value) => (draft.acrValues = value.split(" ").filter(Boolean)));

/** OIDC Core §5.5: the claims parameter, a JSON object (src/authorize/claims-request.ts); malformed → claims_invalid. */
export const claimsParameter = step("claims_parameter", ["claims_invalid"], ({ params }, draft) => {
  const value = params.get("claims");
  if (value === undefined) return;
  const { claims, acrClaim, subject } = parseClaimsParameter(value);
  if (claims !== undefined) draft.claims = claims;
  if (acrClaim !== undefined) draft.acrClaim = acrClaim;
  if (subject !== undefined) draft.subject = subject;
});

/**
 * OIDC Core §3.1.2.1, §5.5.1.1: acr_values and the acr claim merged into the acr values the
 * operator's table knows, in order of preference; essential and unmeetable →
 * unmet_authentication_requirements (src/authorize/claims-request.ts).
 */
export const acrRequested = step("acr_requested", ["unmet_authentication_requirements", "acr_values_too_long"], ({ config }, draft) => {
  const { acrValues: asked, acrClaim } = draft;
  delete draft.acrValues;
  delete draft.acrClaim;
  Object.assign(draft, acrRequest(asked, acrClaim, config.acrTable));
});

/** RFC 9396 §2, §5: authorization_details parsed and checked (src/authorize/authorization-details.ts). */
export const authorizationDetails = step(
  "authorization_details",
  ["authorization_details_malformed", "authorization_details_type_unknown", "authorization_details_type_not_allowed",
    "authorization_details_member_missing", "authorization_details_member_unknown", "authorization_details_member_invalid",
    "authorization_details_too_long"],
  ({ params, client, config }, draft) => {
    const value = params.get("authorization_details");
    if (value === undefined) return;
    const declared = config.authorizationDetailsTypes;
    draft.authorizationDetails = parseAuthorizationDetails(value, declared, typesForClient(client, declared));
  },
);

/** RFC 8707 §2: each `resource` an absolute URI without fragment, one the server knows and the client may have. */
export const resourceIndicators = step(
  "resource_indicators",
  ["resource_not_absolute", "resource_has_fragment", "resource_too_many", "resource_too_long", "resource_unknown", "resource_not_allowed"],
  ({ params, client, config }, draft) => {
    const resources = resourceValues(params);
    if (resources === undefined) return;
    ensureResourcesAllowed(resources, client, config);
    draft.resources = resources;
  },
);

const A = "authorization" as const;
const DA = "device_authorization" as const;
/** Pushed authorization requests (RFC 9126 §2.1): the authorization endpoint's checks, answered as JSON. */
const P = "par" as const;
const BC = "backchannel" as const;

/**
 * The table: each rule in the order it is checked, with the entry points that run it. RFC 8628
 * §3.1 takes only client_id and scope, so the device authorization endpoint has no response type,
 * redirect URI, state, PKCE, nonce or prompt; its client is authenticated (as at the token
 * endpoint) before these steps run.
 */
export const STEP_TABLE: readonly (readonly [ValidationStep, readonly EntryPoint[]])[] = [
  [responseModeSupported, [A, P]],
  [stateWithinBound, [A, P]],
  [nonceWithinBound, [A, P]],
  [loginHintWithinBound, [A, BC, P]],
  [scopeWithinBound, [A, DA, BC, P]],
  [noRequestObject, [DA]],
  [noRequestUri, [A, DA, BC, P]],
  [noRegistrationParameter, [A, DA, P]],
  [responseTypeCode, [A, P]],
  [clientMayUseAuthorizationCode, [A, P]],
  [clientMayUseDeviceCode, [DA]],
  [clientMayUseCiba, [BC]],
  [scopeParsed, [A, DA, BC, P]],
  [openidScopeRequired, [A, P]],
  [cibaOpenidScope, [BC]],
  [scopeAllowed, [A, DA, BC, P]],
  [resourceIndicators, [A, P]],
  [exactlyOneHint, [BC]],
  [noLoginHintToken, [BC]],
  [bindingMessage, [BC]],
  [noUserCode, [BC]],
  [requestedExpiry, [BC]],
  [acrValues, [A, BC, P]],
  [claimsParameter, [A, P]],
  [acrRequested, [A, P]],
  // FAPI 2.0 §5.3.2.2 (src/profiles/fapi2.ts): for clients under the profile, before the general PKCE rule.
  [fapi2AuthorizationRequest, [A, P]],
  [pkce, [A, P]],
  [dpopJkt, [A, P]],
  [authorizationDetails, [A, P]],
  [promptValue, [A, P]],
  [maxAgeValue, [A, DA, P]],
  [locales, [A, P]],
];

export const stepsFor = (entryPoint: EntryPoint): readonly ValidationStep[] =>
  STEP_TABLE.filter(([, entryPoints]) => entryPoints.includes(entryPoint)).map(([s]) => s);

export const authorizationEndpointSteps = stepsFor(A);
export const deviceAuthorizationSteps = stepsFor(DA);
export const pushedAuthorizationSteps = stepsFor(P);
export const backchannelSteps = stepsFor(BC);

/** Runs the steps in order; the first broken rule throws its catalog code. */
export function runSteps(steps: readonly ValidationStep[], input: StepInput): Draft {
  const draft: Draft = { scope: [] };
  for (const s of steps) s.check(input, draft);
  return draft;
}

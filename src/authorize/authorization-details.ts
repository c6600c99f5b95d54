import type { Client } from "../clients/model";
import { utf8 } from "../crypto/encoding";
import type { ErrorCode } from "../errors/catalog";
import { OAuthError, ensure } from "../errors/oauth-error";
import { REQUEST_BOUNDS } from "./limits";

/**
 * Rich Authorization Requests (RFC 9396): the `authorization_details` parameter, the types the
 * operator declares, the types each client may use, and what a token request may narrow.
 *
 * - §2: the parameter is a JSON array of one or more objects, each with a string `type`; the common
 *   members have fixed JSON types: `locations`, `actions`, `datatypes` and `privileges` arrays of
 *   strings, `identifier` a string. Values nest at most MAX_DEPTH deep.
 * - §5: an unknown type, a member missing that the type requires, a member the type does not list
 *   (when it lists its members), a member of the wrong JSON type, or a type the client may not use
 *   ends the request with `invalid_authorization_details` (each under its own catalog code).
 * - The operator declares the types (AUTHORIZATION_DETAILS_TYPES, docs/operator.md): discovery's
 *   `authorization_details_types_supported` (§10.1). A client may register
 *   `authorization_details_types` (§10.2), a subset of those; then it may use only those types,
 *   and without it every declared type.
 * - §6: a token request may carry `authorization_details` to get a token for part of what was
 *   granted (narrowAuthorizationDetails below; the subset rule is defined there).
 *
 * The details are kept as sent (parsed and re-serialized compactly), so their bound is on that
 * compact form: REQUEST_BOUNDS.authorization_details bytes of UTF-8 JSON, the bytes they take in
 * the sealed transaction and code (src/authorize/limits.ts).
 */

export interface AuthorizationDetail {
  type: string;
  [member: string]: unknown;
}

/** A type the operator declares (AUTHORIZATION_DETAILS_TYPES). */
export interface AuthorizationDetailsType {
  readonly type: string;
  /** Members a detail of this type must carry (besides `type`). */
  readonly required: readonly string[];
  /** When set, the only members a detail of this type may carry (besides `type`); unset, any. */
  readonly members?: readonly string[];
  /** Which consent-page renderer shows it (src/pages/authorization-details.tsx); unset: the one named like the type, else the generic list. */
  readonly renderer?: RendererName;
  /** A heading for the consent page, in the person's words (default: the type's name). */
  readonly label?: string;
}

/** The consent-page renderers src/pages/authorization-details.tsx implements (RFC 9396 §2's examples). */
export const RENDERER_NAMES = ["payment_initiation", "account_information"] as const;
export type RendererName = (typeof RENDERER_NAMES)[number];

/** RFC 9396 §2.2: the common data fields and their JSON types. */
const STRING_ARRAY_MEMBERS = ["locations", "actions", "datatypes", "privileges"] as const;
const STRING_MEMBERS = ["identifier"] as const;
/** An object inside a detail is one level; the detail itself is level 1. */
const MAX_DEPTH = 4;
const TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const MEMBER = /^[\x21-\x7e]{1,64}$/;

const fail = (code: ErrorCode, detail: string): never => {
  throw new OAuthError(code, detail);
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function depth(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depth));
  if (isObject(value)) return 1 + Math.max(0, ...Object.values(value).map(depth));
  return 0;
}

/** The byte length of the details as sealed: their compact JSON (UTF-8). */
export const detailsBytes = (details: readonly AuthorizationDetail[]): number => utf8(JSON.stringify(details)).byteLength;

/** The types a client may use: those it registered (§10.2), else every declared type. */
export function typesForClient(client: Pick<Client, "metadata">, declared: readonly AuthorizationDetailsType[]): readonly AuthorizationDetailsType[] {
  const registered = client.metadata.authorization_details_types;
  return isStringArray(registered) ? declared.filter((t) => registered.includes(t.type)) : declared;
}

/**
 * Parses and checks an `authorization_details` value against the declared types (§2, §5); `allowed`
 * are the types this client may use (typesForClient), checked after the type is known to exist.
 */
export function parseAuthorizationDetails(
  value: string,
  declared: readonly AuthorizationDetailsType[],
  allowed: readonly AuthorizationDetailsType[] = declared,
): AuthorizationDetail[] {
  const { bytes } = REQUEST_BOUNDS.authorization_details;
  // JSON may spell a value longer than its compact form; this only keeps the parse cheap.
  ensure(value.length <= 4 * bytes, "authorization_details_too_long");
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return fail("authorization_details_malformed", "authorization_details is not JSON.");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return fail("authorization_details_malformed", "authorization_details must be a JSON array of one or more objects.");
  const details = parsed.map((item, i) => checkDetail(item, i, declared, allowed));
  ensure(detailsBytes(details) <= bytes, "authorization_details_too_long", `authorization_details must be at most ${bytes} bytes as compact JSON (UTF-8).`);
  return details;
}

function checkDetail(item: unknown, i: number, declared: readonly AuthorizationDetailsType[], allowed: readonly AuthorizationDetailsType[]): AuthorizationDetail {
  const at = `authorization_details[${i}]`;
  if (!isObject(item)) return fail("authorization_details_malformed", `${at} is not an object.`);
  const type = item.type;
  if (typeof type !== "string" || !TOKEN.test(type)) return fail("authorization_details_malformed", `${at} has no type (a string).`);
  const known = declared.find((t) => t.type === type) ?? fail("authorization_details_type_unknown", `${at}: the type ${type} is not supported here.`);
  ensure(allowed.some((t) => t.type === type), "authorization_details_type_not_allowed", `${at}: this client is not registered for the type ${type}.`);
  for (const member of Object.keys(item)) {
    ensure(MEMBER.test(member), "authorization_details_member_invalid", `${at} has a member name that is not printable ASCII.`);
    if (member !== "type" && known.members) ensure(known.members.includes(member), "authorization_details_member_unknown", `${at}: ${member} is not a member of type ${type}.`);
  }
  for (const member of known.required) ensure(item[member] !== undefined, "authorization_details_member_missing", `${at}: type ${type} requires ${member}.`);
  for (const member of STRING_ARRAY_MEMBERS) {
    ensure(item[member] === undefined || isStringArray(item[member]), "authorization_details_member_invalid", `${at}: ${member} must be an array of strings.`);
  }
  for (const member of STRING_MEMBERS) {
    ensure(item[member] === undefined || typeof item[member] === "string", "authorization_details_member_invalid", `${at}: ${member} must be a string.`);
  }
  ensure(depth(item) <= MAX_DEPTH, "authorization_details_member_invalid", `${at} nests deeper than ${MAX_DEPTH} levels.`);
  return item as AuthorizationDetail;
}

/** JSON equality: same values, objects compared member by member whatever their order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return a === b;
}

/**
 * Whether a requested detail asks for no more than a granted one (RFC 9396 §6.1), by this rule:
 * the same `type` and the same members (a member left out could mean "any", which is more);
 * `locations`, `actions`, `datatypes` and `privileges` each a subset of the granted array (any
 * order, possibly empty); every other member equal to the granted value as JSON.
 */
export function coveredBy(requested: AuthorizationDetail, granted: AuthorizationDetail): boolean {
  const members = Object.keys(requested);
  if (members.length !== Object.keys(granted).length || !members.every((m) => Object.hasOwn(granted, m))) return false;
  return members.every((m) =>
    (STRING_ARRAY_MEMBERS as readonly string[]).includes(m)
      ? isStringArray(requested[m]) && isStringArray(granted[m]) && requested[m].every((v) => (granted[m] as string[]).includes(v))
      : jsonEqual(requested[m], granted[m]));
}

/**
 * RFC 9396 §6, §6.1: what a token request (authorization_code or refresh_token) gets. Without the
 * parameter, everything granted (undefined when nothing was). With it, the requested details —
 * checked like at the authorization endpoint against the declared types — when each is covered by
 * a granted one (coveredBy); anything more, or details when none were granted, is
 * `authorization_details_not_granted` (invalid_authorization_details).
 */
export function narrowAuthorizationDetails(
  requested: string | undefined,
  granted: readonly AuthorizationDetail[] | undefined,
  declared: readonly AuthorizationDetailsType[],
): AuthorizationDetail[] | undefined {
  if (requested === undefined) return granted === undefined ? undefined : [...granted];
  const details = parseAuthorizationDetails(requested, declared);
  const refused = details.findIndex((d) => !(granted ?? []).some((g) => coveredBy(d, g)));
  ensure(refused === -1, "authorization_details_not_granted", `authorization_details[${refused}] asks for more than was granted.`);
  return details;
}

/**
 * AUTHORIZATION_DETAILS_TYPES: a JSON array whose items are a type name, or an object
 * {"type", "required"?: [...], "members"?: [...], "renderer"?: one of RENDERER_NAMES, "label"?}.
 * Unset or empty: no types (authorization_details is refused). Throws when malformed.
 */
export function parseAuthorizationDetailsTypes(value: string | undefined): readonly AuthorizationDetailsType[] {
  if (value === undefined || value.trim() === "") return [];
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch {
    throw new Error("AUTHORIZATION_DETAILS_TYPES is not JSON");
  }
  if (!Array.isArray(list)) throw new Error("AUTHORIZATION_DETAILS_TYPES must be a JSON array");
  const types = list.map((item: unknown): AuthorizationDetailsType => {
    const entry = typeof item === "string" ? { type: item } : item;
    if (!isObject(entry) || typeof entry.type !== "string" || !TOKEN.test(entry.type)) {
      throw new Error("AUTHORIZATION_DETAILS_TYPES: each item is a type name or an object with a type (printable ASCII, no spaces)");
    }
    const names = (member: string): string[] | undefined => {
      const v = entry[member];
      if (v === undefined) return undefined;
      if (!isStringArray(v) || !v.every((m) => MEMBER.test(m) && m !== "type")) throw new Error(`AUTHORIZATION_DETAILS_TYPES: ${entry.type}'s ${member} must be an array of member names`);
      return v;
    };
    const { renderer, label } = entry;
    if (renderer !== undefined && !(RENDERER_NAMES as readonly unknown[]).includes(renderer)) {
      throw new Error(`AUTHORIZATION_DETAILS_TYPES: ${entry.type}'s renderer must be one of ${RENDERER_NAMES.join(", ")}`);
    }
    if (label !== undefined && (typeof label !== "string" || label.length === 0 || label.length > 100)) throw new Error(`AUTHORIZATION_DETAILS_TYPES: ${entry.type}'s label must be 1-100 characters`);
    const required = names("required") ?? [];
    const members = names("members");
    if (members && !required.every((m) => members.includes(m))) throw new Error(`AUTHORIZATION_DETAILS_TYPES: ${entry.type} requires a member it does not list in members`);
    return { type: entry.type, required, ...(members && { members }), ...(renderer !== undefined && { renderer: renderer as RendererName }), ...(label !== undefined && { label }) };
  });
  if (new Set(types.map((t) => t.type)).size !== types.length) throw new Error("AUTHORIZATION_DETAILS_TYPES names a type twice");
  return types;
}

/** RFC 7591 §2 / RFC 9396 §10.2: a client's `authorization_details_types`, a subset of the declared types. */
export function validClientTypes(value: unknown, declared: readonly AuthorizationDetailsType[]): string[] {
  ensure(isStringArray(value) && value.length <= 32, "authorization_details_types_malformed");
  const unknown = value.find((t) => !declared.some((d) => d.type === t));
  ensure(unknown === undefined, "authorization_details_types_unsupported", `authorization_details_types: ${unknown} is not a type this server supports.`);
  return [...new Set(value)];
}

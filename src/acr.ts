/**
 * Authentication context class references (OIDC Core §2 `acr`): which `acr` a sign-in earns,
 * from its authentication methods (RFC 8176 `amr`), by a table the operator may replace (ACR_TABLE,
 * src/config.ts). One table for both directions: the ID token's `acr` here, and the request side
 * — `acr_values` (OIDC Core §3.1.2.1) and the `acr` claim (§5.5.1.1, src/authorize/claims-request.ts)
 * — reads the same rules to know which sign-ins satisfy a requested value (src/authorize/decision.ts).
 *
 * A rule is an `acr` and the `amr` values a sign-in must all have; the first rule that matches
 * names the sign-in's `acr`, and a sign-in no rule matches has none (the claim is left out).
 * The default uses the values of OpenID's "EAP ACR Values" registry:
 *   phrh  phishing-resistant, hardware-protected: a passkey that cannot leave its device
 *         (hwk, not backup eligible) with user verification (mfa)
 *   phr   phishing-resistant: any passkey with user verification (a synced one: swk)
 * A password sign-in matches neither and carries no `acr`.
 */
export interface AcrRule {
  readonly acr: string;
  /** Every one of these must be in the sign-in's `amr`. */
  readonly amr: readonly string[];
}

export type AcrTable = readonly AcrRule[];

export const DEFAULT_ACR_TABLE: AcrTable = [
  { acr: "phrh", amr: ["hwk", "mfa"] },
  { acr: "phr", amr: ["hwk", "mfa"] },
  { acr: "phr", amr: ["swk", "mfa"] },
];

/** The `acr` a sign-in with these methods earns, or undefined. */
export function acrFor(table: AcrTable, amr: readonly string[]): string | undefined {
  return table.find((rule) => rule.amr.every((method) => amr.includes(method)))?.acr;
}

/**
 * `{ acr }` for the ID token, else `{}`: with requested values (OIDC Core §3.1.2.1: "the
 * Authentication Context Class satisfied by the authentication performed is returned"), the first
 * one in their order of preference that the sign-in satisfies; otherwise — nothing requested, or
 * a voluntary request the sign-in does not meet — the acr it earns.
 */
export function acrOf(table: AcrTable, amr: readonly string[], requested: readonly string[] = []): { acr?: string } {
  const satisfied = acrsSatisfiedBy(table, amr);
  const acr = requested.find((value) => satisfied.includes(value)) ?? acrFor(table, amr);
  return acr === undefined ? {} : { acr };
}

/** Every `acr` a sign-in with these methods satisfies (for `acr_values`: a phrh sign-in also satisfies phr). */
export const acrsSatisfiedBy = (table: AcrTable, amr: readonly string[]): string[] =>
  [...new Set(table.filter((rule) => rule.amr.every((method) => amr.includes(method))).map((rule) => rule.acr))];

/** Whether a sign-in with these methods satisfies one of the requested values (none requested: it does). */
export const satisfiesAcr = (table: AcrTable, amr: readonly string[], requested: readonly string[] | undefined): boolean =>
  requested === undefined || requested.length === 0 || acrsSatisfiedBy(table, amr).some((acr) => requested.includes(acr));

/** Discovery's `acr_values_supported`: the table's values, in order, once each. */
export const acrValuesSupported = (table: AcrTable): string[] => [...new Set(table.map((rule) => rule.acr))];

/** ACR_TABLE: a JSON array of {"acr": string, "amr": [string, …]}; empty → the default. Throws when malformed. */
export function parseAcrTable(value: string | undefined): AcrTable {
  if (value === undefined || value.trim() === "") return DEFAULT_ACR_TABLE;
  let table: unknown;
  try {
    table = JSON.parse(value);
  } catch {
    throw new Error("ACR_TABLE is not JSON");
  }
  const token = (v: unknown) => typeof v === "string" && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v);
  const valid =
    Array.isArray(table) &&
    table.every((r: { acr?: unknown; amr?: unknown } | null) => r !== null && typeof r === "object" && token(r.acr) && Array.isArray(r.amr) && r.amr.length > 0 && r.amr.every(token));
  if (!valid) throw new Error('ACR_TABLE must be a JSON array of {"acr": "…", "amr": ["…", …]}');
  return (table as AcrRule[]).map((r) => ({ acr: r.acr, amr: [...r.amr] }));
}

import type { Child } from "hono/jsx";
import type { AuthorizationDetail, AuthorizationDetailsType, RendererName } from "../authorize/authorization-details";

/**
 * RFC 9396 authorization details on the consent page, in the person's words: a type the operator
 * declared with a renderer (or whose name is a renderer's) gets its sentence; any other type gets
 * the generic list — each member labelled in words, arrays as lists, objects as nested lists, never
 * raw JSON. Every value is text in JSX, so it is escaped.
 */

type Renderer = (detail: AuthorizationDetail) => { summary: Child; shown: readonly string[] };

/** "instructedAmount" and "remittance_information" → "Instructed amount", "Remittance information". */
export function memberLabel(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** RFC 9396 §2.2's common members, in words. */
const COMMON_LABELS: Readonly<Record<string, string>> = {
  actions: "What it may do",
  locations: "Where",
  datatypes: "Which data",
  identifier: "Which one",
  privileges: "With the privileges",
};

const labelOf = (member: string): string => (Object.hasOwn(COMMON_LABELS, member) ? COMMON_LABELS[member]! : memberLabel(member));
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === "string" || typeof v === "number" ? String(v) : undefined);
/** An action name in words: "read_balances" → "read balances". */
const words = (v: string): string => v.replace(/[_-]+/g, " ");

/** Strings, numbers and booleans read inline ("initiate, status"); objects (alone or in an array) as nested lists. */
function Value({ value }: { value: unknown }): Child {
  if (Array.isArray(value)) {
    if (!value.some((item) => item !== null && typeof item === "object")) return value.map((item) => plain(item)).join(", ");
    return <ul>{value.map((item) => <li><Value value={item} /></li>)}</ul>;
  }
  if (isObject(value)) return <Members detail={value} skip={[]} />;
  return plain(value);
}

const plain = (value: unknown): string => (typeof value === "boolean" ? (value ? "yes" : "no") : value === null ? "none" : String(value));

/** Each member but `type` and those a renderer already said, labelled. */
function Members({ detail, skip }: { detail: Record<string, unknown>; skip: readonly string[] }) {
  const members = Object.keys(detail).filter((m) => m !== "type" && !skip.includes(m));
  if (members.length === 0) return null;
  return (
    <ul class="detail-members">
      {members.map((m) => (
        <li>
          <span class="detail-label">{labelOf(m)}:</span> <Value value={detail[m]} />
        </li>
      ))}
    </ul>
  );
}

/** RFC 9396 §2's payment example: "Pay 123.50 EUR to Merchant A (account DE02…)". */
const paymentInitiation: Renderer = (detail) => {
  const amount = isObject(detail.instructedAmount) ? detail.instructedAmount : {};
  const [sum, currency] = [text(amount.amount), text(amount.currency)];
  const creditor = text(detail.creditorName);
  const account = isObject(detail.creditorAccount) ? text(detail.creditorAccount.iban) : undefined;
  const reference = text(detail.remittanceInformationUnstructured);
  if (sum === undefined || currency === undefined || Object.keys(amount).length !== 2) return { summary: "Make a payment", shown: [] };
  return {
    summary: (
      <>
        Pay <strong>{sum} {currency}</strong>
        {creditor !== undefined && <> to <strong>{creditor}</strong></>}
        {account !== undefined && <> (account {account})</>}
        {reference !== undefined && <>, reference “{reference}”</>}
      </>
    ),
    shown: ["instructedAmount", ...(creditor !== undefined ? ["creditorName"] : []),
      ...(account !== undefined && Object.keys(detail.creditorAccount as object).length === 1 ? ["creditorAccount"] : []),
      ...(reference !== undefined ? ["remittanceInformationUnstructured"] : [])],
  };
};

/** RFC 9396 §2's account example: "See your accounts: list accounts, read balances". */
const accountInformation: Renderer = (detail) => {
  const actions = Array.isArray(detail.actions) ? detail.actions.filter((a): a is string => typeof a === "string") : [];
  if (actions.length === 0) return { summary: "See your accounts", shown: [] };
  return { summary: <>See your accounts: {actions.map(words).join(", ")}</>, shown: ["actions"] };
};

/** The renderers a declared type may name (AUTHORIZATION_DETAILS_TYPES `renderer`). */
export const renderers = {
  payment_initiation: paymentInitiation,
  account_information: accountInformation,
} as const satisfies Record<RendererName, Renderer>;

const rendererFor = (type: AuthorizationDetailsType | undefined, name: string): Renderer | undefined => {
  const chosen = type?.renderer ?? name;
  return Object.hasOwn(renderers, chosen) ? renderers[chosen as RendererName] : undefined;
};

/** One detail: its heading (the renderer's sentence, else the type's label), the type's name beneath, then the other members. */
export function AuthorizationDetailItem({ detail, types }: { detail: AuthorizationDetail; types: readonly AuthorizationDetailsType[] }) {
  const declared = types.find((t) => t.type === detail.type);
  const rendered = rendererFor(declared, detail.type)?.(detail);
  return (
    <li>
      {rendered?.summary ?? declared?.label ?? `Use “${detail.type}”`}
      <span class="name">{detail.type}</span>
      <Members detail={detail} skip={rendered?.shown ?? []} />
    </li>
  );
}

/** The details asked for, one item each (consent page). */
export function AuthorizationDetailsList({ details, types }: { details: readonly AuthorizationDetail[]; types: readonly AuthorizationDetailsType[] }) {
  return (
    <ul class="scopes details">
      {details.map((detail) => <AuthorizationDetailItem detail={detail} types={types} />)}
    </ul>
  );
}

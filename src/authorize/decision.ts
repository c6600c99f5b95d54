import { DEFAULT_ACR_TABLE, satisfiesAcr, type AcrTable } from "../acr";
import type { Client } from "../clients/model";
import { covers, type Consent } from "../consent/store";
import type { ErrorCode } from "../errors/catalog";
import type { Session } from "../sessions/model";
import type { User } from "../users/model";
import { claimsBeyondScope } from "./claims-request";
import type { Transaction } from "./request";

/**
 * What the person must still do before an authorization completes, decided from what is known —
 * no I/O, no clock but `now` (the shape of node-oidc-provider's interaction policy): prompts in
 * order, each made of named checks; the first prompt with a check that holds is the answer. The
 * endpoint turns an answer into a page, an error or the completion (src/authorize/flow.ts).
 *
 * With prompt=none no page may be shown, so a prompt's check becomes that prompt's error
 * (OIDC Core §3.1.2.6). The `account` prompt has no page: a disabled (or deleted) account is
 * always an error. Neither have the checks of a sign-in made during this transaction that still
 * is not what the request asked for (another person than it names; an essential acr not met).
 */
export interface DecisionInput {
  /** The request, and what this transaction already established (a sign-in here, the consent page approved here). */
  txn: Pick<Transaction, "request" | "authenticatedSid" | "consented"> & Partial<Pick<Transaction, "completion">>;
  /** This browser's live session, if any. */
  session: Session | null;
  /** The session's person (null without a session, or when the account is gone). */
  user: User | null;
  /** The person's consent to the client, if any. */
  consent: Consent | null;
  client: Pick<Client, "firstParty">;
  now: number;
  /** Which sign-ins satisfy which acr (config.acrTable, src/acr.ts); default the built-in table. */
  acrTable?: AcrTable;
}

export type PromptName = "login" | "account" | "acr" | "verify_email" | "consent";
/** The prompts without a page of their own. */
type PagelessPrompt = "account" | "acr";
export type CheckName =
  | "no_session" | "prompt_login" | "max_age" | "other_person" | "user_disabled" | "email_unverified" | "consent_missing" | "prompt_consent"
  | "acr_unmet" | "other_subject" | "subject_not_signed_in" | "acr_essential_unmet" | "claims_beyond_scope"
  | "authorization_details";

export type Decision =
  /** Show the prompt's page (the reasons are the checks that held). */
  | { kind: "interaction"; prompt: Exclude<PromptName, PagelessPrompt>; reasons: CheckName[] }
  /** End the authorization with this error (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6). */
  | { kind: "error"; prompt: PromptName; code: ErrorCode; reasons: CheckName[] }
  /**
   * Complete. `recordConsent`: a first-party client skips the consent page, but its grant is
   * still recorded (so it can be listed and withdrawn) when the stored one does not cover the scope and resources.
   */
  | { kind: "granted"; session: Session; user: User; consent: Consent | null; recordConsent: boolean };

interface Check {
  name: CheckName;
  holds(input: DecisionInput): boolean;
}

interface Prompt {
  name: PromptName;
  /** The error when the page cannot be shown (prompt=none), or always for a prompt without a page. */
  error: ErrorCode;
  interactive: boolean;
  checks: readonly Check[];
}

/** The session was not established during this transaction: prompt=login and max_age ask for a fresh one. */
const notFromThisTransaction = ({ session, txn }: DecisionInput) => session !== null && txn.authenticatedSid !== session.sid;

/** The requested acr values are met by the session's sign-in (OIDC Core §3.1.2.1, §5.5.1.1; src/acr.ts). */
const acrMet = ({ session, txn, acrTable }: DecisionInput) => satisfiesAcr(acrTable ?? DEFAULT_ACR_TABLE, session!.amr, txn.request.acrValues);
/** The session is another person's than the one the request names (id_token_hint, the claims request's sub value). */
const otherSubject = ({ session, txn }: DecisionInput) => txn.request.subject !== undefined && session!.userId !== txn.request.subject;

/**
 * OIDC Core §3.1.2.3: authenticate when there is no session, prompt=login asks again, or max_age has
 * passed; and sign in again when the session's sign-in does not satisfy the acr asked for (with a
 * method that does: a passkey for phr/phrh, §3.1.2.1, §5.5.1.1) or is not the person the request
 * names (§3.1.2.1 id_token_hint: "logged in by the request"). Only a sign-in made before this
 * transaction is asked again; with prompt=none each is login_required.
 */
const login: Prompt = {
  name: "login",
  error: "login_required",
  interactive: true,
  checks: [
    { name: "no_session", holds: ({ session }) => session === null },
    { name: "prompt_login", holds: (input) => notFromThisTransaction(input) && input.txn.request.prompt === "login" },
    {
      name: "max_age",
      // max_age=0 is prompt=login (OIDC Core §3.1.2.1): stale even within the second of the last sign-in.
      holds: (input) => {
        const { maxAge } = input.txn.request;
        return notFromThisTransaction(input) && maxAge !== undefined && (maxAge === 0 || input.now - input.session!.authTime > maxAge);
      },
    },
    { name: "acr_unmet", holds: (input) => notFromThisTransaction(input) && !acrMet(input) },
    { name: "other_subject", holds: (input) => notFromThisTransaction(input) && otherSubject(input) },
  ],
};

/**
 * A sign-in made during this transaction as another person than the request names: OIDC Core
 * §3.1.2.1 says the OP "SHOULD return an error, such as login_required" — no second page.
 */
const namedSubject: Prompt = {
  name: "login",
  error: "login_required",
  interactive: false,
  checks: [{ name: "subject_not_signed_in", holds: otherSubject }],
};

/**
 * OIDC Core §5.5.1.1: an essential acr the sign-in made for it still does not meet is "a failed
 * authentication attempt": unmet_authentication_requirements (OpenID Connect Core Unmet
 * Authentication Requirements 1.0 §1). A voluntary one (acr_values, a non-essential acr claim)
 * goes on with the acr the sign-in has.
 */
const essentialAcr: Prompt = {
  name: "acr",
  error: "unmet_authentication_requirements",
  interactive: false,
  checks: [{ name: "acr_essential_unmet", holds: (input) => input.txn.request.acrEssential === true && !acrMet(input) }],
};

/**
 * An authorization meant for one person (CIBA's backchannel completion names the person the
 * request is for, CIBA Core §7.1) is nobody else's to see: a session of another person ends it as
 * if it did not exist, before any page names the client, the scopes or the binding message.
 */
const namedPerson: Prompt = {
  name: "account",
  error: "ciba_request_invalid",
  interactive: false,
  checks: [
    {
      name: "other_person",
      holds: ({ txn, session }) => txn.completion?.kind === "backchannel" && session!.userId !== txn.completion.sub,
    },
  ],
};

/** RFC 6749 §4.1.2.1 access_denied: a disabled or deleted account authorizes nothing. */
const account: Prompt = {
  name: "account",
  error: "user_disabled",
  interactive: false,
  checks: [{ name: "user_disabled", holds: ({ user }) => user === null || user.disabled }],
};

/** The seeds' rule: a person verifies their email address before any client gets their identity. */
const verifyEmail: Prompt = {
  name: "verify_email",
  error: "email_verification_required",
  interactive: true,
  checks: [{ name: "email_unverified", holds: ({ user }) => !user!.emailVerified }],
};

/**
 * OIDC Core §3.1.2.4: consent covering the scope and the RFC 8707 resources (first-party clients skip the page),
 * asked again for prompt=consent.
 * RFC 9396 authorization details (a payment, one account) are this request's alone: no stored consent
 * covers them, so the page is shown whenever a request carries them, first-party clients too.
 */
const consent: Prompt = {
  name: "consent",
  error: "consent_required",
  interactive: true,
  checks: [
    { name: "consent_missing", holds: ({ client, consent: given, txn }) => !client.firstParty && !covers(given, txn.request.scope, txn.request.resources) },
    { name: "prompt_consent", holds: ({ client, txn }) => !client.firstParty && txn.request.prompt === "consent" && !txn.consented },
    { name: "authorization_details", holds: ({ txn }) => (txn.request.authorizationDetails?.length ?? 0) > 0 && !txn.consented },
    // OIDC Core §5.5: claims asked for one by one beyond the scope's are listed on the page; that
    // approval goes into what this authorization issues, not the stored consent, so it is asked each time.
    {
      name: "claims_beyond_scope",
      holds: ({ client, txn }) => !client.firstParty && !txn.consented && claimsBeyondScope(txn.request.claims, txn.request.scope).length > 0,
    },
  ],
};

/** In order: a later prompt's checks may rely on an earlier one's having passed (a session, then its person). */
export const POLICY: readonly Prompt[] = [login, namedSubject, essentialAcr, namedPerson, account, verifyEmail, consent];

export function decide(input: DecisionInput): Decision {
  const silent = input.txn.request.prompt === "none";
  for (const prompt of POLICY) {
    const reasons = prompt.checks.filter((check) => check.holds(input)).map((check) => check.name);
    if (reasons.length === 0) continue;
    if (prompt.interactive && !silent) return { kind: "interaction", prompt: prompt.name as Exclude<PromptName, PagelessPrompt>, reasons };
    return { kind: "error", prompt: prompt.name, code: prompt.error, reasons };
  }
  return {
    kind: "granted",
    session: input.session!,
    user: input.user!,
    consent: input.consent,
    recordConsent: !covers(input.consent, input.txn.request.scope, input.txn.request.resources),
  };
}

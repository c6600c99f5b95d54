import { CsrfField } from "./layout";

export interface DecisionFormProps {
  /** Where the form posts (one of our paths). */
  action: string;
  /** Hidden fields besides `csrf` (the request the decision is about). */
  hidden: Readonly<Record<string, string>>;
  csrf: string;
  /** The `decision` values and labels: the yes button first (primary), then the no button. */
  yes: { value: string; label: string };
  no: { value: string; label: string };
}

/** A two-button decision (consent: Allow / Deny; a device: Approve / Deny), POSTed with `decision` and the CSRF token. */
export function DecisionForm({ action, hidden, csrf, yes, no }: DecisionFormProps) {
  return (
    <form method="post" action={action}>
      {Object.entries(hidden).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <CsrfField token={csrf} />
      <div class="actions row">
        <button type="submit" name="decision" value={yes.value}>
          {yes.label}
        </button>
        <button type="submit" name="decision" value={no.value} class="secondary">
          {no.label}
        </button>
      </div>
    </form>
  );
}

import type { ScopeDescription } from "./scopes";

/** Scopes in the person's words, each with its protocol name beneath (consent and account pages). */
export function ScopeList({ scopes }: { scopes: readonly ScopeDescription[] }) {
  return (
    <ul class="scopes">
      {scopes.map((scope) => (
        <li>
          {scope.description}
          <span class="name">{scope.name}</span>
        </li>
      ))}
    </ul>
  );
}

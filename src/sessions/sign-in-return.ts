/**
 * Where a sign-in that is not part of an authorization request leads afterwards: a fixed table of
 * paths on this server, chosen by name in the sign-in URL (`/login?return=account`). Nothing else
 * is accepted — no URL, no path from the request — so the sign-in page cannot be used to send a
 * person elsewhere (open redirection, RFC 9700 §4.11). Sign-ins for an authorization request
 * return through their sealed transaction (`txn`) instead.
 */
export const SIGN_IN_RETURNS = { account: "/account", passkeys: "/account/passkeys" } as const;

export type SignInReturn = keyof typeof SIGN_IN_RETURNS;

/** Whether `value` names an entry of SIGN_IN_RETURNS. */
export const isSignInReturn = (value: string | undefined): value is SignInReturn =>
  value !== undefined && Object.hasOwn(SIGN_IN_RETURNS, value);

/** The sign-in page that returns to `name` afterwards. */
export const signInUrl = (name: SignInReturn): string => `/login?return=${name}`;

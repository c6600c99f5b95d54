/** The server-rendered pages. Render them with renderPage (src/http/page-security.ts). */
export { Layout, CsrfField, type LayoutProps } from "./layout";
export { SignInPage, type SignInPageProps, type SignInError } from "./sign-in";
export { SignUpPage, type SignUpPageProps, type SignUpError } from "./sign-up";
export {
  VerifyEmailSentPage,
  VerifyEmailConfirmPage,
  VerifyEmailDonePage,
  type VerifyEmailSentPageProps,
  type VerifyEmailConfirmPageProps,
  type VerifyEmailDonePageProps,
} from "./verify-email";
export { ConsentPage, type ConsentPageProps } from "./consent";
export { AccountPage, isAccountNotice, type AccountPageProps, type AccountGrant, type AccountNotice } from "./account";
export { describeClaims, describeScope, describeScopes, type ScopeDescription } from "./scopes";
export { ErrorPage, errorPageProps, renderErrorPage, type ErrorPageProps } from "./error";
export { FormPostPage, renderFormPost, type FormPostPageProps } from "./form-post";
export { OutboxPage, type OutboxPageProps, type OutboxEntry } from "./outbox";
export { clientInfo, externalHref, localHref } from "./links";

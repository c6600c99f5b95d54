import type { AuthorizationDetail } from "../src/authorize/authorization-details";

/**
 * The authorization details of the RFC 9396 tests, after the RFC's §2 examples, of the types
 * vitest.config.ts declares: payment_initiation (a renderer, required and listed members) and
 * customer_information (declared by name only: the generic consent list).
 */
export const PAYMENT: AuthorizationDetail = {
  type: "payment_initiation",
  actions: ["initiate", "status", "cancel"],
  locations: ["https://example.com/payments"],
  instructedAmount: { currency: "EUR", amount: "123.50" },
  creditorName: "Merchant A",
  creditorAccount: { iban: "DE02100100109307118603" },
  remittanceInformationUnstructured: "Ref Number Merchant",
};

export const CUSTOMER: AuthorizationDetail = {
  type: "customer_information",
  locations: ["https://example.com/customers"],
  actions: ["read", "write"],
  datatypes: ["contacts", "photos"],
};

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { runMaintenance } from "../src/maintenance";
import { createClient, nowSeconds } from "./helpers";
import { clientCredentials as token } from "./registration-usage-helpers";
import { registered, type Registration } from "./rfc7591-helpers";

/**
 * Maintenance removes self-registered clients (RFC 7591 /register) to which no token was issued
 * within UNUSED_CLIENT_TTL (config.unusedClientTtl, default a day) of their registration, with what
 * they hold (registration access token, consents, CORS origins), and counts them in its report
 * (`unused_clients`). "Used" is recorded by the token endpoint once a token is issued
 * (src/registration/usage.ts, after the answer); operator clients are never touched. Time is
 * injected into runMaintenance; the Worker's after-answer work is waited for.
 */

const DAY = 86_400;

const ccRegistration = () => registered({ grant_types: ["client_credentials"] });

const exists = async (table: string, clientId: string) =>
  (await env.DB.prepare(`SELECT 1 FROM ${table} WHERE client_id = ?`).bind(clientId).first()) !== null;

const firstUse = async (clientId: string) =>
  (await env.DB.prepare("SELECT first_used_at FROM client_registrations WHERE client_id = ?").bind(clientId).first<{ first_used_at: number | null }>())
    ?.first_used_at;

/** A consent and a CORS origin for the client, as a person's approval and a registration would leave. */
async function holdings(clientId: string): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("INSERT INTO consents (user_id, client_id, grant_id, scope, created_at, updated_at) VALUES ('u-unused', ?, ?, 'openid', 0, 0)")
      .bind(clientId, crypto.randomUUID()),
    env.DB.prepare("INSERT INTO client_origins (origin, client_id) VALUES ('https://rp.example', ?)").bind(clientId),
  ]);
}

/** Every table that names the client, so a removal is seen whole. */
const traces = async (clientId: string) =>
  Object.fromEntries(await Promise.all(
    ["clients", "client_registrations", "registration_tokens", "consents", "client_origins"].map(async (t) => [t, await exists(t, clientId)] as const),
  ));
const NONE = { clients: false, client_registrations: false, registration_tokens: false, consents: false, client_origins: false };

async function cleanupAt(now: number, overrides: Partial<Env> = {}) {
  const report = await runMaintenance({ ...env, ...overrides } as Env, now);
  expect(report.cleanup.ok).toBe(true);
  return report.cleanup as { ok: true; unused_clients: number };
}

describe("maintenance: self-registered clients never used within UNUSED_CLIENT_TTL", () => {
  it("an unused one is removed with what it holds once the TTL has passed (not a second before), and counted", async () => {
    const reg = await ccRegistration();
    await holdings(reg.client_id);
    const registeredAt = reg.client_id_issued_at as number;

    expect((await cleanupAt(registeredAt + DAY - 1)).unused_clients).toBe(0);
    expect(await traces(reg.client_id)).toEqual({ ...NONE, clients: true, client_registrations: true, registration_tokens: true, consents: true, client_origins: true });

    expect((await cleanupAt(registeredAt + DAY + 1)).unused_clients).toBe(1);
    expect(await traces(reg.client_id)).toEqual(NONE);
    // Gone for its holder too: its credentials no longer authenticate.
    expect((await token(reg)).status).toBe(401);
  });

  it("one that was issued a token is kept; its first use is recorded once, at the first token", async () => {
    const reg = await ccRegistration();
    expect(await firstUse(reg.client_id)).toBeNull();
    const first = nowSeconds();
    expect((await token(reg)).status).toBe(200);
    const recorded = await firstUse(reg.client_id);
    expect(recorded).toBeGreaterThanOrEqual(first);
    expect((await token(reg)).status).toBe(200);
    expect(await firstUse(reg.client_id)).toBe(recorded);

    expect((await cleanupAt(nowSeconds() + 30 * DAY)).unused_clients).toBe(0);
    expect(await exists("clients", reg.client_id)).toBe(true);
  });

  it("a refused token request (a wrong secret) is not a use", async () => {
    const reg = await ccRegistration();
    expect((await token(reg, "not-the-secret")).status).toBe(401);
    expect(await firstUse(reg.client_id)).toBeNull();
    await cleanupAt(nowSeconds() + DAY + 1);
    expect(await exists("clients", reg.client_id)).toBe(false);
  });

  it("operator clients are never removed, used or not", async () => {
    const operatorClient = await createClient({ grant_types: ["client_credentials"] });
    await cleanupAt(nowSeconds() + 365 * DAY);
    expect(await exists("clients", operatorClient.client_id)).toBe(true);
  });

  it("clients registered before use was recorded (first_used_at 0, migration 0006) are kept", async () => {
    const reg = await ccRegistration();
    await env.DB.prepare("UPDATE client_registrations SET first_used_at = 0 WHERE client_id = ?").bind(reg.client_id).run();
    await cleanupAt(nowSeconds() + 365 * DAY);
    expect(await exists("clients", reg.client_id)).toBe(true);
  });

  it("UNUSED_CLIENT_TTL=0 keeps every client; another TTL is honoured", async () => {
    const reg: Registration = await ccRegistration();
    const at = reg.client_id_issued_at as number;
    expect((await cleanupAt(at + 365 * DAY, { UNUSED_CLIENT_TTL: "0" })).unused_clients).toBe(0);
    expect(await exists("clients", reg.client_id)).toBe(true);
    expect((await cleanupAt(at + 3601, { UNUSED_CLIENT_TTL: "3600" })).unused_clients).toBeGreaterThanOrEqual(1);
    expect(await exists("clients", reg.client_id)).toBe(false);
  });

  it("is idempotent: a second run finds nothing more", async () => {
    await ccRegistration();
    const later = nowSeconds() + 2 * DAY;
    await cleanupAt(later);
    expect((await cleanupAt(later)).unused_clients).toBe(0);
  });
});

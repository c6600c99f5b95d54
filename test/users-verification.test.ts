import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import { hashForStorage } from "../src/crypto/hash";
import { OAuthError } from "../src/errors/oauth-error";
import { listOutbox } from "../src/mail/outbox";
import { mailerFrom } from "../src/mail";
import { completeVerification, startVerification } from "../src/users/verification";
import { createUser, d1UserStore } from "../src/users/store";
import { ISSUER, nowSeconds, uniqueId } from "./helpers";

const config = configFrom(env);
const startDeps = (now = nowSeconds()) => ({ db: env.DB, mailer: mailerFrom(env), issuer: config.issuer, ttl: config.emailVerificationTtl, now });

async function newUser() {
  return createUser({ users: d1UserStore(env.DB), now: nowSeconds() }, { email: `${uniqueId("verify")}@example.com` });
}

/** The token from the newest message in the outbox for `email`. */
async function mailedToken(email: string): Promise<string> {
  const [message] = await listOutbox(env.DB, email);
  const match = /\/verify-email\?token=([A-Za-z0-9_-]+)/.exec(message?.text ?? "");
  expect(match, message?.text).not.toBeNull();
  return match![1]!;
}

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OAuthError);
  expect((err as OAuthError).code).toBe("verification_link_invalid");
  return err as OAuthError;
}

describe("email verification links (issue 3: users must verify their email before authorizing clients)", () => {
  it("startVerification mails a link to ${issuer}/verify-email?token=… with a 256-bit token; only its hash is stored", async () => {
    const user = await newUser();
    const now = nowSeconds();
    const { expiresAt } = await startVerification(startDeps(now), user);
    expect(expiresAt).toBe(now + 24 * 3600);
    const [message, ...older] = await listOutbox(env.DB, user.email);
    expect(older).toEqual([]);
    expect(message).toMatchObject({ to: user.email, subject: "Verify your email address" });
    expect(message!.text).toContain(`${ISSUER}/verify-email?token=`);
    expect(message!.text).toContain("expires in 24 hours");
    const token = await mailedToken(user.email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const row = await env.DB.prepare("SELECT * FROM email_verifications WHERE user_id = ?").bind(user.id).first<Record<string, unknown>>();
    expect(row).toMatchObject({ token_hash: await hashForStorage(token), email: user.email, created_at: now, expires_at: now + 24 * 3600, used_at: null });
  });

  it("completeVerification marks the user verified and answers with the user", async () => {
    const user = await newUser();
    await startVerification(startDeps(), user);
    const verified = await completeVerification({ db: env.DB, now: nowSeconds() }, await mailedToken(user.email));
    expect(verified).toMatchObject({ id: user.id, emailVerified: true });
    expect((await d1UserStore(env.DB).get(user.id))?.emailVerified).toBe(true);
  });

  it("a link works once: of 10 concurrent completions exactly one succeeds", async () => {
    const user = await newUser();
    await startVerification(startDeps(), user);
    const token = await mailedToken(user.email);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => completeVerification({ db: env.DB, now: nowSeconds() }, token)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as OAuthError).code).toBe("verification_link_invalid");
    await failure(completeVerification({ db: env.DB, now: nowSeconds() }, token));
  });

  it("an expired link is refused and leaves the user unverified", async () => {
    const user = await newUser();
    const issued = nowSeconds();
    await startVerification(startDeps(issued), user);
    const token = await mailedToken(user.email);
    await failure(completeVerification({ db: env.DB, now: issued + 24 * 3600 }, token));
    expect((await d1UserStore(env.DB).get(user.id))?.emailVerified).toBe(false);
  });

  it("a link sent to an address the user no longer has does not verify the new address", async () => {
    const user = await newUser();
    await startVerification(startDeps(), user);
    const token = await mailedToken(user.email);
    // The address changes after the link was sent (an operator edit; no API changes emails yet).
    await env.DB.prepare("UPDATE users SET email = ? WHERE id = ?").bind(`${uniqueId("changed")}@example.com`, user.id).run();
    const err = await failure(completeVerification({ db: env.DB, now: nowSeconds() }, token));
    expect(err.message).toMatch(/no longer uses/);
    expect((await d1UserStore(env.DB).get(user.id))?.emailVerified).toBe(false);
  });

  it("the address must be exactly the one the link was sent to, not merely equal ignoring case", async () => {
    const user = await newUser();
    await startVerification(startDeps(), user);
    const token = await mailedToken(user.email);
    await env.DB.prepare("UPDATE users SET email = ? WHERE id = ?").bind(user.email.toUpperCase(), user.id).run();
    await failure(completeVerification({ db: env.DB, now: nowSeconds() }, token));
  });

  it("malformed and unknown tokens are refused without touching anything", async () => {
    for (const token of [undefined, "", "short", "A".repeat(43), "A".repeat(44), `${"A".repeat(42)}=`, 42]) {
      await failure(completeVerification({ db: env.DB, now: nowSeconds() }, token));
    }
  });
});

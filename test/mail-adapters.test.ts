import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configFrom } from "../src/config";
import type { Env, EmailSendBinding } from "../src/env";
import { mailerFrom } from "../src/mail";
import { cloudflareMailer, parseSender } from "../src/mail/cloudflare";
import { listOutbox, outboxMailer } from "../src/mail/outbox";
import { uniqueId } from "./helpers";

function fakeBinding() {
  const sent: Parameters<EmailSendBinding["send"]>[0][] = [];
  const binding: EmailSendBinding = {
    async send(message) {
      sent.push(message);
      return { messageId: `<${sent.length}@test>` };
    },
  };
  return { binding, sent };
}

/** A fresh env object (configFrom caches per object) with overrides. */
const envWith = (overrides: Partial<Env>): Env => ({ ...env, ...overrides }) as Env;

describe("mail: outbox adapter (MAIL_PROVIDER=outbox, local development)", () => {
  it("writes each message to the D1 outbox; listOutbox reads them newest first, by recipient case-insensitively", async () => {
    const to = `${uniqueId("Mailbox")}@example.com`;
    let t = 1000;
    const mailer = outboxMailer(env.DB, () => t++);
    await mailer.send({ to, subject: "first", text: "one" });
    await mailer.send({ to, subject: "second", text: "two" });
    await mailer.send({ to: `${uniqueId("other")}@example.com`, subject: "elsewhere", text: "x" });
    const messages = await listOutbox(env.DB, to.toLowerCase());
    expect(messages.map(({ to: recipient, subject, text, createdAt }) => ({ recipient, subject, text, createdAt }))).toEqual([
      { recipient: to, subject: "second", text: "two", createdAt: 1001 },
      { recipient: to, subject: "first", text: "one", createdAt: 1000 },
    ]);
    expect((await listOutbox(env.DB)).length).toBeGreaterThanOrEqual(3);
  });
});

describe("mail: Cloudflare Email Service adapter (MAIL_PROVIDER=cloudflare)", () => {
  it("sends from MAIL_FROM with the subject and text body through the send_email binding", async () => {
    const { binding, sent } = fakeBinding();
    await cloudflareMailer(binding, "Latchkey <login@example.com>").send({ to: "ada@example.com", subject: "Hi", text: "Body" });
    expect(sent).toEqual([{ from: { email: "login@example.com", name: "Latchkey" }, to: "ada@example.com", subject: "Hi", text: "Body" }]);
  });

  it("a refusal by the service propagates (the request fails visibly)", async () => {
    const binding: EmailSendBinding = { send: async () => Promise.reject(new Error("E_SENDER_NOT_VERIFIED")) };
    await expect(cloudflareMailer(binding, "login@example.com").send({ to: "a@example.com", subject: "s", text: "t" })).rejects.toThrow("E_SENDER_NOT_VERIFIED");
  });

  it("MAIL_FROM may be a bare address or Name <address>", () => {
    expect(parseSender("login@example.com")).toBe("login@example.com");
    expect(parseSender(" <login@example.com> ")).toBe("login@example.com");
    expect(parseSender('"Latchkey Login" <login@example.com>')).toEqual({ email: "login@example.com", name: "Latchkey Login" });
  });
});

describe("mail: provider selection and configuration", () => {
  it("outbox is the default; the default sender is no-reply at the issuer's host", async () => {
    const e = envWith({ MAIL_PROVIDER: undefined, MAIL_FROM: undefined });
    expect(configFrom(e)).toMatchObject({ mailProvider: "outbox", mailFrom: "Latchkey <no-reply@latchkey.test>" });
    const to = `${uniqueId("default")}@example.com`;
    await mailerFrom(e).send({ to, subject: "s", text: "t" });
    expect(await listOutbox(env.DB, to)).toHaveLength(1);
  });

  it("cloudflare with the binding and MAIL_FROM sends through the binding", async () => {
    const { binding, sent } = fakeBinding();
    const mailer = mailerFrom(envWith({ MAIL_PROVIDER: "cloudflare", MAIL_FROM: "login@example.com", EMAIL: binding }));
    await mailer.send({ to: "ada@example.com", subject: "s", text: "t" });
    expect(sent).toHaveLength(1);
  });

  it("refuses to run with cloudflare but no binding, no MAIL_FROM, or an unknown provider", () => {
    expect(() => mailerFrom(envWith({ MAIL_PROVIDER: "cloudflare", MAIL_FROM: "login@example.com", EMAIL: undefined }))).toThrow(/EMAIL send_email binding is missing/);
    expect(() => mailerFrom(envWith({ MAIL_PROVIDER: "cloudflare", MAIL_FROM: "", EMAIL: fakeBinding().binding }))).toThrow(/MAIL_FROM/);
    expect(() => configFrom(envWith({ MAIL_PROVIDER: "smtp" }))).toThrow(/MAIL_PROVIDER/);
  });

  it("SIGNUP_ENABLED: false unless set to true; anything but true/false is a configuration error", () => {
    expect(configFrom(env).signupEnabled).toBe(false);
    expect(configFrom(envWith({ SIGNUP_ENABLED: undefined })).signupEnabled).toBe(false);
    expect(configFrom(envWith({ SIGNUP_ENABLED: "true" })).signupEnabled).toBe(true);
    expect(() => configFrom(envWith({ SIGNUP_ENABLED: "yes" }))).toThrow(/SIGNUP_ENABLED/);
  });

  it("SESSION_TTL overrides the 14-day session lifetime", () => {
    expect(configFrom(envWith({ SESSION_TTL: "3600" })).sessionTtl).toBe(3600);
    expect(() => configFrom(envWith({ SESSION_TTL: "-1" }))).toThrow(/SESSION_TTL/);
  });
});

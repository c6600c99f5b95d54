import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { listOutbox } from "../src/mail/outbox";
import { call, createClient, expectError } from "./helpers";
import { Browser, expectTokenResponse, person } from "./oidc-helpers";
import { CIBA_GRANT, backchannelRequest, cibaClient, decideOnApprovalPage, mailedApproval, pollCiba, startCiba } from "./ciba-helpers";

/** A client, a person, and a request body naming them, for the error cases. */
async function setup() {
  const client = await cibaClient();
  const user = await person();
  return { client, user, base: { scope: "openid", login_hint: user.email } };
}

describe("CIBA §7.1–7.3: the backchannel authentication request", () => {
  it("§7.3: answers auth_req_id (high entropy, not stored), expires_in and interval, never cached; mails the person a link without it", async () => {
    const { client, user } = await setup();
    const res = await backchannelRequest(client, { scope: "openid", login_hint: user.email, binding_message: "Order 42" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const body = (await res.json()) as { auth_req_id: string; expires_in: number; interval: number };
    expect(body.auth_req_id).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    expect(body.expires_in).toBe(300);
    expect(body.interval).toBe(5);
    const { path, text } = await mailedApproval(user.email);
    expect(text).toContain("Call centre");
    expect(text).toContain('"Order 42"');
    expect(text).toContain("Know who you are");
    expect(path).not.toContain(body.auth_req_id);
    expect(text).not.toContain(body.auth_req_id);
  });

  it("§7.1 requested_expiry as a numeric string is accepted (a form carries only strings); bounded by the server's maximum", async () => {
    const { client, base } = await setup();
    const short = (await (await backchannelRequest(client, { ...base, requested_expiry: "120" })).json()) as { expires_in: number };
    expect(short.expires_in).toBe(120);
    const long = (await (await backchannelRequest(client, { ...base, requested_expiry: "999999" })).json()) as { expires_in: number };
    expect(long.expires_in).toBe(1800);
    for (const bad of ["0", "-5", "1.5", "abc"]) {
      await expectError(await backchannelRequest(client, { ...base, requested_expiry: bad }), 400, "invalid_request", "ciba_requested_expiry_invalid");
    }
  });

  it("§7.1: exactly one hint — none or several → invalid_request; login_hint_token is refused as unsupported", async () => {
    const { client, user } = await setup();
    await expectError(await backchannelRequest(client, { scope: "openid" }), 400, "invalid_request", "ciba_hint_missing");
    await expectError(
      await backchannelRequest(client, { scope: "openid", login_hint: user.email, id_token_hint: "x.y.z" }), 400, "invalid_request", "ciba_hint_missing",
    );
    await expectError(await backchannelRequest(client, { scope: "openid", login_hint_token: "abc" }), 400, "invalid_request", "login_hint_token_unsupported");
  });

  it("§13 unknown_user_id: no person (or a disabled one) behind login_hint", async () => {
    const { client } = await setup();
    await expectError(await backchannelRequest(client, { scope: "openid", login_hint: "nobody@example.com" }), 400, "unknown_user_id", "unknown_user_id");
    await expectError(await backchannelRequest(client, { scope: "openid", login_hint: "not an email" }), 400, "unknown_user_id");
    const disabled = await person();
    await call(`/admin/users/${disabled.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ disabled: true }),
    });
    await expectError(await backchannelRequest(client, { scope: "openid", login_hint: disabled.email }), 400, "unknown_user_id");
  });

  it("§7.1 id_token_hint: an ID token we issued to this client names the person (its expiry is not checked, §7.1); anything else is refused", async () => {
    const { client, user } = await setup();
    const first = await startCiba(client, user.email);
    await decideOnApprovalPage(new Browser(), (await mailedApproval(user.email)).path, user);
    const tokens = await expectTokenResponse(await pollCiba(client, first.auth_req_id));
    const res = await backchannelRequest(client, { scope: "openid", id_token_hint: tokens.id_token! });
    expect(res.status, await res.clone().text()).toBe(200);
    // Another client's request may not use it.
    const other = await cibaClient();
    await expectError(await backchannelRequest(other, { scope: "openid", id_token_hint: tokens.id_token! }), 400, "invalid_request", "ciba_id_token_hint_invalid");
    await expectError(await backchannelRequest(client, { scope: "openid", id_token_hint: "e30.e30.sig" }), 400, "invalid_request", "ciba_id_token_hint_invalid");
  });

  it("§7.1 binding_message: printable and at most 64 characters → otherwise invalid_binding_message", async () => {
    const { client, base } = await setup();
    expect((await backchannelRequest(client, { ...base, binding_message: "Überweisung 4711 ✓" })).status).toBe(200);
    for (const bad of ["x".repeat(65), "line\nbreak", "tab\there", " ", "\u0000"]) {
      await expectError(await backchannelRequest(client, { ...base, binding_message: bad }), 400, "invalid_binding_message", "invalid_binding_message");
    }
  });

  it("§7.1 scope must include openid (§13 invalid_scope); unknown scopes → invalid_scope", async () => {
    const { client, user } = await setup();
    await expectError(await backchannelRequest(client, { scope: "profile", login_hint: user.email }), 400, "invalid_scope", "ciba_openid_scope_missing");
    await expectError(await backchannelRequest(client, { login_hint: user.email }), 400, "invalid_scope", "ciba_openid_scope_missing");
    await expectError(await backchannelRequest(client, { scope: "openid admin", login_hint: user.email }), 400, "invalid_scope");
  });

  it("§7.1 user_code is not supported server-wide; §7.1.1 a signed request from a client that registered no signing alg is refused", async () => {
    const { client, base } = await setup();
    await expectError(await backchannelRequest(client, { ...base, user_code: "1234" }), 400, "invalid_request", "ciba_user_code_unsupported");
    await expectError(await backchannelRequest(client, { ...base, request: "e30.e30.sig" }), 400, "invalid_request", "ciba_request_not_registered");
  });

  it("§7.1 client authentication: required, and the client must hold the CIBA grant (§13 unauthorized_client)", async () => {
    const { user } = await setup();
    const unauthenticated = await call("/bc-authorize", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ scope: "openid", login_hint: user.email }).toString(),
    });
    expect(unauthenticated.status).toBe(401);
    const other = await createClient({ grant_types: ["client_credentials"] });
    await expectError(await backchannelRequest(other, { scope: "openid", login_hint: user.email }), 400, "unauthorized_client");
    const wrongSecret = { client_id: (await cibaClient()).client_id, client_secret: "wrong" };
    await expectError(await backchannelRequest(wrongSecret, { scope: "openid", login_hint: user.email }), 401, "invalid_client");
  });

  it("only POST; an error sends no mail", async () => {
    const { client, user } = await setup();
    expect((await call("/bc-authorize")).status).toBe(405);
    await backchannelRequest(client, { scope: "profile", login_hint: user.email });
    expect(await listOutbox(env.DB, user.email)).toEqual([]);
    expect(CIBA_GRANT).toBe("urn:openid:params:grant-type:ciba");
  });
});

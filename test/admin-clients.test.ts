import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isRegistrationToken, issueRegistrationToken } from "../src/registration/registration-token";
import { JWT_BEARER, assertion, basic, call, createClient, expectError, nowSeconds, tokenRequest, uniqueId } from "./helpers";
import { Browser, oidcClient, person, signIn } from "./oidc-helpers";
import { clientCredentials as issueToken } from "./registration-usage-helpers";
import { manage, registered } from "./rfc7591-helpers";

/**
 * The operator API for clients (issue 5, operator interface): list with pagination, create, show,
 * replace (PUT), partial update (PATCH, RFC 7396 merge), delete with everything granted to the
 * client, and secret rotation. Bodies use RFC 7591 metadata names.
 */
const operator = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const send = (method: string, path: string, body?: unknown) =>
  call(path, { method, headers: operator, ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }) });
const json = async (res: Response, status = 200) => {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as Record<string, any>;
};
const bearerHeaders = (token: string) => ({ authorization: `Bearer ${token}` });
const clientCredentials = (clientId: string, secret: string) =>
  tokenRequest({ grant_type: "client_credentials", scope: "read" }, { authorization: basic(clientId, secret) });

describe("GET /admin/clients: the list, by client_id, a page at a time", () => {
  it("walks every client across pages of `limit`, in client_id order, ending with next = null", async () => {
    const prefix = uniqueId("list");
    const ids = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`];
    for (const id of ids) await createClient({ client_id: id, client_name: `Client ${id}` });
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const page = await json(await send("GET", `/admin/clients?limit=2${after ? `&after=${encodeURIComponent(after)}` : ""}`));
      expect(page.clients.length).toBeLessThanOrEqual(2);
      seen.push(...page.clients.map((c: { client_id: string }) => c.client_id));
      after = page.next;
      if (after === null) break;
      expect(after).toBe(seen.at(-1));
    }
    expect(after).toBeNull();
    expect(seen).toEqual([...seen].sort());
    expect(seen.filter((id) => id.startsWith(prefix))).toEqual([...ids].sort());
    const mine = (await json(await send("GET", `/admin/clients?after=${prefix}&limit=1`))).clients[0];
    expect(mine).toMatchObject({ client_id: `${prefix}-a`, client_name: `Client ${prefix}-a`, disabled: false });
    expect(mine).not.toHaveProperty("client_secret");
  });

  it("refuses a bad limit or cursor", async () => {
    for (const query of ["limit=0", "limit=201", "limit=abc", "limit=1.5", "limit=-1", "limit=", "after="]) {
      await expectError(await send("GET", `/admin/clients?${query}`), 400, "invalid_request", "invalid_request");
    }
  });
});

describe("POST, GET and PUT /admin/clients", () => {
  it("POST registers with a generated id and a secret shown once; GET shows it without the secret", async () => {
    const created = await json(await send("POST", "/admin/clients", { client_name: "Made by POST", grant_types: ["client_credentials"], scope: "read" }), 201);
    expect(created).toMatchObject({ client_name: "Made by POST", token_endpoint_auth_method: "client_secret_basic", disabled: false });
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const shown = await json(await send("GET", `/admin/clients/${created.client_id}`));
    const { client_secret: _secret, ...withoutSecret } = created;
    expect(shown).toEqual(withoutSecret);
    expect((await clientCredentials(created.client_id, created.client_secret)).status).toBe(200);
  });

  it("POST refuses a client_id, bad metadata and bodies that are not JSON objects", async () => {
    await expectError(await send("POST", "/admin/clients", { client_id: "mine" }), 400, "invalid_client_metadata");
    await expectError(await send("POST", "/admin/clients", { redirect_uris: ["https://rp.example/cb#frag"] }), 400, "invalid_redirect_uri");
    await expectError(await send("POST", "/admin/clients", { token_endpoint_auth_method: "magic" }), 400, "invalid_client_metadata");
    for (const body of ["not json", "[]", "null", "42"]) await expectError(await send("POST", "/admin/clients", body), 400, "invalid_request");
  });

  it("GET and PATCH of an unknown client → 404 not_found", async () => {
    await expectError(await send("GET", "/admin/clients/no-such-client"), 404, "invalid_request", "not_found");
    await expectError(await send("PATCH", "/admin/clients/no-such-client", { client_name: "x" }), 404, "invalid_request", "not_found");
  });

  it("PUT replaces the registration (omitted members reset) but keeps the client disabled", async () => {
    const client = await createClient({ client_name: "Before", scope: "read write" });
    await json(await send("PATCH", `/admin/clients/${client.client_id}`, { disabled: true }));
    const replaced = await json(await send("PUT", `/admin/clients/${client.client_id}`, { grant_types: ["client_credentials"] }));
    expect(replaced).toMatchObject({ client_id: client.client_id, scope: "", disabled: true });
    expect(replaced).not.toHaveProperty("client_name");
    expect(replaced.client_secret).toEqual(expect.any(String));
  });
});

describe("PATCH /admin/clients/:id: only the members sent change (RFC 7396 merge patch)", () => {
  it("changes the name and redirect URIs; the secret, scope and grant types stay; no secret is answered", async () => {
    const client = await createClient({ client_name: "Old name", redirect_uris: ["https://rp.example/a"], grant_types: ["client_credentials", "authorization_code"] });
    const patched = await json(await send("PATCH", `/admin/clients/${client.client_id}`, { client_name: "New name", redirect_uris: ["https://rp.example/b"] }));
    expect(patched).toMatchObject({
      client_name: "New name", redirect_uris: ["https://rp.example/b"], scope: "read write",
      grant_types: ["client_credentials", "authorization_code"], client_id_issued_at: client.client_id_issued_at,
    });
    expect(patched).not.toHaveProperty("client_secret");
    expect((await clientCredentials(client.client_id, client.client_secret!)).status).toBe(200);
  });

  it("null resets a member to its default", async () => {
    const client = await createClient({ client_name: "Named", scope: "read write" });
    const patched = await json(await send("PATCH", `/admin/clients/${client.client_id}`, { client_name: null, scope: null }));
    expect(patched).not.toHaveProperty("client_name");
    expect(patched.scope).toBe("");
  });

  it("validates the merged registration like registration does", async () => {
    const client = await createClient({});
    await expectError(await send("PATCH", `/admin/clients/${client.client_id}`, { redirect_uris: ["not a uri"] }), 400, "invalid_redirect_uri");
    await expectError(await send("PATCH", `/admin/clients/${client.client_id}`, { token_endpoint_auth_method: "private_key_jwt" }), 400, "invalid_client_metadata");
    await expectError(await send("PATCH", `/admin/clients/${client.client_id}`, { client_id: "other" }), 400, "invalid_client_metadata");
    await expectError(await send("PATCH", `/admin/clients/${client.client_id}`, { disabled: "yes" }), 400, "invalid_request");
    await expectError(await send("PATCH", `/admin/clients/${client.client_id}`, "[]"), 400, "invalid_request");
    expect((await clientCredentials(client.client_id, client.client_secret!)).status).toBe(200);
  });

  it("a change the old secret cannot follow (to client_secret_jwt, which must seal it) issues a new one, shown once", async () => {
    const client = await createClient({});
    const patched = await json(await send("PATCH", `/admin/clients/${client.client_id}`, { token_endpoint_auth_method: "client_secret_jwt" }));
    expect(patched.client_secret).toEqual(expect.any(String));
    expect(patched.client_secret).not.toBe(client.client_secret);
    const jwt = await assertion(client.client_id, new TextEncoder().encode(patched.client_secret), { alg: "HS256" });
    const res = await tokenRequest({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: jwt });
    expect(res.status, await res.clone().text()).toBe(200);
    // basic → post keeps the secret.
    const other = await createClient({});
    const post = await json(await send("PATCH", `/admin/clients/${other.client_id}`, { token_endpoint_auth_method: "client_secret_post" }));
    expect(post).not.toHaveProperty("client_secret");
    const viaPost = await tokenRequest({ grant_type: "client_credentials", client_id: other.client_id, client_secret: other.client_secret! });
    expect(viaPost.status, await viaPost.clone().text()).toBe(200);
  });

  it("disabled: true stops the client at the token endpoint; false lets it back", async () => {
    const client = await createClient({});
    expect((await json(await send("PATCH", `/admin/clients/${client.client_id}`, { disabled: true }))).disabled).toBe(true);
    await expectError(await clientCredentials(client.client_id, client.client_secret!), 401, "invalid_client", "client_disabled");
    expect((await json(await send("PATCH", `/admin/clients/${client.client_id}`, { disabled: false }))).disabled).toBe(false);
    expect((await clientCredentials(client.client_id, client.client_secret!)).status).toBe(200);
  });
});

describe("POST /admin/clients/:id/secret: rotation", () => {
  it("answers a new secret once; the old one stops working, the new one works", async () => {
    const client = await createClient({});
    const rotated = await json(await send("POST", `/admin/clients/${client.client_id}/secret`));
    expect(rotated).toMatchObject({ client_id: client.client_id, client_secret_expires_at: 0 });
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{86}$/);
    await expectError(await clientCredentials(client.client_id, client.client_secret!), 401, "invalid_client");
    expect((await clientCredentials(client.client_id, rotated.client_secret)).status).toBe(200);
    expect(await json(await send("GET", `/admin/clients/${client.client_id}`))).not.toHaveProperty("client_secret");
  });

  it("re-seals a client_secret_jwt secret: HMAC assertions verify with the new one only", async () => {
    const client = await createClient({ token_endpoint_auth_method: "client_secret_jwt" });
    const rotated = await json(await send("POST", `/admin/clients/${client.client_id}/secret`));
    const withKey = async (secret: string) =>
      tokenRequest({ grant_type: "client_credentials", client_assertion_type: JWT_BEARER, client_assertion: await assertion(client.client_id, new TextEncoder().encode(secret), { alg: "HS256" }) });
    await expectError(await withKey(client.client_secret!), 401, "invalid_client");
    const res = await withKey(rotated.client_secret);
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("a client without a secret → 400 client_has_no_secret; an unknown client → 404", async () => {
    const client = await createClient({ token_endpoint_auth_method: "none", grant_types: ["authorization_code"], redirect_uris: ["https://rp.example/cb"] });
    await expectError(await send("POST", `/admin/clients/${client.client_id}/secret`), 400, "invalid_request", "client_has_no_secret");
    await expectError(await send("POST", "/admin/clients/no-such-client/secret"), 404, "invalid_request", "not_found");
  });
});

describe("DELETE /admin/clients/:id: the client and everything granted to it", () => {
  it("204; consents, refresh tokens (and their families) and the registration access token go, its access tokens fail at UserInfo, its credentials fail; a second DELETE → 404", async () => {
    const client = await oidcClient({ scope: "openid offline_access" });
    const user = await person();
    const { tokens } = await signIn(new Browser(), client, user, { scope: "openid offline_access", prompt: "consent" });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect((await call("/userinfo", { headers: bearerHeaders(tokens.access_token) })).status).toBe(200);
    const registrationToken = await issueRegistrationToken(env.DB, client.client_id, nowSeconds());

    const res = await send("DELETE", `/admin/clients/${client.client_id}`);
    expect(res.status).toBe(204);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe("");

    await expectError(await send("GET", `/admin/clients/${client.client_id}`), 404, "invalid_request", "not_found");
    const consents = await env.DB.prepare("SELECT COUNT(*) AS n FROM consents WHERE client_id = ?").bind(client.client_id).first<{ n: number }>();
    expect(consents?.n).toBe(0);
    const live = await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_tokens WHERE client_id = ? AND revoked_at IS NULL").bind(client.client_id).first<{ n: number }>();
    expect(live?.n).toBe(0);
    const families = await env.DB.prepare("SELECT revoked_reason FROM refresh_token_families WHERE client_id = ?").bind(client.client_id).all<{ revoked_reason: string }>();
    expect(families.results.map((f) => f.revoked_reason)).toEqual(["revocation"]);
    expect(await isRegistrationToken(env.DB, client.client_id, registrationToken)).toBe(false);
    await expectError(await call("/userinfo", { headers: bearerHeaders(tokens.access_token) }), 401, "invalid_token");
    await expectError(await clientCredentials(client.client_id, client.client_secret!), 401, "invalid_client");
    await expectError(await send("DELETE", `/admin/clients/${client.client_id}`), 404, "invalid_request", "not_found");
  });
});

describe("GET /admin/registrations: recent self-registered clients (RFC 7591 /register), newest first", () => {
  const from = (ip: string) => ({ headers: { "cf-connecting-ip": ip } });
  const listed = async (query: string) => json(await send("GET", `/admin/registrations${query}`));

  it("each with its name, method, redirect hosts, the registrant's network (IPv4 /24, IPv6 /48), when, and whether a token was ever issued", async () => {
    const since = nowSeconds();
    const web = await registered({ redirect_uris: ["https://rp.example/cb", "https://app.example/cb"], client_name: "Listed RP" }, from("203.0.113.77"));
    const service = await registered({ grant_types: ["client_credentials"] }, from("2001:db8:aa:bb:cc::1"));
    const byOperator = await createClient({ grant_types: ["client_credentials"] });
    expect((await issueToken(service)).status).toBe(200);

    const { registrations, next } = await listed(`?since=${since}`);
    expect(next).toBeNull();
    const mine = registrations.filter((r: { client_id: string }) => [web.client_id, service.client_id, byOperator.client_id].includes(r.client_id));
    // The operator's client is not a registration.
    expect(mine).toHaveLength(2);
    expect(mine).toEqual(expect.arrayContaining([
      {
        client_id: service.client_id, client_name: null, token_endpoint_auth_method: "client_secret_basic", redirect_hosts: [],
        network: "2001:db8:aa::/48", created_at: service.client_id_issued_at, first_used_at: expect.any(Number), used: true,
      },
      {
        client_id: web.client_id, client_name: "Listed RP", token_endpoint_auth_method: "client_secret_basic",
        redirect_hosts: ["rp.example", "app.example"], network: "203.0.113.0/24", created_at: web.client_id_issued_at, first_used_at: null, used: false,
      },
    ]));
    // Newest first; within a second, by client_id descending (the cursor's order).
    for (let i = 1; i < registrations.length; i++) {
      const [a, b] = [registrations[i - 1], registrations[i]];
      expect(a.created_at > b.created_at || (a.created_at === b.created_at && a.client_id > b.client_id)).toBe(true);
    }
  });

  it("pages with limit and after cover every registration once; since leaves older ones out", async () => {
    const since = nowSeconds();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await registered({ grant_types: ["client_credentials"] })).client_id);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Record<string, any> = await listed(`?since=${since}&limit=2${after ? `&after=${encodeURIComponent(after)}` : ""}`);
      expect(page.registrations.length).toBeLessThanOrEqual(2);
      seen.push(...page.registrations.map((r: { client_id: string }) => r.client_id));
      after = page.next;
    } while (after);
    expect(seen.filter((id) => ids.has(id)).sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(seen.length);
    const { registrations } = await listed(`?since=${nowSeconds() + 60}`);
    expect(registrations).toEqual([]);
  });

  it("a client deleted through RFC 7592 or by the operator is no longer listed", async () => {
    const since = nowSeconds();
    const selfDeleted = await registered({ grant_types: ["client_credentials"] });
    const operatorDeleted = await registered({ grant_types: ["client_credentials"] });
    expect((await manage("DELETE", selfDeleted.registration_client_uri, selfDeleted.registration_access_token)).status).toBe(204);
    expect((await send("DELETE", `/admin/clients/${operatorDeleted.client_id}`)).status).toBe(204);
    const ids = (await listed(`?since=${since}`)).registrations.map((r: { client_id: string }) => r.client_id);
    expect(ids).not.toContain(selfDeleted.client_id);
    expect(ids).not.toContain(operatorDeleted.client_id);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM client_registrations WHERE client_id IN (?, ?)")
      .bind(selfDeleted.client_id, operatorDeleted.client_id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("a bad since, limit or cursor → 400 invalid_request; no operator token → 401", async () => {
    for (const query of ["?since=yesterday", "?since=-1", "?limit=0", "?limit=201", "?after=nonsense", "?after=12:"]) {
      await expectError(await send("GET", `/admin/registrations${query}`), 400, "invalid_request");
    }
    await expectError(await call("/admin/registrations"), 401, "invalid_token");
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { d1ConsentStore } from "../src/consent/store";
import { call } from "./helpers";
import { Browser, authorize, clientRedirect, codeRequest, expectRedirectError, oidcClient, person, workerWithEnv } from "./oidc-helpers";

/**
 * RFC 8707 §2 with OIDC Core §3.1.2.4: a person's consent covers the scopes and the resources
 * (where the access will be used) they approved. A request naming a resource their consent does
 * not list shows the consent page again, naming it — consent for one MCP server is not consent for
 * another; with prompt=none that is consent_required. The stored consent keeps the union of the
 * resources approved (the operator's grant listing shows them). A first-party client is never asked, and its grant records the resources too.
 */

const A = "https://a.example/mcp";
const B = "https://b.example/mcp";
const worker = workerWithEnv({ RESOURCES: `${A} ${B}` });

/** A code request for `client` naming these resources (each its own `resource` parameter). */
async function requestFor(clientId: string, resources: string[], extra: Record<string, string> = {}) {
  const { params } = await codeRequest(clientId, extra);
  const pairs: [string, string][] = [...Object.entries(params), ...resources.map((r): [string, string] => ["resource", r])];
  return { pairs, state: params.state! };
}

/** The authorization completed with a code (no error). */
const expectCode = (res: Response) => expect(clientRedirect(res).get("code")).toBeTruthy();
const query = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();
const resourcesOf = async (userId: string, clientId: string) => (await d1ConsentStore(env.DB).get(userId, clientId))?.resources.sort();

describe("RFC 8707 §2, OIDC Core §3.1.2.4: consent is per scope and per resource", () => {
  it("consent for A covers A only: B shows the page naming B; after approving B, A and B together pass silently", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser(worker);

    const first = await authorize(browser, (await requestFor(client.client_id, [A])).pairs, user);
    expect(first.pages).toEqual(["login", "consent"]);
    expectCode(first.response);
    expect(await resourcesOf(user.id, client.client_id)).toEqual([A]);

    const again = await authorize(browser, (await requestFor(client.client_id, [A])).pairs, user);
    expect(again.pages).toEqual([]);
    expectCode(again.response);

    const forB = await requestFor(client.client_id, [B]);
    const page = await (await browser.follow(await browser.fetch(`/authorize?${query(forB.pairs)}`))).text();
    expect(page).toContain('action="/consent"');
    expect(page).toContain(B);
    expect(page).not.toContain(A);
    const approvedB = await authorize(browser, forB.pairs, user);
    expect(approvedB.pages).toEqual(["consent"]);
    expectCode(approvedB.response);
    // Recorded as scope is: the union of what was approved, under the same grant.
    expect(await resourcesOf(user.id, client.client_id)).toEqual([A, B]);

    for (const resources of [[A, B], [B], [A], []]) {
      const flow = await authorize(browser, (await requestFor(client.client_id, resources)).pairs, user);
      expect(flow.pages, resources.join(" ")).toEqual([]);
      expectCode(flow.response);
    }

    // The operator's listing of the person's grants names them too.
    const listing = await call(`/admin/users/${user.id}/grants`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    const { grants } = (await listing.json()) as { grants: { client_id: string; resources: string[] }[] };
    expect(grants.find((g) => g.client_id === client.client_id)?.resources.sort()).toEqual([A, B]);
  });

  it("denying the page for B leaves the stored consent as it was", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser(worker);
    await authorize(browser, (await requestFor(client.client_id, [A])).pairs, user);
    const denied = await authorize(browser, (await requestFor(client.client_id, [B])).pairs, user, { consent: "deny" });
    expect(denied.pages).toEqual(["consent"]);
    expect(await resourcesOf(user.id, client.client_id)).toEqual([A]);
  });

  it("OIDC Core §3.1.2.6: prompt=none naming a resource the consent does not cover → consent_required", async () => {
    const client = await oidcClient();
    const user = await person();
    const browser = new Browser(worker);
    await authorize(browser, (await requestFor(client.client_id, [A])).pairs, user);

    const covered = await requestFor(client.client_id, [A], { prompt: "none" });
    expectCode(await browser.fetch(`/authorize?${query(covered.pairs)}`));
    for (const resources of [[B], [A, B]]) {
      const silent = await requestFor(client.client_id, resources, { prompt: "none" });
      expectRedirectError(await browser.fetch(`/authorize?${query(silent.pairs)}`), "consent_required", { state: silent.state });
    }
    expect(await resourcesOf(user.id, client.client_id)).toEqual([A]);
  });

  it("a first-party client is never asked; its grant records each resource all the same", async () => {
    const client = await oidcClient({ first_party: true });
    const user = await person();
    const browser = new Browser(worker);
    const first = await authorize(browser, (await requestFor(client.client_id, [A])).pairs, user);
    expect(first.pages).toEqual(["login"]);
    expect(await resourcesOf(user.id, client.client_id)).toEqual([A]);
    const grantId = (await d1ConsentStore(env.DB).get(user.id, client.client_id))!.grantId;

    const second = await authorize(browser, (await requestFor(client.client_id, [B], { prompt: "none" })).pairs, user);
    expect(second.pages).toEqual([]);
    expectCode(second.response);
    const stored = await d1ConsentStore(env.DB).get(user.id, client.client_id);
    expect(stored?.resources.sort()).toEqual([A, B]);
    expect(stored?.grantId).toBe(grantId);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectError } from "./helpers";
import { Browser, PASSWORD, expectTokenResponse, hiddenFields, person } from "./oidc-helpers";
import { expectPageSecurity } from "./pages-helpers";
import { cibaClient, decideOnApprovalPage, mailedApproval, pollCiba, startCiba } from "./ciba-helpers";

/** A browser signed in as `user` (through a first approval, which also records consent). */
async function signedIn(user: { email: string }) {
  const client = await cibaClient();
  const browser = new Browser();
  await startCiba(client, user.email);
  await decideOnApprovalPage(browser, (await mailedApproval(user.email)).path, user);
  return { browser, client };
}

describe("CIBA §7.1, the person's side: who may approve", () => {
  it("the page shows the app, the binding message and the scopes, under the common page security", async () => {
    const user = await person();
    const { browser, client } = await signedIn(user);
    await startCiba(client, user.email, { binding_message: "Order 42" });
    const { path } = await mailedApproval(user.email);
    const res = await browser.fetch(path);
    const html = await res.text();
    expect(res.status).toBe(200);
    expectPageSecurity(res, html);
    expect(html).toContain("Call centre");
    expect(html).toContain("Order 42");
    expect(html).toContain("Know who you are");
  });

  it("a different signed-in person sees nothing: the same 404 as a request that does not exist, and cannot decide it", async () => {
    const owner = await person();
    const other = await person();
    const { browser } = await signedIn(other);
    const client = await cibaClient();
    const started = await startCiba(client, owner.email, { binding_message: "Secret 7" });
    const { path } = await mailedApproval(owner.email);
    const theirs = await browser.fetch(path);
    const none = await browser.fetch("/ciba/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    expect(theirs.status).toBe(404);
    expect(none.status).toBe(404);
    const [a, b] = [await theirs.text(), await none.text()];
    expect(a).not.toContain("Secret 7");
    expect(a).not.toContain("Call centre");
    // Posting a decision with a valid CSRF token of the other person's page changes nothing.
    const page = await browser.fetch("/account");
    const csrf = hiddenFields(await page.text()).csrf;
    if (csrf !== undefined) {
      const posted = await browser.fetch(path, {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf, decision: "approve" }).toString(),
      });
      expect(posted.status).toBe(404);
    }
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
    expect(a.length > 0 && b.length > 0).toBe(true);
  });

  it("signing in as someone else from the link approves nothing", async () => {
    const owner = await person();
    const other = await person();
    const client = await cibaClient();
    const started = await startCiba(client, owner.email);
    const { path } = await mailedApproval(owner.email);
    const { res, pages } = await decideOnApprovalPage(new Browser(), path, other);
    expect(res.status).toBe(404);
    // Nothing of the request is shown to them: no consent page naming the app and the scopes.
    expect(pages).toEqual(["login"]);
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
  });

  it("knowing the auth_req_id gives no page: the link's handle is a separate value", async () => {
    const user = await person();
    const { browser, client } = await signedIn(user);
    const started = await startCiba(client, user.email);
    expect((await browser.fetch(`/ciba/${started.auth_req_id}`)).status).toBe(404);
  });

  it("Approve and Deny need the page's CSRF token", async () => {
    const user = await person();
    const { browser, client } = await signedIn(user);
    const started = await startCiba(client, user.email);
    const { path } = await mailedApproval(user.email);
    const res = await browser.fetch(path, {
      method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ decision: "approve" }).toString(),
    });
    expect(res.status).toBe(403);
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
  });

  it("an unverified email cannot approve: the verification page comes first, nothing is approved", async () => {
    const user = await person({ email_verified: false });
    const client = await cibaClient();
    const started = await startCiba(client, user.email);
    const { path } = await mailedApproval(user.email);
    const browser = new Browser();
    let res = await browser.follow(await browser.fetch(path));
    res = await browser.follow(await browser.submit(res, { email: user.email, password: PASSWORD }, "/login"));
    expect(await res.text()).toContain("verify");
    await expectError(await pollCiba(client, started.auth_req_id), 400, "authorization_pending");
  });

  it("consent is recorded per person and client: a second request for the same scopes asks no consent, a wider one does", async () => {
    const user = await person();
    const client = await cibaClient();
    const browser = new Browser();
    await startCiba(client, user.email, { scope: "openid" });
    expect((await decideOnApprovalPage(browser, (await mailedApproval(user.email)).path, user)).pages).toEqual(["login", "consent", "approval"]);
    const again = await startCiba(client, user.email, { scope: "openid" });
    expect((await decideOnApprovalPage(browser, (await mailedApproval(user.email)).path, user)).pages).toEqual(["approval"]);
    await expectTokenResponse(await pollCiba(client, again.auth_req_id));
    await startCiba(client, user.email, { scope: "openid offline_access" });
    expect((await decideOnApprovalPage(browser, (await mailedApproval(user.email)).path, user)).pages).toEqual(["approval", "consent"]);
  });

  it("a decided request cannot be decided again", async () => {
    const user = await person();
    const { browser, client } = await signedIn(user);
    await startCiba(client, user.email);
    const { path } = await mailedApproval(user.email);
    await decideOnApprovalPage(browser, path, user, "deny");
    const res = await browser.fetch(path);
    expect(await res.text()).toContain("Already decided");
    expect(env).toBeDefined();
    expect((await call("/ciba/done?result=approved")).status).toBe(200);
  });
  it("the account page lists the person's pending requests (with the binding message), not anyone else's, not decided ones", async () => {
    const owner = await person();
    const other = await person();
    const { browser } = await signedIn(owner);
    const otherSession = await signedIn(other);
    const client = await cibaClient({ client_name: "Pending Bank" });
    await startCiba(client, owner.email, { binding_message: "Pay 12 EUR" });
    const { path } = await mailedApproval(owner.email);
    const page = await (await browser.fetch("/account")).text();
    expect(page).toContain("Sign-in requests waiting for you");
    expect(page).toContain(`href="${path}"`);
    expect(page).toContain("Pay 12 EUR");
    const theirs = await (await otherSession.browser.fetch("/account")).text();
    expect(theirs).not.toContain("Pay 12 EUR");
    expect(theirs).not.toContain(path);
    await decideOnApprovalPage(browser, path, owner, "deny");
    expect(await (await browser.fetch("/account")).text()).not.toContain("Pay 12 EUR");
  });
});

/**
 * What the browser tests share: Debian's Chromium (/usr/bin/chromium, or $CHROMIUM_PATH) driven by
 * playwright-core at a phone's (or a desktop's) size, screenshots, and client registration on the
 * local Worker (scripts/local-worker.mjs). A missing Chromium fails the test with the reason; it
 * never skips.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from "playwright-core";
import { expect } from "vitest";
import type { startLocalWorker } from "../../scripts/local-worker.mjs";

export type Worker = Awaited<ReturnType<typeof startLocalWorker>>;

const ROOT = resolve(import.meta.dirname, "../..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Committed screenshots are refreshed only on request; ordinary runs write under test-results/. */
const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : join(ROOT, "test-results", "screenshots");
/** A phone: iPhone 12–15 class CSS viewport. */
const PHONE = { width: 390, height: 844 };

/** Chromium's flags for this machine: no sandbox as root, and no traffic to Google's services. */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

export interface PhoneBrowser {
  context: BrowserContext;
  /** The first tab. */
  page: Page;
  /** Names of the screenshots taken, in order. */
  shots: string[];
  /** Photographs the whole page of `tab` as `<name>.png` (see SHOTS). */
  shoot(name: string, tab?: Page): Promise<void>;
  close(): Promise<void>;
}

/** A laptop: a common desktop CSS viewport. */
const DESKTOP = { width: 1280, height: 800 };

/** Headless Chromium with a fresh profile, at phone size, light scheme, en-GB, UTC. */
export function launchPhone(): Promise<PhoneBrowser> {
  return launch({ viewport: PHONE, screen: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
}

/** The same at desktop size (a mouse, no touch, device pixel ratio 1). */
export function launchDesktop(): Promise<PhoneBrowser> {
  return launch({ viewport: DESKTOP, screen: DESKTOP, deviceScaleFactor: 1, isMobile: false, hasTouch: false });
}

async function launch(device: Pick<BrowserContextOptions, "viewport" | "screen" | "deviceScaleFactor" | "isMobile" | "hasTouch">): Promise<PhoneBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. Install Debian's package (apt-get install -y chromium; .ci/run does) ` +
        "or set CHROMIUM_PATH. `npx playwright install` does not work on this network.",
    );
  }
  await mkdir(SHOTS, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), "latchkey-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...device,
    colorScheme: "light",
    locale: "en-GB",
    timezoneId: "UTC",
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const shots: string[] = [];
  return {
    context,
    page,
    shots,
    async shoot(name, tab = page) {
      await tab.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, animations: "disabled", caret: "hide" });
      shots.push(name);
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Creates or replaces a client with a chosen id through the operator API of the local Worker. */
export async function registerClient(worker: Worker, clientId: string, metadata: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${worker.url}/admin/clients/${clientId}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(metadata),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Creates a person with a verified email address through the operator API of the local Worker; returns their id. */
export async function createPerson(worker: Worker, person: { email: string; password: string }): Promise<string> {
  const res = await fetch(`${worker.url}/admin/users`, {
    method: "POST",
    headers: { authorization: `Bearer ${worker.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ ...person, email_verified: true }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/**
 * A form POST from a confidential client's back end (client_secret_basic) to one of the Worker's
 * endpoints — /token, /introspect — answered as status and JSON body.
 */
export async function clientPost<Body = Record<string, unknown>>(
  worker: Worker,
  path: "/token" | "/introspect",
  client: { id: string; secret: string },
  form: Record<string, string>,
): Promise<{ status: number; body: Body }> {
  const res = await fetch(`${worker.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

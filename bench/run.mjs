// `npm run bench`: Latchkey's token, UserInfo, introspection and sign-in endpoints — and the device
// grant's and CIBA's polls (RFC 8628, CIBA Core in poll mode: pending, and the exchange of an
// approval) — against a "floor" Worker that
// does only the same cryptographic work, and its token requests (client_credentials, code exchange,
// refresh) against node-oidc-provider doing the same work (the peer), in the same run on the same
// machine. See docs/performance.md.
//
//   npm run bench [-- --rounds 3 --duration 5 --warmup 1.5 --concurrency 16 --slice 1 --storage tmpfs --pin auto
//                     --flow-duration 3 --flow-warmup 1
//                     --signin-duration 4 --signin-warmup 1 --signin-concurrency 2
//                     --out bench/results/latest.json]
//
// Each round measures the pairs one after another, each flow and its floor (or the peer) in
// alternating slices (--slice, floor, flow, flow, floor, …: both sides see the same drift of a
// shared machine); a pair's ratio is taken within a round, and the reported ratio is the median
// over rounds. Every server is reached on a socket bound directly to it (Miniflare's direct
// sockets for the Workers); one pair, measured once after the rounds, sends (a) through Miniflare's
// router instead, for what the router adds. With --pin auto (the default, when taskset and two
// CPUs are there) every server runs on the last CPU and the load generator on the others.
// --duration/--warmup size the token-endpoint windows (a)–(d), --flow-* the code-exchange,
// UserInfo, refresh, introspection, device and CIBA windows (e)–(h), (k)–(n), (t)–(aa): authorization codes are single use and live 60 s, and minting them is
// slower than redeeming them, so each round mints a fresh supply (prompt=none requests on a
// signed-in session) just before the code-exchange pair, sized for a shorter window. The refresh
// scenario runs one chain of rotations per connection: each request presents the refresh token
// the previous answer of its chain returned. The device polls: pending polls (t) spread over many
// device requests, each polled no sooner than its interval (and a second) after its last answer, so
// that none answers slow_down; exchanges (v) of requests started and approved (POST /device/confirm
// with the person's session) just before their pair, each round. CIBA's the same way (bench/lib/ciba.mjs):
// pending polls (x) of requests naming a person who never approves, each polled no sooner than its
// interval and a second after its last answer; exchanges (z) of requests started (POST /bc-authorize)
// and approved (POST /ciba/{handle}, the handle from the request's mail, with the person's session)
// just before their pair. The sign-in
// pair (i)/(j) is measured once, after the rounds (--signin-*; --signin-duration 0 skips it).
//
// Exit status: 0 when every request succeeded (targets are reported as PASS/MISS, not enforced);
// 1 when any request failed or the bench could not run.

import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { buildWorker } from "../scripts/local-worker.mjs";
import { processCpuMs } from "./lib/cpu.mjs";
import { startFloorWorker } from "./lib/floor.mjs";
import { startBenchLatchkey } from "./lib/latchkey.mjs";
import { startPeer } from "./lib/peer.mjs";
import { pin, pinningPlan } from "./lib/pin.mjs";
import { runLoad, runPair, summarize } from "./lib/load.mjs";
import { PAIRS, commit, fmt, report } from "./lib/report.mjs";
import { freePlanCheck, printFreePlan } from "./lib/free-plan.mjs";
import { measurePasskeySignIn, printPasskeySignIn } from "./lib/passkeys.mjs";
import {
  FORM, JWT_BEARER, basicAuth, expectActive, expectIdToken, expectOk, expectOkStatus, expectRotation, expectSignedIn, expectSub, signAssertions,
} from "./lib/requests.mjs";
import { parseOptions } from "./lib/options.mjs";
import { expectDpopToken, fetchNonce, registerDpopClient, signProofs } from "./lib/dpop.mjs";
import { APP_CLIENT, BENCH_PASSWORD, CIBA_CLIENT, CIBA_PENDING_EMAIL, DEVICE_CLIENT, PERSON_CLAIMS, WEB_CLIENT, registerFixtures } from "./lib/fixtures.mjs";
import { approveDeviceRequests, approveThroughPages, expectPending, pollBody, polledGrant, startDeviceRequests } from "./lib/device.mjs";
import { approveCibaRequests, approveCibaThroughPages, mailedHandles, startCibaRequests } from "./lib/ciba.mjs";
import { mintCodes, signInAndConsent, signInForm } from "./lib/signin.mjs";

const ROOT = resolve(import.meta.dirname, "..");
/** Upper bound on pre-signed assertions (memory and signing time stay small). */
const MAX_ASSERTIONS = 300_000;
/** Hard stop: the bench must never hang a terminal or CI (raised below for long settings). */
const WATCHDOG_MS = 5 * 60 * 1000;
/** Authorization codes expire 60 s after issue (config.codeTtl); every code must be redeemed well within. */
const CODE_TTL_SECONDS = 60;
/** Minting stops after this long, so the last window still ends inside the codes' lifetime. */
const MINT_DEADLINE_SECONDS = 30;
/**
 * Codes minted per round: this many times what one (e) window needs at the fastest (e) rate seen so
 * far, plus 100. The first round goes by the pilot's rate, which a busy machine can make low: twice.
 */
const CODE_SUPPLY_FACTOR = 1.3;
const FIRST_CODE_SUPPLY_FACTOR = 2;
const MAX_CODES = 60_000;
/**
 * Device requests live 600 s (config.deviceCodeTtl), CIBA requests as long (requested_expiry); the
 * pending polls' requests are replaced before a pair when less than this is left of it (a pair lasts
 * at most 2 × 12.5 s).
 */
const POLLED_TTL_SECONDS = 600;
const RING_MIN_LEFT_SECONDS = 60;
/** A device or CIBA request is polled again no sooner than its interval plus this after its previous answer. */
const POLL_MARGIN_MS = 1000;
/** Pending-poll requests: this many times what the fastest pending-poll rate uses in one gap, plus 100 (a pair
 * alternates its sides, so (t) or (x) polls about half of the time). */
const RING_FACTOR = 1.2;
/**
 * At most this many requests in a ring: workerd holds an open file for every live Durable Object
 * (two a request: the device request's and its user code's, CIBA's request and its page handle),
 * and 20,000 open files is the hard limit here — a ring of 9,654 device requests (a quiet
 * machine's pilot rate) failed with SQLITE_CANTOPEN, and so did two rings of 5,000 (device and CIBA,
 * beside the exchanges' requests and the earlier rounds' rings, which live until their expiry). A
 * rate beyond what the ring serves shortens the window (and the report warns) instead: the CPU per
 * pending poll, the figure to read for (t) and (x), does not depend on the ring's size.
 */
const MAX_POLLED_REQUESTS = 1_000;

const { args, durationMs, warmupMs, concurrency, rounds, flowMs, flowWarmupMs, signinMs, signinWarmupMs, signinConcurrency, sliceMs } = parseOptions({
  defaultOut: join(ROOT, "bench", "results", "latest.json"),
  mintDeadlineSeconds: MINT_DEADLINE_SECONDS,
  codeTtlSeconds: CODE_TTL_SECONDS,
});
const unknownPair = args.only?.find((name) => !PAIRS.some((p) => p.ratio === name));
if (unknownPair !== undefined) {
  console.error(`--only: there is no pair ${unknownPair}; the pairs are ${PAIRS.map((p) => p.ratio).join(", ")}`);
  process.exit(2);
}

// The longest the run should take (minting at its deadline, 60 s for set-up), twice over.
const expectedMs =
  rounds * (10 * (warmupMs + durationMs) + 24 * (flowWarmupMs + flowMs) + 9 * MINT_DEADLINE_SECONDS * 1000) +
  2 * (warmupMs + durationMs) + 2 * (signinWarmupMs + signinMs) + 60_000;
const watchdogMs = Math.max(WATCHDOG_MS, 2 * expectedMs);
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${watchdogMs / 1000} s; giving up`);
  process.exit(1);
}, watchdogMs);
watchdog.unref();

const log = (message) => console.error(`bench: ${message}`);
const peerVersion = () => JSON.parse(readFileSync(join(ROOT, "node_modules", "oidc-provider", "package.json"), "utf8")).version;

async function bundleSize(bundlePath) {
  const bytes = await readFile(bundlePath);
  return { file: relative(ROOT, bundlePath), bytes: bytes.byteLength, gzipBytes: gzipSync(bytes).byteLength };
}

async function main() {
  const started = Date.now();
  const measured = commit(); // before the build: HEAD may move while the bench runs
  const disposers = [];
  try {
    log("building the Worker and starting it in Miniflare (workerd), on a direct socket …");
    const bundlePath = await buildWorker();
    const bundle = await bundleSize(bundlePath);
    // Local D1/KV/Durable Object storage on tmpfs: the bench measures CPU per request, not this
    // VM's fsync latency (a DO write holds its response until the write is durable).
    let persistTo;
    if (args.storage === "tmpfs") {
      persistTo = await mkdtemp("/dev/shm/latchkey-bench-");
      disposers.push(() => rm(persistTo, { recursive: true, force: true }));
    }
    const latchkey = await startBenchLatchkey({ persistTo });
    disposers.push(latchkey.dispose);
    const latchkeyPid = latchkey.pid;

    const discovery = await expectOk("discovery", await fetch(`${latchkey.url}/.well-known/openid-configuration`));
    const issuer = discovery.issuer;

    const origin = new URL(latchkey.url).origin;
    const { basicClient, signer, publicJwk, webClient, appClient, cibaClient, person, signinUsers } = await registerFixtures({
      origin, adminToken: latchkey.adminToken, issuer, signinAccounts: Math.max(2, signinConcurrency),
    });
    const floor = await startFloorWorker({ clientJwk: publicJwk, issuer });
    // (ab)/(ac): the DPoP-bound client_credentials client and its proof key (bench/lib/dpop.mjs).
    const dpopClient = await registerDpopClient({ origin, adminToken: latchkey.adminToken });
    disposers.push(floor.dispose);
    // The peer: node-oidc-provider with the same clients (same secrets, same key) and the same person.
    const pinning = pinningPlan(args.pin);
    log(`starting the peer (oidc-provider ${peerVersion()}) …`);
    const peer = await startPeer({
      basicSecret: basicClient.client_secret,
      jwtPublicJwk: publicJwk,
      web: { ...WEB_CLIENT, secret: webClient.client_secret },
      app: { ...APP_CLIENT, secret: appClient.client_secret },
      person: { sub: person.id, claims: { ...PERSON_CLAIMS, email: person.email, email_verified: true } },
      prefix: pinning?.command,
    });
    disposers.push(peer.dispose);
    if (pinning) {
      for (const pid of [latchkeyPid, floor.pid]) pin(pid, pinning.serverCpu);
      pin(process.pid, pinning.clientCpus);
      log(`pinned: Latchkey's and the floor's workerd and the peer to CPU ${pinning.serverCpu}, the load generator to CPU ${pinning.clientCpus}`);
    }

    // The real flow once: /authorize → /login → /consent → the client, with a session cookie to keep.
    log("signing in through /authorize, /login and /consent …");
    const signedIn = await signInAndConsent({ origin, client: WEB_CLIENT, user: person });
    const sessionCookie = signedIn.browser.cookieHeader;

    // The refresh chains: one refresh token per connection, from a code of the app client's own
    // signed-in session (the same person); every refresh rotates it and the answer carries the next.
    const appSignedIn = await signInAndConsent({ origin, client: APP_CLIENT, user: person });
    const appHeaders = { ...FORM, authorization: basicAuth(APP_CLIENT.clientId, appClient.client_secret) };
    const appCodes = [appSignedIn, ...(await mintCodes({ origin, cookie: appSignedIn.browser.cookieHeader, client: APP_CLIENT, count: concurrency - 1, concurrency })).codes];
    const chains = [];
    for (const { code, verifier } of appCodes) {
      const body = `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(APP_CLIENT.redirectUri)}&code_verifier=${verifier}`;
      const tokens = await expectOk("authorization_code (app)", await fetch(`${origin}/token`, { method: "POST", headers: appHeaders, body }));
      if (!tokens.refresh_token) throw new Error("the app client's code exchange answered no refresh token");
      chains.push(tokens.refresh_token);
    }
    const refreshBody = (token) => `grant_type=refresh_token&refresh_token=${token}`;
    // The peer's chains the same way: codes of the app client, one per connection, redeemed at set-up.
    const peerChains = [];
    for (const { code, verifier } of await peer.mintCodes(APP_CLIENT.clientId, concurrency)) {
      const body = `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(APP_CLIENT.redirectUri)}&code_verifier=${verifier}`;
      const tokens = await expectOk("peer authorization_code (app)", await fetch(`${peer.url}/token`, { method: "POST", headers: appHeaders, body }));
      if (!tokens.refresh_token) throw new Error("the peer's code exchange answered no refresh token");
      peerChains.push(tokens.refresh_token);
    }
    const floorRefreshPath = `/refresh?${new URLSearchParams({ client_id: APP_CLIENT.clientId, sub: person.id, scope: APP_CLIENT.scope })}`;
    const floorRefreshBody = refreshBody(chains[0]);

    // Request makers. Every assertion is used once against Latchkey (a fresh jti per request).
    const basicBody = "grant_type=client_credentials&scope=read+write";
    const basicHeaders = { ...FORM, authorization: basicAuth("bench-basic", basicClient.client_secret) };
    const jwtBody = (assertion) =>
      `grant_type=client_credentials&scope=read+write&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${assertion}`;
    let assertions = signAssertions(1, signer);
    const peerSigner = { ...signer, audience: peer.issuer };
    let peerAssertions = signAssertions(1, peerSigner);

    const webHeaders = { ...FORM, authorization: basicAuth(WEB_CLIENT.clientId, webClient.client_secret) };
    const exchangeBody = ({ code, verifier }) =>
      `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(WEB_CLIENT.redirectUri)}&code_verifier=${verifier}`;
    /** Pre-minted codes for the current round's (e) window, oldest first; each is redeemed once. */
    let codes = [];
    /** The same for the peer's code-exchange window (r). */
    let peerCodes = [];

    // One request of each kind first: a wrong setup fails here, with the server's answer.
    await expectOk("client_secret_basic", await fetch(`${origin}/token`, { method: "POST", headers: basicHeaders, body: basicBody }));
    await expectOk("private_key_jwt", await fetch(`${origin}/token`, { method: "POST", headers: FORM, body: jwtBody(assertions[0]) }));
    await expectOk("floor /sign", await fetch(`${floor.url}/sign`, { method: "POST", body: "" }));
    await expectOk("floor /verify-sign", await fetch(`${floor.url}/verify-sign`, { method: "POST", body: assertions[0] }));
    // The peer answers both client_credentials requests with an ES256 JWT access token, as Latchkey does.
    for (const [label, url, headers, body] of [
      ["client_secret_basic", origin, basicHeaders, basicBody],
      ["peer client_secret_basic", peer.url, basicHeaders, basicBody],
      ["peer private_key_jwt", peer.url, FORM, jwtBody(peerAssertions[0])],
    ]) {
      const { access_token: token } = await expectOk(label, await fetch(`${url}/token`, { method: "POST", headers, body }));
      const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString());
      if (header.alg !== "ES256") throw new Error(`${label}: the access token is not an ES256 JWT: ${JSON.stringify(header)}`);
      log(`${label}: access token ${token.length} characters, header ${JSON.stringify(header)}, claims ${Buffer.from(token.split(".")[1], "base64url")}`);
    }
    await expectOk("client_secret_basic through the router", await fetch(`${latchkey.routedUrl}/token`, { method: "POST", headers: basicHeaders, body: basicBody }));
    /**
     * (ab)'s proofs for one pair: the server's current nonce (a proof without one is answered
     * use_dpop_nonce), then `count` proofs carrying it, each with its own jti, made just before the
     * pair (their iat is within the 300 s proof window and the nonce's one to two windows). The
     * floor (ac) verifies the same proofs.
     */
    let dpopProofs = [];
    let dpopNext = 0;
    let floorDpopNext = 0;
    const prepareDpop = async (count) => {
      const nonce = await fetchNonce(origin, dpopClient, basicBody);
      dpopProofs = signProofs(count, { ...dpopClient, htu: `${origin}/token`, nonce });
      dpopNext = 0;
      floorDpopNext = 0;
    };
    await prepareDpop(2);
    for (const [label, url, path, proof] of [["DPoP client_credentials", origin, "/token", dpopProofs[dpopNext++]], ["floor /dpop-sign", floor.url, "/dpop-sign", dpopProofs[1]]]) {
      const res = await fetch(`${url}${path}`, { method: "POST", headers: { ...dpopClient.headers, dpop: proof }, body: basicBody });
      const problem = expectDpopToken(res.status, await res.text());
      if (problem) throw new Error(`${label}: ${problem}`);
    }
    const firstTokens = await expectOk(
      "authorization_code",
      await fetch(`${origin}/token`, { method: "POST", headers: webHeaders, body: exchangeBody(signedIn) }),
    );
    const idTokenAlg = firstTokens.id_token ? JSON.parse(Buffer.from(firstTokens.id_token.split(".")[0], "base64url")).alg : undefined;
    if (idTokenAlg !== "RS256") throw new Error(`the code exchange answered no RS256 ID token (alg ${idTokenAlg})`);
    // UserInfo: every request of a round reuses one access token, from a code of that round (below).
    let userinfoHeaders = { authorization: `Bearer ${firstTokens.access_token}` };
    await expectOk("userinfo", await fetch(`${origin}/userinfo`, { headers: userinfoHeaders }));
    // The floor's sealed code has exactly the plaintext size of Latchkey's (v1.<iv>.<ciphertext+16-byte tag>).
    const codePlaintextBytes = Buffer.from(signedIn.code.split(".")[2] ?? "", "base64url").length - 16;
    const floorCodeQuery = new URLSearchParams({
      size: String(codePlaintextBytes), client_id: WEB_CLIENT.clientId, redirect_uri: WEB_CLIENT.redirectUri, scope: WEB_CLIENT.scope, sub: person.id,
    });
    const floorCode = await expectOk("floor /code", await fetch(`${floor.url}/code?${floorCodeQuery}`));
    if (floorCode.code.length !== signedIn.code.length) log(`note: floor code ${floorCode.code.length} characters, Latchkey's ${signedIn.code.length}`);
    const floorExchangeBody = exchangeBody({ code: floorCode.code, verifier: floorCode.code_verifier });
    const floorTokens = await expectOk("floor /exchange", await fetch(`${floor.url}/exchange`, { method: "POST", headers: webHeaders, body: floorExchangeBody }));
    const floorUserinfoHeaders = { authorization: `Bearer ${floorTokens.access_token}` };
    await expectOk("floor /userinfo", await fetch(`${floor.url}/userinfo`, { headers: floorUserinfoHeaders }));
    // Introspection: the web client asks about its own access token (of this round, below).
    let introspectionBody = `token=${firstTokens.access_token}&token_type_hint=access_token`;
    const floorIntrospectionBody = `token=${floorTokens.access_token}&token_type_hint=access_token`;
    for (const [label, url, headers, body] of [
      ["introspection", `${origin}/introspect`, webHeaders, introspectionBody],
      ["floor /introspect", `${floor.url}/introspect`, webHeaders, floorIntrospectionBody],
    ]) {
      const answer = await expectOk(label, await fetch(url, { method: "POST", headers, body }));
      if (answer.active !== true) throw new Error(`${label}: not active: ${JSON.stringify(answer)}`);
    }
    await expectOk("floor /refresh", await fetch(`${floor.url}${floorRefreshPath}`, { method: "POST", headers: appHeaders, body: floorRefreshBody }));
    // Sign-in: one sealed transaction and CSRF token (with its cookie) serve every POST /login.
    const loginForm = await signInForm({ origin, client: WEB_CLIENT });
    const loginHeaders = { ...FORM, cookie: loginForm.cookie, origin, "sec-fetch-site": "same-origin" };
    const loginBodies = signinUsers.map((user) => {
      const fields = new URLSearchParams(loginForm.fields);
      fields.set("email", user.email);
      fields.set("password", user.password);
      return fields.toString();
    });
    {
      const res = await fetch(`${origin}/login`, { method: "POST", headers: loginHeaders, body: loginBodies[0], redirect: "manual" });
      const problem = expectSignedIn(res.status, await res.text(), { location: res.headers.get("location"), "set-cookie": res.headers.get("set-cookie") });
      if (problem) throw new Error(`POST /login: ${problem}`);
    }
    await expectOk("floor /pbkdf2", await fetch(`${floor.url}/pbkdf2`, { method: "POST", body: BENCH_PASSWORD }));
    // The device flow (RFC 8628): two requests of the public TV client. The person approves the first
    // through every /device page in the signed-in browser (consenting for the client, once), and
    // keeps the confirmation form, with which every later approval is one POST /device/confirm; the
    // device's first poll of it gets the tokens. The second's first poll is pending.
    const deviceStart = async (count, deadlineSeconds) => {
      const started = await startDeviceRequests({ origin, client: DEVICE_CLIENT, count, concurrency, deadlineSeconds });
      return { ...started, bodies: started.requests.map((r) => pollBody(DEVICE_CLIENT.clientId, r.deviceCode)) };
    };
    const firstDevices = await deviceStart(2);
    const deviceApproval = await approveThroughPages({ browser: signedIn.browser, userCode: firstDevices.requests[0].userCode, user: person });
    /**
     * A polled grant's set-up checks: an approved request's first poll answers an RS256 ID token, a
     * pending one's (and the floor's) authorization_pending, the floor's exchange its tokens.
     */
    const checkPolled = async ({ name, headers, approvedBody, pendingBody, floorPoll, floorExchange }) => {
      const tokens = await expectOk(`${name} (approved)`, await fetch(`${origin}/token`, { method: "POST", headers, body: approvedBody }));
      const alg = tokens.id_token ? JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url")).alg : undefined;
      if (alg !== "RS256") throw new Error(`the ${name} exchange answered no RS256 ID token (alg ${alg})`);
      for (const [label, url] of [[`${name} (pending)`, `${origin}/token`], [`floor ${floorPoll}`, `${floor.url}${floorPoll}`]]) {
        const res = await fetch(url, { method: "POST", headers, body: pendingBody });
        const problem = expectPending(res.status, await res.text());
        if (problem) throw new Error(`${label}: ${problem}`);
      }
      await expectOk(`floor ${floorExchange}`, await fetch(`${floor.url}${floorExchange}`, { method: "POST", headers, body: approvedBody }));
    };
    /** The floor's exchange route for `client`'s grant of the person (it has no storage: the query names it). */
    const floorExchangePath = (route, client) => `${route}?${new URLSearchParams({ client_id: client.clientId, sub: person.id, scope: client.scope })}`;
    const floorDeviceExchangePath = floorExchangePath("/device-exchange", DEVICE_CLIENT);
    const floorDeviceBody = firstDevices.bodies[0];
    await checkPolled({
      name: "device_code", headers: FORM, approvedBody: floorDeviceBody, pendingBody: firstDevices.bodies[1], floorPoll: "/device-poll", floorExchange: floorDeviceExchangePath,
    });
    /** The device grant's pending polls (t) and exchanges (v): pollRing and polledGrant, bench/lib/device.mjs. */
    const device = polledGrant({
      name: "device",
      gapMs: firstDevices.interval * 1000 + POLL_MARGIN_MS,
      log,
      start: deviceStart,
      approve: (started, deadlineSeconds) =>
        approveDeviceRequests({ origin, approval: deviceApproval, userCodes: started.requests.map((r) => r.userCode), concurrency, deadlineSeconds }),
    });
    // CIBA in poll mode (bench/lib/ciba.mjs): the call-centre client asks for the person with their
    // email; the person approves the first request through its mailed link and page in the signed-in
    // browser (consenting for the client, once), and keeps the approval form, with which every later
    // approval is one POST /ciba/{handle} (the handle read from the request's mail). The pending
    // polls' requests name another person, who never approves.
    const cibaHeaders = { ...FORM, authorization: basicAuth(CIBA_CLIENT.clientId, cibaClient.client_secret) };
    const cibaStart = (loginHint) => (count, deadlineSeconds) =>
      startCibaRequests({ origin, headers: cibaHeaders, scope: CIBA_CLIENT.scope, loginHint, expirySeconds: POLLED_TTL_SECONDS, count, concurrency, deadlineSeconds });
    const cibaHandles = mailedHandles({ mailTo: latchkey.mailTo, recipient: person.email });
    /** The approval pages' handles of `started` requests, in their order, from their mail. */
    const handlesOf = async (started) => {
      const mailed = await cibaHandles();
      const handles = started.bindingMessages.map((m) => mailed.get(m));
      if (handles.includes(undefined)) throw new Error(`${handles.filter((h) => h === undefined).length} CIBA request(s) mailed no approval link`);
      return handles;
    };
    const firstCiba = await cibaStart(person.email)(1);
    const cibaApproval = await approveCibaThroughPages({ browser: signedIn.browser, handle: (await handlesOf(firstCiba))[0], user: person });
    const floorCibaExchangePath = floorExchangePath("/ciba-exchange", CIBA_CLIENT);
    const floorCibaBody = firstCiba.bodies[0];
    const pendingCiba = await cibaStart(CIBA_PENDING_EMAIL)(1);
    await checkPolled({
      name: "CIBA", headers: cibaHeaders, approvedBody: floorCibaBody, pendingBody: pendingCiba.bodies[0], floorPoll: "/ciba-poll", floorExchange: floorCibaExchangePath,
    });
    /** CIBA's pending polls (x) and exchanges (z). */
    const ciba = polledGrant({
      name: "CIBA",
      gapMs: firstCiba.interval * 1000 + POLL_MARGIN_MS,
      log,
      start: cibaStart(CIBA_PENDING_EMAIL),
      startToApprove: cibaStart(person.email),
      approve: async (started, deadlineSeconds) =>
        approveCibaRequests({ origin, approval: cibaApproval, handles: await handlesOf(started), concurrency, deadlineSeconds }),
    });

    /**
     * A polled grant's four scenarios, `${key}Poll`, `${key}Exchange` and their floors (`floor${Key}Poll`,
     * `floor${Key}Exchange`): the pending polls of its ring and the exchanges of its approvals
     * (polledGrant), each request sent with `headers`; the floors get the same body every time.
     */
    const polledScenarios = (key, grant, { headers, pollLabel, exchangeLabel, floorPoll, floorExchange }) => {
      const Key = key[0].toUpperCase() + key.slice(1);
      const flow = { warmupMs: flowWarmupMs, durationMs: flowMs };
      const token = (body) => (body === null ? null : { path: "/token", headers, body });
      const onFloor = ({ label, path, body }, check) => ({ label, origin: floor.url, serverPid: floor.pid, check, ...flow, next: () => ({ path, headers, body }) });
      return {
        [`${key}Poll`]: {
          label: pollLabel, origin, serverPid: latchkeyPid, check: expectPending, ...flow,
          next: (loop) => token(grant.nextPoll(loop)),
          answered: grant.answered,
        },
        [`floor${Key}Poll`]: onFloor(floorPoll, expectPending),
        [`${key}Exchange`]: { label: exchangeLabel, origin, serverPid: latchkeyPid, check: expectIdToken, ...flow, next: () => token(grant.nextExchange()) },
        [`floor${Key}Exchange`]: onFloor(floorExchange, expectIdToken),
      };
    };
    const scenarios = {
      basic: {
        label: "client_secret_basic",
        origin,
        serverPid: latchkeyPid,
        next: () => ({ path: "/token", headers: basicHeaders, body: basicBody }),
      },
      privateKeyJwt: {
        label: "private_key_jwt (fresh assertion per request)",
        origin,
        serverPid: latchkeyPid,
        next: () => (jwtNext < assertions.length ? { path: "/token", headers: FORM, body: jwtBody(assertions[jwtNext++]) } : null),
      },
      basicRouted: {
        label: "client_secret_basic through Miniflare's router",
        origin: latchkey.routedUrl,
        serverPid: latchkeyPid,
        next: () => ({ path: "/token", headers: basicHeaders, body: basicBody }),
      },
      peerBasic: {
        label: "peer: oidc-provider client_secret_basic",
        origin: peer.url,
        serverPid: peer.pid,
        next: () => ({ path: "/token", headers: basicHeaders, body: basicBody }),
      },
      peerPrivateKeyJwt: {
        label: "peer: oidc-provider private_key_jwt (fresh assertion)",
        origin: peer.url,
        serverPid: peer.pid,
        next: () => (peerNext < peerAssertions.length ? { path: "/token", headers: FORM, body: jwtBody(peerAssertions[peerNext++]) } : null),
      },
      dpop: {
        label: "client_secret_basic + DPoP (fresh proof per request, nonce required)",
        origin,
        serverPid: latchkeyPid,
        check: expectDpopToken,
        next: () => (dpopNext < dpopProofs.length ? { path: "/token", headers: { ...dpopClient.headers, dpop: dpopProofs[dpopNext++] }, body: basicBody } : null),
      },
      floorDpop: {
        label: "floor /dpop-sign (SHA-256, JWK import, ES256 verify, SHA-256, ES256 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectDpopToken,
        next: () => ({ path: "/dpop-sign", headers: { ...dpopClient.headers, dpop: dpopProofs[floorDpopNext++ % dpopProofs.length] }, body: basicBody }),
      },
      floorSign: {
        label: "floor /sign (1 ES256 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        next: () => ({ path: "/sign", headers: {}, body: "" }),
      },
      floorVerifySign: {
        label: "floor /verify-sign (1 ES256 verify + 1 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        next: () => ({ path: "/verify-sign", headers: {}, body: assertions[floorNext++ % assertions.length] }),
      },
      codeExchange: {
        label: "authorization_code + PKCE + ID token (fresh code per request)",
        origin,
        serverPid: latchkeyPid,
        check: expectIdToken,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => (codeNext < codes.length ? { path: "/token", headers: webHeaders, body: exchangeBody(codes[codeNext++]) } : null),
      },
      peerCodeExchange: {
        label: "peer: oidc-provider authorization_code + PKCE + ID token",
        origin: peer.url,
        serverPid: peer.pid,
        check: expectIdToken,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => (peerCodeNext < peerCodes.length ? { path: "/token", headers: webHeaders, body: exchangeBody(peerCodes[peerCodeNext++]) } : null),
      },
      floorExchange: {
        label: "floor /exchange (AES-GCM open, 2 SHA-256, ES256 + RS256 sign)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectIdToken,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ path: "/exchange", headers: webHeaders, body: floorExchangeBody }),
      },
      userinfo: {
        label: "GET /userinfo (one access token, reused)",
        origin,
        serverPid: latchkeyPid,
        check: expectSub,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ method: "GET", path: "/userinfo", headers: userinfoHeaders }),
      },
      floorUserinfo: {
        label: "floor /userinfo (1 ES256 verify)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectSub,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ method: "GET", path: "/userinfo", headers: floorUserinfoHeaders }),
      },
      refresh: {
        label: "refresh_token, rotated + ID token (one chain per connection)",
        origin,
        serverPid: latchkeyPid,
        check: expectRotation,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: (loop) => ({ path: "/token", headers: appHeaders, body: refreshBody(chains[loop]) }),
        answered: (loop, text) => {
          chains[loop] = JSON.parse(text).refresh_token;
        },
      },
      peerRefresh: {
        label: "peer: oidc-provider refresh_token, rotated + ID token",
        origin: peer.url,
        serverPid: peer.pid,
        check: expectRotation,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: (loop) => ({ path: "/token", headers: appHeaders, body: refreshBody(peerChains[loop]) }),
        answered: (loop, text) => {
          peerChains[loop] = JSON.parse(text).refresh_token;
        },
      },
      floorRefresh: {
        label: "floor /refresh (3 SHA-256, ES256 + RS256 sign, AES-GCM seal)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectRotation,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ path: floorRefreshPath, headers: appHeaders, body: floorRefreshBody }),
      },
      introspection: {
        label: "POST /introspect (the client's access token)",
        origin,
        serverPid: latchkeyPid,
        check: expectActive,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ path: "/introspect", headers: webHeaders, body: introspectionBody }),
      },
      floorIntrospection: {
        label: "floor /introspect (1 ES256 verify)",
        origin: floor.url,
        serverPid: floor.pid,
        check: expectActive,
        warmupMs: flowWarmupMs,
        durationMs: flowMs,
        next: () => ({ path: "/introspect", headers: webHeaders, body: floorIntrospectionBody }),
      },
      ...polledScenarios("device", device, {
        headers: FORM,
        pollLabel: "device_code poll, pending (spread over many requests)",
        exchangeLabel: "device_code exchange + ID token (fresh approval per request)",
        floorPoll: { label: "floor /device-poll (1 SHA-256)", path: "/device-poll", body: floorDeviceBody },
        floorExchange: { label: "floor /device-exchange (2 SHA-256, ES256 + RS256 sign)", path: floorDeviceExchangePath, body: floorDeviceBody },
      }),
      ...polledScenarios("ciba", ciba, {
        headers: cibaHeaders,
        pollLabel: "CIBA poll, pending (spread over many requests)",
        exchangeLabel: "CIBA exchange + ID token (fresh approval per request)",
        floorPoll: { label: "floor /ciba-poll (2 SHA-256)", path: "/ciba-poll", body: pendingCiba.bodies[0] },
        floorExchange: { label: "floor /ciba-exchange (3 SHA-256, ES256 + RS256 sign)", path: floorCibaExchangePath, body: floorCibaBody },
      }),
      signIn: {
        label: "POST /login (correct password)",
        origin,
        serverPid: latchkeyPid,
        concurrency: signinConcurrency,
        warmupMs: signinWarmupMs,
        durationMs: signinMs,
        check: expectSignedIn,
        next: () => ({ path: "/login", headers: loginHeaders, body: loginBodies[loginNext++ % loginBodies.length] }),
      },
      floorPbkdf2: {
        label: "floor /pbkdf2 (1 PBKDF2-SHA256, 100,000 iterations)",
        origin: floor.url,
        serverPid: floor.pid,
        concurrency: signinConcurrency,
        warmupMs: signinWarmupMs,
        durationMs: signinMs,
        check: expectOkStatus,
        next: () => ({ path: "/pbkdf2", headers: {}, body: BENCH_PASSWORD }),
      },
    };
    let jwtNext = 0;
    let peerNext = 0;
    let floorNext = 0;
    let codeNext = 0;
    let peerCodeNext = 0;
    let loginNext = 0;
    const signinMeasured = signinMs > 0;
    const windows = Object.fromEntries(Object.keys(scenarios).map((k) => [k, []]));
    const roundRatios = Object.fromEntries(PAIRS.map((p) => [p.ratio, []]));
    /** Each pair's windows, per side (a flow measured in several pairs has windows in each). */
    const pairWindows = Object.fromEntries(PAIRS.map((p) => [p.ratio, { flow: [], floor: [] }]));
    /**
     * Measures a pair within a round, floor and flow in interleaved slices (runPair), and records
     * the ratio of their rates.
     */
    const measurePair = async (ratio, round) => {
      // --only: the pairs not named are skipped (no windows, no ratio; their rates read as 0).
      if (args.only && !args.only.includes(ratio)) return { floorRate: 0, flowRate: 0 };
      const pair = PAIRS.find((p) => p.ratio === ratio);
      const { label: floorLabel, ...floorOptions } = scenarios[pair.floor];
      const { label: flowLabel, ...flowOptions } = scenarios[pair.flow];
      // A pair's windows are set by its flow (the floors carry the same settings).
      const measured = await runPair({
        concurrency: flowOptions.concurrency ?? concurrency,
        warmupMs: flowOptions.warmupMs ?? warmupMs,
        durationMs: flowOptions.durationMs ?? durationMs,
        sliceMs,
        floor: floorOptions,
        flow: flowOptions,
      });
      const rates = {};
      for (const [side, key, label] of [["floor", pair.floor, floorLabel], ["flow", pair.flow, flowLabel]]) {
        const w = measured[side];
        windows[key].push(w);
        pairWindows[ratio][side].push(w);
        rates[side] = w.latencies.length / w.seconds;
        log(`  ${typeof round === "number" ? `round ${round}` : `${round}   `}  ${label.padEnd(62)} ${fmt(rates[side]).padStart(6)} req/s${w.failures ? `, ${w.failures} FAILED` : ""}${w.supplyExhausted ? " (supply ran out)" : ""}`);
      }
      roundRatios[ratio].push(rates.flow / rates.floor);
      return { floorRate: rates.floor, flowRate: rates.flow };
    };
    const minting = [];

    /** Mints `count` fresh codes for the next (e) window and records what minting cost. */
    const mint = async (count, round) => {
      const cpuBefore = processCpuMs(latchkeyPid);
      const m = await mintCodes({ origin, cookie: sessionCookie, client: WEB_CLIENT, count, concurrency, deadlineSeconds: MINT_DEADLINE_SECONDS });
      const cpuAfter = processCpuMs(latchkeyPid);
      const serverMsPerCode = cpuBefore !== undefined && cpuAfter !== undefined && m.codes.length ? (cpuAfter - cpuBefore) / m.codes.length : null;
      minting.push({ round, wanted: count, minted: m.codes.length, seconds: m.seconds, serverMsPerCode });
      log(`  ${typeof round === "number" ? `round ${round}` : round}  minted ${m.codes.length} codes (prompt=none) in ${fmt(m.seconds, 1)} s: ${fmt(m.codes.length / m.seconds)} codes/s, ${fmt(serverMsPerCode, 2)} ms workerd CPU each`);
      codes = m.codes;
      codeNext = 0;
    };

    /** Codes (and device or CIBA requests) for one flow window at `rate` req/s, with a margin, plus 100. */
    const supplyFor = (rate) => Math.min(MAX_CODES, Math.ceil(rate * ((flowWarmupMs + flowMs) / 1000) * CODE_SUPPLY_FACTOR) + 100);
    /** A polled grant's pilot: 600 fresh requests, each polled once, and 200 approved ones, each exchanged once; their rates. */
    const pilotPolled = async (grant, keys) => {
      await grant.pilotRing(600);
      const poll = await pilot(keys.poll);
      await grant.prepareExchanges(200, "pilot");
      return { poll, exchange: await pilot(keys.exchange) };
    };
    /**
     * A polled grant's two pairs in a round: pending polls spread over requests that outlive the pair
     * (replaced when less than RING_MIN_LEFT_SECONDS is left of them; as many as the fastest pending
     * rate uses in a gap), then this round's approvals exchanged. `rates` keeps the fastest of each.
     */
    const measurePolled = async (grant, keys, rates, round) => {
      if (grant.ringAge() > POLLED_TTL_SECONDS - RING_MIN_LEFT_SECONDS) {
        await grant.startRing(Math.min(MAX_POLLED_REQUESTS, Math.ceil(rates.poll * (grant.gapMs / 1000) * RING_FACTOR) + 100), round, MINT_DEADLINE_SECONDS);
      }
      const { flowRate: pollRate } = await measurePair(keys.pollPair, round);
      rates.poll = Math.max(rates.poll, pollRate);
      grant.polled(round);
      await grant.prepareExchanges(supplyFor(round === 1 ? FIRST_CODE_SUPPLY_FACTOR * rates.exchange : rates.exchange), round, MINT_DEADLINE_SECONDS);
      const { flowRate: exchangeRate } = await measurePair(keys.exchangePair, round);
      rates.exchange = Math.max(rates.exchange, exchangeRate);
    };
    const DEVICE_KEYS = { poll: "devicePoll", exchange: "deviceExchange", pollPair: "devicePollToFloor", exchangePair: "deviceExchangeToFloor" };
    const CIBA_KEYS = { poll: "cibaPoll", exchange: "cibaExchange", pollPair: "cibaPollToFloor", exchangePair: "cibaExchangeToFloor" };

    // A short unmeasured run of code exchanges: warms the path (the first 200) and estimates its rate
    // (the next 400), from which the first round's code supply is sized; later rounds use the fastest
    // (e) window so far.
    await mint(600, "pilot");
    const supply = codes;
    /** An unmeasured run of a scenario (a pilot: until its supply runs out): its rate; a failure stops the bench. */
    const pilot = async (key, durationMs = 30_000) => {
      const w = await runLoad({ ...scenarios[key], concurrency, warmupMs: 0, durationMs });
      if (w.failures) throw new Error(`${scenarios[key].label}, unmeasured: ${w.failures} failed: ${w.failureSamples.join(" | ")}`);
      return w.latencies.length / Math.max(w.seconds, 0.001);
    };
    const pilotRun = (part) => {
      codes = part;
      codeNext = 0;
      return pilot("codeExchange");
    };
    await pilotRun(supply.slice(0, 200));
    let codeRate = await pilotRun(supply.slice(200));
    let peerCodeRate = 0;
    log(`pilot: 600 code exchanges, the last 400 at ${fmt(codeRate)} req/s`);
    // The same for pending device and CIBA polls: 600 fresh requests each, each polled once; their
    // rate sizes the requests the (t) and (x) windows spread their polls over. And for exchanges:
    // 200 approved requests each, each exchanged once; their rate sizes the first (v) and (z) supply.
    // Only with --polled (bench/lib/options.mjs says why).
    const polledMeasured = args.polled === true;
    const deviceRates = polledMeasured ? await pilotPolled(device, DEVICE_KEYS) : undefined;
    if (deviceRates) log(`pilot: 600 pending device polls at ${fmt(deviceRates.poll)} req/s, 200 device exchanges at ${fmt(deviceRates.exchange)} req/s`);
    const cibaRates = polledMeasured ? await pilotPolled(ciba, CIBA_KEYS) : undefined;
    if (cibaRates) log(`pilot: 600 pending CIBA polls at ${fmt(cibaRates.poll)} req/s, 200 CIBA exchanges at ${fmt(cibaRates.exchange)} req/s`);
    // The peer's JIT gets the same head start, unmeasured: its token endpoint (client_credentials,
    // 600 code exchanges, refreshes) warmed as Latchkey's was by the set-up and the pilot.
    peerCodes = await peer.mintCodes(WEB_CLIENT.clientId, 600);
    for (const key of ["peerBasic", "peerCodeExchange", "peerRefresh"]) await pilot(key, 1500);
    log("peer warmed up: 1.5 s each of client_secret_basic, code exchange (600 codes at most) and refresh");

    log(
      `${rounds} round(s) × (5 client_credentials pairs × 2 sides × (${warmupMs / 1000} s warm-up + ${durationMs / 1000} s) + 6 code-exchange/UserInfo/refresh/introspection pairs × ` +
        `2 sides × (${flowWarmupMs / 1000} s + ${flowMs / 1000} s)), concurrency ${concurrency}, storage on ${args.storage}; then the router pair once`,
    );
    if (signinMeasured) log(`then the sign-in pair once: ${signinWarmupMs / 1000} s warm-up + ${signinMs / 1000} s per window, concurrency ${signinConcurrency}`);
    for (let round = 1; round <= rounds; round++) {
      // Each flow with its floor, in alternating slices, so the pair sees the same machine state.
      const { flowRate: basic } = await measurePair("basicToSign", round);
      if (round === 1) {
        // Enough assertions for every private_key_jwt window, sized from the basic flow's rate (an
        // upper bound: the JWT flow does strictly more work), all signed before their windows start.
        // (b) is measured twice a round: against its floor and against the peer.
        const perWindow = basic * ((warmupMs + durationMs) / 1000);
        const needed = Math.min(MAX_ASSERTIONS, Math.ceil(perWindow * 2 * rounds * 1.5) + 2000);
        log(`signing ${needed} client assertions …`);
        assertions = signAssertions(needed, signer);
      }
      await measurePair("privateKeyJwtToVerifySign", round);
      // (ab)/(ac): fresh proofs for this round's DPoP pair, sized from the basic flow's rate (an upper bound).
      if (!args.only || args.only.includes("dpopToFloor")) {
        // Round 1: an unmeasured pilot of 1,500 requests first (at most 60 s), so that the pair meets
        // the replay Durable Objects the proofs' jtis spread over (256) already made, as a running
        // server has them: 1,500 random jtis reach all 256 but a few (256 ln 256 ≈ 1,420).
        if (round === 1) {
          await prepareDpop(1500);
          log(`pilot: 1,500 DPoP client_credentials requests at ${fmt(await pilot("dpop", 60_000))} req/s (unmeasured; it makes the jti objects)`);
        }
        await prepareDpop(Math.min(MAX_ASSERTIONS, Math.ceil(Math.max(basic, 500) * ((warmupMs + durationMs) / 1000) * 1.5) + 2000));
        await measurePair("dpopToFloor", round);
      }
      // The same two requests against the peer; its assertions are sized from its own basic rate.
      const { floorRate: peerBasic } = await measurePair("basicToPeer", round);
      if (round === 1) {
        const needed = Math.min(MAX_ASSERTIONS, Math.ceil(peerBasic * ((warmupMs + durationMs) / 1000) * rounds * 1.5) + 2000);
        log(`signing ${needed} client assertions for the peer …`);
        peerAssertions = signAssertions(needed, peerSigner);
      }
      await measurePair("privateKeyJwtToPeer", round);

      // (e)/(f): this round's codes, minted just before the pair (they live 60 s; see the usage check).
      const factor = round === 1 ? FIRST_CODE_SUPPLY_FACTOR : CODE_SUPPLY_FACTOR;
      await mint(Math.min(MAX_CODES, Math.ceil(codeRate * ((flowWarmupMs + flowMs) / 1000) * factor) + 101), round);
      // One of them for this round's UserInfo token (access tokens live 10 minutes; a long run outlasts one).
      const tokens = await expectOk("authorization_code", await fetch(`${origin}/token`, { method: "POST", headers: webHeaders, body: exchangeBody(codes.pop()) }));
      userinfoHeaders = { authorization: `Bearer ${tokens.access_token}` };
      const exchange = await measurePair("codeExchangeToFloor", round);
      codeRate = Math.max(codeRate, exchange.flowRate);
      // (e) against the peer: a fresh supply of Latchkey codes (the first is spent), and the peer's
      // from its set-up listener (cheap to make: sized from twice the fastest rate seen, at least
      // 600/s).
      await mint(supplyFor(codeRate), round);
      peerCodes = await peer.mintCodes(WEB_CLIENT.clientId, supplyFor(FIRST_CODE_SUPPLY_FACTOR * Math.max(codeRate, peerCodeRate, 600)));
      peerCodeNext = 0;
      const { floorRate: peerExchangeRate } = await measurePair("codeExchangeToPeer", round);
      peerCodeRate = Math.max(peerCodeRate, peerExchangeRate);
      await measurePair("userinfoToFloor", round);
      await measurePair("refreshToFloor", round);
      await measurePair("refreshToPeer", round);
      introspectionBody = `token=${tokens.access_token}&token_type_hint=access_token`;
      await measurePair("introspectionToFloor", round);
      // (t)/(u), (v)/(w): the device grant's polls; (x)/(y), (z)/(aa): CIBA's.
      if (deviceRates) await measurePolled(device, DEVICE_KEYS, deviceRates, round);
      if (cibaRates) await measurePolled(ciba, CIBA_KEYS, cibaRates, round);
    }
    // What Miniflare's router adds: (a) through it and on the direct socket, once.
    await measurePair("directToRouted", "once");
    // Sign-in: once, PBKDF2 floor first. No ratio target; the CPU per request is what matters.
    if (signinMeasured) await measurePair("signInToPbkdf2", "once");
    // Passkey sign-in: once, its CPU per request against the same 10 ms (bench/lib/passkeys.mjs).
    const passkeySignIn = signinMeasured ? await measurePasskeySignIn({ origin, issuer, adminToken: latchkey.adminToken, serverPid: latchkeyPid, concurrency: signinConcurrency }) : null;

    // ---- report ----
    const results = Object.fromEntries(
      Object.entries(windows).filter(([, ws]) => ws.length).map(([k, ws]) => [k, { label: scenarios[k].label, ...summarize(ws) }]),
    );
    const pairResults = Object.fromEntries(
      Object.entries(pairWindows).filter(([, w]) => w.flow.length).map(([ratio, w]) => [ratio, { flow: summarize(w.flow), floor: summarize(w.floor) }]),
    );
    const settings = {
      rounds, concurrency, durationMs, warmupMs, flowMs, flowWarmupMs, sliceMs, storage: args.storage, pinning: pinning && { serverCpu: pinning.serverCpu, clientCpus: pinning.clientCpus },
      signin: signinMeasured ? { durationMs: signinMs, warmupMs: signinWarmupMs, concurrency: signinConcurrency } : null,
    };
    const document = report({
      measured, settings, results, pairResults, roundRatios, minting, polled: { device: device.records, ciba: ciba.records }, bundle, started,
      peer: { name: "oidc-provider", version: peerVersion(), node: peer.node },
    });
    document.freePlan = freePlanCheck(pairResults);
    printFreePlan(document.freePlan);
    document.passkeySignIn = passkeySignIn;
    printPasskeySignIn(passkeySignIn);
    await mkdir(dirname(args.out), { recursive: true });
    const rounded = (_key, value) => (typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value);
    await writeFile(args.out, `${JSON.stringify(document, rounded, 2)}\n`);
    console.log(`Results: ${relative(process.cwd(), args.out)} (total ${fmt(document.totalSeconds, 0)} s)`);
    return document.failures === 0 ? 0 : 1;
  } finally {
    for (const dispose of disposers.reverse()) await dispose().catch(() => {});
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench: ${error?.stack ?? error}`);
    process.exit(1);
  },
);

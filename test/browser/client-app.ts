/**
 * A tiny relying party on 127.0.0.1 for browser tests: what a person's browser meets before and
 * after Latchkey. GET /start builds an authorization request (code + PKCE S256, state, nonce) and
 * redirects to the authorization endpoint; GET /callback records what came back and shows a page.
 * The test redeems the recorded code itself (see `pending`), as the app's back end would.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";

export interface Callback {
  params: URLSearchParams;
  /** The request this answer belongs to (by state), if any. */
  request?: StartedRequest;
}

export interface StartedRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
  authorizationUrl: string;
}

const random = () => randomBytes(32).toString("base64url");

export class ClientApp {
  readonly requests = new Map<string, StartedRequest>();
  readonly callbacks: Callback[] = [];
  private server: Server | undefined;
  private waiters: ((callback: Callback) => void)[] = [];
  origin = "";

  constructor(
    private readonly authorizationEndpoint: string,
    private readonly clientId: string,
    private readonly scope = "openid profile email",
  ) {}

  get redirectUri(): string {
    return `${this.origin}/callback`;
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", this.origin);
      if (url.pathname === "/start") {
        const request = this.start();
        res.writeHead(302, { location: request.authorizationUrl, "cache-control": "no-store" }).end();
      } else if (url.pathname === "/callback") {
        const callback: Callback = { params: url.searchParams };
        const request = this.requests.get(url.searchParams.get("state") ?? "");
        if (request) callback.request = request;
        this.callbacks.push(callback);
        for (const waiter of this.waiters.splice(0)) waiter(callback);
        const outcome = url.searchParams.has("code") ? "Signed in" : `Sign-in failed: ${url.searchParams.get("error")}`;
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(
          `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><title>Example App</title><h1>${outcome}</h1>`,
        );
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((listening) => this.server!.listen(0, "127.0.0.1", listening));
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("client app: no port");
    this.origin = `http://127.0.0.1:${address.port}`;
    return this.origin;
  }

  /** A new authorization request; `extra` parameters override the defaults. */
  start(extra: Record<string, string> = {}): StartedRequest {
    const codeVerifier = random();
    const state = random();
    const nonce = random();
    const url = new URL(this.authorizationEndpoint);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: this.scope,
      state,
      nonce,
      code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
      code_challenge_method: "S256",
      ...extra,
    }).toString();
    const request = { state, nonce, codeVerifier, authorizationUrl: url.href };
    this.requests.set(state, request);
    return request;
  }

  /** The next callback: ask before the click that leads to it. */
  nextCallback(timeoutMs = 15_000): Promise<Callback> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the client's /callback was not called")), timeoutMs);
      this.waiters.push((callback) => {
        clearTimeout(timer);
        resolve(callback);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((done) => (this.server ? this.server.close(() => done()) : done()));
  }
}

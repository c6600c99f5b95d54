import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import { catalog } from "../src/errors/catalog";
import { renderCatalogMarkdown } from "../src/errors/catalog-doc";
import { OAuthError, errorBody, toErrorText } from "../src/errors/oauth-error";
import { errorResponse } from "../src/errors/respond";
import type { AppEnv } from "../src/http/context";

const ALLOWED = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

describe("the error catalog", () => {
  it("docs/errors.md is generated from the catalog (run npm run docs:errors after changing it)", () => {
    expect(env.TEST_ERRORS_DOC).toBe(renderCatalogMarkdown());
  });

  it("every entry's ref names specification sections, never an issue of this project (refs ship in docs/errors.md)", () => {
    const SPEC = /^(RFC \d+|OIDC |OAuth 2\.0 |NIST SP |ASVS |FAPI |W3C |Fetch standard|draft-)/;
    for (const [code, entry] of Object.entries(catalog)) {
      expect(entry.ref, code).not.toMatch(/\bissue\b/i);
      for (const part of entry.ref.split(";")) expect(part.trim(), code).toMatch(SPEC);
    }
  });

  it("RFC 6749 §5.2: every entry's error and description use only the allowed characters", () => {
    for (const [code, entry] of Object.entries(catalog)) {
      expect(entry.error, code).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
      expect(entry.description, code).toMatch(ALLOWED);
    }
  });

  it("RFC 6749 §5.2: invalid_client is 401; other token-endpoint errors are 400 (or 5xx / 404 / 405 by HTTP)", () => {
    for (const [code, entry] of Object.entries(catalog)) {
      if (entry.error === "invalid_client") expect(entry.status, code).toBe(401);
    }
  });

  it("RFC 6749 §5.2: a non-ASCII or quoting detail is sanitized where errors are serialized", () => {
    const body = errorBody(new OAuthError("invalid_request", 'bad "quote" \\ back\\slash, naïve ünïcode, new\nline, emoji 🚀'));
    expect(body.error_description).toMatch(ALLOWED);
    expect(body.error_description).toBe("bad ?quote? ? back?slash, na?ve ?n?code, new?line, emoji ?");
    expect(toErrorText("x".repeat(1000)).length).toBe(300);
  });
});

describe("unexpected failures", () => {
  it("become a bare 500 server_error: no stack, no internals; the stack goes to the log", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const app = new Hono<AppEnv>().get("/boom", () => {
      throw new TypeError("secret internal detail at /src/x.ts:42");
    });
    app.onError(errorResponse);
    const res = await app.request("/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: "server_error", error_description: catalog.server_error.description, error_code: "server_error" });
    expect(text).not.toContain("secret internal detail");
    expect(logged.mock.calls.flat().join("\n")).toContain("secret internal detail");
    logged.mockRestore();
  });

  it("a misconfiguration (no ISSUER) is a logged server_error, never a half-configured answer", async () => {
    const { app } = await import("../src/app");
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await app.request("/.well-known/oauth-authorization-server", {}, { ...env, ISSUER: "" });
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toBe("server_error");
    expect(logged.mock.calls.flat().join("\n")).toContain("ISSUER is not configured");
    logged.mockRestore();
  });

  it("errors are logged as one structured JSON line with the internal code", async () => {
    const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
    const { tokenRequest } = await import("./helpers");
    await tokenRequest({ grant_type: "client_credentials" });
    const line = warned.mock.calls.map((c) => String(c[0])).find((l) => l.includes("oauth_error"));
    expect(JSON.parse(line!)).toMatchObject({ level: "warn", event: "oauth_error", status: 401, error: "invalid_client", code: "missing_client_credentials" });
    warned.mockRestore();
  });
});

import { describe, expect, it } from "vitest";

/**
 * One place builds a request's stores (docs/architecture.md "Stores: built in src/services.ts"):
 * src/services.ts turns the bindings into stores and ports; src/app.ts and src/config.ts read them
 * for routing and settings; workers/* are the entry points. No other module reads `c.env`.
 */

/** Modules another change still has in flight; each leaves this list when it takes its stores from src/services.ts. */
const IN_FLIGHT: string[] = [];

const ALLOWED = ["../src/app.ts", "../src/config.ts", "../src/services.ts"];

/** `c.env`, `ctx.env`, `context.env`, or the bindings destructured from a context (`const { env } = c`). */
const READS_BINDINGS = /(?<![.\w$])(?:c|ctx|context)\.env\b|\{\s*env\s*\}\s*=\s*(?:c|ctx|context)\b/;

const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");

describe("stores are built in src/services.ts", () => {
  it("no module but src/services.ts, src/app.ts and src/config.ts reads a context's bindings", () => {
    const sources = import.meta.glob("../src/**/*.{ts,tsx}", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    expect(Object.keys(sources).length).toBeGreaterThan(50);
    const readers = Object.entries(sources)
      .filter(([path, text]) => !ALLOWED.includes(path) && !IN_FLIGHT.includes(path) && READS_BINDINGS.test(withoutComments(text)))
      .map(([path]) => path);
    expect(readers).toEqual([]);
  });

  it("the scan sees a reader: src/services.ts itself", () => {
    const services = import.meta.glob("../src/services.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
    expect(READS_BINDINGS.test(withoutComments(services["../src/services.ts"]!))).toBe(true);
  });
});

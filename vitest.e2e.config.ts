import { defineConfig } from "vitest/config";

/**
 * End-to-end tests: plain Node (not the Workers pool) driving the real Worker bundle, started in
 * workerd by scripts/local-worker.mjs, over HTTP with real OAuth client libraries.
 */
export default defineConfig({
  test: {
    environment: "node",
    silent: "passed-only",
    include: ["test/e2e/**/*.e2e.test.ts"],
    // The first run builds the bundle with wrangler and boots workerd.
    hookTimeout: 120_000,
    testTimeout: 30_000,
    teardownTimeout: 30_000,
  },
});

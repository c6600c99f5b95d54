import { defineConfig } from "vitest/config";

/**
 * Browser tests: a real Chromium (Debian's /usr/bin/chromium, driven by playwright-core) signs a
 * person up and in through the real Worker bundle in workerd (scripts/local-worker.mjs), the way
 * they meet it on a phone. Not skipped when Chromium is missing: the test fails and says why.
 *
 *   npm run test:browser                        screenshots → test-results/screenshots/
 *   UPDATE_SCREENSHOTS=1 npm run test:browser   screenshots → docs/screenshots/ (committed)
 */
export default defineConfig({
  test: {
    environment: "node",
    silent: "passed-only",
    include: ["test/browser/**/*.browser.test.ts"],
    // One browser and one Worker at a time: the machine has two cores.
    fileParallelism: false,
    hookTimeout: 120_000,
    testTimeout: 90_000,
    teardownTimeout: 30_000,
  },
});

import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFile } from "node:fs/promises";
import { defineConfig } from "vitest/config";

/**
 * Unit and integration tests run inside workerd with the real D1, KV and Durable Object
 * implementations (Miniflare). The D1 schema is the migrations in migrations/, applied in order by
 * test/setup.ts as `wrangler d1 migrations apply` would; schema.sql's statements and two empty
 * databases are there for test/d1-migrations.test.ts, which checks both give the same schema.
 */
export default defineConfig(async () => {
  const migrations = await readD1Migrations({ projectPath: import.meta.dirname, migrationsDir: "migrations" });
  const [schemaSql] = await readD1Migrations({ projectPath: import.meta.dirname, migrationsDir: ".", migrationsPattern: "schema.sql" });
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          d1Databases: ["MIGRATIONS_CHECK_DB", "SCHEMA_CHECK_DB"],
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_SCHEMA_SQL: schemaSql!.queries,
            // docs/errors.md as committed, so a test can check it matches the catalog.
            TEST_ERRORS_DOC: await readFile("docs/errors.md", "utf8"),
            ISSUER: "https://latchkey.test",
            // Explicit, so a developer's .dev.vars (read through wrangler.toml) cannot change results.
            ALLOW_INSECURE_CLIENT_URIS: "false",
            SIGNUP_ENABLED: "false",
            SHOW_DEV_OUTBOX: "false",
            MAIL_PROVIDER: "outbox",
            // RFC 9396 types for test/rfc9396-*.test.ts: one with a renderer and members, one by name (renderer), one generic.
            AUTHORIZATION_DETAILS_TYPES: JSON.stringify([
              { type: "payment_initiation", required: ["instructedAmount"], label: "Make a payment",
                members: ["instructedAmount", "creditorName", "creditorAccount", "remittanceInformationUnstructured", "locations", "actions"] },
              { type: "account_information", required: ["actions"] },
              "customer_information",
            ]),
            // Test-only secrets; real deployments set these with `wrangler secret put`.
            ENCRYPTION_KEY: "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGVzIQ",
            ADMIN_TOKEN: "test-admin-token",
          },
        },
      }),
    ],
    test: {
      include: ["test/**/*.test.ts"],
      exclude: ["test/e2e/**", "test/browser/**"],
      setupFiles: ["test/setup.ts"],
      // The Worker logs one JSON line per error; show logs only for failing tests.
      silent: "passed-only" as const,
    },
  };
});

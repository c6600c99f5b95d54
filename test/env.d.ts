import type { D1Migration } from "@cloudflare/vitest-plugin";
import type { Env as LatchkeyEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends LatchkeyEnv {
      /** migrations/*.sql in order, split into statements by vitest.config.ts. */
      TEST_MIGRATIONS: D1Migration[];
      /** schema.sql's statements (test/d1-migrations.test.ts). */
      TEST_SCHEMA_SQL: string[];
      /** Empty databases for test/d1-migrations.test.ts. */
      MIGRATIONS_CHECK_DB: D1Database;
      SCHEMA_CHECK_DB: D1Database;
      /** docs/errors.md as committed. */
      TEST_ERRORS_DOC: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../workers/index");
    }
  }
}

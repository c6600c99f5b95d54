import type { D1Migration } from "@cloudflare/vitest-plugin";
import type { Env as LatchkeyEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends LatchkeyEnv {
      /** schema.sql, split into statements by vitest.config.ts. */
      TEST_SCHEMA: D1Migration[];
      /** docs/errors.md as committed. */
      TEST_ERRORS_DOC: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../workers/index");
    }
  }
}

// Writes docs/errors.md from the error catalog (src/errors/catalog.ts). Run: npm run docs:errors
import { build } from "esbuild";
import { writeFile } from "node:fs/promises";

const out = await build({ entryPoints: ["src/errors/catalog-doc.ts"], bundle: true, format: "esm", write: false, platform: "neutral" });
const { renderCatalogMarkdown } = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
await writeFile("docs/errors.md", renderCatalogMarkdown());
console.log("wrote docs/errors.md");

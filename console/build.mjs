// Builds the console into dist/ (or the directory given as the first
// argument): one ES module bundle, one stylesheet, index.html. The output is
// deterministic, so CI can rebuild it and compare with the committed dist/.
import { build } from "esbuild";
import { mkdirSync, copyFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, "src/main.js"), "app-style": join(here, "src/app.css") },
  bundle: true, format: "esm", minify: true, target: ["es2020"], legalComments: "none",
  outdir: out, logLevel: "warning", charset: "utf8",
});
// esbuild names a CSS entry by its key; keep the public names simple.
copyFileSync(join(out, "app-style.css"), join(out, "app.css"));
rmSync(join(out, "app-style.css"));
copyFileSync(join(here, "index.html"), join(out, "index.html"));

// Bundles the UI with esbuild into dist/: index.html (unhashed: gpixd serves
// it with no-cache) and assets/app-HASH.js + assets/app-HASH.css (hashed:
// gpixd serves /assets/* as immutable). Run by scripts/build-web.sh after the
// proto code is generated.
//
//   node build.mjs [--dev] [--watch]
import * as esbuild from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "dist");
const dev = process.argv.includes("--dev");
const watch = process.argv.includes("--watch");

async function writeIndex(metafile) {
  const outs = Object.keys(metafile.outputs).map((p) => path.relative(dist, path.resolve(here, p)));
  const js = outs.find((p) => p.endsWith(".js"));
  const css = outs.find((p) => p.endsWith(".css"));
  if (!js || !css) throw new Error(`esbuild outputs missing: ${outs.join(", ")}`);
  let html = await readFile(path.join(here, "index.html"), "utf8");
  html = html
    .replace("<!--APP_CSS-->", `<link rel="stylesheet" href="/${css}">`)
    .replace("<!--APP_JS-->", `<script type="module" src="/${js}"></script>`);
  await writeFile(path.join(dist, "index.html"), html);
  const sizes = outs
    .filter((p) => !p.endsWith(".map"))
    .map((p) => `${p} ${(metafile.outputs[path.relative(here, path.join(dist, p))]?.bytes ?? 0) / 1024 | 0} KiB`);
  console.log(`build-web: dist/index.html, ${sizes.join(", ")}`);
}

await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, "assets"), { recursive: true });

const options = {
  absWorkingDir: here,
  entryPoints: { app: "src/main.ts" },
  bundle: true,
  format: "esm",
  target: ["chrome110", "firefox115", "safari16"],
  outdir: "dist/assets",
  entryNames: dev ? "[name]" : "[name]-[hash]",
  minify: !dev,
  sourcemap: dev ? "inline" : "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
  plugins: [
    {
      name: "index-html",
      setup(build) {
        build.onEnd(async (r) => {
          if (r.errors.length === 0 && r.metafile) await writeIndex(r.metafile);
        });
      },
    },
  ],
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
  console.log("build-web: watching src/ (Ctrl-C to stop)");
} else {
  await esbuild.build(options);
}

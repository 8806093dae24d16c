// Builds the app into dist/ (or checks that dist/ is what a fresh build makes,
// with --check): tsc compiles src/ together with ../assent-js/src into a
// scratch directory, then the page, the styles and the icons from static/ and
// the compiled modules are laid out as the node serves them at /app/:
//
//   dist/index.html, dist/app.css, dist/icon.svg, dist/manifest.webmanifest
//   dist/js/**.js          the app (src/)
//   dist/assent-js/*.js    the package it signs with (web/assent-js/src)
//
// Deterministic: no timestamps, files written in sorted order, LF endings.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const check = process.argv.includes("--check");

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** Every file of the built app: relative path -> bytes. */
function build() {
  const scratch = mkdtempSync(join(tmpdir(), "assent-app-build-"));
  try {
    const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
    execFileSync(process.execPath, [tsc, "-p", join(here, "tsconfig.json"), "--outDir", scratch], { stdio: "inherit" });
    const files = new Map();
    for (const f of walk(join(here, "static"))) files.set(relative(join(here, "static"), f), readFileSync(f));
    const put = (from, to, rewrite) => {
      for (const f of walk(from)) {
        if (!f.endsWith(".js")) continue;
        let text = readFileSync(f, "utf8");
        if (rewrite) text = rewrite(text);
        files.set(join(to, relative(from, f)), Buffer.from(text, "utf8"));
      }
    };
    // The app's imports of the package (`…/assent-js/src/index.js`) point at dist/assent-js/.
    put(join(scratch, "app", "src"), "js", (t) =>
      t.replace(/(from\s+["'])((?:\.\.\/)+)assent-js\/src\/([^"']+)(["'])/g, (_m, a, ups, file, z) => {
        return `${a}${ups.slice(3)}assent-js/${file}${z}`;
      }),
    );
    put(join(scratch, "assent-js", "src"), "assent-js");
    return files;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const files = build();
const dist = join(here, "dist");
if (check) {
  const have = existsSync(dist) ? walk(dist).map((f) => relative(dist, f)) : [];
  const want = [...files.keys()].sort();
  const stale =
    have.length !== want.length ||
    have.some((f, i) => f !== want[i] || !readFileSync(join(dist, f)).equals(files.get(f)));
  if (stale) {
    console.error("web/app/dist is stale: run npm run build and commit it");
    process.exit(1);
  }
  console.log(`dist/ is up to date (${want.length} files)`);
} else {
  rmSync(dist, { recursive: true, force: true });
  for (const f of [...files.keys()].sort()) {
    mkdirSync(dirname(join(dist, f)), { recursive: true });
    writeFileSync(join(dist, f), files.get(f));
  }
  console.log(`built ${files.size} files into dist/`);
}

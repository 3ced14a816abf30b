// `npm run build`: the production build. TypeScript compiled by tsc into dist/ (same layout as src/),
// plus the files the compiled code reads at run time from beside itself (SQL migrations, tab assets).
// Locales stay in locales/ at the package root: dist/i18n finds them there as src/i18n does.
//
// dist/main.js, the entry `npm start` runs, is then replaced by one bundled file (esbuild): the bot
// and the packages it loads in one script, so a start compiles one file instead of resolving and
// reading about 1,500 modules (see docs/performance.md). The other files under dist/ stay as tsc
// wrote them, for tools that load one module (`require('./dist/i18n')`, bench/pglite-footprint.cjs).
'use strict';
const { spawnSync } = require('node:child_process');
const { cpSync, existsSync, promises: fs, rmSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');

const root = join(__dirname, '..');
// `--out <dir>` builds elsewhere (the build test assembles a deployment there); dist/ by default.
const outFlag = process.argv.indexOf('--out');
const dist = resolve(outFlag > 0 && process.argv[outFlag + 1] ? process.argv[outFlag + 1] : join(root, 'dist'));
/** Directories under src/ holding files that are not TypeScript but are read at run time. */
const assets = ['store/migrations', 'tab/static'];

/**
 * Packages the bundle leaves to `require` at run time, each for a reason of its own:
 * PGlite reads its WebAssembly and data files from its own directory; teams-js is served to the
 * audit tab as the file it is (require.resolve); jose is ESM, imported when the tab checks a token;
 * dtrace-provider is a native module restify's logger loads only if it is there.
 */
const external = ['@electric-sql/pglite', '@microsoft/teams-js', 'jose', 'dtrace-provider'];

/**
 * In one bundle every module's `__dirname` would be dist/ itself; each of our files gets the
 * directory tsc would have put it in (dist/store for src/store/db.ts), so the migrations, the tab's
 * files and the locales are found where they are in the unbundled build.
 */
const sourceDirname = {
  name: 'source-dirname',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const rel = relative(join(root, 'src'), dirname(args.path)).split(sep).join('/');
      if (rel.startsWith('..')) return undefined;
      const contents = (await fs.readFile(args.path, 'utf8')).replace(/\b__dirname\b/g, `require('node:path').join(__dirname, ${JSON.stringify(rel)})`);
      return { contents, loader: 'ts' };
    });
  },
};

async function bundle() {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    process.stdout.write('esbuild is not installed: dist/main.js stays the unbundled tsc output.\n');
    return;
  }
  await esbuild.build({
    entryPoints: [join(root, 'src', 'main.ts')],
    outfile: join(dist, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external,
    plugins: [sourceDirname],
    // Class and function names as written: error names and stack traces read as in the source.
    keepNames: true,
    // Minified: the script V8 keeps in memory is half the size (idle RSS ~40–80 MB less than unminified).
    minify: true,
    // Stack traces point at the original files and lines (npm start enables source maps).
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
  });
}

async function main() {
  rmSync(dist, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { cwd: root, stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  for (const dir of assets) {
    const from = join(root, 'src', dir);
    if (existsSync(from)) cpSync(from, join(dist, dir), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  }
  await bundle();
  process.stdout.write(`Built ${dist}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

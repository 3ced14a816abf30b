// `npm run build`: the production build. TypeScript compiled by tsc into dist/ (same layout as src/),
// plus the files the compiled code reads at run time from beside itself (SQL migrations, tab assets).
// Locales stay in locales/ at the package root: dist/i18n finds them there as src/i18n does.
'use strict';
const { spawnSync } = require('node:child_process');
const { cpSync, existsSync, rmSync } = require('node:fs');
const { join, resolve } = require('node:path');

const root = join(__dirname, '..');
// `--out <dir>` builds elsewhere (the build test assembles a deployment there); dist/ by default.
const outFlag = process.argv.indexOf('--out');
const dist = resolve(outFlag > 0 && process.argv[outFlag + 1] ? process.argv[outFlag + 1] : join(root, 'dist'));
/** Directories under src/ holding files that are not TypeScript but are read at run time. */
const assets = ['store/migrations', 'tab/static'];

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const dir of assets) {
  const from = join(root, 'src', dir);
  if (existsSync(from)) cpSync(from, join(dist, dir), { recursive: true, filter: (f) => !f.endsWith('.ts') });
}
process.stdout.write(`Built ${dist}\n`);

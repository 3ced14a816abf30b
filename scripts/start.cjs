// `npm start`.
//   With a .env (or TENANT_ID in the environment): production. Runs the compiled bot from dist/
//   (`npm run build` first); plain JavaScript, no TypeScript loader.
//   Without: local mode. The launcher (tenant simulator, bot, Agents Playground) runs from src/
//   through tsx, so what you edit is what runs.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const configured = existsSync(join(process.cwd(), '.env')) || Boolean(process.env.TENANT_ID);

if (configured) {
  const main = join(root, 'dist', 'main.js');
  if (!existsSync(main)) {
    process.stderr.write(`Production start runs the compiled bot, and ${main} does not exist: run \`npm run build\` first.\n`);
    process.exit(1);
  }
  process.setSourceMapsEnabled(true);
  require(main);
} else {
  require('tsx/cjs/api').register();
  require(join(root, 'src', 'launch.ts'));
}

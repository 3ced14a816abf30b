// PGlite on its own for `npm run bench`: reopens the bot's store (DATA_DIR) through the bot's own openDb
// (same PGlite options), and reports its resident size, the floor the bot's size is judged against.
// Compiled (dist/) when built, as the bot runs; serves until SIGTERM.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const compiled = join(root, 'dist', 'store', 'db.js');
if (!existsSync(compiled)) require('tsx/cjs/api').register();
const { openDb } = require(existsSync(compiled) ? compiled : join(root, 'src', 'store', 'db.ts'));

async function main() {
  const started = performance.now();
  const db = await openDb({ dataDir: process.env.DATA_DIR });
  await db.query('SELECT 1');
  const openMs = Math.round(performance.now() - started);
  await new Promise((r) => setTimeout(r, 3000));
  console.log(JSON.stringify({ pglite: { rssMb: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10, openMs } }));
  process.on('SIGTERM', () => void db.close().then(() => process.exit(0)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { ConfigError, loadConfig, redactedConfigSummary } from './config';
import { createLogger } from './log';
import { startServer } from './server';

/** The bot process: compiled, `dist/main.js` (production `npm start`); from source, `node --import tsx src/main.ts` (local mode). */
/**
 * After each full collection V8 lets the heap grow by a factor it picks for throughput (up to 4×
 * what survived). Under load a bot's turns leave mostly short-lived garbage, so the old generation
 * grew to ~200 MB around ~35 MB of live objects and the process kept those pages: RSS stayed
 * ~250 MB above idle after 10,000 requests. Growing by 30 % keeps it ~90 MB above idle, for no CPU
 * per request we could measure (docs/performance.md). V8 reads this setting at every collection.
 */
setFlagsFromString('--heap-growing-percent=30');

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee .env.sample for every setting.\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL, 'bot');
  logger.info({ config: redactedConfigSummary(config) }, 'configuration');
  const server = await startServer(config, logger);
  logger.info({ url: `${server.url}/api/messages` }, 'bot listening');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`SMTP Gate failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

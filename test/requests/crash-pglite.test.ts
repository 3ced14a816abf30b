import { describeCrashRecovery, pgliteDataDir } from '../support/crash-scenario';

/**
 * crash.test.ts on the embedded store: the bot killed after its write reached the tenant leaves the
 * request `executing` in its PGlite data directory, and the next start on that directory settles it.
 * Kept apart because a fresh PGlite data directory takes several seconds to initialize.
 */
describeCrashRecovery('PGlite in DATA_DIR', {
  database: pgliteDataDir,
  moments: ['after the write reached the tenant'],
  checkExecutingWhileAlive: false,
  available: () => ({ ok: true }),
});

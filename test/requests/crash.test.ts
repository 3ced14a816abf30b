import { postgresReachableSync } from '../support/databases';
import { describeCrashRecovery, postgresSchema } from '../support/crash-scenario';

/**
 * The bot process dies by SIGKILL in the middle of a change, with the request left `executing`.
 * The next start settles it from the tenant's actual state: done if the write landed (no second
 * write), written once more if it never did, and either way on the audit record.
 * (PGlite in a data directory: crash-pglite.test.ts.)
 */
describeCrashRecovery('PostgreSQL', {
  database: postgresSchema,
  moments: ['after the write reached the tenant', 'before the write reached the tenant'],
  checkExecutingWhileAlive: true,
  available: postgresReachableSync,
});

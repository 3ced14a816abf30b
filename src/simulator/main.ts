import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { FixtureError, loadFixture } from './fixture';
import { startSimulator } from './server';

// `npm run simulator`: the tenant simulator on its own, for local mode and manual testing.
//   SIMULATOR_PORT     default 3979
//   SIMULATOR_FIXTURE  default fixtures/demo-tenant.json in the repository
//   DATA_DIR           default ./.data; certificates go in $DATA_DIR/simulator-ca/

/** The repository root, found from this file whether it runs from src/ (tsx) or a compiled dist/. */
function repositoryRoot(): string {
  let directory = __dirname;
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) return process.cwd();
    directory = parent;
  }
  return directory;
}

function parsePort(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 3979;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SIMULATOR_PORT must be a port number between 0 and 65535, got '${text}'`);
  }
  return port;
}

async function main(): Promise<void> {
  const root = repositoryRoot();
  const fixturePath = path.resolve(process.env.SIMULATOR_FIXTURE || path.join(root, 'fixtures', 'demo-tenant.json'));
  const dataDir = path.resolve(process.env.DATA_DIR || path.join(root, '.data'));

  let port: number;
  let fixture;
  try {
    port = parsePort(process.env.SIMULATOR_PORT);
    fixture = loadFixture(fixturePath);
  } catch (error) {
    console.error(error instanceof FixtureError ? error.message : `Tenant simulator: ${(error as Error).message}`);
    process.exit(1);
  }

  const simulator = await startSimulator({ fixture, port, certDir: path.join(dataDir, 'simulator-ca') });
  console.log(
    `Tenant simulator for ${fixture.tenant.displayName} (${fixture.tenant.id}) listening on ${simulator.url} — trust ${simulator.caCertPath}`,
  );

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('Tenant simulator: failed to stop cleanly:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('Tenant simulator failed to start:', error);
  process.exit(1);
});

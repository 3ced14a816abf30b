// The tenant simulator for `npm run bench`, in its own process: prints one JSON line with its URL and CA, then serves until SIGTERM.
import * as path from 'node:path';
import { loadFixture } from '../src/simulator/fixture';
import { startSimulator } from '../src/simulator/server';

async function main(): Promise<void> {
  const fixture = loadFixture(path.join(__dirname, '..', 'fixtures', 'demo-tenant.json'));
  const simulator = await startSimulator({ fixture, port: 0, certDir: process.env.BENCH_CERT_DIR! });
  console.log(JSON.stringify({ simulator: { url: simulator.url, caCertPath: simulator.caCertPath } }));
  process.on('SIGTERM', () => void simulator.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

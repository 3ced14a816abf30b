import { existsSync } from 'node:fs';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium drives the browser tests; CI installs it, so there its absence is a failure. */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  if (process.env.CI === 'true') throw new Error(`Chromium is required in CI but ${chromiumPath} does not exist (apt-get install -y chromium).`);
  process.stderr.write(`\n*** SKIPPING the browser half of the launcher test: no Chromium at ${chromiumPath} (apt-get install -y chromium). ***\n\n`);
  return false;
}

/** The flags this machine needs: no sandbox as root, no background calls to Google's hosts. */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A real headless browser for page tests: Debian's chromium driven by playwright-core.
// `npm test` (scripts/ensure-chromium.sh, run by .ci/run too) installs chromium when it is
// missing; a machine that cannot gets a failing test that says so, never a skipped one.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.PTS_TEST_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; scripts/ensure-chromium.sh does it) or set PTS_TEST_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root in containers needs --no-sandbox; the network flags keep chromium from calling out (the machines are offline).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

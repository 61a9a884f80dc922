import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (browser downloads are not possible here); `.ci/run` installs it when it is missing. */
export const CHROMIUM = process.env.DUALGATE_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

if (!haveChromium) {
  // A developer machine without it: say so plainly rather than fail. CI always has it.
  console.warn(`Skipping the console's browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set DUALGATE_CHROMIUM).`);
}

/** `describe` where Chromium is installed, `describe.skip` where it is not. */
export const describeWithChromium = haveChromium ? describe : describe.skip;

/** Headless, and quiet: nothing it does reaches beyond the test's own server. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Debian's Chromium for the browser tests (`.ci/run` installs it): where it is, the flags a closed
 * network needs (no background connections, no QUIC), and the skip (a failure under CI=true) when
 * it is missing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const INSTALL = 'apt-get install -y --no-install-recommends chromium';
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether Chromium is here; if not, the test skips with the install command (fails under CI=true). */
export function haveChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') assert.fail(`${CHROMIUM} is missing; CI installs it with: ${INSTALL}`);
  t.skip(`needs Chromium at ${CHROMIUM}: ${INSTALL}`);
  return false;
}

/** Starts headless Chromium, closed when the test ends. */
export async function launch(t: TestContext, timeoutMs = 30_000): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: timeoutMs });
  t.after(() => browser.close());
  return browser;
}

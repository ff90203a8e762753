/**
 * Debian's Chromium driven by playwright-core: never `playwright install` (no
 * downloads here). A fresh user-data-dir per launch, removed on close. When `CI` is set a missing
 * Chromium is a failure; locally the caller skips with `CHROMIUM_INSTALL_HINT`.
 */
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { makeTempDir, removeDir } from './temp.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_INSTALL_HINT =
  'Chromium is not installed: run `scripts/install-system-deps` (apt-get update && apt-get install -y --no-install-recommends chromium)';

/** Flags for a quiet, offline, sandbox-less headless run as root in a container. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface ChromiumSession {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile; `close()` ends it and removes the profile. */
export async function launchChromium(): Promise<ChromiumSession> {
  const userDataDir = await makeTempDir('tillgate-chromium-');
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 20_000,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => {});
        await removeDir(userDataDir);
      },
    };
  } catch (err) {
    await removeDir(userDataDir);
    throw err;
  }
}

/** A screenshot of one section, clipped from the whole page (the live stream may replace the
 * section's element meanwhile, so the element itself is not held). */
export async function sectionShot(page: Page, selector: string, path: string): Promise<void> {
  const box = await page.locator(selector).boundingBox();
  if (box === null) throw new Error(`no element ${selector} on the page to screenshot`);
  await page.screenshot({ path, fullPage: true, clip: box });
}

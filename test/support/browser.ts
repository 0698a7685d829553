/**
 * Browser tests: Debian's chromium driven by playwright-core, against a real ThreatLens server on
 * a free port with a PGlite store holding the synthetic demo panel. Tests skip, saying why, when
 * /usr/bin/chromium is not installed (.ci/run installs it).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { AccessOptions } from '../../api/auth/plugin.ts';
import { buildApp, type App } from '../../api/app.ts';
import { loadDemoData } from '../../datasets/demo/load.ts';
import { refreshRiskScores } from '../../engine/scoring/refresh.ts';
import type { Store } from '../../engine/store/database.ts';
import { tempDir } from './fixtures.ts';
import { openTestStore } from './stores.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Why browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} is not installed (Debian package chromium; .ci/run installs it): browser tests skipped`;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export interface TestServer {
  readonly url: string;
  readonly store: Store;
  readonly app: App;
  close(): Promise<void>;
}

/**
 * A server on a free port of 127.0.0.1 over a fresh PGlite store with the demo panel loaded and
 * the published scores computed, as `threatlens serve` prepares it. `prepare` runs before the
 * scores (to add batches); `access` as buildApp takes it (default: no demo access, no rate limit).
 */
export async function startTestServer(options: { access?: AccessOptions; prepare?: (store: Store, dir: string) => Promise<void> } = {}): Promise<TestServer> {
  const store = await openTestStore('pglite');
  const dir = await tempDir();
  await loadDemoData(store, dir);
  if (options.prepare) await options.prepare(store, dir);
  await refreshRiskScores(store.db);
  const app = await buildApp({ store, access: { rateLimit: false, ...options.access } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('test server: no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    store,
    app,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

/** Where the suite saves screenshots (ignored by git). */
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

export async function artifactPath(name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/**
 * Distinct colours of a PNG and the share of its most common colour, decoded by the browser in
 * a blank page (a canvas), so the test needs no image library.
 */
export async function pngColours(browser: Browser, png: Buffer): Promise<{ distinct: number; dominantShare: number; width: number; height: number }> {
  const page: Page = await browser.newPage();
  try {
    // A string, so that this Node-side file needs no DOM types.
    const script = `(async (base64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + base64;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const counts = new Map();
      for (let i = 0; i < data.length; i += 4) {
        const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        counts.set(key, (counts.get(key) || 0) + 1);
      }
      let dominant = 0;
      for (const c of counts.values()) dominant = Math.max(dominant, c);
      return { distinct: counts.size, dominantShare: dominant / (data.length / 4), width: canvas.width, height: canvas.height };
    })(${JSON.stringify(png.toString('base64'))})`;
    return (await page.evaluate(script)) as { distinct: number; dominantShare: number; width: number; height: number };
  } finally {
    await page.close();
  }
}

/** The same as the browser's `fmt` (api/dashboard/src/dom.ts): the number as the page prints it. */
export function pageNumber(x: number, digits = 2): string {
  return x.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

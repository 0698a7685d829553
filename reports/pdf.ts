/**
 * PDF through Chromium's own print-to-PDF (Debian's `chromium`, driven by playwright-core), not a
 * hand-made PDF writer. The report's print CSS sets the page (A4), its margins and the margin
 * boxes (handling level on every page, reference, page numbers).
 *
 * The page runs with JavaScript off and every network request refused: a report is
 * self-contained. Chromium stamps the PDF with the time of printing; that stamp is replaced by
 * the report's publication time (same length, so no offset in the file moves), which makes a
 * re-rendered report byte-identical to the published one on the same Chromium and fonts.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { ThreatLensError } from '../engine/errors.ts';

export const CHROMIUM_PATH = process.env.THREATLENS_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] as const;

export function chromiumAvailable(path = CHROMIUM_PATH): boolean {
  return existsSync(path);
}

/** PDF date of an ISO timestamp, as Chromium writes one: D:YYYYMMDDHHmmSS+00'00'. */
export function pdfDate(iso: string): string {
  const d = new Date(iso);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `D:${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+00'00'`;
}

/** Replaces /CreationDate and /ModDate with `date` where the lengths match (they do for Chromium's UTC stamps). */
export function stampPdfDates(pdf: Uint8Array, date: string): Uint8Array {
  // latin1 maps bytes to characters one to one, so offsets are kept.
  const text = Buffer.from(pdf).toString('latin1');
  const replaced = text.replace(/\/(CreationDate|ModDate) \((D:[^)]*)\)/g, (whole, key: string, value: string) => (value.length === date.length ? `/${key} (${date})` : whole));
  return new Uint8Array(Buffer.from(replaced, 'latin1'));
}

/** One Chromium for many documents: launched on first use, closed with `close()`. */
export class PdfRenderer {
  private browser: Promise<Browser> | undefined;

  constructor(private readonly executablePath: string = CHROMIUM_PATH) {}

  private launch(): Promise<Browser> {
    if (!this.browser) {
      if (!chromiumAvailable(this.executablePath)) {
        throw new ThreatLensError('TL_RENDERER_UNAVAILABLE', `Chromium is not at ${this.executablePath}: install Debian's chromium package, set THREATLENS_CHROMIUM, or ask for HTML only`);
      }
      // Loaded on first use: every command line run would pay for it otherwise.
      this.browser = import('playwright-core').then(({ chromium }) => chromium.launch({ executablePath: this.executablePath, args: [...CHROMIUM_ARGS] }));
      this.browser.catch(() => (this.browser = undefined));
    }
    return this.browser;
  }

  /** Prints one HTML document; `publishedAt` (ISO) becomes the PDF's creation and modification date. */
  async render(html: string, publishedAt: string): Promise<Uint8Array> {
    const browser = await this.launch();
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    try {
      const page = await context.newPage();
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true, tagged: true });
      return stampPdfDates(new Uint8Array(pdf), pdfDate(publishedAt));
    } finally {
      await context.close();
    }
  }

  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    if (browser) await (await browser).close().catch(() => undefined);
  }
}

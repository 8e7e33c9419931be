// Benchmark: how soon the popup shows the certificate status from cache, measured in the
// browser (headless Chromium, the real extension and host), against the floor an extension page
// cannot go below: an empty page of the same extension (same origin, same renderer start).
// Run from the repository root: node tests/e2e/popup-bench.mjs [rounds]
//
// Each round opens a fresh page (as a popup is a fresh document each time it opens). Figures:
// - popup: `data-status-shown-ms` (navigation start -> cached status in the DOM) and
//   `data-status-after-script-ms` (the popup's script start -> the same);
// - floor: DOMContentLoaded of an empty page, from navigation start.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { extensionDir, launchChromium } from './lib/chromium.mjs';
import { hostConfig } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const rounds = Number(process.argv[2] ?? 21);
const TARGET_MS = 50;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// A copy of the built extension with one empty page added (the manifest key keeps the id).
const copy = mkdtempSync(join(tmpdir(), 'caiso-bench-extension-'));
cpSync(extensionDir, copy, { recursive: true });
writeFileSync(join(copy, 'empty.html'), '<!doctype html><meta charset="utf-8"><title>empty</title><p>empty</p>\n');

const server = await startServer({ hosts: hostsOf(loadCases()) });
const host = hostConfig();
const browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost, extension: copy });
try {
  const base = `chrome-extension://${browser.extensionId}/`;
  // Warm-up: the first popup fills the cache (the host's answer) and the browser's caches.
  const warm = await browser.context.newPage();
  await warm.goto(`${base}popup.html`);
  await warm.waitForSelector('#certificates[data-source="host"]');
  await warm.close();

  const shown = [];
  const afterScript = [];
  const floor = [];
  for (let i = 0; i < rounds; i += 1) {
    const page = await browser.context.newPage();
    await page.goto(`${base}popup.html`);
    await page.waitForSelector('body[data-status-after-script-ms]');
    shown.push(Number(await page.locator('body').getAttribute('data-status-shown-ms')));
    afterScript.push(Number(await page.locator('body').getAttribute('data-status-after-script-ms')));
    await page.close();
    const empty = await browser.context.newPage();
    await empty.goto(`${base}empty.html`);
    floor.push(await empty.evaluate(() => Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)));
    await empty.close();
  }
  const [s, a, f] = [median(shown), median(afterScript), median(floor)];
  console.log(`popup, certificate status from cache (median of ${rounds} opens):`);
  console.log(`  after navigation start: ${s} ms (target ${TARGET_MS} ms: ${s <= TARGET_MS ? 'met' : 'not met'})`);
  console.log(`  after the popup's script starts: ${a} ms`);
  console.log(`  floor, an empty page of the extension ready (DOMContentLoaded): ${f} ms`);
  console.log(`  the popup's own share: ${s - f} ms above the floor`);
} finally {
  await browser.close();
  await server.close();
  host.remove();
  rmSync(copy, { recursive: true, force: true });
}

// Benchmark: how soon the popup shows the certificate status from cache, measured in the
// browser (headless Chromium, the real extension and host), against two floors no extension
// page can go below: an empty page of the same extension (no script), and the same with one
// tiny script (the first script of an extension page also pays for setting up its JavaScript
// context and the extension APIs).
// Run from the repository root: node tests/e2e/popup-bench.mjs [rounds]
//
// Each round opens fresh pages (a popup is a fresh document each time it opens). Figures are
// medians, in ms from navigation start:
// - popup: `data-status-shown-ms` (cached status in the DOM: the snapshot popup-first.js draws
//   before the modules load), `data-status-after-script-ms` (the same, counted from the popup's
//   first script start), and `data-drawn-ms` (the whole popup drawn by the module);
// - floors: DOMContentLoaded of the empty page; the first line of the tiny script.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { extensionDir, launchChromium } from './lib/chromium.mjs';
import { hostConfig } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const rounds = Number(process.argv[2] ?? 21);
const TARGET_MS = 50;
const FLOOR_MARGIN_MS = 10;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

// A copy of the built extension with the two floor pages added (the manifest key keeps the id).
const copy = mkdtempSync(join(tmpdir(), 'caiso-bench-extension-'));
let server;
let host;
let browser;
try {
  cpSync(extensionDir, copy, { recursive: true });
  const head = '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="stylesheet" href="popup.css"><title>floor</title></head>';
  writeFileSync(join(copy, 'floor-empty.html'), `${head}<body><main id="app"><p>empty</p></main></body></html>\n`);
  writeFileSync(join(copy, 'floor-script.html'), `${head}<body><main id="app"><p>script</p></main><script src="floor-script.js"></script></body></html>\n`);
  writeFileSync(join(copy, 'floor-script.js'), 'document.body.dataset.scriptStartMs = String(Math.round(performance.now()));\n');

  server = await startServer({ hosts: hostsOf(loadCases()) });
  // Not recorded: the recorder's shell and tee would be part of every host start timed here.
  host = hostConfig(undefined, { record: false });
  browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost, extension: copy });
  const base = `chrome-extension://${browser.extensionId}/`;
  const open = async (path, ready, read) => {
    const page = await browser.context.newPage();
    await page.goto(base + path);
    await page.waitForSelector(ready);
    const value = await page.evaluate(read);
    await page.close();
    return value;
  };
  // Warm-up: the first popup fills the cache (the host's answer) and the browser's caches.
  await open('popup.html', '#certificates[data-source="host"]', () => null);

  const shown = [];
  const afterScript = [];
  const drawn = [];
  const empty = [];
  const script = [];
  for (let i = 0; i < rounds; i += 1) {
    const popup = await open('popup.html', 'body[data-status-after-script-ms]',
      () => ['statusShownMs', 'statusAfterScriptMs', 'drawnMs'].map((key) => Number(document.body.dataset[key])));
    shown.push(popup[0]);
    afterScript.push(popup[1]);
    drawn.push(popup[2]);
    empty.push(await open('floor-empty.html', 'main',
      () => Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd)));
    script.push(await open('floor-script.html', 'body[data-script-start-ms]', () => Number(document.body.dataset.scriptStartMs)));
  }
  const [s, a, d, e, f] = [median(shown), median(afterScript), median(drawn), median(empty), median(script)];
  console.log(`popup, certificate status from cache (medians of ${rounds} opens, ms from navigation start):`);
  console.log(`  popup: status shown at ${s} ms (target ${TARGET_MS} ms: ${s <= TARGET_MS ? 'met' : 'not met'}); ${a} ms after its script starts`);
  console.log(`  floor without script: an empty extension page ready at ${e} ms`);
  console.log(`  floor with script: the first line of a one-line script runs at ${f} ms`);
  console.log(`  the popup's own share: ${s - f} ms above the script floor (target: within ${FLOOR_MARGIN_MS} ms: ${s - f <= FLOOR_MARGIN_MS ? 'met' : 'not met'}); status / floor = ${(s / f).toFixed(2)}`);
  console.log(`  the whole popup drawn by its module at ${d} ms (tab, launcher, settings; the status replaced by the module's own drawing)`);
} finally {
  await browser?.close();
  await server?.close();
  host?.remove();
  rmSync(copy, { recursive: true, force: true });
}

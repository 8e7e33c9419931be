// The newcomer demo: shows in a real Chromium what caiso-access does, in plain words.
// Run from the repository root after a build: node tests/e2e/demo.mjs
// With a display (DISPLAY set) the browser window is shown; otherwise it runs headless.

import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureDir, fromRoot } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { hostConfig, PINNED_NOW, startSandbox } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const LEGACY_URL = 'https://portal.caiso.com/tr';
const headed = Boolean(process.env.DISPLAY);
const out = ensureDir(fromRoot('target', 'demo'));

const server = await startServer({ hosts: [new URL(LEGACY_URL).hostname] });
let browser;
let host;
let sandbox;
try {
  console.log('Every *.caiso.com address is answered by a local stand-in server: nothing leaves this machine.');
  host = hostConfig();
  console.log(`Demo certificates (test look-alikes) imported into the caiso-access host (${host.dir}); `
    + `the host keeps the keys, the browser only ever sees metadata. Clock pinned at ${PINNED_NOW}.`);
  sandbox = await startSandbox(host.dir, ['cmri-market-awards=aup-once:2']);
  console.log(`A local CAISO sandbox (caiso-sandbox, made-up data) listens on ${sandbox.address}; `
    + 'the host sends its test calls there, under the real CAISO host names and checks.');
  browser = await launchChromium({ port: server.port, headless: !headed, nativeHost: host.nativeHost });
  console.log(`Chromium is running with caiso-access (extension id ${browser.extensionId}).`);

  const { page, tabId } = await browser.newTab();
  await page.goto(LEGACY_URL);
  const landed = page.url();
  const oldHost = new URL(LEGACY_URL).hostname;
  const contacted = server.requests.some((r) => r.host === oldHost);
  console.log(`Opened ${LEGACY_URL} -> landed on ${landed} `
    + (contacted ? `(the old host ${oldHost} WAS contacted)` : '(the old host was never contacted)'));
  await page.screenshot({ path: join(out, 'page.png') });

  const popup = await browser.openPopup(tabId);
  await popup.setViewportSize({ width: 420, height: 640 });
  const status = popup.locator('#tab-status');
  const [kind, systems, environment] = await Promise.all(
    ['data-status', 'data-systems', 'data-environment'].map((a) => status.getAttribute(a)));
  const summary = (await status.innerText()).replace(/\s+/g, ' ').trim();
  console.log(`The popup for that tab says: ${summary} (status "${kind}", systems "${systems}", environment "${environment}")`);
  await popup.waitForSelector('#certificates:not([data-state="waiting"])', { timeout: 15_000 });
  console.log('Certificates, as the native host reports them over native messaging:');
  for (const card of await popup.locator('.identity').all()) {
    const [label, severity, days] = await Promise.all([card.getAttribute('data-label'), card.getAttribute('data-severity'),
      card.locator('.days').textContent()]);
    console.log(`  ${label.padEnd(12)} ${severity.padEnd(8)} ${days}`);
  }
  await popup.screenshot({ path: join(out, 'popup.png'), fullPage: true });

  console.log('One-click API test from the extension: CMRI market awards in the sandbox, as "production":');
  await popup.evaluate(() => chrome.runtime.onMessage.addListener((m) => {
    if (m?.type === 'host-event') console.log(`progress: ${m.event.stage} ${m.event.message}${m.event.expected_at ? ` until ${m.event.expected_at}` : ''}`);
  }));
  popup.on('console', (message) => console.log(`  ${message.text()}`));
  const call = await popup.evaluate((args) => chrome.runtime.sendMessage({ type: 'host-request', command: 'call', args }),
    { identity: 'production', system: 'cmri', service: 'RetrieveMarketAwards_CMRIv4_AP', environment: 'sandbox' });
  const report = call.ok;
  if (report) {
    console.log(`  ${report.ok ? 'OK' : 'FAILED'}: ${report.title}. ${report.explanation}`);
    for (const step of report.ladder ?? []) {
      const mark = { passed: '[x]', failed: '[!]' }[step.state] ?? '[ ]';
      console.log(`    ${mark} ${step.rung.replace(/_/g, ' ')}${step.detail ? ` (${step.detail})` : ''}`);
    }
    console.log(`  signed with ${report.signature}, HTTP ${report.http_status}, ${report.attempts} attempt(s), `
      + `waited ${report.waited_ms} ms for CAISO's rate limit, ${report.elapsed_ms.toFixed(1)} ms to sign, send and read the answer`);
  } else {
    console.log(`  the call could not be made: ${call.error?.message}`);
    process.exitCode = 1;
  }
  console.log(`Screenshots: ${join(out, 'page.png')} and ${join(out, 'popup.png')}`);

  if (headed) {
    await popup.bringToFront();
    console.log('The browser stays open: press Enter to close it (it closes by itself after 60 s).');
    const rl = createInterface({ input: process.stdin });
    await Promise.race([
      new Promise((resolve) => rl.once('line', resolve)),
      new Promise((resolve) => setTimeout(resolve, 60_000)),
    ]);
    rl.close();
  }
  if (contacted || landed === LEGACY_URL) process.exitCode = 1;
} finally {
  await browser?.close();
  await server.close();
  sandbox?.stop();
  host?.remove();
}

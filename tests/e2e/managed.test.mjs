// End-to-end: settings pushed by enterprise policy. Chromium on Linux reads policy files from
// /etc/chromium/policies/managed/; the extension's own policy goes under "3rdparty". The file is
// written for this run only and removed afterwards (this test runs alone: the policy applies to
// every Chromium on the machine while it exists).
// Run from the repository root (as root): node --test tests/e2e/managed.test.mjs

import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { hostConfig, PINNED_NOW } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const POLICY_DIR = '/etc/chromium/policies/managed';
export const POLICY_FILE = `${POLICY_DIR}/caiso-access-e2e.json`;
const EXTENSION_ID = 'nokmocfmgjjcklbipglnbmejhhgheonb';

let server;
let host;
let browser;

before(async () => {
  mkdirSync(POLICY_DIR, { recursive: true });
  writeFileSync(POLICY_FILE, JSON.stringify({
    // The tests' marker (an unknown policy name Chromium ignores): a file left behind by an
    // interrupted run is recognised and removed by `cargo xtask test`.
    caiso_access_e2e: true,
    '3rdparty': { extensions: { [EXTENSION_ID]: { environment: 'map-stage', thresholds: [45, 20], redirectEnabled: false } } },
  }));
  server = await startServer({ hosts: hostsOf(loadCases()) });
  host = hostConfig([
    ['valid-legacy.p12', 'production', 'production'],
    ['near-expiry.p12', 'map-stage', 'map-stage'],
  ]);
  browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost });
  // Let the check made at installation (at the real time) finish, then start clean at the
  // pinned time.
  await waitFor(async () => (await browser.worker.evaluate(() => chrome.storage.local.get('reminderRecord'))).reminderRecord,
    'the first certificate check');
  await browser.worker.evaluate(async (now) => {
    for (const id of Object.keys(await chrome.notifications.getAll())) await chrome.notifications.clear(id);
    await chrome.storage.local.remove('reminderRecord');
    await chrome.storage.local.set({ clockOverride: now });
  }, PINNED_NOW);
});

after(async () => {
  rmSync(POLICY_FILE, { force: true });
  await browser?.close();
  await server?.close();
  host?.remove();
});

async function waitFor(check, what) {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('managed policy', () => {
  test('the extension reads the policy and the options page shows it as set by the organisation', async () => {
    const managed = await browser.worker.evaluate(() => chrome.storage.managed.get(null));
    assert.deepEqual(managed, { environment: 'map-stage', thresholds: [45, 20], redirectEnabled: false });
    const page = await browser.context.newPage();
    await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('body').getAttribute('data-managed'), 'environment redirectEnabled thresholds');
    assert.equal(await page.locator('#environment').inputValue(), 'map-stage');
    assert.ok(await page.locator('#environment').isDisabled());
    assert.equal(await page.locator('#thresholds').inputValue(), '45, 20');
    assert.ok(await page.locator('#thresholds').isDisabled());
    assert.equal(await page.locator('#redirectEnabled').isChecked(), false);
    assert.ok(await page.locator('.managed[data-for="thresholds"]').isVisible());
    // A local choice cannot override the policy.
    await browser.worker.evaluate(() => chrome.storage.local.set({ environment: 'production', thresholds: [5] }));
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.locator('#environment').inputValue(), 'map-stage');
    await page.screenshot({ path: 'target/e2e-artifacts/options-managed.png', fullPage: true });
  });

  test('managed thresholds drive the badge and the reminders; managed environment the popup', async () => {
    const { tabId } = await browser.newTab();
    const popup = await browser.openPopup(tabId);
    const result = await popup.evaluate(() => chrome.runtime.sendMessage({ type: 'check-certificates' }));
    // 9 days left: inside both managed thresholds (45 and 20), so the 20-day reminder; the
    // host's own thresholds (30, 14, ...) would have said 14. (A check the policy's arrival
    // triggers may have shown it first: the record and the notifications tell either way.)
    const state = await browser.worker.evaluate(async () => ({
      record: (await chrome.storage.local.get('reminderRecord')).reminderRecord,
      notifications: Object.keys(await chrome.notifications.getAll()),
    }));
    assert.deepEqual([...state.record['map-stage'].thresholds].sort((a, b) => a - b), [20, 45]);
    assert.deepEqual(state.notifications, ['renewal:map-stage:20:2026-11-22']);
    assert.ok(result.reminders.every((r) => r.threshold === 20));
    assert.equal(result.badge.text, '9d');
    assert.equal(await popup.locator('#environment').inputValue(), 'map-stage');
    assert.equal(await popup.locator('#environment').getAttribute('data-managed'), 'true');
  });

  test('managed redirection off: an old address is not redirected', async () => {
    await waitFor(async () => (await browser.worker.evaluate(() => chrome.declarativeNetRequest.getEnabledRulesets())).length === 0,
      'the redirect rules to be switched off');
    const { page } = await browser.newTab();
    await page.goto('https://portal.caiso.com/tr');
    assert.equal(new URL(page.url()).hostname, 'portal.caiso.com');
  });
});

// End-to-end: the toolbar badge and the expiry reminders in a real Chromium, from the real
// native host's status. Time is driven through the extension's test clock (`clockOverride` in
// storage), never by waiting.
// Run from the repository root: node --test tests/e2e/reminders.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { hostConfig, PINNED_NOW } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

let server;
let host;
let browser;

before(async () => {
  server = await startServer({ hosts: hostsOf(loadCases()) });
  host = hostConfig([
    ['valid-legacy.p12', 'production', 'production'],
    ['near-expiry.p12', 'map-stage', 'map-stage'],
  ]);
  browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost });
  // Let the check made at installation finish, then start from a clean record at a pinned time.
  const worker = browser.worker;
  for (let i = 0; i < 100; i += 1) {
    const { reminderRecord } = await worker.evaluate(() => chrome.storage.local.get('reminderRecord'));
    if (reminderRecord) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await worker.evaluate(async (now) => {
    for (const id of Object.keys(await chrome.notifications.getAll())) await chrome.notifications.clear(id);
    await chrome.storage.local.remove('reminderRecord');
    await chrome.storage.local.set({ clockOverride: now });
  }, PINNED_NOW);
});

after(async () => {
  await browser?.close();
  await server?.close();
  host?.remove();
});

/** Runs the daily check at `when` and returns the badge and the notifications shown so far. */
async function checkAt(when) {
  const worker = browser.worker;
  await worker.evaluate((at) => chrome.storage.local.set({ clockOverride: at }), when);
  const { tabId } = await browser.newTab();
  const popup = await browser.openPopup(tabId);
  const result = await popup.evaluate(() => chrome.runtime.sendMessage({ type: 'check-certificates' }));
  await popup.close();
  const state = await worker.evaluate(async () => ({
    text: await chrome.action.getBadgeText({}),
    color: await chrome.action.getBadgeBackgroundColor({}),
    title: await chrome.action.getTitle({}),
    notifications: Object.keys(await chrome.notifications.getAll()).sort(),
    record: (await chrome.storage.local.get('reminderRecord')).reminderRecord,
  }));
  return { ...state, reminders: result.reminders };
}

describe('badge and reminders', () => {
  test('inside a threshold the badge shows the days left in the severity colour, and one reminder fires', async () => {
    const first = await checkAt(PINNED_NOW);
    assert.equal(first.text, '9d', JSON.stringify(first));
    assert.deepEqual(first.color, [179, 71, 0, 255], 'warning colour');
    assert.match(first.title, /map-stage expires in 9 days/);
    assert.deepEqual(first.notifications, ['renewal:map-stage:14:2026-11-22']);
    assert.match(first.reminders[0].title, /expires in 9 days/);
    // A CAISO page at a current address keeps the certificates' badge.
    const { page, tabId } = await browser.newTab();
    await page.goto('https://cmri.caiso.com/');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await browser.worker.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId), '9d');
    await page.close();
    // The same day again: nothing new.
    const again = await checkAt('2026-11-22T18:00:00Z');
    assert.deepEqual(again.reminders, []);
    assert.deepEqual(again.notifications, first.notifications);
  });

  test('the next threshold fires once, then daily once expired; the record is kept in storage', async () => {
    const seven = await checkAt('2026-11-25T12:00:00Z');
    assert.equal(seven.text, '6d');
    assert.deepEqual(seven.color, [176, 0, 32, 255], 'critical colour');
    assert.deepEqual(seven.reminders.map((r) => r.threshold), [7]);
    assert.deepEqual(seven.record['map-stage'].thresholds.sort((a, b) => a - b), [7, 14, 30]);
    const expired = await checkAt('2026-12-03T09:00:00Z');
    assert.equal(expired.text, '!');
    assert.match(expired.title, /map-stage has expired/);
    assert.deepEqual(expired.reminders.map((r) => r.threshold), [null]);
    const nextDay = await checkAt('2026-12-04T09:00:00Z');
    assert.equal(nextDay.reminders.length, 1, 'once a day once expired');
    assert.ok(nextDay.notifications.includes('renewal:map-stage:expired:2026-12-04'));
  });
});

describe('without the host', () => {
  test('the badge shows a distinct mark', async () => {
    const bare = await launchChromium({ port: server.port });
    try {
      let text = '';
      for (let i = 0; i < 100 && text !== '?'; i += 1) {
        text = await bare.worker.evaluate(() => chrome.action.getBadgeText({}));
        if (text !== '?') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(text, '?');
      assert.match(await bare.worker.evaluate(() => chrome.action.getTitle({})), /caiso-access install/);
    } finally {
      await bare.close();
    }
  });
});

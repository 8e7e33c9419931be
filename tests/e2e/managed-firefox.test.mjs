// End-to-end: settings pushed by Firefox enterprise policy. Firefox on Linux reads
// /etc/firefox/policies/policies.json; an add-on's own policy goes under "3rdparty" →
// "Extensions" → <add-on id> and reaches it as storage.managed. The file is written for this
// run only and removed afterwards (this test runs alone: the policy applies to every Firefox on
// the machine while it exists). The file carries a marker, so one left behind by an interrupted
// run is recognised as ours and replaced. A policies.json without the marker belongs to the
// machine's administrator: it is left alone and the test is skipped (in CI it fails instead).
// Run from the repository root (as root): node --test tests/e2e/managed-firefox.test.mjs

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { hostConfig, PINNED_NOW } from './lib/host.mjs';
import { launchFirefoxDriven } from './lib/marionette.mjs';
import { startServer } from './lib/server.mjs';

const POLICY_DIR = '/etc/firefox/policies';
export const POLICY_FILE = `${POLICY_DIR}/policies.json`;
const ADDON_ID = '{56dfa9e1-54f1-49bb-8118-2c4f0296aded}';
const POLICY = { environment: 'map-stage', thresholds: [45, 20], redirectEnabled: false };

/** Marks the file as this test's (Firefox reads only `policies`). */
export const MARKER = 'caiso_access_e2e';

const ours = (text) => { try { return JSON.parse(text)[MARKER] === true; } catch { return false; } };
const foreignPolicy = existsSync(POLICY_FILE) && !ours(readFileSync(POLICY_FILE, 'utf8'));
if (foreignPolicy && process.env.CI) throw new Error(`${POLICY_FILE} exists and is not this test's: the enterprise-policy test cannot run`);
let server;
let host;
let firefox;

describe('Firefox enterprise policy', { skip: foreignPolicy && `${POLICY_FILE} already exists (not ours)` }, () => {
  before(async () => {
    mkdirSync(POLICY_DIR, { recursive: true });
    writeFileSync(POLICY_FILE, JSON.stringify({ [MARKER]: true, policies: { '3rdparty': { Extensions: { [ADDON_ID]: POLICY } } } }));
    const hosts = hostsOf(loadCases());
    server = await startServer({ hosts });
    host = hostConfig([
      ['valid-legacy.p12', 'production', 'production'],
      ['near-expiry.p12', 'map-stage', 'map-stage'],
    ]);
    firefox = await launchFirefoxDriven({ port: server.port, hosts, caPath: server.caPath, nativeHost: host.nativeHost });
    assert.equal(firefox.addonId, ADDON_ID, 'the policy names the add-on');
    // Let the check made at installation (at the real time) finish, keep the daily alarm from
    // running one in the middle of the tests, then start clean.
    await firefox.open('popup.html');
    await firefox.waitFor(async () => Boolean((await browser.storage.local.get('reminderRecord')).reminderRecord),
      [], 'the first certificate check');
    await firefox.evaluate(() => browser.alarms.clear('certificate-reminders'));
  });

  after(async () => {
    rmSync(POLICY_FILE, { force: true });
    await firefox?.close();
    await server?.close();
    host?.remove();
  });

  test('the add-on reads the policy; the options page shows it as set by the organisation', async () => {
    await firefox.open('options.html');
    await firefox.waitFor(() => document.body.dataset.ready === 'true', [], 'the options page');
    assert.deepEqual(await firefox.evaluate(() => browser.storage.managed.get(null)), POLICY);
    // A local choice cannot override the policy.
    await firefox.evaluate(() => browser.storage.local.set({ environment: 'production', thresholds: [5] }));
    await firefox.open('options.html');
    await firefox.waitFor(() => document.body.dataset.ready === 'true', [], 'the options page');
    const page = await firefox.evaluate(() => ({
      managed: document.body.dataset.managed,
      environment: [document.getElementById('environment').value, document.getElementById('environment').disabled],
      thresholds: [document.getElementById('thresholds').value, document.getElementById('thresholds').disabled],
      redirect: document.getElementById('redirectEnabled').checked,
      note: Boolean(document.querySelector('.managed[data-for="thresholds"]')?.offsetParent),
    }));
    assert.deepEqual(page, {
      managed: 'environment redirectEnabled thresholds',
      environment: ['map-stage', true],
      thresholds: ['45, 20', true],
      redirect: false,
      note: true,
    });
  });

  test('managed thresholds drive the reminders; the managed environment the popup', async () => {
    await firefox.open('popup.html');
    const result = await firefox.evaluate(async (now) => {
      await browser.storage.local.remove('reminderRecord');
      await browser.storage.local.set({ clockOverride: now });
      const answer = await browser.runtime.sendMessage({ type: 'check-certificates' });
      return {
        reminders: answer.reminders.map((r) => [r.label, r.threshold]),
        badge: answer.badge.text,
        record: (await browser.storage.local.get('reminderRecord')).reminderRecord['map-stage'].thresholds,
      };
    }, PINNED_NOW);
    // 9 days left: inside both managed thresholds (45 and 20), so the 20-day reminder; the
    // host's own thresholds (30, 14, ...) would have said 14.
    assert.deepEqual(result.reminders, [['map-stage', 20]]);
    assert.deepEqual([...result.record].sort((a, b) => a - b), [20, 45]);
    assert.equal(result.badge, '9d');
    await firefox.open('popup.html');
    const environment = await firefox.waitFor(() => {
      const select = document.getElementById('environment');
      return select && { value: select.value, managed: select.dataset.managed ?? null, disabled: select.disabled };
    }, [], 'the popup');
    assert.deepEqual(environment, { value: 'map-stage', managed: 'true', disabled: true });
  });

  test('managed redirection off: an old address is not redirected', async () => {
    await firefox.waitFor(async () => (await browser.declarativeNetRequest.getEnabledRulesets()).length === 0,
      [], 'the redirect rules to be switched off');
    const landed = await firefox.navigate('https://portal.caiso.com/tr');
    assert.equal(new URL(landed).hostname, 'portal.caiso.com');
  });
});

// End-to-end: the add-on's own pages in a real Firefox ESR with the real native host registered
// in a throw-away HOME: certificate status, badge, reminders, the renewal guide link, a test call
// against the local CAISO sandbox, the options page, and what happens without the host. Time is
// driven through the extension's test clock (`clockOverride` in storage), never by waiting.
// Run from the repository root: node --test tests/e2e/firefox-extension.test.mjs

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDir, fromRoot } from './lib/cases.mjs';
import { DEMO_CARDS, hostConfig, PINNED_NOW, startSandbox, testPassphrase } from './lib/host.mjs';
import { launchFirefoxDriven } from './lib/marionette.mjs';

const artifacts = ensureDir(fromRoot('target', 'e2e-artifacts'));

/** Reads a card's facts as the Chromium test does: severity, days left, CA family, subject CN. */
const cardFacts = () => [...document.querySelectorAll('.identity')].map((card) => ({
  label: card.dataset.label,
  severity: card.dataset.severity,
  days: card.querySelector('[data-days-left]')?.dataset.daysLeft,
  ca: card.querySelector('[data-ca]')?.dataset.ca,
  cn: card.querySelector('.subject')?.textContent,
  elapsed: Number(card.querySelector('.validity')?.dataset.elapsed),
  guideOpen: card.querySelector('details.renewal-guide')?.open ?? null,
  text: card.innerText,
}));

describe('Firefox with the host registered', () => {
  let host;
  let sandbox;
  let firefox;
  before(async () => {
    host = hostConfig();
    sandbox = await startSandbox(host.dir, ['sibr-clean-bids=aup-once:1']);
    firefox = await launchFirefoxDriven({ nativeHost: host.nativeHost });
  });
  after(async () => {
    await firefox?.close();
    sandbox?.stop();
    host?.remove();
  });

  test('the popup shows every identity the host reports', async () => {
    await firefox.open('popup.html');
    await firefox.waitFor(() => document.getElementById('certificates')?.dataset.source === 'host', [], 'the host status');
    const section = await firefox.evaluate(() => ({ state: document.getElementById('certificates').dataset.state,
      version: document.getElementById('certificates').dataset.hostVersion }));
    assert.equal(section.state, 'ok');
    assert.match(section.version, /^\d+\.\d+\.\d+/);
    const cards = Object.fromEntries((await firefox.evaluate(cardFacts)).map((c) => [c.label, c]));
    for (const [label, severity, days, ca, cn] of DEMO_CARDS) {
      assert.deepEqual([cards[label]?.severity, cards[label]?.days, cards[label]?.ca, cards[label]?.cn],
        [severity, days, ca, cn], label);
    }
    assert.ok(cards.production.elapsed < 10 && cards['map-stage'].elapsed > 95 && cards.old.elapsed === 100);
    assert.equal(cards['map-stage'].guideOpen, true);
    assert.equal(cards.production.guideOpen, false);
    assert.match(cards.cyber.text, /retired Verizon Cybertrust/);
    const html = await firefox.evaluate(() => document.documentElement.outerHTML);
    for (const secret of ['PRIVATE KEY', testPassphrase()]) assert.ok(!html.includes(secret), `the popup holds ${secret}`);
    await firefox.screenshot(join(artifacts, 'firefox-popup-certificates.png'));
  });

  test('a reminder link opens that certificate\'s renewal guide with the focus in it', async () => {
    await firefox.open('popup.html?renewal=production');
    const guide = await firefox.waitFor(() => {
      const details = document.getElementById('renewal-production');
      return details?.open && { focused: details.contains(document.activeElement), tag: document.activeElement?.tagName };
    }, [], 'the production guide to open');
    // The production certificate is fresh, so its guide is closed unless asked for.
    assert.deepEqual(guide, { focused: true, tag: 'BUTTON' });
  });

  test('the badge and the reminders follow the certificates', async () => {
    await firefox.open('popup.html');
    // Headless Firefox has no alert service: a notification is created and closed at once, so
    // the page collects the ids from notifications.onClosed (kept in the DOM, which every
    // script run shares).
    await firefox.evaluate(() => {
      document.body.dataset.notified = '';
      browser.notifications.onClosed.addListener((id) => {
        document.body.dataset.notified = `${document.body.dataset.notified} ${id}`.trim();
      });
    });
    const checkAt = async (when) => {
      const state = await firefox.evaluate(async (at) => {
        document.body.dataset.notified = '';
        await browser.storage.local.set({ clockOverride: at });
        const result = await browser.runtime.sendMessage({ type: 'check-certificates' });
        return {
          reminders: result.reminders,
          text: await browser.action.getBadgeText({}),
          color: await browser.action.getBadgeBackgroundColor({}),
          title: await browser.action.getTitle({}),
          record: (await browser.storage.local.get('reminderRecord')).reminderRecord,
        };
      }, when);
      const ids = await firefox.waitFor((count) => {
        const seen = document.body.dataset.notified.split(' ').filter(Boolean);
        return seen.length >= count && seen;
      }, [state.reminders.length], 'the notifications', 5_000);
      return { ...state, notifications: state.reminders.length ? ids.sort() : [] };
    };
    // Start from a clean record (the check made at installation ran at the real time).
    await firefox.waitFor(async () => Boolean((await browser.storage.local.get('reminderRecord')).reminderRecord),
      [], 'the first certificate check');
    // The daily alarm could run a check of its own in the middle of this test: off for now.
    await firefox.evaluate(async () => {
      await browser.alarms.clear('certificate-reminders');
      await browser.storage.local.remove('reminderRecord');
    });
    const first = await checkAt(PINNED_NOW);
    // One certificate has expired: the distinct mark, in the critical colour.
    assert.equal(first.text, '!', JSON.stringify(first));
    assert.deepEqual(first.color, [176, 0, 32, 255]);
    assert.match(first.title, /old has expired/);
    assert.deepEqual(first.notifications, ['renewal:map-stage:14:2026-11-22', 'renewal:old:expired:2026-11-22']);
    // The same day again: nothing new; the next day: the expired one again, daily.
    assert.deepEqual((await checkAt('2026-11-22T18:00:00Z')).reminders, []);
    const nextDay = await checkAt('2026-11-23T09:00:00Z');
    assert.deepEqual(nextDay.notifications, ['renewal:old:expired:2026-11-23']);
    assert.deepEqual([...nextDay.record['map-stage'].thresholds].sort((a, b) => a - b), [14, 30]);
    await firefox.evaluate(() => browser.storage.local.remove('clockOverride'));
  });

  test('a test call from the popup waits out an AUP fault and succeeds; the options page lists it', async () => {
    await firefox.open('popup.html');
    await firefox.waitFor(() => document.getElementById('api-tests')?.dataset.state === 'ok', [], 'the API test section');
    await firefox.evaluate(() => {
      // Kept in the DOM: each script runs in its own scope, the document is what they share.
      document.body.dataset.seenStages = '';
      new MutationObserver(() => {
        const stage = document.getElementById('call-progress')?.dataset.stage;
        const seen = document.body.dataset.seenStages.split(' ');
        if (stage && seen.at(-1) !== stage) document.body.dataset.seenStages = [...seen, stage].join(' ').trim();
      }).observe(document.getElementById('api-tests'), { attributes: true, subtree: true, childList: true });
      const choose = (id, value) => {
        const select = document.getElementById(id);
        select.value = value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
      };
      choose('call-environment', 'sandbox');
      choose('call-operation', 'sibr/RetrieveCleanBidSet_SIBRv4_AP');
      document.getElementById('run-call').click();
    });
    const result = await firefox.waitFor(() => {
      const el = document.getElementById('call-result');
      return el?.dataset.class && { class: el.dataset.class, text: el.innerText, stages: document.body.dataset.seenStages.split(' ') };
    }, [], 'the call result', 30_000);
    assert.equal(result.class, 'success', result.text);
    assert.match(result.text, /2 attempt\(s\)/);
    assert.ok(result.stages.includes('retrying') && result.stages.includes('waiting'), result.stages.join(' '));
    await firefox.screenshot(join(artifacts, 'firefox-popup-test-call.png'));

    await firefox.open('options.html');
    await firefox.waitFor(() => document.body.dataset.ready === 'true', [], 'the options page');
    const options = await firefox.evaluate(() => ({
      firstClass: document.querySelector('#history-table tbody tr')?.dataset.class,
      history: document.getElementById('history-table').innerText,
      hostVersion: document.getElementById('host-state').dataset.hostVersion,
    }));
    assert.equal(options.firstClass, 'success');
    assert.match(options.history, /RetrieveCleanBidSet_SIBRv4_AP/);
    assert.ok(options.hostVersion);
    // Thresholds typed badly are refused with the reason and nothing is saved.
    await firefox.evaluate(() => {
      const field = document.getElementById('thresholds');
      field.value = '30, x';
      field.dispatchEvent(new Event('change'));
    });
    const error = await firefox.waitFor(() => document.getElementById('thresholds-error').innerText, [], 'the refusal');
    const saved = await firefox.evaluate(async () => (await browser.storage.local.get('thresholds')).thresholds ?? null);
    assert.match(error, /not a whole number/);
    assert.equal(saved, null);
    await firefox.screenshot(join(artifacts, 'firefox-options.png'));
  });
});

describe('Firefox without the host', () => {
  let firefox;
  before(async () => {
    firefox = await launchFirefoxDriven();
  });
  after(async () => firefox?.close());

  test('the popup names the fix and the badge shows the distinct mark', async () => {
    await firefox.open('popup.html');
    const section = await firefox.waitFor(() => {
      const el = document.getElementById('certificates');
      return el?.dataset.state === 'host-error' && { code: el.dataset.code, text: el.innerText };
    }, [], 'the host error');
    assert.equal(section.code, 'host_unreachable');
    assert.match(section.text, /caiso-access install/);
    const badge = await firefox.waitFor(async () => {
      const text = await browser.action.getBadgeText({});
      return text === '?' && { text, title: await browser.action.getTitle({}) };
    }, [], 'the badge mark');
    assert.match(badge.title, /caiso-access install/);
    await firefox.screenshot(join(artifacts, 'firefox-popup-host-missing.png'));
  });
});

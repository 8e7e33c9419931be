// End-to-end: the built extension in a real Chromium, every CAISO host served locally.
// Run from the repository root: node --test tests/e2e/chromium.test.mjs

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDir, fromRoot, hostsOf, loadCases } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { startServer } from './lib/server.mjs';

const cases = loadCases();
const artifacts = ensureDir(fromRoot('target', 'e2e-artifacts'));
const hostOf = (url) => new URL(url).hostname;
const pathOf = (url) => { const u = new URL(url); return u.pathname + u.search; };

// Hosts that only ever appear as a legacy address: no request may reach them while redirection
// is on. A `from` host that is also a current host (same host, new path) is checked by path.
const currentHosts = new Set([...cases.redirects.map((c) => hostOf(c.to)), ...cases.unchanged.map(hostOf)]);
const legacyOnlyHosts = new Set(cases.redirects.map((c) => hostOf(c.from)).filter((h) => !currentHosts.has(h)));
const reachedLegacy = (requests, from) => requests.filter((r) => (legacyOnlyHosts.has(hostOf(from))
  ? r.host === hostOf(from)
  : r.host === hostOf(from) && r.url === pathOf(from)));

// The case the popup tests use: the brief's example when the catalog has it.
const sample = cases.redirects.find((c) => c.from === 'https://portal.caiso.com/tr') ?? cases.redirects[0];

let server;
let browser;
let page; // one tab navigates through all cases, in order
let tabId;

before(async () => {
  server = await startServer({ hosts: hostsOf(cases) });
  browser = await launchChromium({ port: server.port });
  ({ page, tabId } = await browser.newTab());
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Navigates the test tab; returns the final URL and the requests the server got meanwhile. */
async function visit(url) {
  const start = server.requests.length;
  await page.goto(url, { waitUntil: 'load' });
  return { finalUrl: page.url(), requests: server.requests.slice(start) };
}

const badgeText = () => browser.worker.evaluate((id) => chrome.action.getBadgeText({ tabId: id }), tabId);

const redirectSwitch = () => browser.worker.evaluate(async () => ({
  stored: (await chrome.storage.local.get('redirectEnabled')).redirectEnabled,
  rulesets: await chrome.declarativeNetRequest.getEnabledRulesets(),
}));

describe('legacy addresses are redirected before the request leaves the browser', () => {
  for (const { from, to } of cases.redirects) {
    test(`${from} -> ${to}`, async () => {
      const { finalUrl, requests } = await visit(from);
      assert.equal(finalUrl, new URL(to).href, `opening ${from} should land on ${to}`);
      assert.ok(requests.some((r) => r.host === hostOf(to) && r.url === pathOf(to)),
        `the server should have served ${to}; it saw ${JSON.stringify(requests.map((r) => r.host + r.url))}`);
      assert.deepEqual(reachedLegacy(requests, from), [], `the legacy address ${from} must never be contacted`);
    });
  }

  test('no request reached a legacy-only host during the whole run', () => {
    assert.ok(legacyOnlyHosts.size > 0, 'the cases should include legacy-only hosts');
    const hits = server.requests.filter((r) => legacyOnlyHosts.has(r.host));
    assert.deepEqual(hits, [], 'legacy hosts were contacted');
  });
});

describe('current addresses are left alone', () => {
  for (const url of cases.unchanged) {
    test(url, async () => {
      const { finalUrl, requests } = await visit(url);
      assert.equal(finalUrl, new URL(url).href, `${url} should not be redirected`);
      assert.ok(requests.some((r) => r.host === hostOf(url)), `the server should have been asked for ${hostOf(url)}`);
    });
  }
});

describe('popup', () => {
  async function popupFor(url, screenshot) {
    await visit(url);
    const popup = await browser.openPopup(tabId);
    await popup.setViewportSize({ width: 420, height: 640 });
    await popup.screenshot({ path: join(artifacts, screenshot), fullPage: true });
    const status = popup.locator('#tab-status');
    return {
      popup,
      status: await status.getAttribute('data-status'),
      systems: (await status.getAttribute('data-systems') ?? '').split(',').filter(Boolean),
      environment: await status.getAttribute('data-environment'),
    };
  }

  test('describes a tab on a current portal', async () => {
    const { popup, status, systems, environment } = await popupFor('https://cmri.caiso.com/', 'popup-current.png');
    assert.equal(status, 'current', 'https://cmri.caiso.com/ is a current address');
    assert.ok(systems.includes('cmri'), `data-systems should name cmri, got ${systems}`);
    assert.equal(environment, 'production');
    const portals = await popup.locator('#launcher a[data-system]').evaluateAll((as) => as.map((a) => a.dataset.system));
    assert.ok(portals.includes('cmri'), `the launcher should offer CMRI among ${portals}`);
    await popup.close();
  });

  test('describes a tab outside CAISO', async () => {
    const { popup, status } = await popupFor(`http://127.0.0.1:${server.port}/`, 'popup-not-caiso.png');
    assert.equal(status, 'not-caiso');
    await popup.close();
  });

  test('redirection can be turned off; the popup then offers the new address', async () => {
    const control = await browser.openPopup(tabId);
    const toggle = control.locator('#redirect-toggle');
    assert.equal(await toggle.isChecked(), true, 'redirection should be on by default');
    await toggle.uncheck();
    await assert.doesNotReject(waitFor(async () => {
      const s = await redirectSwitch();
      return s.stored === false && !s.rulesets.includes('legacy_redirects');
    }), 'switching the toggle off should store redirectEnabled=false and disable the ruleset');
    await control.close();

    const { finalUrl, requests } = await visit(sample.from);
    assert.equal(finalUrl, new URL(sample.from).href, 'with redirection off the legacy address stays');
    assert.ok(requests.some((r) => r.host === hostOf(sample.from)), 'the server should now see the legacy host');
    await assert.doesNotReject(waitFor(async () => (await badgeText()) === 'OLD'),
      'a tab left on an old CAISO address should carry the OLD badge');

    const popup = await browser.openPopup(tabId);
    await popup.setViewportSize({ width: 420, height: 640 });
    await popup.screenshot({ path: join(artifacts, 'popup-legacy.png'), fullPage: true });
    const status = await popup.locator('#tab-status').getAttribute('data-status');
    assert.ok(['legacy', 'decommissioned'].includes(status), `expected legacy or decommissioned, got ${status}`);
    const go = popup.locator('#go-new-url');
    assert.equal(await go.getAttribute('data-url'), sample.to, 'the popup should offer the redirect target');

    await go.click();
    await page.waitForURL(new URL(sample.to).href, { timeout: 10_000 });
    assert.equal(page.url(), new URL(sample.to).href, 'the button should take the tab to the new address');
    // Back to the window-wide badge: the certificates' state ('?' here: no host registered).
    const windowBadge = () => browser.worker.evaluate(() => chrome.action.getBadgeText({}));
    await assert.doesNotReject(waitFor(async () => (await badgeText()) === (await windowBadge())),
      'the OLD mark should clear once the tab is on the current address');
    assert.equal(await badgeText(), '?');
    await popup.close();
  });

  test('redirection can be turned back on', async () => {
    const control = await browser.openPopup(tabId);
    await control.locator('#redirect-toggle').check();
    await assert.doesNotReject(waitFor(async () => (await redirectSwitch()).rulesets.includes('legacy_redirects')),
      'switching the toggle on should enable the ruleset again');
    await control.close();
    const { finalUrl } = await visit(sample.from);
    assert.equal(finalUrl, new URL(sample.to).href, 'redirection should work again');
  });
});

/** Polls `check` until it returns true (rejects after `ms`). */
async function waitFor(check, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

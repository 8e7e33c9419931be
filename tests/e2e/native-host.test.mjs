// End-to-end: the extension in a real Chromium asks the real native host (registered in the
// test profile) for certificate status over native messaging. Certificates come from the
// openssl-made test PKI; the host's clock is pinned so their dates tell a fixed story.
// Run from the repository root: node --test tests/e2e/native-host.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDir, fromRoot, hostsOf, loadCases } from './lib/cases.mjs';
import { hostBinary, launchChromium } from './lib/chromium.mjs';
import { startDesktopKeyring } from './lib/desktop.mjs';
import { DEMO_CARDS, hostConfig, pki, startSandbox, testPassphrase } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const artifacts = ensureDir(fromRoot('target', 'e2e-artifacts'));

let server;
let host;
let configDir;

before(async () => {
  server = await startServer({ hosts: hostsOf(loadCases()) });
  host = hostConfig();
  configDir = host.dir;
});

after(async () => {
  await server?.close();
  // Every answer the host gave this file's browsers, checked for its folders (answers.mjs).
  const checked = host?.remove();
  assert.ok(checked > 10_000, `the host's answers were recorded (${checked} bytes)`);
});

async function popupCertificates(browser) {
  const { page, tabId } = await browser.newTab();
  await page.goto('https://cmri.caiso.com/');
  const popup = await browser.openPopup(tabId);
  await popup.waitForSelector('#certificates:not([data-state="waiting"])', { timeout: 15_000 });
  return popup;
}

describe('with a machine policy naming a monitoring folder (Prometheus textfile collector)', () => {
  let browser;
  let scratch;
  let policy;
  let folder;
  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'caiso-access-metrics-'));
    policy = join(scratch, 'policy.json');
    folder = join(scratch, 'textfile');
    mkdirSync(folder);
    writeFileSync(policy, JSON.stringify({ metrics_textfile_directory: folder }));
    browser = await launchChromium({ port: server.port,
      nativeHost: { ...host.nativeHost, env: { ...host.nativeHost.env, CAISO_ACCESS_MACHINE_POLICY: policy, USER: 'desk-user' } } });
  });
  after(async () => {
    await browser?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the host the browser starts rewrites the user\'s file at every status, and writes none without the policy', async () => {
    const file = join(folder, 'caiso-access_desk-user.prom');
    const popup = await popupCertificates(browser);
    await popup.waitForSelector('#certificates[data-source="host"]');
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^caiso_access_metrics_written_timestamp_seconds\{user="desk-user",writer="browser_host"\} \d+$/m);
    for (const [label] of DEMO_CARDS) {
      assert.match(text, new RegExp(`^caiso_access_certificate_not_after_timestamp_seconds\\{user="desk-user",identity="${label}",.*\\} \\d+$`, 'm'));
    }
    // The extension's daily check (the alarm's, here asked for at once) writes it too.
    unlinkSync(file);
    const daily = await popup.evaluate(() => chrome.runtime.sendMessage({ type: 'check-certificates' }));
    assert.ok(daily && !daily.error, JSON.stringify(daily));
    assert.match(readFileSync(file, 'utf8'), /writer="browser_host"/);
    // The policy read at each status: emptied, the next popup's status writes nothing.
    unlinkSync(file);
    writeFileSync(policy, '{}');
    const again = await popupCertificates(browser);
    await again.waitForSelector('#certificates[data-source="host"]');
    // The extension's daily check asks the host too.
    const checked = await again.evaluate(() => chrome.runtime.sendMessage({ type: 'check-certificates' }));
    assert.ok(checked, 'the daily check ran');
    assert.deepEqual(readdirSync(folder), []);
  });
});

describe('with the host registered', () => {
  let browser;
  before(async () => {
    browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost });
  });
  after(async () => browser?.close());

  test('the popup shows every identity the host reports', async () => {
    const popup = await popupCertificates(browser);
    const section = popup.locator('#certificates');
    assert.equal(await section.getAttribute('data-state'), 'ok', await section.innerText());
    const hostVersion = execFileSync(hostBinary, ['--version']).toString().trim().split(' ')[1];
    assert.equal(await section.getAttribute('data-host-version'), hostVersion);
    const card = (label) => popup.locator(`.identity[data-label="${label}"]`);
    for (const [label, severity, days, ca, cn] of DEMO_CARDS) {
      const c = card(label);
      assert.equal(await c.getAttribute('data-severity'), severity, label);
      assert.equal(await c.locator('[data-days-left]').getAttribute('data-days-left'), days, label);
      assert.equal(await c.locator('[data-ca]').getAttribute('data-ca'), ca, label);
      // textContent: a certificate that is fine shows it when its one line is opened.
      assert.equal(await c.locator('.subject').textContent(), cn, label);
    }
    // The validity bar: where today falls between the first and the last valid day.
    const elapsed = async (label) => Number(await card(label).locator('.validity').getAttribute('data-elapsed'));
    assert.ok((await elapsed('production')) < 10, 'three weeks into a year');
    assert.ok((await elapsed('map-stage')) > 95, 'nine days before the end of a year');
    assert.equal(await elapsed('old'), 100);
    // The renewal guide is open where it matters, near expiry; not for a fresh one, nor for an
    // expired one, whose problem line says what to do (its guide opens with a click).
    assert.equal(await card('map-stage').locator('details.renewal-guide').getAttribute('open'), '');
    assert.equal(await card('production').locator('details.renewal-guide').getAttribute('open'), null);
    assert.equal(await card('old').locator('details.renewal-guide').getAttribute('open'), null);
    assert.match(await card('old').locator(':scope > .problem').first().innerText(), /User Access Administrator/);
    for (const [label, file] of [['production', 'valid'], ['map-stage', 'near-expiry'], ['old', 'expired']]) {
      await card(label).screenshot({ path: join(artifacts, `popup-card-${file}.png`) });
    }
    assert.match(await card('old').innerText(), /Expired on 2026-10-01/);
    assert.match(await card('cyber').innerText(), /retired Verizon Cybertrust/);
    // Nothing secret crossed over.
    const html = await popup.content();
    for (const secret of ['PRIVATE KEY', testPassphrase()]) {
      assert.ok(!html.includes(secret), `the popup holds ${secret}`);
    }
    await popup.screenshot({ path: join(artifacts, 'popup-certificates.png'), fullPage: true });
  });

  test('the renewal checklist records steps from the popup and shows the collect-by date', async () => {
    const { tabId } = await browser.newTab();
    const popup = await browser.openPopup(tabId);
    await popup.waitForSelector('#certificates[data-source="host"]');
    const guide = popup.locator('#renewal-old');
    await guide.locator('summary').click();
    await guide.locator('button[data-action="approved"]').click();
    await popup.waitForSelector('#renewal-old li[data-step="approved"][data-state="done"]');
    // Registering needs the transaction ID: an empty one is refused in place.
    await popup.locator('#renewal-old button[data-action="registered"]').click();
    assert.match(await popup.locator('#renewal-old .renewal-error').innerText(), /transaction ID/);
    await popup.fill('#renewal-old .transaction-id', 'TX-POPUP-7');
    await popup.locator('#renewal-old button[data-action="registered"]').click();
    await popup.waitForSelector('#renewal-old .collect-by');
    assert.equal(await popup.locator('#renewal-old .collect-by').getAttribute('data-collect-by'), '2026-11-24');
    assert.match(await popup.locator('#renewal-old .collect-by').innerText(), /TX-POPUP-7/);
    assert.equal(await popup.locator('#renewal-old li[data-step="installed"]').getAttribute('data-state'), 'next');
    await popup.locator('#renewal-old').screenshot({ path: join(artifacts, 'popup-renewal-guide.png') });
    // Opened again, the popup shows the saved status from cache at once, then the host's.
    const again = await browser.openPopup(tabId);
    await again.waitForSelector('#certificates[data-source]');
    const shownMs = Number(await again.locator('body').getAttribute('data-status-shown-ms'));
    const afterScript = Number(await again.locator('body').getAttribute('data-status-after-script-ms'));
    console.log(`popup: certificate status shown from cache ${shownMs} ms after navigation start, ${afterScript} ms after the popup's script started`);
    assert.equal(await again.locator('#certificates').getAttribute('data-source') !== null, true);
    assert.ok(Number.isFinite(shownMs) && Number.isFinite(afterScript));
  });

  test('the popup draws the last certificate status before its module loads, from that day only', async () => {
    const { tabId } = await browser.newTab();
    const first = await browser.openPopup(tabId);
    await first.waitForSelector('#certificates[data-source="host"]');
    const kept = JSON.parse(await first.evaluate(() => localStorage.getItem('caiso-access:popup-certificates')));
    assert.equal(kept.day, await first.evaluate(() => new Date().toDateString()));
    assert.match(kept.html, /^<section[^>]* id="certificates"/);
    assert.match(kept.html, /data-label="production"/);
    const firstPaint = async () => {
      const page = await browser.openPopup(tabId);
      await page.waitForSelector('#certificates[data-source="host"]');
      const body = await page.evaluate(() => ({ ...document.body.dataset }));
      const stored = await page.evaluate(() => localStorage.getItem('caiso-access:popup-certificates'));
      await page.close();
      return { body, stored };
    };
    // Opened again: the snapshot was on screen before the popup's module ran.
    const again = await firstPaint();
    assert.equal(again.body.firstPaint, 'snapshot');
    assert.ok(Number(again.body.statusShownMs) >= Number(again.body.firstScriptMs));
    // A snapshot of another day is not shown (its days left are that day's); one that is not
    // JSON is dropped; either way the popup draws itself as before and keeps a new one.
    for (const stale of [JSON.stringify({ ...kept, day: 'Mon Jan 01 2001' }), '{not json']) {
      await first.evaluate((value) => localStorage.setItem('caiso-access:popup-certificates', value), stale);
      const next = await firstPaint();
      assert.equal(next.body.firstPaint, undefined, stale);
      assert.equal(JSON.parse(next.stored).day, kept.day, stale);
    }
    // Storage that cannot be read at all (switched off): no snapshot, and the popup still draws
    // itself from the host.
    const blocked = await browser.context.newPage();
    await blocked.addInitScript(() => Object.defineProperty(window, 'localStorage', {
      get() { throw new DOMException('storage is off', 'SecurityError'); },
    }));
    await blocked.goto(`chrome-extension://${browser.extensionId}/popup.html?tab=${tabId}`);
    await blocked.waitForSelector('#certificates[data-source="host"]');
    assert.equal(await blocked.evaluate(() => document.body.dataset.firstPaint), undefined);
    await blocked.close();
    await first.close();
  });

  test('a renewal step from the extension reaches the host and persists', async () => {
    const { tabId } = await browser.newTab();
    const popup = await browser.openPopup(tabId);
    const send = (message) => popup.evaluate((m) => chrome.runtime.sendMessage(m), message);
    const answer = await send({ type: 'host-request', command: 'renewal',
      args: { identity: 'map-stage', action: { step: 'registered', transaction_id: 'TX-E2E-1', date: '2026-11-20' } } });
    assert.equal(answer.ok?.renewal?.stage, 'registered', JSON.stringify(answer));
    assert.equal(answer.ok.renewal.collect_by, '2026-11-24');
    const saved = JSON.parse(readFileSync(join(configDir, 'renewal.json'), 'utf8'));
    assert.equal(saved.identities['map-stage'].transaction_id, 'TX-E2E-1');
    // Anything but an identifier is refused by the host; other commands do not pass the worker.
    const refused = await send({ type: 'host-request', command: 'status', args: { config: '/etc/passwd' } });
    assert.equal(refused.error?.code, 'bad_arguments');
    const blocked = await send({ type: 'host-request', command: 'hello', args: {} });
    assert.equal(blocked, undefined);
  });
});

describe('a one-click test call against the local CAISO sandbox', () => {
  let browser;
  let sandbox;
  before(async () => {
    sandbox = await startSandbox(configDir, ['sibr-clean-bids=aup-once:1', 'cmri-market-awards-docattach=aup-once:1']);
    browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost });
  });
  after(async () => {
    await browser?.close();
    sandbox?.stop();
  });

  test('the call is signed, waits out an AUP fault with progress, and succeeds', async () => {
    const { tabId } = await browser.newTab();
    const popup = await browser.openPopup(tabId);
    await popup.evaluate(() => {
      globalThis.hostEvents = [];
      chrome.runtime.onMessage.addListener((m) => {
        if (m?.type === 'host-event') globalThis.hostEvents.push(m.event.stage);
      });
    });
    const send = (message) => popup.evaluate((m) => chrome.runtime.sendMessage(m), message);
    const offer = await send({ type: 'host-request', command: 'tests', args: {} });
    assert.ok(offer.ok?.environments.includes('sandbox'), JSON.stringify(offer));
    const args = { identity: 'production', system: 'sibr', service: 'RetrieveCleanBidSet_SIBRv4_AP', environment: 'sandbox' };
    const answer = await send({ type: 'host-request', command: 'call', args });
    assert.equal(answer.ok?.class, 'success', JSON.stringify(answer));
    assert.equal(answer.ok.attempts, 2);
    assert.ok(answer.ok.waited_ms >= 1000);
    const stages = await popup.evaluate(() => globalThis.hostEvents);
    assert.deepEqual(stages, ['queued', 'running', 'retrying', 'waiting', 'running']);
    // The options page lists the call in its history and shows the host's version.
    const options = await browser.context.newPage();
    await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
    await options.waitForSelector('body[data-ready="true"]');
    assert.equal(await options.locator('#history-table tbody tr').first().getAttribute('data-class'), 'success');
    assert.match(await options.locator('#history-table').innerText(), /RetrieveCleanBidSet_SIBRv4_AP/);
    assert.ok(await options.locator('#host-state').getAttribute('data-host-version'));
    assert.equal(await options.locator('body').getAttribute('data-managed'), '');
    // Thresholds typed badly are refused with the reason and nothing is saved.
    await options.fill('#thresholds', '30, x');
    await options.locator('#thresholds').dispatchEvent('change');
    assert.match(await options.locator('#thresholds-error').innerText(), /not a whole number/);
    assert.equal((await browser.worker.evaluate(() => chrome.storage.local.get('thresholds'))).thresholds, undefined);
    await options.fill('#thresholds', '60 10 20');
    await options.locator('#thresholds').dispatchEvent('change');
    await options.waitForFunction(() => document.getElementById('saved').textContent.includes('60, 20, 10'));
    assert.deepEqual((await browser.worker.evaluate(() => chrome.storage.local.get('thresholds'))).thresholds, [60, 20, 10]);
    // The SC IDs, per certificate through the host: a bad one is refused and changes nothing.
    const scRow = options.locator('#sc-ids-table tr[data-label="map-stage"]');
    await scRow.waitFor();
    assert.equal(await scRow.locator('.sc-id').inputValue(), 'DEMO');
    await scRow.locator('.sc-id').fill('no/path');
    await scRow.locator('.save-sc-id').click();
    await options.waitForFunction(() => /letters and digits/.test(document.getElementById('sc-ids-error').textContent));
    assert.equal((await send({ type: 'host-request', command: 'tests', args: {} })).ok.identities.find((i) => i.label === 'map-stage').parameters.sc_id, 'DEMO');
    await scRow.locator('.sc-id').fill('xmp2');
    await scRow.locator('.save-sc-id').click();
    await options.waitForFunction(() => document.getElementById('saved').textContent.includes('SC ID XMP2'));
    assert.equal((await send({ type: 'host-request', command: 'tests', args: {} })).ok.identities.find((i) => i.label === 'map-stage').parameters.sc_id, 'XMP2');
    await options.screenshot({ path: join(artifacts, 'options.png'), fullPage: true });
    await options.close();
    // The same from the popup's API test section: progress (the AUP wait) and the result.
    const screen = await browser.openPopup(tabId);
    await screen.waitForSelector('#api-tests[data-state="ok"]');
    await screen.evaluate(() => {
      globalThis.seenStages = [];
      globalThis.seenTexts = [];
      new MutationObserver(() => {
        const line = document.getElementById('call-progress');
        const stage = line?.dataset.stage;
        if (stage && globalThis.seenStages.at(-1) !== stage) {
          globalThis.seenStages.push(stage);
          globalThis.seenTexts.push(line.textContent);
        }
      }).observe(document.getElementById('api-tests'), { attributes: true, subtree: true, childList: true });
    });
    await screen.selectOption('#call-environment', 'sandbox');
    await screen.selectOption('#call-operation', 'cmri/RetrieveMarketAwards_CMRIv4_DocAttach_AP');
    // The SC ID is shown and edited through the host: a bad one is refused with the reason and
    // changes nothing; an empty one clears it; a good one is kept in upper case.
    assert.equal(await screen.inputValue('#call-sc-id'), 'DEMO');
    assert.match(await screen.locator('#call-evidence').innerText(), /Request shape (verified|inferred)/);
    await screen.fill('#call-sc-id', 'SC 1');
    await screen.click('#save-sc-id');
    await screen.waitForFunction(() => /letters and digits/.test(document.getElementById('sc-id-problem').textContent));
    assert.equal((await send({ type: 'host-request', command: 'tests', args: {} })).ok.identities[0].parameters.sc_id, 'DEMO');
    await screen.fill('#call-sc-id', '');
    await screen.click('#save-sc-id');
    await screen.waitForFunction(() => document.getElementById('sc-id-problem').textContent === 'No SC ID set.');
    assert.equal((await send({ type: 'host-request', command: 'tests', args: {} })).ok.identities[0].parameters?.sc_id, undefined);
    await screen.fill('#call-sc-id', 'demo');
    await screen.click('#save-sc-id');
    await screen.waitForFunction(() => /now query SC ID DEMO/.test(document.getElementById('sc-id-problem').textContent));
    assert.equal(await screen.inputValue('#call-sc-id'), 'DEMO');
    assert.equal(await screen.inputValue('#call-operation'), 'cmri/RetrieveMarketAwards_CMRIv4_DocAttach_AP');
    assert.equal(await screen.inputValue('#call-environment'), 'sandbox');
    await screen.click('#run-call');
    await screen.waitForSelector('#call-result[data-class]', { timeout: 30_000 });
    assert.equal(await screen.locator('#call-result').getAttribute('data-class'), 'success');
    // The ladder: every rung proven, the records counted.
    const rungs = await screen.locator('#call-result .ladder li').evaluateAll((items) => items.map((li) => li.dataset.state));
    assert.deepEqual(rungs, ['passed', 'passed', 'passed', 'passed', 'passed', 'passed']);
    assert.match(await screen.locator('#call-result .ladder').innerText(), /data: 3 MarketResultRecord records/);
    // "Save exchange": the requests sent and the answers received, nothing secret.
    const [download] = await Promise.all([screen.waitForEvent('download'), screen.click('#save-exchange')]);
    const saved = readFileSync(await download.path(), 'utf8');
    assert.match(saved, /<RequestMarketAwards xmlns="http:\/\/www\.caiso\.com\/soa\/RequestMarketAwards_v4\.xsd#">/);
    assert.match(saved, /# attempt 2/);
    assert.match(saved, /ISOAttachment/);
    assert.doesNotMatch(saved, /PRIVATE KEY/);
    assert.ok(!saved.includes(testPassphrase()), 'no passphrase');
    assert.match(await screen.locator('#call-result').innerText(), /2 attempt\(s\)/);
    const stagesSeen = await screen.evaluate(() => globalThis.seenStages);
    assert.ok(stagesSeen.includes('retrying') && stagesSeen.includes('waiting'), stagesSeen.join(' '));
    const texts = await screen.evaluate(() => globalThis.seenTexts);
    assert.ok(texts.some((t) => /rate limit\): retrying at \d/.test(t)), texts.join(' | '));
    await screen.locator('#api-tests').screenshot({ path: join(artifacts, 'popup-test-call.png') });
    // An address instead of a service name is refused by the host before any network use.
    const refused = await send({ type: 'host-request', command: 'call', args: { ...args, service: 'https://evil.example/x' } });
    assert.equal(refused.error?.code, 'unknown_operation');
  });
});

describe("a certificate whose key the browser's host cannot open", () => {
  let browser;
  let own;
  before(async () => {
    own = hostConfig([['valid-legacy.p12', 'production', 'production']]);
    // Imported with a variable only this shell has: the host the browser starts does not see it.
    execFileSync(hostBinary, ['import', pki('near-expiry.p12'), '--label', 'elsewhere',
      '--passphrase-env', 'CAISO_ELSEWHERE_PASS'], {
      env: { ...process.env, CAISO_ACCESS_CONFIG_DIR: own.dir, CAISO_ELSEWHERE_PASS: testPassphrase() },
      stdio: 'pipe',
    });
    browser = await launchChromium({ port: server.port, nativeHost: own.nativeHost });
  });
  after(async () => {
    await browser?.close();
    own?.remove();
  });

  test('the test-call control says why and gives the fix before any click', async () => {
    const { tabId } = await browser.newTab();
    const popup = await browser.openPopup(tabId);
    await popup.waitForSelector('#api-tests[data-state="ok"]');
    await popup.selectOption('#call-identity', 'production');
    assert.equal(await popup.locator('#call-key').getAttribute('data-available'), 'true');
    assert.ok(await popup.locator('#run-call').isEnabled());
    await popup.selectOption('#call-identity', 'elsewhere');
    assert.equal(await popup.locator('#call-key').getAttribute('data-available'), 'false');
    assert.ok(await popup.locator('#run-call').isDisabled());
    const note = await popup.locator('#call-key').innerText();
    assert.match(note, /CAISO_ELSEWHERE_PASS, not set in this process/);
    assert.match(note, /Set CAISO_ELSEWHERE_PASS where the browser is started/);
    await popup.locator('#api-tests').screenshot({ path: join(artifacts, 'popup-key-unavailable.png') });
    // The certificate's own card says it too; the card of a key that opens does not.
    assert.match(await popup.locator('#certificates article[data-label="elsewhere"] .key-access').innerText(),
      /cannot open this key here: .*CAISO_ELSEWHERE_PASS, not set in this process/);
    assert.equal(await popup.locator('#certificates article[data-label="production"] .key-access').count(), 0);
    await popup.selectOption('#call-identity', 'production');
    assert.ok(await popup.locator('#run-call').isEnabled(), 'back to a certificate that opens');
  });
});

describe('a certificate whose passphrase the desktop keyring keeps (Linux Secret Service)', () => {
  let browser;
  let own;
  let desktop;
  before(async () => {
    desktop = await startDesktopKeyring();
    own = hostConfig([['valid-legacy.p12', 'production', 'production']]);
    // Typed at import, in the desktop session: it goes to the Secret Service.
    execFileSync(hostBinary, ['import', pki('renewed.p12'), '--label', 'desktop', '--passphrase-stdin'], {
      env: { ...process.env, ...desktop.env, CAISO_ACCESS_CONFIG_DIR: own.dir, CAISO_ACCESS_TEST_NOW: own.nativeHost.now },
      input: `${testPassphrase()}\n`,
      stdio: 'pipe',
    });
    assert.equal(desktop.lookup('desktop'), testPassphrase());
    // The browser runs in that session; its host has no passphrase variable for this one.
    browser = await launchChromium({ port: server.port, nativeHost: { ...own.nativeHost, env: { ...own.nativeHost.env, ...desktop.env } } });
  });
  after(async () => {
    await browser?.close();
    own?.remove();
    desktop?.stop();
  });

  test("the popup says the browser's host opens the key from the keyring", async () => {
    const { tabId } = await browser.newTab();
    const popup = await browser.openPopup(tabId);
    await popup.waitForSelector('#api-tests[data-state="ok"]');
    await popup.selectOption('#call-identity', 'desktop');
    assert.equal(await popup.locator('#call-key').getAttribute('data-available'), 'true');
    assert.ok(await popup.locator('#run-call').isEnabled());
    assert.equal(await popup.locator('#certificates article[data-label="desktop"] .key-access').count(), 0);
    const status = await popup.evaluate(() => chrome.runtime.sendMessage({ type: 'host-request', command: 'status', args: {} }));
    const desktopStatus = status.ok.identities.find((i) => i.label === 'desktop');
    assert.equal(desktopStatus.key_access.source, 'keyring', JSON.stringify(desktopStatus.key_access));
    assert.match(desktopStatus.key_access.detail, /desktop keyring \(Secret Service\)/);
  });
});

// The host missing or too old: the popup says which, and the fix.
const hostProblems = [
  {
    name: 'without the host',
    test: 'the popup says the host is missing and how to fix it',
    nativeHost: () => undefined,
    code: 'host_unreachable',
    says: [/caiso-access install/],
    screenshot: 'popup-host-missing.png',
  },
  {
    name: 'with an older host installed',
    test: 'the popup says the versions differ and how to fix it',
    nativeHost: () => ({ ...host.nativeHost, program: fromRoot('tests', 'e2e', 'lib', 'older-host.mjs') }),
    code: 'host_version',
    says: [/different versions/, /host 0\.0\.9 speaks protocol 0-0/, /caiso-access install/],
    screenshot: 'popup-host-older.png',
  },
];

for (const problem of hostProblems) {
  describe(problem.name, () => {
    let browser;
    before(async () => {
      browser = await launchChromium({ port: server.port, nativeHost: problem.nativeHost() });
    });
    after(async () => browser?.close());

    test(problem.test, async () => {
      const popup = await popupCertificates(browser);
      const section = popup.locator('#certificates');
      assert.equal(await section.getAttribute('data-state'), 'host-error');
      assert.equal(await section.getAttribute('data-code'), problem.code);
      for (const words of problem.says) assert.match(await section.innerText(), words);
      await popup.screenshot({ path: join(artifacts, problem.screenshot), fullPage: true });
    });
  });
}

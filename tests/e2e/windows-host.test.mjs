// End-to-end on Windows terms: the extension in a real Chromium talks to the Windows build of
// the host, run under Wine, whose certificates are in the Windows certificate store as CAISO's
// enrolment leaves them (each key in a CryptoAPI container of its own, not exportable), plus one
// whose key a CNG provider keeps. The popup offers them; the one whose key cannot be opened here
// says why; "use this certificate" makes another an identity through the host, its status
// shows at once, and a signed test call with its key (mutual TLS and WS-Security, the key used
// in place) goes through the local CAISO sandbox.
//
// Run by `cargo xtask test` (the Windows job), which prepares a fresh Wine prefix and names it:
// CAISO_E2E_WINE_PREFIX (the prefix, its wineserver running) and CAISO_E2E_STORE_FIXTURE
// (store-fixture.exe, which provisions the store).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkRecord, quoted, recordingProgram } from './lib/answers.mjs';
import { ensureDir, fromRoot, hostsOf, loadCases } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { DEMO_SC_ID, PINNED_NOW, pki, startSandbox } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const artifacts = ensureDir(fromRoot('target', 'e2e-artifacts'));
const exe = fromRoot('target', 'x86_64-pc-windows-gnu', 'release', 'caiso-access.exe');
const prefix = process.env.CAISO_E2E_WINE_PREFIX;
const storeFixture = process.env.CAISO_E2E_STORE_FIXTURE;

/** A Linux path as the Windows programs see it (Wine's Z: drive is the root). */
const windowsPath = (path) => `Z:${path.replaceAll('/', '\\')}`;

/** The store identities provisioned: [fixture, common name, days left at PINNED_NOW]. */
const IN_STORE = [
  ['valid', 'janedoex1234', 343],
  ['near-expiry', 'johnroex5678', 9],
];

/** The certificate whose key the store says a CNG provider keeps. */
const CNG_NAME = 'samuelx4321';

let server;
let sandbox;
let browser;
let dir;
let bin;
let records;
let wineEnv;

const wine = (program, args) =>
  execFileSync('wine', [program, ...args], { env: wineEnv, stdio: 'pipe' }).toString();

before(async () => {
  assert.ok(prefix && storeFixture, 'CAISO_E2E_WINE_PREFIX and CAISO_E2E_STORE_FIXTURE name the Wine prefix and store-fixture.exe: run this with `cargo xtask test` or `cargo xtask windows`');
  assert.ok(existsSync(exe), `${exe} is missing: run cargo xtask build`);
  dir = mkdtempSync(join(tmpdir(), 'caiso-access-windows-host-'));
  bin = mkdtempSync(join(tmpdir(), 'caiso-access-windows-bin-'));
  records = mkdtempSync(join(tmpdir(), 'caiso-access-windows-answers-'));
  wineEnv = {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    CAISO_ACCESS_CONFIG_DIR: windowsPath(dir),
    CAISO_ACCESS_TEST_NOW: PINNED_NOW,
  };
  // The issuing CA into CA, each certificate into My with its key in a container of its own.
  wine(storeFixture, ['ca', windowsPath(pki('store/entrust-issuing.der'))]);
  for (const [fixture] of IN_STORE) {
    wine(storeFixture, ['add', windowsPath(pki(`store/${fixture}.pvk`)), windowsPath(pki(`store/${fixture}.der`)),
      `caiso-access-e2e-${fixture}-${process.pid}`]);
  }
  // And one whose key a CNG key storage provider keeps (a smart card's, say), which Wine's NCrypt
  // cannot open: adopting it must fail with the reason, and change nothing.
  wine(storeFixture, ['cng', windowsPath(pki('store/cybertrust.der')), `caiso-access-e2e-cng-${process.pid}`]);
  const provisioned = JSON.parse(wine(exe, ['store', '--json'])).certificates.map((c) => c.common_name);
  assert.deepEqual(provisioned.sort(), [...IN_STORE.map(([, name]) => name), CNG_NAME].sort(), 'provisioned in the store');
  server = await startServer({ hosts: hostsOf(loadCases()) });
  sandbox = await startSandbox(dir, [], (address) =>
    wine(exe, ['sandbox', address, '--ca', windowsPath(pki('server-root.pem'))]));
  // The browser starts the Windows host through Wine (with the prefix and the host's
  // configuration folder in Windows form), and what it writes is recorded (answers.mjs).
  const underWine = join(bin, 'caiso-access-under-wine');
  // HOME and TMPDIR as for the provisioning above: the browser gives its children its own, and
  // Wine would then start a second wineserver for the prefix, which does not see the store
  // entries the first one holds.
  const exports = Object.entries({ ...wineEnv, HOME: process.env.HOME ?? tmpdir(), TMPDIR: tmpdir() })
    .filter(([key]) => /^(WINE|CAISO_ACCESS_|HOME$|TMPDIR$)/.test(key))
    .map(([key, value]) => `export ${key}=${quoted(value)}`);
  writeFileSync(underWine, ['#!/bin/bash', ...exports, `exec wine ${quoted(exe)} "$@"`, ''].join('\n'));
  chmodSync(underWine, 0o755);
  browser = await launchChromium({
    port: server.port,
    nativeHost: { configDir: dir, now: PINNED_NOW, program: recordingProgram(bin, underWine, records) },
  });
});

after(async () => {
  await browser?.close();
  sandbox?.stop();
  await server?.close();
  try {
    // No folder of this machine, in Linux or Windows form, in anything the host told the browser.
    const checked = records ? checkRecord(records, [dir, windowsPath(dir), pki(''), windowsPath(pki(''))]) : 0;
    assert.ok(checked > 1000, `the host's answers were recorded (${checked} bytes)`);
  } finally {
    for (const folder of [dir, bin, records]) if (folder) rmSync(folder, { recursive: true, force: true });
  }
});

test('the popup offers the store certificates, says why one cannot be used, adopts one, and its key signs a test call in place', async () => {
  const { tabId } = await browser.newTab();
  const popup = await browser.openPopup(tabId);
  const send = (message) => popup.evaluate((m) => chrome.runtime.sendMessage(m), message);
  await popup.waitForSelector('#certificates[data-source="host"][data-state="ok"]', { timeout: 60_000 });
  assert.match(await popup.locator('#no-identities').innerText(), /Windows certificate store/);
  await popup.waitForSelector('#api-tests[data-state="no-identity"]', { timeout: 30_000 });
  assert.match(await popup.locator('#api-tests').innerText(), /on Windows one from the certificate store/);
  // What the extension gets of the store: names, dates and thumbprints, never key material.
  const listed = await send({ type: 'host-request', command: 'store_certificates', args: {} });
  assert.equal(listed.ok?.certificates.length, IN_STORE.length + 1, JSON.stringify(listed));
  assert.doesNotMatch(JSON.stringify(listed), /PRIVATE KEY|-----BEGIN|\.pvk|caiso-access-e2e-/);
  // Offered, with what the store holds; no identity yet.
  const offer = popup.locator('#store-certificates');
  await offer.waitFor({ timeout: 30_000 });
  for (const [, name, days] of IN_STORE) {
    const row = offer.locator(`li[data-common-name="${name}"]`);
    assert.equal(await row.count(), 1, await offer.innerText());
    assert.equal(await row.getAttribute('data-days-left'), String(days));
    assert.match(await row.innerText(), /Entrust/);
    assert.ok(await row.locator('button.adopt').isEnabled());
  }
  await popup.screenshot({ path: join(artifacts, 'popup-windows-store.png'), fullPage: true });
  // Anything but a thumbprint of the store is refused, and changes nothing.
  for (const thumbprint of ['C:\\Users\\x\\key.pfx', '00'.repeat(20)]) {
    const refused = await send({ type: 'host-request', command: 'adopt', args: { thumbprint } });
    assert.ok(refused.error, JSON.stringify(refused));
  }
  // A key Windows keeps elsewhere that cannot be opened here: the popup says which and why.
  await offer.locator(`li[data-common-name="${CNG_NAME}"] button.adopt`).click();
  await popup.waitForFunction(() => document.getElementById('store-problem')?.textContent !== '');
  assert.match(await popup.locator('#store-problem').innerText(),
    /opening the key of Microsoft Software Key Storage Provider \(CNG\) failed/);
  assert.ok(await offer.locator(`li[data-common-name="${CNG_NAME}"] button.adopt`).isEnabled(), 'can be tried again');
  assert.match(await popup.locator('#no-identities').innerText(), /Windows certificate store/, 'nothing adopted');
  // "Use this certificate": the card appears at once, and the offer no longer lists it.
  const [, name] = IN_STORE[0];
  await offer.locator(`li[data-common-name="${name}"] button.adopt`).click();
  const card = popup.locator(`#certificates article[data-label="${name}"]`);
  await card.waitFor({ timeout: 30_000 });
  await popup.waitForFunction((n) => !document.querySelector(`#store-certificates li[data-common-name="${n}"]`), name);
  assert.equal(await popup.locator(`#store-certificates li[data-common-name="${IN_STORE[1][1]}"]`).count(), 1);
  assert.equal(await card.locator('.key-access').count(), 0, 'the key opens in place');
  await popup.screenshot({ path: join(artifacts, 'popup-windows-adopted.png'), fullPage: true });
  // The badge's view (the background's status) has the new identity too.
  const status = await send({ type: 'host-status' });
  const adopted = status.ok.report.identities.find((i) => i.label === name);
  assert.equal(adopted?.key_access?.available, true, JSON.stringify(adopted));
  // A signed test call with the store key: mutual TLS and WS-Security through the sandbox, for
  // the SC ID the sandbox entitles its certificates to (set through the host, as the options
  // page does).
  const scId = await send({ type: 'host-request', command: 'call_parameter', args: { identity: name, parameter: 'sc_id', value: DEMO_SC_ID } });
  assert.ok(scId.ok, JSON.stringify(scId));
  const answer = await send({
    type: 'host-request',
    command: 'call',
    args: { identity: name, system: 'sibr', service: 'RetrieveCleanBidSet_SIBRv4_AP', environment: 'sandbox' },
  });
  assert.equal(answer.ok?.class, 'success', JSON.stringify(answer));
  assert.equal(answer.ok.signature, 'rsa-sha1');
  const passed = answer.ok.ladder.filter((r) => r.state === 'passed').map((r) => r.rung);
  for (const rung of ['client_certificate', 'signature', 'data']) assert.ok(passed.includes(rung), JSON.stringify(answer.ok.ladder));
});

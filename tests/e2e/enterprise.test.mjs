// End-to-end: the roll-out kit as IT uses it. A real Chromium with a fresh profile and only a
// machine policy (no --load-extension, no developer mode) installs the extension from a local
// update server serving the kit (`cargo xtask enterprise`: a CRX3 signed with the kit's key,
// updates.xml, the force-install policy), says it was installed by the administrator, and its
// popup shows the certificates of the real host registered for the kit's extension id with
// `caiso-access install --extension-id`.
// Run by `cargo xtask test`, alone (the policy file is machine-wide), after it has built the kit
// into CAISO_E2E_KIT for a base URL on 127.0.0.1:CAISO_E2E_KIT_PORT.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { DEMO_CARDS, hostConfig } from './lib/host.mjs';
import { serveKit } from './lib/kit-server.mjs';
import { startServer } from './lib/server.mjs';

const POLICY_DIR = '/etc/chromium/policies/managed';
const POLICY_FILE = `${POLICY_DIR}/caiso-access-e2e.json`;
const kit = process.env.CAISO_E2E_KIT;
const port = Number(process.env.CAISO_E2E_KIT_PORT);

let updateServer;
let caiso;
let host;
let browser;

before(async () => {
  assert.ok(kit && port, 'CAISO_E2E_KIT and CAISO_E2E_KIT_PORT name the kit (cargo xtask test sets them)');
  // The kit's folder, as IT's web server serves it.
  updateServer = await serveKit(kit, port);
  caiso = await startServer({ hosts: hostsOf(loadCases()) });
});

after(async () => {
  rmSync(POLICY_FILE, { force: true });
  await browser?.close();
  await caiso?.close();
  await updateServer?.close();
  host?.remove();
});

test('Chromium force-installs the kit by machine policy and the extension reaches the host registered for its id', async () => {
  const policy = JSON.parse(readFileSync(join(kit, 'policies', 'linux', 'caiso-access.json'), 'utf8'));
  const [entry] = policy.ExtensionInstallForcelist;
  const [id, updateUrl] = entry.split(';');
  assert.equal(updateUrl, `http://127.0.0.1:${port}/updates.xml`);
  assert.match(id, /^[a-p]{32}$/);
  assert.notEqual(id, 'nokmocfmgjjcklbipglnbmejhhgheonb', 'the kit is signed with its own key');
  mkdirSync(POLICY_DIR, { recursive: true });
  writeFileSync(POLICY_FILE, JSON.stringify({
    ...policy,
    // The tests' marker (see managed.test.mjs), and DevTools for the test's driver only: a
    // force-installed extension's pages are closed to DevTools unless policy opens them.
    caiso_access_e2e: true,
    DeveloperToolsAvailability: 1,
  }));
  host = hostConfig();
  const started = Date.now();
  browser = await launchChromium({
    port: caiso.port,
    extension: null,
    expectExtensionId: id,
    nativeHost: { ...host.nativeHost, installArgs: ['--extension-id', id] },
  });
  const installed = Date.now();
  const popup = await browser.context.newPage();
  await popup.goto(`chrome-extension://${id}/popup.html`);
  await popup.waitForSelector('#certificates[data-source="host"]', { timeout: 30_000 });
  const answered = Date.now();
  console.log(`from Chromium start: extension installed by policy after ${installed - started} ms, `
    + `its first host answer after ${answered - started} ms`);

  const self = await popup.evaluate(() => chrome.management.getSelf());
  assert.equal(self.installType, 'admin');
  assert.equal(self.id, id);
  assert.equal(await popup.locator('#certificates').getAttribute('data-state'), 'ok');
  for (const [label] of DEMO_CARDS) {
    assert.equal(await popup.locator(`.identity[data-label="${label}"]`).count(), 1, label);
  }
  assert.ok(updateServer.served.includes('updates.xml'), updateServer.served.join(', '));
  assert.ok(updateServer.served.some((name) => name.endsWith('.crx')), updateServer.served.join(', '));
  assert.ok(!updateServer.served.some((name) => name.startsWith('policies')), 'policies are pushed, not served');
});

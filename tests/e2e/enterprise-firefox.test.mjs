// End-to-end: the roll-out kit's Firefox half as IT uses it. Firefox ESR with a fresh profile and
// only the kit's policies.json (ExtensionSettings: force_installed from the kit's install_url)
// installs the add-on from a local web server serving the kit, says it was installed by the
// administrator, and its popup shows the certificates of the real host. The package is unsigned
// (Mozilla signs it for release Firefox: README), so the profile turns the signature requirement
// off, as ESR allows; and Firefox refuses an add-on whose update_url is http unless update
// security is off (the kit's base URL here is http on loopback; IT's is https).
// Run by `cargo xtask test`, alone (/etc/firefox/policies/policies.json is machine-wide), after it
// has built the kit into CAISO_E2E_KIT for a base URL on 127.0.0.1:CAISO_E2E_KIT_PORT.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { DEMO_CARDS, hostConfig } from './lib/host.mjs';
import { serveKit } from './lib/kit-server.mjs';
import { launchFirefoxDriven } from './lib/marionette.mjs';
import { startServer } from './lib/server.mjs';

// Firefox on Linux reads this file; the marker tells an interrupted run's file from IT's (see
// managed-firefox.test.mjs).
const POLICY_FILE = '/etc/firefox/policies/policies.json';
const MARKER = 'caiso_access_e2e';
const kit = process.env.CAISO_E2E_KIT;
const port = Number(process.env.CAISO_E2E_KIT_PORT);

let kitServer;
let caiso;
let host;
let firefox;

before(async () => {
  assert.ok(kit && port, 'CAISO_E2E_KIT and CAISO_E2E_KIT_PORT name the kit (cargo xtask test sets them)');
  kitServer = await serveKit(kit, port);
  caiso = await startServer({ hosts: hostsOf(loadCases()) });
});

after(async () => {
  rmSync(POLICY_FILE, { force: true });
  await firefox?.close();
  await caiso?.close();
  await kitServer?.close();
  host?.remove();
});

test('Firefox force-installs the kit by policy and the add-on reaches the host', async () => {
  const policy = JSON.parse(readFileSync(join(kit, 'policies', 'firefox', 'policies.json'), 'utf8'));
  const [[addonId, entry]] = Object.entries(policy.policies.ExtensionSettings);
  assert.deepEqual(entry, { installation_mode: 'force_installed', install_url: `http://127.0.0.1:${port}/caiso-access.xpi` });
  mkdirSync(join(POLICY_FILE, '..'), { recursive: true });
  writeFileSync(POLICY_FILE, JSON.stringify({ ...policy, [MARKER]: true }));
  host = hostConfig();
  const started = Date.now();
  firefox = await launchFirefoxDriven({
    port: caiso.port,
    hosts: hostsOf(loadCases()),
    caPath: caiso.caPath,
    nativeHost: host.nativeHost,
    extension: null,
    addonId,
    prefs: { 'xpinstall.signatures.required': false, 'extensions.checkUpdateSecurity': false },
  });
  let addon = null;
  for (let i = 0; i < 300 && !addon?.isActive; i += 1) {
    addon = await firefox.addon(addonId);
    if (!addon?.isActive) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(addon?.isActive, `the add-on was not installed by the policy:\n${firefox.log()}`);
  const installed = Date.now();
  await firefox.open('popup.html');
  await firefox.waitFor(() => document.querySelector('#certificates')?.dataset.source === 'host', [], 'the host\'s answer', 30_000);
  const answered = Date.now();
  console.log(`from Firefox start: add-on installed by policy after ${installed - started} ms, `
    + `its first host answer after ${answered - started} ms`);

  const self = await firefox.evaluate(() => browser.management.getSelf());
  assert.equal(self.installType, 'admin');
  assert.equal(self.id, addonId);
  assert.equal(addon.version, JSON.parse(readFileSync(join(kit, 'updates.json'), 'utf8')).addons[addonId].updates[0].version);
  const labels = await firefox.evaluate(() => [...document.querySelectorAll('.identity')].map((e) => e.dataset.label));
  assert.deepEqual(labels.sort(), DEMO_CARDS.map(([label]) => label).sort());
  assert.ok(kitServer.served.includes('caiso-access.xpi'), kitServer.served.join(', '));
  assert.ok(!kitServer.served.some((name) => name.startsWith('policies')), 'policies are pushed, not served');
});

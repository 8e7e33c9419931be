// Debian Chromium with the unpacked extension, driven by playwright-core.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { recordingProgram } from './answers.mjs';
import { fromRoot, hostBuild } from './cases.mjs';

export const CHROMIUM = '/usr/bin/chromium';
export const extensionDir = fromRoot('dist', 'chromium');
export const hostBinary = fromRoot('target', hostBuild, 'caiso-access');

/** The Chromium extension id fixed by the manifest `key`: sha256 of the DER key, hex 0-f as a-p. */
export function extensionIdFromKey(base64Key) {
  const hex = createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('hex');
  return [...hex.slice(0, 32)].map((d) => String.fromCharCode(97 + parseInt(d, 16))).join('');
}

/**
 * Launches Chromium with the extension loaded and waits for its service worker.
 *
 * @param {object} options
 * @param {number} options.port the stand-in server's port; every *.caiso.com host maps to it
 * @param {boolean} [options.headless=true]
 * @param {string} [options.extension] unpacked extension folder (default dist/chromium)
 *   (null: none loaded; an extension installed by policy is awaited, `expectExtensionId`)
 * @param {object} [options.nativeHost] register the real host in the profile: `{configDir, now, env}`
 *   (its configuration folder and pinned clock), or with `program` another executable in its
 *   place, with `record` a folder that gets a copy of what it writes, with `installArgs` more
 *   arguments for `caiso-access install`; without it the host is not registered
 * @param {string} [options.expectExtensionId] the id of the extension policy installs
 */
export async function launchChromium({ port, headless = true, extension = extensionDir, nativeHost, expectExtensionId }) {
  let extensionId = expectExtensionId;
  if (extension) {
    const manifestPath = join(extension, 'manifest.json');
    if (!existsSync(manifestPath)) {
      throw new Error(`${manifestPath} is missing: build the extension first`);
    }
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    extensionId = manifest.key ? extensionIdFromKey(manifest.key) : undefined;
  }

  // Everything the browser writes (profile, crash reports, nssdb, temp files) goes here.
  const scratch = mkdtempSync(join(tmpdir(), 'caiso-e2e-chromium-'));
  const profile = join(scratch, 'profile');
  // TZ is pinned: the reminders' days are the browser's local days.
  const env = { ...process.env, HOME: scratch, XDG_CONFIG_HOME: join(scratch, '.config'), TMPDIR: scratch, TZ: 'UTC' };
  if (nativeHost) {
    // The browser looks in <user-data-dir>/NativeMessagingHosts; the host inherits this env.
    // The machine policy is the test's (none unless `env` names one), not this machine's.
    Object.assign(env, { CAISO_ACCESS_CONFIG_DIR: nativeHost.configDir, CAISO_ACCESS_TEST_NOW: nativeHost.now,
      CAISO_ACCESS_MACHINE_POLICY: join(scratch, 'no-machine-policy.json') }, nativeHost.env ?? {});
    execFileSync(hostBinary, ['install', '--browser', 'chromium', '--user-data-dir', profile, ...(nativeHost.installArgs ?? [])],
      { env, stdio: 'pipe' });
    // Registered as installed, but another program answers (a stand-in for an older host), or
    // the host answers through a recorder.
    const program = nativeHost.program
      ?? (nativeHost.record ? recordingProgram(scratch, hostBinary, nativeHost.record) : undefined);
    if (program) {
      const registered = join(profile, 'NativeMessagingHosts', 'caiso_access.json');
      writeFileSync(registered, JSON.stringify({ ...JSON.parse(readFileSync(registered, 'utf8')), path: program }));
    }
  }
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless,
    // Without a loaded extension, one comes by policy: the extension updater needs the
    // background networking these runs otherwise switch off.
    ignoreDefaultArgs: ['--disable-extensions', ...(extension ? [] : ['--disable-background-networking'])],
    env,
    args: [
      ...(extension ? [`--load-extension=${extension}`, `--disable-extensions-except=${extension}`] : []),
      ...(headless ? ['--headless=new'] : []),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      ...(extension ? ['--disable-background-networking'] : []),
      '--disable-component-update',
      '--disable-sync',
      // The port in the rule applies to http:// and https:// alike: both reach the one
      // stand-in port, which tells TLS from plain HTTP by the first byte.
      `--host-resolver-rules=MAP *.caiso.com 127.0.0.1:${port}`,
      '--ignore-certificate-errors',
      // Keep http:// URLs on http:// so the tests see exactly what the redirect rules do,
      // not Chromium's automatic upgrade attempt.
      '--disable-features=HttpsUpgrades',
    ],
  });

  const ours = (w) => w.url().startsWith(extensionId ? `chrome-extension://${extensionId}/` : 'chrome-extension://');
  let worker = context.serviceWorkers().find(ours);
  worker ??= await context.waitForEvent('serviceworker', {
    predicate: ours,
    // Installed by policy, it first comes from the update server.
    timeout: extension ? 15_000 : 60_000,
  });
  const workerId = new URL(worker.url()).host;
  if (extensionId && workerId !== extensionId) {
    throw new Error(`extension id ${workerId} differs from the one its manifest key gives (${extensionId})`);
  }

  return {
    context,
    worker,
    extensionId: workerId,

    /** Ids of the browser's tabs, as the extension sees them. */
    tabIds: () => worker.evaluate(async () => (await chrome.tabs.query({})).map((t) => t.id)),

    /** A new page plus the browser tab id the extension knows it by. */
    async newTab() {
      const before = new Set(await this.tabIds());
      const page = await context.newPage();
      const fresh = (await this.tabIds()).filter((id) => !before.has(id));
      if (fresh.length !== 1) throw new Error(`expected one new tab, found ${fresh.length}`);
      return { page, tabId: fresh[0] };
    },

    /** Opens the popup as a tab describing `tabId`; resolves once it has rendered. */
    async openPopup(tabId) {
      const popup = await context.newPage();
      await popup.goto(`chrome-extension://${workerId}/popup.html?tab=${tabId}`);
      await popup.waitForSelector('#tab-status[data-status]', { timeout: 10_000 });
      return popup;
    },

    async close() {
      await context.close().catch(() => {});
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

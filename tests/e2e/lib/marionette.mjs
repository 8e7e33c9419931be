// Firefox ESR with the extension, driven over Marionette, Firefox's own remote protocol.
//
// Playwright cannot drive Firefox add-ons and neither Marionette nor WebDriver BiDi may navigate
// a tab to a moz-extension:// page. So the add-on is installed with `Addon:Install` (temporary,
// as `web-ext run` does), its pages are opened from the browser chrome (which needs
// `--remote-allow-system-access`), and everything else runs as script inside the extension page
// itself, with the extension's own `browser.*` APIs. The add-on's internal UUID is pinned
// through `extensions.webextensions.uuids`, so its pages have a known address.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { recordingProgram } from './answers.mjs';
import { hostBinary } from './chromium.mjs';
import { extensionDir, FIREFOX, localSitePrefs, scratchProfile, stopGroup } from './firefox.mjs';

/** The moz-extension:// host the profile assigns to the add-on. */
const EXTENSION_UUID = '5c2f3d0e-8a41-4b6e-9d7c-1f0a2b3c4d5e';

/** Preferences that keep a fresh profile quiet: no first-run pages, updates or phoning home. */
const QUIET_PREFS = {
  'app.update.enabled': false,
  'app.normandy.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage': 'about:blank',
  'browser.startup.page': 0,
  'browser.newtabpage.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.region.network.url': '',
  'browser.topsites.contile.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.firstRunURL': '',
  'extensions.update.enabled': false,
  'extensions.getAddons.cache.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'startup.homepage_welcome_url': 'about:blank',
  'termsofuse.bypassNotification': true,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': 'http://127.0.0.1:9/',
};

/** Longer than any script the tests run (the script timeout is 60 s). */
const COMMAND_TIMEOUT_MS = 90_000;

/** One Marionette connection: length-prefixed JSON, `[0, id, name, params]` -> `[1, id, error, result]`. */
class Marionette {
  #socket;
  #buffer = Buffer.alloc(0);
  #waiting = new Map();
  #nextId = 1;
  #greeting;
  #gone = null;

  constructor(port) {
    this.#socket = net.connect(port, '127.0.0.1');
    this.#greeting = new Promise((resolve, reject) => {
      this.#waiting.set(0, { resolve, reject });
    });
    this.#socket.on('data', (chunk) => this.#receive(chunk));
    // Firefox gone (crashed, killed): every command still waiting fails instead of hanging.
    const fail = (error) => {
      this.#gone ??= new Error(`Marionette connection lost${error ? `: ${error.message}` : ''}`);
      for (const { reject } of this.#waiting.values()) reject(this.#gone);
      this.#waiting.clear();
    };
    this.#socket.on('error', fail);
    this.#socket.on('close', () => fail());
  }

  #receive(chunk) {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const colon = this.#buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.#buffer.subarray(0, colon).toString());
      if (this.#buffer.length < colon + 1 + length) return;
      const message = JSON.parse(this.#buffer.subarray(colon + 1, colon + 1 + length).toString());
      this.#buffer = this.#buffer.subarray(colon + 1 + length);
      const id = Array.isArray(message) ? message[1] : 0;
      const waiter = this.#waiting.get(id);
      this.#waiting.delete(id);
      waiter?.resolve(message);
    }
  }

  ready() {
    return this.#greeting;
  }

  /** Sends a command; resolves with its value, rejects with Marionette's error or after `COMMAND_TIMEOUT_MS`. */
  async command(name, params = {}) {
    if (this.#gone) throw this.#gone;
    const id = this.#nextId;
    this.#nextId += 1;
    const text = JSON.stringify([0, id, name, params]);
    let timer;
    const answer = new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`${name}: no answer from Firefox within ${COMMAND_TIMEOUT_MS / 1000} s`));
      }, COMMAND_TIMEOUT_MS);
    });
    this.#socket.write(`${Buffer.byteLength(text)}:${text}`);
    try {
      const [, , error, result] = await answer;
      if (error) throw new Error(`${name}: ${error.error}: ${error.message}`);
      return result?.value ?? result;
    } finally {
      clearTimeout(timer);
    }
  }

  close() {
    this.#socket.destroy();
  }
}

/**
 * Starts headless Firefox ESR with the add-on installed and a Marionette session.
 *
 * @param {object} options
 * @param {number} [options.port] stand-in server port: *.caiso.com resolves to 127.0.0.1 and
 *   ports 443/80 are rewritten to it
 * @param {string[]} [options.hosts] CAISO host names to resolve locally
 * @param {string} [options.caPath] PEM of the stand-in server's CA, trusted in the profile
 * @param {object} [options.nativeHost] register the real host for this browser: `{configDir, now, env}`,
 *   with `record` a folder that gets a copy of what it writes
 * @param {string} [options.extension] unpacked add-on folder (default dist/firefox)
 */
export async function launchFirefoxDriven({ port, hosts = [], caPath, nativeHost, extension = extensionDir, addonId: policyAddonId, prefs: extraPrefs = {} } = {}) {
  // `extension: null`: no add-on is installed by the test; one installed by policy is expected
  // (`addonId` names it), with `prefs` such as the signature requirement.
  let addonId = policyAddonId;
  if (extension !== null) {
    const manifestPath = join(extension, 'manifest.json');
    if (!existsSync(manifestPath)) throw new Error(`${manifestPath} is missing: build the extension first`);
    addonId = JSON.parse(readFileSync(manifestPath, 'utf8')).browser_specific_settings.gecko.id;
  }

  // HOME (where Firefox looks for native messaging hosts), TMPDIR and the profile are throw-away.
  const { scratch, profile } = scratchProfile(caPath);
  const prefs = {
    ...QUIET_PREFS,
    'extensions.webextensions.uuids': JSON.stringify({ [addonId]: EXTENSION_UUID }),
    'marionette.port': 0,
    ...(port ? localSitePrefs(hosts, port) : {}),
    ...extraPrefs,
  };
  writeFileSync(join(profile, 'user.js'),
    Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join(''));

  // TZ is pinned: the reminders' days are the browser's local days.
  const env = { ...process.env, HOME: scratch, XDG_CONFIG_HOME: join(scratch, '.config'), TMPDIR: scratch, TZ: 'UTC', MOZ_CRASHREPORTER_DISABLE: '1' };
  if (nativeHost) {
    // Firefox looks in $HOME/.mozilla/native-messaging-hosts; the host inherits this env.
    Object.assign(env, { CAISO_ACCESS_CONFIG_DIR: nativeHost.configDir, CAISO_ACCESS_TEST_NOW: nativeHost.now }, nativeHost.env ?? {});
    execFileSync(hostBinary, ['install', '--browser', 'firefox'], { env, stdio: 'pipe' });
    if (nativeHost.record) {
      // The host answers through a recorder (answers.mjs).
      const registered = join(scratch, '.mozilla', 'native-messaging-hosts', 'caiso_access.json');
      const path = recordingProgram(scratch, hostBinary, nativeHost.record);
      writeFileSync(registered, JSON.stringify({ ...JSON.parse(readFileSync(registered, 'utf8')), path }));
    }
  }
  const child = spawn(FIREFOX, ['--headless', '--marionette', '--remote-allow-system-access', '--no-remote', '--profile', profile], {
    cwd: scratch,
    detached: true, // own process group, so Firefox's children go down with it
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

  const stop = async () => {
    await stopGroup(child, exited);
    rmSync(scratch, { recursive: true, force: true });
  };

  // Marionette writes its port into the profile once it listens.
  const portFile = join(profile, 'MarionetteActivePort');
  let marionettePort;
  for (let i = 0; i < 300 && !marionettePort; i += 1) {
    if (child.exitCode !== null) break;
    if (existsSync(portFile)) marionettePort = Number(readFileSync(portFile, 'utf8')) || undefined;
    if (!marionettePort) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!marionettePort) {
    await stop();
    throw new Error(`Firefox did not start Marionette:\n${output}`);
  }
  const driver = new Marionette(marionettePort);
  try {
    await driver.ready();
    await driver.command('WebDriver:NewSession', { capabilities: {} });
    await driver.command('WebDriver:SetTimeouts', { script: 60_000 });
    if (extension !== null) await driver.command('Addon:Install', { path: extension, temporary: true });
  } catch (error) {
    driver.close();
    await stop();
    throw new Error(`${error.message}\n${output}`);
  }
  const base = `moz-extension://${EXTENSION_UUID}/`;

  const firefox = {
    addonId,
    base,
    log: () => output,

    /** The add-on `id` as Firefox's add-on manager has it (`null` when not installed). */
    async addon(id) {
      await driver.command('Marionette:SetContext', { value: 'chrome' });
      try {
        const answer = await driver.command('WebDriver:ExecuteAsyncScript', {
          script: `const done = arguments[arguments.length - 1];
            const { AddonManager } = ChromeUtils.importESModule('resource://gre/modules/AddonManager.sys.mjs');
            AddonManager.getAddonByID(arguments[0]).then(
              (a) => done({ found: a ? { version: a.version, isActive: a.isActive, signedState: a.signedState } : null }),
              (e) => done({ error: String(e) }));`,
          args: [id],
        });
        if (answer?.error) throw new Error(`add-on manager: ${answer.error}`);
        return answer?.found ?? null;
      } finally {
        await driver.command('Marionette:SetContext', { value: 'content' });
      }
    },

    /** Runs `fn(...args)` in the current page (an extension page: `browser.*` is there); resolves with its result. */
    async evaluate(fn, ...args) {
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn})(...arguments[0]))
          .then((value) => done({ value: value === undefined ? null : JSON.parse(JSON.stringify(value)) }),
                (error) => done({ error: String(error && error.stack || error) }));`;
      const answer = await driver.command('WebDriver:ExecuteAsyncScript', { script, args: [args] });
      if (answer?.error) throw new Error(`in the page: ${answer.error}`);
      return answer?.value;
    },

    /** Loads an extension page (path relative to the add-on root) in the current tab and waits for it. */
    async open(path) {
      const url = base + path;
      // Mark the document being left, so the wait below cannot mistake it for the new one
      // (opening the page that is already open is a reload).
      await driver.command('WebDriver:ExecuteScript', { script: 'document.documentElement.dataset.e2eLeft = "1";', args: [] });
      await driver.command('Marionette:SetContext', { value: 'chrome' });
      await driver.command('WebDriver:ExecuteScript', {
        script: `gBrowser.selectedBrowser.fixupAndLoadURIString(arguments[0],
          { triggeringPrincipal: Services.scriptSecurityManager.getSystemPrincipal() });`,
        args: [url],
      });
      await driver.command('Marionette:SetContext', { value: 'content' });
      await firefox.waitFor((u) => location.href === u && document.readyState === 'complete' && !document.documentElement.dataset.e2eLeft,
        [url], `${path} to load`);
    },

    /** Polls `check(...args)` in the page until it is truthy; resolves with its value. */
    async waitFor(check, args = [], what = 'a condition', timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last;
      while (Date.now() < deadline) {
        try {
          last = await firefox.evaluate(check, ...args);
          if (last) return last;
        } catch (error) {
          last = error.message; // the page may be between documents
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    },

    /** Navigates the current tab to a web address (not an extension page: see `open`); resolves with where it ended. */
    async navigate(url) {
      await driver.command('WebDriver:Navigate', { url });
      return driver.command('WebDriver:GetCurrentURL');
    },

    /** A PNG of the current page's viewport. */
    async screenshot(path) {
      const data = await driver.command('WebDriver:TakeScreenshot', { full: true, hash: false });
      writeFileSync(path, Buffer.from(data, 'base64'));
    },

    async close() {
      try { await driver.command('WebDriver:DeleteSession'); } catch { /* closing anyway */ }
      driver.close();
      await stop();
    },
  };
  return firefox;
}

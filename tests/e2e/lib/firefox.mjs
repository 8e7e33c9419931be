// Firefox ESR with the extension, started by web-ext (Playwright cannot load Firefox add-ons).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from './cases.mjs';

export const FIREFOX = '/usr/bin/firefox-esr';
export const extensionDir = fromRoot('dist', 'firefox');
const webExtBin = fromRoot('node_modules', '.bin', 'web-ext');

/**
 * Starts Firefox with the extension installed as a temporary add-on.
 *
 * Every CAISO host resolves to 127.0.0.1 (network.dns.localDomains) and ports 443 and 80 are
 * rewritten to the stand-in server's port (network.socket.forcePort), so the server needs no
 * privileged ports. The stand-in's test CA is trusted in a fresh profile via certutil, so TLS is
 * checked for real.
 *
 * @param {object} options
 * @param {number} options.port stand-in server port
 * @param {string[]} options.hosts CAISO host names to resolve locally
 * @param {string} options.caPath PEM of the stand-in server's CA
 * @param {string} options.startUrl first page to open
 * @param {string} [options.extension] unpacked add-on folder (default dist/firefox)
 * @returns {{ exited: Promise<number|null>, log: () => string, stop: () => Promise<void> }}
 */
export function launchFirefox({ port, hosts, caPath, startUrl, extension = extensionDir }) {
  if (!existsSync(join(extension, 'manifest.json'))) {
    throw new Error(`${join(extension, 'manifest.json')} is missing: build the extension first`);
  }
  // HOME, TMPDIR (web-ext copies the profile there) and the profile itself are throw-away.
  const { scratch, profile } = scratchProfile(caPath);
  const prefs = { ...localSitePrefs(hosts, port), 'browser.shell.checkDefaultBrowser': false };
  const args = [
    'run',
    '--source-dir', extension,
    '--firefox', FIREFOX,
    '--firefox-profile', profile,
    '--arg=--headless',
    '--no-reload',
    '--no-input',
    '--start-url', startUrl,
    ...Object.entries(prefs).map(([k, v]) => `--pref=${k}=${v}`),
  ];
  const child = spawn(webExtBin, args, {
    cwd: scratch,
    detached: true, // own process group, so Firefox goes down with web-ext
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: scratch, XDG_CONFIG_HOME: join(scratch, '.config'), TMPDIR: scratch, MOZ_CRASHREPORTER_DISABLE: '1' },
  });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));

  return {
    exited,
    log: () => output,
    async stop() {
      await stopGroup(child, exited);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/**
 * A throw-away folder (for HOME, TMPDIR) holding a fresh Firefox profile; with `caPath`, that CA
 * is trusted in the profile's certificate store (certutil), so TLS is checked for real.
 */
export function scratchProfile(caPath) {
  const scratch = mkdtempSync(join(tmpdir(), 'caiso-e2e-firefox-'));
  const profile = join(scratch, 'profile');
  mkdirSync(profile);
  if (caPath) {
    execFileSync('certutil', ['-N', '-d', `sql:${profile}`, '--empty-password']);
    execFileSync('certutil', ['-A', '-d', `sql:${profile}`, '-n', 'caiso-access e2e test CA', '-t', 'C,,', '-i', caPath]);
  }
  return { scratch, profile };
}

/** Preferences that send every CAISO host in `hosts` to the stand-in server on `port`. */
export function localSitePrefs(hosts, port) {
  return {
    'network.dns.localDomains': hosts.join(','),
    'network.socket.forcePort': `443=${port};80=${port}`,
    // Keep http:// addresses on http:// so the tests see only what the redirect rules do.
    'dom.security.https_first': false,
    'dom.security.https_first_schemeless': false,
  };
}

/**
 * Ends a browser started `detached` (its own process group): SIGTERM, SIGKILL after 5 s, then
 * SIGKILL to the group, since Firefox's children may outlive it for a moment.
 */
export async function stopGroup(child, exited) {
  if (child.exitCode === null && child.signalCode === null) {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
    await exited;
    clearTimeout(timer);
  }
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* all gone */ }
}

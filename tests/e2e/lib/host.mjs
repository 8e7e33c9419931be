// The real native host with the openssl-made test PKI, as the end-to-end tests and the demo use
// it: a throw-away configuration folder, certificates imported the way a user imports them,
// and the host's clock pinned so the certificates' dates tell a fixed story.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkRecord } from './answers.mjs';
import { fromRoot, hostBuild } from './cases.mjs';
import { hostBinary } from './chromium.mjs';

/** The moment the test PKI's dates are chosen around. */
export const PINNED_NOW = '2026-11-22T12:00:00Z';
export const pki = (name) => fromRoot('tests', 'fixtures', 'pki', name);
export const testPassphrase = () => readFileSync(pki('PASSPHRASE'), 'utf8').trimEnd();

/** The demo identities: [file, label, environment]. */
export const DEMO_IDENTITIES = [
  ['valid-legacy.p12', 'production', 'production'],
  ['near-expiry.p12', 'map-stage', 'map-stage'],
  ['expired.p12', 'old', 'production'],
  ['cybertrust.p12', 'cyber', 'production'],
];

/**
 * What the popup must show for each demo identity at PINNED_NOW:
 * [label, severity, days left, CA family, subject common name].
 */
export const DEMO_CARDS = [
  ['production', 'ok', '343', 'entrust', 'janedoex1234'],
  ['map-stage', 'warning', '9', 'entrust', 'johnroex5678'],
  ['old', 'expired', '-53', 'entrust', 'ellenoldx0001'],
  ['cyber', 'ok', '98', 'verizon_cybertrust', 'samuelx4321'],
];

/** The SC ID the sandbox entitles its demo certificates to. */
export const DEMO_SC_ID = 'DEMO';

/**
 * A fresh configuration folder with `identities` imported. A browser launched with its
 * `nativeHost` records what the host writes (unless `record` is false, as for the popup
 * benchmark); `remove()` checks that record for this folder and the test PKI's (see
 * answers.mjs), deletes both and returns how many bytes of answers it checked.
 */
export function hostConfig(identities = DEMO_IDENTITIES, { record = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'caiso-access-host-'));
  const records = record ? mkdtempSync(join(tmpdir(), 'caiso-access-answers-')) : undefined;
  const env = { ...process.env, CAISO_ACCESS_CONFIG_DIR: dir, CAISO_ACCESS_TEST_NOW: PINNED_NOW, CAISO_P12_PASS: testPassphrase() };
  for (const [file, label, environment] of identities) {
    execFileSync(hostBinary, ['import', pki(file), '--label', label, '--environment', environment,
      '--passphrase-env', 'CAISO_P12_PASS'], { env, stdio: 'pipe' });
    // The SC ID the sandbox's certificates act for (CMRI, MRI-S and SIBR queries name one).
    execFileSync(hostBinary, ['sc-id', label, DEMO_SC_ID], { env, stdio: 'pipe' });
  }
  return {
    dir,
    /** Options for launchChromium({nativeHost}). */
    nativeHost: { configDir: dir, now: PINNED_NOW, env: { CAISO_P12_PASS: testPassphrase() }, record: records },
    remove: () => {
      try {
        return records ? checkRecord(records, [dir, pki('')]) : 0;
      } finally {
        rmSync(dir, { recursive: true, force: true });
        if (records) rmSync(records, { recursive: true, force: true });
      }
    },
  };
}

/** The local CAISO sandbox binary (built by `cargo xtask build`). */
export const sandboxBinary = fromRoot('target', hostBuild, 'caiso-sandbox');

/**
 * Starts the sandbox on a free loopback port with `behave` (`['<operation>=<behaviour>']`) and
 * points the host configuration `dir` at it (or lets `configure(address)` do that, for a host
 * other than the Linux build). Resolves with `{address, stop()}`.
 */
export async function startSandbox(dir, behave = [], configure = undefined) {
  const { spawn } = await import('node:child_process');
  const args = ['--listen', '127.0.0.1:0', '--pki', fromRoot('tests', 'fixtures', 'pki')];
  for (const b of behave) args.push('--behave', b);
  const child = spawn(sandboxBinary, args, { env: { ...process.env, CAISO_ACCESS_TEST_NOW: PINNED_NOW }, stdio: ['ignore', 'pipe', 'inherit'] });
  const address = await new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const match = text.match(/listening on (\S+)/);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`caiso-sandbox exited with ${code}`)));
  });
  if (configure) {
    configure(address);
  } else {
    execFileSync(hostBinary, ['sandbox', address, '--ca', pki('server-root.pem')],
      { env: { ...process.env, CAISO_ACCESS_CONFIG_DIR: dir }, stdio: 'pipe' });
  }
  return { address, stop: () => child.kill() };
}

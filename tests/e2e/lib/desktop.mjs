// A desktop session's keyring for one test: a private D-Bus session bus with GNOME Keyring on
// it, unlocked as a login unlocks it (Debian's dbus-daemon and gnome-keyring, installed by
// `cargo xtask setup`). A browser started with `env` in its environment starts its native host
// inside that session, as a desktop does.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts the session; `stop()` ends the bus (the keyring leaves with it) and removes its folder. */
export async function startDesktopKeyring() {
  const dir = mkdtempSync(join(tmpdir(), 'caiso-access-desktop-'));
  mkdirSync(join(dir, 'run'), { mode: 0o700 });
  const bus = spawn('dbus-daemon', ['--session', '--print-address=1', '--nofork', '--nopidfile'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise((resolve, reject) => {
    let text = '';
    bus.on('error', reject);
    bus.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0].trim());
    });
  });
  const env = {
    DBUS_SESSION_BUS_ADDRESS: address,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
  };
  const inSession = { ...process.env, ...env };
  execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'],
    { input: 'login-password', env: inSession, stdio: ['pipe', 'ignore', 'pipe'] });
  // Ready once libsecret can store an item through it.
  for (let i = 0; ; i += 1) {
    try {
      execFileSync('secret-tool', ['store', '--label', 'probe', 'service', 'caiso-access-test', 'username', 'ready'],
        { input: 'yes', env: inSession, stdio: ['pipe', 'ignore', 'ignore'] });
      break;
    } catch (error) {
      if (i > 100) throw new Error(`the Secret Service did not come up: ${error.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    env,
    /** What libsecret (not caiso-access) finds for caiso-access and `label`. */
    lookup: (label) => execFileSync('secret-tool', ['lookup', 'service', 'caiso-access', 'username', label],
      { env: inSession }).toString(),
    stop: () => {
      bus.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

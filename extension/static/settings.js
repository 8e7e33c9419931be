// caiso-access settings: what the user chose (storage.local) and what the organisation set by
// policy (storage.managed: Chrome/Edge enterprise policy, Firefox policies). Managed values win
// and are reported as such, so pages can show them as set by the organisation.

import { policySettings } from './wasm/caiso_access_extension.js';
import { wasmReady } from './wasm.js';

const api = globalThis.browser ?? globalThis.chrome;

export const DEFAULTS = { environment: 'production', redirectEnabled: true, thresholds: null };
const KEYS = Object.keys(DEFAULTS);

/** The policy's values that pass the schema's rules (the module decides): `{values, refused}`. */
async function managedValues() {
  let managed = {};
  try {
    managed = (await api.storage.managed?.get(KEYS)) ?? {};
  } catch {
    managed = {}; // no policy, or managed storage not available in this browser
  }
  // Without a policy nothing is to be checked: settings do not wait for the module then (the
  // background applies the redirect switch at start even if the module failed to load).
  if (Object.keys(managed).length === 0) return { values: {}, refused: {} };
  await wasmReady;
  return policySettings(managed);
}

/**
 * `{environment, redirectEnabled, thresholds, managed: {key: true}, refused: {key: reason}}`;
 * thresholds null = the host's; `refused` names policy values that break the rules (ignored).
 */
export async function effectiveSettings() {
  const [local, { values, refused }] = await Promise.all([api.storage.local.get(DEFAULTS), managedValues()]);
  const settings = { ...DEFAULTS, ...local, ...values, managed: {}, refused };
  for (const key of Object.keys(values)) settings.managed[key] = true;
  return settings;
}

/** Saves a user choice unless policy manages it; returns false when it is managed. */
export async function saveSetting(key, value) {
  const { managed } = await effectiveSettings();
  if (managed[key]) return false;
  await api.storage.local.set({ [key]: value });
  return true;
}

/** Applies the redirect setting to the browser's rules. */
export async function applyRedirect(enabled) {
  await api.declarativeNetRequest.updateEnabledRulesets(
    enabled ? { enableRulesetIds: ['legacy_redirects'] } : { disableRulesetIds: ['legacy_redirects'] },
  );
}

/** The extension's clock: `clockOverride` (an ISO date, set only by tests) or the real time. */
export async function extensionNow() {
  const { clockOverride } = await api.storage.local.get('clockOverride');
  const pinned = clockOverride ? Date.parse(clockOverride) : NaN;
  return Number.isNaN(pinned) ? Date.now() : pinned;
}

// caiso-access options page glue: the page's fixed structure is options.html; the WebAssembly
// module draws what depends on data and decides what every input means and every save says
// (extension/src/options.rs). This gathers the inputs and wires the controls to the browser's
// storage and the native host.
import {
  renderHistory, renderHostState, renderScIdSaved, renderScIds, scIdArguments, settingSaved, showSettings,
  typedThresholds,
} from './wasm/caiso_access_extension.js';
import { wasmReady } from './wasm.js';
import { applyRedirect, effectiveSettings, saveSetting } from './settings.js';

const api = globalThis.browser ?? globalThis.chrome;
const root = document.body;
const hostRequest = (command, args) => api.runtime.sendMessage({ type: 'host-request', command, args });

async function showHistory() {
  const { callHistory = [] } = await api.storage.local.get('callHistory');
  renderHistory(root, callHistory);
}

async function onEnvironment(event) {
  if (await saveSetting('environment', event.target.value)) settingSaved(root, 'environment', event.target.value);
}

async function onRedirect(event) {
  const enabled = event.target.checked;
  if (await saveSetting('redirectEnabled', enabled)) {
    await applyRedirect(enabled);
    settingSaved(root, 'redirectEnabled', enabled);
  }
}

async function onThresholds() {
  const days = typedThresholds(root);
  if (days === undefined) return; // refused, with the reason shown: nothing saved
  if (await saveSetting('thresholds', days)) {
    settingSaved(root, 'thresholds', days);
    await api.runtime.sendMessage({ type: 'check-certificates' });
  }
}

async function onScIdClick(event) {
  const args = scIdArguments(event.target);
  if (args === undefined) return;
  renderScIdSaved(root, await hostRequest('call_parameter', args), args);
}

async function onStorageChange(changes, area) {
  if (area === 'managed') showSettings(root, await effectiveSettings());
  if (area === 'local' && changes.callHistory) await showHistory();
}

async function main() {
  await wasmReady;
  showSettings(root, await effectiveSettings());
  document.getElementById('environment').addEventListener('change', onEnvironment);
  document.getElementById('redirectEnabled').addEventListener('change', onRedirect);
  document.getElementById('thresholds').addEventListener('change', onThresholds);
  document.getElementById('sc-ids').addEventListener('click', onScIdClick);
  api.storage.onChanged.addListener(onStorageChange);
  await Promise.all([
    api.runtime.sendMessage({ type: 'host-status' }).then((answer) => renderHostState(root, answer)),
    showHistory(),
    hostRequest('tests', {}).then((answer) => renderScIds(root, answer)),
  ]);
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  document.body.dataset.error = String(error?.message ?? error);
});

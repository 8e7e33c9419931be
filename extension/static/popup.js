// caiso-access popup glue: gathers the inputs, lets the WebAssembly module build the content,
// and wires its buttons to browser APIs.
//
// popup.html?tab=<id> describes that tab instead of the active one (used when the popup is
// opened as a page, by the demo and the end-to-end tests).
import init, { renderCertificates, renderPopup } from './wasm/caiso_access_extension.js';
import { applyRedirect, effectiveSettings, saveSetting } from './settings.js';

const api = globalThis.browser ?? globalThis.chrome;
const askedTab = new URLSearchParams(location.search).get('tab');

async function inspectedTab() {
  if (askedTab) return api.tabs.get(Number(askedTab));
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab;
}

async function main() {
  const [, tab, settings] = await Promise.all([
    init({ module_or_path: new URL('./wasm/caiso_access_extension_bg.wasm', import.meta.url) }),
    inspectedTab(),
    effectiveSettings(),
  ]);
  const root = document.getElementById('app');
  let { environment, redirectEnabled } = settings;
  let hostAnswer = null;
  const render = () => {
    renderPopup(root, tab?.url ?? null, environment, redirectEnabled);
    if (hostAnswer) renderCertificates(root, hostAnswer);
    // Settings the organisation manages are shown, not editable.
    for (const [key, id] of [['environment', 'environment'], ['redirectEnabled', 'redirect-toggle']]) {
      const control = document.getElementById(id);
      if (control && settings.managed[key]) {
        control.disabled = true;
        control.title = 'Set by your organisation';
        control.dataset.managed = 'true';
      }
    }
  };
  render();
  // The certificate section fills in when the background worker has the host's answer.
  api.runtime.sendMessage({ type: 'host-status' }).then((answer) => {
    hostAnswer = answer ?? { error: { code: 'host_unreachable', message: 'no answer from the background worker' } };
    renderCertificates(root, hostAnswer);
  });

  root.addEventListener('click', async (event) => {
    const go = event.target.closest('#go-new-url');
    const portal = event.target.closest('#launcher a');
    if (go && tab) {
      await api.tabs.update(tab.id, { url: go.dataset.url });
      if (!askedTab) window.close();
    } else if (portal) {
      event.preventDefault();
      await api.tabs.create({ url: portal.href });
      if (!askedTab) window.close();
    }
  });
  root.addEventListener('change', async (event) => {
    if (event.target.id === 'environment') {
      environment = event.target.value;
      await saveSetting('environment', environment);
      render();
      document.getElementById('environment')?.focus();
    } else if (event.target.id === 'redirect-toggle') {
      redirectEnabled = event.target.checked;
      if (await saveSetting('redirectEnabled', redirectEnabled)) await applyRedirect(redirectEnabled);
    }
  });
}

main().catch((error) => {
  const root = document.getElementById('app');
  root.textContent = `caiso-access could not start: ${error?.message ?? error}`;
  root.dataset.error = 'true';
});

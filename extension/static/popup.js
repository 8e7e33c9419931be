// caiso-access popup glue: gathers the inputs, lets the WebAssembly module build the content,
// and wires its buttons to browser APIs.
//
// popup.html?tab=<id> describes that tab instead of the active one (used when the popup is
// opened as a page, by the demo and the end-to-end tests); popup.html?renewal=<label> opens that
// certificate's renewal guide (reminder notifications link there).
import {
  adoptArguments, callArguments, callScIdArguments, offersStore, openRenewalGuide, renderCallProgress, renderCallResult,
  renderCallScIdSaved, renderCertificates, renderPopup, renderStoreOffer, renderTests, renewalArguments, renewalRefused,
  showCallChoice, showCallKey, showRefusal,
} from './wasm/caiso_access_extension.js';
import { wasmReady } from './wasm.js';
import { applyRedirect, effectiveSettings, extensionNow, saveSetting } from './settings.js';

// When the popup's first script (popup-first.js) started, for the popup-speed figure (status
// shown after this).
const scriptStart = Number(document.body.dataset.firstScriptMs ?? performance.now());
const api = globalThis.browser ?? globalThis.chrome;
const params = new URLSearchParams(location.search);
const askedTab = params.get('tab');
const askedRenewal = params.get('renewal');

async function inspectedTab() {
  if (askedTab) return api.tabs.get(Number(askedTab));
  if (askedRenewal) return null;
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab;
}


const hostRequest = (command, args) => api.runtime.sendMessage({ type: 'host-request', command, args });

async function main() {
  const [, tab, settings, cached, at] = await Promise.all([
    wasmReady,
    inspectedTab(),
    effectiveSettings(),
    api.storage.local.get('hostStatus'),
    extensionNow(),
  ]);
  const root = document.getElementById('app');
  // The last status the background saw, shown at once; the host's fresh answer replaces it.
  let hostAnswer = cached.hostStatus?.ok ? { ok: cached.hostStatus.ok } : null;
  let testsAnswer = null;
  const render = () => {
    renderPopup(root, tab?.url ?? null, settings);
    if (hostAnswer) renderCertificates(root, hostAnswer, at);
    if (testsAnswer) renderTests(root, testsAnswer, settings.environment);
  };
  render();
  // The whole popup drawn by the module (the tab, the launcher, the settings), for the bench.
  document.body.dataset.drawnMs = String(Math.round(performance.now()));
  if (hostAnswer) {
    document.getElementById('certificates')?.setAttribute('data-source', 'cache');
    // Unless popup-first.js showed the snapshot already.
    document.body.dataset.statusShownMs ??= String(Math.round(performance.now()));
    const shown = Number(document.body.dataset.statusShownMs);
    document.body.dataset.statusAfterScriptMs = String(Math.round(shown - scriptStart));
  }
  const openAskedGuide = () => {
    if (askedRenewal) openRenewalGuide(root, askedRenewal);
  };
  openAskedGuide();

  const refreshStatus = async () => {
    const answer = await api.runtime.sendMessage({ type: 'host-status' });
    hostAnswer = answer ?? { error: { code: 'host_unreachable', message: 'no answer from the background worker' } };
    renderCertificates(root, hostAnswer, at);
    const section = document.getElementById('certificates');
    section?.setAttribute('data-source', 'host');
    if (section && hostAnswer.ok) globalThis.keepPopupSnapshot?.(section);
    document.body.dataset.statusShownMs ??= String(Math.round(performance.now()));
    openAskedGuide();
    return hostAnswer;
  };
  // On Windows, CAISO's certificates in the certificate store that are not identities yet.
  const refreshStore = async (answer) => {
    if (offersStore(answer)) renderStoreOffer(root, await hostRequest('store_certificates', {}));
  };
  refreshStatus().then(async (answer) => {
    testsAnswer = answer?.ok ? await hostRequest('tests', {}) : answer;
    renderTests(root, testsAnswer, settings.environment);
    await refreshStore(answer);
  });

  // Progress of the running test call, relayed by the background worker.
  api.runtime.onMessage.addListener((message) => {
    if (message?.type === 'host-event' && message.command === 'call') renderCallProgress(root, message.event);
  });

  root.addEventListener('click', async (event) => {
    const go = event.target.closest('#go-new-url');
    const portal = event.target.closest('#launcher a');
    const step = event.target.closest('button[data-action]');
    if (go && tab) {
      await api.tabs.update(tab.id, { url: go.dataset.url });
      if (!askedTab) window.close();
    } else if (portal) {
      event.preventDefault();
      await api.tabs.create({ url: portal.href });
      if (!askedTab) window.close();
    } else if (step) {
      await renewalStep(step);
    } else if (event.target.closest('button.adopt')) {
      await adopt(event.target.closest('button.adopt'));
    } else if (event.target.closest('#run-call')) {
      await runCall();
    } else if (event.target.closest('#save-sc-id')) {
      await saveScId();
    } else if (event.target.closest('#save-exchange') && lastExchange) {
      saveExchange(event.target.closest('#save-exchange'));
    }
  });

  // The last call's exchange (requests sent, answers received) as the module wrote it, for
  // CAISO support; "Save exchange" carries its file name.
  let lastExchange = null;
  function saveExchange(button) {
    const blob = new Blob([lastExchange], { type: 'text/plain' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = button.dataset.file;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  // The SC ID is kept by the host (checked there: letters and digits); an empty field clears it.
  async function saveScId() {
    const args = callScIdArguments(root);
    const answer = await hostRequest('call_parameter', args);
    if (renderCallScIdSaved(root, answer, args, settings.environment)) testsAnswer = answer;
  }

  // "Use this certificate": the host adopts it by thumbprint; the popup, the badge and the
  // test section then show it like any identity.
  async function adopt(button) {
    button.disabled = true;
    const answer = await hostRequest('adopt', adoptArguments(button));
    if (showRefusal(document.getElementById('store-problem'), answer)) {
      button.disabled = false;
      return;
    }
    const status = await refreshStatus();
    testsAnswer = await hostRequest('tests', {});
    renderTests(root, testsAnswer, settings.environment);
    await refreshStore(status);
    await api.runtime.sendMessage({ type: 'check-certificates' });
  }

  async function renewalStep(button) {
    const args = renewalArguments(button);
    if (!args) return;
    button.disabled = true;
    const answer = await hostRequest('renewal', args);
    if (renewalRefused(button, answer)) {
      button.disabled = false;
      return;
    }
    await refreshStatus();
    document.getElementById(`renewal-${args.identity}`)?.setAttribute('open', '');
    await api.runtime.sendMessage({ type: 'check-certificates' });
  }

  async function runCall() {
    const button = document.getElementById('run-call');
    const args = callArguments(root);
    button.disabled = true;
    renderCallProgress(root, { stage: 'running', message: 'calling' });
    const answer = await hostRequest('call', args);
    lastExchange = renderCallResult(root, answer ?? { error: { code: 'internal', message: 'no answer' } }) ?? null;
    button.disabled = false;
    // Still disabled when the selected certificate's key cannot be opened here.
    if (testsAnswer) showCallKey(root, testsAnswer);
  }

  root.addEventListener('change', async (event) => {
    if (event.target.id === 'environment') {
      settings.environment = event.target.value;
      await saveSetting('environment', settings.environment);
      render();
      document.getElementById('environment')?.focus();
    } else if (event.target.id === 'call-identity' || event.target.id === 'call-operation') {
      if (testsAnswer) showCallChoice(root, testsAnswer);
    } else if (event.target.id === 'redirect-toggle') {
      settings.redirectEnabled = event.target.checked;
      if (await saveSetting('redirectEnabled', settings.redirectEnabled)) await applyRedirect(settings.redirectEnabled);
    }
  });
}

main().catch((error) => {
  const root = document.getElementById('app');
  root.textContent = `caiso-access could not start: ${error?.message ?? error}`;
  root.dataset.error = 'true';
});

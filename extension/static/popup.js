// caiso-access popup glue: gathers the inputs, lets the WebAssembly module build the content and
// decide what every control asks for and every answer means (extension/src), and wires the
// controls to browser APIs and the native host. Each handler is a named function.
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

// What the handlers share: the page's root, the inputs, the host's latest answers.
const popup = {
  root: null,
  tab: null,
  settings: null,
  at: 0,
  hostAnswer: null,
  testsAnswer: null,
  // The last call's exchange (requests sent, answers received) as the module wrote it, for
  // CAISO support; "Save exchange" carries its file name.
  lastExchange: null,
};

function render() {
  const { root, tab, settings, at, hostAnswer, testsAnswer } = popup;
  renderPopup(root, tab?.url ?? null, settings);
  if (hostAnswer) renderCertificates(root, hostAnswer, at);
  if (testsAnswer) renderTests(root, testsAnswer, settings.environment);
}

// The popup-speed figures the bench reads (status shown after the first script started).
function noteStatusShown() {
  document.body.dataset.statusShownMs ??= String(Math.round(performance.now()));
}

function openAskedGuide() {
  if (askedRenewal) openRenewalGuide(popup.root, askedRenewal);
}

async function refreshStatus() {
  const answer = await api.runtime.sendMessage({ type: 'host-status' });
  popup.hostAnswer = answer ?? { error: { code: 'host_unreachable', message: 'no answer from the background worker' } };
  renderCertificates(popup.root, popup.hostAnswer, popup.at);
  const section = document.getElementById('certificates');
  section?.setAttribute('data-source', 'host');
  if (section && popup.hostAnswer.ok) globalThis.keepPopupSnapshot?.(section);
  noteStatusShown();
  openAskedGuide();
  return popup.hostAnswer;
}

// On Windows, CAISO's certificates in the certificate store that are not identities yet.
async function refreshStore(answer) {
  if (offersStore(answer)) renderStoreOffer(popup.root, await hostRequest('store_certificates', {}));
}

async function refreshTests() {
  popup.testsAnswer = await hostRequest('tests', {});
  renderTests(popup.root, popup.testsAnswer, popup.settings.environment);
}

// Progress of the running test call, relayed by the background worker.
function onHostEvent(message) {
  if (message?.type === 'host-event' && message.command === 'call') renderCallProgress(popup.root, message.event);
}

async function goToNewAddress(button) {
  await api.tabs.update(popup.tab.id, { url: button.dataset.url });
  if (!askedTab) window.close();
}

async function openPortal(event, link) {
  event.preventDefault();
  await api.tabs.create({ url: link.href });
  if (!askedTab) window.close();
}

function saveExchange(button) {
  const blob = new Blob([popup.lastExchange], { type: 'text/plain' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = button.dataset.file;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// The SC ID is kept by the host (checked there: letters and digits); an empty field clears it.
async function saveScId() {
  const args = callScIdArguments(popup.root);
  const answer = await hostRequest('call_parameter', args);
  if (renderCallScIdSaved(popup.root, answer, args, popup.settings.environment)) popup.testsAnswer = answer;
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
  await refreshTests();
  await refreshStore(status);
  await api.runtime.sendMessage({ type: 'check-certificates' });
}

async function renewalStep(button) {
  const args = renewalArguments(button);
  if (!args) return; // the transaction ID is missing or wrong: the guide says so
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
  const args = callArguments(popup.root);
  button.disabled = true;
  renderCallProgress(popup.root, { stage: 'running', message: 'calling' });
  const answer = await hostRequest('call', args);
  popup.lastExchange = renderCallResult(popup.root, answer ?? { error: { code: 'internal', message: 'no answer' } }) ?? null;
  button.disabled = false;
  // Still disabled when the selected certificate's key cannot be opened here.
  if (popup.testsAnswer) showCallKey(popup.root, popup.testsAnswer);
}

async function onClick(event) {
  const target = event.target;
  const go = target.closest('#go-new-url');
  const portal = target.closest('#launcher a');
  const exchange = target.closest('#save-exchange');
  if (go && popup.tab) await goToNewAddress(go);
  else if (portal) await openPortal(event, portal);
  else if (target.closest('button[data-action]')) await renewalStep(target.closest('button[data-action]'));
  else if (target.closest('button.adopt')) await adopt(target.closest('button.adopt'));
  else if (target.closest('#run-call')) await runCall();
  else if (target.closest('#save-sc-id')) await saveScId();
  else if (exchange && popup.lastExchange) saveExchange(exchange);
}

async function changeEnvironment(select) {
  popup.settings.environment = select.value;
  await saveSetting('environment', select.value);
  render();
  document.getElementById('environment')?.focus();
}

async function changeRedirect(toggle) {
  popup.settings.redirectEnabled = toggle.checked;
  if (await saveSetting('redirectEnabled', toggle.checked)) await applyRedirect(toggle.checked);
}

async function onChange(event) {
  const { id } = event.target;
  if (id === 'environment') await changeEnvironment(event.target);
  else if (id === 'redirect-toggle') await changeRedirect(event.target);
  else if ((id === 'call-identity' || id === 'call-operation') && popup.testsAnswer) showCallChoice(popup.root, popup.testsAnswer);
}

async function main() {
  const [, tab, settings, cached, at] = await Promise.all([
    wasmReady,
    inspectedTab(),
    effectiveSettings(),
    api.storage.local.get('hostStatus'),
    extensionNow(),
  ]);
  Object.assign(popup, { root: document.getElementById('app'), tab, settings, at });
  // The last status the background saw, shown at once; the host's fresh answer replaces it.
  popup.hostAnswer = cached.hostStatus?.ok ? { ok: cached.hostStatus.ok } : null;
  render();
  // The whole popup drawn by the module (the tab, the launcher, the settings), for the bench.
  document.body.dataset.drawnMs = String(Math.round(performance.now()));
  if (popup.hostAnswer) {
    document.getElementById('certificates')?.setAttribute('data-source', 'cache');
    noteStatusShown(); // unless popup-first.js showed the snapshot already
    const shown = Number(document.body.dataset.statusShownMs);
    document.body.dataset.statusAfterScriptMs = String(Math.round(shown - scriptStart));
  }
  openAskedGuide();
  api.runtime.onMessage.addListener(onHostEvent);
  popup.root.addEventListener('click', onClick);
  popup.root.addEventListener('change', onChange);
  // The popup stays usable while the host answers (or fails to).
  loadHostState().catch((error) => console.warn('caiso-access: host', error));
}

// The host's fresh status, then its test calls and, on Windows, the store's certificates.
async function loadHostState() {
  const answer = await refreshStatus();
  if (answer?.ok) await refreshTests();
  else {
    popup.testsAnswer = answer;
    renderTests(popup.root, answer, popup.settings.environment);
  }
  await refreshStore(answer);
}

main().catch((error) => {
  const root = document.getElementById('app');
  root.textContent = `caiso-access could not start: ${error?.message ?? error}`;
  root.dataset.error = 'true';
});

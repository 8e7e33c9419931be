// caiso-access background worker (a module service worker in Chromium, a background script in
// Firefox). It keeps the redirect switch applied and marks old CAISO addresses on the toolbar.
// Decisions come from the WebAssembly module; listeners are registered synchronously at top
// level (service workers allow no top-level await), and each waits for the module when needed.
import init, { tabBadge } from './wasm/caiso_access_extension.js';
import { hostRequest, hostStatus } from './host.js';

const api = globalThis.browser ?? globalThis.chrome;
const RULESET = 'legacy_redirects';
const wasmReady = init({ module_or_path: new URL('./wasm/caiso_access_extension_bg.wasm', import.meta.url) });

// The browser keeps the enabled rulesets, but not across extension updates: re-apply the
// user's choice whenever the extension starts.
async function applyRedirectSetting() {
  const { redirectEnabled } = await api.storage.local.get({ redirectEnabled: true });
  await api.declarativeNetRequest.updateEnabledRulesets(
    redirectEnabled ? { enableRulesetIds: [RULESET] } : { disableRulesetIds: [RULESET] },
  );
}

async function markTab(tabId, url) {
  await wasmReady;
  let badge;
  try {
    badge = tabBadge(url);
  } catch {
    return; // not a URL: nothing to mark
  }
  await api.action.setBadgeText({ tabId, text: badge.text });
  if (badge.text) await api.action.setBadgeBackgroundColor({ tabId, color: badge.color });
  await api.action.setTitle({ tabId, title: badge.title });
}

api.runtime.onInstalled.addListener(() => applyRedirectSetting());
api.runtime.onStartup.addListener(() => applyRedirectSetting());
// tab.url is only visible for CAISO hosts (the extension's only host permission).
api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (tab.url && (change.url || change.status === 'complete')) {
    markTab(tabId, tab.url).catch((e) => console.warn('caiso-access: badge', e));
  }
});

// The extension's own pages reach the host through here: one connection serves them all.
// Messages from anything but this extension are ignored, and only these commands pass.
const PAGE_COMMANDS = new Set(['status', 'renewal', 'tests', 'call', 'diagnose', 'report']);
api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== api.runtime.id) return false;
  if (message?.type === 'host-status') {
    hostStatus().then(async (answer) => {
      if (answer.ok) await api.storage.local.set({ hostStatus: { at: Date.now(), ...answer } });
      sendResponse(answer);
    });
    return true; // answered asynchronously
  }
  if (message?.type === 'host-request' && PAGE_COMMANDS.has(message.command)) {
    // Progress of a test call goes to every open extension page, tagged with its arguments.
    const onEvent = (event) =>
      api.runtime.sendMessage({ type: 'host-event', command: message.command, args: message.args, event }).catch(() => {});
    hostRequest(message.command, message.args ?? {}, onEvent).then(sendResponse);
    return true;
  }
  return false;
});

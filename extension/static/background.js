// caiso-access background worker (a module service worker in Chromium, a background script in
// Firefox). It keeps the redirect switch applied and marks old CAISO addresses on the toolbar.
// Decisions come from the WebAssembly module; listeners are registered synchronously at top
// level (service workers allow no top-level await), and each waits for the module when needed.
import { dueReminders, historyWithCall, reminderLabel, statusBadge, tabBadge } from './wasm/caiso_access_extension.js';
import { wasmReady } from './wasm.js';
import { hostRequest, hostStatus } from './host.js';
import { applyRedirect, effectiveSettings, extensionNow } from './settings.js';

const api = globalThis.browser ?? globalThis.chrome;

// The browser keeps the enabled rulesets, but not across extension updates: re-apply the
// user's (or the organisation's) choice whenever the extension starts or the policy changes.
async function applyRedirectSetting() {
  const { redirectEnabled } = await effectiveSettings();
  await applyRedirect(redirectEnabled);
}

async function markTab(tabId, url) {
  await wasmReady;
  let badge;
  try {
    badge = tabBadge(url);
  } catch {
    return; // not a URL: nothing to mark
  }
  if (badge.text) {
    await api.action.setBadgeText({ tabId, text: badge.text });
    await api.action.setBadgeBackgroundColor({ tabId, color: badge.color });
    await api.action.setTitle({ tabId, title: badge.title });
  } else {
    // Back to the window-wide badge and title (the certificates' state).
    await api.action.setBadgeText({ tabId, text: null });
    await api.action.setTitle({ tabId, title: null }).catch(() => api.action.setTitle({ tabId, title: '' }));
  }
}

// Certificate reminders: a daily alarm and every browser start ask the host for the status,
// set the toolbar badge and show the notifications that are due. What was notified is kept in
// storage, so each threshold is notified once, across browser restarts.
const REMINDER_ALARM = 'certificate-reminders';


function localDay(ms) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

async function checkCertificates() {
  await wasmReady;
  const answer = await hostStatus();
  if (answer.ok) await api.storage.local.set({ hostStatus: { at: Date.now(), ...answer } });
  // Thresholds chosen by policy or in the options page (null: the host's).
  const [at, { thresholds }, { reminderRecord }] = await Promise.all([
    extensionNow(), effectiveSettings(), api.storage.local.get({ reminderRecord: {} }),
  ]);
  const badge = statusBadge(answer, at, thresholds);
  await api.action.setBadgeText({ text: badge.text });
  await api.action.setBadgeBackgroundColor({ color: badge.color });
  await api.action.setTitle({ title: badge.title });
  const due = dueReminders(answer, reminderRecord, at, localDay(at), thresholds);
  for (const reminder of due.reminders) {
    await api.notifications.create(reminder.id, {
      type: 'basic',
      iconUrl: api.runtime.getURL('icons/icon-128.png'),
      title: reminder.title,
      message: reminder.message,
      priority: reminder.priority,
    });
  }
  await api.storage.local.set({ reminderRecord: due.record });
  return { badge, reminders: due.reminders };
}

function scheduleReminders() {
  api.alarms.create(REMINDER_ALARM, { delayInMinutes: 1, periodInMinutes: 24 * 60 });
  checkCertificates().catch((e) => console.warn('caiso-access: reminders', e));
}

api.runtime.onInstalled.addListener(() => {
  applyRedirectSetting();
  scheduleReminders();
});
api.runtime.onStartup.addListener(() => {
  applyRedirectSetting();
  scheduleReminders();
});
api.storage.onChanged.addListener((changes, area) => {
  if (area === 'managed') {
    applyRedirectSetting();
    checkCertificates().catch((e) => console.warn('caiso-access: reminders', e));
  }
});
api.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === REMINDER_ALARM) checkCertificates().catch((e) => console.warn('caiso-access: reminders', e));
});
// A reminder opens the renewal guide of its certificate.
api.notifications.onClicked.addListener(async (id) => {
  await wasmReady;
  const label = reminderLabel(id);
  if (label) {
    api.tabs.create({ url: api.runtime.getURL(`popup.html?renewal=${encodeURIComponent(label)}`) });
    api.notifications.clear(id);
  }
});
// tab.url is only visible for CAISO hosts (the extension's only host permission).
api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (tab.url && (change.url || change.status === 'complete')) {
    markTab(tabId, tab.url).catch((e) => console.warn('caiso-access: badge', e));
  }
});

// The history of test calls (the options page shows it; the module writes each entry).
async function remember(args, answer) {
  await wasmReady;
  const { callHistory = [] } = await api.storage.local.get('callHistory');
  await api.storage.local.set({ callHistory: historyWithCall(callHistory, args, answer, Date.now()) });
}

// The extension's own pages reach the host through here: one connection serves them all.
// Messages from anything but this extension are ignored, and only these commands pass.
const PAGE_COMMANDS = new Set(['status', 'renewal', 'tests', 'call', 'diagnose', 'report', 'call_parameter',
  'store_certificates', 'adopt']);
api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== api.runtime.id) return false;
  if (message?.type === 'host-status') {
    hostStatus().then(async (answer) => {
      if (answer.ok) await api.storage.local.set({ hostStatus: { at: Date.now(), ...answer } });
      sendResponse(answer);
    });
    return true; // answered asynchronously
  }
  if (message?.type === 'check-certificates') {
    // The same check the daily alarm makes (pages use it after a renewal step; tests after
    // moving the clock).
    checkCertificates().then(sendResponse, (e) => sendResponse({ error: { code: 'internal', message: String(e) } }));
    return true;
  }
  if (message?.type === 'host-request' && PAGE_COMMANDS.has(message.command)) {
    // Progress of a test call goes to every open extension page, tagged with its arguments.
    const onEvent = (event) =>
      api.runtime.sendMessage({ type: 'host-event', command: message.command, args: message.args, event }).catch(() => {});
    hostRequest(message.command, message.args ?? {}, onEvent).then(async (answer) => {
      if (message.command === 'call') await remember(message.args, answer);
      sendResponse(answer);
    });
    return true;
  }
  return false;
});

// caiso-access options page: environment, reminder thresholds, redirection (each shown as set
// by the organisation when policy manages it), the native host's version, the SC ID test calls
// query per certificate (kept and checked by the host) and the history of test calls.
import { parseThresholds } from './wasm/caiso_access_extension.js';
import { wasmReady } from './wasm.js';
import { applyRedirect, effectiveSettings, saveSetting } from './settings.js';

const api = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);

function said(text) {
  $('saved').textContent = text;
}

async function showSettings() {
  const settings = await effectiveSettings();
  $('environment').value = settings.environment;
  $('redirectEnabled').checked = settings.redirectEnabled;
  $('thresholds').value = settings.thresholds ? settings.thresholds.join(', ') : '';
  for (const key of ['environment', 'thresholds', 'redirectEnabled']) {
    const managed = Boolean(settings.managed[key]);
    $(key).disabled = managed;
    document.querySelector(`.managed[data-for="${key}"]`).hidden = !managed;
  }
  $('managed-note').hidden = Object.keys(settings.managed).length === 0;
  // A policy value that breaks the rules is ignored; say so rather than show it.
  const refused = settings.refused?.thresholds;
  $('thresholds-error').textContent = refused
    ? `Your organisation's policy sets reminder thresholds that cannot be used (${refused}); the host's thresholds apply.`
    : '';
  if (refused) $('thresholds').dataset.policyRefused = 'true';
  document.body.dataset.managed = Object.keys(settings.managed).sort().join(' ');
}

async function showHost() {
  const answer = await api.runtime.sendMessage({ type: 'host-status' });
  const state = $('host-state');
  if (answer?.ok) {
    state.textContent = `caiso-access host ${answer.ok.host.host_version} (protocol ${answer.ok.host.protocol}, ${answer.ok.host.os}), ${answer.ok.host.identities} certificate(s) configured.`;
    state.dataset.hostVersion = answer.ok.host.host_version;
  } else {
    state.textContent = `The native host is not reachable (${answer?.error?.message ?? 'no answer'}). Install it and run \`caiso-access install\`.`;
    state.dataset.code = answer?.error?.code ?? 'host_unreachable';
  }
}

const hostRequest = (command, args) => api.runtime.sendMessage({ type: 'host-request', command, args });

/** The host's `tests` answer (or a `call_parameter` answer, the same shape) as SC ID rows. */
function showScIds(answer) {
  const body = document.querySelector('#sc-ids-table tbody');
  body.replaceChildren();
  const identities = answer?.ok?.identities ?? [];
  $('sc-ids-state').textContent = answer?.ok
    ? (identities.length ? '' : 'No certificate configured in the host yet.')
    : `The host did not answer (${answer?.error?.message ?? 'no answer'}).`;
  $('sc-ids-state').hidden = Boolean(answer?.ok && identities.length);
  for (const identity of identities) {
    const row = document.createElement('tr');
    row.dataset.label = identity.label;
    const name = document.createElement('td');
    name.textContent = `${identity.label} (${identity.environment})`;
    const cell = document.createElement('td');
    const input = document.createElement('input');
    input.className = 'sc-id';
    input.maxLength = 12;
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.placeholder = 'none set';
    input.value = identity.parameters?.sc_id ?? '';
    input.setAttribute('aria-label', `SC ID for ${identity.label}`);
    cell.append(input);
    const action = document.createElement('td');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'save-sc-id';
    button.textContent = 'Set';
    button.setAttribute('aria-label', `Set the SC ID for ${identity.label}`);
    action.append(button);
    row.append(name, cell, action);
    body.append(row);
  }
  $('sc-ids-table').hidden = identities.length === 0;
}

async function saveScId(row) {
  const value = row.querySelector('.sc-id').value.trim();
  const answer = await hostRequest('call_parameter', { identity: row.dataset.label, parameter: 'sc_id', value: value || null });
  if (!answer?.ok) {
    $('sc-ids-error').textContent = answer?.error?.message ?? 'The host did not answer.';
    return; // nothing changed: the host refused it
  }
  $('sc-ids-error').textContent = '';
  showScIds(answer);
  said(value ? `${row.dataset.label}: test calls query SC ID ${value.toUpperCase()}.` : `${row.dataset.label}: no SC ID.`);
}

async function showHistory() {
  const { callHistory = [] } = await api.storage.local.get('callHistory');
  const body = document.querySelector('#history-table tbody');
  body.replaceChildren();
  for (const entry of callHistory) {
    const row = document.createElement('tr');
    const cells = [
      new Date(entry.at).toLocaleString(),
      `${entry.system} ${entry.service}`,
      `${entry.environment} as ${entry.identity}`,
      entry.title,
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    row.lastChild.className = entry.ok ? 'ok' : 'failed';
    row.dataset.class = entry.class;
    body.append(row);
  }
  $('history-table').hidden = callHistory.length === 0;
  $('history-empty').hidden = callHistory.length > 0;
}

async function main() {
  await wasmReady;
  await showSettings();
  $('environment').addEventListener('change', async (event) => {
    if (await saveSetting('environment', event.target.value)) said('Environment saved.');
  });
  $('redirectEnabled').addEventListener('change', async (event) => {
    if (await saveSetting('redirectEnabled', event.target.checked)) {
      await applyRedirect(event.target.checked);
      said(event.target.checked ? 'Redirection on.' : 'Redirection off.');
    }
  });
  $('thresholds').addEventListener('change', async (event) => {
    const text = event.target.value.trim();
    $('thresholds-error').textContent = '';
    let days = null;
    if (text) {
      try {
        days = Array.from(parseThresholds(text));
      } catch (error) {
        $('thresholds-error').textContent = error.message;
        return; // nothing saved: the previous thresholds stay
      }
    }
    if (await saveSetting('thresholds', days)) {
      event.target.value = days ? days.join(', ') : '';
      said(days ? `Reminders at ${days.join(', ')} days.` : "Reminders at the host's thresholds.");
      await api.runtime.sendMessage({ type: 'check-certificates' });
    }
  });
  api.storage.onChanged.addListener((changes, area) => {
    if (area === 'managed') showSettings();
    if (area === 'local' && changes.callHistory) showHistory();
  });
  document.getElementById('sc-ids').addEventListener('click', async (event) => {
    const row = event.target.closest('.save-sc-id')?.closest('tr');
    if (row) await saveScId(row);
  });
  await Promise.all([showHost(), showHistory(), hostRequest('tests', {}).then(showScIds)]);
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  document.body.dataset.error = String(error?.message ?? error);
});

// End-to-end: the built add-on in a real Firefox ESR, every CAISO host served locally.
// Run from the repository root: node --test tests/e2e/firefox.test.mjs
//
// Playwright cannot load Firefox add-ons, so web-ext starts Firefox and a driver page on the
// stand-in server walks the browser through the cases: the driver opens one address, the
// stand-in page that answers sends the browser back to the driver, which opens the next one.
// What happened is read from the server's request log, where every request is tagged with the
// step it belongs to.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostsOf, loadCases } from './lib/cases.mjs';
import { launchFirefox } from './lib/firefox.mjs';
import { standInPage, startServer } from './lib/server.mjs';

const TIME_LIMIT_MS = 120_000; // whole run, start-up included
const WARM_UP_PAUSE_MS = 250; // between warm-up probes, while the add-on is being installed

const cases = loadCases();
const hostOf = (url) => new URL(url).hostname;
const pathOf = (url) => { const u = new URL(url); return u.pathname + u.search; };

// Unchanged addresses are steps too: they must arrive where they were sent.
const steps = [
  ...cases.redirects.map(({ from, to }) => ({ from, to })),
  ...cases.unchanged.map((url) => ({ from: url, to: url })),
];
const currentHosts = new Set(steps.map((s) => hostOf(s.to)));
const legacyOnlyHosts = new Set(cases.redirects.map((c) => hostOf(c.from)).filter((h) => !currentHosts.has(h)));
const probe = cases.redirects.find((c) => legacyOnlyHosts.has(hostOf(c.from))) ?? cases.redirects[0];

const state = { phase: 'warm-up', step: -1, warmUps: 0, owner: null, sinceNext: [] };
let finished;
const walkDone = new Promise((resolve) => { finished = resolve; });
let server;
let firefox;
let walk; // {ok, reason} once the walk ended

// The driver page asks the server where to go next. Firefox opens the start URL a second time
// shortly after start-up (a new tab, seen in the request log), so the first tab to ask claims
// the walk (its id lives in sessionStorage, which is per tab) and any other tab is told to stop.
// It navigates only after its own load event, so no navigation is cut short.
const DRIVER_PAGE = `<!doctype html><title>caiso-access e2e driver</title><p id="what">driver</p><script>
const tab = sessionStorage.getItem('driver') ?? String(Math.random()).slice(2);
sessionStorage.setItem('driver', tab);
addEventListener('load', async () => {
  const { url, delay, text } = await (await fetch('/next?tab=' + tab, { cache: 'no-store' })).json();
  document.getElementById('what').textContent = text;
  if (url) setTimeout(() => location.replace(url), delay);
});
</script>`;

/** Decides the driver's next address; advances the walk. */
function next(tab) {
  state.owner ??= tab;
  if (tab !== state.owner) return { text: 'another tab drives the walk' };
  const seen = state.sinceNext;
  state.sinceNext = [];
  if (state.phase === 'warm-up') {
    // The add-on is in place once the probe arrives redirected without touching the old host.
    const redirected = seen.some((r) => r.host === hostOf(probe.to) && r.url === pathOf(probe.to))
      && !seen.some((r) => r.host === hostOf(probe.from));
    if (!redirected) {
      state.warmUps += 1;
      return { text: `warming up (${state.warmUps})`, url: probe.from, delay: state.warmUps > 1 ? WARM_UP_PAUSE_MS : 0 };
    }
    state.phase = 'run';
  }
  if (state.phase === 'run') state.step += 1;
  if (state.step >= steps.length) {
    state.phase = 'done';
    finished({ ok: true });
    return { text: 'done' };
  }
  return { text: `step ${state.step}`, url: steps[state.step].from, delay: 0 };
}

function handle(req, res, entry) {
  entry.phase = state.phase;
  entry.step = state.step;
  const reply = (type, body) => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
    return true;
  };
  if (entry.host === '127.0.0.1' && req.url === '/driver') return reply('text/html; charset=utf-8', DRIVER_PAGE);
  if (entry.host === '127.0.0.1' && req.url.startsWith('/next?')) {
    const tab = new URL(req.url, 'http://127.0.0.1').searchParams.get('tab');
    return reply('application/json', JSON.stringify(next(tab)));
  }
  if (entry.host.endsWith('caiso.com')) {
    state.sinceNext.push(entry);
    // Back to the driver for the next address, once this page has loaded.
    const back = `<script>addEventListener('load', () => setTimeout(() => `
      + `location.replace('http://127.0.0.1:${server.port}/driver')));</script>`;
    return reply('text/html; charset=utf-8', standInPage(entry.host, req.url, back));
  }
  return false;
}

before(async () => {
  server = await startServer({ hosts: hostsOf(cases), handle });
  firefox = launchFirefox({
    port: server.port,
    hosts: hostsOf(cases),
    caPath: server.caPath,
    startUrl: `http://127.0.0.1:${server.port}/driver`,
  });
  let timer;
  walk = await Promise.race([
    walkDone,
    firefox.exited.then((code) => ({ ok: false, reason: `web-ext exited early (code ${code})` })),
    new Promise((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `time limit of ${TIME_LIMIT_MS / 1000} s reached` }), TIME_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
});

after(async () => {
  await firefox?.stop();
  await server?.close();
});

describe('Firefox: legacy addresses are redirected before the request leaves the browser', () => {
  test('the driver walked through every case', () => {
    const hint = state.phase === 'warm-up' ? ` (the add-on never redirected the probe ${probe.from})` : '';
    assert.ok(walk.ok, `${walk.reason}${hint}; phase ${state.phase}, step ${state.step} of ${steps.length}, `
      + `${state.warmUps} warm-up probes, ${server.requests.length} requests.\nweb-ext output:\n${firefox.log()}`);
  });

  steps.forEach(({ from, to }, i) => {
    test(from === to ? `${from} stays` : `${from} -> ${to}`, (t) => {
      if (!walk.ok) return t.skip('the walk did not finish');
      const requests = server.requests.filter((r) => r.phase === 'run' && r.step === i);
      assert.ok(requests.some((r) => r.host === hostOf(to) && r.url === pathOf(to)),
        `the browser should have arrived at ${to}; it asked for ${JSON.stringify(requests.map((r) => r.host + r.url))}`);
      if (from !== to) {
        const legacy = requests.filter((r) => (legacyOnlyHosts.has(hostOf(from))
          ? r.host === hostOf(from)
          : r.host === hostOf(from) && r.url === pathOf(from)));
        assert.deepEqual(legacy, [], `the legacy address ${from} must never be contacted`);
      }
    });
  });

  test('no request reached a legacy-only host after warm-up', (t) => {
    if (!walk.ok) return t.skip('the walk did not finish');
    assert.ok(legacyOnlyHosts.size > 0, 'the cases should include legacy-only hosts');
    const hits = server.requests.filter((r) => r.phase !== 'warm-up' && legacyOnlyHosts.has(r.host));
    assert.deepEqual(hits, [], 'legacy hosts were contacted');
  });
});

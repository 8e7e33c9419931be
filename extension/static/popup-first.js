// caiso-access popup, first paint: the certificate section as the popup last drew it from the
// host's answer, shown before the WebAssembly module and the browser's answers arrive; popup.js
// draws the popup afresh a few milliseconds later and keeps the new snapshot. The page's only
// script, classic, at the end of the page: it runs as soon as the page is parsed, with no module
// to load and nothing to wait for (localStorage answers at once), then loads the modules. Loading them from
// the page itself would put their fetching and compiling before this drawing (about 10 ms later,
// measured by `cargo xtask bench`). A snapshot is used only on the day it was drawn: its "days
// left" are that day's.
'use strict';

{
  const KEY = 'caiso-access:popup-certificates';
  const today = () => new Date().toDateString();
  document.body.dataset.firstScriptMs = String(performance.now());

  /** Keeps `section` (the certificate section drawn from the host's answer) for the next opening. */
  globalThis.keepPopupSnapshot = (section) => {
    try {
      localStorage.setItem(KEY, JSON.stringify({ day: today(), html: section.outerHTML }));
    } catch {
      // Storage off or full: the next opening waits for the module, as without a snapshot.
    }
  };

  /** Draws the kept snapshot of today, if there is one; true when it did. */
  const drawSnapshot = () => {
    let snapshot = null;
    try {
      snapshot = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    } catch {
      localStorage.removeItem(KEY); // not JSON: dropped (storage that is off throws again, below)
    }
    if (snapshot?.day !== today() || typeof snapshot.html !== 'string') return false;
    const template = document.createElement('template');
    template.innerHTML = snapshot.html;
    const section = template.content.firstElementChild;
    if (section?.id !== 'certificates') return false;
    section.dataset.source = 'snapshot';
    // The tab's card keeps its place; what the tab is comes with the module.
    const tab = document.createElement('section');
    tab.className = 'card tab';
    tab.append(Object.assign(document.createElement('h2'), { textContent: 'This tab' }),
      Object.assign(document.createElement('p'), { className: 'detail', textContent: '…' }));
    document.getElementById('app').replaceChildren(tab, section);
    return true;
  };
  try {
    if (drawSnapshot()) {
      document.body.dataset.firstPaint = 'snapshot';
      document.body.dataset.statusShownMs = String(Math.round(performance.now()));
    }
  } catch {
    // Storage that cannot be read (switched off by policy or the user): the module draws it all.
  }

  // Then the popup itself: its modules and the WebAssembly module, fetched together (popup.js
  // alone would find its imports one after the other). Asked for only now, they do not delay
  // the drawing above.
  const load = (tag, attributes) => document.head.append(Object.assign(document.createElement(tag), attributes));
  for (const href of ['wasm/caiso_access_extension.js', 'wasm.js', 'settings.js']) load('link', { rel: 'modulepreload', href });
  load('link', { rel: 'preload', href: 'wasm/caiso_access_extension_bg.wasm', as: 'fetch', type: 'application/wasm', crossOrigin: 'anonymous' });
  load('script', { type: 'module', src: 'popup.js' });
}

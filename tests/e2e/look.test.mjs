// End-to-end: look and feel in a real Chromium with the real host. Every control of the popup
// and the options page is reachable with Tab in reading order and shows where the focus is; the
// renewal guide works from the keyboard alone; every element's own text stays readable (WCAG AA
// contrast, 4.5:1) in light and in dark mode; nothing is loaded from outside the extension.
// Run from the repository root: node --test tests/e2e/look.test.mjs

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDir, fromRoot, hostsOf, loadCases } from './lib/cases.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { hostConfig } from './lib/host.mjs';
import { startServer } from './lib/server.mjs';

const artifacts = ensureDir(fromRoot('target', 'e2e-artifacts'));
const MIN_CONTRAST = 4.5;

let server;
let host;
let browser;

before(async () => {
  server = await startServer({ hosts: hostsOf(loadCases()) });
  host = hostConfig();
  browser = await launchChromium({ port: server.port, nativeHost: host.nativeHost });
});

after(async () => {
  await browser?.close();
  await server?.close();
  host?.remove();
});

/** Opens an extension page (popup or options) ready for use, in the given colour scheme. */
async function openPage(path, colorScheme = 'light') {
  const page = await browser.context.newPage();
  await page.emulateMedia({ colorScheme });
  await page.goto(`chrome-extension://${browser.extensionId}/${path}`);
  if (path.startsWith('popup')) {
    await page.waitForSelector('#certificates[data-source="host"]');
    await page.waitForSelector('#api-tests[data-state]');
  } else {
    await page.waitForSelector('body[data-ready="true"]');
  }
  return page;
}

/** In the page: the visible interactive elements in document order, each named by a short path. */
function focusables() {
  const name = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      parts.unshift(e.id ? `#${e.id}` : `${e.tagName.toLowerCase()}:nth-child(${[...e.parentElement.children].indexOf(e) + 1})`);
      if (e.id) break;
    }
    return parts.join('>');
  };
  globalThis.nameOf = name;
  // How each control looks without the focus, to tell a focus ring from a permanent outline.
  const look = (el) => { const style = getComputedStyle(el); return `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor} ${style.boxShadow}`; };
  globalThis.lookOf = look;
  globalThis.unfocusedLook = new Map();
  const selector = 'a[href], button:not([disabled]), select:not([disabled]), input:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const controls = [...document.querySelectorAll(selector)].filter((el) => el.checkVisibility());
  for (const el of controls) globalThis.unfocusedLook.set(el, look(el));
  return controls.map(name);
}

/** Tabs through the page; returns what got the focus and whether a focus ring was drawn. */
async function tabThrough(page, count) {
  const seen = [];
  for (let i = 0; i < count; i += 1) {
    await page.keyboard.press('Tab');
    seen.push(await page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      const drawn = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1) || style.boxShadow !== 'none';
      // A ring is something drawn that the control does not have without the focus.
      const ring = drawn && globalThis.lookOf(el) !== globalThis.unfocusedLook.get(el);
      return { name: globalThis.nameOf(el), ring, visible: el.matches(':focus-visible') };
    }));
  }
  return seen;
}

describe('fit', () => {
  test('popup.html: nothing sticks out past its section or the popup, the API test section included', async () => {
    const page = await openPage('popup.html');
    await page.waitForSelector('#call-sc-id');
    // The longest option chosen in each select: what makes a select widest.
    await page.evaluate(() => {
      for (const select of document.querySelectorAll('#api-tests select')) {
        const longest = [...select.options].reduce((a, b) => (b.text.length > a.text.length ? b : a));
        select.value = longest.value;
      }
    });
    const fit = await page.evaluate(() => {
      const name = (el) => (el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
      const outside = [];
      for (const el of document.querySelectorAll('body *')) {
        if (!el.checkVisibility()) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0) continue;
        const section = el.parentElement?.closest('.card, header') ?? document.body;
        const edge = section.getBoundingClientRect();
        if (box.right > edge.right + 0.5 || box.left < edge.left - 0.5) {
          outside.push(`${name(el)} [${Math.round(box.left)}, ${Math.round(box.right)}] in ${name(section)} [${Math.round(edge.left)}, ${Math.round(edge.right)}]`);
        }
      }
      const root = document.documentElement;
      return { outside, scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
    });
    // With the four demo certificates: those needing attention first, the one that is fine one
    // line after them (positions in page coordinates, before any scrolling).
    const cards = await page.evaluate(() => [...document.querySelectorAll('.identity')].map((card) => ({
      label: card.dataset.label,
      collapsed: card.dataset.collapsed === 'true',
      bottom: Math.round(card.getBoundingClientRect().bottom + window.scrollY),
      height: Math.round(card.getBoundingClientRect().height),
    })));
    assert.deepEqual(cards.map((c) => c.collapsed), [false, false, false, true], JSON.stringify(cards));
    assert.equal(cards.at(-1).label, 'production');
    assert.ok(cards.at(-1).height < 30, JSON.stringify(cards));
    // Everything that needs attention is within the popup's first 600 px.
    console.log(`popup fit: the last certificate needing attention ends at ${cards.at(-2).bottom} px`);
    assert.ok(cards.at(-2).bottom <= 600, JSON.stringify(cards));
    await page.locator('#api-tests').screenshot({ path: join(artifacts, 'popup-api-tests-fit.png') });
    await page.screenshot({ path: join(artifacts, 'popup-fit.png'), fullPage: true });
    assert.deepEqual(fit.outside, []);
    assert.ok(fit.scrollWidth <= fit.clientWidth, `the popup scrolls sideways: ${fit.scrollWidth} > ${fit.clientWidth}`);
    await page.close();
  });
});

describe('keyboard', () => {
  for (const path of ['popup.html', 'options.html']) {
    test(`${path}: Tab visits every control in reading order, each with a visible focus ring`, async () => {
      const page = await openPage(path);
      const expected = await page.evaluate(focusables);
      assert.ok(expected.length >= (path === 'popup.html' ? 20 : 3), `only ${expected.length} controls found`);
      const seen = await tabThrough(page, expected.length);
      assert.deepEqual(seen.map((s) => s.name), expected);
      const ringless = seen.filter((s) => !s.ring || !s.visible).map((s) => s.name);
      assert.deepEqual(ringless, [], 'controls without a visible focus ring');
      // Shift+Tab goes back the same way.
      await page.keyboard.press('Shift+Tab');
      assert.equal(await page.evaluate(() => globalThis.nameOf(document.activeElement)), expected.at(-2));
      await page.close();
    });
  }

  test('a reminder\'s link opens that certificate\'s guide with the focus on its next step', async () => {
    const page = await browser.context.newPage();
    await page.goto(`chrome-extension://${browser.extensionId}/popup.html?renewal=cyber`);
    // The cyber certificate is fresh enough that its guide is closed unless asked for.
    await page.waitForSelector('#renewal-cyber[open]');
    await page.waitForFunction(() => document.getElementById('renewal-cyber').contains(document.activeElement));
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'approved');
    await page.close();
  });

  test('the renewal guide opens and its step is recorded from the keyboard alone', async () => {
    const page = await openPage('popup.html');
    // The fresh certificate is one line: walk to it and open it with Enter.
    const line = '.identity[data-label="production"] details.fine > summary';
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((s) => document.activeElement.matches(s), line)) break;
    }
    assert.ok(await page.evaluate((s) => document.activeElement.matches(s), line), 'the one-line card took the focus');
    await page.keyboard.press('Enter');
    // Then to its (closed) guide, opened with Enter.
    for (let i = 0; i < 60; i += 1) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement.matches('#renewal-production > summary'))) break;
    }
    assert.ok(await page.evaluate(() => document.activeElement.matches('#renewal-production > summary')), 'the guide summary took the focus');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#renewal-production').getAttribute('open'), '');
    // The next Tab is the step's button; Space presses it.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'approved');
    await page.keyboard.press('Space');
    await page.waitForSelector('#renewal-production li[data-step="approved"][data-state="done"]');
    await page.close();
  });
});

/** In the page: text elements whose contrast against what is behind them is below `min`. */
function lowContrast(min) {
  const parse = (text) => {
    const m = text.match(/^rgba?\(([^)]+)\)$/) ?? text.match(/^color\(srgb ([^)]+)\)$/);
    if (!m) throw new Error(`unreadable colour ${text}`);
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    const scale = text.startsWith('color(') ? 255 : 1;
    return { r: parts[0] * scale, g: parts[1] * scale, b: parts[2] * scale, a: parts[3] ?? 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const lin = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const backdrop = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) layers.push(parse(getComputedStyle(e).backgroundColor));
    return layers.reverse().reduce((below, layer) => over(layer, below), { r: 255, g: 255, b: 255, a: 1 });
  };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!ownText || !el.checkVisibility()) continue;
    const back = backdrop(el);
    const fore = over(parse(getComputedStyle(el).color), back);
    const [l1, l2] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < min) low.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  const page = luminance(backdrop(document.body));
  return { low, pageLuminance: page };
}

describe('light and dark', () => {
  for (const scheme of ['light', 'dark']) {
    for (const path of ['popup.html', 'options.html']) {
      test(`${path} in ${scheme} mode: all text at ${MIN_CONTRAST}:1 or better`, async () => {
        const page = await openPage(path, scheme);
        const { low, pageLuminance } = await page.evaluate(lowContrast, MIN_CONTRAST);
        assert.deepEqual(low, []);
        if (scheme === 'dark') assert.ok(pageLuminance < 0.05, `the page is not dark (${pageLuminance})`);
        else assert.ok(pageLuminance > 0.8, `the page is not light (${pageLuminance})`);
        await page.screenshot({ path: join(artifacts, `${path.replace('.html', '')}-${scheme}.png`), fullPage: true });
        await page.close();
      });
    }
  }
});

describe('self-contained', () => {
  test('the pages load nothing from outside the extension', async () => {
    const own = `chrome-extension://${browser.extensionId}/`;
    const outside = [];
    const inside = [];
    const page = await browser.context.newPage();
    page.on('request', (request) => (request.url().startsWith(own) ? inside : outside).push(request.url()));
    for (const path of ['popup.html', 'options.html']) {
      await page.goto(own + path);
      await page.waitForLoadState('networkidle');
      const fonts = await page.evaluate(() => [...document.fonts].map((f) => f.family));
      assert.deepEqual(fonts, [], `${path}: no web fonts`);
    }
    // The requests are seen at all: the pages' own files are among them.
    for (const file of ['popup.js', 'popup.css', 'caiso_access_extension_bg.wasm', 'options.js']) {
      assert.ok(inside.some((url) => url.endsWith(file)), `${file} was not seen loading`);
    }
    assert.deepEqual(outside, []);
    await page.close();
  });
});

// Paths inside the repository and the test cases the build writes from the endpoint catalog.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fromRoot = (...parts) => join(repoRoot, ...parts);

/**
 * The cargo profile folder the host and the sandbox are taken from: `release` (what ships, what
 * the tests run), or the one `CAISO_E2E_HOST_BUILD` names (`debug` for the demo, which builds
 * only that).
 */
export const hostBuild = process.env.CAISO_E2E_HOST_BUILD ?? 'release';

export const casesPath = fromRoot('target', 'e2e', 'cases.json');

/** `{redirects: [{from, to}], unchanged: [url]}`, as written by the build. */
export function loadCases() {
  if (!existsSync(casesPath)) {
    throw new Error(`${casesPath} is missing: build the extension first (it writes the e2e cases)`);
  }
  const cases = JSON.parse(readFileSync(casesPath, 'utf8'));
  if (!cases.redirects?.length) throw new Error(`${casesPath} lists no redirects`);
  return { redirects: cases.redirects, unchanged: cases.unchanged ?? [] };
}

/** Every host name the cases mention (lower case, no duplicates). */
export function hostsOf(cases) {
  const urls = [...cases.redirects.flatMap((c) => [c.from, c.to]), ...cases.unchanged];
  return [...new Set(urls.map((u) => new URL(u).hostname))].sort();
}

/** The directory, created if needed. */
export function ensureDir(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}

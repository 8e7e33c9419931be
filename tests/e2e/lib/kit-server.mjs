// The roll-out kit's folder served as IT's web server serves it (loopback only): every file but
// the policies, which are pushed to desktops, not served. Records what was asked for.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const TYPES = { '.xml': 'text/xml', '.json': 'application/json', '.crx': 'application/x-chrome-extension', '.xpi': 'application/x-xpinstall' };

/** Serves `kit` on 127.0.0.1:`port`; resolves with `{ served, close }`. */
export async function serveKit(kit, port) {
  const served = [];
  const server = http.createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url, 'http://x').pathname).replace(/^\/+/, '');
    served.push(name);
    try {
      if (name.includes('..') || name.startsWith('policies')) throw new Error('not served');
      const body = readFileSync(join(kit, name));
      const type = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
      response.writeHead(200, { 'content-type': type, 'content-length': body.length });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { served, close: () => new Promise((resolve) => server.close(resolve)) };
}

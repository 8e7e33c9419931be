// Local stand-in for every *.caiso.com host, for the end-to-end tests.
//
// One TCP port speaks both TLS and plain HTTP: the browsers map every CAISO host (on ports 443
// and 80) to this one port, so http:// and https:// URLs both land here. Every request is
// recorded, which is how the tests prove that a legacy host was never contacted.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TLS_HANDSHAKE = 0x16; // first byte of a TLS ClientHello record

/**
 * Makes a throw-away test CA and a server certificate signed by it. A separate CA (rather than
 * one self-signed leaf) is what Firefox accepts once the CA is trusted in its profile; Chromium
 * runs with --ignore-certificate-errors and does not care. `*.caiso.com` covers one label only,
 * so multi-label hosts such as ws.prod.caiso.com are listed by name too.
 */
function makeCertificates(dir, hosts) {
  const names = ['*.caiso.com', 'caiso.com', ...new Set(hosts)];
  const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
  const f = (name) => join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  openssl('req', '-x509', ...ecKey, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2',
    '-subj', '/CN=caiso-access e2e throw-away test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', ...ecKey, '-keyout', f('server.key'), '-out', f('server.csr'),
    '-subj', '/CN=*.caiso.com');
  writeFileSync(f('server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${san}`,
  ].join('\n'));
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', f('server.ext'), '-out', f('server.pem'));
  return { caPath: f('ca.pem'), key: readFileSync(f('server.key')), cert: readFileSync(f('server.pem')) };
}

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The neutral page served for every host: no CAISO branding, only what was asked for. */
export function standInPage(host, path, extraHead = '') {
  const what = escapeHtml(`${host}${path}`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>Local stand-in for ${what}</title>${extraHead}</head>`
    + `<body><p>Local stand-in for ${what}</p></body></html>`;
}

/**
 * Starts the stand-in server on 127.0.0.1.
 *
 * @param {object} [options]
 * @param {number} [options.port=0] port to listen on (0 = any free port)
 * @param {string[]} [options.hosts=[]] extra host names for the certificate
 * @param {(req, res, entry) => boolean} [options.handle] may answer a request itself (return true)
 * @returns {Promise<{port: number, requests: object[], caPath: string, close: () => Promise<void>}>}
 */
export async function startServer({ port = 0, hosts = [], handle } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'caiso-e2e-cert-'));
  const { caPath, key, cert } = makeCertificates(dir, hosts);
  const requests = [];

  const onRequest = (secure) => (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const entry = { host, method: req.method, url: req.url, secure, time: Date.now() };
    requests.push(entry);
    if (handle?.(req, res, entry)) return;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : standInPage(host, req.url));
  };
  const plain = http.createServer(onRequest(false));
  const tls = https.createServer({ key, cert }, onRequest(true));

  // Peek at the first byte, then give the socket (data put back) to the right server.
  const sockets = new Set();
  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {}); // browsers drop connections at will
    socket.once('data', (chunk) => {
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === TLS_HANDSHAKE ? tls : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(port, '127.0.0.1', resolve);
  });

  return {
    port: front.address().port,
    requests,
    caPath,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => front.close(() => resolve()));
      plain.closeAllConnections();
      tls.closeAllConnections();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

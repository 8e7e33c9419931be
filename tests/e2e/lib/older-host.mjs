#!/usr/bin/env node
// A stand-in for an older caiso-access host, registered in place of the real one by the
// end-to-end tests: it speaks the browser's native messaging framing (32-bit length, JSON) and
// answers the handshake with protocol 0, which this extension does not speak. Anything else
// gets the host's refusal for an unknown protocol.

let buffer = Buffer.alloc(0);
const send = (message) => {
  const body = Buffer.from(JSON.stringify(message));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  process.stdout.write(Buffer.concat([length, body]));
};
process.stdin.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32LE(0)) {
    const length = buffer.readUInt32LE(0);
    const request = JSON.parse(buffer.subarray(4, 4 + length).toString());
    buffer = buffer.subarray(4 + length);
    if (request.command === 'hello') {
      send({ v: 0, id: request.id, ok: { host_version: '0.0.9', protocol: 0, min_protocol: 0 } });
    } else {
      send({ v: 0, id: request.id, error: { code: 'unsupported_version', message: `protocol ${request.v} is not served` } });
    }
  }
});

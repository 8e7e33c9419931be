// caiso-access native host client, used by the background worker. One long-lived
// connectNative port (about 0.5 ms a round trip once open, against a new process per
// sendNativeMessage); requests carry ids and answers are matched to them. The extension only
// ever sends identifiers to the host; the host keeps certificates, keys and passphrases.

import { hostVersionProblem, protocolVersion } from './wasm/caiso_access_extension.js';
import { wasmReady } from './wasm.js';

const api = globalThis.browser ?? globalThis.chrome;

export const HOST_NAME = 'caiso_access';
/** The protocol version, from the module (set by the first handshake, before any request). */
let protocol = null;
const TIMEOUT_MS = 15_000;

/** A failure with a stable code: a host error code, or `host_unreachable` / `host_version`. */
export class HostError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

let port = null;
let nextId = 1;
const pending = new Map();
let hello = null;

function failAll(error) {
  for (const { reject, timer } of pending.values()) {
    clearTimeout(timer);
    reject(error);
  }
  pending.clear();
}

function connect() {
  const current = api.runtime.connectNative(HOST_NAME);
  current.onMessage.addListener((message) => {
    const waiting = pending.get(message?.id);
    if (message?.event) {
      // Progress of a long operation (a test call waiting for CAISO's rate limits): the host
      // is alive, so the answer's time limit starts again.
      waiting?.progress(message.event);
      return;
    }
    if (waiting) {
      pending.delete(message.id);
      clearTimeout(waiting.timer);
      waiting.resolve(message);
    } else if (message?.error) {
      // An error not tied to a request (the host refused the caller, or could not read one).
      failAll(new HostError(message.error.code, message.error.message));
    }
  });
  current.onDisconnect.addListener((p) => {
    const reason = p?.error?.message ?? api.runtime.lastError?.message ?? 'the host closed the connection';
    if (port === current) {
      port = null;
      hello = null;
    }
    failAll(new HostError('host_unreachable', reason));
  });
  return current;
}

/**
 * Sends one request and resolves with the host's `ok` value; rejects with a HostError.
 * `onEvent` receives the progress events of long commands (`call`).
 */
export function request(command, args = {}, onEvent = () => {}) {
  port ??= connect();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const expire = () =>
      setTimeout(() => {
        pending.delete(id);
        reject(new HostError('host_unreachable', `no answer from the host within ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
    const entry = {
      timer: expire(),
      reject,
      resolve: (message) =>
        message.error ? reject(new HostError(message.error.code, message.error.message)) : resolve(message.ok),
      progress: (event) => {
        clearTimeout(entry.timer);
        entry.timer = expire();
        onEvent(event);
      },
    };
    pending.set(id, entry);
    try {
      port.postMessage({ v: protocol, id, command, args });
    } catch (error) {
      pending.delete(id);
      clearTimeout(entry.timer);
      reject(new HostError('host_unreachable', error?.message ?? String(error)));
    }
  });
}

/** The handshake, once per connection. */
export async function handshake() {
  if (hello) return hello;
  await wasmReady;
  protocol ??= protocolVersion();
  const info = await request('hello', { protocol, client: `caiso-access-extension/${api.runtime.getManifest().version}` });
  const problem = hostVersionProblem(String(info.host_version), Number(info.min_protocol), Number(info.protocol));
  if (problem) throw new HostError('host_version', problem);
  hello = info;
  return info;
}

/** `{ok: {host, report}}` or `{error: {code, message}}`: never throws. */
export async function hostStatus() {
  try {
    const host = await handshake();
    const report = await request('status');
    return { ok: { host, report } };
  } catch (error) {
    return { error: { code: error?.code ?? 'internal', message: error?.message ?? String(error) } };
  }
}

/** One command after the handshake: `{ok: value}` or `{error: {code, message}}`; never throws. */
export async function hostRequest(command, args = {}, onEvent = () => {}) {
  try {
    await handshake();
    return { ok: await request(command, args, onEvent) };
  } catch (error) {
    return { error: { code: error?.code ?? 'internal', message: error?.message ?? String(error) } };
  }
}

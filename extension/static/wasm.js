// caiso-access: the extension's WebAssembly module, started once per page or worker. Every
// script that needs the module awaits `wasmReady` (a module is evaluated once per realm, so
// they all share this one start).

import init from './wasm/caiso_access_extension.js';

export const wasmReady = init({ module_or_path: new URL('./wasm/caiso_access_extension_bg.wasm', import.meta.url) });

// What the real host tells the browser, recorded for the whole end-to-end suite: every byte it
// writes to the extension and to its log passes through `tee` into a record folder, and the
// record is checked for the test's folders when the host configuration is removed. No answer,
// report or log line may name a path of the user's machine (issue 15).

import { chmodSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Single-quoted for the shell. */
export const quoted = (text) => `'${text.replaceAll("'", "'\\''")}'`;

/**
 * Writes `<scratch>/recording-host`, which runs `host` with the browser's arguments and copies
 * its standard output (the native messaging frames) and standard error (its log) into `record`.
 * The host keeps the script's process (exec), so the browser's signals reach it.
 */
export function recordingProgram(scratch, host, record) {
  const program = join(scratch, 'recording-host');
  writeFileSync(program, [
    '#!/bin/bash',
    `exec ${quoted(host)} "$@" > >(exec tee -a ${quoted(join(record, 'answers'))}) \\`,
    `  2> >(exec tee -a ${quoted(join(record, 'log'))} >&2)`,
    '',
  ].join('\n'));
  chmodSync(program, 0o755);
  return program;
}

/** Every form a folder takes in JSON or text: as given, real (symlinks resolved), escaped. */
function forms(folders) {
  const all = new Set();
  for (const folder of folders) {
    const given = folder.replace(/\/+$/, '');
    for (const form of [given, existsSync(given) ? realpathSync(given) : given]) {
      all.add(form);
      all.add(JSON.stringify(form).slice(1, -1));
    }
  }
  return [...all];
}

/**
 * Throws if what the host wrote into `record` names one of `folders`. Returns how many bytes of
 * answers were checked (so a caller can tell the record was written at all).
 */
export function checkRecord(record, folders) {
  const watched = forms(folders);
  let answered = 0;
  for (const [file, what] of [['answers', 'an answer to the extension'], ['log', "the host's log"]]) {
    const path = join(record, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'latin1');
    if (file === 'answers') answered = text.length;
    const named = watched.find((form) => text.includes(form));
    if (named) {
      const at = text.indexOf(named);
      throw new Error(`${what} names the test folder ${named}: …${text.slice(Math.max(0, at - 200), at + 200)}…`);
    }
  }
  return answered;
}

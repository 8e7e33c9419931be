//! The host's log: one line per event on standard error (a browser keeps it with its own log;
//! stdout is reserved for protocol frames). Callers pass only non-secret text: labels, codes,
//! file names, never passphrases, keys or certificate contents.

use std::io::Write;

/// Logs an informational line.
pub fn info(message: &str) {
    line("info", message);
}

/// Logs a warning.
pub fn warn(message: &str) {
    line("warn", message);
}

fn line(level: &str, message: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "caiso-access[{}] {level}: {message}",
        std::process::id()
    );
}

/// Writes a command-line failure as `caiso-access: <message>`, for the person at the terminal.
pub fn plain(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "caiso-access: {message}");
}

//! The host's log: one line per event on standard error (a browser keeps it with its own log;
//! stdout is reserved for protocol frames). Callers pass only non-secret text: labels, codes,
//! file names, never passphrases, keys or certificate contents.
//!
//! Two promises to whoever reads it: a line is one event (control characters in a field, such
//! as a newline in the extension's `client` name, are written escaped, so nothing can forge a
//! line), and logging never blocks the host. Lines go through a bounded queue to a writer
//! thread; when nobody reads standard error and the queue is full, lines are dropped and
//! counted, and the count is logged once writing works again.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::time::Duration;

/// Lines waiting for the writer, at most.
const QUEUE: usize = 512;
/// How long [`flush`] waits for the writer at exit.
const FLUSH_WAIT: Duration = Duration::from_millis(200);

enum Entry {
    Line(String),
    Flushed(mpsc::Sender<()>),
}

static WRITER: OnceLock<Option<SyncSender<Entry>>> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);

fn writer() -> Option<&'static SyncSender<Entry>> {
    WRITER
        .get_or_init(|| {
            let (sender, entries) = mpsc::sync_channel::<Entry>(QUEUE);
            std::thread::Builder::new()
                .name("log".into())
                .spawn(move || {
                    for entry in entries {
                        let mut err = std::io::stderr().lock();
                        let dropped = DROPPED.swap(0, Ordering::Relaxed);
                        if dropped > 0 {
                            let _ = writeln!(
                                err,
                                "caiso-access[{}] warn: {dropped} log lines dropped (standard error was not being read)",
                                std::process::id()
                            );
                        }
                        match entry {
                            Entry::Line(line) => drop(writeln!(err, "{line}")),
                            Entry::Flushed(done) => drop(done.send(())),
                        }
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

/// Logs an informational line.
pub fn info(message: &str) {
    line("info", message);
}

/// Logs a warning.
pub fn warn(message: &str) {
    line("warn", message);
}

/// `text` with every control character escaped (`\n`, `\u{1b}`, ...), and the other
/// characters that must not reach a terminal as themselves (line separators, bidi controls:
/// [`crate::outside_text::is_unsafe`]).
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if crate::outside_text::is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn line(level: &str, message: &str) {
    let text = format!(
        "caiso-access[{}] {level}: {}",
        std::process::id(),
        one_line(message)
    );
    match writer() {
        Some(writer) => {
            if writer.try_send(Entry::Line(text)).is_err() {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        None => drop(writeln!(std::io::stderr().lock(), "{text}")),
    }
}

/// Waits (briefly, never blocking on an unread standard error) for the lines logged so far to
/// be written: call before the process exits.
pub fn flush() {
    if let Some(writer) = WRITER.get().and_then(Option::as_ref) {
        let (done, written) = mpsc::channel();
        if writer.try_send(Entry::Flushed(done)).is_ok() {
            let _ = written.recv_timeout(FLUSH_WAIT);
        }
    }
}

/// Writes a command-line failure as `caiso-access: <message>`, for the person at the terminal.
pub fn plain(message: &str) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "caiso-access: {}",
        crate::outside_text::escape(message)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_cannot_start_a_line() {
        assert_eq!(
            one_line("test/1\ncaiso-access[1] warn: forged\r\u{1b}[2J"),
            "test/1\\ncaiso-access[1] warn: forged\\r\\u{1b}[2J"
        );
        assert_eq!(one_line("plain ünïcode"), "plain ünïcode");
        assert_eq!(one_line("a\u{2028}b\u{202e}c"), "a\\u{2028}b\\u{202e}c");
    }
}

//! The rate-limit ledger one user's processes share: the recent starts of every lane and any
//! Acceptable Use Policy pause, in `ratelimits.json` in the host's configuration folder, read and
//! updated under an advisory lock (`.ratelimits.lock`). Chromium's and Firefox's hosts and any
//! number of command-line processes call CAISO from the same user and address; through the
//! ledger they together keep every limit.
//!
//! Times are wall-clock milliseconds (processes share no monotonic clock). A crashed holder
//! never blocks the others: the lock dies with its process, and a start that was never answered
//! counts until its deadline (the call's time limit) and is then forgotten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::store::atomic;
use crate::store::lock::FileLock;

/// The ledger file format version.
const LEDGER_VERSION: u32 = 1;
/// Starts whose end (answer, or deadline) is this far in the past are forgotten: longer than any
/// window of `limits.json`.
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// The ledger's content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Book {
    /// Format version.
    #[serde(default)]
    pub version: u32,
    /// Lanes by key (`<environment>/<lane id>`).
    #[serde(default)]
    pub lanes: BTreeMap<String, LaneEntry>,
}

/// One lane: its recent starts (oldest first) and the pause an AUP fault asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneEntry {
    /// The recent starts.
    #[serde(default)]
    pub starts: Vec<StartEntry>,
    /// No start before this moment (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<u64>,
}

/// One start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartEntry {
    /// `<process id>-<ticket>`: who made it.
    pub id: String,
    /// When it was sent (ms since the epoch).
    pub sent: u64,
    /// When its answer came (ms since the epoch), once it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<u64>,
    /// Until when it counts without an answer (its time limit).
    pub deadline: u64,
}

/// Milliseconds since the epoch of `t`.
pub fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The ledger of one configuration folder.
#[derive(Debug, Clone)]
pub struct Ledger {
    file: PathBuf,
    lock: PathBuf,
    /// Whether this process has removed the temporary files killed writers left (once is
    /// enough: they only appear when a process dies mid-write).
    swept: Arc<AtomicBool>,
}

impl Ledger {
    /// The ledger in the configuration folder `dir`.
    pub fn in_folder(dir: &Path) -> Ledger {
        Ledger {
            file: dir.join("ratelimits.json"),
            lock: dir.join(".ratelimits.lock"),
            swept: Arc::default(),
        }
    }

    /// Runs `change` on the ledger's content under its lock and writes the result back when
    /// `change` says it changed something. An unreadable ledger counts as empty (it only ever
    /// makes calls wait, and is rewritten whole at the next change).
    pub fn update<T>(&self, change: impl FnOnce(&mut Book) -> (T, bool)) -> std::io::Result<T> {
        let _held = FileLock::acquire(&self.lock)?;
        let mut book: Book = std::fs::read(&self.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|b: &Book| b.version == LEDGER_VERSION)
            .unwrap_or_default();
        let (result, changed) = change(&mut book);
        if changed {
            book.version = LEDGER_VERSION;
            forget_old(&mut book, millis(SystemTime::now()));
            let bytes = serde_json::to_vec(&book).map_err(std::io::Error::other)?;
            if !self.swept.swap(true, Ordering::Relaxed) {
                atomic::remove_leftovers(&self.file);
            }
            // Readers see the old or the new ledger whole; a power cut may lose the last
            // starts, which only ever ends a wait early by one call.
            atomic::write_unsynced(&self.file, &bytes)?;
        }
        Ok(result)
    }
}

fn forget_old(book: &mut Book, now: u64) {
    let horizon = now.saturating_sub(u64::try_from(FORGET_AFTER.as_millis()).unwrap_or(0));
    for lane in book.lanes.values_mut() {
        lane.starts
            .retain(|s| s.answered.unwrap_or(s.deadline) >= horizon);
        if lane.paused_until.is_some_and(|p| p < horizon) {
            lane.paused_until = None;
        }
    }
    book.lanes
        .retain(|_, lane| !lane.starts.is_empty() || lane.paused_until.is_some());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_persist_and_old_starts_are_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = Ledger::in_folder(dir.path());
        let now = millis(SystemTime::now());
        ledger
            .update(|book| {
                let lane = book.lanes.entry("production/ws".into()).or_default();
                lane.starts.push(StartEntry {
                    id: "1-1".into(),
                    sent: now - 3_600_000,
                    answered: Some(now - 3_599_000),
                    deadline: now - 3_540_000,
                });
                lane.starts.push(StartEntry {
                    id: "1-2".into(),
                    sent: now,
                    answered: None,
                    deadline: now + 60_000,
                });
                ((), true)
            })
            .expect("write");
        let starts = ledger
            .update(|book| (book.lanes["production/ws"].starts.clone(), false))
            .expect("read");
        assert_eq!(starts.len(), 1, "the hour-old start is forgotten");
        assert_eq!(starts[0].id, "1-2");
    }

    #[test]
    fn a_damaged_ledger_reads_as_empty_and_is_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ratelimits.json"), b"{not json").expect("write");
        let ledger = Ledger::in_folder(dir.path());
        let lanes = ledger
            .update(|book| (book.lanes.len(), false))
            .expect("read");
        assert_eq!(lanes, 0);
    }
}

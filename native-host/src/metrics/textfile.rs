//! The file a Prometheus textfile collector reads (node_exporter's
//! `--collector.textfile.directory`, windows_exporter's `textfile_inputs`): one `*.prom` file per
//! user of the computer in the collector's folder, replaced atomically (a temporary file beside
//! it, hidden and not ending in `.prom`, renamed over it), so a scrape sees the old facts or the
//! new, never half. Written on request (`caiso-access metrics --textfile`) or, when the machine
//! policy names the folder, every time the host computes a status.

use std::path::{Path, PathBuf};

use caiso_shared::protocol::StatusReport;
use time::OffsetDateTime;

use super::exposition::{self, Writer};
use crate::error::{HostError, HostResult};
use crate::store::{StorageError, atomic, machine_policy};

/// The user the facts are about: the operating system's name for who runs this process.
pub(crate) fn current_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The file name of `user`'s facts: `caiso-access_<user>.prom`, the user's name reduced to
/// letters, digits, `-`, `_` and `.` (a domain user's `DOMAIN\name` becomes `DOMAIN_name`).
pub(crate) fn file_name(user: &str) -> String {
    let safe: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    format!(
        "caiso-access_{}.prom",
        if safe.is_empty() { "unknown" } else { safe }
    )
}

/// Writes `report` for `user` into `folder`, which must exist; returns the file written. On any
/// failure the file that was there stays whole.
pub(crate) fn write(
    folder: &Path,
    report: &StatusReport,
    user: &str,
    writer: Writer,
    now: OffsetDateTime,
) -> HostResult<PathBuf> {
    let path = folder.join(file_name(user));
    let text = exposition::render(report, user, writer, now);
    atomic::write_shared(&path, text.as_bytes()).map_err(|e| {
        HostError::Storage(StorageError::Write {
            file: path.clone(),
            cause: if e.kind() == std::io::ErrorKind::NotFound {
                "the metrics folder does not exist (the monitoring agent's folder is not made here)"
                    .to_owned()
            } else {
                e.to_string()
            },
        })
    })?;
    Ok(path)
}

/// Writes `report` where the machine policy says, if it names a folder: `Ok(None)` when it
/// names none, the file written otherwise.
pub(crate) fn write_by_policy(
    report: &StatusReport,
    writer: Writer,
    now: OffsetDateTime,
) -> HostResult<Option<PathBuf>> {
    let policy = machine_policy::load()?;
    let Some(folder) = policy.metrics_textfile_directory else {
        return Ok(None);
    };
    write(&folder, report, &current_user(), writer, now).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_has_a_file_of_their_own_with_a_safe_name() {
        assert_eq!(file_name("jdoe"), "caiso-access_jdoe.prom");
        assert_eq!(file_name(r"CORP\jdoe"), "caiso-access_CORP_jdoe.prom");
        assert_eq!(file_name("../../etc/x"), "caiso-access__.._etc_x.prom");
        assert_eq!(file_name("..."), "caiso-access_unknown.prom");
        assert_eq!(file_name("Zoë"), "caiso-access_Zo_.prom");
        assert_ne!(file_name("alice"), file_name("bob"));
    }
}

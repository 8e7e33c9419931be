//! Saving calls for CAISO support (`call --save <folder>`): per attempt, the signed request as
//! sent and the answer as received (status line, `Content-Type`, then the body), and the
//! explained reports. Nothing secret is in them: the request carries the certificate and the
//! signature, never the key or a passphrase; no file system path is written.

use std::path::Path;

use caiso_shared::calls::CallReport;

use crate::error::{HostError, HostResult};
use crate::store::atomic;

/// Writes the exchanges of `reports` and the reports into `folder` (made if missing); returns
/// the number of files written.
pub(crate) fn save(folder: &Path, reports: &[CallReport]) -> HostResult<usize> {
    std::fs::create_dir_all(folder)
        .map_err(|e| HostError::InvalidValue(format!("the folder to save in: {e}")))?;
    let mut written = 0;
    for (n, report) in reports.iter().enumerate() {
        let operation = caiso_shared::operations::OperationCatalog::builtin()
            .find(&report.system, &report.service)
            .map_or_else(|| report.service.clone(), |op| op.id.clone());
        for exchange in &report.exchange {
            let stem = format!("{:02}-{operation}-attempt{}", n + 1, exchange.attempt);
            write(
                folder,
                &format!("{stem}-request.txt"),
                text(exchange, true).as_bytes(),
            )?;
            write(
                folder,
                &format!("{stem}-answer.txt"),
                text(exchange, false).as_bytes(),
            )?;
            written += 2;
        }
    }
    let json = serde_json::to_vec_pretty(&without_exchanges(reports))
        .map_err(|e| HostError::Internal(e.to_string()))?;
    write(folder, "report.json", &json)?;
    Ok(written + 1)
}

/// The reports without their exchanges (those go to files of their own).
pub(crate) fn without_exchanges(reports: &[CallReport]) -> Vec<CallReport> {
    reports
        .iter()
        .cloned()
        .map(|r| CallReport {
            exchange: Vec::new(),
            ..r
        })
        .collect()
}

/// The request (`request`) or the answer of an exchange as a text file: the same texts the
/// extension's "Save exchange" writes (`caiso_shared::calls::exchange_text`).
pub(crate) fn text(exchange: &caiso_shared::calls::Exchange, request: bool) -> String {
    if request {
        exchange.request_text()
    } else {
        exchange.answer_text()
    }
}

fn write(folder: &Path, name: &str, bytes: &[u8]) -> HostResult<()> {
    atomic::write_unsynced(&folder.join(name), bytes)
        .map_err(|e| HostError::InvalidValue(format!("saving {name}: {e}")))
}

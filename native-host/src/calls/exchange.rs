//! Saving calls for CAISO support (`call --save <folder>`): per attempt, the signed request as
//! sent and the answer as received (status line, `Content-Type`, then the body byte for byte),
//! and the explained reports. Nothing secret is in them: the request carries the certificate
//! and the signature, never the key or a passphrase; no file system path is written.

use std::path::Path;

use caiso_shared::calls::CallReport;

use super::engine::Exchange;
use crate::error::{HostError, HostResult};
use crate::store::atomic;

/// Writes `exchanges` and `reports` into `folder` (made if missing); returns the files written.
pub fn save(folder: &Path, exchanges: &[Exchange], reports: &[CallReport]) -> HostResult<usize> {
    std::fs::create_dir_all(folder)
        .map_err(|e| HostError::InvalidValue(format!("the folder to save in: {e}")))?;
    let mut written = 0;
    for (n, exchange) in exchanges.iter().enumerate() {
        let stem = format!(
            "{:02}-{}-attempt{}",
            n + 1,
            exchange.operation,
            exchange.attempt
        );
        let request = format!(
            "POST {}\nSOAPAction: {}\nContent-Type: text/xml; charset=utf-8\n\n{}",
            exchange.url, exchange.soap_action, exchange.request
        );
        write(folder, &format!("{stem}-request.txt"), request.as_bytes())?;
        let mut answer = match exchange.status {
            Some(status) => format!("HTTP {status}\nContent-Type: {}\n\n", exchange.content_type),
            None => "no answer (the connection failed; see report.json)\n".to_owned(),
        }
        .into_bytes();
        answer.extend_from_slice(&exchange.answer);
        write(folder, &format!("{stem}-answer.txt"), &answer)?;
        written += 2;
    }
    let reports =
        serde_json::to_vec_pretty(reports).map_err(|e| HostError::Internal(e.to_string()))?;
    write(folder, "report.json", &reports)?;
    Ok(written + 1)
}

fn write(folder: &Path, name: &str, bytes: &[u8]) -> HostResult<()> {
    atomic::write_unsynced(&folder.join(name), bytes)
        .map_err(|e| HostError::InvalidValue(format!("saving {name}: {e}")))
}

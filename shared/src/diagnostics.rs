//! Connectivity diagnostics as reported by the host: per endpoint, each stage from name
//! resolution to CAISO's answer, timed and explained, with OASIS (public, no certificate) as the
//! control that tells network problems from certificate problems.

use serde::{Deserialize, Serialize};

use crate::calls::CallEnvironment;

/// Arguments of the `diagnose` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnoseRequest {
    /// The identity whose certificate is presented.
    pub identity: String,
    /// Where to look.
    pub environment: CallEnvironment,
}

/// How a stage went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// As it should be.
    Ok,
    /// Works, but worth a look.
    Warning,
    /// Failed: the stages after it were not tried.
    Failed,
    /// Not tried.
    Skipped,
}

/// One stage of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// `dns`, `address_range`, `tcp` (or `proxy`: the tunnel through the proxy in use), `tls`,
    /// `client_certificate`, `answer`, `soap`.
    pub stage: String,
    /// How it went.
    pub verdict: Verdict,
    /// How long it took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
    /// What was seen (addresses, issuer names, status).
    pub detail: String,
    /// What it means and what to do, when not plainly fine.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub explanation: String,
}

/// One endpoint's stages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointDiagnosis {
    /// What it is, for people.
    pub title: String,
    /// The host name.
    pub host: String,
    /// Whether the client certificate is presented here.
    pub with_certificate: bool,
    /// The stages in order.
    pub stages: Vec<Stage>,
}

impl EndpointDiagnosis {
    /// Whether no stage failed.
    pub fn passed(&self) -> bool {
        self.stages.iter().all(|s| s.verdict != Verdict::Failed)
    }
}

/// Answer to the `diagnose` command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Where.
    pub environment: CallEnvironment,
    /// With which identity.
    pub identity: String,
    /// When (RFC 3339).
    pub checked_at: String,
    /// Whether Entrust Root Certification Authority - G2 is in this computer's trust store.
    pub entrust_root_g2_trusted: bool,
    /// Whether Entrust Certification Authority - L1M is in this computer's trust store.
    pub entrust_l1m_trusted: bool,
    /// The endpoints, the OASIS control last.
    pub endpoints: Vec<EndpointDiagnosis>,
    /// The conclusion in plain words.
    pub conclusion: String,
}

/// Arguments of the `report` command: what the person says about the problem. Free text is
/// limited in size and goes only into the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// The identity concerned.
    pub identity: String,
    /// The environment concerned.
    pub environment: CallEnvironment,
    /// `ui` or `api`.
    pub interface: String,
    /// The browser used (for UI problems), as the extension knows it.
    #[serde(default)]
    pub browser: String,
    /// Whether it fails always or now and then (`always`, `intermittent`, `unknown`).
    #[serde(default)]
    pub frequency: String,
    /// Third-party software involved and its vendor.
    #[serde(default)]
    pub third_party: String,
}

/// Answer to the `report` command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportReport {
    /// A file name to save it under.
    pub file_name: String,
    /// The report, as readable text.
    pub text: String,
}

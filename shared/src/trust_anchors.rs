//! The certificate authorities behind CAISO's servers (`catalog/trust.json`): the root a
//! client's trust store must hold today, by fingerprint, and how to recognise certificates of
//! the retired Verizon Cybertrust family. Data, validated when read.

use serde::{Deserialize, Serialize};

use crate::limits::LimitProvenance;

/// The schema version this code reads.
pub const SCHEMA_VERSION: u32 = 1;

const BUILTIN_JSON: &str = include_str!("../catalog/trust.json");

/// The root CAISO's servers chain to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Root {
    /// Its subject's common name.
    pub name: String,
    /// SHA-256 of its certificate (DER), 64 upper-case hex digits.
    pub sha256: String,
    /// Where the fact comes from.
    pub provenance: LimitProvenance,
}

/// The retired certificate family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    /// As people name it.
    pub name: String,
    /// Lower-case text a certificate subject of the family contains.
    pub subject_contains: String,
    /// Where the fact comes from.
    pub provenance: LimitProvenance,
}

/// `catalog/trust.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchors {
    /// The version of this file's form.
    pub schema_version: u32,
    /// What the file is and where its facts come from.
    pub about: String,
    /// The root a trust store needs for CAISO today.
    pub current_root: Root,
    /// The retired family.
    pub retired: Retired,
}

impl TrustAnchors {
    /// The built-in table.
    pub fn builtin() -> TrustAnchors {
        #[allow(clippy::expect_used)]
        TrustAnchors::from_json(BUILTIN_JSON).expect("trust.json is valid")
    }

    /// Reads and validates a table.
    pub fn from_json(text: &str) -> Result<TrustAnchors, String> {
        let table: TrustAnchors =
            serde_json::from_str(text).map_err(|e| format!("trust.json: {e}"))?;
        if table.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "trust.json: schema_version {} (this build reads {SCHEMA_VERSION})",
                table.schema_version
            ));
        }
        let hex = &table.current_root.sha256;
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        {
            return Err(format!(
                "trust.json: the root's sha256 must be 64 upper-case hex digits, not {hex:?}"
            ));
        }
        let needle = &table.retired.subject_contains;
        if needle.is_empty() || needle.to_lowercase() != *needle {
            return Err("trust.json: subject_contains must be non-empty lower-case text".into());
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_reads_and_names_entrust_root_g2() {
        let table = TrustAnchors::builtin();
        assert_eq!(
            table.current_root.name,
            "Entrust Root Certification Authority - G2"
        );
        assert_eq!(table.retired.subject_contains, "cybertrust");
    }

    #[test]
    fn a_table_that_breaks_the_rules_is_refused_with_why() {
        for (from, to, why) in [
            (
                "\"schema_version\": 1",
                "\"schema_version\": 2",
                "schema_version",
            ),
            ("43DF5774", "43df5774", "64 upper-case hex"),
            ("F339\"", "F3\"", "64 upper-case hex"),
            ("\"cybertrust\"", "\"CyberTrust\"", "lower-case"),
            (
                "\"provenance\": \"published\"\n  },\n  \"retired\"",
                "\"provenance\": \"guessed\"\n  },\n  \"retired\"",
                "unknown variant",
            ),
        ] {
            assert!(BUILTIN_JSON.contains(from), "{from}");
            let error = TrustAnchors::from_json(&BUILTIN_JSON.replacen(from, to, 1)).expect_err(to);
            assert!(error.contains(why), "{error}");
        }
    }
}

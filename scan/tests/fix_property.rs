//! `--fix` on arbitrary text changes nothing but old addresses: text made of random pieces,
//! old, current and OASIS addresses and the delimiters configuration puts around them.

use caiso_scan::{Matcher, fix};
use caiso_shared::{Classifier, Status};
use proptest::prelude::*;

/// Pieces the text is made of.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[ \"'<>=;,()\\r\\n\t]{1,3}",
        Just("https://ws.caiso.com/sst/runtime.asvc/RetrieveMarketAwards_CMRIv4_AP".to_owned()),
        Just("http://WSMAP.caiso.com/sst/cmri?x=1&amp;y=2".to_owned()),
        Just("https://portal.caiso.com/tr/Home.aspx".to_owned()),
        Just("https://ws.prod.caiso.com/sst/cmri".to_owned()),
        Just("http://oasis.caiso.com/oasisapi/SingleZip".to_owned()),
        Just("ws.caiso.com".to_owned()),
        Just("wsmap.caiso.com/sst/cmri/x".to_owned()),
        Just("user@ws.caiso.com".to_owned()),
        Just("https://".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn fix_changes_nothing_but_old_addresses(pieces in proptest::collection::vec(piece(), 0..24)) {
        let text = pieces.concat();
        let bytes = text.as_bytes();
        let matcher = Matcher::builtin();
        let findings = matcher.find(bytes);
        let fixed = fix::rewrite(bytes, &findings);

        // Outside the findings, the bytes are the same, in order; each finding is an address
        // the classifier (called here on its own) calls old, and what replaces it is its answer.
        let mut expected = Vec::new();
        let mut from = 0;
        for finding in &findings {
            prop_assert!(finding.start >= from, "findings overlap");
            expected.extend_from_slice(&bytes[from..finding.start]);
            let address = std::str::from_utf8(&bytes[finding.start..finding.end]).expect("ASCII");
            // A host written without a scheme is judged as https and replaced without one.
            let schemeless = !address.contains("://");
            let judged = if schemeless { format!("https://{address}") } else { address.to_owned() };
            let answer = Classifier::builtin().classify(&judged).expect("a URL");
            prop_assert!(matches!(answer.status, Status::Legacy | Status::Decommissioned), "{address}");
            let replacement = answer.replacement.map(|r| {
                if !schemeless {
                    return r;
                }
                let bare = r.strip_prefix("https://").unwrap_or(&r).to_owned();
                if address.contains('/') { bare } else { bare.trim_end_matches('/').to_owned() }
            });
            match (&replacement, finding.fixable) {
                (Some(replacement), true) => expected.extend_from_slice(replacement.as_bytes()),
                _ => expected.extend_from_slice(address.as_bytes()),
            }
            from = finding.end;
        }
        expected.extend_from_slice(&bytes[from..]);
        prop_assert_eq!(&fixed, &expected);

        // Fixed once, nothing is left to fix.
        prop_assert!(matcher.find(&fixed).iter().all(|f| !f.fixable));
        if findings.is_empty() {
            prop_assert_eq!(fixed, bytes.to_vec());
        }
    }
}

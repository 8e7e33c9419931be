//! Pinned certificates: a SHA-1 thumbprint (40 hex digits, or 20 bytes separated by colons or
//! spaces) on a line that names a thumbprint or a certificate (`<add key="ClientCertThumbprint"
//! value="...">`, WCF's `<clientCertificate findValue="..." x509FindType="FindByThumbprint">`,
//! `cert.thumbprint=...`). Such a pin breaks when the certificate is renewed: the new one has
//! another thumbprint. A line that names a password is never read for one (nothing of it is
//! shown).

/// A certificate the host holds, to recognise its pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownCertificate {
    /// Its SHA-1 thumbprint, 40 upper-case hex digits.
    pub thumbprint: String,
    /// The host's label for it.
    pub label: String,
    /// Days until it expires (negative: expired).
    pub days_left: i64,
}

/// One pinned thumbprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinFinding {
    /// 1-based line.
    pub line: usize,
    /// The thumbprint, 40 upper-case hex digits.
    pub thumbprint: String,
    /// The host's certificate it names, if it names one.
    pub matches: Option<KnownCertificate>,
    /// Whether an invisible mark (U+200E, U+200F or U+FEFF) stands right before it, as a
    /// thumbprint copied from Windows' certificate dialog carries: `FindByThumbprint` then finds
    /// no certificate at all.
    pub hidden_mark: bool,
}

/// The invisible marks a copied thumbprint may start with, in UTF-8.
const HIDDEN_MARKS: [&[u8]; 3] = [
    "\u{200e}".as_bytes(),
    "\u{200f}".as_bytes(),
    "\u{feff}".as_bytes(),
];

/// Words on a line that make a 40-hex value on it a certificate pin.
const PIN_WORDS: [&str; 2] = ["thumbprint", "cert"];
/// Words on a line that make it a secret's: never read.
const SECRET_WORDS: [&str; 4] = ["pass", "pwd", "secret", "token"];

/// Every pinned thumbprint in `text`, with the certificate of `known` it names.
pub fn find(text: &[u8], known: &[KnownCertificate]) -> Vec<PinFinding> {
    let mut findings = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        let lower = line.to_ascii_lowercase();
        let names = |words: &[&str]| {
            words
                .iter()
                .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
        };
        if !names(&PIN_WORDS) || names(&SECRET_WORDS) {
            continue;
        }
        for (start, thumbprint) in thumbprints(line) {
            findings.push(PinFinding {
                line: index + 1,
                matches: known.iter().find(|k| k.thumbprint == thumbprint).cloned(),
                thumbprint,
                hidden_mark: HIDDEN_MARKS
                    .iter()
                    .any(|mark| line[..start].ends_with(mark)),
            });
        }
    }
    findings
}

/// The SHA-1 thumbprints on one line, each with where it starts: runs of exactly 40 hex
/// digits, or of 20 two-digit hex bytes separated by `:` or single spaces, not part of a longer
/// run of letters or digits.
fn thumbprints(line: &[u8]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if !line[i].is_ascii_hexdigit() || (i > 0 && line[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        // Plain: 40 hex digits.
        let run = line[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let next = line.get(i + run);
        if run == 40 && !next.is_some_and(u8::is_ascii_alphanumeric) {
            found.push((
                i,
                String::from_utf8_lossy(&line[i..i + 40]).to_ascii_uppercase(),
            ));
            i += run;
            continue;
        }
        // Separated: "AB:CD:..." or "ab cd ..." (as certificate dialogs show it).
        if run == 2
            && let Some(&separator) = next
            && (separator == b':' || separator == b' ')
        {
            let length = 20 * 3 - 1;
            if let Some(candidate) = line.get(i..i + length) {
                let well_formed = candidate.chunks(3).all(|chunk| {
                    chunk[0].is_ascii_hexdigit()
                        && chunk[1].is_ascii_hexdigit()
                        && (chunk.len() == 2 || chunk[2] == separator)
                });
                let after = line.get(i + length);
                if well_formed && !after.is_some_and(u8::is_ascii_alphanumeric) {
                    let hex: String = candidate
                        .iter()
                        .filter(|b| b.is_ascii_hexdigit())
                        .map(|&b| char::from(b).to_ascii_uppercase())
                        .collect();
                    found.push((i, hex));
                    i += length;
                    continue;
                }
            }
        }
        i += run.max(1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: &str = "3A5F0C9E1B2D4F6A8C0E2B4D6F8A0C2E4B6D8F0A";

    #[test]
    fn a_thumbprint_under_a_certificate_key_is_a_pin_and_a_known_one_is_named() {
        let known = vec![KnownCertificate {
            thumbprint: PRINT.into(),
            label: "production".into(),
            days_left: 12,
        }];
        let text = format!(
            "<add key=\"ClientCertThumbprint\" value=\"{}\" />\n<clientCertificate findValue=\"{}\" x509FindType=\"FindByThumbprint\" />\n",
            PRINT.to_lowercase(),
            "11 22 33 44 55 66 77 88 99 00 AA BB CC DD EE FF 11 22 33 44"
        );
        let found = find(text.as_bytes(), &known);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].line, 1);
        assert_eq!(found[0].thumbprint, PRINT);
        assert_eq!(
            found[0].matches.as_ref().map(|k| k.label.as_str()),
            Some("production")
        );
        assert_eq!(
            found[1].thumbprint,
            "11223344556677889900AABBCCDDEEFF11223344"
        );
        assert_eq!(found[1].matches, None);
    }

    #[test]
    fn an_invisible_mark_before_a_thumbprint_is_reported() {
        let text = format!(
            "<add key=\"CertThumbprint\" value=\"{}{PRINT}\" />\nthumbprint={PRINT}\n",
            '\u{200e}'
        );
        let found = find(text.as_bytes(), &[]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].hidden_mark);
        assert!(!found[1].hidden_mark);
    }

    #[test]
    fn hex_that_is_not_a_pin_is_not_reported() {
        for line in [
            // No word for a certificate on the line.
            format!("build.id={PRINT}"),
            // A password's line is never read.
            format!("cert.password={PRINT}"),
            // Longer or shorter runs.
            format!("thumbprint={PRINT}0"),
            format!("thumbprint=x{PRINT}"),
            format!("thumbprint={}", &PRINT[..38]),
            // A SHA-256 fingerprint is 64 digits.
            format!("cert.sha256={PRINT}{}", &PRINT[..24]),
        ] {
            assert_eq!(find(line.as_bytes(), &[]), Vec::new(), "{line}");
        }
    }
}

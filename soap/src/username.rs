//! The CAISO user name of a certificate: its subject as an RFC 4514 string, the form the
//! `CAISOUsernameToken/Username` carries and CAISO compares with the signing certificate.

use x509_parser::prelude::*;

/// The user name for the certificate `der`, or `None` if it is not a certificate.
pub fn of_certificate(der: &[u8]) -> Option<String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(rfc4514(certificate.subject()))
}

/// The distinguished name as an RFC 4514 string (most specific first, no spaces), which is the
/// form CAISO's web services take as the user name: `CN=<name>,OU=people,O=CAISO,C=US`.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<&RelativeDistinguishedName<'_>> = name.iter().collect();
    let mut parts = Vec::with_capacity(rdns.len());
    for rdn in rdns.into_iter().rev() {
        let attributes: Vec<String> = rdn
            .iter()
            .map(|attr| {
                let key = attribute_name(attr.attr_type().to_id_string().as_str());
                let value = attr
                    .as_str()
                    .map(escape_rfc4514)
                    .unwrap_or_else(|_| "#".into());
                format!("{key}={value}")
            })
            .collect();
        parts.push(attributes.join("+"));
    }
    parts.join(",")
}

fn attribute_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.11" => "OU",
        "2.5.4.10" => "O",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i + 1 == value.chars().count() && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_special_characters() {
        assert_eq!(super::escape_rfc4514("a,b+c"), "a\\,b\\+c");
        assert_eq!(super::escape_rfc4514(" x "), "\\ x\\ ");
    }
}

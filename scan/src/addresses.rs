//! Old CAISO addresses in text. One Aho-Corasick pass finds every host the catalog has an old
//! address on (ASCII case ignored); around each, the URL is taken as far as URL characters go
//! (`http://` or `https://` before the host, optional credentials, path and query after it) and
//! the shared classifier judges it: only what it calls old (still answering, or switched off)
//! is a finding, with the replacement it gives. Current addresses, OASIS and hosts that merely
//! contain an old host's name are never findings.
//!
//! A host written without a scheme (`caiso.host=ws.caiso.com`, `ws.caiso.com/sst/cmri` in a
//! properties file) is judged as `https://` would make it and replaced without one, so the
//! rewrite keeps the form the application reads. Only a host standing on its own is taken: not
//! after `@` (a mail address), `/` or `:` (part of something longer).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use caiso_shared::{Classifier, Status};

/// One old address in a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressFinding {
    /// 1-based line.
    pub line: usize,
    /// Where the URL is in the scanned text (bytes, from its scheme).
    pub start: usize,
    /// The end of it.
    pub end: usize,
    /// The address as found, for showing: credentials and secret-looking query values hidden.
    pub found: String,
    /// Where it leads now; `None` when the catalog knows no single replacement.
    pub replacement: Option<String>,
    /// Old but still answering, or switched off.
    pub status: Status,
    /// The CAISO systems it belongs to (ids).
    pub systems: Vec<String>,
    /// Whether `--fix` rewrites it: it has a replacement and carries no credentials (which a
    /// rewrite would have to move).
    pub fixable: bool,
}

impl AddressFinding {
    /// The replacement for showing: secret-looking query values hidden, as in `found`.
    pub fn replacement_shown(&self) -> Option<String> {
        self.replacement.as_deref().map(|r| shown(r, false))
    }
}

/// The search for old addresses: built once, used from every walker thread.
pub struct Matcher {
    hosts: AhoCorasick,
    classifier: &'static Classifier<'static>,
}

impl Matcher {
    /// For the built-in catalog.
    pub fn builtin() -> Matcher {
        let classifier = Classifier::builtin();
        let hosts = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(classifier.hosts_with_old_addresses())
            // The patterns are a few dozen host names: within every limit of the builder.
            .unwrap_or_else(|e| unreachable!("the catalog's host names: {e}"));
        Matcher { hosts, classifier }
    }

    /// Every old address in `text`, in order.
    pub fn find(&self, text: &[u8]) -> Vec<AddressFinding> {
        let mut findings = Vec::new();
        let mut line = 1;
        let mut counted = 0;
        let mut after = 0; // a URL found covers the hosts inside it
        let hits: Vec<_> = self.hosts.find_iter(text).collect();
        for (at, hit) in hits.iter().enumerate() {
            if hit.start() < after || !host_alone(text, hit.start(), hit.end()) {
                continue;
            }
            let Some(mut url) = url_around(text, hit.start(), hit.end()) else {
                continue;
            };
            // An address ends where another one begins (`.../x#ws.caiso.com`,
            // `...?next=ws.caiso.com`): each is found, and fixed, on its own, so a fixed file
            // has nothing left to fix.
            if let Some(next) = hits[at + 1..]
                .iter()
                .take_while(|next| next.start() < url.end)
                .filter(|next| host_alone(text, next.start(), next.end()))
                .filter_map(|next| url_around(text, next.start(), next.end()))
                .map(|next| next.start)
                .find(|&start| start >= hit.end())
            {
                url.end = next;
            }
            // The URL text is ASCII by construction.
            let address = String::from_utf8_lossy(&text[url.start..url.end]).into_owned();
            let judged = if url.schemeless {
                format!("https://{address}")
            } else {
                address.clone()
            };
            let Ok(mut answer) = self.classifier.classify(&judged) else {
                continue;
            };
            if url.schemeless {
                answer.replacement = answer
                    .replacement
                    .and_then(|r| without_scheme(&r, &address));
            }
            if !matches!(answer.status, Status::Legacy | Status::Decommissioned) {
                continue;
            }
            line += memchr::memchr_iter(b'\n', &text[counted..url.start]).count();
            counted = url.start;
            after = url.end;
            findings.push(AddressFinding {
                line,
                start: url.start,
                end: url.end,
                found: shown(&address, url.credentials),
                fixable: answer.replacement.is_some() && !url.credentials,
                replacement: answer.replacement,
                status: answer.status,
                systems: answer.systems.iter().map(|s| s.id.to_owned()).collect(),
            });
        }
        findings
    }
}

/// Whether `text[start..end]` is a whole host name, not part of a longer one.
fn host_alone(text: &[u8], start: usize, end: usize) -> bool {
    let label = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    let before_ok = start == 0 || !(label(text[start - 1]) || text[start - 1] == b'.');
    let after_ok = match text.get(end) {
        None => true,
        Some(&b) if label(b) => false,
        Some(b'.') => !text.get(end + 1).is_some_and(|&b| label(b)),
        Some(_) => true,
    };
    before_ok && after_ok
}

/// Characters that can be part of an address in a file (ASCII, not space, not a delimiter
/// that configuration formats put around one).
fn url_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"\"'<>`\\(){}[]|^,;".contains(&b)
}

/// An address located in text: from its scheme to its end.
struct Located {
    start: usize,
    end: usize,
    /// Whether `user:password@` sits between the scheme and the host.
    credentials: bool,
    /// Whether it starts at the host: no scheme written.
    schemeless: bool,
}

/// The http(s) URL whose host is `text[host_start..host_end]`, if the host is in one.
fn url_around(text: &[u8], host_start: usize, host_end: usize) -> Option<Located> {
    // `scheme://` right before the host, or `scheme://user:password@` before it.
    let mut before = host_start;
    let mut credentials = false;
    if before > 0 && text[before - 1] == b'@' {
        credentials = true;
        before -= 1;
        while before > 0 && url_byte(text[before - 1]) && text[before - 1] != b'/' {
            before -= 1;
        }
    }
    let scheme_written = before
        .checked_sub(3)
        .is_some_and(|separator| &text[separator..before] == b"://");
    if !scheme_written {
        // A host on its own: the start of the text, or after a character that cannot be part
        // of a URL before its host (`=`, a quote, a space, `>`, ...).
        let part_of_more =
            credentials || (host_start > 0 && b"@/:".contains(&text[host_start - 1]));
        if part_of_more {
            return None;
        }
        return Some(Located {
            start: host_start,
            end: url_end(text, host_end),
            credentials: false,
            schemeless: true,
        });
    }
    let separator = before - 3;
    let mut scheme_start = separator;
    while scheme_start > 0 && text[scheme_start - 1].is_ascii_alphabetic() {
        scheme_start -= 1;
    }
    let scheme = &text[scheme_start..separator];
    if !(scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https")) {
        return None;
    }
    Some(Located {
        start: scheme_start,
        end: url_end(text, host_end),
        credentials,
        schemeless: false,
    })
}

/// Where an address whose host ends at `host_end` ends: as far as URL characters go, short of
/// the next address run on and of sentence punctuation.
fn url_end(text: &[u8], host_end: usize) -> usize {
    let mut end = host_end;
    while end < text.len() && url_byte(text[end]) {
        end += 1;
    }
    // Another address run on (`...?return=https://...`, or two with nothing between): this one
    // ends where the next one's scheme starts, so each is judged and fixed on its own.
    if let Some(next) = memchr::memmem::find(&text[host_end..end], b"://") {
        let mut next_scheme = host_end + next;
        while next_scheme > host_end && text[next_scheme - 1].is_ascii_alphabetic() {
            next_scheme -= 1;
        }
        end = next_scheme;
    }
    // Sentence punctuation after an address is not part of it.
    while end > host_end && b".:!?".contains(&text[end - 1]) {
        end -= 1;
    }
    end
}

/// The classifier's replacement (`https://new-host/path`) written as `found` is, without a
/// scheme; a bare host stays a bare host (no `/` added).
fn without_scheme(replacement: &str, found: &str) -> Option<String> {
    let (_, rest) = replacement.split_once("://")?;
    let bare = !found.contains('/');
    Some(match rest.strip_suffix('/') {
        Some(host) if bare && !host.contains('/') => host.to_owned(),
        _ => rest.to_owned(),
    })
}

/// Names of query parameters whose values are never shown.
const SECRET_WORDS: [&str; 6] = ["pass", "pwd", "secret", "token", "key", "auth"];

/// The address for showing: credentials (`user:password@`) and the values of query parameters
/// with secret-looking names replaced by `***`.
fn shown(address: &str, credentials: bool) -> String {
    let mut text = address.to_owned();
    if let (true, Some(scheme_end), Some(at)) = (credentials, text.find("://"), text.find('@'))
        && scheme_end + 3 <= at
    {
        text.replace_range(scheme_end + 3..at, "***");
    }
    let Some(query_start) = text.find('?') else {
        return text;
    };
    let (head, query) = text.split_at(query_start + 1);
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _))
                if SECRET_WORDS
                    .iter()
                    .any(|w| name.to_ascii_lowercase().contains(w)) =>
            {
                format!("{name}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}{}", masked.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Vec<AddressFinding> {
        Matcher::builtin().find(text.as_bytes())
    }

    /// Found by the fix property test: an old host in another old address's fragment or query
    /// was hidden inside it, and surfaced only once the outer one was fixed. Each is now its own
    /// finding, so one `--fix` leaves nothing to fix.
    #[test]
    fn an_address_ends_where_another_begins_so_one_fix_is_enough() {
        for (text, first) in [
            (
                "wsmap.caiso.com/sst/cmri/x#ws.caiso.com",
                "wsmap.caiso.com/sst/cmri/x#",
            ),
            (
                "https://wsmap.caiso.com/sst/cmri?next=ws.caiso.com",
                "https://wsmap.caiso.com/sst/cmri?next=",
            ),
            (
                "https://wsmap.caiso.com/sst/cmri?next=https://ws.caiso.com/x",
                "https://wsmap.caiso.com/sst/cmri?next=",
            ),
        ] {
            let found = find(text);
            assert_eq!(found.len(), 2, "{text}: {found:?}");
            assert_eq!(&text[found[0].start..found[0].end], first);
            assert_eq!(found[1].end, text.len(), "{text}");
            let fixed = crate::fix::rewrite(text.as_bytes(), &found);
            let again = Matcher::builtin().find(&fixed);
            assert!(
                again.iter().all(|f| !f.fixable),
                "{}: {again:?}",
                String::from_utf8_lossy(&fixed)
            );
        }
        // A host inside a path after `/` is part of that address, not one of its own.
        assert_eq!(
            find("https://wsmap.caiso.com/proxy/ws.caiso.com/x").len(),
            1
        );
    }

    #[test]
    fn an_old_api_address_is_found_with_its_line_and_replacement_and_the_path_kept() {
        let text = "one\r\ntwo <endpoint address=\"https://ws.caiso.com/sst/runtime.asvc/RetrieveMarketAwards_CMRIv4_AP\" />\r\n";
        let found = find(text);
        assert_eq!(found.len(), 1, "{found:?}");
        let finding = &found[0];
        assert_eq!(finding.line, 2);
        assert_eq!(
            &text[finding.start..finding.end],
            "https://ws.caiso.com/sst/runtime.asvc/RetrieveMarketAwards_CMRIv4_AP"
        );
        let replacement = finding.replacement.as_deref().expect("a replacement");
        assert!(
            replacement.ends_with("/RetrieveMarketAwards_CMRIv4_AP"),
            "{replacement}"
        );
        assert!(!replacement.contains("//ws.caiso.com/"), "{replacement}");
        assert!(finding.fixable);
    }

    #[test]
    fn current_addresses_oasis_and_look_alike_hosts_are_not_findings() {
        for text in [
            "https://ws.prod.caiso.com/sst/cmri/x",
            "http://oasis.caiso.com/oasisapi/SingleZip?queryname=PRC_LMP",
            "https://notws.caiso.com/sst/x",
            "https://ws.caiso.com.example.org/sst/x",
            "https://x.ws.caiso.com/sst/x",
            "ftp://ws.caiso.com/sst/x",
            "mail ops@ws.caiso.com",
            "//ws.caiso.com/sst/x",
            "mirror/ws.caiso.com/sst/x",
            "key:ws.caiso.com",
            "ws.prod.caiso.com",
        ] {
            assert_eq!(find(text), Vec::new(), "{text}");
        }
    }

    #[test]
    fn case_sentence_punctuation_and_several_per_line() {
        let text = "See HTTPS://WS.CAISO.COM/sst/cmri. Or https://wsmap.caiso.com/sst/cmri/x?a=1, then stop.";
        let found = find(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            &text[found[0].start..found[0].end],
            "HTTPS://WS.CAISO.COM/sst/cmri"
        );
        assert_eq!(
            &text[found[1].start..found[1].end],
            "https://wsmap.caiso.com/sst/cmri/x?a=1"
        );
        assert!(found.iter().all(|f| f.line == 1));
    }

    #[test]
    fn a_host_without_a_scheme_is_found_and_replaced_without_one() {
        let text =
            "caiso.host=ws.caiso.com\nurl = wsmap.caiso.com/sst/cmri/x?a=1\n\"ws.caiso.com/\"";
        let found = find(text);
        assert_eq!(found.len(), 3, "{found:?}");
        let spans: Vec<&str> = found.iter().map(|f| &text[f.start..f.end]).collect();
        assert_eq!(
            spans,
            [
                "ws.caiso.com",
                "wsmap.caiso.com/sst/cmri/x?a=1",
                "ws.caiso.com/"
            ]
        );
        let replacements: Vec<Option<&str>> =
            found.iter().map(|f| f.replacement.as_deref()).collect();
        assert_eq!(
            replacements,
            [
                Some("ws.prod.caiso.com"),
                Some("mapstage-ws.caiso.com/sst/cmri/x?a=1"),
                Some("ws.prod.caiso.com/")
            ]
        );
        assert_eq!(found.iter().map(|f| f.line).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(found.iter().all(|f| f.fixable));
    }

    #[test]
    fn an_address_inside_another_is_its_own_finding() {
        let text = "https://ws.caiso.com/sst/cmri/x?return=https://wsmap.caiso.com/sst/cmri/y";
        let found = find(text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            &text[found[0].start..found[0].end],
            "https://ws.caiso.com/sst/cmri/x?return="
        );
        assert_eq!(
            &text[found[1].start..found[1].end],
            "https://wsmap.caiso.com/sst/cmri/y"
        );
    }

    #[test]
    fn credentials_and_secret_query_values_are_never_shown_and_not_rewritten() {
        let text = "https://svc:Hunter2@ws.caiso.com/sst/cmri/x?password=Hunter3&user=a";
        let found = find(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!found[0].found.contains("Hunter"), "{}", found[0].found);
        assert!(found[0].found.contains("user=a"), "{}", found[0].found);
        let replacement = found[0].replacement_shown().expect("a replacement");
        assert!(!replacement.contains("Hunter"), "{replacement}");
        assert!(!found[0].fixable, "credentials would have to be moved");
    }
}

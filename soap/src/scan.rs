//! A streaming summary of a decoded CAISO document: its root element (local name and
//! namespace) and the records under its `MessagePayload` (how many, and the first one's name),
//! counted while the attachment inflates, in pieces, so a document of hundreds of MB is never
//! held whole. Tags are tokenised just enough for that: comments, CDATA, processing
//! instructions and quoted attribute values are skipped; names keep their local part.

/// Most nested `MessagePayload`s tracked.
const MAX_DEPTH: usize = 256;
/// Longest start tag of the root kept to find its namespace.
const MAX_ROOT_TAG: usize = 4096;

/// What the scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The root element's local name.
    pub root: String,
    /// The root's namespace, from its (default or prefixed) declaration.
    pub namespace: Option<String>,
    /// Elements directly under a `MessagePayload`.
    pub records: u64,
    /// The local name of the first of them.
    pub record: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    /// Just after `<`.
    Open,
    /// In a start tag's name.
    StartName,
    /// In an end tag's name.
    EndName,
    /// In a start tag after its name; the quote we are inside, if any.
    Attributes(Option<u8>),
    /// Skipping until this terminator (`-->`, `]]>`, `?>`, `>`).
    Skip(&'static [u8]),
    /// After `<!`: deciding between a comment, CDATA and a declaration.
    Bang,
}

/// The scanner; feed it pieces with [`Scanner::feed`], then [`Scanner::finish`].
#[derive(Debug, Default)]
pub struct Scanner {
    state: State,
    name: Vec<u8>,
    bang: Vec<u8>,
    /// The depths at which open `MessagePayload` elements sit (their children are records).
    payloads: Vec<usize>,
    depth: usize,
    root_tag: Option<Vec<u8>>,
    last: u8,
    matched: usize,
    summary: Summary,
}

impl Scanner {
    /// A scanner at the start of a document.
    pub fn new() -> Scanner {
        Scanner::default()
    }

    /// Reads the next piece of the document. Runs of bytes that cannot change the state (text,
    /// names, attribute values) are skipped with one search each.
    pub fn feed(&mut self, piece: &[u8]) {
        let mut i = 0;
        while i < piece.len() {
            let b = piece[i];
            match self.state {
                State::Text => match piece[i..].iter().position(|&c| c == b'<') {
                    Some(at) => {
                        i += at + 1;
                        self.state = State::Open;
                        self.last = b'<';
                        continue;
                    }
                    None => return,
                },
                State::Open => match b {
                    b'/' => {
                        self.name.clear();
                        self.state = State::EndName;
                    }
                    b'?' => self.skip(b"?>"),
                    b'!' => {
                        self.bang.clear();
                        self.state = State::Bang;
                    }
                    _ => {
                        self.name.clear();
                        self.name.push(b);
                        if self.state_is_root() {
                            self.root_tag = Some(vec![b'<', b]);
                        }
                        self.state = State::StartName;
                    }
                },
                State::Bang => {
                    self.bang.push(b);
                    if self.bang == b"--" {
                        self.skip(b"-->");
                    } else if self.bang == b"[CDATA[" {
                        self.skip(b"]]>");
                    } else if !b"--".starts_with(&self.bang) && !b"[CDATA[".starts_with(&self.bang)
                    {
                        self.state = if b == b'>' {
                            State::Text
                        } else {
                            State::Skip(b">")
                        };
                        self.matched = 0;
                    }
                }
                State::StartName => {
                    let rest = &piece[i..];
                    let end = rest
                        .iter()
                        .position(|&c| c.is_ascii_whitespace() || c == b'/' || c == b'>')
                        .unwrap_or(rest.len());
                    let room = 256usize.saturating_sub(self.name.len());
                    self.name.extend_from_slice(&rest[..end.min(room)]);
                    self.keep_root_run(&rest[..end]);
                    if end == rest.len() {
                        self.last = rest[end - 1];
                        return;
                    }
                    i += end;
                    self.state = State::Attributes(None);
                    continue; // the byte that ended the name is read as part of the attributes
                }
                State::EndName => match piece[i..].iter().position(|&c| c == b'>') {
                    Some(at) => {
                        i += at + 1;
                        self.end_tag();
                        self.state = State::Text;
                        self.last = b'>';
                        continue;
                    }
                    None => return,
                },
                State::Attributes(Some(quote)) => {
                    let rest = &piece[i..];
                    match rest.iter().position(|&c| c == quote) {
                        Some(at) => {
                            self.keep_root_run(&rest[..=at]);
                            i += at + 1;
                            self.state = State::Attributes(None);
                            self.last = quote;
                            continue;
                        }
                        None => {
                            self.keep_root_run(rest);
                            self.last = rest[rest.len() - 1];
                            return;
                        }
                    }
                }
                State::Attributes(None) => {
                    let rest = &piece[i..];
                    let Some(at) = rest.iter().position(|&c| matches!(c, b'"' | b'\'' | b'>'))
                    else {
                        self.keep_root_run(rest);
                        self.last = rest[rest.len() - 1];
                        return;
                    };
                    self.keep_root_run(&rest[..=at]);
                    let before = if at > 0 { rest[at - 1] } else { self.last };
                    i += at + 1;
                    self.last = rest[at];
                    if rest[at] == b'>' {
                        self.start_tag(before == b'/');
                        self.state = State::Text;
                    } else {
                        self.state = State::Attributes(Some(rest[at]));
                    }
                    continue;
                }
                State::Skip(end) => {
                    if b == end[self.matched] {
                        self.matched += 1;
                        if self.matched == end.len() {
                            self.state = State::Text;
                        }
                    } else {
                        self.matched = usize::from(b == end[0]);
                    }
                }
            }
            self.last = b;
            i += 1;
        }
    }

    fn keep_root_run(&mut self, run: &[u8]) {
        if let Some(tag) = self.root_tag.as_mut() {
            let room = MAX_ROOT_TAG.saturating_sub(tag.len());
            tag.extend_from_slice(&run[..run.len().min(room)]);
        }
    }

    fn skip(&mut self, until: &'static [u8]) {
        self.state = State::Skip(until);
        self.matched = 0;
    }

    fn state_is_root(&self) -> bool {
        self.depth == 0 && self.summary.root.is_empty()
    }

    fn start_tag(&mut self, self_closing: bool) {
        let name = &self.name;
        let colon = name.iter().position(|&c| c == b':');
        let local = colon.map_or(&name[..], |at| &name[at + 1..]);
        if self.depth == 0 && self.summary.root.is_empty() {
            self.summary.root = String::from_utf8_lossy(local).into_owned();
            let prefix = colon.map(|at| String::from_utf8_lossy(&name[..at]).into_owned());
            let tag = self.root_tag.take().unwrap_or_default();
            self.summary.namespace = declaration(&String::from_utf8_lossy(&tag), prefix.as_deref());
        } else if self.depth > 0 && self.payloads.last() == Some(&(self.depth - 1)) {
            self.summary.records += 1;
            if self.summary.record.is_none() {
                self.summary.record = Some(String::from_utf8_lossy(local).into_owned());
            }
        }
        if !self_closing {
            if local == b"MessagePayload" && self.payloads.len() < MAX_DEPTH {
                self.payloads.push(self.depth);
            }
            self.depth += 1;
        }
    }

    fn end_tag(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if self.payloads.last() == Some(&self.depth) {
            self.payloads.pop();
        }
    }

    /// What was found.
    pub fn finish(self) -> Summary {
        self.summary
    }
}

/// The namespace `prefix` (or the default one) is bound to in a start tag's text.
fn declaration(tag: &str, prefix: Option<&str>) -> Option<String> {
    let attribute = match prefix {
        Some(p) => format!("xmlns:{p}"),
        None => "xmlns".to_owned(),
    };
    let mut rest = tag;
    while let Some(at) = rest.find(&attribute) {
        let after = rest[at + attribute.len()..].trim_start();
        if let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let inner = &value[1..];
                return inner.find(quote).map(|end| inner[..end].to_owned());
            }
        }
        rest = &rest[at + attribute.len()..];
    }
    None
}

/// Scans a whole document at once.
pub fn summarize(document: &[u8]) -> Summary {
    let mut scanner = Scanner::new();
    scanner.feed(document);
    scanner.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWARDS: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><MarketAwards xmlns=\"http://www.caiso.com/soa/MarketAwards_v4.xsd#\">\
        <MessageHeader><TimeDate>2026-02-14T08:12:35</TimeDate><Source>CAISO</Source><Version>v20161001</Version></MessageHeader>\
        <MessagePayload><!-- a > comment <MarketResultRecord> --><MarketResultRecord><executionType>IFM</executionType>\
        <TradeIntervalData><MW>12.5</MW></TradeIntervalData></MarketResultRecord>\
        <MarketResultRecord a=\"x > y\" b='<MarketResultRecord>'><resource>R1</resource></MarketResultRecord>\
        <![CDATA[<MarketResultRecord>]]><MarketResultRecord/></MessagePayload></MarketAwards>";

    #[test]
    fn counts_the_records_under_message_payload() {
        let summary = summarize(AWARDS.as_bytes());
        assert_eq!(summary.root, "MarketAwards");
        assert_eq!(
            summary.namespace.as_deref(),
            Some("http://www.caiso.com/soa/MarketAwards_v4.xsd#")
        );
        assert_eq!(summary.records, 3);
        assert_eq!(summary.record.as_deref(), Some("MarketResultRecord"));
    }

    #[test]
    fn the_same_in_pieces_of_any_size() {
        for size in [1, 2, 3, 7, 64] {
            let mut scanner = Scanner::new();
            for piece in AWARDS.as_bytes().chunks(size) {
                scanner.feed(piece);
            }
            assert_eq!(scanner.finish(), summarize(AWARDS.as_bytes()), "{size}");
        }
    }

    #[test]
    fn prefixed_roots_and_documents_without_payload() {
        let doc = "<ns1:outputDataType xmlns:ns1=\"http://www.caiso.com/soa/2006-06-13/StandardOutput.xsd\" xmlns=\"urn:other\">\
                   <ns1:EventLog><ns1:Event><ns1:result>FMWK0008</ns1:result></ns1:Event></ns1:EventLog></ns1:outputDataType>";
        let summary = summarize(doc.as_bytes());
        assert_eq!(summary.root, "outputDataType");
        assert_eq!(
            summary.namespace.as_deref(),
            Some("http://www.caiso.com/soa/2006-06-13/StandardOutput.xsd")
        );
        assert_eq!(summary.records, 0);
        assert_eq!(summarize(b"not xml at all"), Summary::default());
    }
}

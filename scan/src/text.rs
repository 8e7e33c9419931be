//! A file's bytes as text to scan, and back. Old addresses are ASCII, so a file of any
//! ASCII-compatible 8-bit encoding (UTF-8, Windows-1252, ...) is scanned and fixed as bytes:
//! nothing outside an address is decoded or touched. UTF-16 (with its byte-order mark, as .NET
//! writes configuration) is decoded to UTF-8 for the scan and encoded back exactly.

/// How many leading bytes are looked at for a NUL, the sign of a binary file (grep's rule).
const BINARY_PROBE: usize = 8192;

const UTF8_BOM: [u8; 3] = [0xef, 0xbb, 0xbf];

/// How a file's text is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 without a byte-order mark (or plain ASCII).
    Utf8,
    /// Bytes of another ASCII-compatible encoding (Windows-1252, Latin-1, ...).
    Bytes,
    /// UTF-8 after a byte-order mark.
    Utf8Bom,
    /// UTF-16, little-endian, after a byte-order mark.
    Utf16Le,
    /// UTF-16, big-endian, after a byte-order mark.
    Utf16Be,
}

impl Encoding {
    /// As the reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Bytes => "8-bit",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
        }
    }
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Text in `encoding`; `scanned` is what the matcher reads: the bytes after any byte-order
    /// mark, or for UTF-16 the text as UTF-8.
    Text {
        /// How the file stores it.
        encoding: Encoding,
        /// The bytes to scan.
        scanned: Vec<u8>,
    },
    /// A binary file: a NUL byte among the first bytes and no UTF-16 byte-order mark.
    Binary,
    /// A UTF-16 byte-order mark over bytes that are not UTF-16.
    Undecodable(Encoding),
}

/// Reads `bytes` as text.
pub fn read(bytes: Vec<u8>) -> Content {
    let utf16 = match bytes.get(..2) {
        Some([0xff, 0xfe]) => Some((Encoding::Utf16Le, u16::from_le_bytes as fn([u8; 2]) -> u16)),
        Some([0xfe, 0xff]) => Some((Encoding::Utf16Be, u16::from_be_bytes as fn([u8; 2]) -> u16)),
        _ => None,
    };
    if let Some((encoding, unit)) = utf16 {
        let body = &bytes[2..];
        if !body.len().is_multiple_of(2) {
            return Content::Undecodable(encoding);
        }
        let units: Vec<u16> = body.chunks_exact(2).map(|c| unit([c[0], c[1]])).collect();
        return match String::from_utf16(&units) {
            Ok(text) => Content::Text {
                encoding,
                scanned: text.into_bytes(),
            },
            Err(_) => Content::Undecodable(encoding),
        };
    }
    let (encoding, start) = if bytes.starts_with(&UTF8_BOM) {
        (Encoding::Utf8Bom, UTF8_BOM.len())
    } else {
        (Encoding::Bytes, 0)
    };
    let probe = &bytes[start..bytes.len().min(BINARY_PROBE)];
    if memchr::memchr(0, probe).is_some() {
        return Content::Binary;
    }
    let mut scanned = bytes;
    scanned.drain(..start);
    let encoding = match encoding {
        Encoding::Bytes if std::str::from_utf8(&scanned).is_ok() => Encoding::Utf8,
        other => other,
    };
    Content::Text { encoding, scanned }
}

/// The file's bytes for `scanned` text in `encoding`: the inverse of [`read`].
pub fn write(encoding: Encoding, scanned: &[u8]) -> Result<Vec<u8>, std::str::Utf8Error> {
    Ok(match encoding {
        Encoding::Utf8 | Encoding::Bytes => scanned.to_vec(),
        Encoding::Utf8Bom => UTF8_BOM.iter().chain(scanned).copied().collect(),
        Encoding::Utf16Le => utf16(
            [0xff, 0xfe],
            std::str::from_utf8(scanned)?,
            u16::to_le_bytes,
        ),
        Encoding::Utf16Be => utf16(
            [0xfe, 0xff],
            std::str::from_utf8(scanned)?,
            u16::to_be_bytes,
        ),
    })
}

/// `text` in UTF-16 after its byte-order mark `bom`, each unit as `unit` writes it.
fn utf16(bom: [u8; 2], text: &str, unit: fn(u16) -> [u8; 2]) -> Vec<u8> {
    bom.into_iter()
        .chain(text.encode_utf16().flat_map(unit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    }

    #[test]
    fn every_text_encoding_reads_and_writes_back_byte_for_byte() {
        let text = "<add key=\"url\" value=\"https://ws.caiso.com/sst/x\" /> \u{e9}\r\n";
        let mut utf16be = vec![0xfe, 0xff];
        utf16be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let latin1: Vec<u8> = b"caf\xe9 https://ws.caiso.com/\n".to_vec();
        for (bytes, encoding) in [
            (text.as_bytes().to_vec(), Encoding::Utf8),
            ([&UTF8_BOM[..], text.as_bytes()].concat(), Encoding::Utf8Bom),
            (utf16le(text), Encoding::Utf16Le),
            (utf16be, Encoding::Utf16Be),
            (latin1, Encoding::Bytes),
        ] {
            let Content::Text {
                encoding: found,
                scanned,
            } = read(bytes.clone())
            else {
                panic!("{encoding:?} not read as text")
            };
            assert_eq!(found, encoding);
            assert!(
                scanned.windows(12).any(|w| w == b"ws.caiso.com"),
                "{encoding:?}"
            );
            assert_eq!(
                write(found, &scanned).expect("write"),
                bytes,
                "{encoding:?}"
            );
        }
    }

    #[test]
    fn a_nul_byte_makes_a_binary_file_and_broken_utf16_is_undecodable() {
        assert_eq!(
            read(b"MZ\0\0https://ws.caiso.com/".to_vec()),
            Content::Binary
        );
        assert_eq!(
            read(vec![0xff, 0xfe, 0x41]),
            Content::Undecodable(Encoding::Utf16Le)
        );
        // An unpaired surrogate.
        assert_eq!(
            read(vec![0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00]),
            Content::Undecodable(Encoding::Utf16Le)
        );
    }
}

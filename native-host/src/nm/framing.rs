//! Native messaging framing: a `u32` length in native byte order, then that many bytes of JSON.
//!
//! Reading is capped (the cap is checked before anything is allocated) and every way a frame can
//! be broken is a distinct [`FrameError`], so the session can answer it with a typed error or
//! end cleanly.

use std::io::{self, Read, Write};

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The announced length is over the cap; the stream cannot be resynchronised.
    TooLarge {
        /// The announced length.
        length: u64,
        /// The cap.
        cap: usize,
    },
    /// The stream ended inside a frame.
    Truncated {
        /// Bytes expected.
        expected: usize,
        /// Bytes received.
        received: usize,
    },
    /// Reading failed.
    Io(io::Error),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { length, cap } => {
                write!(
                    f,
                    "a message of {length} bytes is over the limit of {cap} bytes"
                )
            }
            FrameError::Truncated { expected, received } => write!(
                f,
                "the stream ended inside a message ({received} of {expected} bytes received)"
            ),
            FrameError::Io(e) => write!(f, "reading a message failed: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads one frame. `Ok(None)` is a clean end of stream between frames (the browser closed the
/// port).
pub fn read_frame(reader: &mut impl Read, cap: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut header = [0u8; 4];
    let got = read_full(reader, &mut header).map_err(FrameError::Io)?;
    if got == 0 {
        return Ok(None);
    }
    if got < header.len() {
        return Err(FrameError::Truncated {
            expected: header.len(),
            received: got,
        });
    }
    let length = u32::from_ne_bytes(header);
    let Ok(length) = usize::try_from(length) else {
        return Err(FrameError::TooLarge {
            length: u64::from(length),
            cap,
        });
    };
    if length > cap {
        return Err(FrameError::TooLarge {
            length: length as u64,
            cap,
        });
    }
    let mut body = vec![0u8; length];
    let got = read_full(reader, &mut body).map_err(FrameError::Io)?;
    if got < length {
        return Err(FrameError::Truncated {
            expected: length,
            received: got,
        });
    }
    Ok(Some(body))
}

/// Writes one frame and flushes it.
pub fn write_frame(writer: &mut impl Write, body: &[u8]) -> io::Result<()> {
    let length = u32::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    writer.write_all(&length.to_ne_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_frame(&mut out, body).expect("write");
        out
    }

    #[test]
    fn round_trip_and_clean_end() {
        let mut stream = frame(br#"{"a":1}"#);
        stream.extend(frame(b"{}"));
        let mut reader = stream.as_slice();
        assert_eq!(
            read_frame(&mut reader, 64).expect("1"),
            Some(br#"{"a":1}"#.to_vec())
        );
        assert_eq!(
            read_frame(&mut reader, 64).expect("2"),
            Some(b"{}".to_vec())
        );
        assert_eq!(read_frame(&mut reader, 64).expect("end"), None);
    }

    #[test]
    fn length_is_native_endian() {
        let stream = frame(b"xyz");
        assert_eq!(&stream[..4], &3u32.to_ne_bytes());
    }

    #[test]
    fn over_the_cap_is_refused_before_reading() {
        let mut stream = u32::MAX.to_ne_bytes().to_vec();
        stream.extend(b"{}");
        match read_frame(&mut stream.as_slice(), 1024) {
            Err(FrameError::TooLarge { length, cap }) => {
                assert_eq!((length, cap), (u64::from(u32::MAX), 1024));
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn truncation_is_reported() {
        let stream = frame(b"0123456789");
        match read_frame(&mut &stream[..8], 64) {
            Err(FrameError::Truncated {
                expected: 10,
                received: 4,
            }) => {}
            other => panic!("expected Truncated, got {other:?}"),
        }
        match read_frame(&mut &stream[..2], 64) {
            Err(FrameError::Truncated {
                expected: 4,
                received: 2,
            }) => {}
            other => panic!("expected Truncated header, got {other:?}"),
        }
    }
}

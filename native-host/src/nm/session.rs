//! A native messaging session: reads requests from the browser, answers each, until the
//! browser closes the port. Every malformed request gets a typed error; a stream that cannot be
//! resynchronised (a length over the cap, a frame cut short) ends the session cleanly.

use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use caiso_shared::protocol::{
    ErrorCode, Event, MAX_REPLY_BYTES, MAX_REQUEST_BYTES, PROTOCOL_VERSION, ProtocolError, Reply,
    ReplyBody,
};
use serde::Serialize;
use serde_json::Value;

use super::dispatch::{self, Handled};
use super::framing::{self, FrameError};
use crate::actions::Workspace;
use crate::log;

/// How a session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The browser closed the port.
    Closed,
    /// The input stream was broken; the session could not go on.
    Broken,
}

/// How many long commands (calls, diagnostics, reports) may run at once.
pub const MAX_BACKGROUND: usize = 8;

/// Serves requests from `input` until it ends, then waits for long commands still running.
/// Replies go to `output` one whole frame at a time.
pub fn serve<W: Write + Send>(
    input: &mut impl Read,
    output: W,
    workspace: &mut Workspace,
) -> SessionEnd {
    let output = Mutex::new(output);
    let running = AtomicUsize::new(0);
    let write = |id: Option<u64>, body: ReplyBody<Value>| {
        let mut out = output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        send(&mut *out, id, body)
    };
    std::thread::scope(|scope| {
        loop {
            let frame = match framing::read_frame(input, MAX_REQUEST_BYTES) {
                Ok(Some(frame)) => frame,
                Ok(None) => return SessionEnd::Closed,
                Err(e @ FrameError::TooLarge { .. }) => {
                    log::warn(&format!("ending the session: {e}"));
                    let error = ProtocolError::new(ErrorCode::FrameTooLarge, e.to_string());
                    let _ = write(None, ReplyBody::Error(error));
                    return SessionEnd::Broken;
                }
                Err(e) => {
                    log::warn(&format!("ending the session: {e}"));
                    return SessionEnd::Broken;
                }
            };
            let (id, handled) = dispatch::handle(&frame, workspace);
            let answer = match handled {
                Handled::Now(answer) => answer,
                Handled::Later(job) => {
                    if running.load(Ordering::SeqCst) >= MAX_BACKGROUND {
                        let mut error = ProtocolError::new(
                            ErrorCode::Busy,
                            format!(
                                "{MAX_BACKGROUND} calls are already running; try again when one ends"
                            ),
                        );
                        error.retry_after_s = Some(1);
                        Err(error)
                    } else {
                        running.fetch_add(1, Ordering::SeqCst);
                        let (write, running) = (&write, &running);
                        scope.spawn(move || {
                            let mut emit = |event: Event| {
                                if let Err(e) = write(id, ReplyBody::Event(event)) {
                                    log::warn(&format!("cannot write a progress event: {e}"));
                                }
                            };
                            let answer = job(&mut emit);
                            if let Err(e) = reply(write, id, answer) {
                                log::warn(&format!("cannot write an answer: {e}"));
                            }
                            running.fetch_sub(1, Ordering::SeqCst);
                        });
                        continue;
                    }
                }
            };
            if let Err(e) = reply(&write, id, answer) {
                log::warn(&format!(
                    "ending the session: cannot write to the browser: {e}"
                ));
                return SessionEnd::Broken;
            }
        }
    })
}

fn reply(
    write: &impl Fn(Option<u64>, ReplyBody<Value>) -> std::io::Result<()>,
    id: Option<u64>,
    answer: Result<Value, ProtocolError>,
) -> std::io::Result<()> {
    match answer {
        Ok(body) => write(id, ReplyBody::Ok(body)),
        Err(error) => {
            log::info(&format!("request {id:?} refused: {}", error.code.as_str()));
            write(id, ReplyBody::Error(error))
        }
    }
}

/// Writes one reply, replacing it with an error when it would be too large for the browser.
fn send<T: Serialize>(
    output: &mut impl Write,
    id: Option<u64>,
    body: ReplyBody<T>,
) -> std::io::Result<()> {
    let reply = Reply {
        v: PROTOCOL_VERSION,
        id,
        body,
    };
    let bytes = serde_json::to_vec(&reply).unwrap_or_default();
    if bytes.is_empty() || bytes.len() > MAX_REPLY_BYTES {
        let error = ProtocolError::new(
            ErrorCode::ReplyTooLarge,
            format!("the answer would exceed {MAX_REPLY_BYTES} bytes"),
        );
        let fallback = Reply {
            v: PROTOCOL_VERSION,
            id,
            body: ReplyBody::<()>::Error(error),
        };
        let bytes = serde_json::to_vec(&fallback).unwrap_or_default();
        return framing::write_frame(output, &bytes);
    }
    framing::write_frame(output, &bytes)
}

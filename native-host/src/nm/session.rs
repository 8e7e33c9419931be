//! A native messaging session: reads requests from the browser, answers each, until the
//! browser closes the port. Every malformed request gets a typed error; a stream that cannot be
//! resynchronised (a length over the cap, a frame cut short) ends the session cleanly.

use std::collections::HashSet;
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
pub(crate) const MAX_BACKGROUND: usize = 8;

/// Serves requests from `input` until it ends, then waits for long commands still running.
/// Replies go to `output` one whole frame at a time.
pub fn serve<W: Write + Send>(
    input: &mut impl Read,
    output: W,
    workspace: &mut Workspace,
) -> SessionEnd {
    let output = Mutex::new(output);
    let running = AtomicUsize::new(0);
    // The ids of long commands still running: a request reusing one is refused.
    let in_flight: Mutex<HashSet<u64>> = Mutex::new(HashSet::new());
    let ids = || {
        in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let write = |id: Option<u64>, body: ReplyBody<Value>| {
        let mut out = output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        send(&mut *out, id, body)
    };
    let calls = std::sync::Arc::clone(&workspace.calls);
    // However the session ends, calls not started yet are cancelled; the scope then waits only
    // for calls already out (each ends within its time limit).
    let end = |how: SessionEnd| {
        calls.cancel();
        how
    };
    std::thread::scope(|scope| {
        loop {
            let frame = match framing::read_frame(input, MAX_REQUEST_BYTES) {
                Ok(Some(frame)) => frame,
                Ok(None) => return end(SessionEnd::Closed),
                Err(e @ FrameError::TooLarge { .. }) => {
                    log::warn(&format!("ending the session: {e}"));
                    let error = ProtocolError::new(ErrorCode::FrameTooLarge, e.to_string());
                    let _ = write(None, ReplyBody::Error(error));
                    return end(SessionEnd::Broken);
                }
                Err(e) => {
                    log::warn(&format!("ending the session: {e}"));
                    return end(SessionEnd::Broken);
                }
            };
            let (id, handled) = dispatch::handle(&frame, workspace, &|id| ids().contains(&id));
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
                        if let Some(id) = id {
                            ids().insert(id);
                        }
                        let (write, running, ids) = (&write, &running, &ids);
                        scope.spawn(move || {
                            let mut emit = |event: Event| {
                                if let Err(e) = write(id, ReplyBody::Event(event)) {
                                    log::warn(&format!("cannot write a progress event: {e}"));
                                }
                            };
                            let answer = job(&mut emit);
                            // Free before the answer goes: the id may be reused once it is seen.
                            if let Some(id) = id {
                                ids().remove(&id);
                            }
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
                return end(SessionEnd::Broken);
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

#[cfg(test)]
mod tests {
    //! The session driven in-process: frames in from a reader, frames out to a writer.

    use super::*;
    use crate::test_support::pki;
    use serde_json::json;

    fn frames(requests: &[Value]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for request in requests {
            let body = serde_json::to_vec(request).expect("json");
            framing::write_frame(&mut bytes, &body).expect("frame");
        }
        bytes
    }

    fn answers(mut output: &[u8]) -> Vec<Value> {
        let mut all = Vec::new();
        while let Some(frame) = framing::read_frame(&mut output, MAX_REPLY_BYTES).expect("frame") {
            all.push(serde_json::from_slice(&frame).expect("json"));
        }
        all
    }

    fn workspace_with_identity(dir: &std::path::Path) -> Workspace {
        let mut workspace = Workspace::new(dir.to_owned());
        let request = crate::actions::import::ImportRequest {
            label: Some("production".into()),
            source: crate::store::config::KeySource::Pem {
                certificate: pki("valid.crt"),
                key: pki("valid.key"),
            },
            environment: caiso_shared::Environment::Production,
            kind: caiso_shared::certificate::IdentityKind::User,
            passphrase: None,
            use_keyring: false,
            replace: false,
        };
        crate::actions::import::import(&mut workspace, request).expect("import");
        workspace
    }

    #[test]
    fn requests_in_answers_out_and_errors_typed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut workspace = workspace_with_identity(dir.path());
        let input = frames(&[
            json!({"v": 1, "id": 1, "command": "hello", "args": {"protocol": 1, "client": "t/1"}}),
            json!({"v": 1, "id": 2, "command": "status", "args": {}}),
            json!({"v": 1, "id": 3, "command": "renewal", "args": {"identity": "nobody", "action": {"step": "approved"}}}),
            json!({"v": 1, "id": 4, "command": "call", "args": {"identity": "production", "system": "cmri", "service": "RetrieveMarketAwards_CMRIv4_AP", "environment": "sandbox"}}),
        ]);
        let mut output = Vec::new();
        let end = serve(&mut input.as_slice(), &mut output, &mut workspace);
        assert_eq!(end, SessionEnd::Closed);
        let answers = answers(&output);
        let by_id = |id: u64| {
            answers
                .iter()
                .find(|a| a["id"] == id)
                .unwrap_or_else(|| panic!("no answer {id}: {answers:?}"))
        };
        assert_eq!(by_id(1)["ok"]["identities"], 1);
        assert_eq!(by_id(2)["ok"]["identities"][0]["label"], "production");
        assert_eq!(
            by_id(3)["error"]["code"],
            "unknown_identity",
            "{:?}",
            by_id(3)
        );
        assert!(
            by_id(3)["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("`nobody`")),
            "{:?}",
            by_id(3)
        );
        // A long command refused before it runs: the sandbox is not configured.
        assert_eq!(
            by_id(4)["error"]["code"],
            "environment_unavailable",
            "{:?}",
            by_id(4)
        );
    }

    #[test]
    fn a_frame_over_the_cap_ends_the_session_with_its_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut workspace = Workspace::new(dir.path().to_owned());
        let too_long = u32::try_from(MAX_REQUEST_BYTES + 1)
            .expect("cap")
            .to_ne_bytes();
        let mut output = Vec::new();
        let end = serve(&mut &too_long[..], &mut output, &mut workspace);
        assert_eq!(end, SessionEnd::Broken);
        assert_eq!(answers(&output)[0]["error"]["code"], "frame_too_large");
    }
}

//! Native messaging from a hostile or broken browser: any bytes on the host's standard input are
//! read as frames and every frame is handled as a request by a workspace over an empty
//! configuration folder. Long commands (calls, diagnostics, reports) are only prepared, never
//! run, so nothing leaves the machine.
//!
//! Properties: no panic; every frame the framing accepts is within the cap; every answer
//! serialises to JSON and fits one reply frame.
#![no_main]

use std::io::Cursor;
use std::sync::{Mutex, OnceLock};

use caiso_access_host::actions::workspace::Workspace;
use caiso_access_host::nm::dispatch::{self, Handled};
use caiso_access_host::nm::framing;
use caiso_shared::protocol::{MAX_REPLY_BYTES, MAX_REQUEST_BYTES};
use libfuzzer_sys::fuzz_target;

struct Folder {
    workspace: Mutex<Workspace>,
    _temp: tempfile::TempDir,
}

fn folder() -> &'static Folder {
    static FOLDER: OnceLock<Folder> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let temp = tempfile::tempdir().expect("temporary folder");
        Folder {
            workspace: Mutex::new(Workspace::new(temp.path().to_path_buf())),
            _temp: temp,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let mut workspace = folder()
        .workspace
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut input = Cursor::new(data);
    // At most a few frames per input: each is handled in full.
    for _ in 0..8 {
        let frame = match framing::read_frame(&mut input, MAX_REQUEST_BYTES) {
            Ok(Some(frame)) => frame,
            Ok(None) | Err(_) => return,
        };
        assert!(frame.len() <= MAX_REQUEST_BYTES);
        let (_id, handled) = dispatch::handle(&frame, &mut workspace, &|_| false);
        if let Handled::Now(answer) = handled {
            let value = match answer {
                Ok(value) => value,
                Err(error) => serde_json::to_value(&error).expect("an error serialises"),
            };
            let bytes = serde_json::to_vec(&value).expect("an answer serialises");
            assert!(bytes.len() <= MAX_REPLY_BYTES, "{} bytes", bytes.len());
            let mut reply = Vec::new();
            framing::write_frame(&mut reply, &bytes).expect("a reply frame");
        }
    }
});

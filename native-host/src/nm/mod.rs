//! The native messaging front end: who may call ([`caller`]), frames ([`framing`]), the session
//! loop and its long-command threads ([`session`]), and what each request does ([`dispatch`], the
//! only place a protocol error is made). Stdout carries protocol frames only.

pub mod caller;
pub mod dispatch;
pub mod framing;
pub(crate) mod session;
pub(crate) mod strict_json;

use caiso_shared::protocol::{ErrorCode, PROTOCOL_VERSION, ProtocolError, Reply, ReplyBody};

use crate::actions::Workspace;
use crate::log;
use caller::Invocation;
pub use session::{SessionEnd, serve};

/// How serving a browser ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The session ran and ended so.
    Session(SessionEnd),
    /// The caller is not an allowed extension; it was told so and nothing else was done.
    CallerRefused,
    /// The host has no configuration folder to work in.
    NoConfiguration,
}

/// Serves the browser `caller` on stdin and stdout until it closes the port.
pub fn run(caller: &Invocation) -> Outcome {
    let mut workspace = match Workspace::open() {
        Ok(workspace) => workspace,
        Err(e) => {
            log::warn(&e.to_string());
            return Outcome::NoConfiguration;
        }
    };
    let mut extra = workspace
        .config()
        .map(|c| c.extra_allowed_callers.clone())
        .unwrap_or_default();
    // The organisation's own ids, allowed for every user of this computer.
    match crate::store::machine_policy::load() {
        Ok(policy) => extra.extend(policy.allowed_origins()),
        Err(e) => log::warn(&e.to_string()),
    }
    if !caller.is_allowed(&extra) {
        log::warn(&format!(
            "refusing caller {}: not an allowed extension",
            caller.describe()
        ));
        let error = ProtocolError::new(
            ErrorCode::CallerNotAllowed,
            "this caiso-access host serves only the caiso-access extension",
        );
        let reply = Reply::<()> {
            v: PROTOCOL_VERSION,
            id: None,
            body: ReplyBody::Error(error),
        };
        if let Ok(bytes) = serde_json::to_vec(&reply) {
            let _ = framing::write_frame(&mut std::io::stdout().lock(), &bytes);
        }
        return Outcome::CallerRefused;
    }
    log::info(&format!("serving {}", caller.describe()));
    // Long commands answer from their own threads: they write through `Stdout`, which locks
    // per frame, so this thread must not hold the lock.
    let mut stdin = std::io::stdin().lock();
    Outcome::Session(serve(&mut stdin, std::io::stdout(), &mut workspace))
}

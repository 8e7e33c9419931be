//! Recording a step of CAISO's renewal procedure for one identity.

use caiso_shared::certificate::IdentityStatus;
use caiso_shared::renewal::RenewalAction;

use super::Workspace;
use crate::clock;
use crate::error::HostResult;
use crate::identity::renewal;
use crate::store::{RenewalBook, StateLock};

/// Applies `action` to the identity labelled `label`, saves the book, and returns the
/// identity's status afterwards.
pub fn record_step(
    workspace: &mut Workspace,
    label: &str,
    action: &RenewalAction,
) -> HostResult<IdentityStatus> {
    let expires_on = workspace.identity(label)?.expires_on();
    // Read, change and write under the state lock: another process (the CLI, a browser's host)
    // may record a step at the same moment.
    let held = StateLock::acquire(workspace.dir())?;
    let mut book = RenewalBook::load(workspace.dir())?;
    let updated = renewal::apply(&book.record(label), action, clock::today(), expires_on)?;
    book.identities.insert(label.to_owned(), updated);
    book.save(workspace.dir(), &held)?;
    drop(held);
    workspace.status_of(label, clock::now())
}

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
pub(crate) fn record_step(
    workspace: &mut Workspace,
    label: &str,
    action: &RenewalAction,
) -> HostResult<IdentityStatus> {
    // Read, decide, change and write under the state lock: another process (the CLI, a
    // browser's host) may record a step, or rename or remove the identity, at the same moment.
    // What was read before the lock may be gone: the identity is looked up again under it, so a
    // step for a label a rename just took away is refused and never written under that label.
    let held = StateLock::acquire(workspace.dir())?;
    workspace.forget();
    let expires_on = workspace.identity(label)?.expires_on();
    let mut book = RenewalBook::load(workspace.dir())?;
    let updated = renewal::apply(&book.record(label), action, clock::today(), expires_on)?;
    book.identities.insert(label.to_owned(), updated);
    book.save(workspace.dir(), &held)?;
    drop(held);
    workspace.status_of(label, clock::now())
}

//! The host's one error type: each variant names a cause a user or the extension can act on.
//! Its words are written here, once per kind; the native messaging session turns it into a
//! typed protocol error (`nm`), the command line into a message and an exit code (`cli`).

use crate::identity::certificate::CertificateError;
use crate::identity::custody::CustodyError;
use crate::identity::keyring::KeyringError;
use crate::identity::renewal::TransitionError;
use crate::store::StorageError;

/// Why a host operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// No identity has this label.
    UnknownIdentity(String),
    /// The label is already taken by another identity (import without replace).
    LabelTaken(String),
    /// The label is not a usable identity label.
    InvalidLabel(String),
    /// The system and service are not one of the offered test calls.
    UnknownOperation,
    /// The sandbox environment was asked for and none is configured on this computer.
    NoSandbox,
    /// The service has no address in this environment (its name).
    NoAddress(&'static str),
    /// The certificate or key could not be opened.
    Custody(CustodyError),
    /// A stored or given certificate cannot be read.
    Certificate(CertificateError),
    /// The private key does not belong to the certificate.
    KeyMismatch,
    /// The operating system's keyring failed.
    Keyring(KeyringError),
    /// A renewal step that does not follow from the recorded ones.
    InvalidTransition(TransitionError),
    /// A setting or argument value that is not allowed (what, and the rule).
    InvalidValue(String),
    /// A host file could not be read or written.
    Storage(StorageError),
    /// Registering with a browser failed.
    Registration(String),
    /// The call, diagnosis or report was stopped before it finished (the browser closed the
    /// connection).
    Cancelled,
    /// Something that should not happen (a bug).
    Internal(String),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::UnknownIdentity(label) => write!(
                f,
                "no identity is labelled `{}` (see `caiso-access status`)",
                shown(label)
            ),
            HostError::LabelTaken(label) => write!(
                f,
                "an identity is already labelled `{}`; add --replace to replace it, or choose another label",
                shown(label)
            ),
            HostError::InvalidLabel(label) => write!(
                f,
                "label `{}`: use 1 to 40 of a-z, 0-9, '-' and '_', starting with a letter or digit",
                shown(label)
            ),
            HostError::UnknownOperation => {
                f.write_str("not one of the offered test calls (see the `tests` command)")
            }
            HostError::NoSandbox => f.write_str(
                "no sandbox is configured on this computer (caiso-access sandbox <address>)",
            ),
            HostError::NoAddress(environment) => {
                write!(f, "this service has no address in {environment}")
            }
            HostError::Custody(e) => write!(f, "{e}"),
            HostError::Certificate(e) => write!(f, "the certificate cannot be read: {e}"),
            HostError::KeyMismatch => f.write_str(
                "the private key does not belong to the certificate; export the certificate again together with its own key",
            ),
            HostError::Keyring(e) => write!(f, "{e}"),
            HostError::InvalidTransition(e) => write!(f, "{e}"),
            HostError::InvalidValue(why) => f.write_str(why),
            HostError::Storage(e) => write!(f, "{e}"),
            HostError::Registration(why) => f.write_str(why),
            HostError::Cancelled => {
                f.write_str("cancelled: the browser closed the connection before it finished")
            }
            HostError::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl std::error::Error for HostError {}

/// At most 40 characters of a caller-supplied name, so an error cannot carry a long input back.
fn shown(name: &str) -> String {
    name.chars().take(40).collect()
}

impl From<StorageError> for HostError {
    fn from(e: StorageError) -> Self {
        HostError::Storage(e)
    }
}

impl From<CustodyError> for HostError {
    fn from(e: CustodyError) -> Self {
        HostError::Custody(e)
    }
}

impl From<CertificateError> for HostError {
    fn from(e: CertificateError) -> Self {
        HostError::Certificate(e)
    }
}

impl From<KeyringError> for HostError {
    fn from(e: KeyringError) -> Self {
        HostError::Keyring(e)
    }
}

impl From<TransitionError> for HostError {
    fn from(e: TransitionError) -> Self {
        HostError::InvalidTransition(e)
    }
}

/// A host result.
pub type HostResult<T> = Result<T, HostError>;

//! CAISO SOAP messages for caiso-access: the signed request envelopes CAISO's web services
//! require (SOAP 1.1, `CAISOWSHeader`, WS-Security 1.0 X.509 token and XML signature with
//! exclusive C14N), their verification (used by the local sandbox), and the reading of
//! responses: faults, `EventLog` events, DocAttach attachments and the Acceptable Use Policy
//! fault's wait; and CAISO's own request schemas, as users import them ([`schema`]).

pub mod c14n;
pub mod message;
pub mod mime;
pub mod request;
pub mod response;
pub mod scan;
pub mod schema;
pub mod username;
pub mod verify;
pub mod xml;

pub use message::{
    CaisoHeader, RsaKey, SignError, SignatureAlgorithm, SignedMessage, Signer, sign,
};
pub use verify::{Verified, VerifyError, verify};

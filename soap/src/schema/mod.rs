//! CAISO's own request schemas, as a user imports them from the artifact packages CAISO gives
//! market participants: the subset of XML Schema CAISO's request schemas use, read on the
//! project's XML reader; the request document written from a schema; every document checked
//! against its schema before it is sent (and by the sandbox when it receives one).
//!
//! The rooms:
//! - [`model`]: what a schema says (elements, content models, simple types);
//! - [`reader`]: one XSD document into the model, anything outside the subset refused by name;
//! - [`set`]: the schemas of a package together, `include`/`import` inside the package only, a
//!   request root compiled (everything it reaches resolved once);
//! - [`validate`]: a document against a compiled root;
//! - [`writer`]: a request document from a compiled root and the product's values;
//! - [`package`]: what a package offers (WSDL operations and their `soapAction`) and which of
//!   the product's operations it defines the request of;
//! - [`stored`]: the imported schemas as kept in a folder (the host writes it, the host and the
//!   sandbox read it).

pub mod model;
pub mod package;
pub mod reader;
pub mod set;
pub mod stored;
pub mod validate;
pub mod writer;

pub use reader::NotUnderstood;
pub use set::{Compiled, SchemaSet};
pub use validate::{Invalid, validate};
pub use writer::{WriteError, Written, write};

//! The request document and SOAPAction of a call: from the user's imported copy of CAISO's
//! schema when there is one for the operation (written from it, then validated against it, and
//! the WSDL's SOAPAction), else the catalog's built-in description. A document the schema
//! refuses is never sent: the call ends with the element named.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use caiso_shared::calls::CallClass;
use caiso_shared::operations::{Evidence, Level, Operation};
use caiso_soap::schema::Compiled;
use caiso_soap::schema::stored::StoredSchema;
use time::OffsetDateTime;

use super::explain::Explained;

/// An operation's imported request schema, ready to write with.
#[derive(Debug)]
pub(crate) struct RequestSchema {
    /// What the index says of it.
    pub stored: StoredSchema,
    /// The schema, compiled.
    pub compiled: Compiled,
}

/// How a call's request is written.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// From the catalog's description.
    BuiltIn,
    /// From the user's schema.
    Schema(Arc<RequestSchema>),
    /// The user imported a schema that cannot be used now (why).
    Broken(String),
}

/// How `operation`'s request is written here: the imported schema of the configuration folder
/// `dir`, if there is one.
pub(crate) fn source_for(dir: Option<&Path>, operation: &Operation) -> Source {
    let Some(dir) = dir else {
        return Source::BuiltIn;
    };
    match crate::schemas::import::request_schema(dir, &operation.id) {
        Ok(None) => Source::BuiltIn,
        Ok(Some((stored, compiled))) => {
            Source::Schema(Arc::new(RequestSchema { stored, compiled }))
        }
        Err(why) => Source::Broken(why.to_string()),
    }
}

/// The evidence of the request the call sends.
pub(crate) fn evidence(source: &Source, operation: &Operation) -> Evidence {
    match source {
        Source::Schema(schema) => Evidence {
            level: Level::Schema,
            source: schema.stored.evidence(),
        },
        _ => operation.evidence.request.clone(),
    }
}

/// The SOAPAction a call sends: the imported WSDL's, else the catalog's.
pub(crate) fn soap_action(source: &Source, operation: &Operation) -> String {
    match source {
        Source::Schema(schema) => schema
            .stored
            .soap_action
            .clone()
            .unwrap_or_else(|| operation.soap_action.clone()),
        _ => operation.soap_action.clone(),
    }
}

/// The document (the element under `soap:Body`) and the SOAPAction, or why nothing is sent.
pub(crate) fn write(
    source: &Source,
    operation: &Operation,
    now: OffsetDateTime,
    parameters: &BTreeMap<String, String>,
) -> Result<(String, String), Box<Explained>> {
    let values = caiso_soap::request::Values { now, parameters };
    match source {
        Source::BuiltIn => Ok((
            caiso_soap::request::document(&operation.request, &values),
            operation.soap_action.clone(),
        )),
        Source::Broken(why) => Err(refused(
            format!("The schema you imported for this call cannot be used: {why}."),
            format!(
                "Import the package again (`caiso-access schemas import <zip>`), or forget it (`caiso-access schemas remove {}`) to use the built-in request.",
                operation.id
            ),
        )),
        Source::Schema(schema) => {
            let written = caiso_soap::schema::write(&schema.compiled, &operation.request, &values)
                .map_err(|e| {
                    refused(
                        format!("Nothing was sent: {e}."),
                        next_step(schema, operation),
                    )
                })?;
            let parsed = caiso_soap::xml::parse(&written.document).map_err(|e| {
                refused(
                    format!("Nothing was sent: {e}."),
                    next_step(schema, operation),
                )
            })?;
            caiso_soap::schema::validate(&schema.compiled, &parsed).map_err(|e| {
                refused(
                    format!("Nothing was sent: the request does not follow your copy of CAISO's schema ({e})."),
                    next_step(schema, operation),
                )
            })?;
            Ok((written.document, soap_action(source, operation)))
        }
    }
}

fn next_step(schema: &RequestSchema, operation: &Operation) -> String {
    format!(
        "Check that {} is the schema of this service's current version; an SC ID missing is set with `caiso-access sc-id <label> <SC ID>`. `caiso-access schemas remove {}` goes back to the built-in request.",
        schema.stored.file_name(),
        operation.id
    )
}

fn refused(explanation: String, next_step: String) -> Box<Explained> {
    Box::new(Explained::new(
        CallClass::RefusedBySchema,
        "Not sent: your copy of CAISO's schema refuses the request",
        explanation,
        next_step,
    ))
}

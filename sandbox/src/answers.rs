//! Answers written the way CAISO's services send them (see the wire-format dossier): `…_AP`
//! services answer `multipart/related` (the SOAP envelope with an `attachmentHash` in its
//! header, then the attachment: base64 of gzip of the result document, on one line), DocAttach
//! services one envelope with `standardAttachmentInfor` in the header and
//! `Body/ISOAttachment/AttachmentValue`; results are CAISO's documents (`MarketAwards` with
//! `MarketResultRecord`s, `outputDataType` for "no data" and errors); faults carry an
//! `outputDataType` (CMRI) or `StandardOutput` (DRRS) detail; CAISO's gateway pages are HTML.

use caiso_shared::operations::{AnswerForm, Operation};
use caiso_soap::response::{
    NS_ATTACHMENT_HASH, NS_ATTACHMENT_INFO, NS_ISO_ATTACHMENT, NS_STANDARD_OUTPUT, attachment_hash,
    encode_attachment,
};
use caiso_soap::xml::{NS_SOAP, escape_text};

/// The multipart boundary the sandbox uses.
pub const BOUNDARY: &str = "----=_Part_caiso_sandbox_0";
/// The Content-ID of the attachment part.
const ATTACHMENT_ID: &str = "attachment-1@sandbox";

/// An answer: status, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Body.
    pub body: Vec<u8>,
}

/// How the attachment's hash is written (a wrong one stands for damage on the way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// Base64(SHA-1(the attachment part's body)).
    Right,
    /// Something else.
    Wrong,
}

/// An answer carrying `document` as the operation's attachment, in its form.
pub fn with_attachment(operation: &Operation, document: &str, hash: Hash) -> Answer {
    let value = encode_attachment(document);
    match operation.answer {
        AnswerForm::DocAttach => Answer {
            status: 200,
            content_type: "text/xml; charset=UTF-8".into(),
            body: format!(
                "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{NS_SOAP}\"><SOAP-ENV:Header>\
                 <sai:standardAttachmentInfor xmlns:sai=\"{NS_ATTACHMENT_INFO}\"><sai:Attachment>\
                 <sai:id>1</sai:id><sai:compressFlag>yes</sai:compressFlag><sai:compressMethod>gzip</sai:compressMethod>\
                 </sai:Attachment></sai:standardAttachmentInfor></SOAP-ENV:Header><SOAP-ENV:Body>\
                 <att:ISOAttachment xmlns:att=\"{NS_ISO_ATTACHMENT}\"><att:AttachmentValue>{value}</att:AttachmentValue>\
                 </att:ISOAttachment></SOAP-ENV:Body></SOAP-ENV:Envelope>"
            )
            .into_bytes(),
        },
        AnswerForm::Multipart => {
            let hash = match hash {
                Hash::Right => attachment_hash(value.as_bytes()),
                Hash::Wrong => attachment_hash(b"something else"),
            };
            let operation_name = operation.request.root.trim_start_matches("Request");
            let envelope = format!(
                "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{NS_SOAP}\"><SOAP-ENV:Header>\
                 <att:attachmentHash xmlns:att=\"{NS_ATTACHMENT_HASH}\"><att:hashValue>{hash}</att:hashValue>\
                 </att:attachmentHash></SOAP-ENV:Header><SOAP-ENV:Body>\
                 <ns0:{operation_name}_attachmentResponse xmlns:ns0=\"{ns}\"><ns0:{operation_name}_attachment>\
                 <xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:{ATTACHMENT_ID}\"/>\
                 </ns0:{operation_name}_attachment></ns0:{operation_name}_attachmentResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>",
                ns = operation.data.namespace.trim_end_matches('#'),
            );
            let body = format!(
                "--{BOUNDARY}\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\
                 Content-ID: <soap-envelope@sandbox>\r\n\r\n{envelope}\r\n--{BOUNDARY}\r\n\
                 Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\
                 Content-ID: <{ATTACHMENT_ID}>\r\n\r\n{value}\r\n--{BOUNDARY}--\r\n"
            );
            Answer {
                status: 200,
                content_type: format!(
                    "multipart/related; type=\"text/xml\"; boundary=\"{BOUNDARY}\"; start=\"<soap-envelope@sandbox>\""
                ),
                body: body.into_bytes(),
            }
        }
    }
}

/// The operation's data document with `records` records.
pub fn data_document(operation: &Operation, records: usize, sc_id: &str) -> String {
    let data = &operation.data;
    let record: String = (0..records)
        .map(|i| {
            format!(
                "<{r}><executionType>IFM</executionType><marketType>DAM</marketType>\
                 <resource>SANDBOX_GEN_{i}</resource><schedulingCoordinator>{sc}</schedulingCoordinator>\
                 <TradeIntervalData><HR>{hour}</HR><MW>{mw}.5</MW></TradeIntervalData></{r}>",
                r = data.record,
                sc = escape_text(sc_id),
                hour = i % 24 + 1,
                mw = 10 + i,
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{root} xmlns=\"{ns}\"><MessageHeader><TimeDate>2026-02-14T08:12:35</TimeDate>\
         <Source>CAISO</Source><Version>v20161001</Version></MessageHeader><MessagePayload>{record}</MessagePayload></{root}>",
        root = data.root,
        ns = data.namespace,
    )
}

/// CMRI's `outputDataType` with one event (`FMWK0008` for "no data").
pub fn output_document(operation: &Operation, result: &str, description: &str) -> String {
    let service = format!(
        "retrieve{}_v{}",
        operation.request.root.trim_start_matches("Request"),
        operation
            .service
            .split('_')
            .nth(1)
            .and_then(|system| system.split_once('v'))
            .map_or("1", |(_, version)| version)
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<outputDataType xmlns=\"{NS_STANDARD_OUTPUT}\">\
         <EventLog><id>6f7d3a70-sandbox</id><creationTime>2026-02-14T00:12:35-08:00</creationTime><collectionQuantity>1</collectionQuantity>\
         <Event><result>{}</result><id>1</id><name>Caiso-SOA-Framework</name><description>{}</description>\
         <creationTime>2026-02-14T00:12:35-08:00</creationTime><severity>INFO</severity><eventType>FMWK</eventType></Event>\
         <Service><id>1</id><name>{service}</name><description>Caiso-SOA-Framework</description><comments>None</comments></Service>\
         </EventLog></outputDataType>",
        escape_text(result),
        escape_text(description),
    )
}

/// A SOAP 1.1 fault (HTTP 500) with an `outputDataType` (CMRI and others) or a DRRS
/// `StandardOutput` detail holding `description`.
pub fn fault(operation: Option<&Operation>, text: &str, description: &str) -> Answer {
    let drrs = operation.is_some_and(|o| o.system == "drrs");
    let event = format!(
        "<Event><result>Error</result><id>1</id><description>{}</description></Event>",
        escape_text(description)
    );
    let detail = if description.is_empty() {
        String::new()
    } else if drrs {
        format!(
            "<detail><StandardOutput xmlns=\"http://www.caiso.com/soa/StandardOutput_v1.xsd#\"><MessagePayload>\
             <EventLog>{event}<Service><name>retrieveDR</name></Service></EventLog></MessagePayload></StandardOutput></detail>"
        )
    } else {
        format!(
            "<detail><ns1:outputDataType xmlns:ns1=\"{NS_STANDARD_OUTPUT}\"><ns1:EventLog>\
             <ns1:Event><ns1:result>Error</ns1:result><ns1:id>1</ns1:id><ns1:description>{}</ns1:description></ns1:Event>\
             </ns1:EventLog></ns1:outputDataType></detail>",
            escape_text(description)
        )
    };
    Answer {
        status: 500,
        content_type: "text/xml; charset=UTF-8".into(),
        body: format!(
            "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{NS_SOAP}\"><SOAP-ENV:Body><SOAP-ENV:Fault>\
             <faultcode>SOAP-ENV:Server</faultcode><faultstring xml:lang=\"en\">{}</faultstring>{detail}\
             </SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>",
            escape_text(text)
        )
        .into_bytes(),
    }
}

/// An HTML page from CAISO's gateway.
pub fn page(status: u16, title: &str, text: &str) -> Answer {
    Answer {
        status,
        content_type: "text/html; charset=utf-8".into(),
        body: format!(
            "<!DOCTYPE html>\n<html><head><title>{}</title></head><body><h1>{}</h1><p>{}</p></body></html>",
            escape_text(title),
            escape_text(title),
            escape_text(text)
        )
        .into_bytes(),
    }
}

/// The F5 BIG-IP logout page (its title as CAISO's ADR forum quotes it; the rest of the page
/// is the gateway's usual wording, inferred).
pub fn big_ip_logout() -> Answer {
    page(
        200,
        caiso_soap::response::BIG_IP_LOGOUT_TEXT,
        "Your session could not be established. Thank you for using BIG-IP. To open a new session, please click here.",
    )
}

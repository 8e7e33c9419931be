//! Every known way a CAISO call ends, in plain words with the next step and the ladder of what
//! the call proved (connected, client certificate, signature, user name, role, data).

use std::time::Duration;

use caiso_shared::calls::{CallClass, Rung, RungState, Step, ladder};
use caiso_soap::response::{
    AUP_TEXT, BIG_IP_LOGOUT_TEXT, Document, Form, HashCheck, NOT_AUTHORIZED_TEXT, ROLE_TEXT,
    Reading, SIGNATURE_TEXT, USERNAME_TEXT,
};

use super::https::{Answer, Failure};

/// The wait after an Acceptable Use Policy refusal that names none.
const DEFAULT_AUP_WAIT: Duration = Duration::from_secs(5);

/// An explained outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The class.
    pub class: CallClass,
    /// One line.
    pub title: String,
    /// What happened.
    pub explanation: String,
    /// What to do next.
    pub next_step: String,
    /// What the call proved.
    pub ladder: Vec<Step>,
    /// The records of a data answer, and their name.
    pub records: Option<(u64, Option<String>)>,
    /// Try again after this wait (CAISO's rate limit), or at once on a fresh connection
    /// (CAISO's gateway logout page).
    pub retry: Option<Retry>,
}

/// How to try a call again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// After this wait (the Acceptable Use Policy).
    After(Duration),
    /// Now, on a new connection without cookies (the gateway's logout page).
    FreshConnection,
}

/// Where the call went and what it carried, for the texts.
pub struct Context<'a> {
    /// The system's name as people know it (`CMRI`).
    pub system: &'a str,
    /// The environment's name (`Production`, `MAP-Stage`, `the sandbox`).
    pub environment: &'a str,
    /// The host name.
    pub host: &'a str,
    /// Whether the request carried an SC ID.
    pub sc_id_given: bool,
    /// Whether the request document's shape is inferred (no public schema).
    pub request_inferred: bool,
    /// The proxy the call went through (`http://host:port`), if any.
    pub proxy: Option<&'a str>,
    /// Whether the certificate was sent with every intermediate up to its root (false: the
    /// identity's chain is incomplete).
    pub chain_complete: bool,
}

fn explained(class: CallClass, title: &str, explanation: String, next_step: String) -> Explained {
    Explained {
        class,
        title: title.to_owned(),
        explanation,
        next_step,
        ladder: Vec::new(),
        records: None,
        retry: None,
    }
}

impl Explained {
    /// An outcome with nothing proven yet.
    pub fn new(class: CallClass, title: &str, explanation: String, next_step: String) -> Explained {
        explained(class, title, explanation, next_step).at(Rung::Connected, RungState::Unknown, "")
    }

    fn at(mut self, rung: Rung, state: RungState, detail: &str) -> Explained {
        self.ladder = ladder(rung, state, detail);
        self
    }
}

/// Explains a transport failure.
pub fn failure(failure: &Failure, cx: &Context<'_>) -> Explained {
    let host = cx.host;
    // Through a proxy, it is the proxy that resolves CAISO's name and connects to it: a failure
    // to get there is the proxy's, not the local DNS's.
    let getting_there = match failure {
        Failure::NameNotResolved(d) => {
            Some((CallClass::NameNotResolved, RungState::Failed, d.as_str()))
        }
        Failure::Connection(d) => {
            Some((CallClass::ConnectionFailed, RungState::Failed, d.as_str()))
        }
        Failure::Timeout => Some((CallClass::Timeout, RungState::Unknown, "no answer in time")),
        _ => None,
    };
    if let (Some(why), Some((class, state, _))) =
        (cx.proxy.and_then(super::proxy::unusable), getting_there)
    {
        return explained(
            class,
            "A proxy caiso-access cannot go through",
            format!("The call to {host} is to go through the proxy set in HTTPS_PROXY, ALL_PROXY or the system's settings: {why}."),
            super::proxy::UNUSABLE_FIX.to_owned(),
        )
        .at(Rung::Connected, state, "not through the proxy");
    }
    if let (Some(proxy), Some((class, state, detail))) = (cx.proxy, getting_there) {
        return explained(
            class,
            "No way to CAISO through the proxy",
            format!("The call to {host} goes through the proxy {proxy} (from HTTPS_PROXY, ALL_PROXY or the system's proxy settings), and it did not get there ({detail})."),
            format!("Run `caiso-access diagnose`: its proxy stage says whether {proxy} answers and lets the tunnel to {host} through. Check the proxy setting, its authentication, or ask your network team to allow 45.42.16.0/21 on port 443 through it."),
        )
        .at(Rung::Connected, state, "not through the proxy");
    }
    match failure {
        Failure::NameNotResolved(detail) => explained(
            CallClass::NameNotResolved,
            "The CAISO host name does not resolve",
            format!("{host} could not be looked up ({detail})."),
            "Check this computer's DNS and proxy settings; CAISO's addresses are public.".into(),
        )
        .at(Rung::Connected, RungState::Failed, "name not resolved"),
        Failure::Timeout => explained(
            CallClass::Timeout,
            "No answer in time",
            format!("{host} did not answer within the time limit."),
            "Run `caiso-access diagnose` to see which stage stalls; firewalls must allow 45.42.16.0/21 on port 443.".into(),
        )
        .at(Rung::Connected, RungState::Unknown, "no answer in time"),
        Failure::ServerNotTrusted(reason) => explained(
            CallClass::ServerNotTrusted,
            "CAISO's server certificate is not trusted here",
            format!(
                "The certificate {host} presented was refused ({reason}); the call was not sent."
            ),
            "Install the Entrust Root Certification Authority - G2 and Entrust Certification Authority - L1M certificates in this computer's trust store (or add them with `caiso-access trust add <file>`). Never turn verification off.".into(),
        )
        .at(Rung::ClientCertificate, RungState::Unknown, "server not trusted: not sent"),
        Failure::ClientCertificateRefused(alert)
            if alert == "UnknownCA" && !cx.chain_complete =>
        {
            let why = "its issuing CA certificate was not sent with it (the chain is incomplete)";
            explained(
                CallClass::ClientCertificateRefused,
                "CAISO could not tell who issued your certificate",
                format!("{host} refused the client certificate: {why} (TLS alert {alert}). The certificate itself may well be valid: this identity was imported without the intermediate CA certificate between it and CAISO's root, so CAISO cannot build the chain."),
                "Import the certificate again with its chain: the .p12 as your browser or CAISO's enrolment exports it (\"include all certificates in the certification path\"), or a PEM file holding the certificate followed by its issuing CA (`caiso-access import cert.pem --key key.pem --label <label> --replace`). `caiso-access status` says \"chain incomplete\" until then.".into(),
            )
            .at(Rung::ClientCertificate, RungState::Failed, why)
        }
        Failure::ClientCertificateRefused(alert) => {
            let why = match alert.as_str() {
                "CertificateExpired" => "it has expired",
                "UnknownCA" => "it was not issued by a CA CAISO accepts",
                "CertificateRequired" => "none was sent",
                "CertificateRevoked" => "it was revoked",
                "BadCertificate" | "UnsupportedCertificate" => "it was not accepted",
                _ => "the TLS handshake failed",
            };
            explained(
                CallClass::ClientCertificateRefused,
                "CAISO refused your certificate",
                format!("{host} refused the client certificate: {why} (TLS alert {alert})."),
                "Check `caiso-access status`: an expired or Cybertrust-era certificate must be renewed through your User Access Administrator (UAA); a certificate from another CA is not a CAISO certificate.".into(),
            )
            .at(Rung::ClientCertificate, RungState::Failed, why)
        }
        Failure::Connection(detail) => explained(
            CallClass::ConnectionFailed,
            "The connection failed",
            format!("The connection to {host} failed or was dropped ({detail})."),
            "Run `caiso-access diagnose`; if it happens now and then, retry later and tell CAISO support it is intermittent.".into(),
        )
        .at(Rung::Connected, RungState::Failed, "connection failed"),
        Failure::Other(detail) => explained(
            CallClass::Unexpected,
            "The call failed",
            format!("The call to {host} failed: {detail}."),
            "Run `caiso-access report` and send the file to CAISO support.".into(),
        )
        .at(Rung::Connected, RungState::Unknown, ""),
    }
}

/// Explains an HTTP answer as read.
pub fn answer(answer: &Answer, reading: &Reading, cx: &Context<'_>) -> Explained {
    let (system, environment) = (cx.system, cx.environment);
    if reading.contains(AUP_TEXT) {
        let wait = caiso_soap::response::aup_retry_after(&reading.text)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_AUP_WAIT);
        let mut e = explained(
            CallClass::RateLimited,
            "CAISO's rate limit refused the call",
            format!("CAISO's Acceptable Use Policy refused the call and asked to wait {} seconds; caiso-access waited and retried, and the limit was still exceeded.", wait.as_secs()),
            "Other programs on your network may be calling CAISO from the same address: spread their calls out.".into(),
        )
        .at(Rung::Signature, RungState::Unknown, "");
        e.retry = Some(Retry::After(wait));
        return e;
    }
    if reading.form == Form::Html || reading.form == Form::Other {
        return page(answer, reading, cx);
    }
    if reading.contains(SIGNATURE_TEXT) {
        return explained(
            CallClass::SignatureInvalid,
            "CAISO could not verify the message signature",
            "CAISO rejected the WS-Security signature: the message was signed with a key that does not match the certificate sent, or changed on the way.".into(),
            "Run `caiso-access verify <label>` to check that the key belongs to the certificate; a proxy that rewrites messages must be bypassed.".into(),
        )
        .at(Rung::Signature, RungState::Failed, "");
    }
    if reading.contains(USERNAME_TEXT) {
        return explained(
            CallClass::UsernameMismatch,
            "The user name does not match the certificate",
            "CAISO compared the user name in the message header with the certificate and they differ.".into(),
            "Use the certificate whose subject is the user name (caiso-access derives it from the certificate; an application that sets it by hand must use the full subject, CN=...,OU=people,O=CAISO,C=US).".into(),
        )
        .at(Rung::UserName, RungState::Failed, "");
    }
    if reading.contains(ROLE_TEXT) {
        if !cx.sc_id_given {
            return explained(
                CallClass::ScIdNeeded,
                "Certificate, signature and user name accepted; set your SC ID",
                format!("{system} accepted the certificate, the signature and the user name, and answered \"{ROLE_TEXT}\": the request named no Scheduling Coordinator ID."),
                "Set the SC ID your certificate acts for: `caiso-access sc-id <label> <SC ID>` (or in the options page), then call again.".into(),
            )
            .at(Rung::Role, RungState::Failed, "no SC ID given");
        }
        return explained(
            CallClass::RoleNotSetUp,
            "The certificate is not set up for this scheduling coordinator",
            format!("{system} accepted the certificate, the signature and the user name, but answered \"{ROLE_TEXT}\": the certificate has no role for the SC ID queried."),
            format!("Check the SC ID (`caiso-access status`), or ask your User Access Administrator (UAA) to grant the {system} role for it."),
        )
        .at(Rung::Role, RungState::Failed, "");
    }
    if matches!(answer.status, 403 | 404) {
        return page(answer, reading, cx);
    }
    let Some(envelope) = reading.envelope.as_ref() else {
        let problem = reading.problem.clone().unwrap_or_default();
        return not_read(answer, reading, &problem);
    };
    let events: Vec<&str> = envelope
        .events
        .iter()
        .map(|e| e.description.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    if let Some(fault) = &envelope.fault {
        if let Some(event) = envelope
            .events
            .iter()
            .find(|e| caiso_soap::response::is_no_data(e))
        {
            return no_data(cx, &event.description);
        }
        let detail = if events.is_empty() {
            fault.string.clone()
        } else {
            format!("{}: {}", fault.string, events.join("; "))
        };
        let shape = if cx.request_inferred {
            " The shape of this test's request is inferred (CAISO publishes no schema for it), so CAISO may expect another; the fault text and `caiso-access call --save` help CAISO support tell."
        } else {
            ""
        };
        return explained(
            CallClass::NotUnderstood,
            "CAISO did not understand the request",
            format!("{system} in {environment} answered with a fault caiso-access does not recognise: {detail}.{shape}"),
            "Send the saved exchange (`caiso-access call ... --save <folder>`) to CAISO support, or to the caiso-access maintainers if it is one of our test calls.".into(),
        )
        .at(Rung::Signature, RungState::Unknown, "");
    }
    if let Some(problem) = &reading.problem {
        return not_read(answer, reading, problem);
    }
    if reading.hash == HashCheck::Differs {
        return explained(
            CallClass::AnswerDamaged,
            "CAISO's answer changed on the way",
            "The attachment does not match the attachmentHash CAISO sent with it: something between CAISO and this computer (a proxy that inspects traffic) altered it.".into(),
            "Bypass the proxy for CAISO's addresses, or ask your network team; then call again.".into(),
        )
        .at(Rung::Data, RungState::Failed, "attachment hash differs");
    }
    let Some(attachment) = reading.attachment() else {
        return not_read(answer, reading, "the answer carries no attachment");
    };
    match attachment.document() {
        Document::Data => {
            let records = attachment.summary.records;
            let name = attachment.summary.record.clone();
            let what = match &name {
                Some(name) => format!(
                    "{records} {name} record{}",
                    if records == 1 { "" } else { "s" }
                ),
                None => format!("{records} records"),
            };
            let mut e = explained(
                CallClass::Success,
                "The call succeeded: data returned",
                format!("{system} in {environment} accepted the certificate, the signature, the user name and the role, and returned {} ({what}).", attachment.summary.root),
                String::new(),
            )
            .at(Rung::Data, RungState::Passed, &what);
            e.records = Some((records, name));
            e
        }
        Document::NoData(event) => no_data(cx, &event.description),
        Document::Error(event) => {
            let mut e = explained(
                CallClass::ServiceError,
                "CAISO answered with an error",
                format!("{system} in {environment} processed the request and answered with an error document: {} {}.", event.result, event.description),
                "Check the request's values (`caiso-access status` shows the SC ID); send the saved exchange to CAISO support if they are right.".into(),
            )
            .at(Rung::Data, RungState::Failed, &event.result);
            if let Some(step) = e.ladder.iter_mut().find(|s| s.rung == Rung::Role) {
                step.state = RungState::Unknown;
            }
            e
        }
    }
}

fn no_data(cx: &Context<'_>, description: &str) -> Explained {
    explained(
        CallClass::NoData,
        "The call succeeded: no data for that day",
        format!("{} in {} accepted the certificate, the signature, the user name and the role, and answered that there is no data for the query ({description}).", cx.system, cx.environment),
        String::new(),
    )
    .at(Rung::Data, RungState::Passed, "none for that day")
}

/// An HTML page, or a plain 403 or 404.
fn page(answer: &Answer, reading: &Reading, cx: &Context<'_>) -> Explained {
    let (system, environment) = (cx.system, cx.environment);
    if reading.contains(BIG_IP_LOGOUT_TEXT) {
        let mut e = explained(
            CallClass::GatewayLogout,
            "CAISO's gateway answered its logout page",
            format!("CAISO's gateway answered the call with its \"{BIG_IP_LOGOUT_TEXT}\" (HTTP {}) instead of passing it to {system}; caiso-access tried once more on a new connection, without cookies. CAISO tied this to reused gateway sessions (MRHSession): a problem on CAISO's side.", answer.status),
            "Retry later; if it persists, send CAISO support the saved exchange (`caiso-access call ... --save <folder>`): they asked for full response files.".into(),
        )
        .at(Rung::Signature, RungState::Unknown, "");
        e.retry = Some(Retry::FreshConnection);
        return e;
    }
    let provisioned_fix = format!(
        "Ask your User Access Administrator (UAA) to provision your certificate for {system} in {environment}."
    );
    if reading.contains(NOT_AUTHORIZED_TEXT) {
        return explained(
            CallClass::NotProvisioned,
            "Your certificate is not provisioned for this system",
            format!("CAISO answered \"{NOT_AUTHORIZED_TEXT}\" (HTTP {}): the certificate has no access to {system} in {environment}.", answer.status),
            provisioned_fix,
        )
        .at(Rung::ClientCertificate, RungState::Failed, "not authorized for this system");
    }
    match answer.status {
        403 => explained(
            CallClass::NotProvisioned,
            "Your certificate is not provisioned for this system",
            format!("CAISO answered 403 Forbidden: the certificate is not set up for {system} in {environment}."),
            provisioned_fix,
        )
        .at(Rung::ClientCertificate, RungState::Failed, "403 Forbidden"),
        404 => explained(
            CallClass::NotFound,
            "CAISO does not know this service address",
            format!("CAISO answered 404 Not Found for {system}: the service name or version is not offered at this address."),
            "Check the service version against CAISO's current interface specification; report it to the caiso-access maintainers if it is one of our test calls.".into(),
        )
        .at(Rung::Signature, RungState::Unknown, "404 Not Found"),
        _ => not_read(answer, reading, "the body is not a SOAP answer"),
    }
}

fn not_read(answer: &Answer, reading: &Reading, problem: &str) -> Explained {
    let snippet: String = reading.text.chars().take(200).collect();
    explained(
        CallClass::Unexpected,
        "CAISO's answer was not understood",
        format!("HTTP {} ({problem}): {snippet}", answer.status),
        "Run `caiso-access report` and send the file to CAISO support.".into(),
    )
    .at(Rung::Signature, RungState::Unknown, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(sc_id_given: bool) -> Context<'static> {
        Context {
            system: "CMRI",
            environment: "MAP-Stage",
            host: "mapstage-ws.caiso.com",
            sc_id_given,
            request_inferred: true,
            proxy: None,
            chain_complete: true,
        }
    }

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../tests/fixtures/answers/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn explain(status: u16, content_type: &str, body: String, sc: bool) -> Explained {
        let answer = Answer {
            status,
            content_type: content_type.into(),
            body: body.into_bytes(),
        };
        let reading = caiso_soap::response::read(&answer.content_type, &answer.body);
        self::answer(&answer, &reading, &cx(sc))
    }

    fn doc_attach(document: &str) -> String {
        format!(
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
             <a:ISOAttachment xmlns:a=\"http://www.caiso.com/soa/2006-10-26/ISOAttachment.xsd\">\
             <a:AttachmentValue>{}</a:AttachmentValue></a:ISOAttachment></s:Body></s:Envelope>",
            caiso_soap::response::encode_attachment(document)
        )
    }

    fn states(e: &Explained) -> Vec<RungState> {
        e.ladder.iter().map(|s| s.state).collect()
    }

    use RungState::{Failed as F, Passed as P, Unknown as U};

    #[test]
    fn every_answer_has_its_class_and_ladder() {
        for (name, status, content_type, body, sc, class, ladder) in [
            (
                "data",
                200,
                "text/xml",
                doc_attach(&fixture("market-awards-v4.xml")),
                true,
                CallClass::Success,
                [P, P, P, P, P, P],
            ),
            (
                "no data",
                200,
                "text/xml",
                doc_attach(&fixture("no-data-cmri.xml")),
                true,
                CallClass::NoData,
                [P, P, P, P, P, P],
            ),
            (
                "DRRS no data",
                500,
                "text/xml",
                fixture("fault-drrs-no-data.xml"),
                false,
                CallClass::NoData,
                [P, P, P, P, P, P],
            ),
            (
                "error document",
                200,
                "text/xml",
                doc_attach(&fixture("error-document.xml")),
                true,
                CallClass::ServiceError,
                [P, P, P, P, U, F],
            ),
            (
                "role, SC ID given",
                200,
                "text/xml",
                doc_attach(&fixture("role-error-document.xml")),
                true,
                CallClass::RoleNotSetUp,
                [P, P, P, P, F, U],
            ),
            (
                "role, no SC ID",
                200,
                "text/xml",
                doc_attach(&fixture("role-error-document.xml")),
                false,
                CallClass::ScIdNeeded,
                [P, P, P, P, F, U],
            ),
            (
                "signature",
                500,
                "text/xml",
                fixture("fault-signature.xml"),
                true,
                CallClass::SignatureInvalid,
                [P, P, F, U, U, U],
            ),
            (
                "user name",
                500,
                "text/xml",
                fixture("fault-username.xml"),
                true,
                CallClass::UsernameMismatch,
                [P, P, P, F, U, U],
            ),
            (
                "unknown fault",
                500,
                "text/xml",
                fixture("fault-unknown.xml"),
                true,
                CallClass::NotUnderstood,
                [P, P, U, U, U, U],
            ),
            (
                "AUP fault",
                500,
                "text/xml",
                fixture("fault-aup.xml"),
                true,
                CallClass::RateLimited,
                [P, P, U, U, U, U],
            ),
            (
                "AUP page",
                429,
                "text/html",
                fixture("aup.html"),
                true,
                CallClass::RateLimited,
                [P, P, U, U, U, U],
            ),
            (
                "not authorized",
                403,
                "text/html",
                fixture("not-authorized.html"),
                true,
                CallClass::NotProvisioned,
                [P, F, U, U, U, U],
            ),
            (
                "BIG-IP",
                200,
                "text/html",
                fixture("big-ip-logout.html"),
                true,
                CallClass::GatewayLogout,
                [P, P, U, U, U, U],
            ),
            (
                "404",
                404,
                "text/html",
                "<html>Not Found</html>".into(),
                true,
                CallClass::NotFound,
                [P, P, U, U, U, U],
            ),
            (
                "502",
                502,
                "text/plain",
                "Bad gateway".into(),
                true,
                CallClass::Unexpected,
                [P, P, U, U, U, U],
            ),
        ] {
            let e = explain(status, content_type, body, sc);
            assert_eq!(e.class, class, "{name}: {}", e.explanation);
            assert_eq!(states(&e), ladder, "{name}");
            assert!(!e.explanation.is_empty(), "{name}");
        }
    }

    #[test]
    fn a_fault_nobody_knows_is_not_a_success_and_shows_its_text() {
        let e = explain(500, "text/xml", fixture("fault-unknown.xml"), true);
        assert_eq!(e.title, "CAISO did not understand the request");
        assert!(e.explanation.contains("logger"), "{}", e.explanation);
        assert!(e.explanation.contains("inferred"), "{}", e.explanation);
    }

    #[test]
    fn data_answers_count_their_records_and_retries_are_asked_for() {
        let e = explain(
            200,
            "text/xml",
            doc_attach(&fixture("market-awards-v4.xml")),
            true,
        );
        assert_eq!(e.records, Some((3, Some("MarketResultRecord".into()))));
        assert_eq!(e.ladder[5].detail, "3 MarketResultRecord records");
        let e = explain(500, "text/xml", fixture("fault-aup.xml"), true);
        assert_eq!(e.retry, Some(Retry::After(Duration::from_secs(7))));
        let e = explain(429, "text/html", fixture("aup.html"), true);
        assert_eq!(e.retry, Some(Retry::After(Duration::from_secs(3))));
        let e = explain(200, "text/html", fixture("big-ip-logout.html"), true);
        assert_eq!(e.retry, Some(Retry::FreshConnection));
        assert!(e.explanation.contains("CAISO's side"));
        let e = explain(
            200,
            "text/xml",
            doc_attach(&fixture("no-data-cmri.xml")),
            true,
        );
        assert_eq!(e.retry, None);
        assert_eq!(e.ladder[5].detail, "none for that day");
    }

    #[test]
    fn transport_failures_are_explained() {
        let cx = cx(true);
        let e = failure(&Failure::Timeout, &cx);
        assert_eq!(e.class, CallClass::Timeout);
        let e = failure(&Failure::ServerNotTrusted("UnknownIssuer".into()), &cx);
        assert!(
            e.next_step
                .contains("Entrust Root Certification Authority - G2")
        );
        let e = failure(
            &Failure::ClientCertificateRefused("CertificateExpired".into()),
            &cx,
        );
        assert!(e.explanation.contains("expired"));
        assert_eq!(states(&e), [P, F, U, U, U, U]);
        let e = failure(&Failure::NameNotResolved("no such host".into()), &cx);
        assert_eq!(states(&e), [F, U, U, U, U, U]);
    }

    /// A certificate sent without its intermediate is refused as from an unknown CA: that is a
    /// missing intermediate, fixed by importing the chain, not a certificate to renew.
    #[test]
    fn an_unknown_ca_refusal_of_an_incomplete_chain_is_a_missing_intermediate() {
        let refused = Failure::ClientCertificateRefused("UnknownCA".into());
        let incomplete = Context {
            chain_complete: false,
            ..cx(true)
        };
        let e = failure(&refused, &incomplete);
        assert!(
            e.explanation.contains("chain is incomplete"),
            "{}",
            e.explanation
        );
        assert!(e.next_step.contains("with its chain"), "{}", e.next_step);
        assert!(!e.next_step.contains("renew"), "{}", e.next_step);
        let e = failure(&refused, &cx(true));
        assert!(e.explanation.contains("not issued by a CA CAISO accepts"));
    }

    /// Through a proxy, a failure to get to CAISO is the proxy's: never "the CAISO host name
    /// does not resolve", which sends people to their DNS.
    #[test]
    fn a_failure_through_a_proxy_names_the_proxy_not_dns() {
        let cx = Context {
            proxy: Some("http://proxy.example.test:3128"),
            ..cx(true)
        };
        for f in [
            Failure::NameNotResolved("dns error".into()),
            Failure::Connection("tunnel refused".into()),
            Failure::Timeout,
        ] {
            let e = failure(&f, &cx);
            assert_eq!(e.title, "No way to CAISO through the proxy", "{f:?}");
            assert!(
                e.explanation.contains("http://proxy.example.test:3128"),
                "{f:?}"
            );
            assert!(e.next_step.contains("proxy stage"), "{f:?}");
            assert!(!e.next_step.contains("DNS"), "{f:?}");
        }
        // Certificate trouble stays certificate trouble.
        let e = failure(&Failure::ServerNotTrusted("UnknownIssuer".into()), &cx);
        assert_eq!(e.class, CallClass::ServerNotTrusted);
    }
}

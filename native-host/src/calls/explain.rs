//! Every known way a CAISO call ends, in plain words with the next step.

use caiso_shared::calls::CallClass;
use caiso_soap::response::Response;

use super::https::{Answer, Failure};

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
}

/// Where the call went, for the texts.
pub struct Context<'a> {
    /// The system's name as people know it (`CMRI`).
    pub system: &'a str,
    /// The environment's name (`Production`, `MAP-Stage`, `the sandbox`).
    pub environment: &'a str,
    /// The host name.
    pub host: &'a str,
}

fn explained(class: CallClass, title: &str, explanation: String, next_step: String) -> Explained {
    Explained {
        class,
        title: title.to_owned(),
        explanation,
        next_step,
    }
}

/// Explains a transport failure.
pub fn failure(failure: &Failure, cx: &Context<'_>) -> Explained {
    let host = cx.host;
    match failure {
        Failure::NameNotResolved(detail) => explained(
            CallClass::NameNotResolved,
            "The CAISO host name does not resolve",
            format!("{host} could not be looked up ({detail})."),
            "Check this computer's DNS and proxy settings; CAISO's addresses are public.".into(),
        ),
        Failure::Timeout => explained(
            CallClass::Timeout,
            "No answer in time",
            format!("{host} did not answer within the time limit."),
            "Run `caiso-access diagnose` to see which stage stalls; firewalls must allow 45.42.16.0/21 on port 443.".into(),
        ),
        Failure::ServerNotTrusted(reason) => explained(
            CallClass::ServerNotTrusted,
            "CAISO's server certificate is not trusted here",
            format!(
                "The certificate {host} presented was refused ({reason}); the call was not sent."
            ),
            "Install the Entrust Root Certification Authority - G2 and Entrust Certification Authority - L1M certificates in this computer's trust store (or add them with `caiso-access trust add <file>`). Never turn verification off.".into(),
        ),
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
        }
        Failure::Connection(detail) => explained(
            CallClass::ConnectionFailed,
            "The connection failed",
            format!("The connection to {host} failed or was dropped ({detail})."),
            "Run `caiso-access diagnose`; if it happens now and then, retry later and tell CAISO support it is intermittent.".into(),
        ),
        Failure::Other(detail) => explained(
            CallClass::Unexpected,
            "The call failed",
            format!("The call to {host} failed: {detail}."),
            "Run `caiso-access report` and send the file to CAISO support.".into(),
        ),
    }
}

/// Explains an HTTP answer and its parsed SOAP body (if it parsed).
pub fn answer(answer: &Answer, response: Option<&Response>, cx: &Context<'_>) -> Explained {
    let (system, environment) = (cx.system, cx.environment);
    let fault = response.and_then(|r| r.fault.as_ref());
    let fault_text = fault.map(|f| f.string.as_str()).unwrap_or("");
    let body = if fault_text.is_empty() {
        answer.body.as_str()
    } else {
        fault_text
    };
    if let Some(wait) = caiso_soap::response::aup_retry_after(body) {
        return explained(
            CallClass::RateLimited,
            "CAISO's rate limit refused the call",
            format!("CAISO's Acceptable Use Policy refused the call and asked to wait {wait} seconds; caiso-access waited and retried, and the limit was still exceeded."),
            "Other programs on your network may be calling CAISO from the same address: spread their calls out.".into(),
        );
    }
    match answer.status {
        403 => {
            return explained(
                CallClass::NotProvisioned,
                "Your certificate is not provisioned for this system",
                format!(
                    "CAISO answered 403 Forbidden: the certificate is not set up for {system} in {environment}."
                ),
                format!(
                    "Ask your User Access Administrator (UAA) to provision your certificate for {system} in {environment}."
                ),
            );
        }
        404 => {
            return explained(
                CallClass::NotFound,
                "CAISO does not know this service address",
                format!("CAISO answered 404 Not Found for {system}: the service name or version is not offered at this address."),
                "Check the service version against CAISO's current interface specification; report it to the caiso-access maintainers if it is one of our test calls.".into(),
            );
        }
        _ => {}
    }
    if fault_text.contains("Signature validation status: false") {
        return explained(
            CallClass::SignatureInvalid,
            "CAISO could not verify the message signature",
            "CAISO rejected the WS-Security signature: the message was signed with a key that does not match the certificate sent, or changed on the way.".into(),
            "Run `caiso-access verify <label>` to check that the key belongs to the certificate; a proxy that rewrites messages must be bypassed.".into(),
        );
    }
    if fault_text.contains("CAISOUsernameToken Validation Error") {
        return explained(
            CallClass::UsernameMismatch,
            "The user name does not match the certificate",
            "CAISO compared the user name in the message header with the certificate and they differ.".into(),
            "Use the certificate whose subject is the user name (caiso-access derives it from the certificate; an application that sets it by hand must use the full subject, CN=...,OU=people,O=CAISO,C=US).".into(),
        );
    }
    if fault_text.contains("Invalid role and/or Entity list identifier") {
        return explained(
            CallClass::RoleNotSetUp,
            "The certificate is not set up for this scheduling coordinator",
            format!(
                "CAISO accepted the certificate but it has no role for the entity in {system}."
            ),
            format!(
                "Ask your User Access Administrator (UAA) to grant the {system} role for your scheduling coordinator ID."
            ),
        );
    }
    let events: Vec<&str> = response
        .map(|r| r.events.iter().map(|e| e.description.as_str()).collect())
        .unwrap_or_default();
    if let Some(fault) = fault {
        let detail = if events.is_empty() {
            fault.string.clone()
        } else {
            format!("{}: {}", fault.string, events.join("; "))
        };
        return explained(
            CallClass::BusinessError,
            "CAISO answered with a business error: access works",
            format!(
                "The certificate, signature and network all worked; {system} rejected the request itself ({detail})."
            ),
            String::new(),
        );
    }
    if answer.status == 200 && response.is_some() {
        return explained(
            CallClass::Success,
            "The call succeeded",
            format!(
                "{system} in {environment} accepted the certificate and the signed request and answered normally."
            ),
            String::new(),
        );
    }
    let snippet: String = answer.body.chars().take(200).collect();
    explained(
        CallClass::Unexpected,
        "CAISO's answer was not understood",
        format!(
            "HTTP {} with a body that is not a SOAP answer: {snippet}",
            answer.status
        ),
        "Run `caiso-access report` and send the file to CAISO support.".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx() -> Context<'static> {
        Context {
            system: "CMRI",
            environment: "MAP-Stage",
            host: "mapstage-ws.caiso.com",
        }
    }

    fn soap_answer(status: u16, fault: &str) -> (Answer, Option<Response>) {
        let body = format!(
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>{fault}</faultstring></s:Fault></s:Body></s:Envelope>"
        );
        let response = caiso_soap::response::parse(&body).ok();
        (Answer { status, body }, response)
    }

    #[test]
    fn each_known_fault_has_its_class_and_next_step() {
        for (status, fault, class) in [
            (
                500,
                "Signature validation status: false",
                CallClass::SignatureInvalid,
            ),
            (
                500,
                "CAISOUsernameToken Validation Error.",
                CallClass::UsernameMismatch,
            ),
            (
                500,
                "Invalid role and/or Entity list identifier.",
                CallClass::RoleNotSetUp,
            ),
            (
                500,
                "429: CAISO Acceptable Use Policy Violation. Please retry your request after 5 seconds.",
                CallClass::RateLimited,
            ),
            (500, "Business validation error", CallClass::BusinessError),
        ] {
            let (a, r) = soap_answer(status, fault);
            let e = answer(&a, r.as_ref(), &cx());
            assert_eq!(e.class, class, "{fault}");
            assert!(!e.explanation.is_empty());
        }
    }

    #[test]
    fn http_statuses_name_the_system_and_environment() {
        let plain = |status| Answer {
            status,
            body: "<html>nope</html>".into(),
        };
        let e = answer(&plain(403), None, &cx());
        assert_eq!(e.class, CallClass::NotProvisioned);
        assert!(e.next_step.contains("UAA") && e.next_step.contains("CMRI in MAP-Stage"));
        assert_eq!(answer(&plain(404), None, &cx()).class, CallClass::NotFound);
        assert_eq!(
            answer(&plain(502), None, &cx()).class,
            CallClass::Unexpected
        );
    }

    #[test]
    fn transport_failures_are_explained() {
        assert_eq!(failure(&Failure::Timeout, &cx()).class, CallClass::Timeout);
        let e = failure(&Failure::ServerNotTrusted("UnknownIssuer".into()), &cx());
        assert!(
            e.next_step
                .contains("Entrust Root Certification Authority - G2")
        );
        let e = failure(
            &Failure::ClientCertificateRefused("CertificateExpired".into()),
            &cx(),
        );
        assert!(e.explanation.contains("expired"));
    }
}

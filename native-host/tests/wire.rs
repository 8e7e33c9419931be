//! CAISO's wire format end to end: the host's requests as the sandbox checks them (shape,
//! SOAPAction, Content-Length, never chunked), and each kind of answer CAISO sends read and
//! explained, through the real binary over mutual TLS.

mod common;

use caiso_sandbox::Behaviour;
use caiso_shared::operations::OperationCatalog;
use common::calls::{caiso, call, host_for, one};
use serde_json::Value;

fn ladder(report: &Value) -> Vec<String> {
    report["ladder"]
        .as_array()
        .expect("ladder")
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s["rung"].as_str().unwrap_or(""),
                s["state"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn every_operation_sends_a_document_the_sandbox_accepts_and_reads_its_data() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let catalog = OperationCatalog::builtin();
    let ids: Vec<&str> = catalog.operations.iter().map(|o| o.id.as_str()).collect();
    let (reports, ok) = call(&host, &ids);
    assert!(ok, "{reports:?}");
    for (report, op) in reports.iter().zip(&catalog.operations) {
        assert_eq!(report["class"], "success", "{}: {report}", op.id);
        assert_eq!(report["records"], 3, "{}", op.id);
        assert_eq!(report["record"], op.data.record.as_str(), "{}", op.id);
        assert!(
            ladder(report).iter().all(|s| s.ends_with("=passed")),
            "{report}"
        );
    }
    let log = sandbox.log();
    let calls: Vec<&Value> = log
        .iter()
        .filter(|e| e.get("operation").is_some())
        .collect();
    assert_eq!(calls.len(), catalog.operations.len(), "{log:?}");
    for entry in calls {
        let op = catalog
            .operation(entry["operation"].as_str().expect("id"))
            .expect("op");
        assert_eq!(entry["outcome"], "ok", "{entry}");
        assert_eq!(entry["content_length"], true, "{entry}");
        assert_eq!(entry["soap_action"], op.soap_action.as_str(), "{entry}");
    }
}

#[test]
fn without_an_sc_id_the_call_proves_certificate_signature_and_user_name() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    host.cli_ok(&["sc-id", "prod", "off"]);
    let report = one(&host, "cmri", "RetrieveMarketAwards_CMRIv4_AP");
    assert_eq!(report["class"], "sc_id_needed", "{report}");
    assert_eq!(
        report["title"],
        "Certificate, signature and user name accepted; set your SC ID"
    );
    assert_eq!(
        ladder(&report),
        [
            "connected=passed",
            "client_certificate=passed",
            "signature=passed",
            "user_name=passed",
            "role=failed",
            "data=unknown"
        ]
    );
    // An SC ID the certificate does not act for: the role is what fails.
    host.cli_ok(&["sc-id", "prod", "XMP9"]);
    let report = one(&host, "cmri", "RetrieveMarketAwards_CMRIv4_AP");
    assert_eq!(report["class"], "role_not_set_up", "{report}");
    // DRRS requests name no SC: they still get data.
    let report = one(&host, "drrs", "RetrieveDRLocations_DRRSv1_AP");
    assert_eq!(report["class"], "success", "{report}");
}

#[test]
fn sc_ids_are_checked_and_kept_per_identity() {
    let sandbox = caiso(&[]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    for bad in ["A", "SC ID", "../etc", "ABCDEFGHIJKLMNOPQRS"] {
        let output = host.cli(&["sc-id", "prod", bad]);
        assert_eq!(output.status.code(), Some(1), "{bad}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("Scheduling Coordinator ID"),
            "{bad}"
        );
    }
    let output = host.cli(&["sc-id", "nobody", "MFP1"]);
    assert_eq!(output.status.code(), Some(1));
    // A refused value changed nothing.
    let tests: Value = serde_json::from_str(&host.cli_ok(&["tests", "--json"])).expect("json");
    assert_eq!(tests["identities"][0]["parameters"]["sc_id"], "DEMO");
    host.cli_ok(&["sc-id", "prod", "mfp1"]);
    let tests: Value = serde_json::from_str(&host.cli_ok(&["tests", "--json"])).expect("json");
    assert_eq!(tests["identities"][0]["parameters"]["sc_id"], "MFP1");
    let op = &tests["operations"][0];
    assert_eq!(op["parameters"][0], "sc_id");
    assert!(matches!(
        op["request_evidence"]["level"].as_str(),
        Some("verified" | "inferred")
    ));
    let text = host.cli_ok(&["tests"]);
    assert!(text.contains("request inferred:"), "{text}");
    assert!(text.contains("SC ID MFP1"), "{text}");
}

#[test]
fn each_kind_of_answer_is_explained() {
    let sandbox = caiso(&[
        ("cmri-market-awards", Behaviour::NoData),
        ("cmri-market-awards-docattach", Behaviour::ErrorDocument),
        ("drrs-locations", Behaviour::NoData),
        ("drrs-registrations", Behaviour::NotAuthorized),
        ("mris-meter-data", Behaviour::BadHash),
        ("sibr-clean-bids", Behaviour::UnknownFault),
    ]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let (reports, ok) = call(
        &host,
        &[
            "cmri-market-awards",
            "cmri-market-awards-docattach",
            "drrs-locations",
            "drrs-registrations",
            "sibr-clean-bids",
        ],
    );
    assert!(!ok);
    let classes: Vec<&str> = reports
        .iter()
        .map(|r| r["class"].as_str().expect("class"))
        .collect();
    assert_eq!(
        classes,
        [
            "no_data",
            "service_error",
            "no_data",
            "not_provisioned",
            "not_understood"
        ]
    );
    assert_eq!(reports[0]["ok"], true, "no data proves access");
    assert!(
        reports[1]["explanation"]
            .as_str()
            .expect("text")
            .contains("FMWK0003")
    );
    assert!(
        reports[3]["explanation"]
            .as_str()
            .expect("text")
            .contains("You are not authorized to access this page.")
    );
    assert_eq!(reports[4]["ok"], false);
    let report = one(&host, "stlmt", "RetrieveMeterData_STLMTv1_DocAttach_AP");
    // DocAttach answers carry no hash: the damage shows only in multipart answers.
    assert_eq!(report["class"], "success", "{report}");
}

#[test]
fn a_changed_multipart_attachment_is_caught_by_its_hash() {
    let sandbox = caiso(&[("drrs-locations", Behaviour::BadHash)]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let report = one(&host, "drrs", "RetrieveDRLocations_DRRSv1_AP");
    assert_eq!(report["class"], "answer_damaged", "{report}");
}

#[test]
fn the_aup_page_is_a_rate_limit_refusal() {
    let sandbox = caiso(&[("sibr-clean-bids", Behaviour::AupHtml)]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let output = host.cli(&[
        "call",
        "prod",
        "sibr",
        "RetrieveCleanBidSet_SIBRv4_AP",
        "--environment",
        "sandbox",
        "--json",
    ]);
    let reports: Vec<Value> = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(reports[0]["class"], "rate_limited", "{}", reports[0]);
    assert!(
        reports[0]["attempts"].as_u64().expect("attempts") > 1,
        "it waited and retried"
    );
}

#[test]
fn the_gateway_logout_page_is_retried_once_on_a_fresh_connection() {
    let sandbox = caiso(&[("sibr-clean-bids", Behaviour::BigIpOnce)]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let report = one(&host, "sibr", "RetrieveCleanBidSet_SIBRv4_AP");
    assert_eq!(report["class"], "success", "{report}");
    assert_eq!(report["attempts"], 2);
    let log: Vec<Value> = sandbox
        .log()
        .into_iter()
        .filter(|e| e["operation"] == "sibr-clean-bids")
        .collect();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0]["outcome"], "big-ip-logout");
    assert_eq!(log[1]["outcome"], "ok");
    assert_ne!(
        log[0]["connection"], log[1]["connection"],
        "a new connection"
    );

    let sandbox = caiso(&[("sibr-clean-bids", Behaviour::BigIpLogout)]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let report = one(&host, "sibr", "RetrieveCleanBidSet_SIBRv4_AP");
    assert_eq!(report["class"], "gateway_logout", "{report}");
    assert_eq!(report["attempts"], 2, "once more, not forever");
    assert!(
        report["response"]
            .as_str()
            .expect("kept")
            .contains("BIG-IP logout page"),
        "the page is kept for support"
    );
    let output = host.cli(&[
        "call",
        "prod",
        "sibr",
        "RetrieveCleanBidSet_SIBRv4_AP",
        "--environment",
        "sandbox",
    ]);
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(
        progress.contains("reconnecting: CAISO's gateway answered its logout page"),
        "{progress}"
    );
    assert!(!progress.contains("Acceptable Use Policy"), "{progress}");
}

#[test]
fn save_writes_the_exchange_and_nothing_secret() {
    let sandbox = caiso(&[("cmri-market-awards", Behaviour::UnknownFault)]);
    let host = host_for(&sandbox, "valid-legacy.p12");
    let folder = host.home().join("for-support");
    let output = host.cli(&[
        "call",
        "prod",
        "cmri",
        "RetrieveMarketAwards_CMRIv4_AP",
        "--environment",
        "sandbox",
        "--save",
        folder.to_str().expect("path"),
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "an unknown fault is a failure"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("saved 3 files"), "{stdout}");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "01-cmri-market-awards-attempt1-answer.txt",
            "01-cmri-market-awards-attempt1-request.txt",
            "report.json"
        ]
    );
    let request =
        std::fs::read_to_string(folder.join("01-cmri-market-awards-attempt1-request.txt"))
            .expect("request");
    assert!(request.contains(
        "<RequestMarketAwards xmlns=\"http://www.caiso.com/soa/RequestMarketAwards_v4.xsd#\">"
    ));
    assert!(request.contains("BinarySecurityToken"));
    let answer = std::fs::read_to_string(folder.join("01-cmri-market-awards-attempt1-answer.txt"))
        .expect("answer");
    assert!(
        answer.starts_with("HTTP 500\nContent-Type: text/xml"),
        "{answer}"
    );
    assert!(answer.contains("logger"));
    let passphrase = common::passphrase();
    for name in &names {
        let text = std::fs::read_to_string(folder.join(name)).expect("text");
        assert!(!text.contains("PRIVATE KEY"), "{name}");
        assert!(!text.contains(&passphrase), "{name}");
        assert!(
            !text.contains(host.config_dir().to_str().expect("path")),
            "{name}"
        );
        assert!(
            !text.contains(common::pki("").to_str().expect("path")),
            "{name}"
        );
    }
}

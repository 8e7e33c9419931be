//! Certificates in the Windows certificate store, as CAISO's enrolment leaves them: listed,
//! adopted by thumbprint, their status shown, their keys used in place for signed calls with
//! mutual TLS, never exported; a renewed certificate appearing in the store is noticed.
//!
//! Windows only (under Wine in `cargo xtask test`). The store identities are provisioned by
//! `store-fixture.exe` (xtask/windows/store-fixture.c, C against CryptoAPI, built by xtask and
//! named by `CAISO_ACCESS_STORE_FIXTURE`): each key in a CryptoAPI container of its own, not
//! exportable, from a PVK blob made by openssl (tests/fixtures/pki/store/). The signed requests
//! go to `CAISO_ACCESS_SIGNED_REQUESTS`, where xtask checks them with xmlsec1 afterwards. They
//! expect a fresh Wine prefix (as `cargo xtask windows` makes): the store is the user's.
#![cfg(windows)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;

use common::calls::caiso;
use common::{Workstation, pki};
use serde_json::{Value, json};

/// The fixture tool, which xtask builds.
fn fixture_tool() -> PathBuf {
    std::env::var_os("CAISO_ACCESS_STORE_FIXTURE")
        .map(PathBuf::from)
        .expect("CAISO_ACCESS_STORE_FIXTURE names store-fixture.exe: run these tests with `cargo xtask windows`")
}

fn store_fixture(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(fixture_tool())
        .args(args)
        .output()
        .expect("store-fixture.exe starts")
}

/// The provisioned certificates: each once per run (its container can be made only once).
static PROVISIONED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The key container a fixture's key goes in (one per run: a container is made only once).
fn container(leaf: &str) -> String {
    format!("caiso-access-test-{leaf}-{}", std::process::id())
}

/// Puts `leaf` (tests/fixtures/pki/store/<leaf>.der and .pvk) into the current user's `My`
/// with its key in a container of its own, and the issuing CA into `CA`; returns its
/// thumbprint (SHA-1 of the DER, upper-case hex).
fn provision(leaf: &str) -> String {
    let der = pki(&format!("store/{leaf}.der"));
    let mut done = PROVISIONED.lock().unwrap_or_else(|e| e.into_inner());
    if !done.iter().any(|l| l == leaf) {
        let ca = store_fixture(&["ca".as_ref(), pki("store/entrust-issuing.der").as_os_str()]);
        assert!(
            ca.status.success(),
            "{}",
            String::from_utf8_lossy(&ca.stderr)
        );
        let name = container(leaf);
        let added = store_fixture(&[
            "add".as_ref(),
            pki(&format!("store/{leaf}.pvk")).as_os_str(),
            der.as_os_str(),
            name.as_ref(),
        ]);
        assert!(
            added.status.success(),
            "store-fixture add {leaf}: {}",
            String::from_utf8_lossy(&added.stderr)
        );
        done.push(leaf.to_owned());
    }
    let bytes = std::fs::read(der).expect("fixture");
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn listed(host: &Workstation) -> Vec<Value> {
    let listed: Value =
        serde_json::from_str(&host.cli_ok(&["store", "--json"])).expect("store --json");
    listed["certificates"]
        .as_array()
        .cloned()
        .expect("certificates")
}

fn status_of(host: &Workstation, label: &str) -> Value {
    let status: Value =
        serde_json::from_str(&host.cli_ok(&["status", "--json"])).expect("status --json");
    status["identities"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["label"] == label).cloned())
        .unwrap_or_else(|| panic!("no identity {label}: {status}"))
}

#[test]
fn store_certificates_are_listed_adopted_by_thumbprint_and_their_keys_stay_in_the_store() {
    let thumbprint = provision("valid");
    let host = Workstation::new();

    let entry = listed(&host)
        .into_iter()
        .find(|c| c["thumbprint"] == thumbprint.as_str())
        .unwrap_or_else(|| panic!("{thumbprint} not listed: {:?}", listed(&host)));
    assert_eq!(entry["common_name"], "janedoex1234");
    assert_eq!(entry["ca_family"], "entrust");
    assert_eq!(entry["not_after"], "2027-11-01T00:00:00Z");
    assert_eq!(entry["has_key"], true);
    assert_eq!(entry["identity"], Value::Null);
    let text = host.cli_ok(&["store"]);
    assert!(
        text.contains(&format!("caiso-access import --store {thumbprint}")),
        "{text}"
    );

    // Pasted as certmgr shows it: lower case, in pairs.
    let pasted = thumbprint
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let imported = host.cli_ok(&["import", "--store", &pasted, "--label", "prod"]);
    assert!(imported.contains("imported prod"), "{imported}");
    let status = status_of(&host, "prod");
    assert_eq!(status["key_access"]["available"], true, "{status}");
    assert_eq!(status["key_access"]["source"], "windows_store");
    assert_eq!(status["certificate"]["key_matches"], true);
    assert_eq!(status["certificate"]["ca_family"], "entrust");
    assert_eq!(status["certificate"]["not_after"], "2027-11-01T00:00:00Z");
    assert_eq!(status["problems"], json!([]), "{status}");
    assert!(host.cli_ok(&["store"]).contains("identity prod"));
    let verified = host.cli_ok(&["verify", "prod"]);
    assert!(verified.contains("the key fits"), "{verified}");

    // The configuration names the certificate by thumbprint only.
    let config = std::fs::read_to_string(host.config_dir().join("config.json")).expect("config");
    assert!(
        config.contains(&format!("\"thumbprint\": \"{thumbprint}\"")),
        "{config}"
    );
    assert!(!config.contains(&container("valid")), "{config}");

    // The key cannot be exported: Windows refuses (the way an enrolment leaves it).
    let export = store_fixture(&["export".as_ref(), container("valid").as_ref()]);
    assert!(
        export.status.success(),
        "the fixture key was exportable: {}",
        String::from_utf8_lossy(&export.stdout)
    );

    // What the extension sees: the status, with no key material and no container.
    let mut browser = host.host();
    let answer = browser.request(1, "status", json!({}));
    let text = answer.to_string();
    assert_eq!(
        answer["ok"]["identities"][0]["key_access"]["source"],
        "windows_store"
    );
    for secret in ["PRIVATE KEY", "RSA2", &container("valid")] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[test]
fn a_store_identity_makes_signed_calls_with_mutual_tls_and_both_signatures() {
    let thumbprint = provision("valid");
    let running = caiso(&[]);
    let host = Workstation::new();
    host.cli_ok(&["import", "--store", &thumbprint, "--label", "prod"]);
    let address = running.address.to_string();
    let ca = pki("server-root.pem");
    host.cli_ok(&["sandbox", &address, "--ca", ca.to_str().expect("path")]);
    host.cli_ok(&["sc-id", "prod", caiso_sandbox::service::DEMO_SC_ID]);
    // The PKCS#12 identity of the same certificate, for the latency next to it.
    host.import("valid-legacy.p12", "file", "production");
    host.cli_ok(&["sc-id", "file", caiso_sandbox::service::DEMO_SC_ID]);

    let saved = std::env::var_os("CAISO_ACCESS_SIGNED_REQUESTS").map(PathBuf::from);
    let mut medians = Vec::new();
    for (label, signature) in [
        ("prod", "rsa-sha1"),
        ("prod", "rsa-sha256"),
        ("file", "rsa-sha256"),
    ] {
        host.cli_ok(&["signature", signature]);
        let mut args = vec![
            "call",
            label,
            "cmri",
            "RetrieveMarketAwards_CMRIv4_AP",
            "--environment",
            "sandbox",
            "--repeat",
            "3",
            "--json",
        ];
        let folder = saved
            .as_ref()
            .map(|dir| dir.join(format!("{label}-{signature}")));
        let folder_text = folder.as_ref().map(|f| f.display().to_string());
        if let Some(folder) = &folder_text {
            args.extend(["--save", folder.as_str()]);
        }
        let output = host.cli(&args);
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        // `--save` prints a line after the JSON.
        let json_end = text.rfind(']').map_or(text.len(), |i| i + 1);
        let reports: Vec<Value> = serde_json::from_str(&text[..json_end])
            .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&output.stderr)));
        assert!(output.status.success(), "{label} {signature}: {text}");
        assert_eq!(reports.len(), 3);
        for report in &reports {
            assert_eq!(report["ok"], true, "{report}");
            assert_eq!(report["signature"], signature);
        }
        let mut times: Vec<f64> = reports
            .iter()
            .filter_map(|r| r["elapsed_ms"].as_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        medians.push(format!("{label} {signature}: median {:.1} ms", times[1]));
    }
    // The figure for the note: a store key next to a file key, same run, same sandbox.
    let figure = format!(
        "call latency against the sandbox (3 calls each, debug build under Wine): {}",
        medians.join("; ")
    );
    eprintln!("{figure}");
    if let Some(dir) = &saved {
        std::fs::write(dir.join("latency.txt"), &figure).expect("latency figure");
    }
    // diagnose: TLS with the store key's certificate and the signed call, stage by stage.
    let diagnosis: Value = serde_json::from_str(&host.cli_ok(&[
        "diagnose",
        "prod",
        "--environment",
        "sandbox",
        "--json",
    ]))
    .expect("diagnose --json");
    assert!(
        diagnosis["conclusion"]
            .as_str()
            .is_some_and(|c| c.starts_with("Everything works")),
        "{diagnosis}"
    );
    // Mutual TLS and the signature were checked by the sandbox: it answers only then.
    let log = running.log();
    assert!(
        log.iter().filter(|e| e["outcome"] == "ok").count() >= 9,
        "{log:?}"
    );
}

#[test]
fn a_renewed_certificate_in_the_store_is_noticed_and_adopting_it_completes_the_renewal() {
    let old = provision("near-expiry");
    let host = Workstation::new();
    host.cli_ok(&["import", "--store", &old, "--label", "soon"]);
    let before = status_of(&host, "soon");
    assert_eq!(before["certificate"]["days_left"], 9, "{before}");
    assert!(
        !before["problems"]
            .to_string()
            .contains("renewed certificate"),
        "{before}"
    );

    // CAISO's renewal leaves the new certificate (same name, later expiry) in the store.
    let new = provision("renewed");
    let noticed = status_of(&host, "soon");
    let problems = noticed["problems"].to_string();
    assert!(
        problems.contains("a renewed certificate for johnroex5678")
            && problems.contains(&format!("caiso-access import --store {new} --label soon")),
        "{noticed}"
    );

    let adopted = host.cli_ok(&["import", "--store", &new, "--label", "soon"]);
    assert!(
        adopted.contains("renewal of soon: new certificate installed"),
        "{adopted}"
    );
    let after = status_of(&host, "soon");
    assert_eq!(after["renewal"]["stage"], "installed", "{after}");
    assert_eq!(after["certificate"]["not_after"], "2027-12-01T00:00:00Z");
    assert!(
        !after["problems"]
            .to_string()
            .contains("renewed certificate"),
        "{after}"
    );
}

#[test]
fn a_thumbprint_not_in_the_store_is_refused_with_the_way_to_list_them() {
    let host = Workstation::new();
    let missing = "00".repeat(20);
    let output = host.cli(&["import", "--store", &missing, "--label", "prod"]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("no certificate with the thumbprint")
            && message.contains("caiso-access store"),
        "{message}"
    );
    assert!(
        !host.config_dir().join("config.json").exists()
            || !std::fs::read_to_string(host.config_dir().join("config.json"))
                .expect("config")
                .contains("prod"),
        "nothing is saved"
    );
}

/// What the popup offers: the store's CAISO certificates through the host, and "use this
/// certificate", which names one by thumbprint; the host takes only CAISO's, and says why not.
#[test]
fn the_extension_lists_the_store_and_adopts_a_caiso_certificate_by_thumbprint_only() {
    let caiso = provision("valid");
    let foreign = provision("server");
    let host = Workstation::new();
    let mut browser = host.host();
    let hello = browser.request(1, "hello", json!({"protocol": 1, "client": "t/1"}));
    let commands = hello["ok"]["commands"].to_string();
    assert!(
        commands.contains("store_certificates") && commands.contains("adopt"),
        "{hello}"
    );

    let listed = browser.request(2, "store_certificates", json!({}));
    let certificates = listed["ok"]["certificates"]
        .as_array()
        .expect("certificates");
    let entry = certificates
        .iter()
        .find(|c| c["thumbprint"] == caiso.as_str())
        .unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(entry["has_key"], true);
    assert_eq!(entry["identity"], Value::Null);
    assert_eq!(entry["days_left"], 343, "{entry}");
    assert!(
        !certificates
            .iter()
            .any(|c| c["thumbprint"] == foreign.as_str()),
        "only CAISO's certificates are listed: {listed}"
    );

    // Not CAISO's: refused, nothing adopted.
    let refused = browser.request(3, "adopt", json!({"thumbprint": foreign}));
    assert_eq!(refused["error"]["code"], "bad_arguments", "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is not CAISO's")),
        "{refused}"
    );
    // Not a thumbprint, or no such certificate: refused with the reason.
    let bad = browser.request(4, "adopt", json!({"thumbprint": "C:\\Users\\me\\cert.pfx"}));
    assert_eq!(bad["error"]["code"], "bad_arguments", "{bad}");
    let absent = browser.request(5, "adopt", json!({"thumbprint": "00".repeat(20)}));
    assert!(
        absent["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no certificate with the thumbprint")),
        "{absent}"
    );
    let unknown_field = browser.request(6, "adopt", json!({"thumbprint": caiso, "path": "x"}));
    assert_eq!(
        unknown_field["error"]["code"], "bad_arguments",
        "{unknown_field}"
    );

    let adopted = browser.request(7, "adopt", json!({"thumbprint": caiso}));
    let identities = adopted["ok"]["identities"]
        .as_array()
        .expect("a status report");
    assert_eq!(identities.len(), 1, "{adopted}");
    assert_eq!(identities[0]["label"], "janedoex1234");
    assert_eq!(identities[0]["key_access"]["source"], "windows_store");
    let again = browser.request(8, "store_certificates", json!({}));
    assert!(
        again["ok"]["certificates"]
            .as_array()
            .expect("certificates")
            .iter()
            .any(|c| c["thumbprint"] == caiso.as_str() && c["identity"] == "janedoex1234"),
        "{again}"
    );
}

/// A certificate whose key a CNG key storage provider keeps (a smart card, a TPM, the software
/// KSP) is listed with its key, and adopting it opens the key through NCrypt by provider and
/// name. Wine 8 keeps no named CNG keys, so here that fails: the user is told which provider and
/// why, and nothing is saved. (Signing with a CNG key is shown in capi.rs, on an imported key.)
#[test]
fn a_cng_key_is_opened_through_ncrypt_and_a_failure_names_the_provider() {
    let der = pki("store/cybertrust.der");
    let added = store_fixture(&[
        "cng".as_ref(),
        der.as_os_str(),
        format!("caiso-access-test-cng-{}", std::process::id()).as_ref(),
    ]);
    assert!(
        added.status.success(),
        "store-fixture cng: {}",
        String::from_utf8_lossy(&added.stderr)
    );
    let bytes = std::fs::read(&der).expect("fixture");
    let thumbprint: String = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let host = Workstation::new();
    let entry = listed(&host)
        .into_iter()
        .find(|c| c["thumbprint"] == thumbprint.as_str())
        .expect("listed");
    assert_eq!(entry["common_name"], "samuelx4321");
    assert_eq!(entry["ca_family"], "verizon_cybertrust");
    assert_eq!(entry["has_key"], true);
    let output = host.cli(&["import", "--store", &thumbprint]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "opening the key of Microsoft Software Key Storage Provider (CNG) failed: 0x8009"
        ),
        "{stderr}"
    );
    let status: Value =
        serde_json::from_str(&host.cli_ok(&["status", "--json"])).expect("status --json");
    assert_eq!(status["identities"], json!([]), "nothing saved: {status}");
}

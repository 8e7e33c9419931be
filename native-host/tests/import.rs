//! Certificate import and status from the command line, with openssl-made files.

mod common;

use common::{Workstation, pki};
use serde_json::{Value, json};

fn status_json(workstation: &Workstation) -> Value {
    serde_json::from_str(&workstation.cli_ok(&["status", "--json"])).expect("status JSON")
}

fn identity<'a>(status: &'a Value, label: &str) -> &'a Value {
    status["identities"]
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["label"] == label)
        .expect(label)
}

#[test]
fn pkcs12_from_openssl_loads_in_legacy_and_modern_encryption() {
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "legacy", "production");
    workstation.import("valid-modern.p12", "modern", "map-stage");
    let status = status_json(&workstation);
    let legacy = identity(&status, "legacy");
    let modern = identity(&status, "modern");
    assert_eq!(
        legacy["certificate"]["sha256"],
        modern["certificate"]["sha256"]
    );
    assert_eq!(modern["environment"], "map-stage");
    assert_eq!(
        legacy["certificate"]["chain"].as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn pem_with_encrypted_pkcs8_key_loads() {
    let workstation = Workstation::new();
    let cert = pki("valid-fullchain.crt");
    let key = pki("valid.key.enc");
    workstation.cli_ok(&[
        "import",
        cert.to_str().expect("path"),
        "--key",
        key.to_str().expect("path"),
        "--label",
        "pem",
        "--passphrase-env",
        "CAISO_P12_PASS",
    ]);
    let status = status_json(&workstation);
    let pem = identity(&status, "pem");
    assert_eq!(pem["certificate"]["key_matches"], true);
    assert_eq!(pem["certificate"]["chain_complete"], true);
    let config =
        std::fs::read_to_string(workstation.config_dir().join("config.json")).expect("config");
    assert!(config.contains("\"source\": \"env\""), "{config}");
    assert!(config.contains("CAISO_P12_PASS"));
    assert!(
        !config.contains(&common::passphrase()),
        "the passphrase was stored"
    );
    assert!(!config.contains("PRIVATE KEY"));
}

/// A typed passphrase is used for the import and not kept where there is no OS keyring (this
/// machine): the configuration says so and reopening the file later explains why it cannot.
#[cfg(not(any(windows, target_os = "macos")))]
#[test]
fn a_typed_passphrase_is_not_kept_where_there_is_no_keyring() {
    let workstation = Workstation::new();
    let typed = workstation.import_typed(&pki("valid-modern.p12"), "typed", &common::passphrase());
    assert!(
        typed.status.success(),
        "{}",
        String::from_utf8_lossy(&typed.stderr)
    );
    let config =
        std::fs::read_to_string(workstation.config_dir().join("config.json")).expect("config");
    assert!(config.contains("\"source\": \"not_stored\""), "{config}");
    assert!(!config.contains(&common::passphrase()));
    let verify = workstation.cli(&["verify", "typed"]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("typed at import and not kept"));
}

/// On Windows a typed passphrase goes to the Credential Manager: the configuration names the
/// keyring (never the passphrase), the file reopens later without any variable, and removing
/// the identity deletes the credential.
#[cfg(windows)]
#[test]
fn a_typed_passphrase_goes_to_the_credential_manager() {
    let workstation = Workstation::new();
    let label = format!("typed-{}", std::process::id());
    let typed = workstation.import_typed(&pki("valid-modern.p12"), &label, &common::passphrase());
    assert!(
        typed.status.success(),
        "{}",
        String::from_utf8_lossy(&typed.stderr)
    );
    let config =
        std::fs::read_to_string(workstation.config_dir().join("config.json")).expect("config");
    assert!(config.contains("\"source\": \"keyring\""), "{config}");
    assert!(!config.contains(&common::passphrase()));
    let verify = workstation
        .command()
        .env_remove("CAISO_P12_PASS")
        .args(["verify", &label])
        .output()
        .expect("verify");
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    workstation.cli_ok(&["remove", &label]);
    let again = workstation.import_typed(&pki("valid-modern.p12"), &label, "wrong passphrase");
    assert!(
        !again.status.success(),
        "a deleted credential is not reused"
    );
}

#[test]
fn bad_imports_are_refused_and_change_nothing() {
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "production", "production");
    let config_path = workstation.config_dir().join("config.json");
    let before = std::fs::read(&config_path).expect("config");
    let cert = pki("valid.crt");
    let wrong_key = pki("wrong-key.key");
    let p12 = pki("valid-modern.p12");
    let not_a_cert = pki("PASSPHRASE");
    let cases: Vec<(Vec<&str>, &str, i32)> = vec![
        (
            vec![
                "import",
                cert.to_str().expect("p"),
                "--key",
                wrong_key.to_str().expect("p"),
                "--label",
                "wrong",
            ],
            "does not belong to the certificate",
            1,
        ),
        (
            vec![
                "import",
                p12.to_str().expect("p"),
                "--label",
                "bad",
                "--passphrase-env",
                "NOT_SET_ANYWHERE",
            ],
            "is not set",
            1,
        ),
        (
            vec![
                "import",
                p12.to_str().expect("p"),
                "--label",
                "production",
                "--passphrase-env",
                "CAISO_P12_PASS",
            ],
            "already labelled",
            1,
        ),
        (
            vec!["import", p12.to_str().expect("p"), "--label", "../etc"],
            "label",
            2,
        ),
        (
            vec!["import", p12.to_str().expect("p"), "--label", "x"],
            "protected by a passphrase",
            2,
        ),
        (
            vec!["import", not_a_cert.to_str().expect("p"), "--label", "x"],
            "not a readable PKCS#12",
            1,
        ),
        (
            vec!["import", "/nonexistent/file.p12", "--label", "x"],
            "/nonexistent/file.p12",
            1,
        ),
        (
            vec![
                "import",
                p12.to_str().expect("p"),
                "--label",
                "x",
                "--environment",
                "staging",
            ],
            "unknown environment",
            2,
        ),
    ];
    for (args, message, code) in cases {
        let output = workstation.cli(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(
            std::fs::read(&config_path).expect("config"),
            before,
            "{args:?} changed the configuration"
        );
    }
    // The wrong passphrase, typed.
    let output = workstation.import_typed(&p12, "typo", "not-the-passphrase");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("passphrase is wrong"));
    assert_eq!(std::fs::read(&config_path).expect("config"), before);
}

#[test]
fn a_renewal_goes_through_every_state_and_import_completes_it() {
    let workstation = Workstation::new();
    workstation.import("near-expiry.p12", "production", "production");
    let stage = |s: &Workstation| identity(&status_json(s), "production")["renewal"].clone();
    assert_eq!(stage(&workstation)["stage"], "not_started");
    workstation.cli_ok(&["renewal", "production", "approved", "--date", "2026-11-19"]);
    assert_eq!(stage(&workstation)["stage"], "approved");
    let out = workstation.cli_ok(&[
        "renewal",
        "production",
        "registered",
        "TX-7781",
        "--date",
        "2026-11-20",
    ]);
    assert!(out.contains("collect by   2026-11-24"), "{out}");
    let renewal = stage(&workstation);
    assert_eq!(
        (
            renewal["stage"].as_str(),
            renewal["transaction_id"].as_str()
        ),
        (Some("registered"), Some("TX-7781"))
    );
    // The replacement (same CN, later expiry) imported under the same label: installed.
    workstation.import("renewed.p12", "production", "production");
    let status = status_json(&workstation);
    let production = identity(&status, "production");
    assert_eq!(production["renewal"]["stage"], "installed");
    assert_eq!(
        production["renewal"]["replaced_by"],
        production["certificate"]["sha256"]
    );
    assert_eq!(
        production["certificate"]["not_after"],
        "2027-12-01T00:00:00Z"
    );
    assert_eq!(production["severity"], "ok");
    workstation.cli_ok(&["renewal", "production", "retired"]);
    assert_eq!(stage(&workstation)["stage"], "retired");
    let refused = workstation.cli(&["renewal", "production", "retired"]);
    assert_eq!(refused.status.code(), Some(1));
    workstation.cli_ok(&["renewal", "production", "reset"]);
    assert_eq!(stage(&workstation)["stage"], "not_started");
}

#[test]
fn a_replacement_under_a_new_label_completes_the_old_ones_renewal() {
    let workstation = Workstation::new();
    workstation.import("near-expiry.p12", "old", "production");
    workstation.import("renewed.p12", "new", "production");
    let status = status_json(&workstation);
    assert_eq!(identity(&status, "old")["renewal"]["stage"], "installed");
    assert_eq!(identity(&status, "new")["renewal"]["stage"], "not_started");
}

#[test]
fn thresholds_change_severity() {
    let workstation = Workstation::new();
    workstation.import("near-expiry.p12", "p", "production");
    assert_eq!(
        identity(&status_json(&workstation), "p")["severity"],
        "warning"
    );
    workstation.cli_ok(&["thresholds", "60,10"]);
    let status = status_json(&workstation);
    assert_eq!(status["thresholds"], serde_json::json!([60, 10]));
    assert_eq!(identity(&status, "p")["severity"], "warning");
    assert_eq!(identity(&status, "p")["threshold_crossed"], 10);
    workstation.cli_ok(&["thresholds", "5"]);
    assert_eq!(identity(&status_json(&workstation), "p")["severity"], "ok");
    let bad = workstation.cli(&["thresholds", "5,5"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn human_status_and_removal() {
    let workstation = Workstation::new();
    let empty = workstation.cli_ok(&["status"]);
    assert!(empty.contains("no certificates yet"), "{empty}");
    workstation.import("cybertrust.p12", "cyber", "production");
    let text = workstation.cli_ok(&["status"]);
    assert!(
        text.contains("CN=samuelx4321,OU=people,O=CAISO,C=US"),
        "{text}"
    );
    assert!(text.contains("Verizon Cybertrust (retired CA"), "{text}");
    assert!(text.contains("PROBLEM"), "{text}");
    workstation.cli_ok(&["remove", "cyber"]);
    assert!(
        workstation
            .cli_ok(&["status"])
            .contains("no certificates yet")
    );
    assert!(
        pki("cybertrust.p12").is_file(),
        "remove must not touch the user's file"
    );
}

#[test]
fn verify_reopens_with_the_kept_passphrase_and_notices_a_swapped_key() {
    let workstation = Workstation::new();
    let files = workstation.temp.path().join("user-files");
    std::fs::create_dir_all(&files).expect("dir");
    let cert = files.join("me.crt");
    let key = files.join("me.key");
    std::fs::copy(pki("valid-fullchain.crt"), &cert).expect("copy");
    std::fs::copy(pki("valid.key.enc"), &key).expect("copy");
    let path = |p: &std::path::Path| p.to_str().expect("utf-8").to_owned();
    workstation.cli_ok(&[
        "import",
        &path(&cert),
        "--key",
        &path(&key),
        "--label",
        "me",
        "--passphrase-env",
        "CAISO_P12_PASS",
    ]);
    let out = workstation.cli_ok(&["verify", "me"]);
    assert!(out.contains("the key fits the certificate"), "{out}");
    // The user replaces the key file with somebody else's key.
    std::fs::copy(pki("wrong-key.key"), &key).expect("swap");
    let swapped = workstation.cli(&["verify", "me"]);
    assert_eq!(swapped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&swapped.stderr).contains("does not belong"));
    let status = status_json(&workstation);
    let me = identity(&status, "me");
    assert_eq!(me["certificate"]["key_matches"], false);
    assert!(
        me["problems"]
            .to_string()
            .contains("private key does not belong"),
        "{me}"
    );
    // Without the variable, the reason is given.
    let output = workstation
        .command()
        .args(["verify", "me"])
        .env_remove("CAISO_P12_PASS")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("CAISO_P12_PASS, which is not set"));
}

/// Issue 16: every user had to invent a label before seeing anything. Without `--label` the
/// label comes from the certificate's name (the environment added when it would clash), and the
/// output says how to rename it; `--label` still wins; `rename` keeps the renewal history.
#[test]
fn labels_come_from_the_certificate_unless_given_and_rename_keeps_history() {
    let workstation = Workstation::new();
    let p12 = pki("valid-legacy.p12");
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            p12.to_str().expect("path"),
            "--passphrase-env",
            "CAISO_P12_PASS",
        ];
        args.extend_from_slice(extra);
        workstation.cli_ok(&args)
    };
    let first = import(&[]);
    assert!(
        first.contains("imported janedoex1234 (Production)"),
        "{first}"
    );
    assert!(
        first.contains("caiso-access rename janedoex1234 <new-label>"),
        "{first}"
    );
    // The same name again (the same certificate for MAP-Stage): the environment is added.
    let second = import(&["--environment", "map-stage"]);
    assert!(
        second.contains("imported janedoex1234-map-stage (MAP-Stage)"),
        "{second}"
    );
    let given = import(&["--label", "desk", "--environment", "map-stage"]);
    assert!(given.contains("imported desk (MAP-Stage)"), "{given}");
    assert!(!given.contains("label chosen"), "{given}");

    workstation.cli_ok(&["renewal", "janedoex1234", "registered", "TX-77"]);
    let renamed = workstation.cli_ok(&["rename", "janedoex1234", "production"]);
    assert!(
        renamed.contains("renamed janedoex1234 to production"),
        "{renamed}"
    );
    let status: Value =
        serde_json::from_str(&workstation.cli_ok(&["status", "--json"])).expect("json");
    let production = identity(&status, "production");
    assert_eq!(
        production["renewal"]["transaction_id"], "TX-77",
        "history kept"
    );
    let labels: Vec<&str> = status["identities"]
        .as_array()
        .expect("identities")
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert_eq!(labels, ["production", "janedoex1234-map-stage", "desk"]);
    // Refused, and nothing changes: a taken label, an unknown one, an invalid one.
    for (args, says) in [
        (["rename", "production", "desk"], "already labelled"),
        (["rename", "nobody", "x"], "no identity is labelled"),
        (["rename", "desk", "Bad Label"], "use 1 to 40"),
    ] {
        let output = workstation.cli(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(says),
            "{args:?}"
        );
    }
    let after: Value =
        serde_json::from_str(&workstation.cli_ok(&["status", "--json"])).expect("json");
    assert_eq!(after["identities"], status["identities"]);
}

/// Issue 16: nothing said in advance whether the browser's host could open a key: users learnt
/// it when a test call failed. Each identity's status says so, and from where, as the
/// answering process sees it.
#[test]
fn status_says_whether_the_key_opens_here_and_from_where() {
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "env", "production");
    workstation.cli_ok(&[
        "import",
        pki("valid.crt").to_str().expect("path"),
        "--key",
        pki("valid.key").to_str().expect("path"),
        "--label",
        "plain",
    ]);
    let access = |status: &Value, label: &str| identity(status, label)["key_access"].clone();
    let here = status_json(&workstation);
    assert_eq!(access(&here, "env")["available"], true);
    assert_eq!(access(&here, "env")["source"], "environment");
    assert_eq!(access(&here, "plain")["source"], "unencrypted");
    assert_eq!(access(&here, "plain")["available"], true);
    // A process started without the variable (as a browser may start its host).
    let output = workstation
        .command()
        .env_remove("CAISO_P12_PASS")
        .args(["status", "--json"])
        .output()
        .expect("status");
    let elsewhere: Value = serde_json::from_slice(&output.stdout).expect("json");
    let env = access(&elsewhere, "env");
    assert_eq!(env["available"], false, "{env}");
    assert!(
        env["detail"]
            .as_str()
            .is_some_and(|d| d.contains("CAISO_P12_PASS, not set")),
        "{env}"
    );
    assert!(
        env["fix"]
            .as_str()
            .is_some_and(|f| f.contains("where the browser is started")),
        "{env}"
    );
    assert_eq!(access(&elsewhere, "plain")["available"], true);
    let text = workstation
        .command()
        .env_remove("CAISO_P12_PASS")
        .args(["status"])
        .output()
        .expect("status");
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("signed calls cannot open the key here"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
}

#[test]
fn a_thumbprint_that_is_not_one_is_a_usage_error_and_saves_nothing() {
    let workstation = Workstation::new();
    for bad in ["12 34", &"Z".repeat(40)] {
        let output = workstation.cli(&["import", "--store", bad, "--label", "prod"]);
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("is not a thumbprint"), "{message}");
    }
    let both = workstation.cli(&[
        "import",
        pki("valid-modern.p12").to_str().expect("path"),
        "--store",
        &"AB".repeat(20),
    ]);
    assert_eq!(both.status.code(), Some(2), "a file and --store at once");
    assert!(!workstation.config_dir().join("config.json").exists());
}

#[cfg(not(windows))]
#[test]
fn the_windows_certificate_store_is_said_to_be_windows_only_elsewhere() {
    let workstation = Workstation::new();
    for args in [
        vec!["store"],
        vec![
            "import",
            "--store",
            "ABABABABABABABABABABABABABABABABABABABAB",
        ],
    ] {
        let output = workstation.cli(&args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(
            message.contains("the Windows certificate store exists only on Windows"),
            "{args:?}: {message}"
        );
    }
}

/// Issue 26: a renewal record whose identity is gone (left by a version before the journal, or
/// by a hand edit) is never inherited by a new identity of that name, and is dropped when the
/// book is next saved with the configuration.
#[test]
fn a_record_without_its_identity_is_not_inherited_by_an_import() {
    let workstation = Workstation::new();
    std::fs::create_dir_all(workstation.config_dir()).expect("folder");
    std::fs::write(
        workstation.config_dir().join("renewal.json"),
        r#"{"version":1,"identities":{"fresh":{"stage":"approved","approved_on":"2026-11-01"},"ghost":{"stage":"registered","transaction_id":"TX-1"}}}"#,
    )
    .expect("orphans");
    workstation.import("valid-legacy.p12", "fresh", "production");
    let status = status_json(&workstation);
    assert_eq!(
        identity(&status, "fresh")["renewal"]["stage"],
        "not_started",
        "{status}"
    );
    let book: Value = serde_json::from_slice(&workstation.renewal_bytes()).expect("json");
    assert_eq!(book["identities"], json!({}), "{book}");
}

//! `install`, `uninstall` and `doctor` against a temporary home folder.

mod common;

use common::Sandbox;
use serde_json::Value;

fn chromium_manifest(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox
        .home()
        .join(".config/chromium/NativeMessagingHosts/caiso_access.json")
}

fn firefox_manifest(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox
        .home()
        .join(".mozilla/native-messaging-hosts/caiso_access.json")
}

#[test]
fn install_registers_the_browsers_found_and_doctor_agrees() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.home().join(".config/chromium")).expect("chromium profile");
    std::fs::create_dir_all(sandbox.home().join(".mozilla")).expect("firefox profile");
    let out = sandbox.cli_ok(&["install"]);
    assert!(out.contains("Chromium: registered"), "{out}");
    assert!(out.contains("Firefox: registered"), "{out}");
    assert!(
        !out.contains("Google Chrome"),
        "a browser without a profile was registered: {out}"
    );

    let host = std::fs::canonicalize(env!("CARGO_BIN_EXE_caiso-access")).expect("host path");
    let chromium: Value = serde_json::from_slice(
        &std::fs::read(chromium_manifest(&sandbox)).expect("chromium manifest"),
    )
    .expect("json");
    assert_eq!(chromium["name"], "caiso_access");
    assert_eq!(chromium["type"], "stdio");
    assert_eq!(chromium["path"], host.to_str().expect("utf-8"));
    assert_eq!(
        chromium["allowed_origins"],
        serde_json::json!([common::OUR_ORIGIN])
    );
    let firefox: Value = serde_json::from_slice(
        &std::fs::read(firefox_manifest(&sandbox)).expect("firefox manifest"),
    )
    .expect("json");
    assert_eq!(
        firefox["allowed_extensions"],
        serde_json::json!(["{56dfa9e1-54f1-49bb-8118-2c4f0296aded}"])
    );

    let doctor = sandbox.cli(&["doctor", "--browser", "chromium", "--browser", "firefox"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "ok      {}",
            chromium_manifest(&sandbox).display()
        )),
        "{text}"
    );
    assert!(
        text.contains("/etc/chromium/native-messaging-hosts/caiso_access.json"),
        "doctor lists system places: {text}"
    );
    assert!(
        text.contains("snap/chromium"),
        "doctor lists sandboxed-browser places: {text}"
    );
}

#[test]
fn doctor_explains_what_is_wrong() {
    let sandbox = Sandbox::new();
    sandbox.cli_ok(&["install", "--browser", "chromium"]);
    let path = chromium_manifest(&sandbox);
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json");
    manifest["path"] = "/opt/moved-away/caiso-access".into();
    manifest["allowed_origins"] =
        serde_json::json!(["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]);
    std::fs::write(&path, manifest.to_string()).expect("write");
    let doctor = sandbox.cli(&["doctor", "--browser", "chromium"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(1), "{text}");
    assert!(text.contains("WRONG"), "{text}");
    assert!(
        text.contains("/opt/moved-away/caiso-access does not exist"),
        "{text}"
    );
    assert!(
        text.contains("does not list chrome-extension://nokmocfmgjjcklbipglnbmejhhgheonb/"),
        "{text}"
    );
    std::fs::write(&path, "{not json").expect("write");
    let text = String::from_utf8_lossy(&sandbox.cli(&["doctor", "--browser", "chromium"]).stdout)
        .into_owned();
    assert!(text.contains("not valid JSON"), "{text}");
    // Reinstalling fixes it.
    sandbox.cli_ok(&["install", "--browser", "chromium"]);
    sandbox.cli_ok(&["doctor", "--browser", "chromium"]);
}

#[test]
fn uninstall_removes_and_doctor_then_says_absent() {
    let sandbox = Sandbox::new();
    sandbox.cli_ok(&["install", "--browser", "all"]);
    for path in [chromium_manifest(&sandbox), firefox_manifest(&sandbox)] {
        assert!(path.is_file(), "{}", path.display());
    }
    let out = sandbox.cli_ok(&["uninstall"]);
    assert!(out.contains("Microsoft Edge: removed"), "{out}");
    assert!(!chromium_manifest(&sandbox).exists());
    assert!(!firefox_manifest(&sandbox).exists());
    let doctor = sandbox.cli(&["doctor", "--browser", "edge"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(1));
    assert!(text.contains("absent  "), "{text}");
}

#[test]
fn a_custom_chromium_profile_and_no_browser_at_all() {
    let sandbox = Sandbox::new();
    let none = sandbox.cli(&["install"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no supported browser profile found"));
    let profile = sandbox.temp.path().join("profile");
    sandbox.cli_ok(&[
        "install",
        "--browser",
        "chromium",
        "--user-data-dir",
        profile.to_str().expect("utf-8"),
    ]);
    assert!(
        profile
            .join("NativeMessagingHosts/caiso_access.json")
            .is_file()
    );
    sandbox.cli_ok(&[
        "doctor",
        "--browser",
        "chromium",
        "--user-data-dir",
        profile.to_str().expect("utf-8"),
    ]);
    let bad = sandbox.cli(&["install", "--browser", "netscape"]);
    assert_eq!(bad.status.code(), Some(2));
}

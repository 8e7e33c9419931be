//! `install`, `uninstall` and `doctor` against a temporary home folder.

mod common;

use common::Workstation;
use serde_json::Value;

#[cfg(not(windows))]
fn chromium_manifest(workstation: &Workstation) -> std::path::PathBuf {
    workstation
        .home()
        .join(".config/chromium/NativeMessagingHosts/caiso_access.json")
}

#[cfg(not(windows))]
fn firefox_manifest(workstation: &Workstation) -> std::path::PathBuf {
    workstation
        .home()
        .join(".mozilla/native-messaging-hosts/caiso_access.json")
}

#[cfg(not(windows))] // the per-user folders of Linux and macOS; Windows: below
#[test]
fn install_registers_the_browsers_found_and_doctor_agrees() {
    let workstation = Workstation::new();
    std::fs::create_dir_all(workstation.home().join(".config/chromium")).expect("chromium profile");
    std::fs::create_dir_all(workstation.home().join(".mozilla")).expect("firefox profile");
    let out = workstation.cli_ok(&["install"]);
    assert!(out.contains("Chromium: registered"), "{out}");
    assert!(out.contains("Firefox: registered"), "{out}");
    assert!(
        !out.contains("Google Chrome"),
        "a browser without a profile was registered: {out}"
    );

    let host = std::fs::canonicalize(env!("CARGO_BIN_EXE_caiso-access")).expect("host path");
    let chromium: Value = serde_json::from_slice(
        &std::fs::read(chromium_manifest(&workstation)).expect("chromium manifest"),
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
        &std::fs::read(firefox_manifest(&workstation)).expect("firefox manifest"),
    )
    .expect("json");
    assert_eq!(
        firefox["allowed_extensions"],
        serde_json::json!(["{56dfa9e1-54f1-49bb-8118-2c4f0296aded}"])
    );

    let doctor = workstation.cli(&["doctor", "--browser", "chromium", "--browser", "firefox"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(doctor.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "ok      {}",
            chromium_manifest(&workstation).display()
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

#[cfg(not(windows))] // the per-user folders of Linux and macOS; Windows: below
#[test]
fn doctor_explains_what_is_wrong() {
    let workstation = Workstation::new();
    workstation.cli_ok(&["install", "--browser", "chromium"]);
    let path = chromium_manifest(&workstation);
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json");
    manifest["path"] = "/opt/moved-away/caiso-access".into();
    manifest["allowed_origins"] =
        serde_json::json!(["chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"]);
    std::fs::write(&path, manifest.to_string()).expect("write");
    let doctor = workstation.cli(&["doctor", "--browser", "chromium"]);
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
    let text =
        String::from_utf8_lossy(&workstation.cli(&["doctor", "--browser", "chromium"]).stdout)
            .into_owned();
    assert!(text.contains("not valid JSON"), "{text}");
    // Reinstalling fixes it.
    workstation.cli_ok(&["install", "--browser", "chromium"]);
    workstation.cli_ok(&["doctor", "--browser", "chromium"]);
}

#[cfg(not(windows))] // the per-user folders of Linux and macOS; Windows: below
#[test]
fn uninstall_removes_and_doctor_then_says_absent() {
    let workstation = Workstation::new();
    workstation.cli_ok(&["install", "--browser", "all"]);
    for path in [
        chromium_manifest(&workstation),
        firefox_manifest(&workstation),
    ] {
        assert!(path.is_file(), "{}", path.display());
    }
    let out = workstation.cli_ok(&["uninstall"]);
    assert!(out.contains("Microsoft Edge: removed"), "{out}");
    assert!(!chromium_manifest(&workstation).exists());
    assert!(!firefox_manifest(&workstation).exists());
    let doctor = workstation.cli(&["doctor", "--browser", "edge"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert_eq!(doctor.status.code(), Some(1));
    assert!(text.contains("absent  "), "{text}");
}

#[cfg(not(windows))] // the per-user folders of Linux and macOS; Windows: below
#[test]
fn a_custom_chromium_profile_and_no_browser_at_all() {
    let workstation = Workstation::new();
    let none = workstation.cli(&["install"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no supported browser profile found"));
    let profile = workstation.temp.path().join("profile");
    workstation.cli_ok(&[
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
    workstation.cli_ok(&[
        "doctor",
        "--browser",
        "chromium",
        "--user-data-dir",
        profile.to_str().expect("utf-8"),
    ]);
    let bad = workstation.cli(&["install", "--browser", "netscape"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// The default value of a registry key, as `reg query` prints it (`None` when absent).
#[cfg(windows)]
fn registry_default(key: &str, view: Option<&str>) -> Option<String> {
    let mut reg = std::process::Command::new("reg");
    reg.args(["query", key, "/ve"]);
    if let Some(view) = view {
        reg.arg(view);
    }
    let output = reg.output().expect("reg runs");
    if !output.status.success() {
        return None;
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.split("REG_SZ").nth(1).map(|v| v.trim().to_owned()))
}

/// Windows, for real (under Wine in the test run): `install` writes HKEY_CURRENT_USER keys that
/// point at manifests whose `"path"` Chrome and Edge can start (no `\\?\` prefix, which
/// `cmd.exe` cannot run); `doctor` reads both views of HKEY_LOCAL_MACHINE and accepts a path
/// relative to the manifest; `uninstall` removes the keys. One test: the registry is shared.
#[cfg(windows)]
#[test]
fn windows_registration_in_the_registry() {
    let workstation = Workstation::new();
    let local = workstation.temp.path().join("local");
    let run = |args: &[&str]| {
        workstation
            .command()
            .env("LOCALAPPDATA", &local)
            .args(args)
            .output()
            .expect("host runs")
    };
    let browsers = [
        "--browser",
        "chrome",
        "--browser",
        "edge",
        "--browser",
        "firefox",
    ];
    let installed = run(&[&["install"][..], &browsers].concat());
    let text = String::from_utf8_lossy(&installed.stdout);
    assert!(
        installed.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let chrome_key = "HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\caiso_access";
    for key in [
        chrome_key,
        "HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\caiso_access",
        "HKCU\\Software\\Mozilla\\NativeMessagingHosts\\caiso_access",
    ] {
        let manifest_path = registry_default(key, None).unwrap_or_else(|| panic!("{key} is set"));
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(&manifest_path).expect("manifest"))
                .expect("json");
        let host = manifest["path"].as_str().expect("path");
        assert!(!host.starts_with("\\\\?\\"), "{key}: verbatim path {host}");
        assert!(host.ends_with("caiso-access.exe"), "{key}: {host}");
    }
    let doctor = run(&[&["doctor"][..], &browsers].concat());
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );

    // A machine-wide registration in HKLM's 32-bit view (where 32-bit installers write) is seen.
    let manifest = registry_default(chrome_key, None).expect("chrome manifest");
    let hklm = "HKLM\\Software\\Chromium\\NativeMessagingHosts\\caiso_access";
    let added = std::process::Command::new("reg")
        .args(["add", hklm, "/ve", "/d", &manifest, "/f", "/reg:32"])
        .output()
        .expect("reg add");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let doctor = run(&["doctor", "--browser", "chromium"]);
    let text = String::from_utf8_lossy(&doctor.stdout).into_owned();
    assert!(
        text.lines()
            .any(|l| l.contains("ok") && l.contains("(32-bit view)")),
        "{text}"
    );
    let _ = std::process::Command::new("reg")
        .args(["delete", hklm, "/f", "/reg:32"])
        .output();

    // A manifest beside the host naming it by a relative path is accepted (Chrome does).
    let mut copy: Value =
        serde_json::from_slice(&std::fs::read(&manifest).expect("read")).expect("json");
    // The host as Windows names it (cargo names it by this machine's Unix path).
    let exe = std::path::PathBuf::from(copy["path"].as_str().expect("path"));
    let relative = exe.with_file_name(format!("relative-{}.json", std::process::id()));
    copy["path"] = Value::from(
        exe.file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned(),
    );
    std::fs::write(&relative, copy.to_string()).expect("write");
    let set = std::process::Command::new("reg")
        .args([
            "add",
            chrome_key,
            "/ve",
            "/d",
            relative.to_str().expect("path"),
            "/f",
        ])
        .output()
        .expect("reg add");
    assert!(set.status.success());
    let doctor = run(&["doctor", "--browser", "chrome"]);
    let _ = std::fs::remove_file(&relative);
    assert!(
        doctor.status.success(),
        "{}",
        String::from_utf8_lossy(&doctor.stdout)
    );

    let removed = run(&[&["uninstall"][..], &browsers].concat());
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    assert_eq!(registry_default(chrome_key, None), None, "the key is gone");
}

/// An organisation's own package of the extension (its own signing key, so its own id) is
/// allowed by the administrator at registration: the manifest names it, the host serves it.
#[test]
fn an_extension_id_given_at_install_is_allowed_and_nothing_else() {
    let workstation = Workstation::new();
    let profile = workstation.temp.path().join("profile");
    let profile_arg = profile.to_str().expect("utf-8");
    let ours = "abcdefghijklmnopabcdefghijklmnop";
    // `install` for Chromium in the test profile, allowing `ids`.
    let install = |ids: &[&str]| {
        let mut args = vec![
            "install",
            "--browser",
            "chromium",
            "--user-data-dir",
            profile_arg,
        ];
        for id in ids {
            args.extend(["--extension-id", id]);
        }
        workstation.cli(&args)
    };
    // Every id is checked before anything is kept or written.
    for bad in [
        "abcdefghijklmnopabcdefghijklmnoq",
        "ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP",
        "abcdefghijklmnop",
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop/",
    ] {
        let refused = install(&[ours, bad]);
        assert_eq!(refused.status.code(), Some(1), "{bad}");
        assert!(
            String::from_utf8_lossy(&refused.stderr)
                .contains("is not a Chromium extension id (32 letters a to p)"),
            "{bad}"
        );
        assert!(!profile.exists(), "{bad}: nothing registered");
        assert!(
            !workstation.config_dir().join("config.json").exists(),
            "{bad}: nothing kept"
        );
    }
    let installed = install(&[ours]);
    assert!(installed.status.success());
    let out = String::from_utf8_lossy(&installed.stdout);
    assert!(out.contains(&format!(
        "allowed chrome-extension://{ours}/ to use this host"
    )));
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(profile.join("NativeMessagingHosts/caiso_access.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(
        manifest["allowed_origins"],
        serde_json::json!([
            "chrome-extension://nokmocfmgjjcklbipglnbmejhhgheonb/",
            format!("chrome-extension://{ours}/")
        ])
    );
    // The host started by that extension answers it; by another, it refuses.
    let mut host = workstation.host_for(&[&format!("chrome-extension://{ours}/")]);
    let hello = host.request(
        1,
        "hello",
        serde_json::json!({"protocol": 1, "client": "test"}),
    );
    assert!(hello["ok"]["host_version"].is_string(), "{hello}");
    drop(host);
    let mut other = workstation.host_for(&["chrome-extension://pppppppppppppppppppppppppppppppp/"]);
    assert_eq!(
        common::error_code(&other.receive().expect("refusal")),
        Some("caller_not_allowed")
    );
    // Given again, it is kept once.
    assert!(install(&[ours]).status.success());
    let config =
        std::fs::read_to_string(workstation.config_dir().join("config.json")).expect("config");
    assert_eq!(config.matches(ours).count(), 1, "{config}");
}

/// The per-machine MSI's EXTENSION_ID: the machine policy allows the organisation's id for every
/// user (no user setting), and `install --beside-program` writes the package manifests naming it,
/// beside the program, touching nothing else.
#[test]
fn an_extension_id_in_the_machine_policy_is_allowed_for_every_user() {
    let workstation = Workstation::new();
    let ours = "abcdefghijklmnopabcdefghijklmnop";
    let origin = format!("chrome-extension://{ours}/");
    let mut refused = workstation.host_for(&[&origin]);
    assert_eq!(
        common::error_code(&refused.receive().expect("refusal")),
        Some("caller_not_allowed"),
        "not allowed before the policy names it"
    );
    drop(refused);
    std::fs::write(
        workstation.machine_policy(),
        serde_json::json!({"allowed_extension_ids": [ours, "not-an-id"]}).to_string(),
    )
    .expect("policy");
    let mut host = workstation.host_for(&[&origin]);
    let hello = host.request(
        1,
        "hello",
        serde_json::json!({"protocol": 1, "client": "test"}),
    );
    assert!(hello["ok"]["host_version"].is_string(), "{hello}");
    drop(host);
    assert!(
        !workstation.config_dir().join("config.json").exists(),
        "no user setting was needed or written"
    );
    let mut other = workstation.host_for(&["chrome-extension://pppppppppppppppppppppppppppppppp/"]);
    assert_eq!(
        common::error_code(&other.receive().expect("refusal")),
        Some("caller_not_allowed")
    );
}

#[test]
fn install_beside_program_writes_the_package_manifests_naming_the_ids() {
    let workstation = Workstation::new();
    let folder = workstation
        .temp
        .path()
        .join("Program Files")
        .join("caiso-access");
    std::fs::create_dir_all(&folder).expect("folder");
    let program = folder.join(if cfg!(windows) {
        "caiso-access.exe"
    } else {
        "caiso-access"
    });
    std::fs::copy(env!("CARGO_BIN_EXE_caiso-access"), &program).expect("copy the program");
    let ours = "abcdefghijklmnopabcdefghijklmnop";
    let run = |args: &[&str]| {
        workstation
            .command_of(&program)
            .args(args)
            .output()
            .expect("run")
    };
    // A bad id or another option: a clear error, nothing written.
    for args in [
        &["install", "--beside-program", "--extension-id", "ABC"][..],
        &["install", "--beside-program", "--browser", "chrome"][..],
    ] {
        let out = run(args);
        assert_eq!(
            out.status.code(),
            Some(if args[2] == "--browser" { 2 } else { 1 }),
            "{args:?}"
        );
        assert!(!folder.join("chromium.json").exists(), "{args:?}");
    }
    let out = run(&["install", "--beside-program", "--extension-id", ours]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(folder.join(name)).expect(name)).expect("json")
    };
    let chromium = read("chromium.json");
    assert_eq!(
        chromium["allowed_origins"],
        serde_json::json!([
            "chrome-extension://nokmocfmgjjcklbipglnbmejhhgheonb/",
            format!("chrome-extension://{ours}/")
        ])
    );
    assert_eq!(
        chromium["path"],
        program.file_name().expect("name").to_str().expect("utf-8"),
        "named relative to its folder, as the package's"
    );
    assert_eq!(
        read("firefox.json")["allowed_extensions"],
        serde_json::json!(["{56dfa9e1-54f1-49bb-8118-2c4f0296aded}"])
    );
    assert!(
        !workstation.config_dir().join("config.json").exists(),
        "no user setting written"
    );
    let mut entries: Vec<String> = std::fs::read_dir(&folder)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 3, "{entries:?}");
}

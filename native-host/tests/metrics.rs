//! The metrics file as the monitoring organisations already run reads it: `promtool check
//! metrics` (Debian's prometheus package), node_exporter's textfile collector, and a real
//! Prometheus scraping it with the alert rules of `deploy/prometheus/`, all started here on
//! loopback; the machine policy that makes every status refresh it; and the file's crash safety.

mod common;

use std::process::{Output, Stdio};

use common::Workstation;

/// A user name with every character the label format escapes, and one a file name cannot hold.
const ODD_USER: &str = "CORP\\j\"doe";

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `caiso-access metrics <args>` as `user`.
fn metrics(workstation: &Workstation, user: &str, args: &[&str]) -> Output {
    let mut command = workstation.command();
    command
        .arg("metrics")
        .args(args)
        .env("USER", user)
        .stdin(Stdio::null());
    common::starting(|| command.output())
}

/// An empty folder for the textfile collector, in the workstation's temporary folder.
fn textfile_folder(workstation: &Workstation) -> std::path::PathBuf {
    let folder = workstation.temp.path().join("textfile");
    std::fs::create_dir(&folder).expect("folder");
    folder
}

/// The names in `folder`, sorted.
fn names_in(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Imports the demo's four certificates: valid, near expiry, expired, from the retired CA.
fn four_identities(workstation: &Workstation) {
    workstation.import("valid-legacy.p12", "production", "production");
    workstation.import("near-expiry.p12", "map-stage", "map-stage");
    workstation.import("expired.p12", "old", "production");
    workstation.import("cybertrust.p12", "cyber", "production");
}

#[test]
fn written_to_a_folder_the_file_is_the_users_own_readable_by_the_agent_and_nothing_else_is_left() {
    let workstation = Workstation::new();
    four_identities(&workstation);
    let folder = textfile_folder(&workstation);
    let printed = metrics(&workstation, "jdoe", &[]);
    assert!(printed.status.success(), "{}", stderr(&printed));

    let written = metrics(
        &workstation,
        "jdoe",
        &["--textfile", folder.to_str().expect("path")],
    );
    assert!(written.status.success(), "{}", stderr(&written));
    assert_eq!(
        stdout(&written),
        "wrote caiso-access_jdoe.prom (4 identities)\n"
    );
    let file = folder.join("caiso-access_jdoe.prom");
    // The clock is pinned: the file is what `metrics` prints.
    assert_eq!(
        std::fs::read_to_string(&file).expect("file"),
        stdout(&printed)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "node_exporter runs as another user");
    }
    // A second user of the computer writes beside, not over.
    assert!(
        metrics(
            &workstation,
            ODD_USER,
            &["--textfile", folder.to_str().expect("path")]
        )
        .status
        .success()
    );
    assert_eq!(
        names_in(&folder),
        ["caiso-access_CORP_j_doe.prom", "caiso-access_jdoe.prom"]
    );
}

#[test]
fn a_folder_that_is_not_there_is_a_clear_error_and_nothing_is_made() {
    let workstation = Workstation::new();
    four_identities(&workstation);
    let missing = workstation.temp.path().join("no-such-folder");
    let output = metrics(
        &workstation,
        "jdoe",
        &["--textfile", missing.to_str().expect("path")],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("cannot write caiso-access_jdoe.prom: the metrics folder does not exist"),
        "{}",
        stderr(&output)
    );
    assert!(!missing.exists());
    // A file where the folder should be: the same.
    let file = workstation.temp.path().join("a-file");
    std::fs::write(&file, b"x").expect("write");
    let output = metrics(
        &workstation,
        "jdoe",
        &["--textfile", file.to_str().expect("path")],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(std::fs::read(&file).expect("read"), b"x");
    // And a stray argument is a usage error.
    let output = metrics(&workstation, "jdoe", &["now"]);
    assert_eq!(output.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_writer_killed_mid_write_leaves_the_previous_file_whole() {
    use std::time::{Duration, Instant};
    let workstation = Workstation::new();
    four_identities(&workstation);
    let folder = textfile_folder(&workstation);
    let target = folder.to_str().expect("path");
    assert!(
        metrics(&workstation, "jdoe", &["--textfile", target])
            .status
            .success()
    );
    let file = folder.join("caiso-access_jdoe.prom");
    let before = std::fs::read(&file).expect("first file");

    // The next write pauses half-way through its temporary file and is killed there.
    workstation.cli_ok(&["renewal", "cyber", "approved", "--date", "2026-11-20"]);
    let mut writer = workstation
        .command()
        .args(["metrics", "--textfile", target])
        .env("USER", "jdoe")
        .env("CAISO_ACCESS_TEST_WRITE_PAUSE_MS", "20000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let started = Instant::now();
    let temporary = loop {
        let found = names_in(&folder).into_iter().find(|n| n.ends_with(".tmp"));
        if let Some(name) = found {
            break name;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no temporary file"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.kill().expect("kill");
    writer.wait().expect("wait");
    // The collector reads `*.prom` only: the hidden leftover is not one, the file is the old one.
    assert!(
        temporary.starts_with('.') && !temporary.ends_with(".prom"),
        "{temporary}"
    );
    assert_eq!(std::fs::read(&file).expect("file"), before);
    // The next write replaces it whole.
    assert!(
        metrics(&workstation, "jdoe", &["--textfile", target])
            .status
            .success()
    );
    let after = std::fs::read_to_string(&file).expect("file");
    assert!(after.contains(
        "caiso_access_renewal_stage{user=\"jdoe\",identity=\"cyber\",stage=\"approved\"} 1"
    ));
}

#[test]
fn every_status_refreshes_the_file_only_where_the_machine_policy_names_a_folder() {
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "production", "production");
    let folder = textfile_folder(&workstation);
    let status = |s: &Workstation| {
        let mut command = s.command();
        command.args(["status", "--json"]).env("USER", "jdoe");
        assert!(common::starting(|| command.output()).status.success());
    };
    let listed = || names_in(&folder).len();
    // No policy, or one without the folder: nothing is written.
    status(&workstation);
    std::fs::write(workstation.machine_policy(), "{}").expect("policy");
    status(&workstation);
    assert_eq!(listed(), 0);
    // The policy names the folder: the command line's status writes, and the browser's host
    // writes at every status.
    let policy = serde_json::json!({ "metrics_textfile_directory": folder });
    std::fs::write(workstation.machine_policy(), policy.to_string()).expect("policy");
    status(&workstation);
    let file = folder.join("caiso-access_jdoe.prom");
    let text = std::fs::read_to_string(&file).expect("written by the command line");
    assert!(text.contains("writer=\"command_line\""), "{text}");
    std::fs::remove_file(&file).expect("remove");
    let mut host = workstation.host_with(&[common::OUR_ORIGIN], |c| {
        c.env("USER", "jdoe");
    });
    let answer = host.request(1, "status", serde_json::json!({}));
    assert!(answer["ok"]["identities"].is_array(), "{answer}");
    let text = std::fs::read_to_string(folder.join("caiso-access_jdoe.prom")).expect("written");
    assert!(text.contains(
        "caiso_access_metrics_written_timestamp_seconds{user=\"jdoe\",writer=\"browser_host\"}"
    ));
    assert!(text.contains("identity=\"production\""));
    let (_, log) = host.finish();
    assert!(
        log.contains("metrics written to caiso-access_jdoe.prom"),
        "{log}"
    );
    // A policy naming a folder that is not there: the status is still answered, the log says why.
    let gone =
        serde_json::json!({ "metrics_textfile_directory": workstation.temp.path().join("gone") });
    std::fs::write(workstation.machine_policy(), gone.to_string()).expect("policy");
    let mut host = workstation.host();
    assert!(host.request(1, "status", serde_json::json!({}))["ok"].is_object());
    let (_, log) = host.finish();
    assert!(log.contains("metrics not written: cannot write"), "{log}");
    // A policy file that is not valid: the same.
    std::fs::write(workstation.machine_policy(), "{\"metrics_folder\": 1}").expect("policy");
    let mut host = workstation.host();
    assert!(host.request(1, "status", serde_json::json!({}))["ok"].is_object());
    let (_, log) = host.finish();
    assert!(
        log.contains("machine-policy.json is not a valid machine policy file"),
        "{log}"
    );
}

/// The registry value an administrator (Group Policy, Intune, the per-machine MSI) sets.
#[cfg(windows)]
#[test]
fn on_windows_the_folder_comes_from_the_machine_policy_in_the_registry() {
    use winreg::RegKey;
    use winreg::enums::{HKEY_LOCAL_MACHINE, KEY_WOW64_64KEY, KEY_WRITE};
    let workstation = Workstation::new();
    workstation.import("valid-legacy.p12", "production", "production");
    let folder = textfile_folder(&workstation);
    let (key, _) = RegKey::predef(HKEY_LOCAL_MACHINE)
        .create_subkey_with_flags(
            r"Software\Policies\caiso-access",
            KEY_WRITE | KEY_WOW64_64KEY,
        )
        .expect("policy key");
    key.set_value("MetricsTextfileDirectory", &folder.display().to_string())
        .expect("value");
    let mut command = workstation.command();
    command
        .args(["status", "--json"])
        .env("USERNAME", "jdoe")
        .env_remove("USER")
        .env_remove("CAISO_ACCESS_MACHINE_POLICY");
    let output = common::starting(|| command.output());
    let _ = RegKey::predef(HKEY_LOCAL_MACHINE)
        .open_subkey_with_flags(
            r"Software\Policies\caiso-access",
            KEY_WRITE | KEY_WOW64_64KEY,
        )
        .and_then(|k| k.delete_value("MetricsTextfileDirectory"));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(folder.join("caiso-access_jdoe.prom")).expect("written");
    assert!(text.contains("identity=\"production\""), "{text}");
}

#[cfg(unix)]
mod monitoring {
    //! The real monitoring components, started by the tests on loopback.

    use super::*;
    use common::NOW;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    /// A program of Debian's prometheus packages, which `cargo xtask setup` installs.
    fn program(name: &str) -> PathBuf {
        let path = Path::new("/usr/bin").join(name);
        assert!(
            path.exists(),
            "{name} is missing: `cargo xtask setup` installs Debian's prometheus and prometheus-node-exporter"
        );
        path
    }

    /// `promtool check metrics` on `text`: its findings, empty when there are none.
    fn promtool_check(text: &str) -> String {
        let mut child = Command::new(program("promtool"))
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let output = child.wait_with_output().expect("promtool");
        let findings = format!("{}{}", stdout(&output), stderr(&output));
        if output.status.success() {
            findings
        } else {
            format!("exit {:?}: {findings}", output.status.code())
        }
    }

    #[test]
    fn promtool_finds_nothing_to_fix_with_no_identity_several_and_odd_characters() {
        let workstation = Workstation::new();
        let none = metrics(&workstation, "jdoe", &[]);
        assert!(none.status.success(), "{}", stderr(&none));
        assert_eq!(promtool_check(&stdout(&none)), "");

        four_identities(&workstation);
        workstation.cli_ok(&["renewal", "map-stage", "approved", "--date", "2026-11-18"]);
        workstation.cli_ok(&[
            "renewal",
            "map-stage",
            "registered",
            "TX-1",
            "--date",
            "2026-11-19",
        ]);
        let several = metrics(&workstation, ODD_USER, &[]);
        assert!(several.status.success(), "{}", stderr(&several));
        let text = stdout(&several);
        assert_eq!(promtool_check(&text), "", "{text}");
        assert!(text.contains(r#"user="CORP\\j\"doe""#), "{text}");
        for (label, ca) in [
            ("production", "entrust"),
            ("map-stage", "entrust"),
            ("old", "entrust"),
            ("cyber", "verizon_cybertrust"),
        ] {
            assert!(
                text.lines().any(|l| l
                    .starts_with("caiso_access_certificate_not_after_timestamp_seconds{")
                    && l.contains(&format!("identity=\"{label}\""))
                    && l.contains(&format!("ca=\"{ca}\""))),
                "{label}: {text}"
            );
        }
        assert!(text.contains(
            "caiso_access_renewal_collect_by_timestamp_seconds{user=\"CORP\\\\j\\\"doe\",identity=\"map-stage\"}"
        ));
        // No folder, no passphrase: only what the status shows the extension.
        workstation.folders().check("the metrics", &text);
        assert!(!text.contains(&common::passphrase()));
        // Written at the pinned clock.
        let now = time::OffsetDateTime::parse(NOW, &time::format_description::well_known::Rfc3339)
            .expect("now");
        assert!(text.contains(&format!(
            "writer=\"command_line\"}} {}\n",
            now.unix_timestamp()
        )));
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port()
    }

    /// The body of a 200 answer to `GET path` on loopback, or None.
    fn get(port: u16, path: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        head.split_whitespace()
            .nth(1)
            .filter(|status| *status == "200")
            .map(|_| body.to_owned())
    }

    /// Asks until `found` gives an answer, for at most a minute.
    fn wait_for<T>(what: &str, mut found: impl FnMut() -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(value) = found() {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited a minute for {what}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// A server process, stopped when dropped.
    struct Server(Child);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn query(port: u16, promql: &str) -> Option<serde_json::Value> {
        let encoded: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        let body = get(port, &format!("/api/v1/query?query={encoded}"))?;
        let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
        Some(answer["data"]["result"].clone())
    }

    /// A certificate and key made by openssl, valid from now for `days`.
    fn openssl_certificate(dir: &Path, name: &str, days: u32) -> (PathBuf, PathBuf) {
        let (cert, key) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj"])
            .arg(format!("/C=US/O=CAISO/OU=people/CN={name}x0001"))
            .args(["-days", &days.to_string(), "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl");
        assert!(made.status.success(), "{}", stderr(&made));
        (cert, key)
    }

    #[test]
    fn node_exporter_serves_the_file_prometheus_gives_days_left_and_the_rules_fire() {
        let workstation = Workstation::new();
        // The real clock here: Prometheus judges expiry by its own.
        let real = |args: &[&str]| {
            let mut command = workstation.command();
            command
                .args(args)
                .env_remove("CAISO_ACCESS_TEST_NOW")
                .env("USER", "jdoe");
            let output = common::starting(|| command.output());
            assert!(output.status.success(), "{args:?}: {}", stderr(&output));
            stdout(&output)
        };
        let made = workstation.temp.path().join("made");
        std::fs::create_dir(&made).expect("folder");
        for (label, days) in [("soon", 5), ("healthy", 400)] {
            let (cert, key) = openssl_certificate(&made, label, days);
            real(&[
                "import",
                cert.to_str().expect("path"),
                "--key",
                key.to_str().expect("path"),
                "--label",
                label,
            ]);
        }
        workstation.import("expired.p12", "old", "production");
        workstation.import("cybertrust.p12", "cyber", "production");
        // Registered on 2 November: to be collected by the 4th, and never installed.
        real(&["renewal", "healthy", "approved", "--date", "2026-11-01"]);
        real(&[
            "renewal",
            "healthy",
            "registered",
            "TX-9",
            "--date",
            "2026-11-02",
        ]);
        let folder = textfile_folder(&workstation);
        real(&["metrics", "--textfile", folder.to_str().expect("path")]);

        let exporter_port = free_port();
        let _exporter = Server(
            Command::new(program("prometheus-node-exporter"))
                .arg(format!("--web.listen-address=127.0.0.1:{exporter_port}"))
                .args(["--collector.disable-defaults", "--collector.textfile"])
                .arg(format!(
                    "--collector.textfile.directory={}",
                    folder.display()
                ))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("node_exporter"),
        );
        let exposed = wait_for("node_exporter", || get(exporter_port, "/metrics"));
        assert!(
            exposed.contains("node_textfile_scrape_error 0"),
            "{exposed}"
        );
        assert!(
            exposed.lines().any(|l| l
                .starts_with("caiso_access_certificate_not_after_timestamp_seconds{")
                && l.contains("identity=\"soon\"")),
            "{exposed}"
        );

        let prometheus_port = free_port();
        let rules = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/prometheus/caiso-access.rules.yml");
        let config = workstation.temp.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
                 rule_files: ['{}']\n\
                 scrape_configs:\n  - job_name: desktops\n    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n",
                rules.display()
            ),
        )
        .expect("config");
        let _prometheus = Server(
            Command::new(program("prometheus"))
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    workstation.temp.path().join("tsdb").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{prometheus_port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("prometheus"),
        );

        // Days left per certificate, by PromQL over what was scraped.
        let days: Vec<(String, f64)> = wait_for("the days left of four certificates", || {
            let result = query(prometheus_port, "caiso_access:certificate_days_left")?;
            let days: Vec<(String, f64)> = result
                .as_array()?
                .iter()
                .filter_map(|s| {
                    let identity = s["metric"]["identity"].as_str()?.to_owned();
                    let value = s["value"][1].as_str()?.parse().ok()?;
                    Some((identity, value))
                })
                .collect();
            (days.len() == 4).then_some(days)
        });
        let left = |label: &str| {
            days.iter()
                .find(|(identity, _)| identity == label)
                .map(|(_, d)| *d)
                .expect(label)
        };
        assert!((4.0..=5.0).contains(&left("soon")), "{days:?}");
        assert!((399.0..=400.0).contains(&left("healthy")), "{days:?}");
        assert!(left("old") < 0.0, "{days:?}");

        // The alerts firing, by name and identity.
        let firing = wait_for("the alerts", || {
            let body = get(prometheus_port, "/api/v1/alerts")?;
            let answer: serde_json::Value = serde_json::from_str(&body).ok()?;
            let mut firing: Vec<(String, String)> = answer["data"]["alerts"]
                .as_array()?
                .iter()
                .filter(|a| a["state"] == "firing")
                .map(|a| {
                    let labels = &a["labels"];
                    let name = labels["alertname"].as_str().unwrap_or_default();
                    let identity = labels["identity"].as_str().unwrap_or_default();
                    (name.to_owned(), identity.to_owned())
                })
                .collect();
            firing.sort();
            (firing.len() >= 4).then_some(firing)
        });
        let fires =
            |name: &str, identity: &str| firing.iter().any(|(n, i)| n == name && i == identity);
        assert!(
            fires("CaisoAccessCertificateExpiringSoon", "soon"),
            "{firing:?}"
        );
        assert!(
            !fires("CaisoAccessCertificateExpiringSoon", "healthy"),
            "{firing:?}"
        );
        assert!(fires("CaisoAccessCertificateExpired", "old"), "{firing:?}");
        assert!(
            !fires("CaisoAccessCertificateExpired", "soon"),
            "{firing:?}"
        );
        assert!(
            fires("CaisoAccessCertificateFromRetiredCa", "cyber"),
            "{firing:?}"
        );
        assert!(
            !fires("CaisoAccessCertificateFromRetiredCa", "soon"),
            "{firing:?}"
        );
        assert!(
            fires("CaisoAccessRenewalNotCollected", "healthy"),
            "{firing:?}"
        );
        assert!(
            !fires("CaisoAccessRenewalNotCollected", "soon"),
            "{firing:?}"
        );
        assert!(!fires("CaisoAccessNotReporting", ""), "{firing:?}");
    }

    #[test]
    fn the_alert_rules_pass_promtool_and_their_own_unit_tests() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/prometheus");
        let runs: [&[&str]; 2] = [
            &["check", "rules", "caiso-access.rules.yml"],
            &["test", "rules", "caiso-access.rules.test.yml"],
        ];
        for args in runs {
            let output = Command::new(program("promtool"))
                .args(args)
                .current_dir(&folder)
                .output()
                .expect("promtool");
            assert!(
                output.status.success(),
                "promtool {args:?}: {}{}",
                stdout(&output),
                stderr(&output)
            );
        }
    }
}

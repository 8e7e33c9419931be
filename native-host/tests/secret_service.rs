//! Linux: a typed passphrase kept in the desktop's Secret Service, against a real one: GNOME
//! Keyring on a private D-Bus session bus made for each test (Debian's `dbus-daemon` and
//! `gnome-keyring`), read back independently with libsecret's `secret-tool`.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::calls::caiso;
use common::{Workstation, passphrase, pki};
use serde_json::{Value, json};

/// A private session bus with an unlocked GNOME Keyring on it; both end with the value.
struct Desktop {
    bus: Child,
    address: String,
    folder: tempfile::TempDir,
}

impl Desktop {
    fn start() -> Desktop {
        let folder = tempfile::tempdir().expect("tempdir");
        let runtime = folder.path().join("run");
        std::fs::create_dir(&runtime).expect("runtime folder");
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--print-address=1", "--nofork", "--nopidfile"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts (Debian's dbus-daemon; `cargo xtask setup` installs it)");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut address)
            .expect("the bus prints its address");
        let desktop = Desktop {
            bus,
            address: address.trim().to_owned(),
            folder,
        };
        // `--unlock` creates the login keyring with the password on stdin, unlocked, as a
        // desktop login does.
        let mut keyring = desktop
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts (Debian's gnome-keyring; `cargo xtask setup` installs it)");
        keyring
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"login-password")
            .expect("unlock password");
        assert!(keyring.wait().expect("wait").success());
        // Ready once an item can be stored through it.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stored = desktop.secret_tool_store("ready", "yes");
            if stored {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Secret Service did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        desktop
    }

    /// A command that runs in this desktop session.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", self.folder.path())
            .env("XDG_DATA_HOME", self.folder.path().join("data"))
            .env("XDG_RUNTIME_DIR", self.folder.path().join("run"));
        command
    }

    fn secret_tool_store(&self, username: &str, secret: &str) -> bool {
        let Ok(mut child) = self
            .command("secret-tool")
            .args(["store", "--label", "probe", "service", "caiso-access-test"])
            .args(["username", username])
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        else {
            panic!("secret-tool starts (Debian's libsecret-tools; `cargo xtask setup` installs it)")
        };
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(secret.as_bytes());
        child.wait().is_ok_and(|s| s.success())
    }

    /// What libsecret (not our code) finds for caiso-access and `label`.
    fn lookup(&self, label: &str) -> Option<String> {
        let output = self
            .command("secret-tool")
            .args(["lookup", "service", "caiso-access", "username", label])
            .output()
            .expect("secret-tool");
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // GNOME Keyring leaves with its bus.
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

/// A workstation living in `desktop`'s session.
fn workstation_in(desktop: &Desktop) -> Workstation {
    let mut workstation = Workstation::new();
    workstation.session_bus = desktop.address.clone();
    workstation
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn key_access(workstation: &Workstation, label: &str) -> Value {
    let mut host = workstation.host_with(&[common::OUR_ORIGIN], |c| {
        c.env_remove("CAISO_P12_PASS");
    });
    host.request(1, "hello", json!({"protocol": 1, "client": "test"}));
    let status = host.request(2, "status", json!({}));
    host.finish();
    status["ok"]["identities"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["label"] == label))
        .map(|i| i["key_access"].clone())
        .unwrap_or_else(|| panic!("no {label} in {status}"))
}

/// Import with a typed passphrase: it goes to the Secret Service (libsecret reads it back), the
/// configuration says so without holding it, and a host started without any variable, as the
/// browser starts it, opens the key and makes a signed call.
#[test]
fn a_typed_passphrase_goes_to_the_secret_service_and_the_host_opens_the_key() {
    let desktop = Desktop::start();
    let running = caiso(&[]);
    let host = workstation_in(&desktop);
    let typed = host.import_typed(&pki("valid-modern.p12"), "prod", &passphrase());
    assert!(typed.status.success(), "{}", text(&typed));
    assert!(
        text(&typed).contains("the passphrase is in the desktop keyring (Secret Service)"),
        "{}",
        text(&typed)
    );
    let config = std::fs::read_to_string(host.config_dir().join("config.json")).expect("config");
    assert!(config.contains("\"source\": \"keyring\""), "{config}");
    assert!(!config.contains(&passphrase()));
    assert_eq!(
        desktop.lookup("prod").as_deref(),
        Some(passphrase().as_str())
    );

    // The browser's host: no passphrase variable, the session's bus.
    let access = key_access(&host, "prod");
    assert_eq!(access["available"], true, "{access}");
    assert_eq!(access["source"], "keyring", "{access}");
    let address = running.address.to_string();
    let ca = pki("server-root.pem");
    host.cli_ok(&["sandbox", &address, "--ca", ca.to_str().expect("path")]);
    host.cli_ok(&["sc-id", "prod", "DEMO"]);
    let call = host
        .command()
        .env_remove("CAISO_P12_PASS")
        .args(["call", "prod", "cmri", "RetrieveMarketAwards_CMRIv4_AP"])
        .args(["--environment", "sandbox", "--json"])
        .output()
        .expect("call");
    let reports: Value =
        serde_json::from_slice(&call.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&call)));
    assert_eq!(reports[0]["ok"], true, "{reports}");
    assert_eq!(reports[0]["class"], "success", "{reports}");
}

/// `rename` moves the passphrase to the new label and `remove` deletes it, as libsecret sees.
#[test]
fn rename_and_remove_keep_the_secret_service_tidy() {
    let desktop = Desktop::start();
    let host = workstation_in(&desktop);
    let typed = host.import_typed(&pki("valid-modern.p12"), "first", &passphrase());
    assert!(typed.status.success(), "{}", text(&typed));
    host.cli_ok(&["rename", "first", "second"]);
    assert_eq!(desktop.lookup("first"), None);
    assert_eq!(
        desktop.lookup("second").as_deref(),
        Some(passphrase().as_str())
    );
    let verify = host
        .command()
        .env_remove("CAISO_P12_PASS")
        .args(["verify", "second"])
        .output()
        .expect("verify");
    assert!(verify.status.success(), "{}", text(&verify));
    host.cli_ok(&["remove", "second"]);
    assert_eq!(desktop.lookup("second"), None);
}

/// The same identity seen from a process outside the desktop session (no bus): the status says
/// the keyring cannot be reached and what to do, before any call; opening the key fails with
/// that reason, not a hang; nothing is lost (back in the session it opens again).
#[test]
fn outside_the_session_the_status_says_the_keyring_cannot_be_reached() {
    let desktop = Desktop::start();
    let mut host = workstation_in(&desktop);
    let typed = host.import_typed(&pki("valid-modern.p12"), "prod", &passphrase());
    assert!(typed.status.success(), "{}", text(&typed));
    let session = std::mem::replace(
        &mut host.session_bus,
        format!(
            "unix:path={}",
            Path::new(desktop.folder.path()).join("gone").display()
        ),
    );
    let access = key_access(&host, "prod");
    assert_eq!(access["available"], false, "{access}");
    assert_eq!(access["source"], "keyring", "{access}");
    assert!(
        access["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot reach")),
        "{access}"
    );
    assert!(
        access["fix"]
            .as_str()
            .is_some_and(|f| f.contains("desktop session")),
        "{access}"
    );
    let started = Instant::now();
    let verify = host.cli(&["verify", "prod"]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify));
    assert!(text(&verify).contains("cannot reach"), "{}", text(&verify));
    assert!(started.elapsed() < Duration::from_secs(5));
    host.session_bus = session;
    host.cli_ok(&["verify", "prod"]);
}

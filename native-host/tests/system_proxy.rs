//! Windows: the system proxy, set where Windows keeps it (the current user's `Internet
//! Settings`, `ProxyEnable` and `ProxyServer`), is followed by calls and by `diagnose` when no
//! proxy variable is set. Alone in its test binary: the setting is the whole user's (under Wine,
//! the test prefix's) for as long as the test runs, and is taken back afterwards.
#![cfg(windows)]

mod common;

use std::process::Command;

use common::proxy::{AWARDS_IN_PRODUCTION, ConnectProxy, json, production_via_sandbox, through};

const INTERNET_SETTINGS: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings";

fn reg(args: &[&str]) -> bool {
    Command::new("reg")
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Sets the value `name` of the user's Internet Settings.
fn set(name: &str, kind: &str, data: &str) -> bool {
    reg(&[
        "add",
        INTERNET_SETTINGS,
        "/v",
        name,
        "/t",
        kind,
        "/d",
        data,
        "/f",
    ])
}

/// The system proxy set for as long as the value lives.
struct SystemProxy;

impl SystemProxy {
    fn set(server: &str) -> SystemProxy {
        assert!(set("ProxyServer", "REG_SZ", server));
        assert!(set("ProxyEnable", "REG_DWORD", "1"));
        SystemProxy
    }
}

impl Drop for SystemProxy {
    fn drop(&mut self) {
        set("ProxyEnable", "REG_DWORD", "0");
        reg(&["delete", INTERNET_SETTINGS, "/v", "ProxyServer", "/f"]);
    }
}

#[test]
fn calls_and_diagnose_follow_the_windows_system_proxy() {
    let (running, host) = production_via_sandbox();
    let proxy = ConnectProxy::start(running.address);
    let _system = SystemProxy::set(&proxy.address.to_string());
    let reports = json(&through(&host, None, &AWARDS_IN_PRODUCTION));
    assert_eq!(reports[0]["class"], "success", "{reports}");
    assert_eq!(proxy.seen().len(), 1, "{:?}", proxy.seen());
    let diagnosis = json(&through(
        &host,
        None,
        &["diagnose", "prod", "--environment", "production", "--json"],
    ));
    let stages = diagnosis["endpoints"][0]["stages"]
        .as_array()
        .expect("stages");
    let tunnel = stages
        .iter()
        .find(|s| s["stage"] == "proxy")
        .unwrap_or_else(|| panic!("no proxy stage: {diagnosis}"));
    assert_eq!(tunnel["verdict"], "ok", "{diagnosis}");
    assert!(
        tunnel["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with(&proxy.url())),
        "{diagnosis}"
    );
}

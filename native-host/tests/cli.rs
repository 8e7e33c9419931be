//! The `caiso-access` binary as people and browsers start it.

use std::process::{Command, Output, Stdio};

fn caiso_access(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_caiso-access"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary starts")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn version() {
    let output = caiso_access(&["--version"]);
    assert!(output.status.success());
    assert_eq!(
        stdout(&output).trim(),
        format!("caiso-access {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn classify_explains_old_and_current_urls() {
    let output = caiso_access(&[
        "classify",
        "https://portal.caiso.com/tr",
        "https://cmri.caiso.com/",
        "nonsense",
    ]);
    assert!(output.status.success());
    let text = stdout(&output);
    assert!(text.contains("old, switched off; TR; Production"), "{text}");
    assert!(text.contains("now: https://tr.caiso.com/"), "{text}");
    assert!(text.contains("current; CMRI; Production"), "{text}");
    assert!(text.contains("error: not a valid URL"), "{text}");
}

#[test]
fn portals_lists_an_environment() {
    let output = caiso_access(&["portals", "map-stage"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("https://mapstage-cmri.caiso.com/"));
    let bad = caiso_access(&["portals", "staging"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown environment"));
}

#[test]
fn unknown_usage_is_explained_on_stderr() {
    let output = caiso_access(&["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
}

#[test]
fn a_mistyped_command_names_the_nearest_one_before_the_usage() {
    let output = caiso_access(&["stats"]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    let hint = text
        .find("unknown command \"stats\"; did you mean `status`?")
        .expect(&text);
    assert!(hint < text.find("usage:").expect("usage"), "{text}");
    // Nothing near: no guess.
    let far = String::from_utf8_lossy(&caiso_access(&["frobnicate"]).stderr).into_owned();
    assert!(
        far.contains("unknown command \"frobnicate\"") && !far.contains("did you mean"),
        "{far}"
    );
}

#[test]
fn a_mistyped_option_names_the_nearest_one_of_its_command() {
    let output = caiso_access(&["status", "--jsno"]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("unknown option --jsno; did you mean `--json`?"),
        "{text}"
    );
    let output = caiso_access(&[
        "call",
        "prod",
        "cmri-market-awards",
        "--enviroment",
        "sandbox",
    ]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("unknown option --enviroment; did you mean `--environment`?"),
        "{text}"
    );
}

#[test]
fn a_service_that_is_not_one_of_the_systems_test_calls_gets_the_systems_list() {
    let output = caiso_access(&["call", "prod", "cmri", "x"]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(
        text.contains("x is not a CMRI test call; CMRI's test calls are:"),
        "{text}"
    );
    for op in caiso_shared::operations::OperationCatalog::builtin().operations {
        let line = format!("  {} ({}): {}", op.service, op.id, op.title);
        assert_eq!(text.contains(&line), op.system == "cmri", "{line}\n{text}");
    }
    assert!(!text.contains("cmri is not a test call"), "{text}");
}

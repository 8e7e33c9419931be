//! `cargo xtask fuzz [--seconds N] [target...]`: the fuzz targets in `fuzz/` under libFuzzer
//! (cargo-fuzz, with AddressSanitizer; `RUSTC_BOOTSTRAP=1` lets the stable toolchain take the
//! sanitizer flags). Each target starts from seeds written here from the project's own test
//! material (answer fixtures, the sandbox's answers, the test PKI, the catalog's addresses,
//! protocol requests) and keeps its corpus in `target/fuzz/corpus/<target>` between runs.
//! A crash stops the run; its input is in `target/fuzz/artifacts/<target>/`, to become a
//! regression test. `cargo xtask test` runs every target for a short smoke time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use caiso_sandbox::answers::{self, Hash};
use caiso_shared::operations::OperationCatalog;
use caiso_shared::{Classifier, Environment, Interface};

use crate::shell::{Result, root, run, step, tools_bin};

/// The cargo-fuzz release installed into `tools/`.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The fuzz targets (`fuzz/fuzz_targets/<name>.rs`).
pub const TARGETS: [&str; 6] = [
    "native_messaging",
    "caiso_answer",
    "attachment",
    "tab_address",
    "key_file",
    "xsd_schema",
];

/// Seconds per target in `cargo xtask test`.
pub const SMOKE_SECONDS: u64 = 10;

/// Installs cargo-fuzz into `tools/` unless that version is there.
pub fn install() -> Result {
    crate::shell::cargo_tool("cargo-fuzz", CARGO_FUZZ_VERSION)
}

/// Runs `targets` (all when empty) for `seconds` each.
pub fn run_targets(seconds: u64, targets: &[String]) -> Result {
    let chosen: Vec<&str> = if targets.is_empty() {
        TARGETS.to_vec()
    } else {
        let mut chosen = Vec::new();
        for name in targets {
            let known = TARGETS
                .iter()
                .find(|t| **t == name.as_str())
                .ok_or_else(|| {
                    format!("no fuzz target {name:?}; there are {}", TARGETS.join(", "))
                })?;
            chosen.push(*known);
        }
        chosen
    };
    install()?;
    let base = root().join("target").join("fuzz");
    step("fuzz targets: seeds from the project's test material");
    write_seeds(&base.join("seeds"))?;
    for target in chosen {
        step(&format!("fuzz: {target} for {seconds} s"));
        let corpus = base.join("corpus").join(target);
        let artifacts = base.join("artifacts").join(target);
        fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
        let log = base.join(format!("{target}.log"));
        let file = fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut command = Command::new(tools_bin("cargo-fuzz"));
        command
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["run", "--fuzz-dir", "fuzz", "--target-dir"])
            .arg(base.join("build"))
            .arg(target)
            .arg(&corpus)
            .arg(base.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            // A slow input is a finding too (CAISO's answers are read in well under a second).
            .arg("-timeout=10")
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            .stderr(file);
        // libFuzzer's progress goes to the log; the summary and any finding come here.
        let outcome = run(&mut command);
        let text = fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if outcome.is_err() {
            let from = lines.len().saturating_sub(60);
            eprintln!("{}", lines[from..].join("\n"));
            return Err(format!(
                "fuzz target {target} failed (log: {}; the input is in {})",
                log.display(),
                artifacts.display()
            ));
        }
        for line in lines {
            if line.starts_with("Done ") || line.starts_with("stat::number_of_executed_units") {
                eprintln!("{target}: {line}");
            }
        }
        let corpus_files = fs::read_dir(&corpus).map_or(0, Iterator::count);
        eprintln!(
            "{target}: corpus of {corpus_files} inputs in {}",
            corpus.display()
        );
    }
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(name);
    fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    found.sort();
    Ok(found)
}

/// A native messaging frame: 4-byte length in native (little-endian) order, then the body.
fn frame(body: &str) -> Vec<u8> {
    let mut bytes = u32::try_from(body.len())
        .unwrap_or(u32::MAX)
        .to_le_bytes()
        .to_vec();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// A `caiso_answer` input: `<status> <Content-Type>`, a line feed, the body.
fn answer_seed(answer: &answers::Answer) -> Vec<u8> {
    let mut seed = format!("{} {}\n", answer.status, answer.content_type).into_bytes();
    seed.extend(&answer.body);
    seed
}

fn write_seeds(seeds: &Path) -> Result {
    let fixtures = root().join("tests").join("fixtures");

    // Protocol requests, one or several per input.
    let requests = [
        r#"{"v":1,"id":1,"command":"hello","args":{"protocol":1,"client":"fuzz"}}"#,
        r#"{"v":1,"id":2,"command":"status","args":{}}"#,
        r#"{"v":1,"id":3,"command":"tests","args":{}}"#,
        r#"{"v":1,"id":4,"command":"renewal","args":{"identity":"production","action":{"step":"registered","transaction_id":"TX-1","date":"2026-11-20"}}}"#,
        r#"{"v":1,"id":5,"command":"call_parameter","args":{"identity":"production","parameter":"sc_id","value":"DEMO"}}"#,
        r#"{"v":1,"id":6,"command":"call","args":{"identity":"production","system":"cmri","service":"RetrieveMarketAwards_CMRIv4_AP","environment":"sandbox"}}"#,
        r#"{"v":1,"id":7,"command":"diagnose","args":{"identity":"production","environment":"production"}}"#,
        r#"{"v":1,"id":8,"command":"report","args":{"identity":"production"}}"#,
        r#"{"v":1,"id":9,"command":"status","args":{},"id":10}"#,
        // Forms serde reads but the protocol refuses: structs as arrays, variants by index.
        r#"{"v":1,"id":11,"command":"call_parameter","args":["production","sc_id","ARR1"]}"#,
        r#"{"v":1,"id":12,"command":"renewal","args":{"identity":"production","action":{"step":0}}}"#,
        r#"{"v":1,"id":13,"command":"renewal","args":{"identity":"production","action":["reset"]}}"#,
        r#"{"v":1,"id":14,"command":"status","args":[]}"#,
        r#"{"v":1,"id":15,"command":"call","args":["production","cmri","RetrieveMarketAwards_CMRIv4_AP","sandbox"]}"#,
    ];
    let dir = seeds.join("native_messaging");
    for (i, request) in requests.iter().enumerate() {
        write(&dir, &format!("request-{i}"), &frame(request))?;
    }
    let mut session = Vec::new();
    for request in &requests[..3] {
        session.extend(frame(request));
    }
    write(&dir, "session", &session)?;

    // Answers: the fixture documents as CAISO sends them, and every answer the sandbox gives.
    let dir = seeds.join("caiso_answer");
    let answer_fixtures = fixtures.join("answers");
    for path in files(&answer_fixtures)? {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let head: &[u8] = if name == "not-authorized.html" {
            b"403 text/html; charset=UTF-8\n"
        } else if name.ends_with(".html") {
            b"200 text/html; charset=UTF-8\n"
        } else if name.starts_with("fault") {
            b"500 text/xml; charset=UTF-8\n"
        } else {
            b"200 text/xml; charset=UTF-8\n"
        };
        let mut seed = head.to_vec();
        seed.extend(read(&path)?);
        write(&dir, &name, &seed)?;
    }
    let catalog = OperationCatalog::builtin();
    let attachment_dir = seeds.join("attachment");
    for operation in &catalog.operations {
        let documents = [
            ("data", answers::data_document(operation, 3, "DEMO")),
            (
                "no-data",
                answers::output_document(operation, "FMWK0008", "No data found"),
            ),
            (
                "role",
                answers::output_document(operation, "Error", caiso_soap::response::ROLE_TEXT),
            ),
        ];
        for (kind, document) in &documents {
            for (hash, hash_name) in [(Hash::Right, "hash"), (Hash::Wrong, "bad-hash")] {
                let answer = answers::with_attachment(operation, document, hash);
                let name = format!("{}-{kind}-{hash_name}", operation.id);
                write(&dir, &name, &answer_seed(&answer))?;
            }
            write(
                &attachment_dir,
                &format!("{}-{kind}-encoded", operation.id),
                caiso_soap::response::encode_attachment(document).as_bytes(),
            )?;
            write(
                &attachment_dir,
                &format!("{}-{kind}-decoded", operation.id),
                document.as_bytes(),
            )?;
        }
    }
    for (name, answer) in [
        ("big-ip", answers::big_ip_logout()),
        (
            "fault",
            answers::fault(
                catalog.operations.first(),
                caiso_soap::response::SIGNATURE_TEXT,
                "",
            ),
        ),
    ] {
        write(&dir, name, &answer_seed(&answer))?;
    }

    // Tab addresses: every address of the catalog, with a path and a query.
    let dir = seeds.join("tab_address");
    let mut n = 0;
    for system in Classifier::builtin().catalog().systems.iter() {
        for environment in Environment::ALL {
            let Some(endpoints) = system.endpoints(environment) else {
                continue;
            };
            for interface in [Interface::Ui, Interface::Api] {
                let current = endpoints.current(interface).map(|c| &*c.url);
                let legacy = endpoints.legacy(interface).iter().map(|l| &*l.url);
                for url in current.into_iter().chain(legacy) {
                    write(&dir, &format!("url-{n}"), url.as_bytes())?;
                    write(
                        &dir,
                        &format!("url-{n}-path"),
                        format!("{url}/some/page?x=1#top").as_bytes(),
                    )?;
                    n += 1;
                }
            }
        }
    }

    // Key files: every PKCS#12 of the test PKI (first byte 0), PEM pairs in one file (1).
    let dir = seeds.join("key_file");
    let pki = fixtures.join("pki");
    for path in files(&pki)? {
        if path.extension().is_some_and(|e| e == "p12") {
            let mut seed = vec![0];
            seed.extend(read(&path)?);
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            write(&dir, &name.unwrap_or_default(), &seed)?;
        }
    }
    for key in ["valid.key", "valid.key.enc", "wrong-key.key"] {
        let mut seed = vec![1];
        seed.extend(read(&pki.join("valid.crt"))?);
        seed.extend(read(&pki.join(key))?);
        write(&dir, &format!("valid.crt+{key}"), &seed)?;
    }

    // Request schemas in both of CAISO's styles (the tests' fixtures).
    let dir = seeds.join("xsd_schema");
    for path in files(&fixtures.join("schemas"))? {
        if path.extension().is_some_and(|e| e == "xsd") {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            write(&dir, &name.unwrap_or_default(), &read(&path)?)?;
        }
    }
    Ok(())
}

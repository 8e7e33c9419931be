//! Project automation for caiso-access: `cargo xtask <command>`.
//!
//! - `setup`: installs what building and testing need, only what is missing (the wasm target,
//!   the wasm-bindgen CLI matching `Cargo.lock` into `tools/`, Debian's Chromium, ChromeDriver,
//!   Firefox ESR, certutil and xmlsec1, MinGW, clang and Wine for the Windows and macOS builds,
//!   the npm packages from `package-lock.json`).
//! - `build`: the native host, its Windows installers (MSI), the extension's WebAssembly module (size-optimised), loadable
//!   extension folders `dist/chromium` and `dist/firefox`, store zips, and the end-to-end test
//!   cases derived from the catalog.
//! - `test`: set-up, build, then every check: formatting, lints, unit and integration tests,
//!   the host's tests as a Windows program under Wine, wasm-bindgen tests under Node and in
//!   headless Chromium, and the real-browser end-to-end tests in Chromium and Firefox.
//! - `windows [installers]`: the Windows job of `test` alone (or only its installer test).
//! - `demo`: the newcomer's walk-through in Chromium with the extension, after a set-up and build
//!   of only what it shows (the host, the sandbox, the extension; Chromium and what WebAssembly
//!   needs): no Firefox, Wine, MinGW, clang, msitools, fuzzer or Windows installers.
//! - `bench`: classifier throughput and WebAssembly size against the targets.
//! - `codegen`: rewrites generated files that are committed (the redirect ruleset).
//! - `enterprise --base-url <URL> [--key <PEM>] [--out <DIR>]`: the roll-out kit IT hosts and
//!   pushes (a signed CRX3, its update manifest, the force-install policy; `enterprise.rs`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

mod admx;
mod call_bench;
mod cross_check;
mod crx3;
mod enterprise;
mod fuzz;
mod host_bench;
mod installer;
mod kit_policies;
mod scan_bench;
mod schema_bench;
mod shell;
mod windows_test;
mod wine;

use shell::{
    Result, cargo, cargo_tool, file_size, output, root, run, step, tools_bin, write, zip_bytes,
};

use caiso_shared::catalog::Location;
use caiso_shared::{Classifier, redirect_rules};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASM_CRATE: &str = "caiso_access_extension";
/// Debian packages the demo needs: the browser it shows.
const DEMO_APT_PACKAGES: [&str; 1] = ["chromium"];
/// Debian packages every test needs, beside the demo's.
const APT_PACKAGES: [&str; 18] = [
    "chromium-driver",
    // The monitoring organisations run, for the metrics tests (native-host/tests/metrics.rs):
    // promtool and prometheus, and node_exporter's textfile collector.
    "prometheus",
    "prometheus-node-exporter",
    "firefox-esr",
    "libnss3-tools",
    "xmlsec1",
    // A real Secret Service on a private session bus, and libsecret's client to read it back
    // (native-host/tests/secret_service.rs).
    "dbus-daemon",
    "gnome-keyring",
    "libsecret-tools",
    // The Windows and macOS compile checks of the native host (see cross_check.rs).
    "gcc-mingw-w64-x86-64",
    "clang",
    "llvm",
    // The Windows build's tests, run for real under Wine (see windows_test.rs).
    "wine",
    "wine64",
    // The MSI installers: wixl builds them (see installer.rs); msitools reads them.
    "wixl",
    "msitools",
    // keytool, which makes the Java keystores `scan` reads (native-host/tests/scan.rs).
    "openjdk-17-jre-headless",
    // xmllint, the independent validator of requests written from CAISO's schemas
    // (soap/tests/schemas.rs).
    "libxml2-utils",
];
/// Static files of the extension, from `extension/static/`.
const STATIC_FILES: [&str; 12] = [
    "background.js",
    "wasm.js",
    "host.js",
    "settings.js",
    "popup.html",
    "popup-first.js",
    "popup.js",
    "popup.css",
    "options.html",
    "options.js",
    "options.css",
    "managed_schema.json",
];
/// Largest WebAssembly module the issues allow, after wasm-opt.
const WASM_BUDGET_BYTES: u64 = 150 * 1024;

/// How much a command sets up and builds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// What the demo shows: the host, the sandbox and the Chromium extension.
    Demo,
    /// Everything the tests need: also Firefox, the Windows build and installers, the fuzzer.
    Everything,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let everything = || prepare(Scope::Everything);
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(Scope::Everything),
        Some("build") => everything(),
        Some("test") => everything().and_then(|()| test(&args[1..])),
        Some("demo") => prepare(Scope::Demo).and_then(|()| demo()),
        Some("windows") => {
            everything().and_then(|()| windows_test::job(args.get(1).map(String::as_str)))
        }
        // `bench scan`, `bench host`, `bench schemas`: only that benchmark, against the release
        // host it builds.
        Some("bench")
            if args
                .get(1)
                .is_some_and(|a| ["scan", "host", "schemas"].contains(&a.as_str())) =>
        {
            run(cargo().args(["build", "--release", "-p", "caiso-access"])).and_then(|()| {
                match args[1].as_str() {
                    "scan" => scan_bench::run(),
                    "schemas" => schema_bench::run(),
                    _ => host_bench::run(),
                }
            })
        }
        // `bench wasm`: only the extension's module, built, bound and optimised; its size.
        Some("bench") if args.get(1).is_some_and(|a| a == "wasm") => {
            build_wasm().and_then(|()| wasm_module().map(drop))
        }
        Some("bench") => everything().and_then(|()| bench()),
        Some("enterprise") => enterprise::Request::parse(&args[1..]).and_then(|request| {
            prepare(Scope::Demo).and_then(|()| enterprise::command(&request))
        }),
        Some("codegen") => codegen(),
        Some("fuzz") => fuzz_command(&args[1..]),
        _ => Err(
            "usage: cargo xtask <setup|build|test [--skip-browsers]|windows [installers|browser]|demo|bench [scan|host|schemas|wasm]|codegen|fuzz [--seconds N] [target...]|enterprise --base-url <URL> [--key <PEM>] [--out <DIR>]>"
                .into(),
        ),
    };
    match result {
        Ok(()) => eprintln!("xtask: done in {:.0} s", started.elapsed().as_secs_f64()),
        Err(message) => {
            eprintln!("xtask: error: {message}");
            std::process::exit(1);
        }
    }
}

/// `cargo xtask fuzz [--seconds N] [target...]` (60 s per target unless told).
fn fuzz_command(args: &[String]) -> Result {
    let mut seconds = 60;
    let mut targets = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--seconds" {
            seconds = rest
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0)
                .ok_or("--seconds takes a whole number of seconds above 0")?;
        } else {
            targets.push(arg.clone());
        }
    }
    fuzz::run_targets(seconds, &targets)
}

// ---------------------------------------------------------------------------------------------
// setup

/// Set-up and build of `scope`. The packages (Debian's, npm's) are downloaded and unpacked while
/// cargo compiles the tools and the project: on a fresh machine the two take about as long.
fn prepare(scope: Scope) -> Result {
    step("set-up (installs only what is missing) and build");
    rust_targets(scope)?;
    let packages = std::thread::spawn(move || system_packages(scope));
    let compiled = cargo_tools(scope).and_then(|()| compile(scope));
    let packages = packages
        .join()
        .unwrap_or_else(|_| Err("the package installation stopped unexpectedly".into()));
    compiled.and(packages)?;
    package(scope)
}

/// `cargo xtask setup`: everything the tests need, nothing built.
fn setup(scope: Scope) -> Result {
    step("set-up (installs only what is missing)");
    rust_targets(scope)?;
    system_packages(scope)?;
    cargo_tools(scope)
}

fn rust_targets(scope: Scope) -> Result {
    let targets =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    let cross: &[&str] = match scope {
        Scope::Demo => &[],
        Scope::Everything => &cross_check::TARGETS,
    };
    for target in std::iter::once(&WASM_TARGET).chain(cross) {
        if !targets.lines().any(|t| t.trim() == *target) {
            run(Command::new("rustup").args(["target", "add", target]))?;
        }
    }
    Ok(())
}

/// Debian's packages, then npm's.
fn system_packages(scope: Scope) -> Result {
    let mut wanted = DEMO_APT_PACKAGES.to_vec();
    if scope == Scope::Everything {
        wanted.extend(APT_PACKAGES);
    }
    apt_packages(&wanted)?;
    npm_packages()
}

/// The tools cargo installs into `tools/`.
/// (The demo needs none: the build makes the extension's bindings in-process.)
fn cargo_tools(scope: Scope) -> Result {
    if scope == Scope::Everything {
        wasm_bindgen_test_runner()?;
        fuzz::install()?;
        cargo_deny()?;
    }
    Ok(())
}

/// The cargo-deny release installed into `tools/` (the dependency policy, `deny.toml`).
const CARGO_DENY_VERSION: &str = "0.20.2";

fn cargo_deny() -> Result {
    cargo_tool("cargo-deny", CARGO_DENY_VERSION)
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}

fn apt_packages(wanted: &[&str]) -> Result {
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|package| {
            output(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
                .is_none_or(|status| !status.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let as_root = is_root();
    let apt = |args: &[&str]| {
        let mut command = if as_root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    run(&mut apt(&["update", "-qq"]))?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    run(&mut apt(&install))
}

/// The JavaScript bindings of the WebAssembly module `wasm`, written into `out`: what
/// `wasm-bindgen --target web --no-typescript` writes (the same crate does the work).
fn bind(wasm: &Path, out: &Path) -> Result {
    eprintln!(
        "$ wasm-bindgen --target web --no-typescript --out-dir {} {} (in-process)",
        out.display(),
        wasm.display()
    );
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .web(true)
        .map_err(|e| e.to_string())?
        .input_path(wasm)
        .typescript(false)
        // As the CLI sets it when not asked otherwise.
        .omit_default_module_path(false)
        .generate(out)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))
}

/// The wasm-bindgen version in `Cargo.lock`: the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock =
        fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// The wasm-bindgen CLI, for its test runner (the WebAssembly tests under Node and in Chromium).
fn wasm_bindgen_test_runner() -> Result {
    let version = locked_wasm_bindgen_version()?;
    let installed = output(Command::new(tools_bin("wasm-bindgen-test-runner")).arg("--version"))
        .unwrap_or_default();
    if installed.split_whitespace().nth(1) == Some(version.as_str()) {
        return Ok(());
    }
    let install = |locked: bool| {
        let mut command = cargo();
        command.args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &version,
            "--root",
            "tools",
        ]);
        if locked {
            command.arg("--locked");
        }
        run(&mut command)
    };
    // `--locked` is preferred; when its lockfile pins something the registry no longer serves,
    // resolve afresh.
    install(true).or_else(|_| install(false))
}

fn npm_packages() -> Result {
    let lock = root().join("package-lock.json");
    let installed = root().join("node_modules").join(".package-lock.json");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let current = match (modified(&lock), modified(&installed)) {
        (Some(lock), Some(installed)) => installed >= lock,
        _ => false,
    };
    if current {
        return Ok(());
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]))
}

// ---------------------------------------------------------------------------------------------
// codegen

fn rules_path() -> PathBuf {
    root().join("extension").join(redirect_rules::RULESET_PATH)
}

fn codegen() -> Result {
    let text = redirect_rules::generate_json(Classifier::builtin());
    write(&rules_path(), text.as_bytes())?;
    eprintln!("wrote {}", rules_path().display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// build

/// The cargo builds that need no system package: the host and the sandbox, the extension's
/// WebAssembly module. (The Windows build needs MinGW: it is part of `package`.) The demo takes
/// the host and the sandbox as they are built for xtask itself (the dev profile: nothing to
/// compile a second time); everything else is tested as it ships (release).
fn compile(scope: Scope) -> Result {
    step("native host and sandbox");
    let mut host = cargo();
    host.args(["build", "-p", "caiso-access", "-p", "caiso-sandbox"]);
    match scope {
        // With xtask in the same build, cargo picks the same features for every dependency as
        // for xtask's own build: nothing is compiled again but the two programs.
        Scope::Demo => host.args(["-p", "xtask"]),
        Scope::Everything => host.arg("--release"),
    };
    run(&mut host)?;

    build_wasm()
}

fn build_wasm() -> Result {
    step("WebAssembly module");
    run(cargo().args([
        "build",
        "-p",
        "caiso-access-extension",
        "--target",
        WASM_TARGET,
        "--profile",
        "wasm-release",
    ]))
}

/// The WebAssembly module bound and optimised: `(bindings folder, optimised module)`, its
/// size checked against the budget.
fn wasm_module() -> Result<(PathBuf, PathBuf)> {
    step("WebAssembly module: bindings and size");
    let bindgen_out = root().join("target").join("wasm-bindgen");
    let _ = fs::remove_dir_all(&bindgen_out);
    let wasm_in = root()
        .join("target")
        .join(WASM_TARGET)
        .join("wasm-release")
        .join(format!("{WASM_CRATE}.wasm"));
    bind(&wasm_in, &bindgen_out)?;
    let wasm_name = format!("{WASM_CRATE}_bg.wasm");
    let optimised = bindgen_out.join(format!("{WASM_CRATE}_bg.opt.wasm"));
    run(
        Command::new(root().join("node_modules").join(".bin").join("wasm-opt"))
            .args([
                "-Oz",
                "--strip-debug",
                "--strip-producers",
                "--enable-reference-types",
                "--enable-bulk-memory",
                "--enable-sign-ext",
                "--enable-nontrapping-float-to-int",
                "--enable-mutable-globals",
                "--enable-multivalue",
            ])
            .arg(bindgen_out.join(&wasm_name))
            .arg("-o")
            .arg(&optimised),
    )?;
    let size = file_size(&optimised)?;
    eprintln!(
        "wasm module: {} bytes before wasm-opt, {size} bytes after (budget {WASM_BUDGET_BYTES}, {} left)",
        file_size(&bindgen_out.join(&wasm_name))?,
        WASM_BUDGET_BYTES as i64 - size as i64
    );
    if size > WASM_BUDGET_BYTES {
        return Err(format!(
            "the WebAssembly module is {size} bytes, over the {WASM_BUDGET_BYTES}-byte budget"
        ));
    }
    Ok((bindgen_out, optimised))
}

/// What the builds become: the extension's module bound and optimised, loadable folders and
/// store packages, the Windows installers (for everything), the end-to-end cases.
fn package(scope: Scope) -> Result {
    let (bindgen_out, optimised) = wasm_module()?;
    let wasm_name = format!("{WASM_CRATE}_bg.wasm");

    step("extension folders and store packages");
    let dist = root().join("dist");
    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(root().join("manifest.json")).map_err(|e| format!("manifest.json: {e}"))?,
    )
    .map_err(|e| format!("manifest.json: {e}"))?;
    let version = manifest["version"].as_str().unwrap_or("0.0.0").to_owned();
    for browser in ["chromium", "firefox"] {
        let folder = dist.join(browser);
        let _ = fs::remove_dir_all(&folder);
        let mut files: Vec<(String, Vec<u8>)> = vec![(
            "manifest.json".into(),
            fs::read(root().join("manifest.json")).map_err(|e| e.to_string())?,
        )];
        for name in STATIC_FILES {
            let path = root().join("extension").join("static").join(name);
            files.push((
                name.into(),
                fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
            ));
        }
        for (name, path) in [
            (
                format!("wasm/{WASM_CRATE}.js"),
                bindgen_out.join(format!("{WASM_CRATE}.js")),
            ),
            (format!("wasm/{wasm_name}"), optimised.clone()),
            (redirect_rules::RULESET_PATH.to_owned(), rules_path()),
        ] {
            files.push((
                name,
                fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
            ));
        }
        let icons = root().join("extension").join("icons");
        for entry in fs::read_dir(&icons).map_err(|e| format!("{}: {e}", icons.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.extension().is_some_and(|e| e == "png") {
                let name = format!(
                    "icons/{}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                );
                files.push((name, fs::read(&path).map_err(|e| e.to_string())?));
            }
        }
        files.sort();
        for (name, contents) in &files {
            write(&folder.join(name), contents)?;
        }
        let zip_path = dist.join(format!("caiso-access-{browser}-{version}.zip"));
        write_zip(&zip_path, &files)?;
        eprintln!(
            "{}: {} files; {}",
            folder.display(),
            files.len(),
            zip_path.display()
        );
    }

    if scope == Scope::Everything {
        installer::build()?;
    }

    step("end-to-end cases from the catalog");
    let cases = e2e_cases();
    write(
        &root().join("target").join("e2e").join("cases.json"),
        serde_json::to_string_pretty(&cases)
            .map_err(|e| e.to_string())?
            .as_bytes(),
    )
}

fn write_zip(path: &Path, files: &[(String, Vec<u8>)]) -> Result {
    write(path, &zip_bytes(files)?)
}

/// Every old address with a replacement (plus, for path-keeping ones, a deep link), and every
/// current address, with what the classifier expects.
fn e2e_cases() -> serde_json::Value {
    let classifier = Classifier::builtin();
    let mut redirects = BTreeSet::new();
    let mut unchanged = BTreeSet::new();
    for site in classifier.catalog().public_sites.iter() {
        unchanged.insert(site.url.to_string());
    }
    for system in classifier.catalog().systems.iter() {
        for endpoints in [&system.production, &system.map_stage]
            .into_iter()
            .flatten()
        {
            for current in [&endpoints.ui, &endpoints.api].into_iter().flatten() {
                unchanged.insert(current.url.to_string());
            }
            for legacy in endpoints
                .legacy_ui
                .iter()
                .chain(endpoints.legacy_api.iter())
            {
                let mut froms = vec![legacy.url.to_string()];
                if legacy.keeps_path
                    && let Ok(location) = Location::parse(&legacy.url)
                {
                    froms.push(format!(
                        "{}/Retrieve_Sample_AP?wsdl",
                        location.to_url().trim_end_matches('/')
                    ));
                }
                for from in froms {
                    if let Some(to) = classifier.classify(&from).ok().and_then(|a| a.replacement) {
                        redirects.insert((from, to));
                    }
                }
            }
        }
    }
    serde_json::json!({
        "redirects": redirects.into_iter().map(|(from, to)| serde_json::json!({"from": from, "to": to})).collect::<Vec<_>>(),
        "unchanged": unchanged.into_iter().collect::<Vec<_>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// test, demo, bench

fn wasm_test(test: &str) -> Command {
    let mut command = cargo();
    command
        .args([
            "test",
            "-p",
            "caiso-access-extension",
            "--target",
            WASM_TARGET,
            "--test",
            test,
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            tools_bin("wasm-bindgen-test-runner"),
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    command
}

fn test(args: &[String]) -> Result {
    let skip_browsers = args.iter().any(|a| a == "--skip-browsers");
    step("formatting");
    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"]))?;
    step("lints");
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("dependency policy (deny.toml: licenses, banned crates, sources; duplicates listed)");
    // cargo-deny reads the metadata offline, which needs every locked crate in the cache, also
    // those only other targets use (zip's `cfg(fuzzing)` dependency): a fresh machine has
    // downloaded only what its builds so far needed.
    run(cargo().arg("fetch"))?;
    run(Command::new(tools_bin("cargo-deny")).args([
        "--offline",
        "check",
        "--hide-inclusion-graph",
        "bans",
        "licenses",
        "sources",
    ]))?;
    step("unit and integration tests");
    run(cargo().args(["test", "--workspace"]))?;
    step("wasm-bindgen tests under Node");
    run(&mut wasm_test("node"))?;
    cross_check::check()?;
    windows_test::run_tests()?;
    fuzz::run_targets(fuzz::SMOKE_SECONDS, &[])?;
    if skip_browsers {
        eprintln!("(browser tests skipped)");
        return Ok(());
    }
    step("wasm-bindgen tests in headless Chromium");
    run(&mut wasm_test("browser"))?;
    step("end-to-end: Chromium with the extension");
    run(Command::new("node").args([
        "--test",
        "--test-timeout=300000",
        "--test-reporter=spec",
        "tests/e2e/chromium.test.mjs",
        "tests/e2e/native-host.test.mjs",
        "tests/e2e/reminders.test.mjs",
        "tests/e2e/look.test.mjs",
    ]))?;
    managed_policy_e2e(
        "Chromium",
        Path::new("/etc/chromium/policies/managed"),
        "caiso-access-e2e.json",
        "tests/e2e/managed.test.mjs",
        &[],
    )?;
    // The roll-out kit, for an update server on loopback, installed by machine policy alone.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port for the kit's update server: {e}"))?
        .port();
    let kit = root().join("target").join("enterprise-e2e");
    let _ = fs::remove_dir_all(&kit);
    enterprise::command(&enterprise::Request {
        base_url: enterprise::base_url_of(&format!("http://127.0.0.1:{port}/"))?,
        key: None,
        out: kit.clone(),
    })?;
    let kit_env = [
        ("CAISO_E2E_KIT", kit.display().to_string()),
        ("CAISO_E2E_KIT_PORT", port.to_string()),
    ];
    managed_policy_e2e(
        "Chromium, the roll-out kit",
        Path::new("/etc/chromium/policies/managed"),
        "caiso-access-e2e.json",
        "tests/e2e/enterprise.test.mjs",
        &kit_env,
    )?;
    step("Firefox add-on lint");
    run(
        Command::new(root().join("node_modules").join(".bin").join("web-ext"))
            .args(["lint", "--source-dir", "dist/firefox"])
            .env("HOME", std::env::temp_dir()),
    )?;
    step("end-to-end: Firefox with the extension");
    run(Command::new("node").args([
        "--test",
        "--test-timeout=300000",
        "--test-reporter=spec",
        "tests/e2e/firefox.test.mjs",
        "tests/e2e/firefox-extension.test.mjs",
    ]))?;
    managed_policy_e2e(
        "Firefox",
        Path::new("/etc/firefox/policies"),
        "policies.json",
        "tests/e2e/managed-firefox.test.mjs",
        &[],
    )?;
    managed_policy_e2e(
        "Firefox, the roll-out kit",
        Path::new("/etc/firefox/policies"),
        "policies.json",
        "tests/e2e/enterprise-firefox.test.mjs",
        &kit_env,
    )
}

/// Runs one enterprise-policy end-to-end test alone: its policy file is machine-wide while it
/// exists. The test writes `file` in `dir` and removes it; so does this, whatever the outcome,
/// unless the file was there before.
/// The policy folder is the system's: when not root it is created once, owned by this user.
fn managed_policy_e2e(
    browser: &str,
    dir: &Path,
    file: &str,
    test: &str,
    env: &[(&str, String)],
) -> Result {
    step(&format!(
        "end-to-end: enterprise policy ({browser}, alone: the policy file is machine-wide)"
    ));
    // A file that is there before the run is not ours to remove, unless it carries the tests'
    // marker (left behind by an interrupted run).
    let path = dir.join(file);
    let ours = |p: &Path| {
        std::fs::read_to_string(p).is_ok_and(|text| text.contains("\"caiso_access_e2e\""))
    };
    let foreign = path.exists() && !ours(&path);
    if !is_root() && !writable(dir) {
        let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
        run(Command::new("sudo")
            .args(["install", "-d", "-o", &user])
            .arg(dir))?;
    }
    let outcome = run(Command::new("node")
        .args([
            "--test",
            "--test-timeout=300000",
            "--test-reporter=spec",
            test,
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str()))));
    if !foreign {
        let _ = std::fs::remove_file(&path);
    }
    outcome
}

/// Whether this user can create files in `dir` (false when it does not exist).
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!(".caiso-access-probe-{}", std::process::id()));
    let made = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    made
}

fn demo() -> Result {
    step("demo");
    run(Command::new("node")
        .arg("tests/e2e/demo.mjs")
        .env(HOST_BUILD_VARIABLE, "debug"))
}

/// Names the cargo profile folder (`release` unless set) the end-to-end scripts take the host
/// and the sandbox from (`tests/e2e/lib/cases.mjs`).
const HOST_BUILD_VARIABLE: &str = "CAISO_E2E_HOST_BUILD";

fn bench() -> Result {
    step("classifier throughput (native, one core)");
    run(cargo().args(["bench", "-p", "caiso-shared", "--bench", "classify"]))?;
    host_bench::run()?;
    step("answer XML: cost per MB at 1, 8 and 32 MB");
    run(cargo().args(["bench", "-p", "caiso-soap", "--bench", "xml"]))?;
    step("multipart answer: split, hash, decode, inflate, count (1 MB decoded; 1 MB on the wire)");
    run(cargo().args(["bench", "-p", "caiso-soap", "--bench", "answers"]))?;
    step("rate-limit ledger overhead per call");
    run(cargo().args(["bench", "-p", "caiso-access", "--bench", "ledger"]))?;
    call_bench::run()?;
    scan_bench::run()?;
    schema_bench::run()?;
    step("popup: certificate status from cache (headless Chromium, real extension and host)");
    run(Command::new("node").args(["tests/e2e/popup-bench.mjs", "21"]))?;
    step("WebAssembly size");
    let module = root()
        .join("dist")
        .join("chromium")
        .join("wasm")
        .join(format!("{WASM_CRATE}_bg.wasm"));
    let size = file_size(&module)?;
    eprintln!(
        "wasm module after wasm-opt -Oz: {size} bytes = {:.1} KiB, {:.0}% of the {} KiB budget",
        size as f64 / 1024.0,
        100.0 * size as f64 / WASM_BUDGET_BYTES as f64,
        WASM_BUDGET_BYTES / 1024
    );
    Ok(())
}

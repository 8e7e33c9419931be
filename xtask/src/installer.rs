//! The Windows installers (MSI) of the native host, and their test under Wine.
//!
//! `cargo xtask build` builds the host for Windows (release) and, with `wixl` (Debian's
//! `wixl`, from msitools), two packages from `native-host/installer/caiso-access.wxs` into
//! `dist/`: one per user (no administrator rights) and one per machine (IT roll-outs). The two
//! host manifests they carry come from the host's own code, with a `"path"` relative to their
//! folder, so the same files serve wherever the package is installed.
//!
//! The test (part of the Windows job, in its fresh Wine prefix) installs each package with
//! `msiexec /i /qn`, checks the files and keys, that the installed program's `doctor` finds every
//! browser correctly registered in the scope's hive, and that the registration starts the host
//! the way the browsers do (Chrome and Edge through `cmd.exe /d /c`, Firefox directly) and it
//! answers a `hello`; installs the next version's package over it (one product must be left,
//! still registered); then uninstalls with `msiexec /x /qn` and checks that nothing is left, on
//! disk or in the registry.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use caiso_access_host::registration::{Browser, Os, Place, UserDirs, places};
use caiso_shared::protocol::{CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, chromium_origin};

use crate::kit_policies::{self, RegKey, RegValue};
use crate::shell::{Result, cargo, files_under, output, root, run, step, write};
use crate::wine::{Prefix, TARGET};

/// The program's name inside the installation folder; the manifests name it relatively.
const EXE: &str = "caiso-access.exe";

/// One of the two installation scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `%LOCALAPPDATA%\Programs\caiso-access`, keys under `HKEY_CURRENT_USER`.
    PerUser,
    /// `%ProgramFiles%\caiso-access`, keys under `HKEY_LOCAL_MACHINE` (64-bit view).
    PerMachine,
}

impl Scope {
    const ALL: [Scope; 2] = [Scope::PerUser, Scope::PerMachine];

    /// The value of the installer source's `Scope` variable.
    fn wix_scope(self) -> &'static str {
        match self {
            Scope::PerUser => "perUser",
            Scope::PerMachine => "perMachine",
        }
    }

    /// The package's file name in `dist/`.
    fn package(self) -> PathBuf {
        let kind = match self {
            Scope::PerUser => "per-user",
            Scope::PerMachine => "per-machine",
        };
        root().join("dist").join(format!(
            "caiso-access-{}-x64-{kind}.msi",
            env!("CARGO_PKG_VERSION")
        ))
    }

    /// The registry hive its keys are in, as `reg` and `doctor` name it.
    fn hive(self) -> &'static str {
        match self {
            Scope::PerUser => "HKEY_CURRENT_USER",
            Scope::PerMachine => "HKEY_LOCAL_MACHINE",
        }
    }

    /// How `doctor` shows the place a browser of this scope is registered in.
    fn doctor_place(self, key: &str) -> String {
        match self {
            Scope::PerUser => format!("HKEY_CURRENT_USER\\{key}"),
            Scope::PerMachine => format!("HKEY_LOCAL_MACHINE\\{key} (64-bit view)"),
        }
    }
}

/// The registry key (below the hive) where `browser` looks for the host: the host's own table of
/// places (what `doctor` checks), not a copy.
fn browser_key(browser: Browser) -> String {
    let dirs = UserDirs {
        home: PathBuf::from("C:\\Users\\user"),
        xdg_config_home: None,
        local_app_data: None,
    };
    places(browser, Os::Windows, &dirs)
        .into_iter()
        .find_map(|place| match place {
            Place::RegistryKey { key, .. } => Some(key),
            Place::Folder { .. } => None,
        })
        .unwrap_or_default()
}

/// Builds the Windows program and both packages into `dist/`.
pub fn build() -> Result {
    step("Windows installers (MSI per user and per machine, with wixl)");
    run(cargo().args([
        "build",
        "--release",
        "--target",
        TARGET,
        "-p",
        "caiso-access",
    ]))?;
    let stage = root().join("target").join("installer");
    let _ = fs::remove_dir_all(&stage);
    let exe = root().join("target").join(TARGET).join("release").join(EXE);
    let bytes = fs::read(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    write(&stage.join(EXE), &bytes)?;
    for (name, text) in caiso_access_host::registration::package_manifests(Path::new(EXE), &[])
        .map_err(|e| e.to_string())?
    {
        write(&stage.join(name), &text)?;
    }
    // wixl finds the files named in the source beside the source: a copy goes with them.
    let template = root()
        .join("native-host")
        .join("installer")
        .join("caiso-access.wxs");
    let source = stage.join("caiso-access.wxs");
    write(
        &source,
        &fs::read(&template).map_err(|e| format!("{}: {e}", template.display()))?,
    )?;
    for scope in Scope::ALL {
        wixl(scope, env!("CARGO_PKG_VERSION"), &scope.package())?;
        eprintln!(
            "{}: {} bytes",
            scope.package().display(),
            fs::metadata(scope.package()).map_or(0, |m| m.len())
        );
    }
    Ok(())
}

/// The MSI property that names the machine policy's metrics folder (per-machine package only).
const METRICS_PROPERTY: &str = "METRICS_TEXTFILE_DIR";
/// Where the per-machine package writes it (the host's machine policy, `machine_policy.rs`).
const METRICS_POLICY_KEY: &str = "HKEY_LOCAL_MACHINE\\Software\\Policies\\caiso-access";
const METRICS_POLICY_VALUE: &str = "MetricsTextfileDirectory";

/// The per-machine package's components that are installed only when the administrator gives
/// their properties, with the condition that says so. wixl writes no component conditions, so
/// they are set in the package's own table after it. On a removal the condition must hold too,
/// or Windows Installer leaves the values behind: hence `OR REMOVE~="ALL"` on each.
const COMPONENT_CONDITIONS: [(&str, &str); 5] = [
    ("MetricsPolicy", "METRICS_TEXTFILE_DIR"),
    ("OrganisationExtension", "EXTENSION_ID"),
    (
        "ChromeForceInstall",
        "CHROME_EXTENSION AND EXTENSION_ID AND EXTENSION_UPDATE_URL",
    ),
    (
        "EdgeForceInstall",
        "EDGE_EXTENSION AND EXTENSION_ID AND EXTENSION_UPDATE_URL",
    ),
    ("FirefoxForceInstall", "FIREFOX_EXTENSION_URL"),
];

/// Where the per-machine package runs `install --beside-program` for its `EXTENSION_ID`: after
/// every file is in place and registered (PublishProduct is 6400), before InstallFinalize
/// (6600). Earlier, right after InstallFiles (4000), a major upgrade under Wine put the new
/// package's `chromium.json` down again after the action had written it.
const REGISTER_SEQUENCE: u32 = 6401;

/// Builds the package of `scope` at `version` from the staged source into `package`.
fn wixl(scope: Scope, version: &str, package: &Path) -> Result {
    let stage = root().join("target").join("installer");
    run(Command::new("wixl")
        .args(["-a", "x64", "-D"])
        .arg(format!("Scope={}", scope.wix_scope()))
        .arg("-D")
        .arg(format!("Version={version}"))
        .arg("-o")
        .arg(package)
        .arg(stage.join("caiso-access.wxs")))?;
    if scope == Scope::PerMachine {
        for (component, condition) in COMPONENT_CONDITIONS {
            run(Command::new("msibuild").arg(package).arg("-q").arg(format!(
                "UPDATE Component SET Condition = '({condition}) OR REMOVE~=\"ALL\"' WHERE Component = '{component}'"
            )))?;
        }
        // wixl places `Before=`/`After=` custom actions unreliably (the same source gave 4001,
        // 6401 and 1402, before the files are even there): the place is set here, by number.
        run(Command::new("msibuild").arg(package).arg("-q").arg(format!(
            "UPDATE InstallExecuteSequence SET Sequence = {REGISTER_SEQUENCE} WHERE Action = 'RegisterExtensionId'"
        )))?;
    }
    Ok(())
}

/// Installs, checks and uninstalls each package in `prefix`, which must be fresh: nothing of
/// caiso-access may be there before, and nothing may be after.
pub fn test(prefix: &Prefix) -> Result {
    step("Windows installers: install, doctor, start as the browsers do, uninstall (under Wine)");
    let drive = prefix.dir().join("drive_c");
    for scope in Scope::ALL {
        let files_before = files_under(&drive)?;
        let registry_before = registry_mentions(prefix)?;
        if !registry_before.is_empty() {
            return Err(format!(
                "the prefix is not fresh: the registry mentions caiso-access before installing ({registry_before:?})"
            ));
        }
        let package = scope.package();
        let started = std::time::Instant::now();
        msiexec(prefix, "/i", &package)?;
        eprintln!(
            "installed {} in {:.1} s",
            package.display(),
            started.elapsed().as_secs_f64()
        );
        let installed = check_installed(prefix, scope)?;
        // Without its property no package writes the metrics policy.
        if let Some(value) = reg_value(prefix, METRICS_POLICY_KEY, Some(METRICS_POLICY_VALUE))? {
            return Err(format!(
                "{scope:?} wrote the metrics policy ({value}) unasked"
            ));
        }
        check_values(prefix, &organisation_values(), Expect::Absent)?;
        check_doctor(prefix, scope, &installed)?;
        for browser in [Browser::Edge, Browser::Firefox] {
            check_browser_start(prefix, scope, browser, CHROMIUM_EXTENSION_ID)?;
        }
        if scope == Scope::PerMachine {
            for (key, name, data) in OTHER_POLICIES {
                reg_add(prefix, key, name, data)?;
            }
        }
        // A newer package replaces this one: one product left, the newer, still registered.
        // The per-machine one is installed with the metrics property, as IT would roll it out.
        let (newer, newer_version) = upgrade_package(scope)?;
        let metrics_folder = "C:\\Program Files\\windows_exporter\\textfile_inputs";
        let property = format!("{METRICS_PROPERTY}={metrics_folder}");
        match scope {
            Scope::PerMachine => {
                let mut properties = vec![property.clone()];
                properties.extend(ORGANISATION_PROPERTIES.iter().map(|p| p.to_string()));
                let properties: Vec<&str> = properties.iter().map(String::as_str).collect();
                msiexec_with(prefix, "/i", &newer, &properties)?;
            }
            Scope::PerUser => msiexec(prefix, "/i", &newer)?,
        }
        let policy = reg_value(prefix, METRICS_POLICY_KEY, Some(METRICS_POLICY_VALUE))?;
        let expected = (scope == Scope::PerMachine).then(|| metrics_folder.to_owned());
        if policy != expected {
            return Err(format!(
                "{scope:?}: the metrics policy is {policy:?} after installing with {property}, expected {expected:?}"
            ));
        }
        let products = products(prefix)?;
        if products.len() != 1 || !products[0].contains(&newer_version) {
            return Err(format!(
                "{scope:?}: after installing {newer_version} over {} the installed products are {products:?}",
                env!("CARGO_PKG_VERSION")
            ));
        }
        let upgraded = check_installed(prefix, scope)?;
        check_doctor(prefix, scope, &upgraded)?;
        if scope == Scope::PerMachine {
            check_organisation_extension(prefix, scope, &upgraded)?;
        }
        msiexec(prefix, "/x", &newer)?;
        if scope == Scope::PerMachine {
            // An EXTENSION_ID that is not an id stops the installation, which is rolled back:
            // the checks below find nothing of it left, on disk or in the registry.
            if msiexec_with(prefix, "/i", &newer, &["EXTENSION_ID=NOT-AN-EXTENSION-ID"]).is_ok() {
                return Err(
                    "the per-machine package installed with an EXTENSION_ID that is not an id"
                        .into(),
                );
            }
            if !crate::installer::products(prefix)?.is_empty() {
                return Err("a refused installation left a product registered".into());
            }
            // What the organisation had under the same keys is still there, untouched.
            for (key, name, data) in OTHER_POLICIES {
                let found = reg_value(prefix, key, Some(name))?;
                if found.as_deref() != Some(data) {
                    return Err(format!(
                        "uninstall changed {key}\\{name}: {found:?}, it was {data:?}"
                    ));
                }
                run(prefix.command("wine").args(["reg", "delete", key, "/f"]))?;
            }
        }
        let left_in_registry = registry_mentions(prefix)?;
        if !left_in_registry.is_empty() {
            return Err(format!(
                "{:?} uninstall left registry entries: {left_in_registry:?}",
                scope
            ));
        }
        // Windows Installer's own cache folder (there on every real Windows) may stay, empty.
        let installer_cache = drive.join("windows").join("Installer");
        let left_on_disk: Vec<PathBuf> = files_under(&drive)?
            .difference(&files_before)
            .filter(|path| **path != installer_cache)
            .cloned()
            .collect();
        if !left_on_disk.is_empty() {
            return Err(format!("{scope:?} uninstall left files: {left_on_disk:?}"));
        }
        if installed.unix.exists() {
            return Err(format!(
                "{scope:?} uninstall left the folder {}",
                installed.unix.display()
            ));
        }
        eprintln!("{scope:?}: installed, registered with every browser, uninstalled cleanly");
    }
    Ok(())
}

/// The package of `scope` as the next patch version would build it (the same files), for the
/// upgrade check; returns it and that version.
fn upgrade_package(scope: Scope) -> Result<(PathBuf, String)> {
    let mut parts: Vec<u64> = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    parts.resize(3, 0);
    parts[2] += 1;
    let version = format!("{}.{}.{}", parts[0], parts[1], parts[2]);
    let stage = root().join("target").join("installer");
    let package = stage.join(format!("upgrade-{}.msi", scope.wix_scope()));
    wixl(scope, &version, &package)?;
    Ok((package, version))
}

/// The names of the caiso-access products Windows lists as installed (Apps / Programs and
/// Features), for this user and for the machine.
fn products(prefix: &Prefix) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for hive in ["HKEY_CURRENT_USER", "HKEY_LOCAL_MACHINE"] {
        let output = prefix
            .command("wine")
            .args(["reg", "query"])
            .arg(format!(
                "{hive}\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
            ))
            .arg("/s")
            .output()
            .map_err(|e| format!("reg query: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
        found.extend(text.lines().filter_map(|line| {
            let (_, value) = line.split_once("DisplayName")?;
            let value = value.trim().strip_prefix("REG_SZ")?.trim();
            value.starts_with("caiso-access").then(|| value.to_owned())
        }));
    }
    Ok(found)
}

/// `msiexec <action> <package> /qn` (`/i` installs, `/x` removes), silently as IT runs it.
fn msiexec(prefix: &Prefix, action: &str, package: &Path) -> Result {
    msiexec_with(prefix, action, package, &[])
}

/// The same with public properties (`NAME=value`).
fn msiexec_with(prefix: &Prefix, action: &str, package: &Path, properties: &[&str]) -> Result {
    run(prefix
        .command("wine")
        .args(["msiexec", action])
        .arg(package)
        .args(properties)
        .arg("/qn"))
}

/// Where a package put the program.
struct Installed {
    /// The installation folder as Windows names it (`C:\...\caiso-access\`).
    windows: String,
    /// The same folder in the prefix, as this machine names it.
    unix: PathBuf,
}

impl Installed {
    fn exe(&self) -> String {
        format!("{}{EXE}", self.windows)
    }
}

/// The files, the installation key, and the browser keys' values.
fn check_installed(prefix: &Prefix, scope: Scope) -> Result<Installed> {
    let key = format!("{}\\Software\\caiso-access", scope.hive());
    let windows = reg_value(prefix, &key, Some("InstallDir"))?
        .ok_or_else(|| format!("{key} has no InstallDir after installing"))?;
    let expected_tail = match scope {
        Scope::PerUser => "\\appdata\\local\\programs\\caiso-access\\",
        Scope::PerMachine => "\\program files\\caiso-access\\",
    };
    if !windows.to_lowercase().ends_with(expected_tail) {
        return Err(format!(
            "{scope:?} installed into {windows}, expected a folder ending in {expected_tail}"
        ));
    }
    let unix = unix_path(prefix, &windows)?;
    for name in [EXE, "chromium.json", "firefox.json"] {
        if !unix.join(name).is_file() {
            return Err(format!("{scope:?}: {name} is not in {windows}"));
        }
    }
    for browser in Browser::ALL {
        let key = format!("{}\\{}", scope.hive(), browser_key(browser));
        let manifest = if browser == Browser::Firefox {
            "firefox.json"
        } else {
            "chromium.json"
        };
        let value = reg_value(prefix, &key, None)?;
        if value.as_deref() != Some(format!("{windows}{manifest}").as_str()) {
            return Err(format!("{key} is {value:?}, expected {windows}{manifest}"));
        }
    }
    let version = output(
        prefix
            .command("wine")
            .arg(format!("{windows}{EXE}"))
            .arg("--version"),
    )
    .ok_or("the installed program does not start (--version)")?;
    if !version.contains(env!("CARGO_PKG_VERSION")) {
        return Err(format!("the installed program says {version:?}"));
    }
    Ok(Installed { windows, unix })
}

/// `doctor` run from the installed program: every browser correctly registered, in the scope's
/// hive, and nothing wrong anywhere.
fn check_doctor(prefix: &Prefix, scope: Scope, installed: &Installed) -> Result {
    let output = prefix
        .command("wine")
        .arg(installed.exe())
        .arg("doctor")
        .current_dir(root())
        .output()
        .map_err(|e| format!("doctor: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    if !output.status.success() || text.contains("WRONG") {
        return Err(format!(
            "{scope:?}: doctor is not clean ({}):\n{text}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    for browser in Browser::ALL {
        let line = format!("  ok      {}", scope.doctor_place(&browser_key(browser)));
        if !text.lines().any(|l| l == line) {
            return Err(format!("{scope:?}: doctor does not show {line:?}:\n{text}"));
        }
    }
    Ok(())
}

/// Starts the host as `browser` would from the installed registration: the registry key's
/// manifest, its `"path"` taken relative to the manifest's folder, Chrome's and Edge's
/// `cmd.exe /d /c "<path>" <origin> --parent-window=0` or Firefox's direct start with the
/// manifest and the add-on id; then a `hello` must be answered in native messaging frames.
fn check_browser_start(prefix: &Prefix, scope: Scope, browser: Browser, id: &str) -> Result {
    let key = format!("{}\\{}", scope.hive(), browser_key(browser));
    let manifest_path = reg_value(prefix, &key, None)?.ok_or_else(|| format!("{key} is gone"))?;
    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(unix_path(prefix, &manifest_path)?)
            .map_err(|e| format!("{manifest_path}: {e}"))?,
    )
    .map_err(|e| format!("{manifest_path}: {e}"))?;
    let relative = manifest["path"]
        .as_str()
        .ok_or_else(|| format!("{manifest_path} has no \"path\""))?;
    let folder = manifest_path
        .rsplit_once('\\')
        .map(|(folder, _)| folder)
        .unwrap_or_default();
    let program = format!("{folder}\\{relative}");
    let mut command = prefix.command("wine");
    if browser == Browser::Firefox {
        command
            .arg(&program)
            .arg(&manifest_path)
            .arg(FIREFOX_ADDON_ID);
    } else {
        // Wine joins the arguments into one command line and quotes the path when it holds a
        // space, giving the line Chrome and Edge run: cmd.exe /d /c "<path>" <origin> ...
        command
            .args(["cmd", "/d", "/c"])
            .arg(&program)
            .arg(chromium_origin(id))
            .arg("--parent-window=0");
    }
    let mut child = command
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {program}: {e}"))?;
    let hello = serde_json::json!({
        "v": 1, "id": 1, "command": "hello",
        "args": {"protocol": 1, "client": "installer-test/1"},
    })
    .to_string();
    {
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        let length = u32::try_from(hello.len()).map_err(|e| e.to_string())?;
        stdin
            .write_all(&length.to_le_bytes())
            .and_then(|()| stdin.write_all(hello.as_bytes()))
            .map_err(|e| format!("writing hello: {e}"))?;
        // Closing stdin ends the session after the answer, as a browser closing the port does.
    }
    let mut answer = Vec::new();
    child
        .stdout
        .take()
        .ok_or("no stdout")?
        .read_to_end(&mut answer)
        .map_err(|e| format!("reading the answer: {e}"))?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let frame = answer
        .get(4..)
        .filter(|_| answer.len() >= 4)
        .and_then(|rest| {
            let length = u32::from_le_bytes([answer[0], answer[1], answer[2], answer[3]]);
            rest.get(..usize::try_from(length).ok()?)
        })
        .ok_or_else(|| {
            format!(
                "{browser:?} start of {program}: no answer frame ({status}); stdout {} bytes",
                answer.len()
            )
        })?;
    let reply: serde_json::Value =
        serde_json::from_slice(frame).map_err(|e| format!("answer is not JSON: {e}"))?;
    if reply["id"] != 1 || reply["ok"]["host_version"] != env!("CARGO_PKG_VERSION") {
        return Err(format!("{browser:?} start: hello answered {reply}"));
    }
    eprintln!(
        "{scope:?}: started as {} does, hello answered",
        browser.display_name()
    );
    Ok(())
}

/// The organisation's package of the extension, as the per-machine test installs it.
const ORGANISATION_ID: &str = "abcdefghijklmnopabcdefghijklmnop";
const ORGANISATION_UPDATE_URL: &str = "https://it.example.org/caiso-access/updates.xml";
const ORGANISATION_FIREFOX_URL: &str = "https://it.example.org/caiso-access/caiso-access.xpi";
/// The properties IT gives for it (README, "Roll-out for IT").
const ORGANISATION_PROPERTIES: [&str; 5] = [
    "EXTENSION_ID=abcdefghijklmnopabcdefghijklmnop",
    "EXTENSION_UPDATE_URL=https://it.example.org/caiso-access/updates.xml",
    "CHROME_EXTENSION=1",
    "EDGE_EXTENSION=1",
    "FIREFOX_EXTENSION_URL=https://it.example.org/caiso-access/caiso-access.xpi",
];

/// Policies of the organisation's other extensions under the keys the package writes to: the
/// package must leave them as they are.
const OTHER_POLICIES: [(&str, &str, &str); 3] = [
    (
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google\Chrome\ExtensionInstallForcelist",
        "1",
        "pppppppppppppppppppppppppppppppp;https://other.example.org/updates.xml",
    ),
    (
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google\Chrome\ExtensionSettings\pppppppppppppppppppppppppppppppp",
        "installation_mode",
        "normal_installed",
    ),
    (
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla\Firefox\ExtensionSettings\other@example.org",
        "installation_mode",
        "blocked",
    ),
];

/// The registry values the properties must give: the kit's force-install keys (the same its
/// `.reg` files set) and the host's machine policy naming the id.
fn organisation_values() -> Vec<RegKey> {
    let target = kit_policies::Target {
        id: ORGANISATION_ID,
        update_url: ORGANISATION_UPDATE_URL,
        firefox_install_url: ORGANISATION_FIREFOX_URL,
    };
    let mut keys = kit_policies::chromium_install(kit_policies::CHROME_KEY, &target);
    keys.extend(kit_policies::chromium_install(
        kit_policies::EDGE_KEY,
        &target,
    ));
    keys.extend(kit_policies::firefox_install_keys(ORGANISATION_FIREFOX_URL));
    keys.push(RegKey {
        path: r"SOFTWARE\Policies\caiso-access".into(),
        values: vec![(
            "AllowedExtensionIds".into(),
            RegValue::String(ORGANISATION_ID.into()),
        )],
    });
    keys
}

/// What `check_values` expects of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Present,
    Absent,
}

/// Each value of `keys` (below `HKEY_LOCAL_MACHINE`) is there with exactly its data, or is not.
fn check_values(prefix: &Prefix, keys: &[RegKey], expect: Expect) -> Result {
    for key in keys {
        let path = format!(r"HKEY_LOCAL_MACHINE\{}", key.path);
        for (name, value) in &key.values {
            let found = reg_data(prefix, &path, name)?;
            let wanted = match (expect, value) {
                (Expect::Absent, _) => None,
                (Expect::Present, RegValue::String(text)) => Some(("REG_SZ", text.clone())),
                (Expect::Present, RegValue::Dword(number)) => {
                    Some(("REG_DWORD", format!("0x{number:x}")))
                }
                (Expect::Present, RegValue::MultiString(text)) => {
                    Some(("REG_MULTI_SZ", text.clone()))
                }
            };
            let wanted = wanted.map(|(kind, data)| (kind.to_owned(), data));
            if found != wanted {
                return Err(format!("{path}\\{name} is {found:?}, expected {wanted:?}"));
            }
        }
    }
    Ok(())
}

/// With the organisation's properties: exactly the kit's values, the manifest beside the
/// program naming the id, and the host serving that extension for this (any) user.
fn check_organisation_extension(prefix: &Prefix, scope: Scope, installed: &Installed) -> Result {
    check_values(prefix, &organisation_values(), Expect::Present)?;
    let manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(installed.unix.join("chromium.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let origins = manifest["allowed_origins"].clone();
    let expected = serde_json::json!([
        chromium_origin(CHROMIUM_EXTENSION_ID),
        chromium_origin(ORGANISATION_ID)
    ]);
    if origins != expected {
        return Err(format!(
            "the installed chromium.json allows {origins}, expected {expected}"
        ));
    }
    check_browser_start(prefix, scope, Browser::Chrome, ORGANISATION_ID)
}

/// The kit's `.reg` files, imported with `regedit /s` as IT does: they set exactly the values
/// the per-machine package's properties set, and the settings the browsers read.
pub fn test_kit_registry_files(prefix: &Prefix) -> Result {
    step("roll-out kit: its .reg files imported with regedit (under Wine)");
    let target = kit_policies::Target {
        id: ORGANISATION_ID,
        update_url: ORGANISATION_UPDATE_URL,
        firefox_install_url: ORGANISATION_FIREFOX_URL,
    };
    let settings = kit_policies::default_settings(&crate::admx::extension_settings()?)?;
    let folder = prefix.dir().join("drive_c").join("kit");
    let mut imported = Vec::new();
    for (name, bytes) in kit_policies::files(&target, &settings)? {
        let Some(file) = name.strip_prefix("windows/") else {
            continue;
        };
        let path = folder.join(file);
        write(&path, &bytes)?;
        run(prefix
            .command("wine")
            .args(["regedit", "/S"])
            .arg(format!("C:\\kit\\{file}")))?;
        imported.push(file.to_owned());
    }
    let mut expected = organisation_values();
    expected.pop(); // the host's machine policy is the package's, not a browser policy
    check_values(prefix, &expected, Expect::Present)?;
    let chrome_policy = format!(
        r"{}\3rdparty\extensions\{ORGANISATION_ID}\policy",
        kit_policies::CHROME_KEY
    );
    let thresholds = caiso_shared::certificate::DEFAULT_THRESHOLDS;
    let mut settings_keys = vec![RegKey {
        path: chrome_policy.clone(),
        values: vec![
            ("environment".into(), RegValue::String("production".into())),
            ("redirectEnabled".into(), RegValue::Dword(1)),
        ],
    }];
    settings_keys.push(RegKey {
        path: format!(r"{chrome_policy}\thresholds"),
        values: thresholds
            .iter()
            .enumerate()
            .map(|(i, &n)| ((i + 1).to_string(), RegValue::Dword(n)))
            .collect(),
    });
    settings_keys.push(RegKey {
        path: format!(r"{}\3rdparty\Extensions", kit_policies::FIREFOX_KEY),
        values: vec![(
            caiso_shared::protocol::FIREFOX_ADDON_ID.into(),
            RegValue::MultiString(serde_json::to_string(&settings).map_err(|e| e.to_string())?),
        )],
    });
    check_values(prefix, &settings_keys, Expect::Present)?;
    eprintln!("imported {imported:?}: the values are the package's and the settings the kit's");
    for key in [
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Edge",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla",
    ] {
        run(prefix.command("wine").args(["reg", "delete", key, "/f"]))?;
    }
    let _ = fs::remove_dir_all(&folder);
    Ok(())
}

/// `wine reg add <key> /v <name> /t REG_SZ /d <data> /f`.
fn reg_add(prefix: &Prefix, key: &str, name: &str, data: &str) -> Result {
    run(prefix.command("wine").args([
        "reg", "add", key, "/v", name, "/t", "REG_SZ", "/d", data, "/f",
    ]))
}

/// What Wine's `reg query` prints for the value `name` of `key` (`None`: the default value),
/// carriage returns taken out; `Ok(None)` when the key or the value does not exist.
fn reg_query(prefix: &Prefix, key: &str, name: Option<&str>) -> Result<Option<String>> {
    let mut command = prefix.command("wine");
    command.args(["reg", "query", key]);
    match name {
        Some(name) => command.args(["/v", name]),
        None => command.arg("/ve"),
    };
    let output = command
        .output()
        .map_err(|e| format!("reg query {key}: {e}"))?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).replace('\r', "")))
}

/// A named registry value's type and data as `reg query` shows them (`REG_DWORD` as `0x1e`,
/// `REG_MULTI_SZ` with its separators taken off); `Ok(None)` when it does not exist.
fn reg_data(prefix: &Prefix, key: &str, name: &str) -> Result<Option<(String, String)>> {
    let Some(text) = reg_query(prefix, key, Some(name))? else {
        return Ok(None);
    };
    Ok(text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix(name)?;
        let mut parts = rest.trim_start().splitn(2, char::is_whitespace);
        let kind = parts.next()?.to_owned();
        if !kind.starts_with("REG_") {
            return None;
        }
        let data = parts.next().unwrap_or("").trim().to_owned();
        let data = if kind == "REG_MULTI_SZ" {
            data.trim_end_matches("\\0").to_owned()
        } else {
            data
        };
        Some((kind, data))
    }))
}

/// A string registry value (`None`: the default value); `Ok(None)` when the key or value does
/// not exist.
fn reg_value(prefix: &Prefix, key: &str, name: Option<&str>) -> Result<Option<String>> {
    Ok(reg_query(prefix, key, name)?.and_then(|text| {
        text.lines().find_map(|line| {
            line.split_once("REG_SZ")
                .map(|(_, value)| value.trim().to_owned())
        })
    }))
}

/// Every line of the current user's and the machine's registry that mentions caiso-access.
fn registry_mentions(prefix: &Prefix) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for hive in ["HKEY_CURRENT_USER", "HKEY_LOCAL_MACHINE"] {
        let file = prefix.dir().join(format!("export-{hive}.reg"));
        let windows_file = format!("Z:{}", file.display()).replace('/', "\\");
        run(prefix
            .command("wine")
            .args(["reg", "export", hive])
            .arg(&windows_file)
            .arg("/y"))?;
        let bytes = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let _ = fs::remove_file(&file);
        let text = decode_reg_file(&bytes);
        let mut section = String::new();
        for line in text.lines() {
            if line.starts_with('[') {
                section = line.to_owned();
            }
            if line.to_lowercase().contains("caiso") {
                found.push(format!("{section} {line}"));
            }
        }
    }
    Ok(found)
}

/// `reg export` writes UTF-16 (little-endian, with a byte-order mark).
fn decode_reg_file(bytes: &[u8]) -> String {
    match bytes {
        [0xff, 0xfe, rest @ ..] => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The prefix's file for a Windows path on drive C.
fn unix_path(prefix: &Prefix, windows: &str) -> Result<PathBuf> {
    let rest = windows
        .strip_prefix("C:\\")
        .or_else(|| windows.strip_prefix("c:\\"))
        .ok_or_else(|| format!("{windows} is not on drive C"))?;
    let mut path = prefix.dir().join("drive_c");
    for part in rest.split('\\').filter(|p| !p.is_empty()) {
        // Wine keeps the case it created; Windows names are case-insensitive.
        let exact = path.join(part);
        path = if exact.exists() {
            exact
        } else {
            fs::read_dir(&path)
                .ok()
                .and_then(|entries| {
                    entries.flatten().map(|e| e.path()).find(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case(part))
                    })
                })
                .unwrap_or(exact)
        };
    }
    Ok(path)
}

//! Registers the host with the browsers, per user and without administrator rights, and
//! diagnoses registrations (`install`, `uninstall`, `doctor`).
//!
//! Linux and macOS: a host manifest file in each browser's per-user folder. Windows: the manifest
//! file in `%LOCALAPPDATA%\caiso-access\native-messaging\` and, per browser, a registry key under
//! `HKEY_CURRENT_USER` whose default value is that file's path. The places are data of each
//! operating system ([`places`]), kept apart from the file and registry work so that every
//! platform's table is tested on every platform.

use std::path::{Path, PathBuf};

use caiso_shared::protocol::{CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME};
use serde_json::{Value, json};

use crate::atomic;
use crate::caller::chromium_origin;

/// The browsers caiso-access registers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Browser {
    /// Google Chrome.
    Chrome,
    /// Chromium.
    Chromium,
    /// Microsoft Edge.
    Edge,
    /// Brave.
    Brave,
    /// Mozilla Firefox.
    Firefox,
}

impl Browser {
    /// Every supported browser.
    pub const ALL: [Browser; 5] = [
        Browser::Chrome,
        Browser::Chromium,
        Browser::Edge,
        Browser::Brave,
        Browser::Firefox,
    ];

    /// The name used on the command line.
    pub fn id(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Chromium => "chromium",
            Browser::Edge => "edge",
            Browser::Brave => "brave",
            Browser::Firefox => "firefox",
        }
    }

    /// Parses a command-line name.
    pub fn from_id(id: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.id() == id)
    }

    /// The name people use.
    pub fn display_name(self) -> &'static str {
        match self {
            Browser::Chrome => "Google Chrome",
            Browser::Chromium => "Chromium",
            Browser::Edge => "Microsoft Edge",
            Browser::Brave => "Brave",
            Browser::Firefox => "Firefox",
        }
    }

    fn is_firefox(self) -> bool {
        self == Browser::Firefox
    }
}

/// An operating system's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux and other XDG systems.
    Linux,
    /// macOS.
    Mac,
    /// Windows.
    Windows,
}

impl Os {
    /// The system this build runs on.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::Mac
        } else {
            Os::Linux
        }
    }
}

/// The user folders the places depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirs {
    /// The home folder.
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME` when set (Linux).
    pub xdg_config_home: Option<PathBuf>,
    /// `%LOCALAPPDATA%` (Windows).
    pub local_app_data: Option<PathBuf>,
}

impl UserDirs {
    /// Reads them from the environment.
    pub fn from_env() -> Result<UserDirs, String> {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME")
            .or_else(|| var("USERPROFILE"))
            .ok_or("cannot find the home folder (HOME / USERPROFILE unset)")?;
        Ok(UserDirs {
            home,
            xdg_config_home: var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()),
            local_app_data: var("LOCALAPPDATA"),
        })
    }
}

/// Where a browser looks for host registrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A folder holding `<host name>.json`.
    Folder {
        /// The folder.
        dir: PathBuf,
        /// Whether caiso-access writes here (the per-user place) or only checks it (system-wide
        /// and sandboxed-browser places).
        ours: bool,
    },
    /// A registry key whose default value is a manifest path (Windows).
    RegistryKey {
        /// `HKEY_CURRENT_USER` or `HKEY_LOCAL_MACHINE`.
        hive: &'static str,
        /// The key path below the hive.
        key: String,
        /// Whether caiso-access writes here.
        ours: bool,
    },
}

impl Place {
    /// Whether caiso-access writes this place.
    pub fn ours(&self) -> bool {
        match self {
            Place::Folder { ours, .. } | Place::RegistryKey { ours, .. } => *ours,
        }
    }

    /// The place as shown to people.
    pub fn describe(&self) -> String {
        match self {
            Place::Folder { dir, .. } => {
                dir.join(format!("{HOST_NAME}.json")).display().to_string()
            }
            Place::RegistryKey { hive, key, .. } => format!("{hive}\\{key}"),
        }
    }
}

/// Every place `browser` looks on `os`, the per-user place caiso-access writes first.
pub fn places(browser: Browser, os: Os, dirs: &UserDirs) -> Vec<Place> {
    let home = &dirs.home;
    let ours = |dir: PathBuf| Place::Folder { dir, ours: true };
    let theirs = |dir: PathBuf| Place::Folder { dir, ours: false };
    match os {
        Os::Linux => {
            let config = dirs
                .xdg_config_home
                .clone()
                .unwrap_or_else(|| home.join(".config"));
            match browser {
                Browser::Chrome => vec![
                    ours(config.join("google-chrome/NativeMessagingHosts")),
                    theirs("/etc/opt/chrome/native-messaging-hosts".into()),
                    theirs(home.join(".var/app/com.google.Chrome/config/google-chrome/NativeMessagingHosts")),
                ],
                Browser::Chromium => vec![
                    ours(config.join("chromium/NativeMessagingHosts")),
                    theirs("/etc/chromium/native-messaging-hosts".into()),
                    theirs(home.join("snap/chromium/common/chromium/NativeMessagingHosts")),
                    theirs(home.join(".var/app/org.chromium.Chromium/config/chromium/NativeMessagingHosts")),
                ],
                Browser::Edge => vec![
                    ours(config.join("microsoft-edge/NativeMessagingHosts")),
                    theirs("/etc/opt/edge/native-messaging-hosts".into()),
                    theirs(home.join(".var/app/com.microsoft.Edge/config/microsoft-edge/NativeMessagingHosts")),
                ],
                Browser::Brave => vec![
                    ours(config.join("BraveSoftware/Brave-Browser/NativeMessagingHosts")),
                    theirs("/etc/opt/chrome/native-messaging-hosts".into()),
                    theirs(home.join("snap/brave/current/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts")),
                ],
                Browser::Firefox => vec![
                    ours(home.join(".mozilla/native-messaging-hosts")),
                    theirs("/usr/lib/mozilla/native-messaging-hosts".into()),
                    theirs("/usr/lib64/mozilla/native-messaging-hosts".into()),
                    theirs(home.join("snap/firefox/common/.mozilla/native-messaging-hosts")),
                    theirs(home.join(".var/app/org.mozilla.firefox/.mozilla/native-messaging-hosts")),
                ],
            }
        }
        Os::Mac => {
            let support = home.join("Library/Application Support");
            let (user, system) = match browser {
                Browser::Chrome => (
                    "Google/Chrome",
                    "/Library/Google/Chrome/NativeMessagingHosts",
                ),
                Browser::Chromium => (
                    "Chromium",
                    "/Library/Application Support/Chromium/NativeMessagingHosts",
                ),
                Browser::Edge => (
                    "Microsoft Edge",
                    "/Library/Microsoft/Edge/NativeMessagingHosts",
                ),
                Browser::Brave => (
                    "BraveSoftware/Brave-Browser",
                    "/Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts",
                ),
                Browser::Firefox => (
                    "Mozilla",
                    "/Library/Application Support/Mozilla/NativeMessagingHosts",
                ),
            };
            vec![
                ours(support.join(user).join("NativeMessagingHosts")),
                theirs(system.into()),
            ]
        }
        Os::Windows => {
            let vendor = match browser {
                Browser::Chrome => "Google\\Chrome",
                Browser::Chromium => "Chromium",
                Browser::Edge => "Microsoft\\Edge",
                Browser::Brave => "BraveSoftware\\Brave-Browser",
                Browser::Firefox => "Mozilla",
            };
            let key = format!("Software\\{vendor}\\NativeMessagingHosts\\{HOST_NAME}");
            vec![
                Place::RegistryKey {
                    hive: "HKEY_CURRENT_USER",
                    key: key.clone(),
                    ours: true,
                },
                Place::RegistryKey {
                    hive: "HKEY_LOCAL_MACHINE",
                    key,
                    ours: false,
                },
            ]
        }
    }
}

/// Where the manifest files live on Windows (the registry points at them).
pub fn windows_manifest(dirs: &UserDirs, browser: Browser) -> PathBuf {
    let base = dirs
        .local_app_data
        .clone()
        .unwrap_or_else(|| dirs.home.join("AppData").join("Local"));
    let name = if browser.is_firefox() {
        "firefox.json"
    } else {
        "chromium.json"
    };
    base.join("caiso-access")
        .join("native-messaging")
        .join(name)
}

/// The host manifest for `browser`, pointing at `host`.
pub fn manifest(browser: Browser, host: &Path, extra_callers: &[String]) -> Value {
    let mut manifest = json!({
        "name": HOST_NAME,
        "description": "caiso-access native host (independent project, not affiliated with the California ISO)",
        "path": host.display().to_string(),
        "type": "stdio",
    });
    if browser.is_firefox() {
        let mut ids = vec![FIREFOX_ADDON_ID.to_owned()];
        ids.extend(
            extra_callers
                .iter()
                .filter(|c| !c.starts_with("chrome-extension://"))
                .cloned(),
        );
        manifest["allowed_extensions"] = json!(ids);
    } else {
        let mut origins = vec![chromium_origin(CHROMIUM_EXTENSION_ID)];
        origins.extend(
            extra_callers
                .iter()
                .filter(|c| c.starts_with("chrome-extension://"))
                .cloned(),
        );
        manifest["allowed_origins"] = json!(origins);
    }
    manifest
}

/// What was found at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The place.
    pub place: String,
    /// Whether caiso-access writes there.
    pub ours: bool,
    /// The verdict.
    pub verdict: Verdict,
}

/// The verdict on one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A correct registration of this host.
    Ok,
    /// Nothing registered there.
    Absent,
    /// Something is registered there, wrongly: each entry says what and how to fix it.
    Wrong(Vec<String>),
}

/// Checks a manifest's content against what `browser` needs to start `host`.
pub fn check_manifest(text: &str, browser: Browser, host: &Path) -> Vec<String> {
    let mut wrong = Vec::new();
    let manifest: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not valid JSON ({e}): run `caiso-access install`")],
    };
    if manifest["name"] != HOST_NAME {
        wrong.push(format!("\"name\" must be \"{HOST_NAME}\""));
    }
    if manifest["type"] != "stdio" {
        wrong.push("\"type\" must be \"stdio\"".into());
    }
    match manifest["path"].as_str() {
        None => wrong.push("\"path\" is missing".into()),
        Some(path) => {
            let path = Path::new(path);
            if !path.is_absolute() {
                wrong.push(format!("\"path\" {} is not absolute", path.display()));
            } else if !path.is_file() {
                wrong.push(format!(
                    "\"path\" {} does not exist (moved or deleted?): run `caiso-access install` from the new place",
                    path.display()
                ));
            } else if !is_executable(path) {
                wrong.push(format!("{} is not executable (chmod +x)", path.display()));
            } else if !same_file(path, host) {
                wrong.push(format!(
                    "\"path\" points to {}, not to this caiso-access ({}): run `caiso-access install` with the one you use",
                    path.display(),
                    host.display()
                ));
            }
        }
    }
    let (key, expected) = if browser.is_firefox() {
        ("allowed_extensions", FIREFOX_ADDON_ID.to_owned())
    } else {
        ("allowed_origins", chromium_origin(CHROMIUM_EXTENSION_ID))
    };
    let listed = manifest[key]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == expected.as_str()));
    if !listed {
        wrong.push(format!("\"{key}\" does not list {expected}"));
    }
    wrong
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Whether a browser seems to be installed for this user: its per-user profile folder exists.
pub fn browser_present(browser: Browser, os: Os, dirs: &UserDirs) -> bool {
    match os {
        Os::Windows => true,
        _ => places(browser, os, dirs).iter().any(|p| match p {
            Place::Folder { dir, ours: true } => dir.parent().is_some_and(Path::is_dir),
            _ => false,
        }),
    }
}

/// Writes the registration for `browser`; returns where. `user_data_dir` overrides the place for
/// a Chromium-family browser started with `--user-data-dir`.
pub fn install(
    browser: Browser,
    os: Os,
    dirs: &UserDirs,
    host: &Path,
    extra_callers: &[String],
    user_data_dir: Option<&Path>,
) -> Result<String, String> {
    let mut text = serde_json::to_vec_pretty(&manifest(browser, host, extra_callers))
        .map_err(|e| e.to_string())?;
    text.push(b'\n');
    if let Some(dir) = user_data_dir {
        let path = dir
            .join("NativeMessagingHosts")
            .join(format!("{HOST_NAME}.json"));
        write_public(&path, &text)?;
        return Ok(path.display().to_string());
    }
    match places(browser, os, dirs).into_iter().find(Place::ours) {
        Some(Place::Folder { dir, .. }) => {
            let path = dir.join(format!("{HOST_NAME}.json"));
            write_public(&path, &text)?;
            Ok(path.display().to_string())
        }
        Some(Place::RegistryKey { key, .. }) => {
            let path = windows_manifest(dirs, browser);
            write_public(&path, &text)?;
            registry::set_default(&key, &path)?;
            Ok(format!("HKEY_CURRENT_USER\\{key} -> {}", path.display()))
        }
        None => Err(format!("no per-user place for {}", browser.display_name())),
    }
}

/// Removes the registration for `browser`; returns what was removed.
pub fn uninstall(
    browser: Browser,
    os: Os,
    dirs: &UserDirs,
    user_data_dir: Option<&Path>,
) -> Result<Vec<String>, String> {
    let mut removed = Vec::new();
    if let Some(dir) = user_data_dir {
        remove_file(
            &dir.join("NativeMessagingHosts")
                .join(format!("{HOST_NAME}.json")),
            &mut removed,
        )?;
        return Ok(removed);
    }
    for place in places(browser, os, dirs).into_iter().filter(Place::ours) {
        match place {
            Place::Folder { dir, .. } => {
                remove_file(&dir.join(format!("{HOST_NAME}.json")), &mut removed)?;
            }
            Place::RegistryKey { key, .. } => {
                if registry::delete(&key)? {
                    removed.push(format!("HKEY_CURRENT_USER\\{key}"));
                }
                remove_file(&windows_manifest(dirs, browser), &mut removed)?;
            }
        }
    }
    Ok(removed)
}

fn remove_file(path: &Path, removed: &mut Vec<String>) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            removed.push(path.display().to_string());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

/// Checks every place `browser` looks.
pub fn doctor(
    browser: Browser,
    os: Os,
    dirs: &UserDirs,
    host: &Path,
    user_data_dir: Option<&Path>,
) -> Vec<Finding> {
    let mut places = places(browser, os, dirs);
    if let Some(dir) = user_data_dir {
        places.insert(
            0,
            Place::Folder {
                dir: dir.join("NativeMessagingHosts"),
                ours: true,
            },
        );
    }
    places
        .into_iter()
        .map(|place| {
            let verdict = match &place {
                Place::Folder { dir, .. } => {
                    check_file(&dir.join(format!("{HOST_NAME}.json")), browser, host)
                }
                Place::RegistryKey { hive, key, .. } => match registry::get_default(hive, key) {
                    Ok(None) => Verdict::Absent,
                    Ok(Some(path)) => check_file(Path::new(&path), browser, host),
                    Err(e) => Verdict::Wrong(vec![e]),
                },
            };
            Finding {
                place: place.describe(),
                ours: place.ours(),
                verdict,
            }
        })
        .collect()
}

fn check_file(path: &Path, browser: Browser, host: &Path) -> Verdict {
    match std::fs::read_to_string(path) {
        Ok(text) => match check_manifest(&text, browser, host) {
            wrong if wrong.is_empty() => Verdict::Ok,
            wrong => Verdict::Wrong(wrong),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Verdict::Absent,
        Err(e) => Verdict::Wrong(vec![format!("cannot read {}: {e}", path.display())]),
    }
}

/// Host manifests must be readable by the browser (the same user): 0600 through the atomic
/// writer is fine.
fn write_public(path: &Path, text: &[u8]) -> Result<(), String> {
    atomic::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(windows)]
mod registry {
    //! Per-user registry entries (HKEY_CURRENT_USER needs no administrator rights).
    use std::path::Path;
    use winreg::RegKey;
    use winreg::enums::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE};

    pub fn set_default(key: &str, manifest: &Path) -> Result<(), String> {
        let (entry, _) = RegKey::predef(HKEY_CURRENT_USER)
            .create_subkey(key)
            .map_err(|e| format!("cannot create HKEY_CURRENT_USER\\{key}: {e}"))?;
        entry
            .set_value("", &manifest.display().to_string())
            .map_err(|e| format!("cannot set HKEY_CURRENT_USER\\{key}: {e}"))
    }

    pub fn delete(key: &str) -> Result<bool, String> {
        match RegKey::predef(HKEY_CURRENT_USER).delete_subkey_all(key) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(format!("cannot delete HKEY_CURRENT_USER\\{key}: {e}")),
        }
    }

    pub fn get_default(hive: &str, key: &str) -> Result<Option<String>, String> {
        let root = if hive == "HKEY_LOCAL_MACHINE" {
            HKEY_LOCAL_MACHINE
        } else {
            HKEY_CURRENT_USER
        };
        match RegKey::predef(root).open_subkey(key) {
            Ok(entry) => entry
                .get_value::<String, _>("")
                .map(Some)
                .map_err(|e| format!("{hive}\\{key} has no usable default value: {e}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot open {hive}\\{key}: {e}")),
        }
    }
}

#[cfg(not(windows))]
mod registry {
    //! There is no registry off Windows; these are never reached there (the places of other
    //! systems are folders).
    use std::path::Path;

    pub fn set_default(_key: &str, _manifest: &Path) -> Result<(), String> {
        Err("the Windows registry exists only on Windows".into())
    }

    pub fn delete(_key: &str) -> Result<bool, String> {
        Ok(false)
    }

    pub fn get_default(_hive: &str, _key: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(home: &str) -> UserDirs {
        UserDirs {
            home: home.into(),
            xdg_config_home: None,
            local_app_data: Some("C:\\Users\\u\\AppData\\Local".into()),
        }
    }

    #[test]
    fn per_user_places_for_every_system() {
        let d = dirs("/home/u");
        let first = |b, os| {
            places(b, os, &d)
                .into_iter()
                .find(Place::ours)
                .map(|p| p.describe())
        };
        let cases = [
            (
                Browser::Chrome,
                Os::Linux,
                "/home/u/.config/google-chrome/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Chromium,
                Os::Linux,
                "/home/u/.config/chromium/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Edge,
                Os::Linux,
                "/home/u/.config/microsoft-edge/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Brave,
                Os::Linux,
                "/home/u/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Firefox,
                Os::Linux,
                "/home/u/.mozilla/native-messaging-hosts/caiso_access.json",
            ),
            (
                Browser::Chrome,
                Os::Mac,
                "/home/u/Library/Application Support/Google/Chrome/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Edge,
                Os::Mac,
                "/home/u/Library/Application Support/Microsoft Edge/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Firefox,
                Os::Mac,
                "/home/u/Library/Application Support/Mozilla/NativeMessagingHosts/caiso_access.json",
            ),
            (
                Browser::Edge,
                Os::Windows,
                "HKEY_CURRENT_USER\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\caiso_access",
            ),
            (
                Browser::Chrome,
                Os::Windows,
                "HKEY_CURRENT_USER\\Software\\Google\\Chrome\\NativeMessagingHosts\\caiso_access",
            ),
            (
                Browser::Firefox,
                Os::Windows,
                "HKEY_CURRENT_USER\\Software\\Mozilla\\NativeMessagingHosts\\caiso_access",
            ),
        ];
        for (browser, os, expected) in cases {
            assert_eq!(
                first(browser, os).as_deref(),
                Some(expected),
                "{browser:?} on {os:?}"
            );
        }
        let xdg = UserDirs {
            xdg_config_home: Some("/cfg".into()),
            ..d.clone()
        };
        assert_eq!(
            places(Browser::Chromium, Os::Linux, &xdg)[0].describe(),
            "/cfg/chromium/NativeMessagingHosts/caiso_access.json"
        );
        assert!(
            windows_manifest(&d, Browser::Edge)
                .ends_with("caiso-access/native-messaging/chromium.json")
                || windows_manifest(&d, Browser::Edge)
                    .to_string_lossy()
                    .ends_with("native-messaging/chromium.json")
        );
    }

    #[test]
    fn manifests_name_only_our_extension() {
        let host = Path::new("/opt/caiso-access");
        let chromium = manifest(Browser::Edge, host, &[]);
        assert_eq!(
            chromium["allowed_origins"],
            json!([chromium_origin(CHROMIUM_EXTENSION_ID)])
        );
        assert!(chromium.get("allowed_extensions").is_none());
        let firefox = manifest(Browser::Firefox, host, &["corp@example.org".into()]);
        assert_eq!(
            firefox["allowed_extensions"],
            json!([FIREFOX_ADDON_ID, "corp@example.org"])
        );
        assert_eq!(firefox["path"], "/opt/caiso-access");
    }
}

//! Where each browser looks for host registrations on each operating system: data, tested on
//! every platform.

use std::path::{Path, PathBuf};

use caiso_shared::protocol::HOST_NAME;

use super::{Browser, Os, UserDirs};

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
        /// The registry view (`HKEY_LOCAL_MACHINE\Software` has a 32-bit and a 64-bit one;
        /// Chrome reads both); `None` for `HKEY_CURRENT_USER`, which has one.
        view: Option<RegistryView>,
        /// Whether caiso-access writes here.
        ours: bool,
    },
}

/// One of the two views of `HKEY_LOCAL_MACHINE\Software` on 64-bit Windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryView {
    /// What 32-bit programs see (`WOW6432Node`).
    Bits32,
    /// What 64-bit programs see.
    Bits64,
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
            Place::RegistryKey {
                hive, key, view, ..
            } => match view {
                None => format!("{hive}\\{key}"),
                Some(RegistryView::Bits32) => format!("{hive}\\{key} (32-bit view)"),
                Some(RegistryView::Bits64) => format!("{hive}\\{key} (64-bit view)"),
            },
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
            // Chromium-family browsers read HKCU, then HKLM's 32-bit view, then its 64-bit one.
            vec![
                Place::RegistryKey {
                    hive: "HKEY_CURRENT_USER",
                    key: key.clone(),
                    view: None,
                    ours: true,
                },
                Place::RegistryKey {
                    hive: "HKEY_LOCAL_MACHINE",
                    key: key.clone(),
                    view: Some(RegistryView::Bits32),
                    ours: false,
                },
                Place::RegistryKey {
                    hive: "HKEY_LOCAL_MACHINE",
                    key,
                    view: Some(RegistryView::Bits64),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registration::test_dirs::dirs;

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
        // Another system's folders built on Windows join with `\`: compare the paths as such.
        let shown = |os: Os, place: String| match os {
            Os::Windows => place,
            _ => place.replace('\\', "/"),
        };
        for (browser, os, expected) in cases {
            assert_eq!(
                first(browser, os).map(|p| shown(os, p)).as_deref(),
                Some(expected),
                "{browser:?} on {os:?}"
            );
        }
        let xdg = UserDirs {
            xdg_config_home: Some("/cfg".into()),
            ..d.clone()
        };
        assert_eq!(
            shown(
                Os::Linux,
                places(Browser::Chromium, Os::Linux, &xdg)[0].describe()
            ),
            "/cfg/chromium/NativeMessagingHosts/caiso_access.json"
        );
        let windows = places(Browser::Chrome, Os::Windows, &d);
        let described: Vec<String> = windows.iter().map(Place::describe).collect();
        assert_eq!(
            described[1..],
            [
                "HKEY_LOCAL_MACHINE\\Software\\Google\\Chrome\\NativeMessagingHosts\\caiso_access (32-bit view)",
                "HKEY_LOCAL_MACHINE\\Software\\Google\\Chrome\\NativeMessagingHosts\\caiso_access (64-bit view)",
            ],
            "Chrome reads both views of HKLM"
        );
        assert!(
            windows_manifest(&d, Browser::Edge)
                .ends_with("caiso-access/native-messaging/chromium.json")
                || windows_manifest(&d, Browser::Edge)
                    .to_string_lossy()
                    .ends_with("native-messaging/chromium.json")
        );
    }
}

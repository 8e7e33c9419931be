//! Registers the host with the browsers, per user and without administrator rights, and
//! diagnoses registrations (`install`, `uninstall`, `doctor`).
//!
//! Linux and macOS: a host manifest file in each browser's per-user folder. Windows: the manifest
//! file in `%LOCALAPPDATA%\caiso-access\native-messaging\` and, per browser, a registry key under
//! `HKEY_CURRENT_USER` whose default value is that file's path. The places are data of each
//! operating system ([`places`]), kept apart from the file and registry work ([`install`],
//! [`registry`]) so that every platform's table is tested on every platform; what a manifest
//! must say is [`manifest`].

pub mod install;
pub mod manifest;
pub mod places;
mod registry;

use std::path::PathBuf;

use crate::error::{HostError, HostResult};

pub use install::{doctor, install, package_manifests, uninstall, write_package_manifests};
pub use manifest::{Finding, Verdict};
pub use places::{Place, RegistryView, browser_present, places};

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
    pub fn from_env() -> HostResult<UserDirs> {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = var("HOME").or_else(|| var("USERPROFILE")).ok_or_else(|| {
            HostError::Registration("cannot find the home folder (HOME / USERPROFILE unset)".into())
        })?;
        Ok(UserDirs {
            home,
            xdg_config_home: var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()),
            local_app_data: var("LOCALAPPDATA"),
        })
    }
}

#[cfg(test)]
pub(crate) mod test_dirs {
    use super::UserDirs;

    pub(crate) fn dirs(home: &str) -> UserDirs {
        UserDirs {
            home: home.into(),
            xdg_config_home: None,
            local_app_data: Some("C:\\Users\\u\\AppData\\Local".into()),
        }
    }
}

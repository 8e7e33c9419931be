//! Who started the host. A browser passes the caller on the command line: Chromium-family
//! browsers the extension's origin (`chrome-extension://<id>/`, on Windows followed by
//! `--parent-window=<n>`), Firefox the host manifest's path and the add-on id. The host serves
//! only its own extension (and callers the administrator added in the configuration).

use caiso_shared::protocol::{CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, chromium_origin};

/// How the process was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// By a Chromium-family browser for this extension origin.
    Chromium {
        /// `chrome-extension://<id>/`.
        origin: String,
    },
    /// By Firefox for this add-on id.
    Firefox {
        /// The add-on id.
        addon_id: String,
    },
    /// By a person (or a script): the command-line tool.
    CommandLine,
}

impl Invocation {
    /// Reads the command line (without the program name).
    pub fn from_args(args: &[String]) -> Invocation {
        match args {
            [origin, rest @ ..]
                if origin.starts_with("chrome-extension://")
                    && rest.iter().all(|a| a.starts_with("--parent-window=")) =>
            {
                Invocation::Chromium {
                    origin: origin.clone(),
                }
            }
            [manifest, addon_id]
                if manifest.ends_with(".json") && looks_like_addon_id(addon_id) =>
            {
                Invocation::Firefox {
                    addon_id: addon_id.clone(),
                }
            }
            _ => Invocation::CommandLine,
        }
    }

    /// Whether this browser caller may use the host. `extra` lists further allowed origins or
    /// add-on ids from the host-side configuration.
    pub fn is_allowed(&self, extra: &[String]) -> bool {
        match self {
            Invocation::Chromium { origin } => {
                origin == &chromium_origin(CHROMIUM_EXTENSION_ID) || extra.contains(origin)
            }
            Invocation::Firefox { addon_id } => {
                addon_id == FIREFOX_ADDON_ID || extra.contains(addon_id)
            }
            Invocation::CommandLine => false,
        }
    }

    /// The caller as shown in logs.
    pub fn describe(&self) -> String {
        match self {
            Invocation::Chromium { origin } => origin.clone(),
            Invocation::Firefox { addon_id } => format!("firefox add-on {addon_id}"),
            Invocation::CommandLine => "command line".into(),
        }
    }
}

fn looks_like_addon_id(id: &str) -> bool {
    (id.starts_with('{') && id.ends_with('}')) || (id.contains('@') && !id.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn callers_are_recognised_and_checked() {
        let ours = chromium_origin(CHROMIUM_EXTENSION_ID);
        let chromium = Invocation::from_args(&args(&[&ours]));
        assert!(chromium.is_allowed(&[]));
        let windows = Invocation::from_args(&args(&[&ours, "--parent-window=0"]));
        assert_eq!(windows, chromium);
        let firefox = Invocation::from_args(&args(&[
            "/home/u/.mozilla/native-messaging-hosts/caiso_access.json",
            FIREFOX_ADDON_ID,
        ]));
        assert!(firefox.is_allowed(&[]));

        let stranger = Invocation::from_args(&args(&[
            "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/",
        ]));
        assert!(matches!(stranger, Invocation::Chromium { .. }));
        assert!(!stranger.is_allowed(&[]));
        assert!(stranger.is_allowed(&args(&[
            "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
        ])));
        let other_addon =
            Invocation::from_args(&args(&["/x/caiso_access.json", "evil@example.org"]));
        assert!(!other_addon.is_allowed(&[]));

        for cli in [
            &["status"][..],
            &["import", "a.json"],
            &[],
            &["chrome-extension://x/", "status"],
        ] {
            assert_eq!(
                Invocation::from_args(&args(cli)),
                Invocation::CommandLine,
                "{cli:?}"
            );
        }
    }

    /// The ids the host trusts are the ones the extension really has: Chromium derives the id
    /// from the manifest's `key` (SHA-256 of the public key, first 32 hex digits spelled a-p).
    #[test]
    fn trusted_ids_match_the_extension_manifest() {
        use base64::Engine;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../manifest.json");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("manifest")).expect("json");
        let key = base64::engine::general_purpose::STANDARD
            .decode(manifest["key"].as_str().expect("key"))
            .expect("base64");
        let digest = ring::digest::digest(&ring::digest::SHA256, &key);
        let id: String = digest.as_ref()[..16]
            .iter()
            .flat_map(|b| [b >> 4, b & 0x0f])
            .map(|n| char::from(b'a' + n))
            .collect();
        assert_eq!(id, CHROMIUM_EXTENSION_ID);
        assert_eq!(
            manifest["browser_specific_settings"]["gecko"]["id"],
            FIREFOX_ADDON_ID
        );
    }
}

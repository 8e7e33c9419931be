//! `caiso_access_host`: the core of the caiso-access native host and its two front ends.
//!
//! The `caiso-access` binary (`main.rs`) only chooses a front end: started by a browser it runs
//! [`nm`] (native messaging on stdin/stdout; stdout carries protocol frames only, which is why
//! printing to stdout is denied in this crate), started by a person it runs [`cli`]. Both front
//! ends are thin: they parse, call the core, and turn its typed results and [`HostError`]s into
//! protocol answers ([`nm::dispatch`]) or words and exit codes ([`cli`]).
//!
//! The rooms, each depending only on those below it:
//!
//! | room | owns |
//! |---|---|
//! | [`cli`] | argument parsing, one file per command group, wording and exit codes |
//! | [`nm`] | caller check, framing, the session loop, dispatch, protocol errors |
//! | [`actions`] | the use cases both front ends call: workspace, import, renewal steps, settings |
//! | [`diagnose`] | connectivity stages and conclusions, the support report |
//! | [`metrics`] | the Prometheus text format of a status report, the textfile collector's file |
//! | [`calls`] | engine, prepared identity, catalog, endpoint allowlist, scheduler, HTTPS, trust, explanations |
//! | [`schemas`] | CAISO's request schemas as the user imports them: the package read with caps, what it defines recognised and kept |
//! | [`registration`] | browser places (data), host manifests, install / uninstall / doctor, the Windows registry |
//! | [`identity`] | custody, keyring, the parsed certificate, status, renewal rules, business days |
//! | [`store`] | the host's files: configuration, renewal book, versioned documents, atomic writes |
//! | [`error`], [`clock`], [`log`], [`outside_text`] | the error type, the (pinnable) clock, the stderr log, outside text made safe to show |
//!
//! `cli` and `nm` never import each other; `store` depends only on `caiso-shared`.
//!
//! The public surface is what the binary, the benches, the fuzz targets and `xtask` use; the
//! rest is `pub(crate)` (`unreachable_pub` keeps it so).

#![warn(unreachable_pub)]

pub mod actions;
pub mod calls;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod diagnose;
mod error;
pub mod identity;
pub mod log;
pub(crate) mod metrics;
pub mod nm;
pub mod outside_text;
pub mod registration;
pub(crate) mod schemas;
pub mod store;

pub use error::{HostError, HostResult};

#[cfg(test)]
mod layout_tests {
    //! The dependency rule of the rooms, read from the sources: `cli` and `nm` never import each
    //! other; `store` imports nothing of the host but itself; the core never imports a front end.

    use std::path::Path;

    /// The `crate::<room>` paths the files of `room` name.
    fn rooms_named_by(room: &str) -> Vec<(String, String)> {
        let mut pending = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(room)];
        let mut files = Vec::new();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("room folder") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let mut found = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("source");
            for (i, _) in text.match_indices("crate::") {
                let name: String = text[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
                found.push((file.unwrap_or_default(), name));
            }
        }
        found
    }

    /// Every room of the tree is in the crate map above and in the README's layout table.
    #[test]
    fn the_maps_match_the_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let crate_map = std::fs::read_to_string(root.join("src/lib.rs")).expect("lib.rs");
        let readme = std::fs::read_to_string(root.join("../README.md")).expect("README");
        let mut rooms = 0;
        for entry in std::fs::read_dir(root.join("src")).expect("src") {
            let path = entry.expect("entry").path();
            if !path.is_dir() {
                continue;
            }
            rooms += 1;
            let room = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            assert!(
                crate_map.contains(&format!("//! | [`{room}`] |")),
                "{room} is missing from the crate map"
            );
            assert!(
                readme.contains(&format!("| `native-host/src/{room}/` |")),
                "{room} is missing from the README's layout table"
            );
        }
        assert_eq!(rooms, 10);
    }

    #[test]
    fn rooms_keep_the_dependency_rule() {
        let front_ends = ["cli", "nm"];
        for (room, forbidden) in [
            ("cli", &["nm"][..]),
            ("nm", &["cli"]),
            (
                "store",
                &[
                    "actions",
                    "calls",
                    "cli",
                    "diagnose",
                    "error",
                    "identity",
                    "nm",
                    "registration",
                ],
            ),
            (
                "identity",
                &["actions", "calls", "cli", "diagnose", "nm", "registration"],
            ),
            (
                "calls",
                &["actions", "cli", "diagnose", "nm", "registration"],
            ),
            ("diagnose", &["actions", "cli", "nm", "registration"]),
            (
                "schemas",
                &[
                    "actions",
                    "calls",
                    "cli",
                    "diagnose",
                    "identity",
                    "nm",
                    "registration",
                ],
            ),
            (
                "registration",
                &["actions", "calls", "cli", "diagnose", "identity", "nm"],
            ),
            ("actions", &front_ends),
        ] {
            for (file, named) in rooms_named_by(room) {
                assert!(
                    !forbidden.contains(&named.as_str()),
                    "{room}/{file} imports crate::{named}"
                );
            }
        }
    }
}

#[cfg(test)]
mod test_support {
    /// A file of the test PKI.
    pub(crate) fn pki(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/pki")
            .join(name)
    }
}

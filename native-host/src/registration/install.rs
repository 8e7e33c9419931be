//! Writing, removing and checking registrations: manifest files, and on Windows the registry
//! keys that point at them.

use std::path::Path;

use caiso_shared::protocol::HOST_NAME;

use super::manifest::{self, Finding, Verdict};
use super::places::{Place, places, windows_manifest};
use super::{Browser, Os, UserDirs, registry};
use crate::error::{HostError, HostResult};
use crate::store::atomic;

/// Writes the registration for `browser`; returns where. `user_data_dir` overrides the place for
/// a Chromium-family browser started with `--user-data-dir`.
pub fn install(
    browser: Browser,
    os: Os,
    dirs: &UserDirs,
    host: &Path,
    extra_callers: &[String],
    user_data_dir: Option<&Path>,
) -> HostResult<String> {
    let mut text = serde_json::to_vec_pretty(&manifest::manifest(browser, host, extra_callers))
        .map_err(|e| HostError::Internal(e.to_string()))?;
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
        None => Err(HostError::Registration(format!(
            "no per-user place for {}",
            browser.display_name()
        ))),
    }
}

/// The manifests an installer package carries beside the program, by file name: one for the
/// Chromium family (`chromium.json`), one for Firefox (`firefox.json`). They name the program
/// relative to their own folder (`program` is its file name), so the same files serve wherever
/// the package is installed.
pub fn package_manifests(
    program: &Path,
    extra_callers: &[String],
) -> HostResult<Vec<(&'static str, Vec<u8>)>> {
    [
        (Browser::Chrome, "chromium.json"),
        (Browser::Firefox, "firefox.json"),
    ]
    .into_iter()
    .map(|(browser, name)| {
        let mut text =
            serde_json::to_vec_pretty(&manifest::manifest(browser, program, extra_callers))
                .map_err(|e| HostError::Internal(e.to_string()))?;
        text.push(b'\n');
        Ok((name, text))
    })
    .collect()
}

/// Writes the package manifests into the folder of the program `host` (the per-machine MSI
/// runs this when it is given an organisation's extension id); returns the files written.
pub fn write_package_manifests(
    host: &Path,
    extra_callers: &[String],
) -> HostResult<Vec<std::path::PathBuf>> {
    let (Some(folder), Some(program)) = (host.parent(), host.file_name()) else {
        return Err(HostError::Registration(format!(
            "{} is not a program in a folder",
            host.display()
        )));
    };
    let mut written = Vec::new();
    for (name, text) in package_manifests(Path::new(program), extra_callers)? {
        let path = folder.join(name);
        write_public(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

/// Removes the registration for `browser`; returns what was removed.
pub fn uninstall(
    browser: Browser,
    os: Os,
    dirs: &UserDirs,
    user_data_dir: Option<&Path>,
) -> HostResult<Vec<String>> {
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

fn remove_file(path: &Path, removed: &mut Vec<String>) -> HostResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            removed.push(path.display().to_string());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HostError::Registration(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
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
                Place::RegistryKey {
                    hive, key, view, ..
                } => match registry::get_default(hive, key, *view) {
                    Ok(None) => Verdict::Absent,
                    Ok(Some(path)) => check_file(Path::new(&path), browser, host),
                    Err(e) => Verdict::Wrong(vec![e.to_string()]),
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
        Ok(text) => match manifest::check_manifest(&text, path.parent(), browser, host) {
            wrong if wrong.is_empty() => Verdict::Ok,
            wrong => Verdict::Wrong(wrong),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Verdict::Absent,
        Err(e) => Verdict::Wrong(vec![format!("cannot read {}: {e}", path.display())]),
    }
}

/// Host manifests must be readable by the browser (the same user): 0600 through the atomic
/// writer is fine.
fn write_public(path: &Path, text: &[u8]) -> HostResult<()> {
    atomic::write(path, text)
        .map_err(|e| HostError::Registration(format!("cannot write {}: {e}", path.display())))
}

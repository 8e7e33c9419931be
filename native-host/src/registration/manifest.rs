//! The host manifest a browser reads, and the check of one found on disk.

use std::path::Path;

use caiso_shared::protocol::{CHROMIUM_EXTENSION_ID, FIREFOX_ADDON_ID, HOST_NAME, chromium_origin};
use serde_json::{Value, json};

use super::Browser;

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

/// Checks a manifest's content (found in the folder `folder`) against what `browser` needs to
/// start `host`. On Windows, Chrome and Firefox also accept a `"path"` relative to the
/// manifest's folder.
pub fn check_manifest(
    text: &str,
    folder: Option<&Path>,
    browser: Browser,
    host: &Path,
) -> Vec<String> {
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
            let given = Path::new(path);
            let relative_ok = cfg!(windows) && given.is_relative();
            let resolved = match folder {
                Some(folder) if relative_ok => folder.join(given),
                _ => given.to_owned(),
            };
            let path = resolved.as_path();
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

#[cfg(test)]
mod tests {
    use super::*;

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

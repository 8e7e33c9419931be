//! `cargo xtask enterprise --base-url <URL> [--key <PEM>] [--out <DIR>]`: what IT hosts and
//! pushes to install the extension on managed Chrome, Edge, Chromium and Firefox without a store,
//! where developer mode is off. Written into `<DIR>` (default `dist/enterprise/`):
//!
//! - `caiso-access-<version>.crx`: the Chromium extension as a CRX3 package signed with the RSA
//!   key (`crx3.rs`), its manifest carrying that key's public half (so an unpacked copy has the
//!   same id) and `update_url` under the base URL;
//! - `updates.xml`: the update manifest (gupdate protocol 2.0) for that id, version and package;
//! - `caiso-access-<version>.xpi` and `caiso-access.xpi` (the name the Firefox policies install
//!   from, the same for every version): the Firefox add-on, unsigned, its manifest's
//!   `browser_specific_settings.gecko.update_url` at `<base>updates.json`, and `updates.json`,
//!   Firefox's update manifest with the package's SHA-256;
//! - `policies/`: the force-install and settings policies for Linux, Firefox and Windows
//!   (`kit_policies.rs`), and Group Policy templates (`windows/caiso-access.admx`,
//!   `en-US/caiso-access.adml`) for the extension's managed settings in Chrome and Edge and the
//!   host's machine policy (`admx.rs`).
//!
//! Without `--key` a throw-away key is made (kept in `target/`, outside what IT hosts, so the id
//! stays the same between runs) and the kit says it is a test build with an id of its own: the
//! maintainers' key never enters the repository. Every input is checked before anything is
//! written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use rsa::RsaPrivateKey;

use crate::shell::{Result, root, run, write};
use crate::{crx3, kit_policies};

/// What the kit is made from.
pub struct Request {
    /// Where IT serves the kit's files (`https://it.example.org/caiso-access/`), ending in `/`.
    pub base_url: String,
    /// The signing key, read when the arguments are; `None`: the throw-away test key.
    pub key: Option<RsaPrivateKey>,
    /// Where the files go.
    pub out: PathBuf,
}

impl Request {
    /// `--base-url <URL> [--key <PEM>] [--out <DIR>]`; a key that cannot be used is an error
    /// here, before anything is built or written.
    pub fn parse(args: &[String]) -> Result<Request> {
        let mut base_url = None;
        let mut key = None;
        let mut out = root().join("dist").join("enterprise");
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let mut value = || {
                rest.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--base-url" => base_url = Some(base_url_of(&value()?)?),
                "--key" => key = Some(read_key(Path::new(&value()?))?),
                "--out" => out = PathBuf::from(value()?),
                other => return Err(format!("enterprise: unknown argument {other:?}")),
            }
        }
        Ok(Request {
            base_url: base_url.ok_or(
                "enterprise needs --base-url <URL>: where IT serves the kit (http or https)",
            )?,
            key,
            out,
        })
    }
}

/// `url` as a base URL of the kit: http or https, with a host, no query or fragment; `/` added.
pub fn base_url_of(url: &str) -> Result<String> {
    let parsed =
        url::Url::parse(url).map_err(|e| format!("--base-url {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "--base-url {url:?} must be an http:// or https:// address of a web server"
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("--base-url {url:?} must have no query or fragment"));
    }
    let text = parsed.to_string();
    Ok(if text.ends_with('/') {
        text
    } else {
        format!("{text}/")
    })
}

/// The RSA private key in the PEM file `path` (PKCS#8 or PKCS#1).
pub fn read_key(path: &Path) -> Result<RsaPrivateKey> {
    let pem = fs::read_to_string(path).map_err(|e| format!("--key {}: {e}", path.display()))?;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    RsaPrivateKey::from_pkcs8_pem(&pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(&pem))
        .map_err(|_| {
            format!(
                "--key {}: not an RSA private key in PEM (PKCS#8 or PKCS#1, unencrypted); CRX3 packages are signed with RSA",
                path.display()
            )
        })
}

/// The throw-away test key, made once with openssl into `target/`.
fn test_key() -> Result<RsaPrivateKey> {
    let path = root().join("target").join("enterprise-test-key.pem");
    if !path.exists() {
        fs::create_dir_all(root().join("target")).map_err(|e| e.to_string())?;
        run(Command::new("openssl")
            .args([
                "genpkey",
                "-quiet",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&path))?;
    }
    read_key(&path)
}

/// What the kit wrote.
pub struct Kit {
    /// The extension id the policies name.
    pub id: String,
    /// Whether it was signed with the throw-away test key.
    pub test_build: bool,
    /// The files written, with their sizes.
    pub files: Vec<(PathBuf, u64)>,
    /// The Chromium update manifest's address.
    pub update_url: String,
    /// The address the Firefox policy installs from.
    pub firefox_install_url: String,
}

/// Writes the kit for the built extension in `dist/chromium`.
pub fn build(request: &Request) -> Result<Kit> {
    let (key, test_build) = match &request.key {
        Some(key) => (key.clone(), false),
        None => (test_key()?, true),
    };
    let public_key = crx3::public_key_der(&key)?;
    let id = crx3::extension_id(&public_key);
    let manifest_path = root().join("dist").join("chromium").join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(&manifest_path)
            .map_err(|e| format!("{}: {e} (build first)", manifest_path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let version = manifest["version"]
        .as_str()
        .ok_or("the manifest has no version")?
        .to_owned();
    let updates = format!("{}updates.xml", request.base_url);
    let package_name = format!("caiso-access-{version}.crx");
    use base64::Engine;
    manifest["key"] = base64::engine::general_purpose::STANDARD
        .encode(&public_key)
        .into();
    manifest["update_url"] = updates.clone().into();
    let zip = extension_zip("chromium", &manifest)?;
    let crx = crx3::package(&zip, &key)?;
    // Read back before anything is written: the package names the id the policies will.
    let parsed = crx3::parse(&crx)?;
    if parsed.proofs.len() != 1
        || crx3::extension_id(&parsed.proofs[0].0) != id
        || parsed.zip != zip
    {
        return Err("the package does not read back as written".into());
    }

    let firefox = firefox_package(&request.base_url, &version)?;
    let (admx, adml) = crate::admx::templates(&id, &crate::admx::extension_settings()?);
    let windows = request.out.join("policies").join("windows");
    let mut outputs: Vec<(PathBuf, Vec<u8>)> = vec![
        (windows.join("caiso-access.admx"), admx.into_bytes()),
        (
            windows.join("en-US").join("caiso-access.adml"),
            adml.into_bytes(),
        ),
        (request.out.join(&package_name), crx),
        (
            request.out.join("updates.xml"),
            update_manifest(
                &id,
                &version,
                &format!("{}{package_name}", request.base_url),
            )
            .into_bytes(),
        ),
        (
            request.out.join(format!("caiso-access-{version}.xpi")),
            firefox.xpi.clone(),
        ),
        (request.out.join(FIREFOX_STABLE_NAME), firefox.xpi),
        (request.out.join("updates.json"), firefox.updates),
    ];
    let target_firefox = format!("{}{FIREFOX_STABLE_NAME}", request.base_url);
    let target = kit_policies::Target {
        id: &id,
        update_url: &updates,
        firefox_install_url: &target_firefox,
    };
    let settings = kit_policies::default_settings(&crate::admx::extension_settings()?)?;
    for (name, bytes) in kit_policies::files(&target, &settings)? {
        outputs.push((request.out.join("policies").join(name), bytes));
    }
    let mut files = Vec::new();
    for (path, bytes) in outputs {
        write(&path, &bytes)?;
        files.push((path, bytes.len() as u64));
    }
    Ok(Kit {
        id,
        test_build,
        files,
        update_url: updates,
        firefox_install_url: target_firefox,
    })
}

/// The gupdate (protocol 2.0) update manifest for one extension.
pub fn update_manifest(id: &str, version: &str, codebase: &str) -> String {
    let attribute = |text: &str| {
        text.replace('&', "&amp;")
            .replace('\'', "&apos;")
            .replace('<', "&lt;")
    };
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n\
         <gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n  \
         <app appid='{}'>\n    \
         <updatecheck codebase='{}' version='{}' />\n  \
         </app>\n\
         </gupdate>\n",
        attribute(id),
        attribute(codebase),
        attribute(version)
    )
}

/// The Firefox package's name that stays the same from version to version: the address the
/// Firefox policy installs from (`install_url`), so a new kit needs no new policy.
pub const FIREFOX_STABLE_NAME: &str = "caiso-access.xpi";

/// The Firefox package and its update manifest.
struct FirefoxPackage {
    /// The XPI (a ZIP archive), unsigned.
    xpi: Vec<u8>,
    /// `updates.json` naming the versioned package and its SHA-256.
    updates: Vec<u8>,
}

/// The add-on of `dist/firefox` with `browser_specific_settings.gecko.update_url` at
/// `<base>updates.json`, and that manifest.
fn firefox_package(base_url: &str, version: &str) -> Result<FirefoxPackage> {
    let manifest_path = root().join("dist").join("firefox").join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(
        &fs::read(&manifest_path)
            .map_err(|e| format!("{}: {e} (build first)", manifest_path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    if manifest["version"] != version {
        return Err(format!(
            "dist/firefox is version {}, dist/chromium {version}: build both again",
            manifest["version"]
        ));
    }
    let gecko = manifest
        .pointer_mut("/browser_specific_settings/gecko")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or("the Firefox manifest has no browser_specific_settings.gecko")?;
    let addon_id = gecko
        .get("id")
        .and_then(serde_json::Value::as_str)
        .ok_or("the Firefox manifest names no add-on id")?
        .to_owned();
    gecko.insert(
        "update_url".into(),
        format!("{base_url}updates.json").into(),
    );
    let xpi = extension_zip("firefox", &manifest)?;
    let updates = firefox_update_manifest(
        &addon_id,
        version,
        &format!("{base_url}caiso-access-{version}.xpi"),
        &xpi,
    );
    Ok(FirefoxPackage {
        xpi,
        updates: format!(
            "{}\n",
            serde_json::to_string_pretty(&updates).map_err(|e| e.to_string())?
        )
        .into_bytes(),
    })
}

/// Firefox's update manifest for one add-on version: where the package is and its SHA-256.
pub fn firefox_update_manifest(
    addon_id: &str,
    version: &str,
    update_link: &str,
    package: &[u8],
) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    let hash: String = Sha256::digest(package)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    serde_json::json!({
        "addons": {
            addon_id: {
                "updates": [{
                    "version": version,
                    "update_link": update_link,
                    "update_hash": format!("sha256:{hash}"),
                }],
            },
        },
    })
}

/// The files of `dist/<browser>` with `manifest` in place of its manifest, as a ZIP archive.
fn extension_zip(browser: &str, manifest: &serde_json::Value) -> Result<Vec<u8>> {
    let folder = root().join("dist").join(browser);
    let mut files = Vec::new();
    for path in crate::shell::files_under(&folder)? {
        let name = path
            .strip_prefix(&folder)
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .replace('\\', "/");
        // Chromium's own notes in an unpacked folder are not the extension's.
        if path.is_dir() || name.starts_with("_metadata") || name == "manifest.json" {
            continue;
        }
        files.push((name, fs::read(&path).map_err(|e| e.to_string())?));
    }
    files.push((
        "manifest.json".into(),
        serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?,
    ));
    files.sort();
    crate::shell::zip_bytes(&files)
}

/// `cargo xtask enterprise ...`: checks the arguments, builds the kit, says what it wrote.
pub fn command(request: &Request) -> Result {
    let kit = build(request)?;
    for (path, size) in &kit.files {
        eprintln!("{}: {size} bytes", path.display());
    }
    if kit.test_build {
        eprintln!(
            "TEST BUILD: signed with a throw-away key (target/enterprise-test-key.pem), so its extension id is its own; sign with your organisation's key (--key <PEM>) for a roll-out"
        );
    }
    if request.base_url.starts_with("http:") {
        eprintln!(
            "NOTE: the base URL is http. Firefox disables an add-on whose update_url is not https (extensions.checkUpdateSecurity): serve the kit over https for a roll-out"
        );
    }
    eprintln!("extension id: {}", kit.id);
    eprintln!(
        "per-machine MSI for this kit (README, \"Roll-out for IT\"):\n  msiexec /i caiso-access-{}-x64-per-machine.msi /qn EXTENSION_ID={} EXTENSION_UPDATE_URL={} CHROME_EXTENSION=1 EDGE_EXTENSION=1 FIREFOX_EXTENSION_URL={}",
        env!("CARGO_PKG_VERSION"),
        kit.id,
        kit.update_url,
        kit.firefox_install_url
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_is_http_or_https_and_ends_in_a_slash() {
        assert_eq!(
            base_url_of("https://it.example.org/caiso-access").as_deref(),
            Ok("https://it.example.org/caiso-access/")
        );
        assert_eq!(
            base_url_of("http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080/")
        );
        for bad in [
            "ftp://it.example.org/",
            "file:///srv/kit/",
            "it.example.org/kit",
            "https://it.example.org/kit?x=1",
            "",
        ] {
            assert!(base_url_of(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_that_is_not_rsa_or_not_there_is_refused_with_its_reason() {
        let dir = std::env::temp_dir().join(format!("caiso-kit-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let ec = dir.join("ec.pem");
        let made = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
            ])
            .arg(&ec)
            .status()
            .expect("openssl");
        assert!(made.success());
        let Err(error) = read_key(&ec) else {
            panic!("an EC key was taken")
        };
        assert!(error.contains("not an RSA private key"), "{error}");
        let Err(error) = read_key(&dir.join("missing.pem")) else {
            panic!("a missing key was taken")
        };
        assert!(error.starts_with("--key "), "{error}");
        let _ = fs::remove_dir_all(&dir);
        assert!(read_key(&root().join("tests/fixtures/pki/valid.key")).is_ok());
    }

    #[test]
    fn the_firefox_update_manifest_carries_the_packages_sha256_as_openssl_computes_it() {
        let package = b"PK\x03\x04 not really a zip, only bytes to hash".to_vec();
        let file = std::env::temp_dir().join(format!("caiso-kit-xpi-{}", std::process::id()));
        fs::write(&file, &package).expect("write");
        let openssl = Command::new("openssl")
            .args(["dgst", "-sha256", "-r"])
            .arg(&file)
            .output()
            .expect("openssl");
        let _ = fs::remove_file(&file);
        let expected = String::from_utf8_lossy(&openssl.stdout)
            .split_whitespace()
            .next()
            .expect("a digest")
            .to_owned();
        let manifest = firefox_update_manifest("{x}", "1.2.3", "https://it/a-1.2.3.xpi", &package);
        assert_eq!(
            manifest,
            serde_json::json!({"addons": {"{x}": {"updates": [{
                "version": "1.2.3",
                "update_link": "https://it/a-1.2.3.xpi",
                "update_hash": format!("sha256:{expected}"),
            }]}}})
        );
    }

    #[test]
    fn the_update_manifest_names_the_id_version_and_package() {
        let xml = update_manifest(
            "abcdefghijklmnopabcdefghijklmnop",
            "1.2.3",
            "https://it/x?a=1&b=2",
        );
        assert!(xml.contains("<app appid='abcdefghijklmnopabcdefghijklmnop'>"));
        assert!(
            xml.contains("<updatecheck codebase='https://it/x?a=1&amp;b=2' version='1.2.3' />")
        );
        assert!(xml.contains("protocol='2.0'"));
    }
}

//! The roll-out kit's browser policy files, for one Chromium extension id and update manifest
//! and one Firefox package:
//!
//! - **Linux** (Chrome, Chromium, Edge read every JSON file of their managed policy folder):
//!   `caiso-access.json` force-installs the extension (`ExtensionInstallForcelist`), and
//!   `caiso-access-settings.json` sets its managed settings (`3rdparty`), to copy only when the
//!   organisation fixes them for every user.
//! - **Firefox** (`policies.json`, one file per installation): `ExtensionSettings` with
//!   `install_url`, and a second copy that also carries the settings (`3rdparty`).
//! - **Windows** (`.reg`, as `regedit` writes them: UTF-16 with a byte-order mark, CRLF): per
//!   browser, the force-install as an `ExtensionSettings` entry of its own key
//!   (`...\ExtensionSettings\<id>`), which adds to the organisation's other entries instead of
//!   numbering into `ExtensionInstallForcelist`, whose values other policies own; and the
//!   settings in the browser's `3rdparty` key. Firefox reads a REG_MULTI_SZ value as JSON, the
//!   only form that keeps a setting's true/false a boolean.
//!
//! The per-machine MSI writes the same force-install keys and values (`installer.rs`), and the
//! Wine test checks that the two agree.

use caiso_shared::certificate::DEFAULT_THRESHOLDS;
use caiso_shared::protocol::FIREFOX_ADDON_ID;
use serde_json::{Value, json};

use crate::admx::Setting;
use crate::shell::Result;

/// A Chromium-based browser's policy key below `HKEY_LOCAL_MACHINE`, and its name.
pub const CHROME_KEY: &str = r"SOFTWARE\Policies\Google\Chrome";
pub const EDGE_KEY: &str = r"SOFTWARE\Policies\Microsoft\Edge";
/// Firefox's policy key below `HKEY_LOCAL_MACHINE`.
pub const FIREFOX_KEY: &str = r"SOFTWARE\Policies\Mozilla\Firefox";

/// What the policy files name.
pub struct Target<'a> {
    /// The Chromium extension id (from the signing key).
    pub id: &'a str,
    /// The gupdate manifest's address (`<base>updates.xml`).
    pub update_url: &'a str,
    /// The Firefox package's address.
    pub firefox_install_url: &'a str,
}

/// The settings as the kit proposes them: the extension's own defaults, one value per managed
/// setting, so an organisation that fixes them starts from what users see without a policy.
pub fn default_settings(settings: &[Setting]) -> Result<serde_json::Map<String, Value>> {
    let mut values = serde_json::Map::new();
    for setting in settings {
        let (name, value) = match setting {
            Setting::Choice { name, values, .. } => (
                name,
                json!(
                    values
                        .first()
                        .ok_or_else(|| format!("{name}: no value to choose"))?
                ),
            ),
            Setting::Switch { name, .. } => (name, json!(true)),
            Setting::Numbers { name, .. } if name == "thresholds" => {
                (name, json!(DEFAULT_THRESHOLDS))
            }
            Setting::Numbers { name, .. } => {
                return Err(format!("{name}: the kit has no default for this list"));
            }
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// A file of the kit: its path below the kit's `policies/` and its bytes.
pub type PolicyFile = (String, Vec<u8>);

/// Every policy file for `target`, with `settings` as the settings files' values.
pub fn files(
    target: &Target,
    settings: &serde_json::Map<String, Value>,
) -> Result<Vec<PolicyFile>> {
    let forcelist = json!({
        "ExtensionInstallForcelist": [format!("{};{}", target.id, target.update_url)],
    });
    let chromium_settings = json!({
        "3rdparty": {"extensions": {target.id: settings}},
    });
    let firefox_install = json!({
        "ExtensionSettings": {
            FIREFOX_ADDON_ID: {
                "installation_mode": "force_installed",
                "install_url": target.firefox_install_url,
            },
        },
    });
    let mut firefox_with_settings = firefox_install.clone();
    firefox_with_settings["3rdparty"] = json!({"Extensions": {FIREFOX_ADDON_ID: settings}});
    let mut out = vec![
        ("linux/caiso-access.json".to_owned(), pretty(&forcelist)?),
        (
            "linux/caiso-access-settings.json".to_owned(),
            pretty(&chromium_settings)?,
        ),
        (
            "firefox/policies.json".to_owned(),
            pretty(&json!({"policies": firefox_install}))?,
        ),
        (
            "firefox/policies-with-settings.json".to_owned(),
            pretty(&json!({"policies": firefox_with_settings}))?,
        ),
    ];
    for (file, name, key) in [
        ("chrome", "Google Chrome", CHROME_KEY),
        ("edge", "Microsoft Edge", EDGE_KEY),
    ] {
        out.push((
            format!("windows/{file}.reg"),
            reg_file(
                &format!(
                    "Force-installs the caiso-access extension ({}) in {name} from {}.",
                    target.id, target.update_url
                ),
                &chromium_install(key, target),
            ),
        ));
        out.push((
            format!("windows/{file}-settings.reg"),
            reg_file(
                &format!("Fixes the caiso-access extension's settings in {name} for every user."),
                &chromium_settings_keys(key, target.id, settings)?,
            ),
        ));
    }
    out.push((
        "windows/firefox.reg".to_owned(),
        reg_file(
            &format!(
                "Force-installs the caiso-access add-on in Firefox from {}.",
                target.firefox_install_url
            ),
            &firefox_install_keys(target.firefox_install_url),
        ),
    ));
    out.push((
        "windows/firefox-settings.reg".to_owned(),
        reg_file(
            "Fixes the caiso-access add-on's settings in Firefox for every user.",
            &[RegKey {
                path: format!(r"{FIREFOX_KEY}\3rdparty\Extensions"),
                values: vec![(
                    FIREFOX_ADDON_ID.to_owned(),
                    RegValue::MultiString(
                        serde_json::to_string(settings).map_err(|e| e.to_string())?,
                    ),
                )],
            }],
        ),
    ));
    Ok(out)
}

fn pretty(value: &Value) -> Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(value).map_err(|e| e.to_string())?;
    text.push(b'\n');
    Ok(text)
}

/// One registry value of a `.reg` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    /// REG_SZ.
    String(String),
    /// REG_DWORD.
    Dword(u32),
    /// REG_MULTI_SZ of one string.
    MultiString(String),
}

/// One key of a `.reg` file below `HKEY_LOCAL_MACHINE`, with its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegKey {
    /// The key's path below `HKEY_LOCAL_MACHINE`.
    pub path: String,
    /// Its values, by name.
    pub values: Vec<(String, RegValue)>,
}

/// A Chromium-based browser's force-install entry for `target`.
pub fn chromium_install(browser_key: &str, target: &Target) -> Vec<RegKey> {
    vec![RegKey {
        path: format!(r"{browser_key}\ExtensionSettings\{}", target.id),
        values: vec![
            (
                "installation_mode".into(),
                RegValue::String("force_installed".into()),
            ),
            (
                "update_url".into(),
                RegValue::String(target.update_url.into()),
            ),
        ],
    }]
}

/// Firefox's force-install entry for the add-on at `install_url`.
pub fn firefox_install_keys(install_url: &str) -> Vec<RegKey> {
    vec![RegKey {
        path: format!(r"{FIREFOX_KEY}\ExtensionSettings\{FIREFOX_ADDON_ID}"),
        values: vec![
            (
                "installation_mode".into(),
                RegValue::String("force_installed".into()),
            ),
            ("install_url".into(), RegValue::String(install_url.into())),
        ],
    }]
}

/// The settings in a Chromium-based browser's `3rdparty` key for `id`: strings as REG_SZ, true
/// and false as REG_DWORD 1 and 0, a list as a key of its own with values named 1, 2, ...
fn chromium_settings_keys(
    browser_key: &str,
    id: &str,
    settings: &serde_json::Map<String, Value>,
) -> Result<Vec<RegKey>> {
    let path = format!(r"{browser_key}\3rdparty\extensions\{id}\policy");
    let mut main = RegKey {
        path: path.clone(),
        values: Vec::new(),
    };
    let mut lists = Vec::new();
    for (name, value) in settings {
        match value {
            Value::String(text) => main
                .values
                .push((name.clone(), RegValue::String(text.clone()))),
            Value::Bool(on) => main
                .values
                .push((name.clone(), RegValue::Dword(u32::from(*on)))),
            Value::Array(items) => lists.push(RegKey {
                path: format!(r"{path}\{name}"),
                values: items
                    .iter()
                    .enumerate()
                    .map(|(index, item)| {
                        let number = item
                            .as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .ok_or_else(|| format!("{name}: {item} is not a whole number"))?;
                        Ok(((index + 1).to_string(), RegValue::Dword(number)))
                    })
                    .collect::<Result<_>>()?,
            }),
            other => return Err(format!("{name}: no registry form for {other}")),
        }
    }
    let mut keys = vec![main];
    keys.extend(lists);
    Ok(keys)
}

/// A `.reg` file (`Windows Registry Editor Version 5.00`) setting `keys` below
/// `HKEY_LOCAL_MACHINE`, headed by `purpose` as a comment; UTF-16LE with a byte-order mark and
/// CRLF line ends, as `regedit` exports.
pub fn reg_file(purpose: &str, keys: &[RegKey]) -> Vec<u8> {
    let quote = |text: &str| text.replace('\\', r"\\").replace('"', "\\\"");
    let mut lines = vec![
        "Windows Registry Editor Version 5.00".to_owned(),
        String::new(),
        format!("; caiso-access roll-out kit. {purpose}"),
        "; Import as an administrator (regedit /s <file>) or push the same values by Group Policy."
            .to_owned(),
        "; caiso-access is an independent project, not affiliated with the California ISO."
            .to_owned(),
    ];
    for key in keys {
        lines.push(String::new());
        lines.push(format!("[HKEY_LOCAL_MACHINE\\{}]", key.path));
        for (name, value) in &key.values {
            let data = match value {
                RegValue::String(text) => format!("\"{}\"", quote(text)),
                RegValue::Dword(number) => format!("dword:{number:08x}"),
                RegValue::MultiString(text) => {
                    // UTF-16LE code units of the string, its terminator and the list's.
                    let bytes: Vec<String> = text
                        .encode_utf16()
                        .chain([0, 0])
                        .flat_map(u16::to_le_bytes)
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("hex(7):{}", bytes.join(","))
                }
            };
            lines.push(format!("\"{}\"={data}", quote(name)));
        }
    }
    lines.push(String::new());
    let text = lines.join("\r\n");
    [0xff_u8, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "abcdefghijklmnopabcdefghijklmnop";

    fn target() -> Target<'static> {
        Target {
            id: ID,
            update_url: "https://it.example.org/kit/updates.xml",
            firefox_install_url: "https://it.example.org/kit/caiso-access.xpi",
        }
    }

    fn text_of(reg: &[u8]) -> String {
        assert_eq!(&reg[..2], &[0xff, 0xfe], "a byte-order mark");
        let units: Vec<u16> = reg[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).expect("UTF-16")
    }

    #[test]
    fn the_default_settings_name_every_managed_setting_with_a_value_of_its_form() {
        let settings = crate::admx::extension_settings().expect("schema");
        let values = default_settings(&settings).expect("defaults");
        assert_eq!(values.len(), settings.len());
        for setting in &settings {
            match setting {
                Setting::Choice {
                    name,
                    values: allowed,
                    ..
                } => {
                    let value = values[name].as_str().expect("text");
                    assert!(allowed.iter().any(|a| a == value), "{name}: {value}");
                }
                Setting::Switch { name, .. } => assert_eq!(values[name], true, "{name}"),
                Setting::Numbers { name, .. } => {
                    assert_eq!(values[name], json!(DEFAULT_THRESHOLDS), "{name}")
                }
            }
        }
    }

    #[test]
    fn the_json_policies_force_install_by_id_and_address() {
        let settings = default_settings(&crate::admx::extension_settings().expect("schema"))
            .expect("defaults");
        let files = files(&target(), &settings).expect("files");
        let json = |name: &str| -> Value {
            let (_, bytes) = files.iter().find(|(n, _)| n == name).expect(name);
            serde_json::from_slice(bytes).expect("JSON")
        };
        assert_eq!(
            json("linux/caiso-access.json"),
            json!({"ExtensionInstallForcelist": [format!("{ID};https://it.example.org/kit/updates.xml")]})
        );
        assert_eq!(
            json("linux/caiso-access-settings.json")["3rdparty"]["extensions"][ID],
            Value::Object(settings.clone())
        );
        let firefox = json("firefox/policies.json");
        assert_eq!(
            firefox["policies"]["ExtensionSettings"][FIREFOX_ADDON_ID],
            json!({"installation_mode": "force_installed", "install_url": "https://it.example.org/kit/caiso-access.xpi"})
        );
        assert!(
            firefox["policies"].get("3rdparty").is_none(),
            "settings only on request"
        );
        let with = json("firefox/policies-with-settings.json");
        assert_eq!(
            with["policies"]["3rdparty"]["Extensions"][FIREFOX_ADDON_ID],
            Value::Object(settings)
        );
        assert_eq!(
            with["policies"]["ExtensionSettings"],
            firefox["policies"]["ExtensionSettings"]
        );
    }

    #[test]
    fn a_reg_file_is_utf16_with_crlf_and_quotes_its_strings() {
        let reg = reg_file(
            "test",
            &[RegKey {
                path: r"SOFTWARE\Policies\X".into(),
                values: vec![
                    ("a".into(), RegValue::String(r#"C:\x "y""#.into())),
                    ("b".into(), RegValue::Dword(30)),
                    ("c".into(), RegValue::MultiString("{}".into())),
                ],
            }],
        );
        let text = text_of(&reg);
        assert!(text.starts_with("Windows Registry Editor Version 5.00\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
        assert!(text.contains("\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\X]\r\n"));
        assert!(text.contains(r#""a"="C:\\x \"y\"""#), "{text}");
        assert!(text.contains("\"b\"=dword:0000001e"));
        assert!(text.contains("\"c\"=hex(7):7b,00,7d,00,00,00,00,00"));
    }

    #[test]
    fn the_settings_keys_give_lists_numbered_values_and_switches_dwords() {
        let settings = default_settings(&crate::admx::extension_settings().expect("schema"))
            .expect("defaults");
        let keys = chromium_settings_keys(CHROME_KEY, ID, &settings).expect("keys");
        let policy = format!(r"{CHROME_KEY}\3rdparty\extensions\{ID}\policy");
        assert_eq!(keys[0].path, policy);
        assert!(
            keys[0]
                .values
                .contains(&("redirectEnabled".into(), RegValue::Dword(1)))
        );
        assert!(
            keys[0]
                .values
                .contains(&("environment".into(), RegValue::String("production".into())))
        );
        let thresholds = keys
            .iter()
            .find(|k| k.path == format!(r"{policy}\thresholds"))
            .expect("a key for the list");
        let expected: Vec<(String, RegValue)> = DEFAULT_THRESHOLDS
            .iter()
            .enumerate()
            .map(|(i, &n)| ((i + 1).to_string(), RegValue::Dword(n)))
            .collect();
        assert_eq!(thresholds.values, expected);
    }
}

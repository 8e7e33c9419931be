//! Group Policy templates for the roll-out kit: `caiso-access.admx` with
//! `en-US/caiso-access.adml`, for the Group Policy editor (copied into `PolicyDefinitions`).
//!
//! - **The extension's managed settings**, for Chrome and for Edge. They are generated from
//!   `extension/static/managed_schema.json`, so the templates cannot drift from the schema: a
//!   string with an `enum` becomes a drop-down list, a boolean an enabled/disabled policy, an
//!   array of integers a list. A schema entry of any other form stops the kit. The values go
//!   where the browsers read an extension's policy on Windows:
//!   `Software\Policies\<browser>\3rdparty\extensions\<id>\policy`. That path holds the id, so the
//!   templates are made for the kit's own id.
//! - **The host's machine policy**: `MetricsTextfileDirectory` (`store/machine_policy.rs`).

use std::fmt::Write;

use crate::shell::{Result, root};

/// The browsers whose extension policy the templates set: (id used in names, name, key).
const BROWSERS: [(&str, &str, &str); 2] = [
    (
        "chrome",
        "Google Chrome",
        r"Software\Policies\Google\Chrome",
    ),
    (
        "edge",
        "Microsoft Edge",
        r"Software\Policies\Microsoft\Edge",
    ),
];

/// The host's machine policy key and its metrics value.
const HOST_KEY: &str = r"Software\Policies\caiso-access";
const HOST_METRICS_VALUE: &str = "MetricsTextfileDirectory";

/// One managed setting of the extension, in the form the templates give it.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// One of the listed strings.
    Choice {
        /// The schema key.
        name: String,
        /// Title and description.
        title: String,
        /// What it does.
        description: String,
        /// The values allowed.
        values: Vec<String>,
    },
    /// On or off.
    Switch {
        /// The schema key.
        name: String,
        /// Title.
        title: String,
        /// What it does.
        description: String,
    },
    /// A list of whole numbers.
    Numbers {
        /// The schema key.
        name: String,
        /// Title.
        title: String,
        /// What it does.
        description: String,
    },
}

impl Setting {
    fn name(&self) -> &str {
        match self {
            Setting::Choice { name, .. }
            | Setting::Switch { name, .. }
            | Setting::Numbers { name, .. } => name,
        }
    }
}

/// The settings of a managed-storage schema, in its order.
pub fn settings(schema: &serde_json::Value) -> Result<Vec<Setting>> {
    let properties = schema["properties"]
        .as_object()
        .ok_or("the managed schema has no properties")?;
    let mut settings = Vec::new();
    for (name, property) in properties {
        let text = |key: &str| property[key].as_str().unwrap_or(name).to_owned();
        let (title, description) = (text("title"), text("description"));
        let setting = match (property["type"].as_str(), property.get("enum")) {
            (Some("string"), Some(values)) => Setting::Choice {
                name: name.clone(),
                title,
                description,
                values: values
                    .as_array()
                    .ok_or_else(|| format!("{name}: its enum is not a list"))?
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<_>>()
                    .ok_or_else(|| format!("{name}: its enum holds a value that is not text"))?,
            },
            (Some("boolean"), None) => Setting::Switch {
                name: name.clone(),
                title,
                description,
            },
            (Some("array"), None) if property["items"]["type"] == "integer" => Setting::Numbers {
                name: name.clone(),
                title,
                description,
            },
            _ => {
                return Err(format!(
                    "managed setting {name}: no Group Policy form for it (a string with an enum, a boolean or a list of integers)"
                ));
            }
        };
        settings.push(setting);
    }
    Ok(settings)
}

/// The extension's settings from `extension/static/managed_schema.json`.
pub fn extension_settings() -> Result<Vec<Setting>> {
    let path = root().join("extension/static/managed_schema.json");
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    settings(&schema)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `(admx, adml)` for the extension `id` with `settings`.
pub fn templates(id: &str, settings: &[Setting]) -> (String, String) {
    let mut admx = String::new();
    let mut strings = String::new();
    let mut presentations = String::new();
    let mut string = |id: &str, text: &str| {
        let _ = writeln!(
            strings,
            "      <string id=\"{id}\">{}</string>",
            escape(text)
        );
    };
    string(
        "supported",
        "Google Chrome and Microsoft Edge (Windows), caiso-access native host",
    );
    string(
        "category_root",
        "caiso-access (independent project, not affiliated with the California ISO)",
    );
    string("category_host", "Native host");
    string(
        "metrics_title",
        "Folder of the monitoring's textfile collector",
    );
    string(
        "metrics_help",
        "Every time the caiso-access host computes a certificate status (each popup, the daily check, caiso-access status), it writes each user's certificate facts in the Prometheus text format into this folder as caiso-access_<user>.prom, for windows_exporter's textfile collector (for example C:\\Program Files\\windows_exporter\\textfile_inputs). The folder must exist. Not configured: nothing is written.",
    );
    let _ = writeln!(
        presentations,
        "      <presentation id=\"metrics\">\n        <textBox refId=\"metrics\"><label>Folder</label></textBox>\n      </presentation>"
    );

    let _ = write!(
        admx,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <!-- caiso-access Group Policy template, made by `cargo xtask enterprise` for the extension id {id}. -->\n\
         <policyDefinitions xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"1.0\" schemaVersion=\"1.0\" xmlns=\"http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions\">\n  \
         <policyNamespaces>\n    <target prefix=\"caisoaccess\" namespace=\"CaisoAccess.Policies.{id}\" />\n  </policyNamespaces>\n  \
         <resources minRequiredRevision=\"1.0\" />\n  \
         <supportedOn>\n    <definitions>\n      <definition name=\"SUPPORTED\" displayName=\"$(string.supported)\" />\n    </definitions>\n  </supportedOn>\n  \
         <categories>\n    <category name=\"root\" displayName=\"$(string.category_root)\" />\n    <category name=\"host\" displayName=\"$(string.category_host)\"><parentCategory ref=\"root\" /></category>\n"
    );
    for (browser, browser_name, _) in BROWSERS {
        let _ = writeln!(
            admx,
            "    <category name=\"{browser}\" displayName=\"$(string.category_{browser})\"><parentCategory ref=\"root\" /></category>"
        );
        string(
            &format!("category_{browser}"),
            &format!("Extension in {browser_name}"),
        );
    }
    let _ = write!(admx, "  </categories>\n  <policies>\n");
    let _ = writeln!(
        admx,
        "    <policy name=\"{HOST_METRICS_VALUE}\" class=\"Machine\" displayName=\"$(string.metrics_title)\" explainText=\"$(string.metrics_help)\" presentation=\"$(presentation.metrics)\" key=\"{HOST_KEY}\">\n      \
         <parentCategory ref=\"host\" />\n      <supportedOn ref=\"SUPPORTED\" />\n      \
         <elements><text id=\"metrics\" valueName=\"{HOST_METRICS_VALUE}\" required=\"true\" /></elements>\n    </policy>"
    );
    for (index, setting) in settings.iter().enumerate() {
        let (title, description) = match setting {
            Setting::Choice {
                title, description, ..
            }
            | Setting::Switch {
                title, description, ..
            }
            | Setting::Numbers {
                title, description, ..
            } => (title, description),
        };
        string(&format!("s{index}_title"), title);
        string(&format!("s{index}_help"), description);
        let name = setting.name();
        match setting {
            Setting::Choice { values, .. } => {
                let _ = writeln!(
                    presentations,
                    "      <presentation id=\"s{index}\">\n        <dropdownList refId=\"{name}\" noSort=\"true\">{}</dropdownList>\n      </presentation>",
                    escape(title)
                );
                for value in values {
                    string(&format!("s{index}_{}", value.replace('-', "_")), value);
                }
            }
            Setting::Numbers { .. } => {
                let _ = writeln!(
                    presentations,
                    "      <presentation id=\"s{index}\">\n        <listBox refId=\"{name}\">{}</listBox>\n      </presentation>",
                    escape(title)
                );
            }
            Setting::Switch { .. } => {}
        }
        for (browser, _, browser_key) in BROWSERS {
            let key = format!(r"{browser_key}\3rdparty\extensions\{id}\policy");
            let head = format!(
                "    <policy name=\"{browser}_{name}\" class=\"Machine\" displayName=\"$(string.s{index}_title)\" explainText=\"$(string.s{index}_help)\" key=\"{key}\""
            );
            let tail = format!(
                "      <parentCategory ref=\"{browser}\" />\n      <supportedOn ref=\"SUPPORTED\" />"
            );
            match setting {
                Setting::Switch { .. } => {
                    let _ = writeln!(
                        admx,
                        "{head} valueName=\"{name}\">\n{tail}\n      \
                         <enabledValue><decimal value=\"1\" /></enabledValue>\n      \
                         <disabledValue><decimal value=\"0\" /></disabledValue>\n    </policy>"
                    );
                }
                Setting::Choice { values, .. } => {
                    let items: String = values
                        .iter()
                        .map(|value| {
                            format!(
                                "\n          <item displayName=\"$(string.s{index}_{})\"><value><string>{}</string></value></item>",
                                value.replace('-', "_"),
                                escape(value)
                            )
                        })
                        .collect();
                    let _ = writeln!(
                        admx,
                        "{head} presentation=\"$(presentation.s{index})\">\n{tail}\n      \
                         <elements>\n        <enum id=\"{name}\" valueName=\"{name}\" required=\"true\">{items}\n        </enum>\n      </elements>\n    </policy>"
                    );
                }
                Setting::Numbers { .. } => {
                    // A list policy's values are named 1, 2, ... in a key of the setting's name,
                    // as Chrome and Edge read an extension's list policy from the registry.
                    let _ = writeln!(
                        admx,
                        "{head} presentation=\"$(presentation.s{index})\">\n{tail}\n      \
                         <elements>\n        <list id=\"{name}\" key=\"{key}\\{name}\" valuePrefix=\"\" />\n      </elements>\n    </policy>"
                    );
                }
            }
        }
    }
    admx.push_str("  </policies>\n</policyDefinitions>\n");
    let adml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <policyDefinitionResources xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" revision=\"1.0\" schemaVersion=\"1.0\" xmlns=\"http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions\">\n  \
         <displayName>caiso-access</displayName>\n  <description>caiso-access for the extension {id}</description>\n  \
         <resources>\n    <stringTable>\n{strings}    </stringTable>\n    <presentationTable>\n{presentations}    </presentationTable>\n  </resources>\n\
         </policyDefinitionResources>\n"
    );
    (admx, adml)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caiso_soap::xml::{self, Element};

    const ID: &str = "abcdefghijklmnopabcdefghijklmnop";

    fn all<'a>(root: &'a Element, local: &str) -> Vec<&'a Element> {
        root.descendants()
            .into_iter()
            .filter(|e| e.local == local)
            .collect()
    }

    fn attribute<'a>(element: &'a Element, name: &str) -> &'a str {
        element.attribute(None, name).unwrap_or_default()
    }

    #[test]
    fn every_managed_setting_is_a_policy_for_chrome_and_edge_with_the_schemas_rules() {
        let schema: serde_json::Value = serde_json::from_slice(
            &std::fs::read(root().join("extension/static/managed_schema.json")).expect("schema"),
        )
        .expect("json");
        let settings = extension_settings().expect("settings");
        let (admx, adml) = templates(ID, &settings);
        let admx = xml::parse(&admx).expect("the ADMX parses");
        let adml = xml::parse(&adml).expect("the ADML parses");
        let policies = all(&admx, "policy");
        let names = schema["properties"].as_object().expect("properties");
        assert_eq!(policies.len(), 1 + 2 * names.len());
        for (name, property) in names {
            for (browser, _, key) in BROWSERS {
                let policy = policies
                    .iter()
                    .find(|p| attribute(p, "name") == format!("{browser}_{name}"))
                    .unwrap_or_else(|| panic!("{browser}_{name}"));
                assert_eq!(
                    attribute(policy, "key"),
                    format!(r"{key}\3rdparty\extensions\{ID}\policy")
                );
                match property["type"].as_str() {
                    Some("string") => {
                        let values: Vec<String> =
                            all(policy, "string").iter().map(|s| s.text()).collect();
                        let expected: Vec<String> = property["enum"]
                            .as_array()
                            .expect("enum")
                            .iter()
                            .map(|v| v.as_str().expect("text").to_owned())
                            .collect();
                        assert_eq!(values, expected, "{name}");
                        assert_eq!(attribute(all(policy, "enum")[0], "valueName"), name);
                    }
                    Some("boolean") => {
                        assert_eq!(attribute(policy, "valueName"), name);
                        assert_eq!(
                            attribute(
                                all(policy, "enabledValue")[0]
                                    .elements()
                                    .next()
                                    .expect("value"),
                                "value"
                            ),
                            "1"
                        );
                    }
                    Some("array") => {
                        let list = all(policy, "list")[0];
                        assert_eq!(
                            attribute(list, "key"),
                            format!(r"{key}\3rdparty\extensions\{ID}\policy\{name}")
                        );
                        assert_eq!(attribute(list, "valuePrefix"), "");
                    }
                    other => panic!("{name}: {other:?}"),
                }
            }
        }
        // Every string and presentation the ADMX names is in the ADML.
        let defined: Vec<&str> = all(&adml, "string")
            .iter()
            .map(|s| attribute(s, "id"))
            .collect();
        let presented: Vec<&str> = all(&adml, "presentation")
            .iter()
            .map(|s| attribute(s, "id"))
            .collect();
        for element in admx.descendants() {
            for attribute in &element.attributes {
                for (prefix, known) in [("$(string.", &defined), ("$(presentation.", &presented)] {
                    if let Some(rest) = attribute.value.strip_prefix(prefix) {
                        let id = rest.trim_end_matches(')');
                        assert!(known.contains(&id), "{} names {id}", attribute.local);
                    }
                }
            }
        }
        // The host's machine policy, as machine_policy.rs reads it.
        let host = policies
            .iter()
            .find(|p| attribute(p, "name") == HOST_METRICS_VALUE)
            .expect("host policy");
        assert_eq!(attribute(host, "key"), r"Software\Policies\caiso-access");
        assert_eq!(
            attribute(all(host, "text")[0], "valueName"),
            "MetricsTextfileDirectory"
        );
    }

    #[test]
    fn a_setting_of_another_form_stops_the_templates() {
        let schema = serde_json::json!({"properties": {"proxy": {"type": "object"}}});
        let error = settings(&schema).expect_err("object");
        assert!(
            error.contains("managed setting proxy: no Group Policy form"),
            "{error}"
        );
        let schema = serde_json::json!({"properties": {"x": {"type": "string", "enum": [1]}}});
        assert!(settings(&schema).is_err());
    }
}

//! Issue 28: CAISO's request schemas imported from an artifact package (a zip as a download
//! holds it), then test calls written from them, checked by the sandbox against the same
//! schemas (`caiso-sandbox --schemas`) and by xmllint, with the WSDL's SOAPAction; a schema the
//! product cannot fill stops the call with nothing sent; hostile packages change nothing and
//! leak nothing.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::Workstation;
use common::calls::{caiso_with, call, host_for};
use serde_json::Value;

const GENERATED_NS: &str = "http://www.caiso.com/soa/RequestMarketAwards_v4.xsd#";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/schemas")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A zip entry: its name and bytes.
type Entry<'a> = (&'a str, Vec<u8>);

/// A zip of `entries`, deflated, as CAISO's developer site gives packages.
fn zip_of(path: &Path, entries: &[Entry<'_>]) {
    let file = std::fs::File::create(path).expect("zip file");
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
}

/// The package of CMRI market awards v4: the request schema, both WSDLs, a schema outside the
/// subset and a read-me.
fn awards_package(dir: &Path, schema: &str) -> PathBuf {
    let path = dir.join("RetrieveMarketAwards_v4_artifacts.zip");
    zip_of(
        &path,
        &[
            ("v4/RequestMarketAwards_v4.xsd", schema.as_bytes().to_vec()),
            (
                "v4/retrieveMarketAwards_v4.wsdl",
                fixture("retrieveMarketAwards_v4.wsdl").into_bytes(),
            ),
            (
                "v4/retrieveMarketAwards_v4_DocAttach.wsdl",
                fixture("retrieveMarketAwards_v4_DocAttach.wsdl").into_bytes(),
            ),
            (
                "v4/StandardOutput.xsd",
                br#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:so"><xs:complexType name="o"><xs:attribute name="id"/></xs:complexType></xs:schema>"#.to_vec(),
            ),
            ("readme.txt", b"CAISO artifacts".to_vec()),
        ],
    );
    path
}

fn schemas_folder(host: &Workstation) -> PathBuf {
    host.config_dir().join("schemas")
}

/// The files of the schemas folder and their bytes (what an import may change).
fn snapshot(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<(String, Vec<u8>)> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    all.sort();
    all
}

/// The request element of the first request saved in the folder `saved`, canonicalized (a
/// standalone document xmllint can read).
fn sent_request(saved: &Path) -> String {
    let text = std::fs::read_dir(saved)
        .expect("saved exchanges")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|t| t.contains("Envelope") && t.contains("<RequestMarketAwards"))
        .expect("a saved request");
    let named = text.find("Envelope").expect("an envelope");
    let start = text[..named].rfind('<').expect("its start tag");
    let end = text.rfind("Envelope>").expect("its end tag") + "Envelope>".len();
    let envelope = caiso_soap::xml::parse(&text[start..end]).expect("envelope parses");
    let body = envelope
        .child(caiso_soap::xml::NS_SOAP, "Body")
        .expect("body");
    let request = body.elements().next().expect("request element");
    caiso_soap::c14n::canonicalize(request)
}

#[test]
fn an_imported_package_writes_the_request_the_sandbox_and_xmllint_check() {
    // Both of CAISO's schema styles: generated (namespace with `#`, alphabetical, capitalised
    // list elements) and hand-written (no `#`, its own order, lower-case list elements: a
    // request the built-in description would not have written).
    for (style, namespace) in [
        ("generated", GENERATED_NS),
        ("hand_written", GENERATED_NS.trim_end_matches('#')),
    ] {
        follows_the_imported_schema(&format!("RequestMarketAwards_v4_{style}.xsd"), namespace);
    }
}

fn follows_the_imported_schema(schema_fixture: &str, namespace: &str) {
    let folder_for_sandbox = tempfile::tempdir().expect("dir");
    let shared_schemas = folder_for_sandbox.path().join("schemas");
    let sandbox = caiso_with(&[], |o| o.schemas = Some(shared_schemas.clone()));
    let host = host_for(&sandbox, "valid-legacy.p12");
    let package = awards_package(host.temp.path(), &fixture(schema_fixture));

    let output = host.cli(&["schemas", "import", package.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "cmri-market-awards  (",
        "cmri-market-awards-docattach  (",
        "SOAPAction http://www.caiso.com/soa/retrieveMarketAwards_v4, from the package's WSDL",
        "SOAPAction http://www.caiso.com/soa/retrieveMarketAwards_v4_DocAttach, from the package's WSDL",
        "v4/StandardOutput.xsd: the attribute",
        "4 schema and WSDL file(s) read, 1 other entr(ies) set aside; 2 operation(s) recognised",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    // The sandbox checks against the very files the host kept.
    let kept = schemas_folder(&host);
    std::fs::create_dir_all(&shared_schemas).expect("folder");
    for (name, bytes) in snapshot(&kept) {
        std::fs::write(shared_schemas.join(name), bytes).expect("copy");
    }
    let list = host.cli_ok(&["schemas", "list"]);
    let kept_line = format!(
        "v4/RequestMarketAwards_v4.xsd (namespace {namespace}), from RetrieveMarketAwards_v4_artifacts.zip"
    );
    assert!(list.contains(&kept_line), "{list}");

    // The tests listing and the call's result say where the request comes from.
    let tests: Value = serde_json::from_str(&host.cli_ok(&["tests", "--json"])).expect("json");
    let awards = tests["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|o| o["service"] == "RetrieveMarketAwards_CMRIv4_AP")
        .expect("awards")
        .clone();
    assert_eq!(awards["request_evidence"]["level"], "schema", "{awards}");
    assert!(
        awards["request_evidence"]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with(
                "checked against your copy of CAISO's schema (RequestMarketAwards_v4.xsd, imported "
            )),
        "{awards}"
    );
    let saved = host.temp.path().join("exchanges");
    let output = host.cli(&[
        "call",
        "prod",
        "cmri",
        "RetrieveMarketAwards_CMRIv4_AP",
        "--environment",
        "sandbox",
        "--json",
        "--save",
        saved.to_str().expect("utf-8"),
    ]);
    let ok = output.status.success();
    // The reports, then where the exchange was saved.
    let reports: Vec<Value> = serde_json::Deserializer::from_slice(&output.stdout)
        .into_iter()
        .next()
        .expect("reports")
        .expect("json");
    assert!(ok, "{reports:?}");
    assert_eq!(reports[0]["class"], "success", "{reports:?}");
    assert_eq!(reports[0]["request_evidence"], "schema", "{reports:?}");
    let seen = sandbox.log();
    let awards_seen = seen
        .iter()
        .find(|e| e["operation"] == "cmri-market-awards")
        .expect("the sandbox got the call");
    assert_eq!(
        awards_seen["soap_action"], "http://www.caiso.com/soa/retrieveMarketAwards_v4",
        "{awards_seen}"
    );
    // The request as sent follows the schema by xmllint's reading too.
    let request = sent_request(&saved);
    assert!(
        request.contains(&format!("xmlns=\"{namespace}\"")),
        "{request}"
    );
    let schema_file = host.temp.path().join("RequestMarketAwards_v4.xsd");
    std::fs::write(&schema_file, fixture(schema_fixture)).expect("schema");
    let document = host.temp.path().join("request.xml");
    std::fs::write(&document, &request).expect("request");
    #[cfg(unix)]
    {
        let xmllint = std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema_file)
            .arg(&document)
            .output()
            .expect("xmllint");
        assert!(
            xmllint.status.success(),
            "{}\n{request}",
            String::from_utf8_lossy(&xmllint.stderr)
        );
    }

    // The support report names where the request comes from.
    let written = host.temp.path().join("report.txt");
    host.cli_ok(&[
        "report",
        "prod",
        "--environment",
        "sandbox",
        "--out",
        written.to_str().expect("utf-8"),
    ]);
    let report = std::fs::read_to_string(&written).expect("the report");
    assert!(
        report.contains("Request document:")
            && report.contains("cmri-market-awards checked against your copy of CAISO's schema (RequestMarketAwards_v4.xsd, imported "),
        "{report}"
    );

    // Forgotten: the built-in request again.
    let removed = host.cli_ok(&["schemas", "remove", "cmri-market-awards"]);
    assert!(
        removed.contains("forgot the schema of cmri-market-awards"),
        "{removed}"
    );
    let tests: Value = serde_json::from_str(&host.cli_ok(&["tests", "--json"])).expect("json");
    let level = tests["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|o| o["service"] == "RetrieveMarketAwards_CMRIv4_AP")
        .map(|o| o["request_evidence"]["level"].clone());
    assert_eq!(level, Some(Value::from("inferred")));
    // The sandbox still holds the schema: the built-in request does not follow the
    // hand-written one (its namespace, order and case differ), and the sandbox says so.
    let (reports, _) = call(&host, &["cmri", "RetrieveMarketAwards_CMRIv4_AP"]);
    let last = sandbox.log().last().cloned().expect("logged");
    if namespace == GENERATED_NS {
        assert_eq!(reports[0]["class"], "success", "{reports:?}");
    } else {
        assert_eq!(reports[0]["class"], "not_understood", "{reports:?}");
        assert_eq!(last["outcome"], "schema", "{last}");
    }
}

#[test]
fn a_schema_the_product_cannot_fill_stops_the_call_with_nothing_sent() {
    let sandbox = caiso_with(&[], |_| {});
    let host = host_for(&sandbox, "valid-legacy.p12");
    let demanding = fixture("RequestMarketAwards_v4_generated.xsd").replace(
        r#"<xs:element name="dateTimeEnd""#,
        r#"<xs:element name="bindingFlag" type="xs:string"/><xs:element name="dateTimeEnd""#,
    );
    let package = awards_package(host.temp.path(), &demanding);
    let imported = host.cli_ok(&["schemas", "import", package.to_str().expect("utf-8")]);
    assert!(
        imported.contains("calls will stop before sending: your copy of CAISO's schema requires RequestMarketAwards/MessagePayload/RequestMarketAwardRecord/bindingFlag"),
        "{imported}"
    );
    let (reports, ok) = call(&host, &["cmri", "RetrieveMarketAwards_CMRIv4_AP"]);
    assert!(!ok);
    assert_eq!(reports[0]["class"], "refused_by_schema", "{reports:?}");
    assert!(
        reports[0]["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("bindingFlag")),
        "{reports:?}"
    );
    assert!(
        sandbox
            .log()
            .iter()
            .all(|e| e["operation"] != "cmri-market-awards"),
        "nothing reached the sandbox: {:?}",
        sandbox.log()
    );
}

#[test]
fn hostile_packages_change_nothing_and_leak_nothing() {
    let host = Workstation::new();
    let dir = host.temp.path();
    // A good import first: what every hostile one must leave as it is.
    let good = awards_package(dir, &fixture("RequestMarketAwards_v4_generated.xsd"));
    host.cli_ok(&["schemas", "import", good.to_str().expect("utf-8")]);
    let before = snapshot(&schemas_folder(&host));
    assert!(!before.is_empty());
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT").expect("secret");
    let schema = fixture("RequestMarketAwards_v4_generated.xsd");
    let root_tag = r#"<xs:element name="RequestMarketAwards" type="m:RequestMarketAwards"/>"#;
    let cases: Vec<(&str, Vec<Entry>)> = vec![
        (
            "an external entity",
            vec![(
                "RequestMarketAwards_v4.xsd",
                format!(
                    "<!DOCTYPE x [<!ENTITY e SYSTEM \"file://{}\">]>{}",
                    secret.display(),
                    schema.replace("<xs:annotation>", "<xs:annotation>&e;")
                )
                .into_bytes(),
            )],
        ),
        (
            "a name out of the package",
            vec![(
                "../../RequestMarketAwards_v4.xsd",
                schema.clone().into_bytes(),
            )],
        ),
        (
            "an include outside the package",
            vec![(
                "RequestMarketAwards_v4.xsd",
                schema
                    .replace(
                        root_tag,
                        &format!(
                            r#"<xs:include schemaLocation="../{}"/>{root_tag}"#,
                            secret.display()
                        ),
                    )
                    .into_bytes(),
            )],
        ),
        (
            "deep nesting",
            vec![(
                "RequestMarketAwards_v4.xsd",
                format!(
                    "{}{}",
                    "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">".to_owned()
                        + &"<a>".repeat(5000),
                    "</a>".repeat(5000) + "</xs:schema>"
                )
                .into_bytes(),
            )],
        ),
    ];
    for (case, entries) in cases {
        let package = dir.join("hostile.zip");
        zip_of(&package, &entries);
        let output = host.cli(&["schemas", "import", package.to_str().expect("utf-8")]);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.code(), Some(1), "{case}: {said}");
        assert!(said.contains("nothing was changed"), "{case}: {said}");
        assert!(!said.contains("TOP-SECRET"), "{case} leaked: {said}");
        assert_eq!(
            snapshot(&schemas_folder(&host)),
            before,
            "{case} changed the kept schemas"
        );
        assert!(
            !dir.join("RequestMarketAwards_v4.xsd").exists()
                && !host
                    .config_dir()
                    .join("RequestMarketAwards_v4.xsd")
                    .exists(),
            "{case} wrote by the entry's name"
        );
    }
    // A bomb: an entry that decompresses far past the caps is stopped at the cap.
    let bomb = dir.join("bomb.zip");
    let mut zeros = b"<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">".to_vec();
    zeros.resize(200 * 1024 * 1024, b' ');
    zip_of(&bomb, &[("RequestMarketAwards_v4.xsd", zeros)]);
    let started = std::time::Instant::now();
    let output = host.cli(&["schemas", "import", bomb.to_str().expect("utf-8")]);
    let took = started.elapsed();
    let said = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("larger than"), "{said}");
    assert!(
        took < std::time::Duration::from_secs(5),
        "the bomb took {took:?}"
    );
    assert_eq!(snapshot(&schemas_folder(&host)), before);
    // Not a zip at all.
    let output = host.cli(&["schemas", "import", secret.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a zip file"));
    assert_eq!(snapshot(&schemas_folder(&host)), before);
}

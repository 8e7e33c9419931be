//! Requests written from CAISO's own request schemas, in both styles the evidence shows: the
//! hand-written one (namespace without `#`, `MessageHeader` optional, lower-case list elements,
//! the order a person chose) and the generated one (namespace with `#`, types behind an `m:`
//! prefix, `sawsdl` annotations, alphabetical order, capitalised list elements). Every document
//! written is checked by xmllint (libxml2, an independent validator) as well as by our own
//! validator, and the two must agree on documents made wrong on purpose.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use caiso_shared::operations::OperationCatalog;
use caiso_soap::request::Values;
use caiso_soap::schema::model::QName;
use caiso_soap::schema::{SchemaSet, WriteError, package, validate, write};
use caiso_soap::xml;
use time::macros::datetime;

const HAND_WRITTEN_NS: &str = "http://www.caiso.com/soa/RequestMarketAwards_v4.xsd";
const GENERATED_NS: &str = "http://www.caiso.com/soa/RequestMarketAwards_v4.xsd#";

/// A file of `tests/fixtures/schemas`.
fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/schemas")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The hand-written style (as CAISO's v2 schema): no `#`, default-namespace type references,
/// the header optional; `record_extra` added at the end of the record, and only
/// `market_types` of DAM and RTM allowed.
fn hand_written(record_extra: &str, market_types: &[&str]) -> String {
    let mut text = fixture("RequestMarketAwards_v4_hand_written.xsd");
    let last = r#"<xs:element minOccurs="0" name="resourceList" type="resourceList" />"#;
    assert!(text.contains(last));
    text = text.replace(last, &format!("{last}{record_extra}"));
    for market in ["DAM", "RTM"] {
        if !market_types.contains(&market) {
            text = text.replace(&format!(r#"<xs:enumeration value="{market}" />"#), "");
        }
    }
    text
}

/// The generated style (as CAISO's 2016+ schemas): `#`, an `m:` prefix, `sawsdl` annotations,
/// alphabetical order, capitalised list elements holding one value each.
fn generated() -> String {
    fixture("RequestMarketAwards_v4_generated.xsd")
}

fn catalog() -> OperationCatalog {
    OperationCatalog::builtin()
}

fn awards() -> caiso_shared::operations::Operation {
    catalog()
        .operations
        .into_iter()
        .find(|o| o.id == "cmri-market-awards")
        .expect("the awards operation")
}

fn values(sc: Option<&str>) -> BTreeMap<String, String> {
    sc.map(|sc| BTreeMap::from([("sc_id".to_owned(), sc.to_owned())]))
        .unwrap_or_default()
}

/// The awards request written from `schema` with `parameters`, at the tests' clock.
fn write_awards(
    schema: &caiso_soap::schema::Compiled,
    parameters: &BTreeMap<String, String>,
) -> Result<caiso_soap::schema::Written, WriteError> {
    write(
        schema,
        &awards().request,
        &Values {
            now: datetime!(2026-11-22 12:00 UTC),
            parameters,
        },
    )
}

fn compile(name: &str, text: &str, root_ns: &str) -> caiso_soap::schema::Compiled {
    let files = BTreeMap::from([(name.to_owned(), text.to_owned())]);
    let set = SchemaSet::read(&files);
    assert!(set.not_understood.is_empty(), "{:?}", set.not_understood);
    set.compile(name, &QName::new(Some(root_ns), "RequestMarketAwards"))
        .expect("compiles")
}

/// xmllint's verdict on `document` against the schema `text` (both written to `dir`).
fn xmllint(dir: &Path, schema: &str, document: &str) -> Result<(), String> {
    let schema_path = dir.join("schema.xsd");
    let document_path = dir.join("document.xml");
    std::fs::write(&schema_path, schema).expect("schema");
    std::fs::write(&document_path, document).expect("document");
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema_path)
        .arg(&document_path)
        .output()
        .expect("xmllint (libxml2-utils, in the set-up's packages)");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn local_names(document: &str) -> Vec<String> {
    xml::parse(document)
        .expect("xml")
        .descendants()
        .into_iter()
        .map(|e| e.local.clone())
        .collect()
}

#[test]
fn a_request_follows_a_hand_written_schema_and_xmllint_agrees() {
    let dir = tempfile::tempdir().expect("dir");
    let schema_text = hand_written("", &["DAM", "RTM"]);
    let schema = compile("RequestMarketAwards_v4.xsd", &schema_text, HAND_WRITTEN_NS);
    let parameters = values(Some("ABC1"));
    let written = write_awards(&schema, &parameters).expect("written");
    let document = &written.document;
    assert!(
        document.starts_with(&format!(
            "<RequestMarketAwards xmlns=\"{HAND_WRITTEN_NS}\">"
        )),
        "the namespace exactly as the schema has it: {document}"
    );
    assert_eq!(
        local_names(document),
        [
            "RequestMarketAwards",
            "MessageHeader",
            "TimeDate",
            "Source",
            "Version",
            "MessagePayload",
            "RequestMarketAwardRecord",
            "dateTimeStart",
            "dateTimeEnd",
            "marketType",
            "executionType",
            "schedulingCoordinatorList",
            "schedulingCoordinator"
        ],
        "the schema's order and case: {document}"
    );
    assert!(
        document.contains("<Version>v20161001</Version>"),
        "{document}"
    );
    assert!(written.unused.is_empty(), "{:?}", written.unused);
    validate(&schema, &xml::parse(document).expect("xml")).expect("our validator");
    xmllint(dir.path(), &schema_text, document).expect("xmllint");
}

#[test]
fn a_request_follows_a_generated_schema_and_xmllint_agrees() {
    let dir = tempfile::tempdir().expect("dir");
    let schema_text = generated();
    let schema = compile("RequestMarketAwards_v4.xsd", &schema_text, GENERATED_NS);
    let parameters = values(Some("ABC1"));
    let written = write_awards(&schema, &parameters).expect("written");
    let document = &written.document;
    assert!(
        document.starts_with(&format!("<RequestMarketAwards xmlns=\"{GENERATED_NS}\">")),
        "{document}"
    );
    assert_eq!(
        local_names(document)[6..],
        [
            "RequestMarketAwardRecord",
            "dateTimeEnd",
            "dateTimeStart",
            "executionType",
            "marketType",
            "SchedulingCoordinatorList",
            "schedulingCoordinator"
        ],
        "{document}"
    );
    validate(&schema, &xml::parse(document).expect("xml")).expect("our validator");
    xmllint(dir.path(), &schema_text, document).expect("xmllint");
}

#[test]
fn what_the_schema_demands_and_the_product_cannot_give_stops_the_writing() {
    // A required element the product has no value for.
    let demanding = hand_written(
        r#"<xs:element name="bindingFlag" type="xs:string" />"#,
        &["DAM", "RTM"],
    );
    let schema = compile("a.xsd", &demanding, HAND_WRITTEN_NS);
    let parameters = values(Some("ABC1"));
    let error = write_awards(&schema, &parameters).expect_err("unfillable");
    assert_eq!(
        error,
        WriteError::Unfillable(
            "RequestMarketAwards/MessagePayload/RequestMarketAwardRecord/bindingFlag".into()
        )
    );
    assert!(error.to_string().contains("bindingFlag"), "{error}");
    // A value outside the schema's enumeration.
    let narrow = hand_written("", &["RTM"]);
    let schema = compile("b.xsd", &narrow, HAND_WRITTEN_NS);
    let error = write_awards(&schema, &parameters).expect_err("not allowed");
    assert!(
        matches!(&error, WriteError::NotAllowed(path, why) if path.ends_with("/marketType") && why.contains("RTM")),
        "{error:?}"
    );
    // No SC ID, and the schema requires the list.
    let schema = compile("c.xsd", &hand_written("", &["DAM"]), HAND_WRITTEN_NS);
    let none = values(None);
    let error = write_awards(&schema, &none).expect_err("no SC");
    assert!(
        error.to_string().contains("schedulingCoordinatorList"),
        "{error}"
    );
    // An SC ID the schema's pattern refuses.
    let lower = values(Some("abc"));
    let error = write_awards(&schema, &lower).expect_err("pattern");
    assert!(error.to_string().contains("pattern"), "{error}");
}

#[test]
fn our_validator_and_xmllint_agree_on_documents_made_wrong() {
    let dir = tempfile::tempdir().expect("dir");
    let schema_text = hand_written("", &["DAM", "RTM"]);
    let schema = compile("RequestMarketAwards_v4.xsd", &schema_text, HAND_WRITTEN_NS);
    let parameters = values(Some("ABC1"));
    let good = write_awards(&schema, &parameters)
        .expect("written")
        .document;
    let start = "<dateTimeStart>2026-11-22T08:00:00Z</dateTimeStart>";
    let end = "<dateTimeEnd>2026-11-23T08:00:00Z</dateTimeEnd>";
    assert!(good.contains(start) && good.contains(end), "{good}");
    let cases: Vec<(&str, String)> = vec![
        ("as written", good.clone()),
        (
            "order swapped",
            good.replace(start, "#")
                .replace(end, start)
                .replace('#', end),
        ),
        ("an element missing", good.replace(end, "")),
        (
            "a value outside the enumeration",
            good.replace(">DAM<", ">XYZ<"),
        ),
        (
            "not a date-time",
            good.replace("2026-11-22T08:00:00Z", "yesterday"),
        ),
        (
            "an unknown element",
            good.replace(end, &format!("{end}<extra>1</extra>")),
        ),
        ("the pattern broken", good.replace(">ABC1<", ">abc<")),
        // Valid: this style makes the header optional.
        ("the header left out", {
            let from = good.find("<MessageHeader>").expect("header");
            let to = good.find("</MessageHeader>").expect("header end") + "</MessageHeader>".len();
            format!("{}{}", &good[..from], &good[to..])
        }),
        (
            "an attribute",
            good.replace("<marketType>", "<marketType x=\"1\">"),
        ),
        (
            "the namespace with #",
            good.replace(HAND_WRITTEN_NS, GENERATED_NS),
        ),
    ];
    let count = cases.len();
    let mut refused = 0;
    for (case, document) in cases {
        let ours = validate(&schema, &xml::parse(&document).expect("xml")).is_ok();
        let theirs = xmllint(dir.path(), &schema_text, &document);
        assert_eq!(
            ours,
            theirs.is_ok(),
            "{case}: ours {ours}, xmllint {theirs:?}\n{document}"
        );
        refused += usize::from(!ours);
    }
    assert_eq!(
        refused,
        count - 2,
        "every case is wrong but the first and the header's"
    );
}

/// Found by the fuzz target: a required element whose type requires that element again
/// compiles (a recursive type is legal XSD) but cannot be written; the writer stops at its
/// depth cap with the path, and what it writes short of that parses and validates.
#[test]
fn a_type_that_requires_itself_stops_the_writing_at_the_depth_cap() {
    let looping = |occurs: &str| {
        hand_written(
            &format!(r#"<xs:element {occurs} name="nested" type="Nested" />"#),
            &["DAM", "RTM"],
        )
        .replace(
            "</xs:schema>",
            r#"<xs:complexType name="Nested"><xs:sequence><xs:element name="nested" type="Nested" /></xs:sequence></xs:complexType></xs:schema>"#,
        )
    };
    let compiled = compile("loop.xsd", &looping(""), HAND_WRITTEN_NS);
    let parameters = values(Some("ABC1"));
    let error = write_awards(&compiled, &parameters).expect_err("unbounded");
    let WriteError::Unbounded(path) = &error else {
        panic!("{error:?}");
    };
    // The first element that would be the 65th level: the root, MessagePayload, the record
    // and 62 of `nested`.
    assert_eq!(path.split('/').count(), 65, "{path}");
    assert_eq!(path.matches("/nested").count(), 62, "{path}");
    assert!(
        error.to_string().contains("a type that requires itself"),
        "{error}"
    );
    // Optional, the same recursion writes nothing of it.
    let compiled = compile(
        "optional.xsd",
        &looping(r#"minOccurs="0""#),
        HAND_WRITTEN_NS,
    );
    let written = write_awards(&compiled, &parameters).expect("written");
    assert!(!written.document.contains("nested"), "{}", written.document);
    let document = caiso_soap::xml::parse(&written.document).expect("parses");
    validate(&compiled, &document).expect("valid");
}

/// A schema whose required content multiplies without recursion (ten required children of
/// ten of ten ..., or choices whose every alternative fails only at the bottom) would have the
/// writer visit 10^5 or 2^20 elements; it stops at its budget instead.
#[test]
fn a_schema_that_multiplies_stops_the_writing_at_the_element_budget() {
    let chain = |levels: usize, group: &str, width: usize, bottom: &str| {
        let mut types = String::new();
        for level in 0..levels {
            let items: String = (0..width)
                .map(|i| format!(r#"<xs:element name="e{i}" type="T{}" />"#, level + 1))
                .collect();
            types.push_str(&format!(
                r#"<xs:complexType name="T{level}"><xs:{group}>{items}</xs:{group}></xs:complexType>"#
            ));
        }
        types.push_str(&format!(
            r#"<xs:complexType name="T{levels}">{bottom}</xs:complexType>"#
        ));
        hand_written(r#"<xs:element name="wide" type="T0" />"#, &["DAM", "RTM"])
            .replace("</xs:schema>", &format!("{types}</xs:schema>"))
    };
    let parameters = values(Some("ABC1"));
    for (what, schema) in [
        ("ten of ten, five deep", chain(5, "sequence", 10, "")),
        (
            "two choices each, twenty deep, failing at the bottom",
            chain(
                20,
                "choice",
                2,
                r#"<xs:sequence><xs:element name="bottom" type="xs:string" /></xs:sequence>"#,
            ),
        ),
    ] {
        let compiled = compile("wide.xsd", &schema, HAND_WRITTEN_NS);
        let error = write_awards(&compiled, &parameters).expect_err(what);
        assert!(
            matches!(error, WriteError::Unbounded(_)),
            "{what}: {error:?}"
        );
    }
}

#[test]
fn constructs_outside_the_subset_make_the_schema_not_understood_by_name() {
    let with = |inner: &str| {
        format!(
            r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x" xmlns="urn:x" elementFormDefault="qualified">{inner}</xs:schema>"#
        )
    };
    for (construct, schema) in [
        ("xs:group", with(r#"<xs:group name="g"><xs:sequence/></xs:group>"#)),
        (
            "xs:complexContent",
            with(r#"<xs:complexType name="t"><xs:complexContent><xs:extension base="x"/></xs:complexContent></xs:complexType>"#),
        ),
        (
            "xs:any",
            with(r#"<xs:complexType name="t"><xs:sequence><xs:any/></xs:sequence></xs:complexType>"#),
        ),
        (
            "xs:attribute",
            with(r#"<xs:complexType name="t"><xs:attribute name="a"/></xs:complexType>"#),
        ),
        (
            "the facet xs:minInclusive",
            with(r#"<xs:simpleType name="n"><xs:restriction base="xs:int"><xs:minInclusive value="1"/></xs:restriction></xs:simpleType>"#),
        ),
        (
            "xs:anyType",
            with(r#"<xs:element name="e"/>"#),
        ),
        // Names a request could never carry: they would be written into the document as they
        // are (a name with `<` in it writes markup of the schema's choosing).
        (
            "the element name \"a<b\"",
            with(r#"<xs:element name="a&lt;b" type="xs:string"/>"#),
        ),
        (
            "the element name \"1st\"",
            with(r#"<xs:complexType name="t"><xs:sequence><xs:element name="1st" type="xs:string"/></xs:sequence></xs:complexType>"#),
        ),
        (
            "the type name \"a b\"",
            with(r#"<xs:simpleType name="a b"><xs:restriction base="xs:string"/></xs:simpleType>"#),
        ),
        ("the name \"x:\"", with(r#"<xs:element name="e" type="x:"/>"#)),
        (
            "U+0000",
            with("<xs:element name=\"a\u{0}b\" type=\"xs:string\"/>"),
        ),
        (
            "not a well-formed",
            r#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">&e;</xs:schema>"#.to_owned(),
        ),
    ] {
        let files = BTreeMap::from([("s.xsd".to_owned(), schema)]);
        let set = SchemaSet::read(&files);
        let why = set.not_understood.get("s.xsd").unwrap_or_else(|| panic!("{construct}: understood"));
        assert!(why.to_string().contains(construct), "{construct}: {why}");
    }
}

#[test]
fn a_wsdl_gives_the_soap_action_of_each_form_and_the_request_is_recognised() {
    let files = BTreeMap::from([
        ("v4/RequestMarketAwards_v4.xsd".to_owned(), generated()),
        (
            "v4/retrieveMarketAwards_v4.wsdl".to_owned(),
            fixture("retrieveMarketAwards_v4.wsdl"),
        ),
        (
            "v4/retrieveMarketAwards_v4_DocAttach.wsdl".to_owned(),
            fixture("retrieveMarketAwards_v4_DocAttach.wsdl"),
        ),
        ("v4/readme.txt".to_owned(), "not a schema".to_owned()),
    ]);
    let set = SchemaSet::read(&files);
    let (offered, unread) = package::offered(&files);
    assert!(unread.is_empty(), "{unread:?}");
    let recognised = package::recognise(&set, &offered, &catalog().operations);
    let by_operation: BTreeMap<&str, Option<&str>> = recognised
        .iter()
        .map(|r| {
            (
                r.operation.as_str(),
                r.soap_action.as_ref().map(|(a, _)| a.as_str()),
            )
        })
        .collect();
    assert_eq!(
        by_operation,
        BTreeMap::from([
            (
                "cmri-market-awards",
                Some("http://www.caiso.com/soa/retrieveMarketAwards_v4")
            ),
            (
                "cmri-market-awards-docattach",
                Some("http://www.caiso.com/soa/retrieveMarketAwards_v4_DocAttach")
            ),
        ])
    );
    assert!(
        recognised
            .iter()
            .all(|r| r.root.namespace.as_deref() == Some(GENERATED_NS))
    );
}

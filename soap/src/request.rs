//! CAISO request documents: written from the operation's typed description
//! ([`caiso_shared::operations::RequestDocument`]) and the call's values through an XML writer
//! (names checked by the catalog, text escaped by the writer), and checked against that
//! description (the sandbox refuses a document that does not have the expected shape).
//!
//! The document is the element directly under `soap:Body`: the root in the operation's
//! namespace (a default namespace declaration, so every child is in it), `MessageHeader`
//! (`TimeDate`, `Source`, `Version`), then `MessagePayload` with the payload in schema order.
//! An element whose value is a parameter the user has not set is left out, and so is a parent
//! left empty by that.

use std::collections::BTreeMap;

use caiso_shared::operations::{Node, RequestDocument, TimeValue, Value};
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use time::{Date, Month, OffsetDateTime, Time, Weekday};

use crate::xml::Element;

/// What a request is written from besides its description.
#[derive(Debug, Clone)]
pub struct Values<'a> {
    /// The time of the call (UTC).
    pub now: OffsetDateTime,
    /// The user's values by parameter id (`sc_id`), already checked.
    pub parameters: &'a BTreeMap<String, String>,
}

/// Writes the request document for `spec` with `values`.
pub fn document(spec: &RequestDocument, values: &Values<'_>) -> String {
    let mut writer = Writer::new(Vec::new());
    // Writing into a Vec cannot fail; names were checked when the catalog was read.
    let _ = write_document(&mut writer, spec, values);
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn write_document(
    w: &mut Writer<Vec<u8>>,
    spec: &RequestDocument,
    values: &Values<'_>,
) -> std::io::Result<()> {
    let root =
        BytesStart::new(spec.root.as_str()).with_attributes([("xmlns", spec.namespace.as_str())]);
    w.write_event(Event::Start(root))?;
    if let Some(header) = &spec.header {
        open(w, "MessageHeader")?;
        leaf(w, "TimeDate", &utc_seconds(values.now))?;
        leaf(w, "Source", &header.source)?;
        leaf(w, "Version", &header.version)?;
        close(w, "MessageHeader")?;
    }
    open(w, "MessagePayload")?;
    for node in &spec.payload {
        write_node(w, node, values)?;
    }
    close(w, "MessagePayload")?;
    close(w, &spec.root)
}

fn write_node(w: &mut Writer<Vec<u8>>, node: &Node, values: &Values<'_>) -> std::io::Result<()> {
    if !present(node, values.parameters) {
        return Ok(());
    }
    match &node.value {
        Some(value) => leaf(w, &node.element, &text_of(value, values)),
        None => {
            open(w, &node.element)?;
            for child in &node.children {
                write_node(w, child, values)?;
            }
            close(w, &node.element)
        }
    }
}

/// Whether `node` is written: a parameter element only when the parameter is set, a parent only
/// when one of its children is written.
fn present(node: &Node, parameters: &BTreeMap<String, String>) -> bool {
    match &node.value {
        Some(Value::Parameter(id)) => parameters.contains_key(id),
        Some(_) => true,
        None => node.children.iter().any(|c| present(c, parameters)),
    }
}

fn text_of(value: &Value, values: &Values<'_>) -> String {
    match value {
        Value::Text(text) => text.clone(),
        Value::Parameter(id) => values.parameters.get(id).cloned().unwrap_or_default(),
        Value::Time(time) => utc_seconds(time_value(*time, values.now)),
    }
}

fn open(w: &mut Writer<Vec<u8>>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close(w: &mut Writer<Vec<u8>>, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn leaf(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    open(w, name)?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    close(w, name)
}

/// `2026-02-14T08:00:00Z`: how a working client wrote CAISO's request times.
pub fn utc_seconds(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The instant `time` stands for, for a call made at `now`.
pub fn time_value(time: TimeValue, now: OffsetDateTime) -> OffsetDateTime {
    let today = trade_date(now);
    let yesterday = today.previous_day().unwrap_or(today);
    let tomorrow = today.next_day().unwrap_or(today);
    match time {
        TimeValue::TradeDayStart => pacific_midnight(today),
        TimeValue::TradeDayEnd => pacific_midnight(tomorrow),
        TimeValue::PreviousTradeDayStart => pacific_midnight(yesterday),
        TimeValue::PreviousTradeDayEnd => pacific_midnight(today),
    }
}

/// The trade date (California's calendar day) at `now`.
pub fn trade_date(now: OffsetDateTime) -> Date {
    let utc = now.to_offset(time::UtcOffset::UTC);
    let standard = utc - time::Duration::hours(8);
    let year = standard.year();
    // Daylight time from 02:00 PST on March's second Sunday (10:00 UTC) to 02:00 PDT on
    // November's first Sunday (09:00 UTC).
    let starts =
        sunday(year, Month::March, 2).with_time(Time::from_hms(10, 0, 0).unwrap_or(Time::MIDNIGHT));
    let ends = sunday(year, Month::November, 1)
        .with_time(Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT));
    let naive = time::PrimitiveDateTime::new(utc.date(), utc.time());
    if naive >= starts && naive < ends {
        (utc - time::Duration::hours(7)).date()
    } else {
        standard.date()
    }
}

/// Midnight at the start of `date` in California, as a UTC instant.
pub fn pacific_midnight(date: Date) -> OffsetDateTime {
    let year = date.year();
    let daylight = date > sunday(year, Month::March, 2) && date <= sunday(year, Month::November, 1);
    let hours = if daylight { 7 } else { 8 };
    date.midnight().assume_utc() + time::Duration::hours(hours)
}

/// The `nth` Sunday of `month` in `year`.
fn sunday(year: i32, month: Month, nth: u8) -> Date {
    let first = Date::from_calendar_date(year, month, 1).unwrap_or(Date::MIN);
    let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
    let day = first + time::Duration::days(i64::from(to_sunday) + 7 * (i64::from(nth) - 1));
    debug_assert_eq!(day.weekday(), Weekday::Sunday);
    day
}

/// The name of the element whose value is the parameter `id` (`schedulingCoordinator` for
/// `sc_id`), if the description has one.
pub fn parameter_element(spec: &RequestDocument, id: &str) -> Option<String> {
    fn find(node: &Node, id: &str) -> Option<String> {
        if matches!(&node.value, Some(Value::Parameter(p)) if p == id) {
            return Some(node.element.clone());
        }
        node.children.iter().find_map(|child| find(child, id))
    }
    spec.payload.iter().find_map(|node| find(node, id))
}

/// How a request document differs from its operation's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError(pub String);

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request document of the expected shape, and the parameters it leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Parameter ids whose elements are absent (`sc_id` when no SC ID was given).
    pub missing_parameters: Vec<String>,
    /// The parameters given, by id.
    pub parameters: BTreeMap<String, String>,
}

/// Checks `document` (the element under `soap:Body`) against `spec`: root and namespace
/// exactly; an optional `MessageHeader` first (`TimeDate`, `Source`, `Version`); then
/// `MessagePayload` with the described elements in order, each in the document's namespace,
/// nothing else; parameter elements (and parents left empty) may be absent.
pub fn check_shape(spec: &RequestDocument, document: &Element) -> Result<Shape, ShapeError> {
    let ns = spec.namespace.as_str();
    if !document.is(ns, &spec.root) {
        return Err(ShapeError(format!(
            "unexpected element {{{}}}{} (expected {{{ns}}}{})",
            document.namespace.as_deref().unwrap_or(""),
            document.local,
            spec.root
        )));
    }
    let mut children = document.elements().peekable();
    if children.peek().is_some_and(|e| e.local == "MessageHeader") {
        let header = children.next().into_iter().flat_map(Element::elements);
        let names: Vec<String> = header.map(|e| e.local.clone()).collect();
        if names != ["TimeDate", "Source", "Version"] {
            return Err(ShapeError(format!(
                "MessageHeader must hold TimeDate, Source, Version (got {})",
                names.join(", ")
            )));
        }
    }
    let payload = children
        .next()
        .filter(|e| e.is(ns, "MessagePayload"))
        .ok_or_else(|| ShapeError("MessagePayload is missing".to_owned()))?;
    if let Some(extra) = children.next() {
        return Err(ShapeError(format!("unexpected element {}", extra.local)));
    }
    let mut shape = Shape {
        missing_parameters: Vec::new(),
        parameters: BTreeMap::new(),
    };
    check_children(ns, &spec.payload, payload, &mut shape)?;
    Ok(shape)
}

fn check_children(
    ns: &str,
    expected: &[Node],
    parent: &Element,
    shape: &mut Shape,
) -> Result<(), ShapeError> {
    let mut found = parent.elements().peekable();
    for node in expected {
        let here = found.peek().filter(|e| e.is(ns, &node.element)).copied();
        let Some(element) = here else {
            let parameters = node.parameters();
            if parameters.is_empty() {
                return Err(ShapeError(format!(
                    "{} is missing in {} (or out of order)",
                    node.element, parent.local
                )));
            }
            shape
                .missing_parameters
                .extend(parameters.into_iter().map(str::to_owned));
            continue;
        };
        found.next();
        match &node.value {
            Some(value) => {
                let text = element.text();
                if text.trim().is_empty() || element.elements().next().is_some() {
                    return Err(ShapeError(format!("{} needs a value", node.element)));
                }
                if let Value::Parameter(id) = value {
                    shape.parameters.insert(id.clone(), text.trim().to_owned());
                }
            }
            None => check_children(ns, &node.children, element, shape)?,
        }
    }
    match found.next() {
        Some(extra) => Err(ShapeError(format!(
            "unexpected element {} in {}",
            extra.local, parent.local
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caiso_shared::operations::OperationCatalog;
    use time::macros::datetime;

    fn sc(id: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("sc_id".to_owned(), id.to_owned())])
    }

    #[test]
    fn trade_days_follow_california_time() {
        // Winter: PST, the trade day starts at 08:00 UTC (the working v4 query's times).
        let winter = datetime!(2026-02-14 20:00 UTC);
        assert_eq!(
            utc_seconds(time_value(TimeValue::TradeDayStart, winter)),
            "2026-02-14T08:00:00Z"
        );
        assert_eq!(
            utc_seconds(time_value(TimeValue::TradeDayEnd, winter)),
            "2026-02-15T08:00:00Z"
        );
        // 03:00 UTC is still the previous evening in California.
        assert_eq!(
            trade_date(datetime!(2026-02-15 03:00 UTC)),
            time::macros::date!(2026 - 02 - 14)
        );
        // Summer: PDT, 07:00 UTC.
        let summer = datetime!(2026-07-01 12:00 UTC);
        assert_eq!(
            utc_seconds(time_value(TimeValue::TradeDayStart, summer)),
            "2026-07-01T07:00:00Z"
        );
        assert_eq!(
            utc_seconds(time_value(TimeValue::PreviousTradeDayStart, summer)),
            "2026-06-30T07:00:00Z"
        );
        // The spring-forward day (8 March 2026) has 23 hours, the fall-back day 25.
        let spring = datetime!(2026-03-08 18:00 UTC);
        let hours = |t| {
            (time_value(TimeValue::TradeDayEnd, t) - time_value(TimeValue::TradeDayStart, t))
                .whole_hours()
        };
        assert_eq!(hours(spring), 23);
        assert_eq!(hours(datetime!(2026-11-01 18:00 UTC)), 25);
        assert_eq!(hours(winter), 24);
        // The switch itself: 09:59 UTC on 8 March is 01:59 PST, 10:00 UTC is 03:00 PDT.
        assert_eq!(trade_date(datetime!(2026-03-08 09:59 UTC)).day(), 8);
        assert_eq!(trade_date(datetime!(2026-03-08 07:59 UTC)).day(), 7);
    }

    #[test]
    fn writes_the_market_awards_request_in_schema_order() {
        let ops = OperationCatalog::builtin();
        let op = ops.operation("cmri-market-awards").expect("op");
        let params = sc("MFP1");
        let values = Values {
            now: datetime!(2026-02-14 20:00:05 UTC),
            parameters: &params,
        };
        let xml = document(&op.request, &values);
        assert_eq!(
            xml,
            "<RequestMarketAwards xmlns=\"http://www.caiso.com/soa/RequestMarketAwards_v4.xsd#\">\
             <MessageHeader><TimeDate>2026-02-14T20:00:05Z</TimeDate><Source>caiso-access</Source>\
             <Version>v20161001</Version></MessageHeader><MessagePayload><RequestMarketAwardRecord>\
             <dateTimeEnd>2026-02-15T08:00:00Z</dateTimeEnd><dateTimeStart>2026-02-14T08:00:00Z</dateTimeStart>\
             <executionType>IFM</executionType><marketType>DAM</marketType>\
             <SchedulingCoordinatorList><schedulingCoordinator>MFP1</schedulingCoordinator>\
             </SchedulingCoordinatorList></RequestMarketAwardRecord></MessagePayload></RequestMarketAwards>"
        );
    }

    #[test]
    fn every_operation_writes_a_document_of_its_own_shape() {
        let now = datetime!(2026-12-01 23:00 UTC);
        for op in OperationCatalog::builtin().operations {
            for params in [sc("DEMO"), BTreeMap::new()] {
                let xml = document(
                    &op.request,
                    &Values {
                        now,
                        parameters: &params,
                    },
                );
                let parsed = crate::xml::parse(&xml).expect("well-formed");
                let shape = check_shape(&op.request, &parsed).expect(&op.id);
                let uses_sc = op.request.parameters().contains(&"sc_id");
                assert_eq!(
                    shape.missing_parameters.contains(&"sc_id".to_owned()),
                    uses_sc && params.is_empty(),
                    "{}",
                    op.id
                );
                if uses_sc && !params.is_empty() {
                    assert_eq!(shape.parameters, params, "{}", op.id);
                }
            }
        }
    }

    #[test]
    fn text_is_escaped_by_the_writer() {
        let ops = OperationCatalog::builtin();
        let op = ops.operation("cmri-market-awards").expect("op");
        let params = sc("A<B&C");
        let xml = document(
            &op.request,
            &Values {
                now: datetime!(2026-02-14 20:00 UTC),
                parameters: &params,
            },
        );
        assert!(xml.contains("<schedulingCoordinator>A&lt;B&amp;C</schedulingCoordinator>"));
        let parsed = crate::xml::parse(&xml).expect("well-formed");
        assert_eq!(
            check_shape(&op.request, &parsed).expect("shape").parameters,
            params
        );
    }

    #[test]
    fn documents_of_another_shape_are_refused() {
        let ops = OperationCatalog::builtin();
        let op = ops.operation("cmri-market-awards").expect("op");
        let good = document(
            &op.request,
            &Values {
                now: datetime!(2026-02-14 20:00 UTC),
                parameters: &sc("MFP1"),
            },
        );
        for (from, to, why) in [
            (
                "RequestMarketAwards_v4.xsd#",
                "RequestMarketAwards_v4.xsd",
                "namespace",
            ),
            ("RequestMarketAwards ", "RetrieveMarketAwards ", "root"),
            // v2's order (marketType before executionType) and v2's list name.
            (
                "<executionType>IFM</executionType><marketType>DAM</marketType>",
                "<marketType>DAM</marketType><executionType>IFM</executionType>",
                "order",
            ),
            (
                "SchedulingCoordinatorList>",
                "schedulingCoordinatorList>",
                "list name",
            ),
            ("<marketType>DAM</marketType>", "", "missing"),
            (
                "<marketType>DAM</marketType>",
                "<marketType>DAM</marketType><tradeDate>x</tradeDate>",
                "extra",
            ),
            (
                "<marketType>DAM</marketType>",
                "<marketType></marketType>",
                "empty",
            ),
            ("<Source>caiso-access</Source>", "", "header"),
            ("MessagePayload>", "Payload>", "payload"),
        ] {
            let bad = match why {
                "root" => good
                    .replace("<RequestMarketAwards ", "<RetrieveMarketAwards ")
                    .replace("</RequestMarketAwards>", "</RetrieveMarketAwards>"),
                _ => good.replace(from, to),
            };
            assert_ne!(bad, good, "{why}");
            let parsed = crate::xml::parse(&bad).expect(why);
            assert!(check_shape(&op.request, &parsed).is_err(), "{why}: {bad}");
        }
    }
}

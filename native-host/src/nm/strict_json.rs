//! The protocol's arguments are strict, beyond what serde checks:
//! - duplicate keys: JSON parsers keep the last of two equal keys, so
//!   `{"identity":"nope","identity":"production"}` would act on `production` while a reader of
//!   the first key sees `nope`; a key given twice is refused ([`duplicate_key`]);
//! - other forms: serde also reads a struct from an array of its fields
//!   (`["legacy","sc_id","ARR1"]`) and an enum's variant from its index (`{"step":0}`); only the
//!   documented object forms and names are taken ([`form_mismatch`]).

use std::cell::RefCell;
use std::collections::HashSet;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The first key that appears twice in one object of `text` (which must be valid JSON), with
/// the depth of that object: 0 for the request envelope, 1 for its members (the arguments), and
/// so on.
pub(crate) fn duplicate_key(text: &str) -> Option<(usize, String)> {
    let found = RefCell::new(None);
    let mut reader = serde_json::Deserializer::from_str(text);
    let _ = Seed {
        depth: 0,
        found: &found,
    }
    .deserialize(&mut reader);
    found.into_inner()
}

struct Seed<'a> {
    depth: usize,
    found: &'a RefCell<Option<(usize, String)>>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        while items
            .next_element_seed(Seed {
                depth: self.depth + 1,
                found: self.found,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = members.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                *self.found.borrow_mut() = Some((self.depth, key));
                return Err(de::Error::custom("duplicate key"));
            }
            members.next_value_seed(Seed {
                depth: self.depth + 1,
                found: self.found,
            })?;
        }
        Ok(())
    }
}

/// Where `given` (a request's arguments as sent) uses another form than `canonical` (the same
/// arguments as the host writes them back after reading them): serde also reads a struct from
/// an array of its fields and an enum's variant from its index, forms the protocol does not
/// have. Returns the path of the first such place (`args.action.step`). Members the canonical
/// form leaves out (a default it does not write) are not compared.
pub(crate) fn form_mismatch(given: &Value, canonical: &Value, path: &str) -> Option<String> {
    match (given, canonical) {
        (Value::Null, _) => None,
        (Value::Object(given), Value::Object(canonical)) => {
            given.iter().find_map(|(key, value)| {
                canonical
                    .get(key)
                    .and_then(|c| form_mismatch(value, c, &format!("{path}.{key}")))
            })
        }
        (Value::Array(given), Value::Array(canonical)) if given.len() == canonical.len() => given
            .iter()
            .zip(canonical)
            .enumerate()
            .find_map(|(i, (g, c))| form_mismatch(g, c, &format!("{path}[{i}]"))),
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => None,
        _ => Some(path.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_form_than_the_canonical_one_is_found_with_its_path() {
        let canonical =
            serde_json::json!({"identity": "x", "action": {"step": "approved"}, "list": [1, 2]});
        for (given, path) in [
            (serde_json::json!(["x", {"step": "approved"}]), Some("args")),
            (
                serde_json::json!({"identity": "x", "action": {"step": 0}}),
                Some("args.action.step"),
            ),
            (
                serde_json::json!({"identity": "x", "action": ["approved"]}),
                Some("args.action"),
            ),
            (
                serde_json::json!({"identity": "x", "list": [1, "2"]}),
                Some("args.list[1]"),
            ),
            (
                serde_json::json!({"identity": "x", "action": {"step": "approved"}}),
                None,
            ),
            // Members the canonical form leaves out, and nulls, are not compared.
            (
                serde_json::json!({"identity": "x", "keep": false, "date": null}),
                None,
            ),
        ] {
            assert_eq!(
                form_mismatch(&given, &canonical, "args").as_deref(),
                path,
                "{given}"
            );
        }
    }

    #[test]
    fn the_first_duplicate_and_its_depth_are_found() {
        assert_eq!(duplicate_key(r#"{"a":1,"b":[1,{"c":2}]}"#), None);
        assert_eq!(
            duplicate_key(r#"{"id":1,"id":2}"#),
            Some((0, "id".to_owned()))
        );
        assert_eq!(
            duplicate_key(r#"{"args":{"identity":"nope","identity":"production"}}"#),
            Some((1, "identity".to_owned()))
        );
        assert_eq!(
            duplicate_key(r#"{"args":{"action":{"step":"approved","step":"reset"}}}"#),
            Some((2, "step".to_owned()))
        );
        assert_eq!(
            duplicate_key(r#"[{"x":1},{"x":1}]"#),
            None,
            "separate objects"
        );
    }
}

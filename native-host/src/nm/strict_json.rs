//! Duplicate keys in a request: JSON parsers keep the last of two equal keys, so
//! `{"identity":"nope","identity":"production"}` would act on `production` while a reader of the
//! first key sees `nope`. The protocol's arguments are strict: a key given twice is refused.

use std::cell::RefCell;
use std::collections::HashSet;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The first key that appears twice in one object of `text` (which must be valid JSON), with
/// the depth of that object: 0 for the request envelope, 1 for its members (the arguments), and
/// so on.
pub fn duplicate_key(text: &str) -> Option<(usize, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Reading the fields of an export the way real exports write them, not the way the API
//! documents them. Exports come from Slack's own exporter across many years and plans and
//! from tools such as slackdump; the same field arrives as a number in one and a string in
//! another (`"created": "1460742065"`), as `null` where a tool had nothing, or as an object
//! where a later format nested it. A field the audit cannot use is read as absent instead of
//! refusing the whole file, and an entry that is not an object is left out on its own.
//!
//! The readers here never fail on a well-formed JSON value of another type, so a file is
//! refused only when it is not JSON or not a list at all.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A list entry that is an object read as `T`, or `None` for anything else (a number, a
/// string, `null`), which the list then leaves out.
#[derive(Debug)]
pub(crate) struct Entry<T>(pub(crate) Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entry<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntryVisitor<T> {
            type Value = Entry<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| Entry(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entry(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Entry(None))
            }
        }
        deserializer.deserialize_any(EntryVisitor(PhantomData))
    }
}

/// What one scalar field held, before the caller decides what it needs.
enum Scalar<'de> {
    Text(Cow<'de, str>),
    Integer(i128),
    Float(f64),
    Bool(bool),
    /// `null`, a list or an object: nothing the audit can use as a scalar.
    Nothing,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Text(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Integer(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Integer(i128::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Nothing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
}

impl<'de> Scalar<'de> {
    fn read<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    /// A string, or a number written as one (`1460742065` for `"1460742065"`).
    fn text(self) -> Option<Cow<'de, str>> {
        match self {
            Scalar::Text(text) => Some(text),
            Scalar::Integer(n) => Some(Cow::Owned(n.to_string())),
            Scalar::Float(x) if x.is_finite() => Some(Cow::Owned(x.to_string())),
            _ => None,
        }
    }

    /// A whole number, or a string or float that holds one.
    fn integer(self) -> Option<i64> {
        match self {
            Scalar::Integer(n) => i64::try_from(n).ok(),
            Scalar::Float(x) if x.is_finite() && x.abs() < 9.0e18 => Some(x.trunc() as i64),
            Scalar::Text(text) => {
                let text = text.trim();
                text.parse::<i64>().ok().or_else(|| {
                    text.parse::<f64>()
                        .ok()
                        .and_then(|x| Scalar::Float(x).integer())
                })
            }
            _ => None,
        }
    }

    /// `true`, `1` or `"true"`; everything else is false.
    fn flag(self) -> bool {
        match self {
            Scalar::Bool(b) => b,
            Scalar::Integer(n) => n != 0,
            Scalar::Text(text) => matches!(text.trim(), "true" | "1"),
            _ => false,
        }
    }
}

/// A string field that may arrive as a number, borrowed from the file when it can be.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Scalar::read(d)?.text())
}

/// A string field that may arrive as a number, owned.
pub(crate) fn owned_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Scalar::read(d)?.text().map(Cow::into_owned))
}

/// A string field read as an empty string when it is absent or unusable.
pub(crate) fn text_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(owned_text(d)?.unwrap_or_default())
}

/// A whole-number field that may arrive as a string.
pub(crate) fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Scalar::read(d)?.integer())
}

/// A count that may arrive as a string; negative counts are none.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Scalar::read(d)?
        .integer()
        .and_then(|n| u64::try_from(n).ok()))
}

/// A yes/no field that may arrive as `1`/`0` or `"true"`/`"false"`.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Scalar::read(d)?.flag())
}

/// A list of ids: the strings (or numbers) of a list, anything else left out; `null` or a
/// non-list is an empty list.
pub(crate) fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct Ids;
    impl<'de> Visitor<'de> for Ids {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(id) = seq.next_element::<Id>()? {
                out.extend(id.0);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    struct Id(Option<String>);
    impl<'de> Deserialize<'de> for Id {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            owned_text(d).map(Id)
        }
    }
    d.deserialize_any(Ids)
}

/// Why a file is not JSON of the expected shape, by place only: the reason is printed and
/// stored in the report, and must never quote the file's content (it may be a message).
pub(crate) fn describe(error: &serde_json::Error, what: &str) -> String {
    use serde_json::error::Category;
    let place = format!("line {}, column {}", error.line(), error.column());
    match error.classify() {
        Category::Io => "could not be read to its end".to_string(),
        Category::Syntax => format!("not valid JSON ({place})"),
        Category::Eof => format!("cut off: the JSON ends early ({place})"),
        Category::Data => format!("not a JSON list of {what} ({place})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Sample {
        #[serde(deserialize_with = "integer")]
        created: Option<i64>,
        #[serde(deserialize_with = "text_or_empty")]
        id: String,
        #[serde(deserialize_with = "flag")]
        is_bot: bool,
        #[serde(deserialize_with = "ids")]
        members: Vec<String>,
        #[serde(deserialize_with = "count")]
        reply_count: Option<u64>,
    }

    fn sample(json: &str) -> Sample {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_may_arrive_as_strings_and_the_reverse() {
        let s = sample(
            r#"{"created":"1460742065","id":42,"is_bot":"true","members":["U1",7,null,{"x":1}],"reply_count":"3"}"#,
        );
        assert_eq!(s.created, Some(1_460_742_065));
        assert_eq!(s.id, "42");
        assert!(s.is_bot);
        assert_eq!(s.members, ["U1", "7"]);
        assert_eq!(s.reply_count, Some(3));
        assert_eq!(
            sample(r#"{"created":1460742065.5}"#).created,
            Some(1_460_742_065)
        );
        assert_eq!(sample(r#"{"created":" 12 "}"#).created, Some(12));
    }

    #[test]
    fn unusable_values_read_as_absent() {
        let s = sample(
            r#"{"created":{"at":1},"id":null,"is_bot":[true],"members":"U1","reply_count":-2,"unknown":{"deep":[1,2]}}"#,
        );
        assert_eq!(s.created, None);
        assert_eq!(s.id, "");
        assert!(!s.is_bot);
        assert!(s.members.is_empty());
        assert_eq!(s.reply_count, None);
        assert_eq!(sample(r#"{"created":"soon"}"#).created, None);
        assert_eq!(sample(r#"{"created":1e300}"#).created, None);
    }

    #[test]
    fn an_entry_that_is_not_an_object_is_left_out_alone() {
        let entries: Vec<Entry<Sample>> =
            serde_json::from_str(r#"[1, "x", null, [1,[2]], {"id":"C1"}, true]"#).unwrap();
        let kept: Vec<String> = entries
            .into_iter()
            .filter_map(|e| e.0)
            .map(|s| s.id)
            .collect();
        assert_eq!(kept, ["C1"]);
    }

    #[test]
    fn a_reason_names_the_place_never_the_content() {
        let secret = r#"[{"id": "C1", "created": "the secret plan"}]"#;
        let error = serde_json::from_str::<Vec<u32>>(secret).unwrap_err();
        let reason = describe(&error, "channels");
        assert_eq!(reason, "not a JSON list of channels (line 1, column 1)");
        let error = serde_json::from_str::<Vec<u32>>("[1, 2").unwrap_err();
        assert!(describe(&error, "x").starts_with("cut off"), "{error}");
        let error = serde_json::from_str::<Vec<u32>>("[secret]").unwrap_err();
        let reason = describe(&error, "x");
        assert!(reason.starts_with("not valid JSON") && !reason.contains("secret"));
    }
}

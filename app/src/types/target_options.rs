//! A target's options: choices for one account that only its platform understands (a Pinterest
//! `board_id`, a TikTok `privacy_level`, a YouTube `title`). On the wire a JSON object of text
//! values; a boolean or whole number is taken as its text (`true`, `42`).
//!
//! A few names in insertion order, kept in a `Vec` with hand-written serde: a `BTreeMap` or a
//! `serde_json::Value` here would carry their code into every page's wasm, and a post has at
//! most a handful of options.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetOptions(Vec<(String, String)>);

impl TargetOptions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&String> {
        self.0
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value)
    }

    /// Sets `name`, replacing its earlier value.
    pub fn insert(&mut self, name: String, value: String) {
        match self.0.iter_mut().find(|(known, _)| *known == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(known, _)| known != name);
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(name, _)| name)
    }
}

impl<'a> FromIterator<(&'a str, &'a str)> for TargetOptions {
    fn from_iter<I: IntoIterator<Item = (&'a str, &'a str)>>(pairs: I) -> Self {
        pairs
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }
}

impl FromIterator<(String, String)> for TargetOptions {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut options = Self::new();
        for (name, value) in pairs {
            options.insert(name, value);
        }
        options
    }
}

impl Serialize for TargetOptions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TargetOptions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(OptionsVisitor)
    }
}

struct OptionsVisitor;

impl<'de> Visitor<'de> for OptionsVisitor {
    type Value = TargetOptions;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of option names and their values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TargetOptions, A::Error> {
        let mut options = TargetOptions::new();
        while let Some(name) = map.next_key::<String>()? {
            let Text(value) = map.next_value()?;
            options.insert(name, value);
        }
        Ok(options)
    }
}

/// One option's value: text, or a boolean or whole number taken as its text.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("text, a boolean or a whole number")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
        Ok(Text(value.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_text_and_write_back_as_an_object() {
        let read: TargetOptions =
            serde_json::from_str(r#"{"board_id":"12","made_for_kids":false,"tags":3}"#).unwrap();
        assert_eq!(read.get("board_id").map(String::as_str), Some("12"));
        assert_eq!(read.get("made_for_kids").map(String::as_str), Some("false"));
        assert_eq!(read.get("tags").map(String::as_str), Some("3"));
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            r#"{"board_id":"12","made_for_kids":"false","tags":"3"}"#
        );
        assert!(serde_json::from_str::<TargetOptions>(r#"{"x":1.5}"#).is_err());
        assert!(serde_json::from_str::<TargetOptions>(r#"["x"]"#).is_err());
    }

    #[test]
    fn a_name_set_twice_keeps_the_last_value() {
        let mut options = TargetOptions::new();
        options.insert("title".into(), "One".into());
        options.insert("title".into(), "Two".into());
        assert_eq!(options.keys().count(), 1);
        assert_eq!(options.get("title").map(String::as_str), Some("Two"));
        options.remove("title");
        assert!(options.is_empty());
    }
}

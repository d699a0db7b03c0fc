//! One input line's JSON read into an [`Input`], borrowing its strings where they have no
//! escapes and naming the field that failed (crates/bluehome-cli/README.md, "JSON Lines").

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A string that borrows from the input line unless it had escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// A signal strength in dBm: one signed octet, as the controller reports it in an advertising
/// report (Core Specification v5.4, Vol 4, Part E, §7.7.65.2) and as a capture line takes it.
struct Rssi;

impl<'de> Deserialize<'de> for Rssi {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Rssi;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer in -128..=127")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                i8::try_from(v)
                    .map(|_| Rssi)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i8::try_from(v)
                    .map(|_| Rssi)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
        }
        deserializer.deserialize_i8(V)
    }
}

type Pairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// A JSON object of string → string, kept in order.
struct StringMap<'a>(Pairs<'a>);

impl<'de> Deserialize<'de> for StringMap<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringMap<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::with_capacity(2);
                while let Some((k, v)) = map.next_entry::<Text<'de>, Text<'de>>()? {
                    pairs.push((k.0, v.0));
                }
                Ok(StringMap(pairs))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// One input record (borrowing from the line).
#[derive(Default)]
pub(super) struct Input<'a> {
    pub(super) address: Option<Cow<'a, str>>,
    pub(super) mac: Option<Cow<'a, str>>,
    pub(super) service_data: Pairs<'a>,
    pub(super) manufacturer_data: Pairs<'a>,
    pub(super) bindkey: Option<Cow<'a, str>>,
    /// Argument form `ad:HEX` only.
    pub(super) ad: Option<Cow<'a, str>>,
}

/// Deserializes an [`Input`], remembering which field failed.
pub(super) struct InputSeed<'c> {
    pub(super) failed_field: &'c Cell<Option<&'static str>>,
}

impl<'de> de::DeserializeSeed<'de> for InputSeed<'_> {
    type Value = Input<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for InputSeed<'_> {
    type Value = Input<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object describing one advertisement")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut input = Input::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let field: &'static str = match key.0.as_ref() {
                "address" => "address",
                "mac" => "mac",
                "rssi" => "rssi",
                "local_name" => "local_name",
                "service_data" => "service_data",
                "manufacturer_data" => "manufacturer_data",
                "bindkey" => "bindkey",
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            self.failed_field.set(Some(field));
            match field {
                "address" => input.address = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                "mac" => input.mac = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                "rssi" => {
                    map.next_value::<Option<Rssi>>()?;
                }
                "local_name" => {
                    map.next_value::<Option<Text<'de>>>()?;
                }
                "service_data" => {
                    input.service_data = map
                        .next_value::<Option<StringMap<'de>>>()?
                        .map(|m| m.0)
                        .unwrap_or_default();
                }
                "manufacturer_data" => {
                    input.manufacturer_data = map
                        .next_value::<Option<StringMap<'de>>>()?
                        .map(|m| m.0)
                        .unwrap_or_default();
                }
                _ => input.bindkey = map.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
            }
            self.failed_field.set(None);
        }
        Ok(input)
    }
}

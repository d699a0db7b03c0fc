//! Home Assistant's Bluetooth callback matcher (`homeassistant/components/bluetooth/match.py`).

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use super::{
    Error, Pattern, as_array, as_bool, as_company_id, as_int, as_object_with_keys, as_str, as_uuid,
    index, join, parse_json,
};
use crate::advertisement::{Advertisement, Connectable};
use crate::device::DeviceKey;
use crate::uuid::Uuid;

/// How many leading `local_name` characters must be literal (Home Assistant's
/// `LOCAL_NAME_MIN_MATCH_LENGTH`); they key the name index.
pub const LOCAL_NAME_INDEX_CHARS: usize = 3;

/// A Home Assistant matcher: every present field must hold (AND); a missing field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The device.
    pub address: Option<DeviceKey>,
    /// A UUID that must be among the advertised service UUIDs.
    pub service_uuid: Option<Uuid>,
    /// A UUID that must be a service-data key.
    pub service_data_uuid: Option<Uuid>,
    /// A company id that must be a manufacturer-data key (0 is a valid id).
    pub manufacturer_id: Option<u16>,
    /// Leading bytes of that company's payload; only checked together with `manufacturer_id`.
    pub manufacturer_data_start: Vec<u8>,
    /// `fnmatch` pattern for the name (the address when the device has no name).
    pub local_name: Option<Pattern>,
    /// When true (the default), only connectable advertisements match.
    pub connectable: bool,
}

impl Default for Matcher {
    /// Matches every connectable advertisement (Home Assistant's `None` matcher).
    fn default() -> Self {
        Self {
            address: None,
            service_uuid: None,
            service_data_uuid: None,
            manufacturer_id: None,
            manufacturer_data_start: Vec::new(),
            local_name: None,
            connectable: true,
        }
    }
}

impl Matcher {
    /// Parses a matcher object.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        Self::from_value(&parse_json(text)?, "")
    }

    /// Parses a matcher object at `path` (used in error messages).
    pub fn from_value(value: &Value, path: &str) -> Result<Self, Error> {
        let object = as_object_with_keys(
            value,
            path,
            &[
                "address",
                "service_uuid",
                "service_data_uuid",
                "manufacturer_id",
                "manufacturer_data_start",
                "local_name",
                "connectable",
            ],
        )?;
        let mut m = Self::default();
        if let Some(v) = object.get("address") {
            let field = join(path, "address");
            let text = as_str(v, &field)?;
            m.address = Some(text.parse().map_err(|_| Error::Empty { field })?);
        }
        if let Some(v) = object.get("service_uuid") {
            m.service_uuid = Some(as_uuid(v, &join(path, "service_uuid"))?);
        }
        if let Some(v) = object.get("service_data_uuid") {
            m.service_data_uuid = Some(as_uuid(v, &join(path, "service_data_uuid"))?);
        }
        if let Some(v) = object.get("manufacturer_id") {
            m.manufacturer_id = Some(as_company_id(v, &join(path, "manufacturer_id"))?);
        }
        if let Some(v) = object.get("manufacturer_data_start") {
            let field = join(path, "manufacturer_data_start");
            for (i, b) in as_array(v, &field)?.iter().enumerate() {
                let byte = as_int(b, &index(&field, i), 0, 255, "0..=255")?;
                m.manufacturer_data_start.push(byte as u8);
            }
        }
        if let Some(v) = object.get("local_name") {
            let field = join(path, "local_name");
            m.local_name = Some(Self::compile_local_name(as_str(v, &field)?, &field)?);
        }
        if let Some(v) = object.get("connectable") {
            m.connectable = as_bool(v, &join(path, "connectable"))?;
        }
        Ok(m)
    }

    /// Compiles a `local_name` pattern, enforcing the three-literal-characters rule.
    ///
    /// Home Assistant rejects `*` and `[` in the first three characters. We also reject `?`: Home
    /// Assistant lets it through, but its index looks names up by their literal first three
    /// characters, so such a matcher silently never fires.
    pub fn compile_local_name(pattern: &str, field: &str) -> Result<Pattern, Error> {
        if pattern.is_empty() {
            return Err(Error::Empty {
                field: String::from(field),
            });
        }
        if pattern
            .chars()
            .take(LOCAL_NAME_INDEX_CHARS)
            .any(|c| matches!(c, '*' | '?' | '['))
        {
            return Err(Error::WildcardInNamePrefix {
                field: String::from(field),
            });
        }
        super::check_pattern_length(pattern, field)?;
        Ok(Pattern::fnmatch(pattern))
    }

    /// Whether an advertisement of the device matches, including the `address` field.
    pub fn matches(&self, key: &DeviceKey, adv: &Advertisement, connectable: Connectable) -> bool {
        if self.address.as_ref().is_some_and(|a| a != key) {
            return false;
        }
        self.matches_ignoring_address(key, adv, connectable)
    }

    /// Home Assistant's `ble_device_matches`: every field except `address`, in its order.
    pub fn matches_ignoring_address(
        &self,
        key: &DeviceKey,
        adv: &Advertisement,
        connectable: Connectable,
    ) -> bool {
        if self.connectable && !connectable.is_yes() {
            return false;
        }
        if let Some(u) = &self.service_uuid
            && !adv.service_uuids.contains(u)
        {
            return false;
        }
        if let Some(u) = &self.service_data_uuid
            && !adv.service_data.contains_key(u)
        {
            return false;
        }
        if let Some(id) = self.manufacturer_id {
            match adv.manufacturer_data.get(&id) {
                Some(data) if data.starts_with(&self.manufacturer_data_start) => {}
                _ => return false,
            }
        }
        if let Some(pattern) = &self.local_name
            && !pattern.matches(adv.name.as_deref().unwrap_or(key.as_str()))
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "44:33:11:22:33:22";

    fn key(text: &str) -> DeviceKey {
        text.parse().unwrap()
    }

    fn switchbot() -> Advertisement {
        // Shape of a SwitchBot advertisement as HA's tests build it (service data 0xfd3d,
        // manufacturer 2409, a 128-bit service UUID).
        let mut a = Advertisement {
            name: Some("WoHand".into()),
            ..Default::default()
        };
        a.service_data
            .insert(Uuid::from_u16(0xfd3d), alloc::vec![0x48, 0x10]);
        a.manufacturer_data
            .insert(2409, alloc::vec![0xc1, 0x01, 0x02]);
        a.add_service_uuid("cba20d00-224d-11e6-9fb8-0002a5d5c51b".parse().unwrap());
        a
    }

    #[test]
    fn connectable_defaults_to_true_and_rejects_non_connectable() {
        let m = Matcher::from_json(r#"{"manufacturer_id":2409}"#).unwrap();
        assert!(m.connectable);
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        assert!(!m.matches(&key(KEY), &switchbot(), Connectable::No));
        let m = Matcher::from_json(r#"{"manufacturer_id":2409,"connectable":false}"#).unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::No));
    }

    #[test]
    fn fields_combine_with_and() {
        let m = Matcher::from_json(
            r#"{"service_uuid":"cba20d00-224d-11e6-9fb8-0002a5d5c51b","manufacturer_id":2409}"#,
        )
        .unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        let m = Matcher::from_json(
            r#"{"service_uuid":"cba20d00-224d-11e6-9fb8-0002a5d5c51b","manufacturer_id":76}"#,
        )
        .unwrap();
        assert!(!m.matches(&key(KEY), &switchbot(), Connectable::Yes));
    }

    #[test]
    fn short_uuid_forms_expand_to_128_bits() {
        let m = Matcher::from_json(r#"{"service_data_uuid":"fd3d"}"#).unwrap();
        assert_eq!(
            m.service_data_uuid.unwrap().to_string(),
            "0000fd3d-0000-1000-8000-00805f9b34fb"
        );
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        let m =
            Matcher::from_json(r#"{"service_data_uuid":"0000FD3D-0000-1000-8000-00805F9B34FB"}"#)
                .unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
    }

    #[test]
    fn manufacturer_data_start_is_a_prefix_of_that_company_payload() {
        let m = Matcher::from_json(r#"{"manufacturer_id":2409,"manufacturer_data_start":[193,1]}"#)
            .unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        let m = Matcher::from_json(r#"{"manufacturer_id":2409,"manufacturer_data_start":[1]}"#)
            .unwrap();
        assert!(!m.matches(&key(KEY), &switchbot(), Connectable::Yes));
    }

    #[test]
    fn manufacturer_data_start_alone_is_ignored() {
        // Only evaluated when manufacturer_id is present (HA match.py, newest).
        let m = Matcher::from_json(r#"{"manufacturer_data_start":[99]}"#).unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
    }

    #[test]
    fn manufacturer_id_zero_is_a_real_id() {
        let m = Matcher::from_json(r#"{"manufacturer_id":0}"#).unwrap();
        assert!(!m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        let mut a = switchbot();
        a.manufacturer_data.insert(0, alloc::vec![]);
        assert!(m.matches(&key(KEY), &a, Connectable::Yes));
    }

    #[test]
    fn local_name_uses_fnmatch_and_falls_back_to_the_address() {
        let m = Matcher::from_json(r#"{"local_name":"WoH*"}"#).unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        let m = Matcher::from_json(r#"{"local_name":"44:33:*"}"#).unwrap();
        assert!(m.matches(&key(KEY), &Advertisement::default(), Connectable::Yes));
    }

    #[test]
    fn local_name_rejects_wildcards_in_first_three_characters() {
        for bad in ["*", "Wo*", "W[o]Hand", "?oHand"] {
            let err =
                Matcher::from_json(&alloc::format!(r#"{{"local_name":"{bad}"}}"#)).unwrap_err();
            assert_eq!(
                err,
                Error::WildcardInNamePrefix {
                    field: "local_name".into()
                },
                "{bad}"
            );
        }
        assert!(Matcher::from_json(r#"{"local_name":"WoH*"}"#).is_ok());
    }

    #[test]
    fn local_name_longer_than_any_device_name_is_refused() {
        let longest = alloc::format!("WoH{}", "?".repeat(245));
        assert!(Matcher::from_json(&alloc::format!(r#"{{"local_name":"{longest}"}}"#)).is_ok());
        let err =
            Matcher::from_json(&alloc::format!(r#"{{"local_name":"{longest}*"}}"#)).unwrap_err();
        assert_eq!(
            err,
            Error::PatternTooLong {
                field: "local_name".into(),
                chars: 249
            }
        );
        assert!(err.to_string().contains("at most 248"), "{err}");
    }

    #[test]
    fn address_compares_normalized() {
        let m = Matcher::from_json(r#"{"address":"44:33:11:22:33:22"}"#).unwrap();
        assert!(m.matches(&key(KEY), &switchbot(), Connectable::Yes));
        assert!(!m.matches(&key("44:33:11:22:33:23"), &switchbot(), Connectable::Yes));
        let m = Matcher::from_json(r#"{"address":"44-33-11-22-33-22"}"#).unwrap();
        assert_eq!(m.address.as_ref().map(DeviceKey::as_str), Some(KEY));
    }

    #[test]
    fn rejects_the_documented_but_unreal_first_byte_key() {
        // HA's dev docs show `manufacturer_data_first_byte`; the real key is manufacturer_data_start.
        let err = Matcher::from_json(r#"{"manufacturer_id":76,"manufacturer_data_first_byte":6}"#)
            .unwrap_err();
        assert_eq!(
            err,
            Error::UnknownField {
                field: "manufacturer_data_first_byte".into()
            }
        );
    }

    #[test]
    fn errors_name_the_field() {
        let err = Matcher::from_json(r#"{"manufacturer_data_start":[1,256]}"#).unwrap_err();
        assert!(
            matches!(err, Error::OutOfRange { ref field, .. } if field == "manufacturer_data_start[1]")
        );
        let err = Matcher::from_json(r#"{"connectable":"yes"}"#).unwrap_err();
        assert!(matches!(err, Error::WrongType { ref field, .. } if field == "connectable"));
        assert!(matches!(
            Matcher::from_json("[1]").unwrap_err(),
            Error::WrongType { .. }
        ));
        assert!(matches!(
            Matcher::from_json("{").unwrap_err(),
            Error::Json { .. }
        ));
    }
}

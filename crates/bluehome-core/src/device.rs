//! What names a device and what kind of device it is.
//!
//! A [`DeviceKey`] is the one identity every part of bluehome files a device under: the manager's
//! table, the app's labels and bind keys, capture files, the command-line tool. It is a MAC address
//! (in any case, `:` or `-` between the bytes, always kept as upper-case `AA:BB:CC:DD:EE:FF`), or,
//! where the browser hides addresses, the browser's opaque device id, kept as it is.
//!
//! [`DeviceKind`] is what the advertised data says a device is (BTHome, Shelly BLU, Shelly, …),
//! decided in one place, [`DeviceKind::of`].

use alloc::string::String;
use alloc::sync::Arc;
use core::borrow::Borrow;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::advertisement::{Advertisement, MacAddress};
use crate::bthome;
use crate::improv;
use crate::shelly::manufacturer;
use crate::shelly::models::Model;
use crate::uuid::Uuid;

/// A device's identity: a MAC address, or a browser's opaque device id.
///
/// Equality, order and hashing follow the canonical text (`AA:BB:…` for a MAC), so a key sorts as
/// its text does and a `HashMap<DeviceKey, _>` can be searched with a `&str` in canonical form.
/// Cloning is cheap (the text is shared).
#[derive(Clone)]
pub struct DeviceKey {
    text: Arc<str>,
    mac: Option<MacAddress>,
}

/// Why text is not a device key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceKeyError {
    /// The text is empty.
    Empty,
}

impl fmt::Display for DeviceKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a device key (address or browser id) must not be empty"),
        }
    }
}

impl core::error::Error for DeviceKeyError {}

impl DeviceKey {
    /// The key as text: upper-case `AA:BB:CC:DD:EE:FF` for a MAC, else the browser's id.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The MAC address, when the key is one (`None`: a browser's opaque id).
    pub fn mac(&self) -> Option<MacAddress> {
        self.mac
    }
}

impl From<MacAddress> for DeviceKey {
    fn from(mac: MacAddress) -> Self {
        Self {
            text: alloc::string::ToString::to_string(&mac).into(),
            mac: Some(mac),
        }
    }
}

impl FromStr for DeviceKey {
    type Err = DeviceKeyError;

    /// A MAC address in any case with `:` or `-` becomes its canonical form; any other non-empty
    /// text is a browser's id, kept verbatim.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(DeviceKeyError::Empty);
        }
        Ok(match text.parse::<MacAddress>() {
            Ok(mac) => Self::from(mac),
            Err(_) => Self {
                text: text.into(),
                mac: None,
            },
        })
    }
}

impl fmt::Display for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

impl PartialEq for DeviceKey {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for DeviceKey {}

impl PartialOrd for DeviceKey {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DeviceKey {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl core::hash::Hash for DeviceKey {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

/// Lookups by canonical text (`Eq`, `Ord` and `Hash` agree with `str`'s).
impl Borrow<str> for DeviceKey {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl PartialEq<str> for DeviceKey {
    fn eq(&self, other: &str) -> bool {
        &*self.text == other
    }
}

impl PartialEq<&str> for DeviceKey {
    fn eq(&self, other: &&str) -> bool {
        &*self.text == *other
    }
}

impl Serialize for DeviceKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for DeviceKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What kind of device the advertised data says this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// BTHome v1 service data.
    BthomeV1,
    /// BTHome v2 service data.
    BthomeV2,
    /// A Shelly BLU device: Shelly manufacturer data naming a BLU model (`SB…`).
    ShellyBlu(&'static Model),
    /// A Shelly device that is not a BLU sensor (Shelly manufacturer data, or a name starting with
    /// `Shelly`), with its model when the manufacturer data names a known one.
    Shelly(Option<&'static Model>),
    /// An Improv Wi-Fi device (improv-wifi.com/ble: it advertises the Improv service, or its
    /// service data), with the state its service data gives.
    Improv(Option<improv::State>),
    /// Anything else.
    Other,
}

impl DeviceKind {
    /// Classifies a device by its (merged) advertisement data.
    pub fn of(data: &Advertisement) -> Self {
        let shelly = data
            .manufacturer_data
            .get(&manufacturer::COMPANY_ID)
            .map(|bytes| manufacturer::parse(bytes));
        let bthome = bthome::service_data(data);
        let model = shelly.as_ref().and_then(|s| s.model());
        let improv_data = data.service_data.get(&improv::SERVICE_DATA_UUID);
        if let Some(model) = model.filter(|m| m.is_blu()) {
            return Self::ShellyBlu(model);
        }
        match bthome {
            Some((uuid, _)) if uuid == Uuid::BTHOME_V2 => Self::BthomeV2,
            Some(_) => Self::BthomeV1,
            None if improv_data.is_some() => Self::Improv(
                improv_data
                    .and_then(|d| improv::ServiceData::parse(d).ok())
                    .map(|d| d.state),
            ),
            None if data.service_uuids.contains(&improv::SERVICE_UUID) => Self::Improv(None),
            None if shelly.is_some() => Self::Shelly(model),
            None if data
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("Shelly")) =>
            {
                Self::Shelly(None)
            }
            None => Self::Other,
        }
    }

    /// The name to show for a device of this kind that advertises `name`: that name, except
    /// where a Shelly Gen3 or later device advertises its MAC as its name (Home Assistant's
    /// Shelly integration, `config_flow.py` `_get_name_from_mac_and_ble_model`, names those by
    /// their model too): the model's name.
    pub fn shown_name(self, name: Option<&str>) -> Option<&str> {
        match (self, name) {
            (Self::Shelly(Some(model)), Some(name)) if name.parse::<MacAddress>().is_ok() => {
                Some(model.name)
            }
            (_, name) => name,
        }
    }
}

impl fmt::Display for DeviceKind {
    /// `BTHome v2`, `Shelly BLU H&T (SBHT-003C)`, `Shelly BLU Gateway Gen3 (S3GW-1DBT001)` (the
    /// model table's names already read "Shelly …"), `Shelly device`, `Improv Wi-Fi`, `Other`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BthomeV1 => f.write_str("BTHome v1"),
            Self::BthomeV2 => f.write_str("BTHome v2"),
            Self::ShellyBlu(model) | Self::Shelly(Some(model)) => {
                write!(f, "{} ({})", model.name, model.code)
            }
            Self::Shelly(None) => f.write_str("Shelly device"),
            Self::Improv(_) => f.write_str("Improv Wi-Fi"),
            Self::Other => f.write_str("Other"),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;

    fn key(text: &str) -> DeviceKey {
        text.parse().unwrap()
    }

    #[test]
    fn a_mac_in_any_spelling_is_one_key() {
        for text in [
            "a4:c1:38:8d:18:b2",
            "A4-C1-38-8D-18-B2",
            "a4:C1-38:8d:18:B2",
        ] {
            assert_eq!(key(text).as_str(), "A4:C1:38:8D:18:B2", "{text}");
            assert_eq!(key(text), key("A4:C1:38:8D:18:B2"));
            assert_eq!(
                key(text).mac(),
                Some(MacAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]))
            );
        }
        let mac = MacAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]);
        assert_eq!(DeviceKey::from(mac), key("a4:c1:38:8d:18:b2"));
    }

    #[test]
    fn a_browser_id_is_kept_verbatim() {
        let id = key("wFwP3y0pUrj+5N7c2hQn2A==");
        assert_eq!(id.as_str(), "wFwP3y0pUrj+5N7c2hQn2A==");
        assert_eq!(id.mac(), None);
        assert_ne!(key("dev-1"), key("DEV-1"));
        assert_eq!(id.to_string(), "wFwP3y0pUrj+5N7c2hQn2A==");
    }

    #[test]
    fn an_empty_key_is_refused() {
        assert_eq!("".parse::<DeviceKey>().unwrap_err(), DeviceKeyError::Empty);
        assert!(serde_json::from_str::<DeviceKey>(r#""""#).is_err());
    }

    #[test]
    fn keys_order_as_their_text() {
        let mut keys: Vec<DeviceKey> = ["dev", "AA:BB:CC:DD:EE:01", "0a:00:00:00:00:00", "Zed"]
            .into_iter()
            .map(key)
            .collect();
        keys.sort();
        let texts: Vec<&str> = keys.iter().map(DeviceKey::as_str).collect();
        assert_eq!(
            texts,
            ["0A:00:00:00:00:00", "AA:BB:CC:DD:EE:01", "Zed", "dev"]
        );
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let json = serde_json::to_string(&key("aa:bb:cc:dd:ee:ff")).unwrap();
        assert_eq!(json, r#""AA:BB:CC:DD:EE:FF""#);
        let back: DeviceKey = serde_json::from_str(r#""aa-bb-cc-dd-ee-ff""#).unwrap();
        assert_eq!(back, key("AA:BB:CC:DD:EE:FF"));
    }

    #[test]
    fn hash_map_lookups_work_by_text() {
        let mut map = hashbrown::HashMap::new();
        map.insert(key("aa:bb:cc:dd:ee:ff"), 1);
        assert_eq!(map.get("AA:BB:CC:DD:EE:FF"), Some(&1));
    }

    fn with_service(uuid: Uuid, data: &[u8]) -> Advertisement {
        let mut adv = Advertisement::default();
        adv.service_data.insert(uuid, data.to_vec());
        adv
    }

    #[test]
    fn bthome_data_classifies_by_version() {
        assert_eq!(
            DeviceKind::of(&with_service(Uuid::BTHOME_V2, &[0x40])),
            DeviceKind::BthomeV2
        );
        assert_eq!(
            DeviceKind::of(&with_service(Uuid::BTHOME_V1, &[0x23])),
            DeviceKind::BthomeV1
        );
        assert_eq!(DeviceKind::BthomeV2.to_string(), "BTHome v2");
    }

    #[test]
    fn shelly_manufacturer_data_names_the_blu_model() {
        // Block 0x0B: model id 0x0003 (SBHT-003C), little-endian (aioshelly manufacturer_data.py).
        let mut adv = Advertisement::default();
        adv.manufacturer_data
            .insert(manufacturer::COMPANY_ID, vec![0x0B, 0x03, 0x00]);
        let kind = DeviceKind::of(&adv);
        assert!(
            matches!(kind, DeviceKind::ShellyBlu(m) if m.code == "SBHT-003C"),
            "{kind:?}"
        );
        assert_eq!(kind.to_string(), "Shelly BLU H&T (SBHT-003C)");
    }

    #[test]
    fn other_shelly_devices_and_the_rest() {
        let mut adv = Advertisement::default();
        adv.manufacturer_data
            .insert(manufacturer::COMPANY_ID, vec![0x01, 0x02, 0x00]);
        assert_eq!(DeviceKind::of(&adv), DeviceKind::Shelly(None));
        assert_eq!(DeviceKind::of(&adv).to_string(), "Shelly device");
        let named = Advertisement {
            name: Some("ShellyPlus1-AABB".into()),
            ..Advertisement::default()
        };
        assert_eq!(DeviceKind::of(&named), DeviceKind::Shelly(None));
        assert_eq!(DeviceKind::of(&Advertisement::default()), DeviceKind::Other);
    }

    /// An Improv device advertises its service UUID and, since revision 2.0, service data
    /// `4677` with its state (improv-wifi.com/ble); either makes it one, the data its state.
    #[test]
    fn improv_devices_by_their_service_or_its_data() {
        let mut adv = Advertisement::default();
        adv.add_service_uuid(improv::SERVICE_UUID);
        assert_eq!(DeviceKind::of(&adv), DeviceKind::Improv(None));
        adv.service_data
            .insert(improv::SERVICE_DATA_UUID, vec![0x01, 0x01, 0, 0, 0, 0]);
        let kind = DeviceKind::of(&adv);
        assert_eq!(
            kind,
            DeviceKind::Improv(Some(improv::State::AuthorizationRequired))
        );
        assert_eq!(kind.to_string(), "Improv Wi-Fi");
        // Data too short to hold a state: still Improv, its state unknown.
        let mut short = Advertisement::default();
        short
            .service_data
            .insert(improv::SERVICE_DATA_UUID, vec![0x01]);
        assert_eq!(DeviceKind::of(&short), DeviceKind::Improv(None));
    }

    /// A BLU Gateway Gen3 as it advertises (Home Assistant's Shelly config-flow tests): its MAC
    /// as its name, and manufacturer data with flags, model 0x1817 and MAC. It is named by its
    /// model; a name that is not a MAC, and other kinds, keep theirs.
    #[test]
    fn a_shelly_named_by_its_mac_is_named_by_its_model() {
        let mut adv = Advertisement {
            name: Some("CC:BA:97:0D:5E:01".into()),
            ..Advertisement::default()
        };
        adv.manufacturer_data.insert(
            manufacturer::COMPANY_ID,
            vec![
                0x01, 0x05, 0x00, 0x0B, 0x17, 0x18, 0x0A, 0x01, 0x5E, 0x0D, 0x97, 0xBA, 0xCC,
            ],
        );
        let kind = DeviceKind::of(&adv);
        assert_eq!(kind.to_string(), "Shelly BLU Gateway Gen3 (S3GW-1DBT001)");
        assert_eq!(
            kind.shown_name(adv.name.as_deref()),
            Some("Shelly BLU Gateway Gen3")
        );
        assert_eq!(kind.shown_name(Some("Hall gateway")), Some("Hall gateway"));
        assert_eq!(kind.shown_name(None), None);
        assert_eq!(
            DeviceKind::Shelly(None).shown_name(Some("CC:BA:97:0D:5E:01")),
            Some("CC:BA:97:0D:5E:01")
        );
        assert_eq!(
            DeviceKind::Other.shown_name(Some("CC:BA:97:0D:5E:01")),
            Some("CC:BA:97:0D:5E:01")
        );
    }
}

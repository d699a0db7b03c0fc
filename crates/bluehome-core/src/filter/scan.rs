//! Shelly scan filters and scan options (`BLE.Scanner.start`, Shelly BLE component docs).

use alloc::string::ToString;
use alloc::vec::Vec;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use super::{
    DataPrefix, Error, Pattern, as_array, as_bool, as_company_id, as_int, as_object_with_keys,
    as_str, as_uuid, index, join, parse_json,
};
use crate::advertisement::Advertisement;
use crate::device::DeviceKey;
use crate::uuid::Uuid;

/// A `serviceData` condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceDataFilter {
    /// The service UUID; `None` makes the condition match everything (Shelly docs).
    pub service: Option<Uuid>,
    /// The leading bytes of that service's data.
    pub data: DataPrefix,
}

/// A `manufacturerData` condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManufacturerDataFilter {
    /// The company id; `None` makes the condition match everything (Shelly docs).
    pub company: Option<u16>,
    /// The leading bytes of that company's data (after the two id bytes).
    pub data: DataPrefix,
}

/// One Shelly scan filter: all its conditions must hold (omitted ones hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanFilter {
    /// Devices; any one matches.
    pub addrs: Vec<DeviceKey>,
    /// Device name with `?` and `*`.
    pub name: Option<Pattern>,
    /// Advertised service UUIDs; any one present matches.
    pub services: Vec<Uuid>,
    /// Service data condition.
    pub service_data: Option<ServiceDataFilter>,
    /// Manufacturer data condition.
    pub manufacturer_data: Option<ManufacturerDataFilter>,
}

impl ScanFilter {
    /// Parses one filter object.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        Self::from_value(&parse_json(text)?, "")
    }

    /// Parses one filter object at `path` (used in error messages).
    pub fn from_value(value: &Value, path: &str) -> Result<Self, Error> {
        let object = as_object_with_keys(
            value,
            path,
            &[
                "addrs",
                "name",
                "services",
                "serviceData",
                "manufacturerData",
            ],
        )?;
        let mut filter = Self::default();
        if let Some(v) = object.get("addrs") {
            let field = join(path, "addrs");
            for (i, a) in as_array(v, &field)?.iter().enumerate() {
                let at = index(&field, i);
                let text = as_str(a, &at)?;
                filter
                    .addrs
                    .push(text.parse().map_err(|_| Error::Empty { field: at })?);
            }
        }
        if let Some(v) = object.get("name") {
            let field = join(path, "name");
            let text = as_str(v, &field)?;
            super::check_pattern_length(text, &field)?;
            filter.name = Some(Pattern::shelly(text));
        }
        if let Some(v) = object.get("services") {
            let field = join(path, "services");
            for (i, u) in as_array(v, &field)?.iter().enumerate() {
                filter.services.push(as_uuid(u, &index(&field, i))?);
            }
        }
        if let Some(v) = object.get("serviceData") {
            let field = join(path, "serviceData");
            let inner = as_object_with_keys(v, &field, &["service", "dataPrefix", "mask"])?;
            filter.service_data = Some(ServiceDataFilter {
                service: match inner.get("service") {
                    Some(u) => Some(as_uuid(u, &join(&field, "service"))?),
                    None => None,
                },
                data: DataPrefix::parse(inner, &field)?,
            });
        }
        if let Some(v) = object.get("manufacturerData") {
            let field = join(path, "manufacturerData");
            let inner =
                as_object_with_keys(v, &field, &["companyIdentifier", "dataPrefix", "mask"])?;
            filter.manufacturer_data = Some(ManufacturerDataFilter {
                company: match inner.get("companyIdentifier") {
                    Some(n) => Some(as_company_id(n, &join(&field, "companyIdentifier"))?),
                    None => None,
                },
                data: DataPrefix::parse(inner, &field)?,
            });
        }
        Ok(filter)
    }

    /// Whether the advertisement of the device passes every condition.
    pub fn matches(&self, key: &DeviceKey, adv: &Advertisement) -> bool {
        if !self.addrs.is_empty() && !self.addrs.iter().any(|a| a == key) {
            return false;
        }
        if let Some(pattern) = &self.name {
            match &adv.name {
                Some(name) if pattern.matches(name) => {}
                _ => return false,
            }
        }
        if !self.services.is_empty() && !self.services.iter().any(|u| adv.service_uuids.contains(u))
        {
            return false;
        }
        if let Some(ServiceDataFilter {
            service: Some(uuid),
            data,
        }) = &self.service_data
        {
            match adv.service_data.get(uuid) {
                Some(bytes) if data.matches(bytes) => {}
                _ => return false,
            }
        }
        if let Some(ManufacturerDataFilter {
            company: Some(id),
            data,
        }) = &self.manufacturer_data
        {
            match adv.manufacturer_data.get(id) {
                Some(bytes) if data.matches(bytes) => {}
                _ => return false,
            }
        }
        true
    }

    /// The filter as a Shelly JSON object (the inverse of [`ScanFilter::from_value`]; addresses
    /// normalized, UUIDs in the lower-case 128-bit form, hex lower-case).
    pub fn to_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        if !self.addrs.is_empty() {
            let addrs: Vec<Value> = self.addrs.iter().map(|a| Value::from(a.as_str())).collect();
            map.insert("addrs".into(), Value::from(addrs));
        }
        if let Some(name) = &self.name {
            map.insert("name".into(), Value::from(name.as_str()));
        }
        if !self.services.is_empty() {
            let list: Vec<Value> = self
                .services
                .iter()
                .map(|u| Value::from(u.to_string()))
                .collect();
            map.insert("services".into(), Value::from(list));
        }
        if let Some(sd) = &self.service_data {
            let mut inner = serde_json::Map::new();
            if let Some(u) = sd.service {
                inner.insert("service".into(), Value::from(u.to_string()));
            }
            sd.data.write(&mut inner);
            map.insert("serviceData".into(), Value::Object(inner));
        }
        if let Some(md) = &self.manufacturer_data {
            let mut inner = serde_json::Map::new();
            if let Some(id) = md.company {
                inner.insert("companyIdentifier".into(), Value::from(id));
            }
            md.data.write(&mut inner);
            map.insert("manufacturerData".into(), Value::Object(inner));
        }
        Value::Object(map)
    }
}

impl Serialize for ScanFilter {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

/// Any-of a list of filters; the empty set matches every advertisement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSet {
    /// The filters.
    pub filters: Vec<ScanFilter>,
}

impl FilterSet {
    /// Parses a JSON array of filter objects.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        Self::from_value(&parse_json(text)?, "filters")
    }

    /// Parses a JSON array of filter objects found at `path`.
    pub fn from_value(value: &Value, path: &str) -> Result<Self, Error> {
        let filters = as_array(value, path)?
            .iter()
            .enumerate()
            .map(|(i, f)| ScanFilter::from_value(f, &index(path, i)))
            .collect::<Result<_, _>>()?;
        Ok(Self { filters })
    }

    /// True when the set is empty or any filter matches.
    pub fn matches(&self, key: &DeviceKey, adv: &Advertisement) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| f.matches(key, adv))
    }

    /// True when the set lets everything through.
    pub fn accepts_all(&self) -> bool {
        self.filters.is_empty()
    }
}

impl Serialize for FilterSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(&self.filters)
    }
}

/// A scan interval or window: at least 1 ms, and it must fit in 32 bits.
fn as_scan_period_ms(value: &Value, field: &str) -> Result<u32, Error> {
    Ok(as_int(value, field, 1, 0xFFFF_FFFF, "1..=4294967295")? as u32)
}

/// Shelly scan options, with Shelly's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// Scan length in ms; `-1` scans until cancelled.
    pub duration_ms: i64,
    /// Active scanning (asks for scan responses).
    pub active: bool,
    /// Scan interval in ms.
    pub interval_ms: u32,
    /// Scan window in ms (at most the interval).
    pub window_ms: u32,
    /// Deliver only results with RSSI above this; `0` means no filtering.
    pub rssi_thr: i32,
    /// Deliver only results some filter accepts (all when empty).
    pub filters: FilterSet,
}

impl Default for ScanOptions {
    /// Shelly's documented defaults: 5000 ms, passive, interval 241 ms, window 61 ms, no RSSI
    /// threshold, no filters.
    fn default() -> Self {
        Self {
            duration_ms: 5000,
            active: false,
            interval_ms: 241,
            window_ms: 61,
            rssi_thr: 0,
            filters: FilterSet::default(),
        }
    }
}

impl ScanOptions {
    /// `duration_ms` meaning "until cancelled".
    pub const PERPETUAL: i64 = -1;

    /// Parses a scan-options object.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        Self::from_value(&parse_json(text)?, "", &[])
    }

    /// Parses a scan-options object at `path`; keys in `extra` are allowed and ignored (a caller's
    /// own keys, such as a client name).
    pub fn from_value(value: &Value, path: &str, extra: &[&str]) -> Result<Self, Error> {
        let known = [
            "duration_ms",
            "active",
            "interval_ms",
            "window_ms",
            "rssi_thr",
            "filters",
        ];
        let object = as_object_with_keys(value, path, &[known.as_slice(), extra].concat())?;
        let mut options = Self::default();
        if let Some(v) = object.get("duration_ms") {
            options.duration_ms = as_int(
                v,
                &join(path, "duration_ms"),
                -1,
                i64::from(u32::MAX),
                "-1 (perpetual) or 0..=4294967295",
            )?;
        }
        if let Some(v) = object.get("active") {
            options.active = as_bool(v, &join(path, "active"))?;
        }
        if let Some(v) = object.get("interval_ms") {
            options.interval_ms = as_scan_period_ms(v, &join(path, "interval_ms"))?;
        }
        if let Some(v) = object.get("window_ms") {
            options.window_ms = as_scan_period_ms(v, &join(path, "window_ms"))?;
        }
        if let Some(v) = object.get("rssi_thr") {
            options.rssi_thr = as_int(v, &join(path, "rssi_thr"), -128, 127, "-128..=127")? as i32;
        }
        if let Some(v) = object.get("filters") {
            options.filters = FilterSet::from_value(v, &join(path, "filters"))?;
        }
        if options.window_ms > options.interval_ms {
            return Err(Error::WindowAboveInterval {
                window_ms: options.window_ms,
                interval_ms: options.interval_ms,
            });
        }
        Ok(options)
    }

    /// True when an advertisement with this RSSI passes `rssi_thr` (`0` lets everything pass; a
    /// missing RSSI passes only then).
    pub fn rssi_passes(&self, rssi: Option<i8>) -> bool {
        self.rssi_thr == 0 || rssi.is_some_and(|r| i32::from(r) > self.rssi_thr)
    }
}

impl Serialize for ScanOptions {
    /// The Shelly JSON form: `duration_ms`, `active`, `interval_ms`, `window_ms`, `rssi_thr`,
    /// `filters`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(6))?;
        map.serialize_entry("duration_ms", &self.duration_ms)?;
        map.serialize_entry("active", &self.active)?;
        map.serialize_entry("interval_ms", &self.interval_ms)?;
        map.serialize_entry("window_ms", &self.window_ms)?;
        map.serialize_entry("rssi_thr", &self.rssi_thr)?;
        map.serialize_entry("filters", &self.filters)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use alloc::collections::BTreeMap;

    use super::*;

    fn adv() -> Advertisement {
        let mut a = Advertisement {
            name: Some("SBHT-003C".into()),
            ..Default::default()
        };
        a.service_data
            .insert(Uuid::BTHOME_V2, alloc::vec![0x44, 0x00, 0x0b, 0x01, 0x64]);
        a.manufacturer_data
            .insert(0x0BA9, alloc::vec![0x01, 0x02, 0x00]);
        a.add_service_uuid(Uuid::from_u16(0x180F));
        a
    }

    const KEY: &str = "3C:2E:F5:71:D9:B0";

    fn key() -> DeviceKey {
        KEY.parse().unwrap()
    }

    #[test]
    fn empty_filter_matches_everything() {
        assert!(ScanFilter::default().matches(&key(), &Advertisement::default()));
        assert!(FilterSet::default().matches(&key(), &Advertisement::default()));
    }

    #[test]
    fn filter_needs_all_conditions() {
        let f = ScanFilter::from_json(r#"{"name":"SBHT-*","services":["180f"]}"#).unwrap();
        assert!(f.matches(&key(), &adv()));
        let f = ScanFilter::from_json(r#"{"name":"SBHT-*","services":["180a"]}"#).unwrap();
        assert!(!f.matches(&key(), &adv()));
    }

    #[test]
    fn name_longer_than_any_device_name_is_refused() {
        let long = alloc::format!(r#"[{{"name":"{}"}}]"#, "*".repeat(249));
        assert_eq!(
            FilterSet::from_json(&long).unwrap_err(),
            crate::filter::Error::PatternTooLong {
                field: "filters[0].name".into(),
                chars: 249
            }
        );
    }

    #[test]
    fn set_needs_any_filter() {
        let set =
            FilterSet::from_json(r#"[{"name":"nope"},{"addrs":["3c:2e:f5:71:d9:b0"]}]"#).unwrap();
        assert!(set.matches(&key(), &adv()));
        let set =
            FilterSet::from_json(r#"[{"name":"nope"},{"addrs":["00:00:00:00:00:01"]}]"#).unwrap();
        assert!(!set.matches(&key(), &adv()));
    }

    #[test]
    fn addrs_match_any_listed_address_in_any_case() {
        let f = ScanFilter::from_json(r#"{"addrs":["11:22:33:44:55:66","3c:2e:f5:71:d9:b0"]}"#)
            .unwrap();
        assert!(f.matches(&key(), &adv()));
    }

    #[test]
    fn services_match_any_listed_uuid() {
        let f = ScanFilter::from_json(
            r#"{"services":["180a","0000180f-0000-1000-8000-00805f9b34fb"]}"#,
        )
        .unwrap();
        assert!(f.matches(&key(), &adv()));
    }

    #[test]
    fn name_condition_fails_without_a_name() {
        let f = ScanFilter::from_json(r#"{"name":"*"}"#).unwrap();
        assert!(!f.matches(&key(), &Advertisement::default()));
        assert!(f.matches(&key(), &adv()));
    }

    #[test]
    fn service_data_prefix_with_mask() {
        // Byte 0 of BTHome service data is the device-info byte; 0x44 = v2, trigger based.
        // Mask 0xe0 compares only the version bits.
        let f = ScanFilter::from_json(
            r#"{"serviceData":{"service":"fcd2","dataPrefix":"40","mask":"e0"}}"#,
        )
        .unwrap();
        assert!(f.matches(&key(), &adv()));
        let f = ScanFilter::from_json(
            r#"{"serviceData":{"service":"fcd2","dataPrefix":"40","mask":"ff"}}"#,
        )
        .unwrap();
        assert!(!f.matches(&key(), &adv()));
    }

    #[test]
    fn service_data_without_service_matches_everything() {
        let f = ScanFilter::from_json(r#"{"serviceData":{"dataPrefix":"99"}}"#).unwrap();
        assert!(f.matches(&key(), &Advertisement::default()));
    }

    #[test]
    fn manufacturer_data_prefix_is_after_the_company_id() {
        let f = ScanFilter::from_json(
            r#"{"manufacturerData":{"companyIdentifier":2985,"dataPrefix":"0102"}}"#,
        )
        .unwrap();
        assert!(f.matches(&key(), &adv()));
        let f = ScanFilter::from_json(
            r#"{"manufacturerData":{"companyIdentifier":2986,"dataPrefix":"0102"}}"#,
        )
        .unwrap();
        assert!(!f.matches(&key(), &adv()));
        let f = ScanFilter::from_json(
            r#"{"manufacturerData":{"companyIdentifier":2985,"dataPrefix":"0103"}}"#,
        )
        .unwrap();
        assert!(!f.matches(&key(), &adv()), "the company's data differs");
    }

    #[test]
    fn mask_length_must_equal_prefix_length() {
        let err = FilterSet::from_json(
            r#"[{},{"manufacturerData":{"companyIdentifier":1,"dataPrefix":"0102","mask":"ff"}}]"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::MaskLength {
                field: "filters[1].manufacturerData.mask".into(),
                prefix: 2,
                mask: 1
            }
        );
    }

    #[test]
    fn parse_errors_name_the_field() {
        let cases: BTreeMap<&str, &str> = [
            (r#"[{"nam":"x"}]"#, "filters[0].nam"),
            (r#"[{"services":["fcd"]}]"#, "filters[0].services[0]"),
            (r#"[{"addrs":[""]}]"#, "filters[0].addrs[0]"),
            (
                r#"[{"serviceData":{"service":"fcd2","dataPrefix":"4"}}]"#,
                "filters[0].serviceData.dataPrefix",
            ),
            (
                r#"[{"manufacturerData":{"companyIdentifier":70000}}]"#,
                "filters[0].manufacturerData.companyIdentifier",
            ),
            (r#"[{"name":5}]"#, "filters[0].name"),
        ]
        .into_iter()
        .collect();
        for (json, field) in cases {
            let err = FilterSet::from_json(json).unwrap_err();
            assert!(err.to_string().starts_with(field), "{json}: {err}");
        }
    }

    #[test]
    fn filter_round_trips_through_shelly_json() {
        let text = r#"{"addrs":["3C:2E:F5:71:D9:B0"],"name":"SB*","services":["0000180f-0000-1000-8000-00805f9b34fb"],"serviceData":{"service":"0000fcd2-0000-1000-8000-00805f9b34fb","dataPrefix":"40","mask":"e0"},"manufacturerData":{"companyIdentifier":2985,"dataPrefix":"01"}}"#;
        let f = ScanFilter::from_json(text).unwrap();
        let again = ScanFilter::from_value(&f.to_value(), "").unwrap();
        assert_eq!(f, again);
        let want: Value = serde_json::from_str(text).unwrap();
        assert_eq!(f.to_value(), want);
    }

    #[test]
    fn scan_options_defaults_are_shellys() {
        let o = ScanOptions::from_json("{}").unwrap();
        assert_eq!(o.duration_ms, 5000);
        assert!(!o.active);
        assert_eq!((o.interval_ms, o.window_ms, o.rssi_thr), (241, 61, 0));
    }

    #[test]
    fn scan_options_reject_window_above_interval() {
        assert_eq!(
            ScanOptions::from_json(r#"{"interval_ms":50,"window_ms":60}"#).unwrap_err(),
            Error::WindowAboveInterval {
                window_ms: 60,
                interval_ms: 50
            }
        );
        let equal = ScanOptions::from_json(r#"{"interval_ms":50,"window_ms":50}"#).unwrap();
        assert_eq!((equal.window_ms, equal.interval_ms), (50, 50));
    }

    #[test]
    fn scan_options_reject_durations_below_minus_one() {
        let err = ScanOptions::from_json(r#"{"duration_ms":-2}"#).unwrap_err();
        assert!(matches!(err, Error::OutOfRange { field, .. } if field == "duration_ms"));
    }

    #[test]
    fn rssi_threshold_zero_means_no_filtering() {
        let o = ScanOptions::default();
        assert!(o.rssi_passes(None));
        assert!(o.rssi_passes(Some(-100)));
        let o = ScanOptions {
            rssi_thr: -70,
            ..Default::default()
        };
        assert!(o.rssi_passes(Some(-69)));
        assert!(!o.rssi_passes(Some(-70)));
        assert!(!o.rssi_passes(None));
    }
}

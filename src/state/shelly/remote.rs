//! A connected Shelly gateway as a remote scanner: what it hears becomes advertisements for the
//! Scan page's manager, as a non-connectable source, so sensor readings work without any
//! browser scanning flag.
//!
//! Two feeds, polled: `BLE.CloudRelay.ListInfos` (the raw service and manufacturer data of the
//! devices the gateway relays, every page) and the gateway's BTHome sensor components (their
//! last values, re-encoded with the core BTHome encoder as one v2 packet per device address).

use std::collections::BTreeMap;

use bluehome_core::bthome::{self, Kind, Object, Value as Reading};
use bluehome_core::shelly::methods::ble::RelayInfos;
use bluehome_core::{Advertisement, MacAddress, Uuid};
use serde_json::Value;

/// One advertisement heard by the gateway, keyed by the device's MAC (lower-case text).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteAdvert {
    /// The device address as the manager keys it.
    pub key: String,
    /// What was heard.
    pub advertisement: Advertisement,
}

/// The manager source name of a gateway (`shelly:<device id>`).
pub fn source_name(device_id: &str) -> String {
    format!("shelly:{device_id}")
}

/// The devices of one `BLE.CloudRelay.ListInfos` page, and the offset of the next page (when
/// there is one).
pub fn relay_page(result: &Value) -> (Vec<RemoteAdvert>, Option<u32>) {
    let Ok(page) = serde_json::from_value::<RelayInfos>(result.clone()) else {
        return (Vec::new(), None);
    };
    let adverts = page
        .devices
        .iter()
        .flat_map(|entry| entry.iter())
        .map(|(addr, info)| RemoteAdvert {
            key: addr.to_ascii_lowercase(),
            advertisement: info.to_advertisement(addr).0,
        })
        .collect();
    let next = page.offset.saturating_add(page.count);
    let more = page.count > 0 && next < page.total;
    (adverts, more.then_some(next))
}

/// The gateway's BTHome sensor components (from `Shelly.GetConfig` and `Shelly.GetStatus`),
/// grouped by device and re-encoded as one BTHome v2 service-data packet each. Values that do
/// not fit their object (or are missing) are left out.
pub fn sensor_adverts(config: &Value, status: &Value) -> Vec<RemoteAdvert> {
    let mut by_addr: BTreeMap<String, Vec<Object>> = BTreeMap::new();
    let Some(map) = config.as_object() else {
        return Vec::new();
    };
    for (key, cfg) in map.iter().filter(|(k, _)| k.starts_with("bthomesensor:")) {
        let addr = cfg
            .get("addr")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        let obj_id = cfg
            .get("obj_id")
            .and_then(Value::as_u64)
            .and_then(|i| u8::try_from(i).ok());
        let value = status.get(key).and_then(|s| s.get("value"));
        let (Some(addr), Some(id), Some(value)) = (addr, obj_id, value) else {
            continue;
        };
        if let Some(reading) = reading_for(id, value) {
            by_addr
                .entry(addr)
                .or_default()
                .push(Object::new(id, reading));
        }
    }
    by_addr
        .into_iter()
        .filter_map(|(addr, mut objects)| {
            // BTHome wants objects in id order.
            objects.sort_by_key(|o| o.id);
            let payload = bthome::encode_v2(&objects, false, None, None).ok()?;
            let mut advertisement = Advertisement {
                address: addr.parse::<MacAddress>().ok(),
                ..Advertisement::default()
            };
            advertisement.service_data.insert(Uuid::BTHOME_V2, payload);
            Some(RemoteAdvert {
                key: addr,
                advertisement,
            })
        })
        .collect()
}

/// A sensor component's JSON value as a BTHome reading of object `id`.
fn reading_for(id: u8, value: &Value) -> Option<Reading> {
    let info = bthome::info(id)?;
    match info.kind {
        Kind::Number if info.decimals == 0 => {
            value.as_f64().map(|v| Reading::Int(v.round() as i64))
        }
        Kind::Number => value.as_f64().map(Reading::Float),
        Kind::Binary => value
            .as_bool()
            .or_else(|| value.as_u64().map(|v| v != 0))
            .map(Reading::Bool),
        _ => None,
    }
}

/// A relayed device's readings in words (`temperature 21.5 °C, humidity 48 %`), or why not.
pub fn describe_readings(advertisement: &Advertisement) -> String {
    let Some((uuid, data)) = bthome::service_data(advertisement) else {
        return "no BTHome data".into();
    };
    let packet = bthome::decode(uuid, data, advertisement.address, None);
    let mut parts: Vec<String> = packet
        .objects
        .iter()
        .filter(|o| o.id != 0x00)
        .map(|o| {
            let value = match &o.value {
                Reading::Float(v) => v.to_string(),
                Reading::Int(v) => v.to_string(),
                Reading::Bool(b) => if *b { "on" } else { "off" }.to_owned(),
                other => other
                    .event()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("{other:?}")),
            };
            match o.unit() {
                Some(unit) => format!("{} {value} {unit}", o.name()),
                None => format!("{} {value}", o.name()),
            }
        })
        .collect();
    if let Some(error) = packet.error {
        parts.push(format!("({error})"));
    }
    if parts.is_empty() {
        "no readings".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn relay_pages_become_advertisements_with_the_next_offset() {
        // QEDKCQ== is base64 of 40 02 ca 09: BTHome v2, temperature 25.06 °C (bthome.io example).
        let page = json!({"ts": 1.0, "offset": 0, "count": 1, "total": 3,
            "devices": [{"3c:2e:f5:5b:01:01": {"name": "H&T", "model": 3, "sdata": {"fcd2": "QALKCQ=="}, "mdata": {}, "last_seen": 5}}]});
        let (adverts, next) = relay_page(&page);
        assert_eq!(next, Some(1));
        assert_eq!(adverts[0].key, "3c:2e:f5:5b:01:01");
        assert_eq!(
            adverts[0].advertisement.service_data.get(&Uuid::BTHOME_V2),
            Some(&vec![0x40, 0x02, 0xca, 0x09])
        );
        assert_eq!(
            describe_readings(&adverts[0].advertisement),
            "temperature 25.06 °C"
        );
        let (_, last) = relay_page(&json!({"offset": 2, "count": 1, "total": 3, "devices": []}));
        assert_eq!(last, None);
    }

    #[test]
    fn sensor_statuses_are_re_encoded_per_device() {
        let config = json!({
            "bthomesensor:200": {"addr": "3C:2E:F5:5B:01:01", "obj_id": 2, "idx": 0},
            "bthomesensor:201": {"addr": "3c:2e:f5:5b:01:01", "obj_id": 1, "idx": 0},
            "bthomesensor:202": {"addr": "aa:bb:cc:dd:ee:ff", "obj_id": 45, "idx": 0},
            "bthomedevice:200": {"addr": "3c:2e:f5:5b:01:01"}});
        let status = json!({"bthomesensor:200": {"value": 21.5}, "bthomesensor:201": {"value": 87},
            "bthomesensor:202": {"value": true}});
        let adverts = sensor_adverts(&config, &status);
        assert_eq!(adverts.len(), 2);
        let ht = adverts
            .iter()
            .find(|a| a.key == "3c:2e:f5:5b:01:01")
            .unwrap();
        // 40 = v2 plain; 01 57 = battery 87 %; 02 66 08 = temperature 21.50 °C (0x0866 = 2150).
        assert_eq!(
            ht.advertisement.service_data.get(&Uuid::BTHOME_V2),
            Some(&vec![0x40, 0x01, 0x57, 0x02, 0x66, 0x08])
        );
        let window = adverts
            .iter()
            .find(|a| a.key == "aa:bb:cc:dd:ee:ff")
            .unwrap();
        // 0x2D window, binary: 01 = open.
        assert_eq!(
            window.advertisement.service_data.get(&Uuid::BTHOME_V2),
            Some(&vec![0x40, 0x2D, 0x01])
        );
    }
}

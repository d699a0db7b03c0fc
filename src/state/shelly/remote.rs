//! A connected Shelly gateway as a remote scanner: what it hears becomes advertisements for the
//! Scan page's manager, as a non-connectable source, so sensor readings work without any
//! browser scanning flag.
//!
//! Two feeds, polled: `BLE.CloudRelay.ListInfos` (the raw service and manufacturer data of the
//! devices the gateway relays, every page) and the gateway's BTHome sensor components (their
//! last values, re-encoded with the core BTHome encoder as one v2 packet per device address).

use std::collections::BTreeMap;
use std::rc::Rc;

use bluehome_core::bthome::{self, Kind, Object, Value as Reading};
use bluehome_core::shelly::methods::ble::{CloudRelayListInfos, ListInfosParams, RelayInfo};
use bluehome_core::shelly::methods::bthome::{SensorConfig, SensorStatus};
use bluehome_core::shelly::methods::shelly::{self, ComponentMap};
use bluehome_core::shelly::methods::{Method, Pager};
use bluehome_core::{Advertisement, MacAddress, Uuid};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use super::ShellySession;
use super::explain::{Failure, FailureKind};
use crate::platform::{now_ms, sleep_ms};

/// Receives what a gateway hears: the manager source name, and the advertisement.
pub type RemoteSink = Rc<dyn Fn(&str, &RemoteAdvert)>;

/// Pages of `BLE.CloudRelay.ListInfos` read at most in one poll.
const MAX_RELAY_PAGES: u32 = 20;

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

/// The relayed devices (every page of `BLE.CloudRelay.ListInfos`), keyed by lower-case address.
pub fn relayed_adverts(relayed: &[(String, RelayInfo)]) -> Vec<RemoteAdvert> {
    relayed
        .iter()
        .map(|(addr, info)| RemoteAdvert {
            key: addr.to_ascii_lowercase(),
            advertisement: info.to_advertisement(addr).0,
        })
        .collect()
}

/// The gateway's BTHome sensor components (from `Shelly.GetConfig` and `Shelly.GetStatus`),
/// grouped by device and re-encoded as one BTHome v2 service-data packet each. Values that do
/// not fit their object (or are missing) are left out.
pub fn sensor_adverts(config: &ComponentMap, status: &ComponentMap) -> Vec<RemoteAdvert> {
    let mut by_addr: BTreeMap<String, Vec<Object>> = BTreeMap::new();
    for (id, sensor) in config.numbered::<SensorConfig>("bthomesensor") {
        let value = status
            .get::<SensorStatus>(&format!("bthomesensor:{id}"))
            .map(|s| s.value);
        let addr = sensor.addr.as_deref().map(str::to_ascii_lowercase);
        let (Some(addr), Some(obj_id), Some(value)) = (addr, sensor.obj_id, value) else {
            continue;
        };
        if let Some(reading) = reading_for(obj_id, &value) {
            by_addr
                .entry(addr)
                .or_default()
                .push(Object::new(obj_id, reading));
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

impl ShellySession {
    /// Sets where remote advertisements go (the app wires the Scan page's manager here).
    pub fn set_remote_sink(self, sink: Option<RemoteSink>) {
        self.remote_sink.set_value(sink);
    }

    /// Polls what the connected gateway hears every `every_ms` and hands it to the sink, until
    /// stopped or disconnected.
    pub fn start_remote_scanner(self, every_ms: u64) {
        if self.remote_running.get_untracked() {
            return;
        }
        let Some(link) = self.link() else { return };
        let Some(device_id) = self
            .device
            .with_untracked(|d| d.as_ref().map(|d| d.id().to_owned()))
        else {
            return;
        };
        self.remote_running.set(true);
        spawn_local(async move {
            let source = source_name(&device_id);
            while self.remote_running.try_get_untracked() == Some(true)
                && self
                    .link
                    .try_get_value()
                    .flatten()
                    .is_some_and(|l| Rc::ptr_eq(&l, &link))
            {
                match self.poll_remote().await {
                    Ok(adverts) => {
                        if let Some(sink) = self.remote_sink.try_get_value().flatten() {
                            adverts.iter().for_each(|a| sink(&source, a));
                        }
                        self.remote_adverts.try_set(adverts);
                    }
                    Err(failure) => {
                        self.failure.try_set(Some(failure));
                        break;
                    }
                }
                sleep_ms(every_ms).await;
            }
            self.remote_running.try_set(false);
        });
    }

    /// Stops the remote scanner.
    pub fn stop_remote_scanner(self) {
        self.remote_running.set(false);
    }

    /// One poll: every page of `BLE.CloudRelay.ListInfos`, then the BTHome sensor values.
    pub async fn poll_remote(self) -> Result<Vec<RemoteAdvert>, Failure> {
        let mut pager =
            Pager::<CloudRelayListInfos>::new(ListInfosParams::default(), MAX_RELAY_PAGES);
        while let Some(params) = pager.next_params() {
            let page = self.call::<CloudRelayListInfos>(&params).await?;
            pager.add(page).map_err(|e| {
                Failure::new(
                    FailureKind::Protocol,
                    CloudRelayListInfos::NAME,
                    e.to_string(),
                )
            })?;
        }
        let mut adverts = relayed_adverts(&pager.into_items());
        let config = self.call::<shelly::GetConfig>(&()).await?;
        let status = self.call::<shelly::GetStatus>(&()).await?;
        adverts.extend(sensor_adverts(&config, &status));
        Ok(adverts)
    }
}

/// Feeds the Scan page's manager: a gateway is a remote, non-connectable source.
pub fn scan_page_sink(scan: crate::state::AppStore) -> RemoteSink {
    Rc::new(move |source: &str, advert: &RemoteAdvert| {
        scan.update_model(|m| {
            m.ingest(
                now_ms(),
                source,
                &advert.key,
                false,
                advert.advertisement.clone(),
            );
        });
    })
}

#[cfg(test)]
mod tests {
    use bluehome_core::shelly::methods::ble::RelayInfos;
    use serde_json::json;

    use super::*;

    /// Every page of `BLE.CloudRelay.ListInfos` through the core's pager, then keyed by address.
    #[test]
    fn relay_pages_become_advertisements() {
        // QEDKCQ== is base64 of 40 02 ca 09: BTHome v2, temperature 25.06 °C (bthome.io example).
        let page = |offset: u32, addr: &str| {
            serde_json::from_value::<RelayInfos>(json!({"ts": 1.0, "offset": offset, "count": 1,
                "total": 2, "devices": [{addr: {"name": "H&T", "model": 3,
                "sdata": {"fcd2": "QALKCQ=="}, "mdata": {}, "last_seen": 5}}]}))
            .unwrap()
        };
        let mut pager = Pager::<CloudRelayListInfos>::new(ListInfosParams::default(), 5);
        pager.add(page(0, "3C:2E:F5:5B:01:01")).unwrap();
        assert_eq!(pager.next_params().unwrap().offset, Some(1));
        pager.add(page(1, "3c:2e:f5:5b:02:01")).unwrap();
        assert!(pager.is_done());
        let adverts = relayed_adverts(&pager.into_items());
        let keys: Vec<&str> = adverts.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["3c:2e:f5:5b:01:01", "3c:2e:f5:5b:02:01"]);
        assert_eq!(
            adverts[0].advertisement.service_data.get(&Uuid::BTHOME_V2),
            Some(&vec![0x40, 0x02, 0xca, 0x09])
        );
        assert_eq!(
            describe_readings(&adverts[0].advertisement),
            "temperature 25.06 °C"
        );
    }

    #[test]
    fn sensor_statuses_are_re_encoded_per_device() {
        let components = |v| serde_json::from_value::<ComponentMap>(v).unwrap();
        let config = components(json!({
            "bthomesensor:200": {"addr": "3C:2E:F5:5B:01:01", "obj_id": 2, "idx": 0},
            "bthomesensor:201": {"addr": "3c:2e:f5:5b:01:01", "obj_id": 1, "idx": 0},
            "bthomesensor:202": {"addr": "aa:bb:cc:dd:ee:ff", "obj_id": 45, "idx": 0},
            "bthomedevice:200": {"addr": "3c:2e:f5:5b:01:01"}}));
        let status = components(json!({"bthomesensor:200": {"value": 21.5},
            "bthomesensor:201": {"value": 87}, "bthomesensor:202": {"value": true}}));
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

//! A connected Shelly gateway as a remote scanner: what it hears goes to the Scan page's manager,
//! as a non-connectable source, so sensor readings work without any browser scanning flag.
//!
//! Two feeds, polled: `BLE.CloudRelay.ListInfos` (the raw service and manufacturer data of the
//! devices the gateway relays, every page), and the gateway's BTHome sensor components (values the
//! gateway decoded itself; they enter the manager as objects, not as a packet made up for them).

use std::rc::Rc;

use bluehome_core::bthome::{self, Kind, Object, Value as Reading};
use bluehome_core::shelly::methods::ble::{CloudRelayListInfos, ListInfosParams, RelayInfo};
use bluehome_core::shelly::methods::bthome::{SensorConfig, SensorStatus};
use bluehome_core::shelly::methods::shelly::ComponentMap;
use bluehome_core::{Advertisement, DeviceKey, LiteMap};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use super::ShellySession;
use super::explain::Failure;
use crate::platform::sleep_ms;
use crate::state::model::object_text;
use crate::state::settings::Settings;

/// Receives what a gateway hears: the manager source name, and the report.
pub type RemoteSink = Rc<dyn Fn(&str, &Heard)>;

/// Pages of `BLE.CloudRelay.ListInfos` read at most in one poll.
const MAX_RELAY_PAGES: u32 = 20;

/// What a gateway heard from one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    /// The device.
    pub key: DeviceKey,
    /// Its name, where the gateway knows one.
    pub name: Option<String>,
    /// When the gateway heard it, in the gateway's Unix seconds (`last_seen`, or the newest
    /// `last_updated_ts` of the device's sensors), where it says.
    pub at: Option<u64>,
    /// What was heard.
    pub data: HeardData,
}

/// The two forms a gateway reports.
#[derive(Debug, Clone, PartialEq)]
pub enum HeardData {
    /// The advertisement data as relayed (`BLE.CloudRelay.ListInfos`).
    Advertisement(Advertisement),
    /// The last values of the gateway's BTHome sensor components, in object id order.
    Objects(Vec<Object>),
}

/// What the remote scanner handed on last, per device and feed (keyed by the device and whether
/// the report is of its sensor components: a sensor the gateway keeps may be relayed too). A
/// gateway reports each device's last advertisement on every poll ("information in its last
/// received advertisement", Shelly's BLE component documentation, `BLE.CloudRelay.ListInfos`):
/// handed on again, a button press would count once per poll and a sensor that went silent would
/// look alive.
#[derive(Debug, Default)]
pub struct Handed(LiteMap<(DeviceKey, bool), (u64, HeardData)>);

impl Handed {
    /// Whether `heard` is news: heard at another time, or other data, than its feed's last
    /// report of the device. A report without a time always is (nothing tells a repeat from a
    /// new advertisement with the same data).
    pub fn is_news(&mut self, heard: &Heard) -> bool {
        let Some(at) = heard.at else { return true };
        let feed = (
            heard.key.clone(),
            matches!(heard.data, HeardData::Objects(_)),
        );
        let report = (at, heard.data.clone());
        if self.0.get(&feed) == Some(&report) {
            return false;
        }
        self.0.insert(feed, report);
        true
    }
}

/// The manager source name of a gateway (`shelly:<device id>`).
pub fn source_name(device_id: &str) -> String {
    format!("shelly:{device_id}")
}

/// The relayed devices (every page of `BLE.CloudRelay.ListInfos`); entries whose address is
/// not a device key are left out.
pub fn relayed(relayed: &[(String, RelayInfo)]) -> Vec<Heard> {
    relayed
        .iter()
        .filter_map(|(addr, info)| {
            let advertisement = info.to_advertisement(addr).0;
            Some(Heard {
                key: addr.parse().ok()?,
                name: advertisement.name.clone(),
                at: info.last_seen,
                data: HeardData::Advertisement(advertisement),
            })
        })
        .collect()
}

/// The gateway's BTHome sensor components (their config and status from `Shelly.GetComponents`:
/// real firmware lists them in neither `Shelly.GetConfig` nor `Shelly.GetStatus`), grouped by
/// device. Values that do not fit their object (or are missing) are left out.
pub fn sensor_values(config: &ComponentMap, status: &ComponentMap) -> Vec<Heard> {
    let mut by_device: LiteMap<DeviceKey, (Option<u64>, Vec<Object>)> = LiteMap::new();
    for (id, sensor) in config.numbered::<SensorConfig>("bthomesensor") {
        let Some(status) = status.get::<SensorStatus>(&format!("bthomesensor:{id}")) else {
            continue;
        };
        let key = sensor.addr.as_deref().and_then(|a| a.parse().ok());
        let (Some(key), Some(obj_id)) = (key, sensor.obj_id) else {
            continue;
        };
        if let Some(reading) = reading_for(obj_id, &status.value) {
            let (at, objects) = by_device.entry(key).or_default();
            // Whole seconds, as `last_seen`; a value out of range says nothing.
            let updated = status
                .last_updated_ts
                .filter(|t| (0.0..=u64::MAX as f64).contains(t))
                .map(|t| t as u64);
            *at = (*at).max(updated);
            objects.push(Object::new(obj_id, reading));
        }
    }
    by_device
        .into_iter()
        .map(|(key, (at, mut objects))| {
            // BTHome's order: by object id.
            objects.sort_by_key(|o| o.id);
            Heard {
                key,
                name: None,
                at,
                data: HeardData::Objects(objects),
            }
        })
        .collect()
}

/// A sensor component's JSON value as a BTHome reading of object `id`.
pub(super) fn reading_for(id: u8, value: &Value) -> Option<Reading> {
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

/// A device's readings in words, in the user's units as the Scan page writes them
/// (`temperature 21.5 °C, window open`), or why there are none.
pub fn describe_readings(data: &HeardData, settings: &Settings) -> String {
    let (objects, error) = match data {
        HeardData::Objects(objects) => (objects.clone(), None),
        HeardData::Advertisement(advertisement) => {
            let Some((uuid, bytes)) = bthome::service_data(advertisement) else {
                return "no BTHome data".into();
            };
            let packet = bthome::decode(uuid, bytes, advertisement.address, None);
            (packet.objects, packet.error)
        }
    };
    let mut parts: Vec<String> = objects
        .iter()
        .filter(|o| o.id != 0x00)
        .map(|o| {
            let value = object_text(o.id, &o.value, o.unit(), settings);
            format!("{} {value}", o.name().replace('_', " "))
        })
        .collect();
    if let Some(error) = error {
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
        let run = self.remote_runs.try_update_value(|n| {
            *n = n.wrapping_add(1);
            *n
        });
        // Only the newest run polls, and only it ends the feed: an older run waking from its
        // pause would otherwise poll beside it (the feed stopped and started again at once) or
        // turn it off (the older run's link gone, the feed started again on the next link).
        let current = move || run.is_some() && self.remote_runs.try_get_value() == run;
        spawn_local(async move {
            let source = source_name(&device_id);
            let mut handed = Handed::default();
            while current()
                && self.remote_running.try_get_untracked() == Some(true)
                && self
                    .link
                    .try_get_value()
                    .flatten()
                    .is_some_and(|l| Rc::ptr_eq(&l, &link))
            {
                match self.poll_remote().await {
                    Ok(heard) => {
                        if let Some(sink) = self.remote_sink.try_get_value().flatten() {
                            heard
                                .iter()
                                .filter(|h| handed.is_news(h))
                                .for_each(|h| sink(&source, h));
                        }
                        self.remote_heard.try_set(heard);
                    }
                    Err(failure) => {
                        self.failure.try_set(Some(failure));
                        break;
                    }
                }
                sleep_ms(every_ms).await;
            }
            if current() {
                self.remote_running.try_set(false);
            }
        });
    }

    /// Stops the remote scanner.
    pub fn stop_remote_scanner(self) {
        self.remote_running.set(false);
    }

    /// One poll: every page of `BLE.CloudRelay.ListInfos`, then the BTHome sensor values.
    pub async fn poll_remote(self) -> Result<Vec<Heard>, Failure> {
        let infos = self
            .call_all_pages::<CloudRelayListInfos>(ListInfosParams::default(), MAX_RELAY_PAGES)
            .await?;
        let mut heard = relayed(&infos);
        let dynamic = self.dynamic_components().await?;
        heard.extend(sensor_values(&dynamic.config, &dynamic.status));
        Ok(heard)
    }
}

/// Feeds the Scan page's manager: a gateway is a remote, non-connectable source.
pub fn scan_page_sink(scan: crate::state::AppStore) -> RemoteSink {
    Rc::new(move |source: &str, heard: &Heard| match &heard.data {
        HeardData::Advertisement(advertisement) => {
            let now = scan.now_ms();
            scan.update_model(|m| {
                m.polled_source(now, source);
                m.ingest(
                    now,
                    source,
                    &heard.key,
                    bluehome_core::Connectable::No,
                    advertisement.clone(),
                );
            });
        }
        HeardData::Objects(objects) => {
            scan.ingest_objects(source, &heard.key, objects.clone());
        }
    })
}

#[cfg(test)]
mod tests {
    use bluehome_core::Uuid;
    use bluehome_core::shelly::methods::ble::RelayInfos;
    use serde_json::json;

    use super::*;
    use bluehome_core::shelly::methods::{Paged as _, Pager};

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
        let heard = relayed(&pager.into_items());
        let keys: Vec<&str> = heard.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["3C:2E:F5:5B:01:01", "3C:2E:F5:5B:02:01"]);
        assert_eq!(heard[0].name.as_deref(), Some("H&T"));
        let HeardData::Advertisement(advertisement) = &heard[0].data else {
            panic!("{heard:?}");
        };
        assert_eq!(
            advertisement.service_data.get(&Uuid::BTHOME_V2),
            Some(&vec![0x40, 0x02, 0xca, 0x09])
        );
        assert_eq!(
            describe_readings(&heard[0].data, &Settings::default()),
            "temperature 25.06 °C"
        );
    }

    /// Shelly's example page (BLE component documentation): `RAAVAWQ6AQ==` is a button press
    /// with packet id 21, heard at `last_seen` 1732804835.
    #[test]
    fn each_report_is_handed_on_once() {
        let page = |last_seen: Option<u64>, sdata: &str| {
            let mut device = json!({"name": null, "model": 0, "sdata": {"fcd2": sdata},
                "mdata": {}});
            if let Some(t) = last_seen {
                device["last_seen"] = t.into();
            }
            let page = serde_json::from_value::<RelayInfos>(json!({"ts": 1732804839, "offset": 0,
                "count": 1, "total": 1, "devices": [{"5c:c7:c1:f0:db:60": device}]}))
            .unwrap();
            relayed(&CloudRelayListInfos::page(page).items).remove(0)
        };
        let mut handed = Handed::default();
        let press = page(Some(1732804835), "RAAVAWQ6AQ==");
        assert_eq!(press.at, Some(1732804835));
        assert!(handed.is_news(&press));
        assert!(!handed.is_news(&press), "the next poll's same report");
        // Heard again later (the same bytes: a device repeating itself), or other bytes in the
        // same second.
        assert!(handed.is_news(&page(Some(1732804840), "RAAVAWQ6AQ==")));
        assert!(handed.is_news(&page(Some(1732804840), "RAAWAWQ6AQ==")));
        // A firmware that gives no time: every report is news.
        let untimed = page(None, "RAAVAWQ6AQ==");
        assert_eq!(untimed.at, None);
        assert!(handed.is_news(&untimed) && handed.is_news(&untimed));
        // The same device's values as the gateway's sensor components, polled with its relayed
        // advertisement: each feed's report once.
        let relayed = page(Some(1732804850), "RAAXAWQ6AQ==");
        let values = Heard {
            data: HeardData::Objects(vec![Object::new(0x02, Reading::Float(21.5))]),
            ..relayed.clone()
        };
        assert!(handed.is_news(&relayed) && handed.is_news(&values));
        assert!(
            !handed.is_news(&relayed),
            "the next poll's same advertisement"
        );
        assert!(!handed.is_news(&values), "the next poll's same values");
    }

    #[test]
    fn sensor_values_are_objects_per_device() {
        let components = |v| serde_json::from_value::<ComponentMap>(v).unwrap();
        let config = components(json!({
            "bthomesensor:200": {"addr": "3C:2E:F5:5B:01:01", "obj_id": 2, "idx": 0},
            "bthomesensor:201": {"addr": "3c:2e:f5:5b:01:01", "obj_id": 1, "idx": 0},
            "bthomesensor:202": {"addr": "aa:bb:cc:dd:ee:ff", "obj_id": 45, "idx": 0},
            "bthomedevice:200": {"addr": "3c:2e:f5:5b:01:01"}}));
        let status = components(json!({
            "bthomesensor:200": {"value": 21.5, "last_updated_ts": 1732804830.0},
            "bthomesensor:201": {"value": 87, "last_updated_ts": 1732804835.0},
            "bthomesensor:202": {"value": true}}));
        let heard = sensor_values(&config, &status);
        let keys: Vec<&str> = heard.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["3C:2E:F5:5B:01:01", "AA:BB:CC:DD:EE:FF"]);
        // Battery (0x01) before temperature (0x02): BTHome's object order.
        assert_eq!(
            heard[0].data,
            HeardData::Objects(vec![
                Object::new(0x01, Reading::Int(87)),
                Object::new(0x02, Reading::Float(21.5)),
            ])
        );
        assert_eq!(
            describe_readings(&heard[0].data, &Settings::default()),
            "battery 87 %, temperature 21.5 °C"
        );
        // Heard when its newest sensor was updated; the other device's firmware does not say.
        assert_eq!((heard[0].at, heard[1].at), (Some(1732804835), None));
        // 0x2D is the window object, binary.
        assert_eq!(
            heard[1].data,
            HeardData::Objects(vec![Object::new(0x2D, Reading::Bool(true))])
        );
        // In the words and units the Scan page uses.
        assert_eq!(
            describe_readings(&heard[1].data, &Settings::default()),
            "window open"
        );
        let fahrenheit = Settings {
            fahrenheit: true,
            ..Settings::default()
        };
        assert_eq!(
            describe_readings(&heard[0].data, &fahrenheit),
            "battery 87 %, temperature 70.7 °F"
        );
    }

    /// A binary sensor's value as firmware sends it, `true` or a number (0 is off); a whole
    /// object's number rounded; an object with no reading of its kind is none.
    #[test]
    fn component_values_read_as_their_objects() {
        let window = 0x2D;
        assert_eq!(reading_for(window, &json!(0)), Some(Reading::Bool(false)));
        assert_eq!(reading_for(window, &json!(1)), Some(Reading::Bool(true)));
        assert_eq!(reading_for(window, &json!("open")), None);
        assert_eq!(reading_for(0x01, &json!(86.6)), Some(Reading::Int(87)));
        assert_eq!(reading_for(0x02, &json!("21.5")), None);
        assert_eq!(
            source_name("shellyblugwg3-ccba970d5e01"),
            "shelly:shellyblugwg3-ccba970d5e01"
        );
    }
}

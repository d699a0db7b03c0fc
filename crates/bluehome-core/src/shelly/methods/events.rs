//! Events carried by `NotifyEvent` frames (`params.events[]`): BTHome discovery, a BTHome
//! device's new objects, and BLE pairing.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ble::PairedDevice;
use crate::shelly::frame::Notification;

/// Shelly manufacturer data as the gateway decoded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ShellyMfdata {
    /// Flags.
    #[serde(default)]
    pub flags: u16,
    /// Model id.
    #[serde(default)]
    pub model_id: u16,
    /// MAC.
    #[serde(default)]
    pub mac: Option<String>,
}

/// A device found by `BTHome.StartDeviceDiscovery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DiscoveredDevice {
    /// Address.
    pub addr: String,
    /// Local name.
    #[serde(default)]
    pub local_name: Option<String>,
    /// RSSI.
    #[serde(default)]
    pub rssi: i32,
    /// Sends encrypted BTHome data.
    #[serde(default)]
    pub encrypted: bool,
    /// Shelly manufacturer data, for Shelly BLU devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shelly_mfdata: Option<ShellyMfdata>,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `bthome` `device_discovered`.
    DeviceDiscovered {
        /// The device.
        device: DiscoveredDevice,
        /// Unix time.
        ts: f64,
    },
    /// `bthome` `discovery_done`.
    DiscoveryDone {
        /// Devices found.
        device_count: u32,
        /// Unix time.
        ts: f64,
    },
    /// `bthomedevice:<id>` `new_objects`: the gateway learned objects of a BTHome device (read
    /// them with `BTHomeDevice.GetKnownObjects`).
    NewObjects {
        /// The BTHome device component id.
        id: u16,
    },
    /// `ble` `paired_device_added`.
    PairedDeviceAdded(PairedDevice),
    /// `ble` `paired_device_removed`.
    PairedDeviceRemoved(PairedDevice),
    /// Anything else, kept whole.
    Other(Value),
}

impl Event {
    /// Reads one element of `params.events`.
    pub fn parse(value: &Value) -> Self {
        let field = |name| value.get(name).cloned().unwrap_or(Value::Null);
        let ts = value.get("ts").and_then(Value::as_f64).unwrap_or(0.0);
        let component = value.get("component").and_then(Value::as_str);
        let event = value.get("event").and_then(Value::as_str);
        let parsed = match (component, event) {
            (Some("bthome"), Some("device_discovered")) => serde_json::from_value(field("device"))
                .ok()
                .map(|device| Self::DeviceDiscovered { device, ts }),
            (Some("bthome"), Some("discovery_done")) => field("device_count")
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(|device_count| Self::DiscoveryDone { device_count, ts }),
            (Some(key), Some("new_objects")) => key
                .strip_prefix("bthomedevice:")
                .and_then(|id| id.parse().ok())
                .or_else(|| field("id").as_u64().and_then(|id| u16::try_from(id).ok()))
                .map(|id| Self::NewObjects { id }),
            (Some("ble"), Some("paired_device_added")) => serde_json::from_value(field("info"))
                .ok()
                .map(Self::PairedDeviceAdded),
            (Some("ble"), Some("paired_device_removed")) => serde_json::from_value(field("info"))
                .ok()
                .map(Self::PairedDeviceRemoved),
            _ => None,
        };
        parsed.unwrap_or_else(|| Self::Other(value.clone()))
    }

    /// The events of a notification (none unless it is a `NotifyEvent`).
    pub fn from_notification(n: &Notification) -> Vec<Self> {
        n.events().iter().map(Self::parse).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The BTHome component document's event examples.
    #[test]
    fn parses_documented_discovery_events() {
        let e = Event::parse(&json!({
            "component": "bthome", "event": "device_discovered",
            "device": {"addr": "3c:2e:f5:71:d5:2a", "local_name": "SBBT-002C", "rssi": -59,
                "encrypted": false, "shelly_mfdata": {"flags": 25, "model_id": 1, "mac": "3c:2e:f5:71:d5:2a"}},
            "ts": 1706593991.91
        }));
        let Event::DeviceDiscovered { device, ts } = e else {
            panic!("{e:?}")
        };
        assert_eq!(device.local_name.as_deref(), Some("SBBT-002C"));
        assert_eq!(device.shelly_mfdata.unwrap().flags, 25);
        assert!((ts - 1_706_593_991.91).abs() < 1e-6);
        let e = Event::parse(
            &json!({"component": "bthome", "event": "discovery_done", "device_count": 1, "ts": 1706593991.91}),
        );
        assert!(matches!(
            e,
            Event::DiscoveryDone {
                device_count: 1,
                ..
            }
        ));
    }

    /// The BTHomeDevice document names `new_objects` without an example; the component key (or
    /// `id`) says which device.
    #[test]
    fn parses_new_objects_by_component_key_or_id() {
        let e = Event::parse(
            &json!({"component": "bthomedevice:203", "id": 203, "event": "new_objects"}),
        );
        assert_eq!(e, Event::NewObjects { id: 203 });
        let e =
            Event::parse(&json!({"component": "bthomedevice", "id": 201, "event": "new_objects"}));
        assert_eq!(e, Event::NewObjects { id: 201 });
        let odd = json!({"component": "bthomedevice:x", "event": "new_objects"});
        assert_eq!(Event::parse(&odd), Event::Other(odd));
    }

    /// The BLE component document's pairing event example.
    #[test]
    fn parses_pairing_events_and_keeps_others() {
        let e = Event::parse(&json!({"component": "ble", "event": "paired_device_added",
            "info": {"addr": "AA:BB:CC:DD:EE:FF", "ctime": 1729259400, "atime": 1729259400}}));
        assert!(matches!(e, Event::PairedDeviceAdded(ref d) if d.addr == "AA:BB:CC:DD:EE:FF"));
        let other = json!({"component": "input:0", "event": "single_push"});
        assert_eq!(Event::parse(&other), Event::Other(other));
        let broken = json!({"component": "bthome", "event": "discovery_done"});
        assert_eq!(Event::parse(&broken), Event::Other(broken));
    }
}

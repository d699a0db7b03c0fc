//! What a BTHome gateway keeps, as read: its device and sensor components (from
//! `Shelly.GetComponents`), each explained and written as the Scan page writes readings.

use bluehome_core::advertisement::MacAddress;
use bluehome_core::bthome::{Object, info as object_info};
use bluehome_core::shelly::methods::bthome::{
    DeviceConfig, DeviceStatus, SensorConfig, SensorStatus,
};
use bluehome_core::shelly::methods::shelly::{self, Component, ComponentMap};
use bluehome_core::shelly::models;
use bluehome_core::text::printable;
use std::collections::BTreeMap;

use crate::state::model::object_text;
use crate::state::settings::Settings;
use crate::state::shelly::remote::reading_for;

/// The dynamic components (BTHome devices and sensors) of `Shelly.GetComponents`, as
/// [`ShellySession::dynamic_components`](super::super::ShellySession::dynamic_components) reads them.
#[derive(Debug, Clone, Default)]
pub struct DynamicComponents {
    /// Their configs by key.
    pub config: ComponentMap,
    /// Their statuses by key.
    pub status: ComponentMap,
    /// The BLU model id of each BTHome device by key (`bthomedevice:200`), where its `attrs`
    /// name one.
    pub models: BTreeMap<String, u16>,
}

impl DynamicComponents {
    /// Reads the items of every page.
    pub fn of(components: &[Component]) -> Self {
        Self {
            config: ComponentMap::configs(components),
            status: ComponentMap::statuses(components),
            models: components
                .iter()
                .filter(|c| shelly::component_id(&c.key, "bthomedevice").is_some())
                .filter_map(|c| Some((c.key.clone(), c.device_attrs().model_id?)))
                .collect(),
        }
    }

    /// The BTHome device components in id order, each with its model.
    pub fn devices(&self) -> Vec<BthomeDevice> {
        self.config
            .numbered::<DeviceConfig>("bthomedevice")
            .into_iter()
            .map(|(id, config)| {
                let key = format!("bthomedevice:{id}");
                let errors = self.status.get::<DeviceStatus>(&key).and_then(|s| s.errors);
                BthomeDevice {
                    id,
                    config,
                    model_id: self.models.get(&key).copied(),
                    problem: errors.and_then(|e| e.first().map(|e| explain_device_error(e))),
                }
            })
            .collect()
    }
}

/// A BTHome device component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BthomeDevice {
    /// Its id (200..299).
    pub id: u16,
    /// Its configuration.
    pub config: DeviceConfig,
    /// Its BLU model id, when the gateway names one (the component's `attrs`: a real BLU Gateway
    /// Gen3 on 1.7.5 sends `{"flags": 17, "model_id": 3}`, in Luligu/matterbridge-shelly
    /// `src/mock/shellyblugwg3-34CDB077BCD4.json`).
    pub model_id: Option<u16>,
    /// Why the gateway cannot read its packets, explained (from its status `errors`).
    pub problem: Option<String>,
}

impl BthomeDevice {
    /// Its model for people: product name and code (`Shelly BLU H&T (SBHT-003C)`), the bare id
    /// when the model table does not know it, `None` when the gateway names no model.
    pub fn model_label(&self) -> Option<String> {
        let id = self.model_id?;
        Some(match models::model(id) {
            Some(m) => format!("{} ({})", m.name, m.code),
            None => format!("BLU model id 0x{id:04x}"),
        })
    }
}

/// A device address as the page shows it: a MAC in the upper case the Scan page uses (the
/// gateway writes them in lower case), anything else as the gateway sent it, made printable.
pub fn shown_address(addr: &str) -> String {
    addr.parse::<MacAddress>()
        .map_or_else(|_| printable(addr).into_owned(), |mac| mac.to_string())
}

/// A BTHome sensor component with its last value.
#[derive(Debug, Clone, PartialEq)]
pub struct BthomeSensor {
    /// Its id (200..299).
    pub id: u16,
    /// Its configuration.
    pub config: SensorConfig,
    /// Its status, if the gateway reported one.
    pub status: Option<SensorStatus>,
}

impl BthomeSensor {
    /// What it measures: the name it was given, else its object's (`humidity`).
    pub fn label(&self) -> String {
        match self.config.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(name) => printable(name).into_owned(),
            None => self
                .config
                .obj_id
                .and_then(object_info)
                .map_or("sensor", |info| info.name)
                .replace('_', " "),
        }
    }

    /// Its last value as the Scan page writes it, in the user's units (`21.5 °C`, `open`); empty
    /// before the gateway reported its status, "no value yet" before the sensor was heard.
    pub fn reading(&self, settings: &Settings) -> String {
        let Some(status) = &self.status else {
            return String::new();
        };
        if status.value.is_null() {
            return "no value yet".into();
        }
        let object = self
            .config
            .obj_id
            .and_then(|id| reading_for(id, &status.value).map(|reading| Object::new(id, reading)));
        match object {
            Some(o) => object_text(o.id, &o.value, o.unit(), settings),
            // A value that does not fit its object: as the gateway wrote it.
            None => printable(&status.value.to_string()).into_owned(),
        }
    }
}

/// The BTHome sensor components of a config map, each with its status (both from
/// [`DynamicComponents`]).
pub fn sensors_with_status(config: &ComponentMap, status: &ComponentMap) -> Vec<BthomeSensor> {
    config
        .numbered::<SensorConfig>("bthomesensor")
        .into_iter()
        .map(|(id, config)| BthomeSensor {
            id,
            config,
            status: status.get(&format!("bthomesensor:{id}")),
        })
        .collect()
}

/// Explains a `BTHome.GetStatus` error.
pub fn explain_status_error(code: &str) -> String {
    match code {
        "bluetooth_disabled" => "Bluetooth is turned off on the gateway: turn it on (BLE settings) so it can hear sensors.".into(),
        "observer_disabled" => "The gateway's Bluetooth observer is off: turn on \"Bluetooth gateway\" in its settings.".into(),
        other => format!("The gateway reports \"{}\".", printable(other)),
    }
}

/// Explains a `BTHomeDevice.GetStatus` error: why the gateway cannot read a device's packets
/// (taulfsime/shelly-rpc-ts `BTHomeDevice.ts` lists the codes).
pub fn explain_device_error(code: &str) -> String {
    const READD: &str = "Remove the device and add it again with its bind key (the Shelly app, or \"Set up a device\" here, shows it).";
    match code {
        "key_missing_or_bad" => format!("The device encrypts, and the gateway has no usable key for it. {READD}"),
        "decrypt_failed" => format!("The gateway cannot decrypt the device's packets: its key is not the device's (a new passkey makes a new key). {READD}"),
        "unencrypted_data" => "The device does not encrypt, but the gateway has a key for it and refuses its plain packets. Remove the device and add it again without a key.".into(),
        "parse_failed" => "The gateway cannot read the device's packets as BTHome.".into(),
        other => format!("The gateway reports \"{}\" for this device.", printable(other)),
    }
}

/// A BTHome component the gateway keeps, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// A `bthomedevice`.
    Device(u16),
    /// A `bthomesensor`.
    Sensor(u16),
}

impl Kept {
    /// Its component id.
    pub fn id(self) -> u16 {
        match self {
            Self::Device(id) | Self::Sensor(id) => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The gateway's lower-case MACs are shown as the Scan page shows them; what is not a MAC
    /// is shown as sent, with control characters made visible.
    #[test]
    fn addresses_are_shown_as_the_scan_page_shows_them() {
        assert_eq!(shown_address("3c:2e:f5:71:d5:2a"), "3C:2E:F5:71:D5:2A");
        assert_eq!(shown_address("3C-2E-F5-71-D5-2A"), "3C:2E:F5:71:D5:2A");
        assert_eq!(shown_address("not a mac"), "not a mac");
        assert_ne!(shown_address("a\u{1b}b"), "a\u{1b}b");
    }

    /// A sensor's value reads as the Scan page writes it: units (and the user's °F), a binary
    /// object's words; before a status, nothing; before the first value, a note; a value that
    /// does not fit its object, as sent. Unnamed, it is named by its object.
    #[test]
    fn sensor_values_read_as_the_scan_page_writes_them() {
        let sensor = |obj_id: u8, name: &str, value: Option<serde_json::Value>| BthomeSensor {
            id: 200,
            config: serde_json::from_value(json!({"obj_id": obj_id, "name": name})).unwrap(),
            status: value.map(|value| SensorStatus {
                value,
                ..SensorStatus::default()
            }),
        };
        let celsius = Settings::default();
        let fahrenheit = Settings {
            fahrenheit: true,
            ..Settings::default()
        };
        let reading = |s: BthomeSensor, settings: &Settings| s.reading(settings);
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!(21.5))), &celsius),
            "21.5 °C"
        );
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!(21.5))), &fahrenheit),
            "70.7 °F"
        );
        assert_eq!(
            reading(sensor(0x01, "b", Some(json!(100))), &celsius),
            "100 %"
        );
        assert_eq!(
            reading(sensor(0x2D, "w", Some(json!(true))), &celsius),
            "open"
        );
        assert_eq!(
            reading(sensor(0x2D, "w", Some(json!(false))), &celsius),
            "closed"
        );
        assert_eq!(reading(sensor(0x02, "t", None), &celsius), "");
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!(null))), &celsius),
            "no value yet"
        );
        assert_eq!(
            reading(sensor(0x02, "t", Some(json!("hot"))), &celsius),
            "\"hot\""
        );
        assert_eq!(sensor(0x2E, "Kitchen", None).label(), "Kitchen");
        assert_eq!(sensor(0x2E, " ", None).label(), "humidity");
        assert_eq!(sensor(0x14, "", None).label(), "moisture");
        assert_eq!(sensor(0xEE, "", None).label(), "sensor");
    }

    #[test]
    fn sensors_are_found_in_id_order_with_their_status() {
        let components = |v| serde_json::from_value::<ComponentMap>(v).unwrap();
        let config = components(json!({"bthomesensor:201": {"addr": "b", "obj_id": 1},
            "bthomesensor:200": {"addr": "a", "obj_id": 2}, "bthomedevice:200": {"addr": "a"},
            "sys": {}}));
        let status = components(json!({"bthomesensor:200": {"id": 200, "value": 21.5}}));
        let sensors = sensors_with_status(&config, &status);
        assert_eq!(sensors.iter().map(|s| s.id).collect::<Vec<_>>(), [200, 201]);
        assert_eq!(sensors[0].status.as_ref().unwrap().value, json!(21.5));
        assert_eq!(sensors[1].status, None);
        let devices = config.numbered::<DeviceConfig>("bthomedevice");
        assert_eq!(devices[0].1.addr.as_deref(), Some("a"));
    }

    /// Each device keeps the model its `attrs` name (as a real BLU Gateway Gen3 sends them);
    /// a device without attrs, or with attrs of another shape, has none.
    #[test]
    fn devices_keep_the_model_their_attrs_name() {
        let components: Vec<Component> = serde_json::from_value(json!([
            {"key": "bthomedevice:201", "config": {"id": 201, "addr": "b"},
                "attrs": {"flags": 17, "model_id": 3}},
            {"key": "bthomedevice:200", "config": {"id": 200, "addr": "a"}},
            {"key": "bthomedevice:202", "config": {"id": 202}, "attrs": {"model_id": 4}},
            {"key": "bthomedevice:203", "config": {"id": 203}, "attrs": [3]},
            {"key": "bthomesensor:200", "config": {"addr": "b", "obj_id": 2},
                "attrs": {"model_id": 3}}
        ]))
        .unwrap();
        let dynamic = DynamicComponents::of(&components);
        assert_eq!(
            dynamic.models,
            BTreeMap::from([
                ("bthomedevice:201".to_owned(), 3),
                ("bthomedevice:202".to_owned(), 4)
            ])
        );
        let devices = dynamic.devices();
        let ids_models: Vec<_> = devices.iter().map(|d| (d.id, d.model_id)).collect();
        assert_eq!(
            ids_models,
            [(200, None), (201, Some(3)), (202, Some(4)), (203, None)]
        );
        let labels: Vec<_> = devices.iter().map(BthomeDevice::model_label).collect();
        assert_eq!(
            labels,
            [
                None,
                Some("Shelly BLU H&T (SBHT-003C)".to_owned()),
                Some("BLU model id 0x0004".to_owned()),
                None
            ]
        );
        assert_eq!(devices[1].config.addr.as_deref(), Some("b"));
    }

    #[test]
    fn gateway_status_errors_say_what_to_turn_on() {
        assert!(explain_status_error("bluetooth_disabled").contains("Bluetooth is turned off"));
        assert!(explain_status_error("observer_disabled").contains("observer is off"));
        assert_eq!(explain_status_error("odd"), "The gateway reports \"odd\".");
    }

    /// A code the page does not know is the gateway's text, shown with its controls escaped.
    #[test]
    fn unknown_error_codes_are_shown_printable() {
        assert_eq!(
            explain_status_error("odd\u{202e}"),
            "The gateway reports \"odd\\u{202e}\"."
        );
        assert!(explain_device_error("a\nb").contains("\"a\\nb\" for this device"));
    }
}

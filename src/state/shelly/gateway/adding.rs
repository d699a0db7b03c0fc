//! Adding a device to a gateway: the device typed or picked, what it sends to make sensors of
//! (`BTHomeDevice.GetKnownObjects` named by `BTHome.GetObjectInfos`), and the wait for a device
//! the gateway has not heard yet.

use bluehome_core::shelly::methods::bthome::{KnownObjects, ObjectInfo};
use leptos::prelude::*;

use super::kept::shown_address;

/// The add form: the address and name (which picking a discovered or relayed device fills in)
/// and the bind key.
#[derive(Debug, Clone, Copy, Default)]
pub struct AddForm {
    /// The address typed or picked.
    pub addr: RwSignal<String>,
    /// The name typed or picked.
    pub name: RwSignal<String>,
    /// The bind key typed.
    pub key: RwSignal<String>,
}

impl AddForm {
    /// Empties the form.
    pub(super) fn clear(self) {
        self.pick(String::new(), String::new());
        self.key.set(String::new());
    }

    /// Fills the form with a picked device.
    pub fn pick(self, addr: String, name: String) {
        self.addr.set(addr);
        self.name.set(name);
    }
}

/// An object a BTHome device sends (`BTHomeDevice.GetKnownObjects`), named from
/// `BTHome.GetObjectInfos`: what the user may make a sensor component of.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorCandidate {
    /// The BTHome object id.
    pub obj_id: u8,
    /// Which occurrence of that id.
    pub idx: u8,
    /// The sensor component already made from it.
    pub component: Option<String>,
    /// The object's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// A button: its presses are the device's own events, and firmware since 1.6.0 makes no
    /// sensor of it (shelly-api-docs, DynamicComponents/BTHome: "BTHomeSensor components of type
    /// button are no longer supported").
    pub events_only: bool,
}

/// Joins `BTHomeDevice.GetKnownObjects` with `BTHome.GetObjectInfos`.
pub fn sensor_candidates(known: &KnownObjects, infos: &[ObjectInfo]) -> Vec<SensorCandidate> {
    known
        .objects
        .iter()
        .map(|o| {
            let info = infos.iter().find(|i| i.obj_id == o.obj_id);
            let text = |t: Option<&Option<String>>| t.cloned().flatten().unwrap_or_default();
            SensorCandidate {
                obj_id: o.obj_id,
                idx: o.idx,
                component: o.component.clone(),
                name: match text(info.map(|i| &i.obj_name)) {
                    n if n.is_empty() => format!("object 0x{:02x}", o.obj_id),
                    n => n,
                },
                unit: text(info.map(|i| &i.unit)),
                events_only: bluehome_core::bthome::info(o.obj_id)
                    .is_some_and(|i| i.kind == bluehome_core::bthome::Kind::Button),
            }
        })
        .collect()
}

/// A newly added device whose objects the gateway does not know yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Its BTHome device component id.
    pub id: u16,
    /// Its address.
    pub addr: String,
    /// The automatic re-reads are over.
    pub gave_up: bool,
    /// Why the gateway cannot read the device's packets, explained (from its status `errors`).
    pub problem: Option<String>,
}

impl Waiting {
    /// What the panel says meanwhile.
    pub fn message(&self) -> String {
        if let Some(problem) = &self.problem {
            return problem.clone();
        }
        if self.gave_up {
            format!(
                "Nothing heard from {} yet. Check that it is in range and has a battery, press its button, then read again.",
                shown_address(&self.addr)
            )
        } else {
            format!(
                "Waiting for {} to send: the gateway learns a device's sensors from its next packet. Press the device's button (most Shelly BLU devices then send at once), or wait up to a minute: battery sensors send about once a minute.",
                shown_address(&self.addr)
            )
        }
    }
}

/// A device to add with `BTHome.AddDevice`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDevice {
    /// Its address, as typed or picked.
    pub addr: String,
    /// Its name (empty: none).
    pub name: String,
    /// Its bind key, 32 hex digits (empty: unencrypted).
    pub key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::shelly::gateway::kept::explain_device_error;
    use bluehome_core::shelly::methods::bthome;
    use serde_json::json;

    #[test]
    fn candidates_take_names_and_units_from_infos() {
        let known: KnownObjects = serde_json::from_value(json!({"id": 200, "objects": [
            {"obj_id": 2, "idx": 0, "component": null},
            {"obj_id": 1, "idx": 0, "component": "bthomesensor:200"}]}))
        .unwrap();
        let infos: bthome::ObjectInfos = serde_json::from_value(json!({"objects": [
            {"obj_id": 2, "obj_name": "temperature", "type": "sensor", "unit": "°C"}]}))
        .unwrap();
        let list = sensor_candidates(&known, &infos.objects);
        assert_eq!(list[0].name, "temperature");
        assert_eq!(list[0].unit, "°C");
        assert_eq!(list[1].name, "object 0x01");
        assert_eq!(list[1].component.as_deref(), Some("bthomesensor:200"));
    }

    /// A button (object 0x3A) is listed, but as the device's events: firmware since 1.6.0
    /// refuses a sensor of it, so `add_sensors` never asks for one.
    #[test]
    fn a_button_is_offered_as_events_only() {
        let known: KnownObjects = serde_json::from_value(json!({"id": 200, "objects": [
            {"obj_id": 0x3a, "idx": 0, "component": null},
            {"obj_id": 1, "idx": 0, "component": null}]}))
        .unwrap();
        let list = sensor_candidates(&known, &[]);
        assert!(list[0].events_only);
        assert!(!list[1].events_only);
    }

    /// The panel reads Add answers through the core's typed result: real firmware's `added`
    /// and the document's `key` both give the id.
    #[test]
    fn add_answers_give_the_component_id() {
        let id = |v| {
            serde_json::from_value::<bthome::Added>(v)
                .ok()
                .and_then(|a| a.id())
        };
        assert_eq!(id(json!({"added": "bthomedevice:203"})), Some(203));
        assert_eq!(id(json!({"key": "bthomedevice:203"})), Some(203));
        assert_eq!(id(json!({})), None);
    }

    #[test]
    fn waiting_for_a_device_says_what_to_do() {
        let mut w = Waiting {
            id: 200,
            addr: "3c:2e:f5:5b:01:01".into(),
            gave_up: false,
            problem: None,
        };
        assert!(w.message().contains("Press the device's button"));
        assert!(w.message().contains("wait up to a minute"));
        w.gave_up = true;
        assert!(w.message().contains("then read again"));
        // A packet the gateway cannot read is explained instead: pressing the button cannot help.
        w.problem = Some(explain_device_error("decrypt_failed"));
        assert!(w.message().contains("its key is not the device's"));
        assert!(explain_device_error("unencrypted_data").contains("without a key"));
        assert!(explain_device_error("new_code").contains("\"new_code\""));
    }
}

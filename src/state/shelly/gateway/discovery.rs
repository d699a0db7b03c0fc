//! What a gateway's device discovery found (its `device_discovered` events), and what to say when
//! it found nothing.

use bluehome_core::shelly::methods::events::{DiscoveredDevice, Event};
use bluehome_core::shelly::models;
use bluehome_core::text::printable;

use super::kept::shown_address;

/// A discovered device as its button says it: its address, the product its Shelly manufacturer
/// data (or else its local name, a BLU model code) names, whether it encrypts, its signal.
pub fn discovered_label(device: &DiscoveredDevice) -> String {
    let name = device.local_name.as_deref().unwrap_or_default();
    let model = device
        .shelly_mfdata
        .as_ref()
        .and_then(|m| models::model(m.model_id))
        .or_else(|| models::model_by_code(name))
        .filter(|m| m.is_blu());
    let what = model.map_or_else(
        || printable(name).into_owned(),
        |m| format!("{} ({})", m.name, m.code),
    );
    let mut parts = vec![shown_address(&device.addr)];
    parts.extend((!what.is_empty()).then_some(what));
    parts.extend(device.encrypted.then(|| "encrypted".to_owned()));
    parts.push(format!("{} dBm", device.rssi));
    parts.join(" · ")
}

/// What to say when a discovery brought no device (`None` when it found some).
pub fn discovery_outcome(found: usize, done: bool) -> Option<&'static str> {
    match (found, done) {
        (0, false) => Some(
            "The gateway sent no discovery results over Bluetooth (not every firmware passes its events to a Bluetooth client). Type the device's address below, or pick it from the devices the gateway already hears.",
        ),
        (0, true) => Some(
            "The gateway found no BTHome device nearby. Press the device's button to wake it and discover again, type its address below, or pick it from the devices the gateway already hears.",
        ),
        _ => None,
    }
}

/// Adds the devices that `events` report found to `found`, one entry per address (a device
/// reported again keeps its place, with the newer report); true when one of them says the
/// discovery is done.
pub fn note_finds(found: &mut Vec<DiscoveredDevice>, events: Vec<Event>) -> bool {
    let mut done = false;
    for event in events {
        match event {
            Event::DeviceDiscovered { device, .. } => {
                match found.iter_mut().find(|d| d.addr == device.addr) {
                    Some(known) => *known = device,
                    None => found.push(device),
                }
            }
            Event::DiscoveryDone { .. } => done = true,
            _ => {}
        }
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use bluehome_core::shelly::methods::events::ShellyMfdata;
    use serde_json::json;

    /// A discovered BLU device is said by its product, from its manufacturer data or else the
    /// model code it advertises as its name; anything else by its name as sent.
    #[test]
    fn a_discovered_device_is_said_by_its_product() {
        let mut device = DiscoveredDevice {
            addr: "3c:2e:f5:5b:01:01".to_owned(),
            local_name: Some("SBHT-003C".to_owned()),
            rssi: -50,
            ..DiscoveredDevice::default()
        };
        assert_eq!(
            discovered_label(&device),
            "3C:2E:F5:5B:01:01 · Shelly BLU H&T (SBHT-003C) · -50 dBm"
        );
        device.local_name = None;
        device.encrypted = true;
        device.shelly_mfdata = Some(ShellyMfdata {
            model_id: 0x0002,
            ..ShellyMfdata::default()
        });
        assert_eq!(
            discovered_label(&device),
            "3C:2E:F5:5B:01:01 · Shelly BLU Door/Window (SBDW-002C) · encrypted · -50 dBm"
        );
        device.shelly_mfdata = None;
        device.local_name = Some("ATC_1".to_owned());
        device.encrypted = false;
        assert_eq!(
            discovered_label(&device),
            "3C:2E:F5:5B:01:01 · ATC_1 · -50 dBm"
        );
    }

    #[test]
    fn an_empty_discovery_says_why_and_offers_the_fallbacks() {
        let silent = discovery_outcome(0, false).unwrap();
        assert!(silent.contains("sent no discovery results"));
        assert!(silent.contains("Type the device's address"));
        assert!(
            discovery_outcome(0, true)
                .unwrap()
                .contains("found no BTHome device")
        );
        assert_eq!(discovery_outcome(2, true), None);
    }

    #[test]
    fn discovered_devices_come_from_device_discovered_events_once_each() {
        let found_at = |addr: &str, rssi: i32| {
            json!({"component": "bthome", "event": "device_discovered",
                "device": {"addr": addr, "rssi": rssi}})
        };
        let parse = |events: &[serde_json::Value]| events.iter().map(Event::parse).collect();
        let mut found = Vec::new();
        let first = [
            found_at("3c:2e:f5:71:d5:2a", -59),
            json!({"component": "ble", "event": "paired_device_added", "info": {"addr": "x"}}),
            found_at("7c:c6:b6:00:00:01", -70),
        ];
        assert!(!note_finds(&mut found, parse(&first)));
        let rest = [
            found_at("3c:2e:f5:71:d5:2a", -48),
            json!({"component": "bthome", "event": "discovery_done", "device_count": 2}),
        ];
        assert!(note_finds(&mut found, parse(&rest)));
        let seen: Vec<_> = found.iter().map(|d| (d.addr.as_str(), d.rssi)).collect();
        assert_eq!(
            seen,
            [("3c:2e:f5:71:d5:2a", -48), ("7c:c6:b6:00:00:01", -70)]
        );
    }
}

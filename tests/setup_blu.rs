//! Browser tests of "Set up a device" with a Shelly BLU sensor: the core's simulated device
//! behind the strict mock backend (Chrome's rules), named by an opaque id as Chrome names it.
//! The acceptance check: encryption turned on in the BLU flow makes the same sensor decode on
//! the Scan page with no typing.
#![cfg(target_arch = "wasm32")]

mod setup_support;

use bluehome::ble::DeviceId;
use bluehome::ble::demo::{SharedBlu, add_blu_as, blu_device};
use bluehome::ble::mock::{MockBackend, Platform};
use bluehome::platform::Os;
use bluehome::state::setup::Flow;
use bluehome_core::DeviceKey;
use bluehome_core::Uuid;
use bluehome_core::blu;
use bluehome_core::sim::blu::PAIRING_HOLD_MS;
use bluehome_core::sim::{BluDevice, BluOptions};
use leptos::prelude::*;
use setup_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ID: &str = "bLu0pQ==";

/// A BLU Button1 in pairing mode (its button held), on a strict mock under an opaque id.
fn button_world() -> (MockBackend, SharedBlu, DeviceId) {
    let mock = MockBackend::new();
    let device = blu_device(BluDevice::new(BluOptions::new(&blu::MODELS[0])));
    device.borrow_mut().press(PAIRING_HOLD_MS, 0);
    let id = DeviceId::from(ID);
    add_blu_as(&mock, &id, &device);
    (mock, device, id)
}

/// Short presses: each makes the device advertise at once (a button event).
async fn press(w: &World, device: &SharedBlu) {
    let now = w.with_mock(|m| m.now_ms());
    device.borrow_mut().press(100, now);
    tick().await;
    tick().await;
}

fn decoded_battery(w: &World) -> Option<String> {
    let key: DeviceKey = ID.parse().unwrap();
    w.store
        .model_untracked(|m| {
            m.device(&key).and_then(|d| {
                d.readings
                    .values()
                    .find(|r| r.name == "battery")
                    .map(|r| format!("{:?}", r.value))
            })
        })
        .flatten()
}

async fn open_blu(w: &World) {
    click(&w.host, "Set up a device…");
    until(10, "the BLU flow", || {
        w.setup.flow.get_untracked() == Some(Flow::Blu) && w.setup.busy.get_untracked().is_none()
    })
    .await;
}

#[wasm_bindgen_test]
async fn encryption_turned_on_makes_the_sensor_decode_on_the_scan_page() {
    let (mock, device, id) = button_world();
    let w = world(mock).await;
    w.on(&id, Platform::MacOs, Os::MacOs);
    // The sensor is heard by the scan before it is set up: plaintext, decoded.
    press(&w, &device).await;
    until(5, "a plaintext reading", || decoded_battery(&w).is_some()).await;
    open_blu(&w).await;
    let page = w.host.inner_text();
    assert!(
        page.contains("Shelly BLU Button1") || page.contains("SBBT-002C"),
        "{page}"
    );
    let mac = device.borrow().mac();
    assert!(page.contains(&format!("MAC {mac}")), "{page}");
    // Only what the device has is offered: a Button1 has beacon mode, no motion settings.
    let settings = text(&w.host, ".blu-setting");
    assert!(settings.contains("eacon"), "{settings}");
    assert!(
        !settings.to_lowercase().contains("sensitivity"),
        "{settings}"
    );
    assert!(text(&w.host, ".pairing-advice").contains("system will ask"));

    type_into(&w.host, "Passkey (up to 6 digits)", "123456");
    click(&w.host, "Turn encryption on");
    until(10, "the key", || w.setup.blu.key_stored.get_untracked()).await;
    let key = device.borrow().key().expect("the device made a key");
    let shown: web_sys::HtmlInputElement = wasm_bindgen::JsCast::unchecked_into(
        w.host.query_selector("input.bind-key").unwrap().unwrap(),
    );
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(shown.value(), hex, "the key is shown for copying");

    // From now on the device encrypts; the Scan page decrypts with the stored key and MAC.
    w.store.update_model(|m| m.clear());
    press(&w, &device).await;
    until(5, "an encrypted reading decoded", || {
        decoded_battery(&w).is_some()
    })
    .await;
    let now = w.with_mock(|m| m.now_ms());
    let sent = device.borrow_mut().advertisement(now).unwrap();
    let payload = &sent.service_data[&Uuid::BTHOME_V2];
    assert_eq!(
        payload[0] & 0x01,
        0x01,
        "the device now sends encrypted BTHome"
    );
    let entry = w
        .store
        .model_untracked(|m| m.key_entry(&ID.parse().unwrap()))
        .flatten()
        .expect("a key entry");
    assert_eq!(entry.mac, Some(mac));
    assert_eq!(entry.bindkey.to_hex(), hex);
}

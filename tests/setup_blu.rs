//! Browser tests of "Set up a device" with a Shelly BLU sensor: the core's simulated device
//! behind the strict mock backend (Chrome's rules), named by an opaque id as Chrome names it.
//! The acceptance check: encryption turned on in the BLU flow makes the same sensor decode on
//! the Scan page with no typing.
#![cfg(target_arch = "wasm32")]

mod dom;
mod setup_support;

use bluehome::ble::demo::{SharedBlu, add_blu_as, blu_device};
use bluehome::ble::mock::{MockBackend, Platform};
use bluehome::ble::{Capabilities, DeviceId};
use bluehome::platform::Os;
use bluehome::state::actions::StepState;
use bluehome::state::setup::{Flow, GattOp, SetupSession};
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

/// A BLU sensor built from `options`, in pairing mode (its button held) or not (a short press: it
/// advertises), on a strict mock under an opaque id.
fn sensor_world(options: BluOptions, pairing: bool) -> (MockBackend, SharedBlu, DeviceId) {
    let mock = MockBackend::new();
    let device = blu_device(BluDevice::new(options));
    let held = if pairing { PAIRING_HOLD_MS } else { 100 };
    device.borrow_mut().press(held, 0);
    let id = DeviceId::from(ID);
    add_blu_as(&mock, &id, &device);
    (mock, device, id)
}

/// The set-up and Scan pages over a BLU Button1 in pairing mode, on `platform` and `os`, the
/// chooser picking the button.
async fn button_on(platform: Platform, os: Os) -> (World, SharedBlu, DeviceId) {
    sensor_with(platform, os, BluOptions::new(&blu::MODELS[0])).await
}

/// [`button_on`] with the sensor built from `options`.
async fn sensor_with(
    platform: Platform,
    os: Os,
    options: BluOptions,
) -> (World, SharedBlu, DeviceId) {
    let (mock, device, id) = sensor_world(options, true);
    let w = world(mock).await;
    w.on(&id, platform, os);
    (w, device, id)
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

/// Waits until the scan heard the device: Chrome's chooser lists only devices it heard.
async fn heard(w: &World) {
    let key: DeviceKey = ID.parse().unwrap();
    until(5, "the device advertising", || {
        w.store
            .model_untracked(|m| m.device(&key).is_some())
            .unwrap_or(false)
    })
    .await;
}

/// The guided steps at the top of the Devices page are a Shelly device's (Wi-Fi, then a
/// password): a sensor being set up does not show them, as if it were at "Connect" of those.
#[wasm_bindgen_test]
async fn the_shelly_guide_is_not_shown_while_a_blu_sensor_is_set_up() {
    let (w, _device, _) = button_on(Platform::MacOs, Os::MacOs).await;
    assert_eq!(count(&w.host, ".guide"), 1);
    open_blu(&w).await;
    assert_eq!(count(&w.host, ".guide"), 0);
    click(&w.host, "Done: disconnect");
    tick().await;
    assert_eq!(count(&w.host, ".guide"), 1);
}

async fn open_blu(w: &World) {
    heard(w).await;
    click(&w.host, "Set up a device…");
    blu_flow_ready(w).await;
}

/// Waits until the BLU flow has read the device and waits for the person.
async fn blu_flow_ready(w: &World) {
    until(10, "the BLU flow", || {
        w.setup.flow.get_untracked() == Some(Flow::Blu) && w.setup.busy.get_untracked().is_none()
    })
    .await;
}

#[wasm_bindgen_test]
async fn encryption_turned_on_makes_the_sensor_decode_on_the_scan_page() {
    let (w, device, _) = button_on(Platform::MacOs, Os::MacOs).await;
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
    let shown: web_sys::HtmlInputElement =
        wasm_bindgen::JsCast::unchecked_into(element(&w.host, "input.bind-key"));
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

/// A device encrypted already (its passkey written before, in the Shelly app) keeps its key: the
/// page shows the key it has and asks before a new passkey makes a new one, which every receiver
/// holding the old key (Home Assistant) would need again.
#[wasm_bindgen_test]
async fn an_encrypted_device_keeps_its_key_until_a_new_one_is_confirmed() {
    let options = BluOptions {
        passkey: Some(blu::Passkey::new(111_111).unwrap()),
        ..BluOptions::new(&blu::MODELS[0])
    };
    let (w, device, _) = sensor_with(Platform::MacOs, Os::MacOs, options).await;
    let old = device.borrow().key().expect("encrypted from the start");
    let shown = || {
        let input: web_sys::HtmlInputElement =
            wasm_bindgen::JsCast::unchecked_into(element(&w.host, "input.bind-key"));
        input.value()
    };
    open_blu(&w).await;
    // The question is an alert on the page before it is asked (MDN "ARIA live regions"); its
    // buttons are beside the region.
    let region = element(&w.host, ".rekey > [role=alert]");
    assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    type_into(&w.host, "Passkey (up to 6 digits)", "123456");
    click(&w.host, "Turn encryption on");
    until(10, "the question", || {
        w.setup.blu.rekey_armed.get_untracked()
    })
    .await;
    assert_eq!(device.borrow().key(), Some(old), "no passkey written yet");
    assert_eq!(shown(), hex_of(old), "the device's key is shown");
    assert!(
        w.setup.blu.key_stored.get_untracked(),
        "and stored for the Scan page"
    );
    let warning = text(&w.host, ".rekey");
    assert!(warning.contains("Home Assistant"), "{warning}");
    tick().await;
    assert!(region.is_same_node(Some(&element(&w.host, ".rekey > [role=alert]"))));
    let said = region.text_content().unwrap_or_default();
    assert!(said.contains("Home Assistant"), "{said}");
    assert!(region.query_selector("button").unwrap().is_none());

    click(&w.host, "Keep this key");
    until(5, "the question gone", || {
        !w.setup.blu.rekey_armed.get_untracked()
    })
    .await;
    assert_eq!(device.borrow().key(), Some(old));

    click(&w.host, "Turn encryption on");
    until(10, "the question again", || {
        w.setup.blu.rekey_armed.get_untracked()
    })
    .await;
    click(&w.host, "Make a new key");
    until(10, "a new key", || device.borrow().key() != Some(old)).await;
    blu_flow_ready(&w).await;
    let new = device.borrow().key().unwrap();
    assert_eq!(shown(), hex_of(new));
    assert!(!w.setup.blu.rekey_armed.get_untracked());
}

/// A BLU sensor in pairing mode, opened on a desktop Chrome (macOS) without the experimental
/// flag: the page can neither scan nor watch, so it does not know the sensor's MAC.
async fn opened_without_scanning() -> (World, SharedBlu) {
    opened_on(Capabilities {
        secure_context: true,
        bluetooth: true,
        request_device: true,
        ..Capabilities::default()
    })
    .await
}

/// A BLU sensor in pairing mode, opened on a desktop Chrome (macOS) with `capabilities`, not
/// scanning.
async fn opened_on(capabilities: Capabilities) -> (World, SharedBlu) {
    let mock = MockBackend::with_capabilities(capabilities);
    let device = blu_device(BluDevice::new(BluOptions::new(&blu::MODELS[0])));
    device.borrow_mut().press(PAIRING_HOLD_MS, 0);
    let id = DeviceId::from(ID);
    add_blu_as(&mock, &id, &device);
    let w = world_without_scan(mock);
    w.on(&id, Platform::MacOs, Os::MacOs);
    until(5, "the chooser listing the sensor", || {
        let listed = w.with_mock(|m| m.offered(&SetupSession::chooser_options()));
        !listed.is_empty()
    })
    .await;
    click(&w.host, "Set up a device…");
    blu_flow_ready(&w).await;
    (w, device)
}

/// On a desktop Chrome without the experimental flag the page can neither scan nor watch, so it
/// cannot learn the MAC: the key is read and shown all the same (for Home Assistant), and
/// stored for the Scan page once the person types the MAC.
#[wasm_bindgen_test]
async fn without_scanning_the_key_is_shown_and_stored_once_the_mac_is_typed() {
    let (w, device) = opened_without_scanning().await;
    assert!(text(&w.host, ".mac").contains("MAC unknown"));

    type_into(&w.host, "Passkey (up to 6 digits)", "123456");
    click(&w.host, "Turn encryption on");
    until(10, "the key", || w.setup.blu.key.get_untracked().is_some()).await;
    blu_flow_ready(&w).await;
    assert_eq!(w.failure(), "", "no failure");
    let key = device.borrow().key().expect("the device made a key");
    assert_eq!(
        w.setup.blu.key.get_untracked().map(|k| k.to_hex()),
        Some(hex_of(key))
    );
    let stored = |w: &World| {
        w.store
            .model_untracked(|m| m.key_entry(&ID.parse().unwrap()))
            .flatten()
    };
    assert!(stored(&w).is_none(), "no MAC, nothing to decrypt with yet");
    assert!(text(&w.host, ".blu-key").contains("Enter the MAC"));

    let mac = device.borrow().mac();
    type_into(&w.host, "MAC on the device", &mac.to_string());
    click(&w.host, "Use this MAC");
    until(5, "the key stored", || {
        w.setup.blu.key_stored.get_untracked()
    })
    .await;
    let entry = stored(&w).expect("stored with the MAC");
    assert_eq!(entry.mac, Some(mac));
    assert_eq!(entry.bindkey.to_hex(), hex_of(key));
    let steps = w.setup.steps.get_untracked();
    assert!(
        steps.iter().all(|s| s.state != StepState::Running),
        "no step left running: {steps:?}"
    );
}

fn hex_of(key: [u8; 16]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// A device the page has not heard yet is watched while the flow learns its MAC (for up to 5 s:
/// a sensor that advertises a second into the watch is heard), and the watch stays on. It is listed with the Scan page's watches: when Chrome drops every watch (the page
/// lost focus) it is re-armed with them, and the sensor's readings keep arriving. (Unlisted, it
/// stayed "watching" but dead, and Chrome's scan copies of it were dropped as the watch's.)
#[wasm_bindgen_test]
async fn the_flows_watch_is_rearmed_when_the_page_comes_back() {
    let (w, device, id) = button_on(Platform::MacOs, Os::MacOs).await;
    press(&w, &device).await;
    heard(&w).await;
    w.store.update_model(|m| m.clear());
    click(&w.host, "Set up a device…");
    until(5, "the flow watching the device", || {
        w.with_mock(|m| m.watching_advertisements(&id))
    })
    .await;
    gloo_timers::future::sleep(std::time::Duration::from_secs(1)).await;
    assert!(
        w.setup.busy.get_untracked().is_some(),
        "still waiting for the device to advertise"
    );
    press(&w, &device).await;
    blu_flow_ready(&w).await;
    let mac = device.borrow().mac();
    assert!(w.host.inner_text().contains(&format!("MAC {mac}")));
    let listed = || {
        w.store
            .status
            .with_untracked(|s| s.watched.iter().any(|d| d.id == id))
    };
    assert!(listed(), "the flow's watch is listed with the page's");

    w.with_mock(|m| m.set_page_focused(false));
    tick().await;
    w.with_mock(|m| m.set_page_focused(true));
    tick().await;
    tick().await;
    w.store.update_model(|m| m.clear());
    press(&w, &device).await;
    until(5, "a reading through the re-armed watch", || {
        decoded_battery(&w).is_some()
    })
    .await;
    assert!(listed());
}

/// A sensor the page has not heard, which does not advertise while the flow watches for its MAC
/// (a Button1 beacons every 30 s), is given up after 5 s: the flow goes on with the MAC unknown,
/// for the person to type.
#[wasm_bindgen_test]
async fn the_watch_for_the_mac_is_given_up_after_five_seconds() {
    let (w, _device) = opened_on(Capabilities {
        secure_context: true,
        bluetooth: true,
        request_device: true,
        watch_advertisements: true,
        ..Capabilities::default()
    })
    .await;
    assert!(w.with_mock(|m| m.watching_advertisements(&DeviceId::from(ID))));
    assert!(text(&w.host, ".mac").contains("MAC unknown"));
    assert_eq!(w.failure(), "", "no failure");
}

/// "Find my button" sounds only while beacon mode is on (docs-ble/Devices/button): with beacon
/// mode off the device keeps the buzzer silent, and the page says to turn beacon mode on (it
/// said the firmware ignores the setting).
#[wasm_bindgen_test]
async fn find_my_button_without_beacon_mode_says_to_turn_it_on() {
    let (w, device, _) = button_on(Platform::MacOs, Os::MacOs).await;
    open_blu(&w).await;
    element(&w.host, "li[data-name=buzzer_activate] button").click();
    let said = w.said().await;
    assert!(said.contains("turn beacon mode on"), "{said}");
    let now = w.with_mock(|m| m.now_ms());
    assert!(!device.borrow().buzzing(now));
}

/// Chrome on Windows pairs on demand only a device that asks for a PIN: a BLU sensor on current
/// firmware pairs without one, so the protected write fails "Authentication failed.", and the
/// page gives the Windows steps (the device makes no key).
#[wasm_bindgen_test]
async fn on_windows_an_unpaired_device_gets_the_windows_pairing_steps() {
    let (w, device, _) = button_on(Platform::Windows, Os::Windows).await;
    open_blu(&w).await;
    assert!(text(&w.host, ".pairing-advice").contains("Settings › Bluetooth & devices"));
    type_into(&w.host, "Passkey (up to 6 digits)", "123456");
    click(&w.host, "Turn encryption on");
    let said = w.said().await;
    assert!(said.starts_with("The device wants a paired link"), "{said}");
    assert!(
        said.contains("Settings › Bluetooth & devices › Add device"),
        "{said}"
    );
    assert!(said.contains("Authentication failed."), "{said}");
    assert!(device.borrow().key().is_none());
    assert!(!w.setup.blu.key_stored.get_untracked());
    // The failure says how to pair: the standing notice that says it too is not beside it.
    assert_eq!(count(&w.host, ".pairing-advice"), 0);
}

/// A sensor out of pairing mode, heard and then chosen in "Set up a device": what the page said.
async fn chosen_out_of_pairing_mode(options: BluOptions) -> (World, SharedBlu, String) {
    let (mock, device, id) = sensor_world(options, false);
    let w = world(mock).await;
    w.on(&id, Platform::MacOs, Os::MacOs);
    heard(&w).await;
    click(&w.host, "Set up a device…");
    let said = w.said().await;
    (w, device, said)
}

/// How to enter pairing mode differs between models: the advice is the one for the device heard,
/// before any connection (a BLU Distance: "If a button is clicked 4 times, the device enters
/// pairing mode", docs-ble/Devices/BLU/distance).
#[wasm_bindgen_test]
async fn the_pairing_mode_advice_fits_the_model_heard() {
    let distance = blu::model_by_code("SBDI-003E").unwrap();
    let (_, _, said) = chosen_out_of_pairing_mode(BluOptions::new(distance)).await;
    assert!(said.contains("Press its button 4 times"), "{said}");
    assert!(!said.contains("more than 10 seconds"), "{said}");
}

/// Firmware before 1.0.23 also asks for the passkey as the pairing PIN (docs-ble/changelog): the
/// page says so beside the passkey; later firmware does not need the warning.
#[wasm_bindgen_test]
async fn older_firmware_warns_that_the_passkey_is_the_pairing_pin() {
    // A firmware without the revision characteristic, or one that is no version number, may be
    // older: the warning stays.
    let cases = [
        ("v1.0.22", true, true),
        ("1.0.23", true, false),
        ("1.0.23", false, true),
        ("beta", true, true),
    ];
    for (firmware, revision_readable, warned) in cases {
        let without = if revision_readable {
            Vec::new()
        } else {
            vec![blu::Characteristic::FirmwareRevision]
        };
        let options = BluOptions {
            firmware: firmware.into(),
            without,
            ..BluOptions::new(&blu::MODELS[0])
        };
        let (w, _, _) = sensor_with(Platform::MacOs, Os::MacOs, options).await;
        open_blu(&w).await;
        let warning = w.host.query_selector(".passkey-pin").unwrap();
        assert_eq!(warning.is_some(), warned, "{firmware} {revision_readable}");
        w.host.remove();
    }
}

/// A device out of pairing mode (and not paired with this computer) refuses the connection; the
/// page says how to enter pairing mode.
#[wasm_bindgen_test]
async fn a_device_out_of_pairing_mode_is_explained() {
    let (w, device, said) = chosen_out_of_pairing_mode(BluOptions::new(&blu::MODELS[3])).await;
    assert!(said.contains("more than 10 seconds"), "{said}");
    assert_eq!(w.setup.flow.get_untracked(), None);
    // The person holds the button; the retry connects to the device already chosen (the chooser
    // would now answer "cancelled").
    let now = w.with_mock(|m| m.now_ms());
    device.borrow_mut().press(PAIRING_HOLD_MS, now);
    w.with_mock(|m| m.set_chooser(bluehome::ble::mock::ChooserAnswer::Cancel));
    click(&w.host, "Retry");
    blu_flow_ready(&w).await;
    assert!(w.setup.failure.get_untracked().is_none(), "{}", w.failure());
}

/// The settings offered are the device's own (Motion: sensitivity, no buzzer); a change is
/// written and read back.
#[wasm_bindgen_test]
async fn a_setting_is_written_after_pairing_and_read_back() {
    let options = BluOptions::new(&blu::MODELS[3]);
    let (w, device, _) = sensor_with(Platform::MacOs, Os::MacOs, options).await;
    open_blu(&w).await;
    let settings = text(&w.host, ".blu-setting");
    assert!(
        settings.to_lowercase().contains("sensitivity"),
        "{settings}"
    );
    assert!(!settings.to_lowercase().contains("buzzer"), "{settings}");
    set_pulse_count(&w, "9").await;
    assert!(text(&w.host, "li[data-name=motion_pulse_count] .error").contains("9"));
    set_pulse_count(&w, "4").await;
    until(10, "the write", || {
        text(&w.host, "li[data-name=motion_pulse_count] .value") == "4"
    })
    .await;
    let read = device
        .borrow_mut()
        .read(blu::Characteristic::MotionPulseCount, 0);
    assert_eq!(read, Ok(vec![4]));
    // An on/off setting is one button.
    let led = element(&w.host, "li[data-name=motion_led] button");
    assert_eq!(led.text_content().as_deref(), Some("Turn off"));
    led.click();
    until(10, "the LED off", || {
        text(&w.host, "li[data-name=motion_led] .value") == "off"
    })
    .await;
    let read = device.borrow_mut().read(blu::Characteristic::MotionLed, 0);
    assert_eq!(read, Ok(vec![0]));
}

/// A Door/Window on firmware before 1.0.23 counts its angle threshold in tenths of a degree
/// (docs-ble/changelog): the page shows and takes degrees, and writes tenths.
#[wasm_bindgen_test]
async fn an_old_door_window_angle_threshold_is_shown_and_written_in_degrees() {
    let door = blu::model_by_code("SBDW-002C").unwrap();
    let options = BluOptions {
        firmware: "1.0.22".into(),
        undocumented: true,
        ..BluOptions::new(door)
    };
    let (w, device, _) = sensor_with(Platform::MacOs, Os::MacOs, options).await;
    open_blu(&w).await;
    let row = "li[data-name=angle_threshold]";
    // The simulator starts at the byte 5: half a degree on this firmware.
    assert_eq!(text(&w.host, &format!("{row} .value")), "0.5°");
    // The label says the range in this firmware's unit, half degrees from 0 to 255 of them.
    type_into(&w.host, "New angle report threshold (0.0 to 25.5°)", "2.5");
    element(&w.host, &format!("{row} button")).click();
    until(10, "the write", || {
        text(&w.host, &format!("{row} .value")) == "2.5°"
    })
    .await;
    let read = device
        .borrow_mut()
        .read(blu::Characteristic::AngleThreshold, 0);
    assert_eq!(read, Ok(vec![25]));
}

/// Factory reset asks first; confirmed, it turns encryption off and the stored key goes.
#[wasm_bindgen_test]
async fn factory_reset_asks_first_then_turns_encryption_off() {
    let (w, device, _) = button_on(Platform::MacOs, Os::MacOs).await;
    open_blu(&w).await;
    type_into(&w.host, "Passkey (up to 6 digits)", "654321");
    click(&w.host, "Turn encryption on");
    until(10, "the key", || w.setup.blu.key_stored.get_untracked()).await;
    click_and_render(&w.host, "Factory reset…").await;
    assert!(
        device.borrow().key().is_some(),
        "nothing sent before the confirmation"
    );
    assert!(text(&w.host, ".blu-reset").contains("turns encryption off"));
    click(&w.host, "Yes, reset the device");
    until(10, "the reset", || w.setup.blu.reset_done.get_untracked()).await;
    assert!(device.borrow().key().is_none());
    // The device restarted: the link is gone, and nothing read before it is shown as current.
    let id = DeviceId::from(ID);
    assert!(!w.with_mock(|m| bluehome::ble::BleBackend::is_connected(m, &id)));
    assert_eq!(count(&w.host, ".blu-setting"), 0);
    assert!(!has_button(&w.host, "Turn encryption on"));
    assert!(text(&w.host, ".reset-done").contains("pairing mode"));
    let key: DeviceKey = ID.parse().unwrap();
    assert!(
        w.store
            .model_untracked(|m| m.key_entry(&key))
            .flatten()
            .is_none()
    );
}

/// A key stored before this set-up (an earlier session, or typed on the Scan page) goes too: the
/// reset device sends plaintext, which a kept key would refuse as a downgrade.
#[wasm_bindgen_test]
async fn factory_reset_forgets_a_key_stored_before() {
    let (w, _, _) = button_on(Platform::MacOs, Os::MacOs).await;
    let key: DeviceKey = ID.parse().unwrap();
    let entry = bluehome::state::model::KeyEntry {
        bindkey: bluehome_core::bthome::BindKey::new([0x23; 16]),
        mac: None,
    };
    w.store.set_key(&key, Some(entry));
    open_blu(&w).await;
    click_and_render(&w.host, "Factory reset…").await;
    click(&w.host, "Yes, reset the device");
    until(10, "the reset", || w.setup.blu.reset_done.get_untracked()).await;
    let kept = w.store.model_untracked(|m| m.key_entry(&key)).flatten();
    assert!(kept.is_none(), "{kept:?}");
}

/// The link drops (out of range): the next operation says so and offers a retry.
#[wasm_bindgen_test]
async fn a_dropped_link_is_explained() {
    let (w, _device, id) = button_on(Platform::MacOs, Os::MacOs).await;
    open_blu(&w).await;
    w.with_mock(|m| m.drop_connection(&id));
    click(&w.host, "Read the key");
    let said = w.said().await;
    assert!(said.contains("disconnected"), "{said}");
    assert!(has_button(&w.host, "Retry"));
}

/// The GATT operations of the BLU flow, counted (the README quotes these): opening a Button1
/// looks for 3 services (Improv: absent, BLU settings, Device Information) and reads its 5 open
/// characteristics (beacon mode, buzzer, buzzer enabled, multi-click speed, firmware); turning
/// encryption on is a read of the key (is encryption on already?), the passkey's write and a read
/// of the new key.
#[wasm_bindgen_test]
async fn the_blu_flow_gatt_operations_are_counted() {
    let (w, _device, id) = button_on(Platform::MacOs, Os::MacOs).await;
    open_blu(&w).await;
    let count = |ops: &[GattOp]| {
        let mut c = [0usize; 4];
        for op in ops {
            c[match op {
                GattOp::Discover(_) => 0,
                GattOp::Read(_) => 1,
                GattOp::Write(_) => 2,
                GattOp::Subscribe(_) => 3,
            }] += 1;
        }
        c
    };
    let opened = w.gatt_ops();
    web_sys::console::log_1(&format!("BLU open: {:?}", count(&opened)).into());
    assert_eq!(count(&opened), [3, 5, 0, 0], "{opened:?}");
    type_into(&w.host, "Passkey (up to 6 digits)", "123456");
    click(&w.host, "Turn encryption on");
    until(10, "the key", || w.setup.blu.key_stored.get_untracked()).await;
    let all = w.gatt_ops();
    let encryption = count(&all[opened.len()..]);
    web_sys::console::log_1(&format!("BLU encryption: {encryption:?}").into());
    assert_eq!(encryption, [0, 2, 1, 0], "{all:?}");
    click_and_render(&w.host, "Done: disconnect").await;
    assert_eq!(w.setup.flow.get_untracked(), None);
    assert!(!w.with_mock(|m| bluehome::ble::BleBackend::is_connected(m, &id)));
}

/// Demo mode: the simulated chooser lists the demo's BLU Motion; encryption turned on there
/// makes it decode in the store the Scan page shows, with no typing.
#[wasm_bindgen_test]
async fn in_demo_mode_the_blu_motion_is_set_up_and_decodes() {
    let w = world(bluehome::ble::demo::demo_backend()).await;
    let id = DeviceId::from("DA:2E:F5:B1:00:05");
    let key: DeviceKey = id.as_str().parse().unwrap();
    until(8, "the Motion beaconing", || {
        w.store
            .model_untracked(|m| m.device(&key).is_some())
            .unwrap_or(false)
    })
    .await;
    let summary = element(&w.host, ".demo-chooser summary");
    summary.click();
    until(2, "the choices", || has_button(&w.host, "Set up SBMO-003Z")).await;
    click(&w.host, "Set up SBMO-003Z");
    blu_flow_ready(&w).await;
    type_into(&w.host, "Passkey (up to 6 digits)", "246810");
    click(&w.host, "Turn encryption on");
    until(10, "the key", || w.setup.blu.key_stored.get_untracked()).await;
    w.store.update_model(|m| m.clear());
    until(10, "an encrypted beacon decoded", || {
        w.store
            .model_untracked(|m| {
                m.device(&key)
                    .is_some_and(|d| d.readings.values().any(|r| r.name == "battery"))
            })
            .unwrap_or(false)
    })
    .await;
    let info_byte = w
        .store
        .model_untracked(|m| {
            m.manager()
                .device(&key)
                .and_then(|d| d.info())
                .and_then(|i| i.data.service_data.get(&Uuid::BTHOME_V2).map(|p| p[0]))
        })
        .flatten()
        .expect("BTHome service data heard");
    assert_eq!(info_byte & 0x01, 0x01, "what decoded was encrypted");
}

/// A Shelly Gen2+ device picked in "Set up a device" goes to the Shelly session (its RPC service
/// is found), which connects and identifies it. One step log tells the whole story, not two logs
/// that each said "✓ 3 steps done".
#[wasm_bindgen_test]
async fn a_shelly_rpc_device_is_routed_to_the_shelly_session() {
    use bluehome::ble::demo::{GatewayPeer, demo_peripheral};
    use bluehome::state::shelly::Phase;
    let mock = MockBackend::new();
    let id = DeviceId::from("gW0rPc==");
    mock.set_gatt_peer(
        &id,
        Some("ShellyBluGwG3-CCBA970D5E01"),
        Box::new(GatewayPeer::new(demo_peripheral(), mock.clock())),
    );
    let w = world(mock).await;
    w.on(&id, Platform::MacOs, Os::MacOs);
    click(&w.host, "Set up a device…");
    until(10, "the Shelly session connected", || {
        w.shelly.phase.get_untracked() == Phase::Connected
    })
    .await;
    assert_eq!(w.setup.flow.get_untracked(), None);
    assert!(w.setup.failure.get_untracked().is_none());
    assert!(w.host.inner_text().contains("Disconnect"));
    tick().await;
    let logs = texts(&w.host, ".step-log .steps");
    assert_eq!(logs.len(), 1, "{logs:?}");
    for step in [
        "Choosing a device",
        "Looking for its services",
        "Taking over the connection",
        "Shelly.GetDeviceInfo",
    ] {
        assert!(logs[0].contains(step), "{step:?} not in {logs:?}");
    }
    assert_eq!(logs[0].matches("Connecting to").count(), 1, "{logs:?}");
}

/// The set-up's failure is announced: its alert region is on the page, empty, before the
/// failure, and the same element then holds it (MDN "ARIA live regions").
#[wasm_bindgen_test]
async fn a_set_up_failure_is_announced_in_a_region_already_on_the_page() {
    let (mock, _device, id) = sensor_world(BluOptions::new(&blu::MODELS[3]), false);
    let w = world(mock).await;
    w.on(&id, Platform::MacOs, Os::MacOs);
    heard(&w).await;
    let region = element(
        &w.host,
        ".setup > .setup-failure > .failure-region[role=alert]",
    );
    let progress = element(&w.host, ".setup .busy[role=status]");
    assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    assert!(
        progress.matches(":empty").unwrap(),
        "{}",
        progress.outer_html()
    );
    click(&w.host, "Set up a device…");
    w.said().await;
    let now = element(&w.host, ".setup > .setup-failure > .failure-region");
    assert!(region.is_same_node(Some(&now)));
    let said = region.text_content().unwrap_or_default();
    assert!(said.contains("more than 10 seconds"), "{said}");
    // The words alone are the alert: the details and Retry are beside the region.
    assert!(
        region.query_selector("button, details").unwrap().is_none(),
        "{}",
        region.outer_html()
    );
    assert!(progress.is_same_node(Some(&element(&w.host, ".setup .busy"))));
}

/// Types `value` as a Shelly BLU Motion's new pulse count and presses its row's button.
async fn set_pulse_count(w: &World, value: &str) {
    type_into(&w.host, "New motion pulse count (1 to 4)", value);
    element(&w.host, "li[data-name=motion_pulse_count] button").click();
    tick().await;
}

/// A setting's error is announced and names its field (`aria-invalid`, `aria-describedby`:
/// WCAG 2.2 technique ARIA21) until a valid value is set; each row's error has its own id.
#[wasm_bindgen_test]
async fn a_settings_error_is_announced_and_names_its_field() {
    let options = BluOptions::new(&blu::MODELS[3]);
    let (w, _device, _) = sensor_with(Platform::MacOs, Os::MacOs, options).await;
    open_blu(&w).await;
    let row = "li[data-name=motion_pulse_count]";
    let region = element(&w.host, &format!("{row} .setting-form > [role=alert]"));
    assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    let input: web_sys::HtmlInputElement = query(&w.host, &format!("{row} input"));
    assert_eq!(input.get_attribute("aria-invalid"), None);
    set_pulse_count(&w, "9").await;
    let said = region.text_content().unwrap_or_default();
    assert_eq!(said, "Motion pulse count: 9 is out of range (1 to 4)");
    assert!(region.is_same_node(Some(&element(
        &w.host,
        &format!("{row} .setting-form > [role=alert]")
    ))));
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    let id = input
        .get_attribute("aria-describedby")
        .expect("the error is named");
    assert_eq!(id, "blu-setting-motion_pulse_count-error");
    assert_eq!(
        document()
            .get_element_by_id(&id)
            .and_then(|e| e.text_content()),
        Some(said)
    );
    assert_eq!(count(&w.host, &format!("#{id}")), 1);

    set_pulse_count(&w, "4").await;
    let input: web_sys::HtmlInputElement = query(&w.host, &format!("{row} input"));
    assert_eq!(input.get_attribute("aria-invalid"), None);
    assert_eq!(input.get_attribute("aria-describedby"), None);
}

/// A Button's multi-click speed: its label gives the steps with their delays (a bare "0 to 5"
/// says nothing of which way is faster), a step out of range is refused before any write, and
/// a step in range is written and read back with its delay.
#[wasm_bindgen_test]
async fn the_multi_click_speed_says_its_delays_and_refuses_a_step_out_of_range() {
    let (w, _device, _) = button_on(Platform::MacOs, Os::MacOs).await;
    open_blu(&w).await;
    let row = "li[data-name=multi_click_speed]";
    assert_eq!(text(&w.host, &format!("{row} .value")), "2 (300 ms)");
    let label = "New multi-click speed (0 to 5: 800 to 55 ms)";
    let writes = |w: &World| {
        w.gatt_ops()
            .iter()
            .filter(|op| matches!(op, GattOp::Write(_)))
            .count()
    };
    type_into(&w.host, label, "6");
    element(&w.host, &format!("{row} button")).click();
    tick().await;
    let said = text(&w.host, &format!("{row} [role=alert]"));
    assert!(said.contains("0 to 5: 800 to 55 ms"), "{said}");
    assert_eq!(writes(&w), 0);
    type_into(&w.host, label, "4");
    element(&w.host, &format!("{row} button")).click();
    until(10, "the write", || {
        text(&w.host, &format!("{row} .value")) == "4 (90 ms)"
    })
    .await;
    assert_eq!(writes(&w), 1);
}

/// The MAC form's error names the MAC field.
#[wasm_bindgen_test]
async fn a_wrong_mac_is_announced_and_names_its_field() {
    let (w, _device) = opened_without_scanning().await;
    let region = element(&w.host, ".mac-form > [role=alert]");
    assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    type_into(&w.host, "MAC on the device", "3C:2E:F5");
    click(&w.host, "Use this MAC");
    tick().await;
    let said = region.text_content().unwrap_or_default();
    assert!(!said.is_empty());
    assert!(region.is_same_node(Some(&element(&w.host, ".mac-form > [role=alert]"))));
    let input: web_sys::HtmlInputElement = query(&w.host, ".mac-form input[name=mac]");
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    let named = input
        .get_attribute("aria-describedby")
        .expect("the error is named");
    assert_eq!(
        document()
            .get_element_by_id(&named)
            .and_then(|e| e.text_content()),
        Some(said)
    );
    assert!(
        w.store
            .model_untracked(|m| m.key_entry(&ID.parse().unwrap()))
            .flatten()
            .is_none()
    );
}

/// What was typed into the BLU flow (the passkey, the MAC) is kept while the Devices page is left
/// for another page and come back to: the flow goes on, and so does its form.
#[wasm_bindgen_test]
async fn the_passkey_and_mac_typed_are_kept_when_the_page_is_left_and_come_back_to() {
    let (w, _device) = opened_without_scanning().await;
    type_into(&w.host, "Passkey (up to 6 digits)", "123456");
    type_into(&w.host, "MAC on the device", "3C:2E:F5");
    w.leave_the_devices_page_and_come_back().await;
    assert_eq!(field(&w.host, "Passkey (up to 6 digits)").value(), "123456");
    assert_eq!(field(&w.host, "MAC on the device").value(), "3C:2E:F5");
}

//! Browser tests: mount the app in headless Chromium and check what it renders.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use std::rc::Rc;

use bluehome::App;
use bluehome::ble::mock::MockBackend;
use bluehome::ble::{Backend, BleBackend, Capabilities, Capability, provide_backend};
use bluehome::components::capabilities::CapabilityPanel;
use js_sys::Reflect;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod dom;
use dom::texts;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app into a fresh element and lets it render.
async fn mount_app() -> web_sys::HtmlElement {
    let host = dom::mount_view(App);
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
    host
}

#[wasm_bindgen_test]
async fn renders_navigation_to_every_page() {
    let host = mount_app().await;
    assert_eq!(
        texts(&host, "nav a"),
        ["Scan", "Devices", "Decode", "About"]
    );
    assert_eq!(texts(&host, "main h1"), ["Scan"]);
    assert_eq!(
        document().title(),
        "Scan – bluehome",
        "each page names itself"
    );
    host.remove();
}

#[wasm_bindgen_test]
async fn capability_panel_lists_every_capability_and_advice_for_each_missing_one() {
    let host = mount_app().await;
    let badges = texts(&host, ".capabilities .badge");
    assert_eq!(badges.len(), Capability::ALL.len());
    for (badge, capability) in badges.iter().zip(Capability::ALL) {
        assert!(badge.contains(capability.label()), "{badge:?}");
    }
    let detected = Capabilities::detect();
    let advice = texts(&host, ".advice li");
    let missing: Vec<_> = detected.missing().collect();
    assert_eq!(advice.len(), missing.len());
    for (line, capability) in advice.iter().zip(missing) {
        assert!(line.contains(capability.advice()), "{line:?}");
    }
    host.remove();
}

/// The panel says what `navigator.bluetooth.getAvailability()` says in this browser (the test
/// machine has no adapter, so it says none was found).
#[wasm_bindgen_test]
async fn capability_panel_says_whether_chrome_finds_an_adapter() {
    let window = web_sys::window().unwrap();
    let bluetooth = Reflect::get(&window.navigator(), &JsValue::from_str("bluetooth")).unwrap();
    if bluetooth.is_undefined() {
        return;
    }
    let ask = Reflect::get(&bluetooth, &JsValue::from_str("getAvailability")).unwrap();
    let promise = ask
        .unchecked_into::<js_sys::Function>()
        .call0(&bluetooth)
        .unwrap();
    let available = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise))
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    let host = mount_app().await;
    dom::until(5, "the adapter checked", || {
        available || dom::text(&host, ".capabilities summary").contains("No Bluetooth adapter")
    })
    .await;
    let summary = dom::text(&host, ".capabilities summary");
    assert_eq!(
        summary.contains("No Bluetooth adapter found"),
        !available,
        "{summary}"
    );
    assert_eq!(
        dom::count(&host, ".capabilities .no-adapter"),
        u32::from(!available)
    );
    host.remove();
}

/// Over a mock without an adapter the panel opens with what to do; once one is plugged in,
/// "Check again" finds it.
#[wasm_bindgen_test]
async fn check_again_finds_an_adapter_plugged_in_later() {
    let mock = MockBackend::new();
    mock.set_adapter_present(false);
    let backend = Rc::new(Backend::Mock(mock));
    let shared = Rc::clone(&backend);
    let host = dom::mount_view(move || {
        provide_backend(shared);
        view! { <CapabilityPanel capabilities=MockBackend::new().capabilities() /> }
    });
    dom::text_saying(
        &host,
        5,
        ".capabilities summary",
        "No Bluetooth adapter found",
    )
    .await;
    let details: web_sys::HtmlDetailsElement = dom::query(&host, ".capabilities details");
    assert!(
        details.open(),
        "open at once: nothing works without an adapter"
    );
    assert!(dom::text(&host, ".no-adapter").contains("Plug in a Bluetooth 4.0"));
    backend.as_mock().unwrap().set_adapter_present(true);
    dom::click(&host, "Check again");
    dom::text_saying(&host, 5, ".capabilities summary", "Bluetooth ready").await;
    assert_eq!(dom::count(&host, ".no-adapter"), 0);
    host.remove();
}

#[wasm_bindgen_test]
fn detection_agrees_with_the_browser() {
    // The test browser runs with --enable-experimental-web-platform-features (webdriver.json), so on
    // Linux navigator.bluetooth exists; check detection against the objects themselves either way.
    let window = web_sys::window().unwrap();
    let bluetooth = Reflect::get(&window.navigator(), &JsValue::from_str("bluetooth")).unwrap();
    let detected = Capabilities::detect();
    assert_eq!(detected.bluetooth, !bluetooth.is_undefined());
    assert_eq!(detected.secure_context, window.is_secure_context());
    if detected.bluetooth {
        let request_device = Reflect::get(&bluetooth, &JsValue::from_str("requestDevice")).unwrap();
        assert_eq!(detected.request_device, request_device.is_function());
    }
    // forget() is looked for before it is called (it is behind a flag on desktop).
    let device = Reflect::get(&window, &JsValue::from_str("BluetoothDevice")).unwrap();
    let forget = !device.is_undefined()
        && Reflect::get(&device, &JsValue::from_str("prototype"))
            .and_then(|p| Reflect::get(&p, &JsValue::from_str("forget")))
            .is_ok_and(|f| f.is_function());
    assert_eq!(detected.forget, forget);
}

#[wasm_bindgen_test]
fn forget_everything_erases_only_bluehome_entries() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage
        .set_item("bluehome.keys", "{\"version\":1,\"keys\":{}}")
        .unwrap();
    storage.set_item("bluehome.profiles", "{}").unwrap();
    storage.set_item("another-app.token", "keep me").unwrap();
    let removed = bluehome::state::privacy::forget_everything();
    assert!(removed >= 2, "{removed}");
    assert_eq!(storage.get_item("bluehome.keys").unwrap(), None);
    assert_eq!(storage.get_item("bluehome.profiles").unwrap(), None);
    assert_eq!(
        storage.get_item("another-app.token").unwrap().as_deref(),
        Some("keep me")
    );
    storage.remove_item("another-app.token").unwrap();
}

/// The texts Chrome really produces (chromium `bluetooth_error.cc`), as rejections carry them,
/// each sorted into the explanation a person can act on.
#[wasm_bindgen_test]
fn chrome_error_texts_get_the_right_explanation() {
    use bluehome::ble::web::convert;
    use bluehome::state::shelly::explain::{FailureKind, Stage};
    let rejection = |name: &str, message: &str| {
        let error = js_sys::Object::new();
        Reflect::set(&error, &"name".into(), &name.into()).unwrap();
        Reflect::set(&error, &"message".into(), &message.into()).unwrap();
        convert::error(&error.into())
    };
    let cases = [
        (
            "InvalidStateError",
            "User canceled the permission prompt.",
            false,
            FailureKind::Cancelled,
        ),
        (
            "NotFoundError",
            "User cancelled the requestDevice() chooser.",
            true,
            FailureKind::Cancelled,
        ),
        (
            "NotSupportedError",
            "GATT operation failed for unknown reason.",
            false,
            FailureKind::DeviceBusy,
        ),
        (
            "NetworkError",
            "GATT operation already in progress.",
            false,
            FailureKind::DeviceBusy,
        ),
        (
            "NotAllowedError",
            "User denied the browser permission to scan for Bluetooth devices.",
            true,
            FailureKind::BrowserPermission,
        ),
        (
            "NetworkError",
            "GATT Error: Not paired.",
            false,
            FailureKind::PairingRequired,
        ),
        (
            "NotSupportedError",
            "GATT operation not permitted.",
            false,
            FailureKind::RpcDisabled,
        ),
        (
            "NetworkError",
            "GATT Server is disconnected. Cannot perform GATT operations.",
            false,
            FailureKind::Disconnected,
        ),
        (
            "NetworkError",
            "GATT Server is disconnected. Cannot retrieve services. (Re)connect first with `device.gatt.connect`.",
            false,
            FailureKind::Disconnected,
        ),
        (
            "NetworkError",
            "Connection attempt failed.",
            true,
            FailureKind::OutOfRange,
        ),
        (
            "NotFoundError",
            "Bluetooth adapter not available.",
            true,
            FailureKind::BluetoothUnavailable,
        ),
        (
            "SecurityError",
            "Failed to execute 'requestDevice' on 'Bluetooth': Must be handling a user gesture \
             to show a permission request.",
            true,
            FailureKind::NeedsClick,
        ),
    ];
    for (name, message, connecting, want) in cases {
        let error = rejection(name, message);
        let stage = if connecting {
            Stage::Connecting
        } else {
            Stage::Connected
        };
        assert_eq!(
            FailureKind::of_ble_error(error.kind, stage),
            want,
            "{name}: {message}"
        );
        assert!(
            error.message.contains(message),
            "the browser's words are kept"
        );
    }
}

/// The options objects `requestDevice` and `requestLEScan` get, as the Web Bluetooth
/// specification spells them: UUIDs as strings, `dataPrefix` and `mask` as `BufferSource`s.
#[wasm_bindgen_test]
fn filters_become_the_options_objects_web_bluetooth_takes() {
    use bluehome::ble::web::convert;
    use bluehome::ble::{LeScanOptions, RequestDeviceOptions};
    use bluehome_core::filter::web::{WebFilter, WebServiceData};
    use bluehome_core::filter::{DataPrefix, FilterSet};
    use bluehome_core::shelly::manufacturer::mac_prefixes;
    use bluehome_core::shelly::rpc::SERVICE_UUID;
    use bluehome_core::{MacAddress, Uuid};

    let get = |target: &JsValue, key: &str| Reflect::get(target, &key.into()).unwrap();
    let at = |list: &JsValue, i: u32| js_sys::Array::from(list).get(i);
    let bytes = |value: &JsValue| {
        value
            .dyn_ref::<js_sys::Uint8Array>()
            .expect("a Uint8Array")
            .to_vec()
    };

    let mac = MacAddress([0xCC, 0xBA, 0x97, 0x0D, 0x5E, 0x01]);
    let chooser = convert::request_device_options(&RequestDeviceOptions::shelly_device(
        SERVICE_UUID,
        mac,
        "ShellyPlus1-CCBA970D5E01",
    ));
    assert!(get(&chooser, "acceptAllDevices").is_undefined());
    let filters = get(&chooser, "filters");
    assert_eq!(js_sys::Array::from(&filters).length(), 3);
    let by_mac = at(&get(&at(&filters, 0), "manufacturerData"), 0);
    assert_eq!(get(&by_mac, "companyIdentifier").as_f64(), Some(2985.0));
    let [mac_first, _] = mac_prefixes(mac);
    assert_eq!(bytes(&get(&by_mac, "dataPrefix")), mac_first.prefix());
    assert_eq!(
        bytes(&get(&by_mac, "mask")),
        mac_first.mask().unwrap().to_vec()
    );
    assert_eq!(
        get(&at(&filters, 2), "name").as_string().as_deref(),
        Some("ShellyPlus1-CCBA970D5E01")
    );
    assert_eq!(
        at(&get(&chooser, "optionalServices"), 0).as_string(),
        Some(SERVICE_UUID.to_string())
    );
    assert_eq!(
        at(&get(&chooser, "optionalManufacturerData"), 0).as_f64(),
        Some(2985.0)
    );
    let sensors = convert::request_device_options(&RequestDeviceOptions::bthome_sensors());
    assert_eq!(get(&sensors, "acceptAllDevices").as_bool(), Some(true));
    assert!(get(&sensors, "filters").is_undefined());

    let everything = convert::scan_options(&LeScanOptions::default());
    assert_eq!(
        get(&everything, "acceptAllAdvertisements").as_bool(),
        Some(true)
    );
    assert_eq!(
        get(&everything, "keepRepeatedDevices").as_bool(),
        Some(true)
    );
    assert!(get(&everything, "filters").is_undefined());
    let battery =
        LeScanOptions::for_filters(&FilterSet::from_json(r#"[{"services":["180f"]}]"#).unwrap());
    let scan = convert::scan_options(&battery);
    assert!(get(&scan, "acceptAllAdvertisements").is_undefined());
    assert_eq!(
        at(&get(&at(&get(&scan, "filters"), 0), "services"), 0)
            .as_string()
            .as_deref(),
        Some("0000180f-0000-1000-8000-00805f9b34fb")
    );

    let by_data = convert::filter_object(&WebFilter {
        service_data: vec![WebServiceData {
            service: Uuid::BTHOME_V2,
            data: DataPrefix::masked([(0x40, 0xE0)]),
        }],
        ..WebFilter::default()
    });
    let entry = at(&get(&by_data, "serviceData"), 0);
    assert_eq!(
        get(&entry, "service").as_string().as_deref(),
        Some("0000fcd2-0000-1000-8000-00805f9b34fb")
    );
    assert_eq!(bytes(&get(&entry, "dataPrefix")), [0x40]);
    assert_eq!(bytes(&get(&entry, "mask")), [0xE0]);
    assert!(get(&by_data, "name").is_undefined() && get(&by_data, "services").is_undefined());
}

/// The app makes its store before the store's code has arrived and opens it after (src/app.rs):
/// until then nothing it does may be written over what was saved, which it has not read yet.
#[wasm_bindgen_test]
fn a_store_reads_what_was_saved_before_it_saves() {
    use std::rc::Rc;

    use bluehome::ble::Backend;
    use bluehome::ble::mock::MockBackend;
    use bluehome::platform::now_ms;
    use bluehome::state::AppStore;
    use bluehome::state::model::KeyEntry;
    use bluehome_core::DeviceKey;
    use bluehome_core::bthome::BindKey;

    bluehome::state::privacy::forget_everything();
    let mock = || Rc::new(Backend::Mock(MockBackend::new()));
    let kitchen: DeviceKey = "A4:C1:38:00:00:01".parse().unwrap();
    let hall: DeviceKey = "A4:C1:38:00:00:02".parse().unwrap();
    let label = |store: AppStore, key: &DeviceKey| {
        store
            .model_untracked(|m| m.labels.get(key).cloned())
            .flatten()
    };
    Owner::new().with(|| {
        AppStore::new(mock(), true).set_label(&kitchen, "Kitchen");

        let late = AppStore::unopened(mock(), true, Rc::new(now_ms));
        assert_eq!(label(late, &kitchen), None, "nothing is loaded before open");
        late.set_label(&hall, "Hall");
        let bindkey: BindKey = "231d39c1d7cc1ab1aee224cd096db932".parse().unwrap();
        let entry = Some(KeyEntry { bindkey, mac: None });
        late.set_key(&hall, entry);
        late.save(now_ms());
        assert_eq!(
            label(AppStore::new(mock(), true), &kitchen).as_deref(),
            Some("Kitchen"),
            "the unopened store wrote over the saved labels"
        );

        assert!(late.open());
        assert!(!late.open(), "a store opens once");
        assert_eq!(label(late, &kitchen).as_deref(), Some("Kitchen"));
        assert_eq!(label(late, &hall).as_deref(), Some("Hall"));
        let key = |store: AppStore| store.model_untracked(|m| m.key_entry(&hall)).flatten();
        assert_eq!(key(late), entry, "a key set before open stays");
        late.save(now_ms());
        let reloaded = AppStore::new(mock(), true);
        assert_eq!(label(reloaded, &kitchen).as_deref(), Some("Kitchen"));
        assert_eq!(label(reloaded, &hall).as_deref(), Some("Hall"));
        assert_eq!(key(reloaded), entry, "the key set before open was saved");
    });
    bluehome::state::privacy::forget_everything();
}

/// Two windows of the page share its storage: what one saves reaches the other (the browser's
/// `storage` event, sent to every window but the one that wrote, with the entry's new value), and
/// the other's next save keeps it rather than writing its older copy over it.
#[wasm_bindgen_test]
fn what_another_window_saves_is_kept() {
    use std::rc::Rc;

    use bluehome::ble::Backend;
    use bluehome::ble::mock::MockBackend;
    use bluehome::platform::now_ms;
    use bluehome::state::AppStore;
    use bluehome::state::model::KeyEntry;
    use bluehome_core::DeviceKey;
    use bluehome_core::bthome::BindKey;

    bluehome::state::privacy::forget_everything();
    let mock = || Rc::new(Backend::Mock(MockBackend::new()));
    let kitchen: DeviceKey = "A4:C1:38:00:00:01".parse().unwrap();
    let told = |name: &str| {
        let event = js_sys::Function::new_with_args(
            "key",
            "window.dispatchEvent(new StorageEvent('storage', \
             { key, newValue: localStorage.getItem(key) }))",
        );
        event.call1(&JsValue::NULL, &name.into()).unwrap();
    };
    let label = |store: AppStore| {
        store
            .model_untracked(|m| m.labels.get(&kitchen).cloned())
            .flatten()
    };
    let key = |store: AppStore| store.model_untracked(|m| m.key_entry(&kitchen)).flatten();
    Owner::new().with(|| {
        let here = AppStore::new(mock(), true);
        let there = AppStore::new(mock(), true);
        there.set_label(&kitchen, "Kitchen");
        told("bluehome.scan");
        let bindkey: BindKey = "231d39c1d7cc1ab1aee224cd096db932".parse().unwrap();
        let entry = Some(KeyEntry { bindkey, mac: None });
        there.set_key(&kitchen, entry);
        told("bluehome.keys");
        assert_eq!(label(here).as_deref(), Some("Kitchen"));
        assert_eq!(key(here), entry);
        here.save(now_ms());
        let reloaded = AppStore::new(mock(), true);
        assert_eq!(label(reloaded).as_deref(), Some("Kitchen"), "written over");
        // A key forgotten there is forgotten here, and not saved back.
        there.set_key(&kitchen, None);
        told("bluehome.keys");
        assert_eq!(key(here), None);
    });
    bluehome::state::privacy::forget_everything();
}

/// A file larger than the limit is refused before it is read, with both sizes; one within it is
/// read.
#[wasm_bindgen_test]
async fn a_file_over_the_limit_is_not_read() {
    use bluehome::platform::{FileError, read_text};
    let file = |text: &str| {
        let parts = js_sys::Array::of1(&JsValue::from_str(text));
        web_sys::File::new_with_str_sequence(&parts, "profiles.json").unwrap()
    };
    let big = file(&"x".repeat(2_500));
    let refused = read_text(&big, 1_000).await;
    assert_eq!(
        refused,
        Err(FileError::TooLarge {
            bytes: 2_500,
            limit: 1_000
        })
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        "the file has 2.5 kB and is not read; at most 1.0 kB is"
    );
    assert_eq!(read_text(&file("{}"), 1_000).await.as_deref(), Ok("{}"));
}

/// Where site data is blocked, reading `localStorage` throws: the page says its data will not be
/// kept.
#[wasm_bindgen_test]
fn blocked_site_storage_is_said() {
    use bluehome::ble::Backend;
    use bluehome::ble::mock::MockBackend;
    use bluehome::state::AppStore;
    use js_sys::Object;
    let window: Object = web_sys::window().unwrap().unchecked_into();
    let name = JsValue::from_str("localStorage");
    let own = Object::get_own_property_descriptor(&window, &name);
    let blocked = Object::new();
    let getter = js_sys::Function::new_no_args(
        "throw new DOMException('The operation is insecure.', 'SecurityError')",
    );
    Reflect::set(&blocked, &"get".into(), &getter).unwrap();
    Reflect::set(&blocked, &"configurable".into(), &true.into()).unwrap();
    Object::define_property(&window, &name, &blocked);
    let store = AppStore::new(std::rc::Rc::new(Backend::Mock(MockBackend::new())), true);
    if own.is_undefined() {
        Reflect::delete_property(&window, &name).unwrap();
    } else {
        Object::define_property(&window, &name, &own.unchecked_into());
    }
    assert!(web_sys::window().unwrap().local_storage().is_ok());
    let notices = store.notices.get_untracked();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("does not let the page keep data")),
        "{notices:?}"
    );
}

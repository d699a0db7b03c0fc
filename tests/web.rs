//! Browser tests: mount the app in headless Chromium and check what it renders.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use bluehome::App;
use bluehome::ble::{Capabilities, Capability};
use js_sys::Reflect;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app into a fresh element and lets it render.
async fn mount_app() -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    let handle = leptos::mount::mount_to(host.clone(), App);
    handle.forget();
    gloo_timers::future::sleep(Duration::from_millis(50)).await;
    host
}

fn texts(host: &web_sys::HtmlElement, selector: &str) -> Vec<String> {
    let nodes = host.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn renders_navigation_to_every_page() {
    let host = mount_app().await;
    assert_eq!(
        texts(&host, "nav a"),
        ["Scan", "Devices", "Decode", "About"]
    );
    assert_eq!(texts(&host, "main h1"), ["Scan"]);
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
    use bluehome::state::shelly::explain::{FailureKind, kind_of_ble_error};
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
    ];
    for (name, message, connecting, want) in cases {
        let error = rejection(name, message);
        assert_eq!(
            kind_of_ble_error(&error, connecting),
            want,
            "{name}: {message}"
        );
        assert!(
            error.message.contains(message),
            "the browser's words are kept"
        );
    }
}

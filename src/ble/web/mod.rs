//! The Web Bluetooth backend: the only code that reads browser Bluetooth objects.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use super::Capabilities;

/// Whether `target[name]` exists and is a function.
fn has_method(target: &JsValue, name: &str) -> bool {
    Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|value| value.is_function())
}

/// Probes `navigator.bluetooth` and `BluetoothDevice.prototype` for each feature.
pub(super) fn detect_capabilities() -> Capabilities {
    let Some(window) = web_sys::window() else {
        return Capabilities::default();
    };
    let global: &Object = window.as_ref();
    let secure_context = window.is_secure_context();
    let bluetooth = Reflect::get(&window.navigator(), &JsValue::from_str("bluetooth"))
        .ok()
        .filter(|value| !value.is_undefined() && !value.is_null());
    let device_prototype = Reflect::get(global, &JsValue::from_str("BluetoothDevice"))
        .ok()
        .filter(|value| value.is_function())
        .and_then(|class| Reflect::get(&class, &JsValue::from_str("prototype")).ok());
    let on_bluetooth = |name| bluetooth.as_ref().is_some_and(|b| has_method(b, name));
    Capabilities {
        secure_context,
        bluetooth: bluetooth.is_some(),
        request_device: on_bluetooth("requestDevice"),
        request_le_scan: on_bluetooth("requestLEScan"),
        watch_advertisements: device_prototype
            .as_ref()
            .is_some_and(|p| has_method(p, "watchAdvertisements")),
        get_devices: on_bluetooth("getDevices"),
    }
}

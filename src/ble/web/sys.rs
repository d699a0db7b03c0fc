//! Hand-written bindings for what web-sys 0.3.107 lacks or types too narrowly.
//!
//! - `navigator.bluetooth.requestLEScan(options)` and the `BluetoothLEScan` it resolves to (behind
//!   the experimental flag; not in web-sys at all).
//! - `requestDevice(options)` with a plain options object, so `optionalManufacturerData`,
//!   `exclusionFilters` and `manufacturerData` filters (which web-sys's `RequestDeviceOptions`
//!   lacks or types loosely) go through as the spec writes them.
//! - `watchAdvertisements(options)`, `getDevices()` and `forget()` called with `catch`, so a
//!   browser without them gives an error instead of a trap.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `navigator.bluetooth`, seen through the members bound here (cast from `web_sys::Bluetooth`).
    #[wasm_bindgen(extends = js_sys::Object)]
    #[derive(Debug, Clone)]
    pub type BluetoothApi;

    /// A `BluetoothDevice`, seen through the members bound here.
    #[wasm_bindgen(extends = js_sys::Object)]
    #[derive(Debug, Clone)]
    pub type DeviceApi;

    /// `navigator.bluetooth.requestLEScan(options)`: resolves to a [`BluetoothLeScan`].
    #[wasm_bindgen(method, catch, js_name = requestLEScan)]
    pub fn request_le_scan(
        this: &BluetoothApi,
        options: &JsValue,
    ) -> Result<js_sys::Promise, JsValue>;

    /// `navigator.bluetooth.requestDevice(options)` with a spec-shaped options object.
    #[wasm_bindgen(method, catch, js_name = requestDevice)]
    pub fn request_device_with(
        this: &BluetoothApi,
        options: &JsValue,
    ) -> Result<js_sys::Promise, JsValue>;

    /// `navigator.bluetooth.getAvailability()`.
    #[wasm_bindgen(method, catch, js_name = getAvailability)]
    pub fn get_availability_checked(this: &BluetoothApi) -> Result<js_sys::Promise, JsValue>;

    /// `navigator.bluetooth.getDevices()`.
    #[wasm_bindgen(method, catch, js_name = getDevices)]
    pub fn get_devices_checked(this: &BluetoothApi) -> Result<js_sys::Promise, JsValue>;

    /// `device.watchAdvertisements(options)`.
    #[wasm_bindgen(method, catch, js_name = watchAdvertisements)]
    pub fn watch_advertisements_checked(
        this: &DeviceApi,
        options: &JsValue,
    ) -> Result<js_sys::Promise, JsValue>;

    /// `device.forget()`.
    #[wasm_bindgen(method, catch)]
    pub fn forget(this: &DeviceApi) -> Result<js_sys::Promise, JsValue>;

    /// A running LE scan.
    #[wasm_bindgen(extends = js_sys::Object)]
    #[derive(Debug, Clone)]
    pub type BluetoothLeScan;

    /// Stops the scan.
    #[wasm_bindgen(method)]
    pub fn stop(this: &BluetoothLeScan);

    /// Whether the scan still runs.
    #[wasm_bindgen(method, getter)]
    pub fn active(this: &BluetoothLeScan) -> bool;
}

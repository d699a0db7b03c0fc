//! The one boundary between JS objects and Rust types.
//!
//! Incoming: what `navigator.bluetooth` offers → [`Capabilities`], `BluetoothAdvertisingEvent` → [`bluehome_core::Advertisement`], `DataView` → bytes,
//! a rejected promise's `DOMException` → [`BleError`], `BluetoothDevice` → [`GrantedDevice`].
//! Outgoing: our option types → the plain objects `requestDevice` / `requestLEScan` take.
//! Nothing else in the app reads or builds these JS objects.

use std::str::FromStr;

use bluehome_core::filter::DataPrefix;
use bluehome_core::filter::web::WebFilter;
use bluehome_core::{Advertisement, Uuid};
use js_sys::{Array, DataView, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::ble::{
    BleError, Capabilities, DeviceId, ErrorKind, GrantedDevice, LeScanOptions, RequestDeviceOptions,
};

/// Whether `target[name]` exists and is a function.
fn has_method(target: &JsValue, name: &str) -> bool {
    Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|value| value.is_function())
}

/// Probes `navigator.bluetooth` and `BluetoothDevice.prototype` for each feature.
pub fn capabilities() -> Capabilities {
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
        forget: device_prototype
            .as_ref()
            .is_some_and(|p| has_method(p, "forget")),
    }
}

/// Copies the bytes a `DataView` covers.
pub fn bytes(view: &DataView) -> Vec<u8> {
    Uint8Array::new_with_byte_offset_and_length(
        &view.buffer(),
        view.byte_offset() as u32,
        view.byte_length() as u32,
    )
    .to_vec()
}

/// Reads an `advertisementreceived` event into the core's advertisement, with the device's id.
///
/// The browser exposes only the manufacturer data and service data the page was granted; UUIDs
/// it cannot parse are skipped (they cannot come from a conforming browser).
pub fn advertisement(event: &web_sys::BluetoothAdvertisingEvent) -> (DeviceId, Advertisement) {
    let device = event.device();
    let mut adv = Advertisement {
        address: None, // Web Bluetooth never reveals it.
        name: event.name().or_else(|| device.name()),
        rssi: event.rssi(),
        tx_power: event.tx_power(),
        ..Advertisement::default()
    };
    // Both are maplike objects; read them through Map's forEach (called structurally).
    let manufacturer: js_sys::Map = event.manufacturer_data().unchecked_into();
    manufacturer.for_each(&mut |value: JsValue, key: JsValue| {
        let company = key.as_f64().filter(|k| (0.0..=65535.0).contains(k));
        if let (Some(company), Some(view)) = (company, value.dyn_ref::<DataView>()) {
            adv.manufacturer_data.insert(company as u16, bytes(view));
        }
    });
    let service: js_sys::Map = event.service_data().unchecked_into();
    service.for_each(&mut |value: JsValue, key: JsValue| {
        let uuid = key.as_string().and_then(|k| Uuid::from_str(&k).ok());
        if let (Some(uuid), Some(view)) = (uuid, value.dyn_ref::<DataView>()) {
            adv.service_data.insert(uuid, bytes(view));
        }
    });
    let uuids: js_sys::Array = event.uuids().unchecked_into();
    for uuid in uuids.iter() {
        if let Some(text) = uuid.as_string()
            && let Ok(uuid) = Uuid::from_str(&text)
        {
            adv.add_service_uuid(uuid);
        }
    }
    (DeviceId(device.id()), adv)
}

/// The UUIDs of the characteristics `getCharacteristics()` listed (unreadable entries skipped).
pub fn characteristic_uuids(list: &JsValue) -> Vec<Uuid> {
    Array::from(list)
        .iter()
        .filter_map(|c| Reflect::get(&c, &JsValue::from_str("uuid")).ok())
        .filter_map(|u| u.as_string())
        .filter_map(|text| Uuid::from_str(&text).ok())
        .collect()
}

/// The id and name of a granted device.
pub fn granted_device(device: &web_sys::BluetoothDevice) -> GrantedDevice {
    GrantedDevice {
        id: DeviceId(device.id()),
        name: device.name(),
    }
}

/// Turns a rejection (usually a `DOMException`) into a typed error, keeping the browser's words.
pub fn error(value: &JsValue) -> BleError {
    let text = |key: &str| {
        Reflect::get(value, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let name = text("name");
    let mut message = text("message");
    if message.is_empty() {
        message = value
            .as_string()
            .unwrap_or_else(|| "unknown error".to_owned());
    }
    let kind = error_kind(&name, &message);
    let message = if name.is_empty() {
        message
    } else {
        format!("{name}: {message}")
    };
    BleError::new(kind, message)
}

/// Whether an error is a rejection Chrome gave with an `AbortError` ([`error`] writes the
/// DOMException's name first): what a watch gets when Chrome ends it.
pub fn is_abort(error: &BleError) -> bool {
    error.message.starts_with("AbortError:")
}

/// Sorts a rejection by its DOMException name and the message Chrome gives it (chromium
/// `third_party/blink/renderer/modules/bluetooth/bluetooth_error.cc`). The one place the app reads
/// the browser's words.
pub fn error_kind(name: &str, message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if has("user denied the browser permission") {
        // Android: Chrome itself lacks the Nearby devices (or Location) permission.
        ErrorKind::PermissionDenied
    } else if has("cancelled the requestdevice() chooser")
        || has("canceled the permission prompt")
        || has("blocked by user")
    {
        // The chooser ("cancelled") and requestLEScan's prompt ("canceled", one "l") closed.
        ErrorKind::UserCancelled
    } else if has("not paired")
        || has("authentication")
        || has("insufficient encryption")
        || has("not authorized")
    {
        ErrorKind::NotPaired
    } else if has("not permitted") {
        ErrorKind::NotPermitted
    } else if has("already in progress")
        || has("gatt operation failed for unknown reason")
        || has("congested")
    {
        // What a busy or failing device gives; the ATT reason never reaches the page.
        ErrorKind::Busy
    } else {
        match name {
            "NotFoundError" if has("adapter") || has("low energy not available") => {
                ErrorKind::AdapterUnavailable
            }
            "NotFoundError" => ErrorKind::NotFound,
            "SecurityError" if has("user gesture") => ErrorKind::NoUserGesture,
            "SecurityError" | "NotAllowedError" => ErrorKind::NotAllowed,
            "NetworkError" | "AbortError"
                if has("disconnected") || has("no longer in range") || has("no longer valid") =>
            {
                ErrorKind::Disconnected
            }
            "TimeoutError" => ErrorKind::Timeout,
            "TypeError" => ErrorKind::InvalidRequest,
            _ if has("not available") => ErrorKind::AdapterUnavailable,
            _ => ErrorKind::Gatt,
        }
    }
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn uuid_array(uuids: &[Uuid]) -> Array {
    uuids
        .iter()
        .map(|u| JsValue::from_str(&u.to_string()))
        .collect()
}

/// Sets `dataPrefix` and `mask` (both `BufferSource`s) on a data-filter entry.
fn set_data_prefix(entry: &Object, data: &DataPrefix) {
    if !data.prefix().is_empty() {
        set(entry, "dataPrefix", &Uint8Array::from(data.prefix()));
    }
    if let Some(mask) = data.mask().filter(|m| !m.is_empty()) {
        set(entry, "mask", &Uint8Array::from(mask));
    }
}

/// A `BluetoothLEScanFilterInit` object.
pub fn filter_object(filter: &WebFilter) -> Object {
    let object = Object::new();
    if !filter.services.is_empty() {
        set(&object, "services", &uuid_array(&filter.services));
    }
    if let Some(name) = &filter.name {
        set(&object, "name", &JsValue::from_str(name));
    }
    if let Some(prefix) = &filter.name_prefix {
        set(&object, "namePrefix", &JsValue::from_str(prefix));
    }
    set_data_conditions(
        &object,
        "manufacturerData",
        &filter.manufacturer_data,
        |m| ("companyIdentifier", JsValue::from(m.company), &m.data),
    );
    set_data_conditions(&object, "serviceData", &filter.service_data, |d| {
        (
            "service",
            JsValue::from_str(&d.service.to_string()),
            &d.data,
        )
    });
    object
}

/// Sets `key` of `object` to one entry per condition (none when there are no conditions): the
/// member `condition` names (the company or the service) and its data prefix and mask.
fn set_data_conditions<T>(
    object: &Object,
    key: &str,
    conditions: &[T],
    condition: impl Fn(&T) -> (&'static str, JsValue, &DataPrefix),
) {
    if conditions.is_empty() {
        return;
    }
    let list: Array = conditions
        .iter()
        .map(|c| {
            let (id_key, id, data) = condition(c);
            let entry = Object::new();
            set(&entry, id_key, &id);
            set_data_prefix(&entry, data);
            JsValue::from(entry)
        })
        .collect();
    set(object, key, &list);
}

fn filter_array(filters: &[WebFilter]) -> Array {
    filters
        .iter()
        .map(|f| JsValue::from(filter_object(f)))
        .collect()
}

/// The `requestDevice` options object.
pub fn request_device_options(options: &RequestDeviceOptions) -> JsValue {
    let object = Object::new();
    if options.accept_all_devices {
        set(&object, "acceptAllDevices", &JsValue::TRUE);
    } else {
        set(&object, "filters", &filter_array(&options.filters));
    }
    if !options.exclusion_filters.is_empty() {
        set(
            &object,
            "exclusionFilters",
            &filter_array(&options.exclusion_filters),
        );
    }
    if !options.optional_services.is_empty() {
        set(
            &object,
            "optionalServices",
            &uuid_array(&options.optional_services),
        );
    }
    if !options.optional_manufacturer_data.is_empty() {
        let ids: Array = options
            .optional_manufacturer_data
            .iter()
            .map(|&id| JsValue::from(id))
            .collect();
        set(&object, "optionalManufacturerData", &ids);
    }
    object.into()
}

/// The `requestLEScan` options object.
pub fn scan_options(options: &LeScanOptions) -> JsValue {
    let object = Object::new();
    if options.accept_all_advertisements {
        set(&object, "acceptAllAdvertisements", &JsValue::TRUE);
    } else {
        set(&object, "filters", &filter_array(&options.filters));
    }
    set(
        &object,
        "keepRepeatedDevices",
        &JsValue::from_bool(options.keep_repeated_devices),
    );
    object.into()
}

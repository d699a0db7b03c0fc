//! The pieces of the Devices page: profile slots, connection progress and failures, device
//! info, the Wi-Fi wizard, security, Bluetooth, the BTHome gateway and the raw RPC console.

pub mod ble;
pub mod connect;
pub mod console;
pub mod gateway;
pub mod info;
pub mod profiles;
pub mod security;
pub mod wifi;

use bluehome_core::text::printable_json;
use leptos::prelude::*;
use serde_json::Value;

/// Pretty JSON for display (never fails).
pub fn pretty(value: &Value) -> String {
    let json = serde_json::to_string_pretty(value).unwrap_or_default();
    printable_json(&json).into_owned()
}

/// The device's web UI address, only for a well-formed IP address (a device-supplied string
/// never becomes an arbitrary link).
pub fn web_ui_url(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(format!("http://{v4}/")),
        std::net::IpAddr::V6(v6) => Some(format!("http://[{v6}]/")),
    }
}

/// A `data:` URL holding `text`, for a download link.
pub fn data_url(mime: &str, text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let encoded: String = js_sys::encode_uri_component(text).into();
        format!("data:{mime};charset=utf-8,{encoded}")
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        format!("data:{mime};charset=utf-8,{}", text.len())
    }
}

/// A small labelled text input bound to a signal.
#[component]
pub fn TextField(
    /// The label.
    label: &'static str,
    /// The value.
    value: RwSignal<String>,
    /// The input type (`text`, `password`, …).
    #[prop(default = "text")]
    kind: &'static str,
    /// A placeholder.
    #[prop(default = "")]
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type=kind
                placeholder=placeholder
                autocomplete="off"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ip_addresses_become_web_ui_links() {
        assert_eq!(
            web_ui_url("192.168.1.42").as_deref(),
            Some("http://192.168.1.42/")
        );
        assert_eq!(web_ui_url("fe80::1").as_deref(), Some("http://[fe80::1]/"));
        assert_eq!(web_ui_url("javascript:alert(1)"), None);
        assert_eq!(web_ui_url("evil.example/x"), None);
    }
}

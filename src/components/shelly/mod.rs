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
use serde::Serialize;

use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::FormField;

/// What turning off RPC over Bluetooth may cost besides this page: one user found that the Shelly
/// app then no longer offered the device as a gateway for Shelly BLU sensors
/// (home-assistant/core#157585, firmware 1.7.1).
pub const RPC_OFF_AND_BLU_GATEWAYS: &str = " A user found that the Shelly app then no longer offered the device as a gateway for Shelly BLU sensors (firmware 1.7.1): if it relays yours there, check them afterwards.";

/// Pretty JSON for display (never fails). Through a JSON value, so that one pretty printer
/// serves every type.
pub fn pretty(value: &impl Serialize) -> String {
    let value = serde_json::to_value(value).unwrap_or_default();
    let json = serde_json::to_string_pretty(&value).unwrap_or_default();
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

/// A number field's label with the range it takes ("Pairing seconds (10 to 600)"), so that what
/// is refused is said before it is typed.
pub fn range_label(what: &str, range: &std::ops::RangeInclusive<u32>) -> String {
    format!("{what} ({} to {})", range.start(), range.end())
}

/// A small labelled text input bound to a signal.
#[component]
pub fn TextField(
    /// The label.
    #[prop(into)]
    label: String,
    /// The value.
    value: RwSignal<String>,
    /// The input type (`text`, `password`, …).
    #[prop(default = "text")]
    kind: &'static str,
    /// A placeholder.
    #[prop(default = "")]
    placeholder: &'static str,
    /// The keyboard a phone shows (`numeric` for a number of seconds).
    #[prop(optional)]
    inputmode: Option<&'static str>,
    /// What a browser may fill in (`new-password` lets a password manager offer one).
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// The field a refusal may be about: while the session's failure is about it, the input is
    /// marked invalid and described by the failure's words (WCAG 2.2 technique ARIA21).
    #[prop(optional)]
    field: Option<FormField>,
) -> impl IntoView {
    let session = field.map(|_| ShellySession::from_context());
    let invalid = move || match (field, session) {
        (Some(field), Some(session)) => session
            .failure
            .with(|f| f.as_ref().and_then(|f| f.field) == Some(field)),
        _ => false,
    };
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type=kind
                placeholder=placeholder
                inputmode=inputmode
                autocomplete=autocomplete
                aria-invalid=move || invalid().then_some("true")
                aria-describedby=move || invalid().then_some(connect::FIELD_ERROR_ID)
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

/// The connected device's id as a password form's hidden username, so a password manager files
/// the password per device, not one for the whole site (Chromium, "Create Amazing Password
/// Forms": hidden fields for implicit information). The digest's user is always `admin`.
#[component]
pub fn DeviceUsername() -> impl IntoView {
    let session = ShellySession::from_context();
    let id = move || {
        session
            .device
            .get()
            .map(|d| d.id().to_owned())
            .unwrap_or_default()
    };
    view! {
        <input type="text" name="username" autocomplete="username" hidden readonly prop:value=id />
    }
}

/// A checkbox bound to a signal, its label after the box.
#[component]
pub fn CheckField(
    /// The label (starting with a space, to stand apart from the box).
    label: &'static str,
    /// Whether it is checked.
    checked: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <label class="check">
            <input
                type="checkbox"
                prop:checked=move || checked.get()
                on:change=move |ev| checked.set(event_target_checked(&ev))
            />
            {label}
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

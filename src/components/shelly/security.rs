//! Device password (Shelly.SetAuth with HA1), device name, and hardening after set-up.

use leptos::prelude::*;

use super::{CheckField, DeviceUsername, RPC_OFF_AND_BLU_GATEWAYS, TextField};
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::FormField;
use crate::state::shelly::security::{Hardening, SecurityForm};

/// Password, name and hardening.
#[component]
pub fn SecurityPanel() -> impl IntoView {
    let session = ShellySession::from_context();
    // Kept with the session: a tab switch loses none of it.
    let SecurityForm {
        password,
        confirm,
        remember,
        name,
        access_point_off: ap_off,
        ble_rpc_off: rpc_off,
    } = session.panels.security;

    let set_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (p, c) = (password.get_untracked(), confirm.get_untracked());
        password.set(String::new());
        confirm.set(String::new());
        session.set_password(p, &c, remember.get_untracked());
    };
    let remove_password = move |_| session.remove_password();
    let set_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        session.rename(name.get_untracked());
    };
    let harden = move |_| {
        session.harden(Hardening {
            access_point_off: ap_off.get_untracked(),
            ble_rpc_off: rpc_off.get_untracked(),
        });
    };

    view! {
        <section class="shelly-security" aria-label="Security">
            <h2>"Password"</h2>
            <p class="hint">"The user is always admin. Only the digest (HA1) is sent and, if you ask, remembered; the password itself is never stored."</p>
            <form class="password-form" on:submit=set_password>
                <DeviceUsername />
                <TextField label="New password" value=password kind="password" autocomplete="new-password" field=FormField::NewPassword />
                <TextField label="Repeat it" value=confirm kind="password" autocomplete="new-password" field=FormField::PasswordRepeat />
                <CheckField label=" Remember it in this device's profile" checked=remember />
                <div class="row">
                    <button type="submit" class="primary">"Set password"</button>
                    <button type="button" on:click=remove_password>"Remove password"</button>
                </div>
            </form>
            <h2>"Name"</h2>
            <form class="name-form" on:submit=set_name>
                <TextField label="Device name" value=name />
                <button type="submit">"Rename"</button>
            </form>
            <h2>"After set-up"</h2>
            <CheckField label=" Turn off the device's Wi-Fi access point" checked=ap_off />
            <CheckField label=" Turn off RPC over Bluetooth" checked=rpc_off />
            {move || rpc_off.get().then(|| view! {
                <p class="notice warning" role="note">
                    "With RPC over Bluetooth off, this page can no longer talk to the device over Bluetooth. Turn it back on from the device's web UI (Settings › Bluetooth)."
                    {RPC_OFF_AND_BLU_GATEWAYS}
                </p>
            })}
            {move || ap_off.get().then(|| view! {
                <p class="notice warning" role="note">
                    "With the access point off, the device is reachable only through your Wi-Fi network; if that fails, a factory reset is the way back."
                </p>
            })}
            <button on:click=harden disabled=move || !(ap_off.get() || rpc_off.get())>"Apply"</button>
        </section>
    }
}

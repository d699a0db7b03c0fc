//! The Shelly BLU flow's panel: model and MAC, the pairing advice for this system, encryption
//! (passkey, key shown for copying and stored for the Scan page), the device's own settings, and
//! factory reset behind a confirmation.

use bluehome_core::blu::{Characteristic, Value};
use leptos::prelude::*;

use crate::components::live::{Live, LiveRegion};
use crate::state::setup::SetupSession;
use crate::state::setup::blu::{Scale, range_text, setting_from_text, show};
use crate::state::setup::explain::blu_pairing_mode;

/// The id of the MAC form's error, which the MAC field names while it shows.
const MAC_ERROR_ID: &str = "blu-mac-error";

/// The BLU panel.
#[component]
pub fn BluPanel(
    /// The session.
    session: SetupSession,
) -> impl IntoView {
    let view_ = session.blu;
    let busy = move || session.busy.get().is_some();
    // The session's: leaving the page and coming back loses none of it.
    let (passkey, mac_text) = (view_.passkey, view_.mac_text);
    let mac_error = RwSignal::new(None::<String>);
    let model = move || {
        view_.model.get().map_or_else(
            || "Shelly BLU device (model not identified)".to_owned(),
            |m| format!("{} ({})", m.name, m.code),
        )
    };
    view! {
        <section class="blu-flow" aria-label="Shelly BLU device">
            <h2>{model}</h2>
            <p class="mac">{move || match view_.mac.get() {
                Some(mac) => format!("MAC {mac} (from its Shelly advertisement)"),
                None => "MAC unknown: the browser hides it and no Shelly advertisement was heard.".to_owned(),
            }}</p>
            <Show when=move || view_.mac.get().is_none()>
                <form class="mac-form" on:submit=move |ev| {
                    ev.prevent_default();
                    mac_error.set(session.blu_set_mac(&mac_text.get_untracked()).err());
                }>
                    <label class="field"><span>"MAC on the device"</span>
                        // An error names the field it is about (WCAG 2.2 technique ARIA21).
                        <input name="mac" placeholder="3C:2E:F5:…" prop:value=move || mac_text.get()
                            aria-invalid=move || mac_error.with(Option::is_some).then_some("true")
                            aria-describedby=move || mac_error.with(Option::is_some).then_some(MAC_ERROR_ID)
                            on:input=move |ev| mac_text.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit">"Use this MAC"</button>
                    // On the page before the first error, so each one is announced (components/live).
                    <LiveRegion kind=Live::Alert>
                        {move || mac_error.get().map(|e| view! { <p class="error" id=MAC_ERROR_ID>{e}</p> })}
                    </LiveRegion>
                </form>
            </Show>
            // A failure that says how to pair says it in place of this.
            <Show when=move || !session.failure.with(|f| f.as_ref().is_some_and(|f| f.tells_pairing))>
                <p class="notice pairing-advice">
                    <strong>"Pairing: "</strong>
                    {move || session.os.get().pairing_advice(session.blu.mac.get()).into_owned()}
                    " Shelly BLU devices accept a new pairing only in pairing mode. "
                    {move || blu_pairing_mode(view_.model.get())}
                </p>
            </Show>
            <Show when=move || view_.exposed.get().can_encrypt()>
                <section class="blu-encryption" aria-label="Encryption">
                    <h3>"BTHome encryption"</h3>
                    <p>"A passkey turns encryption on and makes a new key; only a factory reset turns it off again."</p>
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        session.blu_enable_encryption(&passkey.get_untracked());
                    }>
                        <label class="field"><span>"Passkey (up to 6 digits)"</span>
                            <input name="passkey" inputmode="numeric" autocomplete="off"
                                prop:value=move || passkey.get()
                                on:input=move |ev| passkey.set(event_target_value(&ev)) />
                        </label>
                        {move || match view_.passkey_is_pairing_pin() {
                            Some(true) => Some(view! {
                                <p class="notice warning passkey-pin">"This firmware (before 1.0.23) also asks for the passkey as a PIN whenever the device is paired: keep it."</p>
                            }),
                            None => Some(view! {
                                <p class="notice warning passkey-pin">"The firmware version could not be read. Firmware before 1.0.23 also asks for the passkey as a PIN whenever the device is paired: keep it."</p>
                            }),
                            Some(false) => None,
                        }}
                        <div class="row">
                            <button type="submit" disabled=busy>"Turn encryption on"</button>
                            <button type="button" disabled=busy on:click=move |_| session.blu_read_key()>"Read the key"</button>
                        </div>
                    </form>
                    {move || view_.key.get().map(|key| view! {
                        <div class="blu-key">
                            <label class="field"><span>"Bind key"</span>
                                <input class="bind-key" readonly prop:value=key.to_hex() />
                            </label>
                            <Show when=move || view_.key_stored.get()
                                fallback=|| view! {
                                    <p class="notice">"Copy it for Home Assistant if you use it there. Enter the MAC above and the Scan page decrypts this sensor too (BTHome's encryption uses the MAC)."</p>
                                }>
                                <p class="notice ok">"Stored as this sensor's bind key: the Scan page decrypts it now. Copy it for Home Assistant if you use it there."</p>
                            </Show>
                        </div>
                    })}
                    // The warning alone is the alert, on the page before it; its buttons stay out
                    // of the region (components/live).
                    <div class="notice warning rekey">
                        <LiveRegion kind=Live::Alert>
                            {move || view_.rekey_armed.get().then(|| view! {
                                <p>"Encryption is on already, with the key above. A new passkey makes a new key: Home Assistant, and anything else holding this key, stops decoding the sensor until it is given the new one."</p>
                            })}
                        </LiveRegion>
                        {move || view_.rekey_armed.get().then(|| view! {
                            <button class="danger" disabled=busy on:click=move |_| session.blu_enable_encryption(&passkey.get_untracked())>"Make a new key"</button>
                            <button disabled=busy on:click=move |_| view_.rekey_armed.set(false)>"Keep this key"</button>
                        })}
                    </div>
                </section>
            </Show>
            <Show when=move || view_.values.with(|v| !v.is_empty())>
                <section class="blu-settings" aria-label="Settings">
                    <h3>"Settings"</h3>
                    <ul>
                        {move || view_.values.get().into_iter().map(|(c, value)| {
                            let scale = view_.scale(c);
                            view! { <SettingRow session=session characteristic=c value=value scale=scale /> }
                        }).collect_view()}
                    </ul>
                </section>
            </Show>
            <Show when=move || view_.exposed.get().has(Characteristic::FactoryReset)>
                <section class="blu-reset" aria-label="Factory reset">
                    // The warning alone is the alert, on the page before it (components/live).
                    <LiveRegion kind=Live::Alert>
                        {move || view_.reset_armed.get().then(|| view! {
                            <p class="notice warning">"A factory reset turns encryption off, forgets every pairing and restores every setting. The device drops the connection."</p>
                        })}
                    </LiveRegion>
                    <Show when=move || view_.reset_armed.get()
                        fallback=move || view! {
                            <button disabled=busy on:click=move |_| session.blu_factory_reset()>"Factory reset…"</button>
                        }>
                        <button class="danger" on:click=move |_| session.blu_factory_reset()>"Yes, reset the device"</button>
                        <button on:click=move |_| view_.reset_armed.set(false)>"Cancel"</button>
                    </Show>
                </section>
            </Show>
            <LiveRegion kind=Live::Status>
                {move || view_.reset_done.get().then(|| view! {
                    <p class="notice ok reset-done">"Factory reset sent: the device restarts with encryption off, its settings restored, and no pairings. To change its settings again, put it in pairing mode and set it up once more (if the system still lists it as paired, remove it there first)."</p>
                })}
            </LiveRegion>
        </section>
    }
}

/// One setting: its value, and a form to change it. `scale` is `None` when the setting's unit
/// depends on a firmware revision that could not be read: whole units then, with a note.
#[component]
fn SettingRow(
    session: SetupSession,
    characteristic: Characteristic,
    value: Result<Value, String>,
    scale: Option<Scale>,
) -> impl IntoView {
    let info = characteristic.info();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let unsure = scale.is_none();
    let scale = scale.unwrap_or(Scale::Whole);
    let shown = match &value {
        Ok(v) => show(v, scale),
        Err(e) => format!("unreadable: {e}"),
    };
    let switch = match &value {
        Ok(Value::Switch(on)) if characteristic.is_setting() => Some(*on),
        _ => None,
    };
    let editable = characteristic.is_setting() && value.is_ok() && switch.is_none();
    let current = value.ok();
    let range = range_text(characteristic, scale);
    let decimal = scale == Scale::Tenths;
    // One row per setting: the setting's name keeps the id unique on the page.
    let error_id = format!("blu-setting-{}-error", info.name);
    view! {
        <li class="blu-setting" data-name=info.name>
            <span class="label">{info.label}</span>": "<span class="value">{shown}</span>
            {switch.map(|on| view! {
                " "
                <button disabled=move || session.busy.get().is_some()
                    on:click=move |_| session.blu_write(characteristic, Value::Switch(!on))>
                    {if on { "Turn off" } else { "Turn on" }}
                </button>
            })}
            {editable.then(|| {
                let current = current.clone();
                view! {
                    <form class="setting-form" on:submit=move |ev| {
                        ev.prevent_default();
                        let Some(current) = current.as_ref() else { return };
                        match setting_from_text(characteristic, scale, current, &text.get_untracked()) {
                            Ok(v) => { error.set(None); session.blu_write(characteristic, v); }
                            Err(e) => error.set(Some(e)),
                        }
                    }>
                        // The range in the label, as on every number field: said before anything is typed.
                        <label class="field"><span>{
                            let name = info.label.to_lowercase();
                            if range.is_empty() { format!("New {name}") } else { format!("New {name} ({range})") }
                        }</span>
                            // A phone's numeric keypad has no minus sign or decimal point.
                            <input inputmode=if decimal { "text" } else { "numeric" } prop:value=move || text.get()
                                aria-invalid=move || error.with(Option::is_some).then_some("true")
                                aria-describedby={
                                    let id = error_id.clone();
                                    move || error.with(Option::is_some).then(|| id.clone())
                                }
                                on:input=move |ev| text.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit">"Set"</button>
                        {unsure.then(|| view! {
                            <p class="hint">"The firmware version could not be read: firmware before 1.0.23 counts tenths of a degree here."</p>
                        })}
                        <LiveRegion kind=Live::Alert>
                            {
                                let id = error_id.clone();
                                move || error.get().map(|e| view! { <p class="error" id=id.clone()>{e}</p> })
                            }
                        </LiveRegion>
                    </form>
                }
            })}
        </li>
    }
}

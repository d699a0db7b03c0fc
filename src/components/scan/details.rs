//! The details of the selected device: label, bind key, full chart, every reading, raw packets.

use std::str::FromStr;

use bluehome_core::{BindKey, DeviceKey, MacAddress};
use leptos::prelude::*;

use crate::components::live::{Live, LiveRegion};
use crate::platform::local_offset_minutes;
use crate::state::hex;
use crate::state::model::{DeviceEntry, KeyEntry, ScanModel};
use crate::state::settings::{format_datetime, format_time};
use crate::state::use_store;

use super::chart::FullChart;

/// The chart's time ranges: label and length.
pub const RANGES: [(&str, u64); 4] = [
    ("5 min", 300_000),
    ("15 min", 900_000),
    ("1 h", 3_600_000),
    ("all", u64::MAX),
];

fn with_selected<T>(f: impl FnOnce(&DeviceEntry, &ScanModel) -> T) -> Option<T> {
    let store = use_store();
    let key = store.selected.get()?;
    store.model(|m| m.device(&key).map(|d| f(&d, m))).flatten()
}

fn axis_time_local(ms: u64) -> String {
    format_time(ms, local_offset_minutes(ms))
}

fn axis_time_utc(ms: u64) -> String {
    format!("{} UTC", format_time(ms, 0))
}

/// The title of the device list's row for `key`, found by comparing each row's `data-key` (a key
/// from a capture file may hold any character, which a selector would have to escape).
fn row_title(key: &str) -> Option<web_sys::HtmlElement> {
    use wasm_bindgen::JsCast as _;
    let rows = document().query_selector_all(".device-row").ok()?;
    (0..rows.length())
        .filter_map(|i| rows.item(i)?.dyn_into::<web_sys::Element>().ok())
        .find(|row| row.get_attribute("data-key").as_deref() == Some(key))?
        .query_selector(".row-title")
        .ok()??
        .dyn_into()
        .ok()
}

/// The panel for the selected device (nothing when none is selected).
#[component]
pub fn DeviceDetails() -> impl IntoView {
    let store = use_store();
    move || {
        let key = store.selected.get()?;
        // Untracked: the panel (and what is typed into it) stays while the device updates; its
        // parts track the model themselves.
        let exists = store
            .model_untracked(|m| m.device(&key).is_some())
            .unwrap_or(false);
        exists.then(|| view! { <DetailsPanel key=key /> })
    }
}

/// The field of the key form an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyField {
    BindKey,
    Mac,
}

/// The id of the key form's error, which the field it is about names while it shows.
const KEY_ERROR_ID: &str = "bindkey-error";

#[component]
fn DetailsPanel(
    /// The device.
    key: DeviceKey,
) -> impl IntoView {
    let store = use_store();
    let title = move || with_selected(|d, m| d.shown_title(&m.labels)).unwrap_or_default();
    // The forms start from what is known when the panel opens (untracked: typing is not undone
    // by the next packet).
    let initial_label = store
        .model_untracked(|m| m.labels.get(&key).cloned())
        .flatten()
        .unwrap_or_default();
    let label = RwSignal::new(initial_label);
    let k = key.clone();
    let save_label = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        store.set_label(&k, &label.get_untracked());
    };

    // Bind key form: the key never leaves this form, the store and localStorage.
    let existing = store.model_untracked(|m| m.key_entry(&key)).flatten();
    let key_text = RwSignal::new(String::new());
    // Prefilled with the MAC typed before, else the one the device told (its Shelly manufacturer
    // data, its BTHome payload): the browser hides the address.
    let known_mac = store
        .model_untracked(|m| m.device(&key).and_then(|d| d.mac))
        .flatten();
    let mac_text = RwSignal::new(
        existing
            .and_then(|e| e.mac)
            .or(known_mac)
            .map(|m| m.to_string())
            .unwrap_or_default(),
    );
    let key_error = RwSignal::new(None::<(KeyField, String)>);
    // The field an error is about names it and is marked invalid (WCAG 2.2 technique ARIA21).
    let invalid = move |field| key_error.with(|e| e.as_ref().is_some_and(|(f, _)| *f == field));
    let has_key = RwSignal::new(existing.is_some());
    let k = key.clone();
    let save_key = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let bindkey = match BindKey::from_pasted(&key_text.get_untracked()) {
            Ok(b) => b,
            Err(e) => return key_error.set(Some((KeyField::BindKey, format!("bind key: {e}")))),
        };
        let mac_input = mac_text.get_untracked();
        let mac = if mac_input.trim().is_empty() {
            None
        } else {
            match MacAddress::from_str(mac_input.trim()) {
                Ok(m) => Some(m),
                Err(e) => return key_error.set(Some((KeyField::Mac, format!("MAC: {e}")))),
            }
        };
        key_error.set(None);
        store.set_key(&k, Some(KeyEntry { bindkey, mac }));
        key_text.set(String::new());
        has_key.set(true);
    };
    let k = key.clone();
    let forget_key = move |_| {
        store.set_key(&k, None);
        has_key.set(false);
    };
    let needs_mac =
        move || with_selected(|d, _| d.mac.is_none() && d.key.mac().is_none()).unwrap_or(false);
    let encrypted = move || with_selected(|d, _| d.encrypted).unwrap_or(false);

    // Chart: which reading, over which range.
    let chart_reading = RwSignal::new(None::<(u8, u8)>);
    let range = RwSignal::new(2usize);
    // The reading charted: the one picked, else the first a person looks at (temperature before
    // battery, which is a flat line).
    let charted = move |d: &DeviceEntry| {
        chart_reading
            .get()
            .and_then(|p| d.readings.get(&p))
            .or_else(|| {
                d.readings
                    .values()
                    .filter(|r| r.value.as_f64().is_some())
                    .min_by_key(|r| r.prominence())
            })
            .map(|r| (r.id, r.index))
    };
    let numeric = move || {
        with_selected(|d, _| {
            let shown = charted(d);
            d.readings
                .values()
                .filter(|r| r.value.as_f64().is_some())
                .map(|r| (Some((r.id, r.index)) == shown, r.label.clone(), r.key()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    let chart = move || {
        let settings = store.settings.get();
        let now = store.now.get();
        let span = RANGES.get(range.get()).map_or(3_600_000, |r| r.1);
        with_selected(|d, _| {
            let reading = d.readings.get(&charted(d)?)?;
            let mut points = reading.chart_points();
            for point in &mut points {
                point.1 = settings.display_value(point.1, reading.unit).0;
            }
            let unit = settings.display_value(0.0, reading.unit).1;
            let from = if span == u64::MAX {
                points.first().map_or(now, |p| p.0)
            } else {
                now.saturating_sub(span)
            };
            let label = match unit {
                Some(u) => format!("{} ({u})", reading.label),
                None => reading.label.clone(),
            };
            let format_time: fn(u64) -> String = if settings.local_time {
                axis_time_local
            } else {
                axis_time_utc
            };
            Some(view! {
                <FullChart points=points from_ms=from to_ms=now.max(from.saturating_add(1)) label=label format_time=format_time />
            })
        })
        .flatten()
    };

    let readings_table = move || {
        let settings = store.settings.get();
        with_selected(|d, _| {
            d.readings
                .values()
                .map(|r| {
                    let when = if settings.local_time {
                        format_datetime(r.at_ms, local_offset_minutes(r.at_ms))
                    } else {
                        format!("{} UTC", format_datetime(r.at_ms, 0))
                    };
                    view! {
                        <tr>
                            <th scope="row">{r.label.clone()}</th>
                            <td>{r.display(&settings)}</td>
                            <td class="mono">{format!("{:#04x}", r.id)}</td>
                            <td>{when}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };

    let raw_rows = move || {
        let settings = store.settings.get();
        with_selected(|d, _| {
            d.raw
                .iter()
                .rev()
                .map(|p| {
                    let when = if settings.local_time {
                        format_time(p.at_ms, local_offset_minutes(p.at_ms))
                    } else {
                        format_time(p.at_ms, 0)
                    };
                    let mut lines = Vec::new();
                    for (company, data) in &p.manufacturer {
                        lines.push(format!("mfr {company:#06x}: {}", hex::encode(data)));
                    }
                    for (uuid, data) in &p.service {
                        let short = uuid
                            .as_u16()
                            .map_or_else(|| uuid.to_string(), |s| format!("{s:04x}"));
                        lines.push(format!("svc {short}: {}", hex::encode(data)));
                    }
                    view! {
                        <li>
                            <span class="raw-time">{when}</span>
                            " "
                            <span class="raw-rssi">{p.rssi.map(|r| format!("{r} dBm")).unwrap_or_default()}</span>
                            <code class="raw-data">{lines.join("  ")}</code>
                        </li>
                    }
                })
                .collect_view()
        })
    };

    // A memo: the device changes with every packet, its problem (and the announcement) only
    // when it does.
    let problem =
        Memo::new(move |_| with_selected(|d, _| d.problem.map(ToString::to_string)).flatten());
    let problem = move || problem.get().map(|p| view! { <p class="problem">{p}</p> });

    // Focus goes to the panel as it opens (on a phone it covers the list), and back to the
    // device's row as it closes, so a keyboard user is never left on the page's body.
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    let row = key.to_string();
    let close = move || {
        store.selected.set(None);
        let row = row.clone();
        request_animation_frame(move || {
            if let Some(title) = row_title(&row) {
                let _ = title.focus();
            }
        });
    };
    let close_on_click = close.clone();
    view! {
        <section
            id="device-details"
            class="device-details"
            aria-label="Device details"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    close();
                }
            }
        >
            <div class="details-head">
                <h2 tabindex="-1" node_ref=heading>{title}</h2>
                <button type="button" class="close" on:click=move |_| close_on_click()>
                    "Close"
                </button>
            </div>
            // On the page before the first problem, so each one is announced (components/live).
            <LiveRegion kind=Live::Alert>{problem}</LiveRegion>
            <form class="label-form" on:submit=save_label>
                <label>
                    "Label "
                    <input type="text" maxlength="60" bind:value=label />
                </label>
                <button type="submit">"Save label"</button>
            </form>
            <form class="key-form" on:submit=save_key autocomplete="off">
                <fieldset>
                    <legend>"Encryption"</legend>
                    <p class="hint">
                        {move || if has_key.get() {
                            "A bind key is saved for this device (in this browser only)."
                        } else if encrypted() {
                            "This sensor encrypts its readings: enter its bind key to read them."
                        } else {
                            "This sensor sends its readings unencrypted: a bind key is needed only once it encrypts them."
                        }}
                    </p>
                    <label>
                        "Bind key (32 hex digits) "
                        <input
                            type="password"
                            class="mono"
                            id="bindkey"
                            name="bindkey"
                            spellcheck="false"
                            autocomplete="off"
                            aria-invalid=move || invalid(KeyField::BindKey).then_some("true")
                            aria-describedby=move || invalid(KeyField::BindKey).then_some(KEY_ERROR_ID)
                            bind:value=key_text
                        />
                    </label>
                    <label>
                        "Device MAC "
                        <input
                            type="text"
                            class="mono"
                            name="mac"
                            placeholder="AA:BB:CC:DD:EE:FF"
                            spellcheck="false"
                            aria-invalid=move || invalid(KeyField::Mac).then_some("true")
                            aria-describedby=move || invalid(KeyField::Mac).then_some(KEY_ERROR_ID)
                            bind:value=mac_text
                        />
                    </label>
                    <p class="hint" hidden=move || !needs_mac()>
                        "The browser hides this device's address; decryption needs the MAC printed on the device or shown by its app."
                    </p>
                    <LiveRegion kind=Live::Alert>
                        {move || key_error.get().map(|(_, e)| view! { <p class="problem" id=KEY_ERROR_ID>{e}</p> })}
                    </LiveRegion>
                    <button type="submit">"Save key"</button>
                    <Show when=move || has_key.get()>
                        <button type="button" on:click=forget_key.clone()>"Forget key"</button>
                    </Show>
                </fieldset>
            </form>
            <div class="chart-controls">
                <label>
                    "Chart "
                    <select on:change=move |ev| {
                        let value = event_target_value(&ev);
                        let parsed = value.split_once('.').map_or_else(
                            || value.parse().ok().map(|id| (id, 0)),
                            |(a, b)| Some((a.parse().ok()?, b.parse().ok()?)),
                        );
                        chart_reading.set(parsed);
                    }>
                        {move || numeric().into_iter().map(|(selected, name, value)| {
                            view! { <option value=value selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <fieldset class="ranges">
                    <legend class="visually-hidden">"Time range"</legend>
                    {RANGES.iter().enumerate().map(|(i, (name, _))| view! {
                        <button
                            type="button"
                            aria-pressed=move || (range.get() == i).to_string()
                            on:click=move |_| range.set(i)
                        >
                            {*name}
                        </button>
                    }).collect_view()}
                </fieldset>
            </div>
            {chart}
            <table class="readings-table">
                <caption class="visually-hidden">"Readings"</caption>
                <thead>
                    <tr><th scope="col">"Reading"</th><th scope="col">"Value"</th><th scope="col">"Object"</th><th scope="col">"Received"</th></tr>
                </thead>
                <tbody>{readings_table}</tbody>
            </table>
            <details class="raw-view">
                <summary>"Raw advertisements (hex)"</summary>
                <ol class="raw-list">{raw_rows}</ol>
            </details>
        </section>
    }
}

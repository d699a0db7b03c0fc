//! The live device list, virtualised: only the rows in view (plus a few) are in the DOM.

use bluehome_core::text::printable;
use leptos::prelude::*;

use bluehome_core::{DeviceKey, DeviceKind};

use crate::state::model::{DeviceEntry, ScanModel, kind_class};
use crate::state::settings::format_age;
use crate::state::use_store;

use super::chart::Sparkline;

/// The least height of one card in pixels: what its four lines (name, kind and signal, address,
/// readings with their sparklines) take at the style sheet's spacing. Every card is as high as
/// the tallest a card can be (measured on a hidden one), never less than this, so that a reader's
/// larger text spacing (WCAG 2.2 SC 1.4.12) grows the cards instead of cutting them.
pub const ROW_HEIGHT: f64 = 146.0;
/// Height of the scrolling viewport in pixels (`.device-list`): four cards.
pub const VIEWPORT_HEIGHT: f64 = 4.0 * ROW_HEIGHT;
/// Rows rendered beyond the viewport on each side.
const OVERSCAN: usize = 3;

/// The slice of rows to render for a scroll position with cards `pitch` pixels high:
/// `(first index, count)`.
pub fn window(scroll_top: f64, pitch: f64, total: usize) -> (usize, usize) {
    let pitch = pitch.max(ROW_HEIGHT);
    let first = ((scroll_top / pitch).floor().max(0.0) as usize).saturating_sub(OVERSCAN);
    let count = (VIEWPORT_HEIGHT / pitch).ceil() as usize + 2 * OVERSCAN;
    let first = first.min(total);
    (first, count.min(total - first))
}

/// RSSI as a 0–100 bar width (−100 dBm empty, −30 dBm full).
pub fn rssi_percent(rssi: Option<i8>) -> f64 {
    rssi.map_or(0.0, |r| {
        ((f64::from(r) + 100.0) / 70.0 * 100.0).clamp(0.0, 100.0)
    })
}

/// The visible, sorted device keys (reads the store; call inside a reactive closure).
fn visible_keys() -> Result<Vec<DeviceKey>, String> {
    let store = use_store();
    let filters = store.filters()?;
    let search = store.search.get();
    let settings = store.settings.get();
    Ok(store
        .model(|m| {
            m.visible(&settings, &filters, &search)
                .into_iter()
                .map(|d| d.key.clone())
                .collect()
        })
        .unwrap_or_default())
}

/// The order to show while the pointer rests on the list: the rows as they were (`held`, less
/// those gone), then devices that came since, so nothing moves under the pointer.
pub fn hold_order(held: &[DeviceKey], fresh: Vec<DeviceKey>) -> Vec<DeviceKey> {
    // Linear look-ups: this runs only while the pointer is on the list, and a set type would add
    // its code to the Scan page's part.
    let mut order: Vec<DeviceKey> = held.iter().filter(|k| fresh.contains(k)).cloned().collect();
    order.extend(fresh.into_iter().filter(|k| !held.contains(k)));
    order
}

/// The visible order now, as the hold starts from it.
fn keys_now(sorted: Memo<Result<Vec<DeviceKey>, String>>) -> Option<Vec<DeviceKey>> {
    sorted.get_untracked().ok()
}

/// The device of the row an event happened in (its `data-key`).
fn row_key(ev: &web_sys::FocusEvent) -> Option<DeviceKey> {
    let target: web_sys::Element = event_target(ev);
    target
        .closest("[data-key]")
        .ok()
        .flatten()
        .and_then(|row| row.get_attribute("data-key"))
        .and_then(|key| key.parse().ok())
}

/// Whether focus leaving with `ev` goes to another element of the list the listener is on.
fn focus_stays_in(ev: &web_sys::FocusEvent) -> bool {
    use wasm_bindgen::JsCast as _;
    let node = |t: Option<web_sys::EventTarget>| t.and_then(|t| t.dyn_into::<web_sys::Node>().ok());
    match (node(ev.current_target()), node(ev.related_target())) {
        (Some(list), Some(to)) => list.contains(Some(&to)),
        _ => false,
    }
}

/// Reads one device (inside a reactive closure).
fn with_device<T>(key: &DeviceKey, f: impl FnOnce(&DeviceEntry, &ScanModel) -> T) -> Option<T> {
    let store = use_store();
    store.model(|m| m.device(key).map(|d| f(&d, m))).flatten()
}

/// Every device the sources report, filtered, searched and sorted, in a virtualised list.
#[component]
pub fn DeviceList() -> impl IntoView {
    let store = use_store();
    let scroll_top = RwSignal::new(0.0);
    // The order the rows had when the pointer came onto the list or focus went into it, while
    // either stays there: nothing moves under the pointer, and a focused row is not moved (moving
    // a focused element blurs it).
    let held = RwSignal::new(None::<Vec<DeviceKey>>);
    let sorted = Memo::new(move |_| visible_keys());
    let (pointer_in, focus_in) = (RwSignal::new(false), RwSignal::new(false));
    let hold = move || {
        let holding = pointer_in.get_untracked() || focus_in.get_untracked();
        match (holding, held.with_untracked(Option::is_some)) {
            (true, false) => held.set(keys_now(sorted)),
            (false, true) => held.set(None),
            _ => {}
        }
    };
    // The row that has focus, kept rendered when scrolled out of the window (removing it would
    // drop focus to the page).
    let focused = RwSignal::new(None::<DeviceKey>);
    let keys: Memo<Result<Vec<DeviceKey>, String>> = Memo::new(move |_| {
        let fresh = sorted.get()?;
        Ok(held.with(|h| match h {
            Some(held) => hold_order(held, fresh.clone()),
            None => fresh,
        }))
    });
    let total = move || keys.with(|k| k.as_ref().map_or(0, Vec::len));
    let (pitch, probe) = card_pitch();
    let rows = move || {
        keys.with(|k| {
            let Ok(keys) = k else { return Vec::new() };
            let (first, count) = window(scroll_top.get(), pitch.get(), keys.len());
            // A focused row scrolled out of the window stays rendered, with the rows between it
            // and the window: one unbroken slice, so that the keyed list never moves the focused
            // row in the DOM (which would blur it), as it does a row set apart from the others.
            let (mut from, mut to) = (first, first + count);
            if let Some(at) = focused
                .get()
                .and_then(|f| keys.iter().position(|k| *k == f))
            {
                from = from.min(at);
                to = to.max(at + 1);
            }
            keys.get(from..to).map(<[_]>::to_vec).unwrap_or_default()
        })
    };
    let count_text = move || {
        let shown = total();
        let all = store.model(ScanModel::device_count).unwrap_or(0);
        if shown == all {
            format!("{all} devices")
        } else {
            format!("{shown} of {all} devices")
        }
    };
    view! {
        <section class="device-list-section" aria-label="Devices">
            <p class="list-count" aria-live="polite">{count_text}</p>
            <div
                class="device-list"
                tabindex="0"
                role="region"
                aria-label="Device list (scrollable)"
                style:height=format!("{VIEWPORT_HEIGHT}px")
                on:pointerenter=move |_| { pointer_in.set(true); hold(); }
                on:pointerleave=move |_| { pointer_in.set(false); hold(); }
                on:focusin=move |ev| {
                    focus_in.set(true);
                    hold();
                    focused.set(row_key(&ev));
                }
                on:focusout=move |ev| {
                    if !focus_stays_in(&ev) {
                        focus_in.set(false);
                        focused.set(None);
                        hold();
                    }
                }
                on:scroll=move |ev| {
                    let target: web_sys::Element = event_target(&ev);
                    // web-sys types scrollTop as i32 on some targets and f64 on others.
                    #[allow(clippy::useless_conversion)]
                    let top = f64::from(target.scroll_top());
                    scroll_top.set(top);
                }
            >
                <ul
                    class="device-rows"
                    style:height=move || format!("{}px", total() as f64 * pitch.get())
                >
                    <CardProbe probe=probe />
                    // Keyed by device only: a row keeps its DOM (and keyboard focus) while the
                    // order changes; its position follows the list.
                    <For each=rows key=DeviceKey::clone let:key>
                        {
                            let position = {
                                let key = key.clone();
                                Signal::derive(move || {
                                    keys.with(|k| {
                                        k.as_ref().ok().and_then(|k| k.iter().position(|x| *x == key))
                                    })
                                    .unwrap_or(0)
                                })
                            };
                            view! {
                                <DeviceRow key=key index=position total=Signal::derive(total) pitch=pitch />
                            }
                        }
                    </For>
                </ul>
                <Show when=move || total() == 0>
                    <p class="empty">
                        {move || {
                            if keys.with(|k| k.is_err()) {
                                "The filter does not parse; fix it above to see devices."
                            } else {
                                "No devices yet. Start a source above: scan, watch a sensor, the demo, or a capture file."
                            }
                        }}
                    </p>
                </Show>
            </div>
        </section>
    }
}

/// Every card's height in pixels, and the hidden card it is measured on: the tallest a card can
/// be under the styles in force now, at least [`ROW_HEIGHT`].
fn card_pitch() -> (RwSignal<f64>, NodeRef<leptos::html::Li>) {
    let pitch = RwSignal::new(ROW_HEIGHT);
    let probe = NodeRef::<leptos::html::Li>::new();
    let watch = StoredValue::new_local(None::<crate::platform::HeightWatch>);
    probe.on_load(move |card| {
        let measured = move |height: f64| _ = pitch.try_set(height.max(ROW_HEIGHT));
        // Kept (and disconnected) for as long as the list.
        watch.set_value(crate::platform::HeightWatch::new(&card, measured));
    });
    (pitch, probe)
}

/// A card with every line a card can have, hidden from eyes and screen readers and sized by its
/// content: what [`card_pitch`] measures. Its lines have the card's classes but for the title's
/// (the page's tests and scripts find the devices by theirs), whose font the style sheet gives it.
#[component]
fn CardProbe(probe: NodeRef<leptos::html::Li>) -> impl IntoView {
    view! {
        <li class="card-probe" aria-hidden="true" node_ref=probe>
            <div class="row-head">"Probe"</div>
            <p class="row-meta">"BTHome v2"</p>
            <p class="row-sub mono">"00:00:00:00:00:00"</p>
            <ul class="readings">
                <li class="reading">
                    <span class="reading-name">"temperature"</span>
                    <span class="reading-value">"21.5 °C"</span>
                    <span class="sparkline"></span>
                </li>
            </ul>
        </li>
    }
}

/// The kind as the card says it, so that nothing is said twice: a Shelly model by its name alone
/// when the device's title already is its code ("SBHT-003C": "Shelly BLU H&T"), by its code alone
/// when the title is its name (a Gen3 device named by its model: "S3GW-1DBT001").
fn kind_text(kind: DeviceKind, title: &str) -> String {
    match kind {
        DeviceKind::ShellyBlu(model) | DeviceKind::Shelly(Some(model))
            if title.contains(model.code) =>
        {
            model.name.to_owned()
        }
        DeviceKind::ShellyBlu(model) | DeviceKind::Shelly(Some(model))
            if title.contains(model.name) =>
        {
            model.code.to_owned()
        }
        other => other.to_string(),
    }
}

/// What one card says, read from the device in one pass whenever it or the clock changes (one
/// look-up per change rather than one per line of the card).
#[derive(Clone, Default, PartialEq)]
struct Card {
    title: String,
    /// Kind, signal and age: "Shelly BLU H&T · -60 dBm · 3 s ago".
    meta: String,
    kind: String,
    kind_class: &'static str,
    rssi: Option<i8>,
    age: String,
    /// The address, with the advertised name when a label replaces it in the title.
    subtitle: String,
    encrypted: bool,
    /// The decode problem, and whether entering a bind key would solve it.
    problem: Option<(String, bool)>,
    /// What a device without readings is for: an Improv device's state and where to set it up.
    note: Option<String>,
}

impl Card {
    fn of(d: &DeviceEntry, m: &ScanModel, now_ms: u64) -> Self {
        let title = d.shown_title(&m.labels);
        let mut subtitle = Vec::new();
        if m.labels.contains_key(d.key)
            && let Some(name) = d.name
        {
            subtitle.push(printable(name).into_owned());
        }
        match d.mac {
            Some(mac) if d.key.mac() != Some(mac) => {
                subtitle.push(format!("{} · {}", mac, printable(d.key.as_str())));
            }
            _ => subtitle.push(printable(d.key.as_str()).into_owned()),
        }
        let kind = kind_text(d.kind, &title);
        let age = format_age(now_ms, d.last_seen_ms);
        Card {
            meta: format!("{kind} · {} · {age}", rssi_text(d.rssi)),
            title,
            kind,
            kind_class: kind_class(d.kind),
            rssi: d.rssi,
            age,
            subtitle: subtitle.join(" · "),
            encrypted: d.encrypted,
            problem: d.problem.map(|p| (p.to_string(), p.needs_key())),
            note: improv_note(d.kind),
        }
    }
}

/// An Improv device's card says its advertised state and where its Wi-Fi is set up.
fn improv_note(kind: DeviceKind) -> Option<String> {
    let DeviceKind::Improv(state) = kind else {
        return None;
    };
    let setup = "Set up its Wi-Fi on the Devices page.";
    Some(match state {
        Some(state) => {
            let said = state.description();
            let mut chars = said.chars();
            let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
            format!("{}{}. {setup}", first.unwrap_or_default(), chars.as_str())
        }
        None => setup.to_owned(),
    })
}

fn rssi_text(rssi: Option<i8>) -> String {
    rssi.map_or("—".to_owned(), |r| format!("{r} dBm"))
}

/// One device as a card: its name; kind, signal and age; its address; its main readings large,
/// or "Enter key" when it is encrypted and no key is known. Every line keeps to one line (all
/// cards have one height for the virtualised list) and says all of itself in its title.
#[component]
pub fn DeviceRow(
    /// The device.
    key: DeviceKey,
    /// Its position in the filtered list.
    index: Signal<usize>,
    /// The list's length.
    total: Signal<usize>,
    /// Every card's height in pixels.
    pitch: RwSignal<f64>,
) -> impl IntoView {
    let store = use_store();
    let k = key.clone();
    let card = Memo::new(move |_| {
        let now = store.now.get();
        with_device(&k, |d, m| Card::of(d, m, now)).unwrap_or_default()
    });
    let text = move |f: fn(&Card) -> String| move || card.with(f);
    let k = key.clone();
    let readings = move || {
        let settings = store.settings.get();
        with_device(&k, |d, _| {
            // By prominence, without a sort (its code would weigh on the Scan page's part).
            (0..=4)
                .flat_map(|p| d.readings.values().filter(move |r| r.prominence() == p))
                .take(4)
                .map(|r| {
                    let name = r.label.clone();
                    let value = r.display(&settings);
                    let points = r.chart_points();
                    let spark = (points.len() > 1).then(|| {
                        view! { <Sparkline points=points label=format!("{name} history") /> }
                    });
                    let whole = format!("{name} {value}");
                    view! {
                        <li class="reading" title=whole>
                            <span class="reading-name">{name}</span>
                            " "
                            <span class="reading-value">{value}</span>
                            {spark}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let k = StoredValue::new(key.clone());
    let selected = move || k.with_value(|k| store.selected.with(|s| s.as_ref() == Some(k)));
    // A second click closes the details again.
    let select = move |_| store.selected.set((!selected()).then(|| k.get_value()));
    let enter_key = move |_| {
        store.selected.set(Some(k.get_value()));
        // The details panel renders on this change; its key field takes the focus after it.
        request_animation_frame(|| {
            if let Some(input) = document()
                .get_element_by_id("bindkey")
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
            {
                let _ = input.focus();
            }
        });
    };
    view! {
        <li
            class="device-row"
            class:selected=selected
            style:top=move || format!("{}px", index.get() as f64 * pitch.get())
            style:height=move || format!("{}px", pitch.get())
            aria-setsize=move || total.get().to_string()
            aria-posinset=move || (index.get() + 1).to_string()
            data-key=key.to_string()
        >
            <div class="row-head">
                <button
                    class="row-title"
                    title=text(|c| c.title.clone())
                    aria-expanded=move || selected().to_string()
                    aria-controls="device-details"
                    on:click=select
                >
                    <span class="device-title">{text(|c| c.title.clone())}</span>
                </button>
                <span class="lock" title="encrypted" hidden=move || card.with(|c| !c.encrypted)>
                    <span class="lock-icon" aria-hidden="true"></span>
                    <span class="visually-hidden">" (encrypted)"</span>
                </span>
            </div>
            <p class="row-meta" title=text(|c| c.meta.clone())>
                <span class=text(|c| format!("kind {}", c.kind_class))>{text(|c| c.kind.clone())}</span>
                " · "
                <span class="rssi" title="signal strength">
                    <span class="rssi-bar" aria-hidden="true">
                        <span style:width=text(|c| format!("{}%", rssi_percent(c.rssi)))></span>
                    </span>
                    <span class="rssi-text">{text(|c| rssi_text(c.rssi))}</span>
                </span>
                " · "
                <span class="age">{text(|c| c.age.clone())}</span>
            </p>
            <p class="row-sub mono" title=text(|c| c.subtitle.clone())>{text(|c| c.subtitle.clone())}</p>
            {move || {
                card.with(|c| c.problem.clone())
                    .map(|(problem, needs_key)| {
                        view! {
                            <p class="row-problem" role="note">
                                {needs_key.then(|| view! {
                                    <button class="enter-key" on:click=enter_key
                                        aria-label=text(|c| format!("Enter key for {}", c.title))>"Enter key"</button>
                                })}
                                <span class="problem" title=problem.clone()>{problem.clone()}</span>
                            </p>
                        }
                    })
            }}
            {move || card.with(|c| c.note.clone()).map(|note| view! { <p class="row-note">{note}</p> })}
            <ul class="readings" hidden=move || card.with(|c| c.problem.is_some() || c.note.is_some())>{readings}</ul>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_covers_the_viewport_plus_overscan() {
        assert_eq!(window(0.0, ROW_HEIGHT, 1000), (0, 10));
        // Scrolled to row 100: starts three rows earlier.
        assert_eq!(window(100.0 * ROW_HEIGHT, ROW_HEIGHT, 1000), (97, 10));
        assert_eq!(window(0.0, ROW_HEIGHT, 4), (0, 4));
        assert_eq!(window(5_000.0 * ROW_HEIGHT, ROW_HEIGHT, 10), (10, 0));
        // Cards twice as high (a reader's text spacing): half as many fill the view.
        assert_eq!(
            window(100.0 * 2.0 * ROW_HEIGHT, 2.0 * ROW_HEIGHT, 1000),
            (97, 8)
        );
        // Never below the least height.
        assert_eq!(window(0.0, 10.0, 1000), (0, 10));
    }

    #[test]
    fn a_held_order_keeps_its_rows_and_puts_newcomers_last() {
        let k = |s: &str| -> DeviceKey { s.parse().unwrap() };
        let held = vec![k("b"), k("c"), k("d")];
        // "a" arrived (it sorts first) and "c" went away while the pointer rested on the list.
        let fresh = vec![k("a"), k("b"), k("d")];
        assert_eq!(hold_order(&held, fresh), [k("b"), k("d"), k("a")]);
    }

    /// The card never says a model twice: a BLU sensor titled by its code says its name, a Gen3
    /// device titled by its model's name says its code, anything else its kind in full.
    #[test]
    fn the_kind_says_what_the_title_does_not() {
        use bluehome_core::shelly::models::model;
        let (button, gateway) = (model(0x0001).unwrap(), model(0x1817).unwrap());
        let blu = DeviceKind::ShellyBlu(button);
        assert_eq!(kind_text(blu, "SBBT-002C"), "Shelly BLU Button1");
        assert_eq!(kind_text(blu, "Porch"), "Shelly BLU Button1 (SBBT-002C)");
        let gen3 = DeviceKind::Shelly(Some(gateway));
        assert_eq!(kind_text(gen3, "Shelly BLU Gateway Gen3"), "S3GW-1DBT001");
        assert_eq!(
            kind_text(gen3, "Hall"),
            "Shelly BLU Gateway Gen3 (S3GW-1DBT001)"
        );
        assert_eq!(kind_text(DeviceKind::Shelly(None), "Hall"), "Shelly device");
    }

    #[test]
    fn an_improv_card_says_its_state_and_where_to_set_it_up() {
        use bluehome_core::improv::State;
        assert_eq!(
            improv_note(DeviceKind::Improv(Some(State::AuthorizationRequired))).as_deref(),
            Some(
                "Waiting for authorization: press the device's button. Set up its Wi-Fi on the Devices page."
            )
        );
        assert_eq!(
            improv_note(DeviceKind::Improv(None)).as_deref(),
            Some("Set up its Wi-Fi on the Devices page.")
        );
        assert_eq!(improv_note(DeviceKind::Other), None);
    }

    #[test]
    fn rssi_bar_is_linear_from_minus_100_to_minus_30_dbm_and_clamped() {
        assert_eq!(rssi_percent(Some(-100)), 0.0);
        assert_eq!(rssi_percent(Some(-65)), 50.0);
        assert_eq!(rssi_percent(Some(-30)), 100.0);
        assert_eq!(rssi_percent(Some(-20)), 100.0);
        assert_eq!(rssi_percent(Some(-110)), 0.0);
        assert_eq!(rssi_percent(None), 0.0);
    }
}

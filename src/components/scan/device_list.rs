//! The live device list, virtualised: only the rows in view (plus a few) are in the DOM.

use bluehome_core::text::printable;
use leptos::prelude::*;

use crate::state::model::{DeviceEntry, Reading};
use crate::state::settings::format_age;
use crate::state::use_store;

use super::chart::Sparkline;

/// Height of one row in pixels (the CSS gives `.device-row` exactly this height).
pub const ROW_HEIGHT: f64 = 92.0;
/// Height of the scrolling viewport in pixels (`.device-list`).
pub const VIEWPORT_HEIGHT: f64 = 460.0;
/// Rows rendered beyond the viewport on each side.
const OVERSCAN: usize = 3;

/// The slice of rows to render for a scroll position: `(first index, count)`.
pub fn window(scroll_top: f64, total: usize) -> (usize, usize) {
    let first = ((scroll_top / ROW_HEIGHT).floor().max(0.0) as usize).saturating_sub(OVERSCAN);
    let count = (VIEWPORT_HEIGHT / ROW_HEIGHT).ceil() as usize + 2 * OVERSCAN;
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
fn visible_keys() -> Result<Vec<String>, String> {
    let store = use_store();
    store.revision.track();
    let filters = store.filters()?;
    let search = store.search.get();
    let settings = store.settings.get();
    Ok(store
        .with_model(|m| {
            m.visible(&settings, &filters, &search)
                .into_iter()
                .map(|d| d.key.clone())
                .collect()
        })
        .unwrap_or_default())
}

/// Reads one device (inside a reactive closure).
fn with_device<T>(
    key: &str,
    f: impl FnOnce(&DeviceEntry, &crate::state::model::ScanModel) -> T,
) -> Option<T> {
    let store = use_store();
    store.revision.track();
    store
        .with_model(|m| m.devices.get(key).map(|d| f(d, m)))
        .flatten()
}

/// Every device the sources report, filtered, searched and sorted, in a virtualised list.
#[component]
pub fn DeviceList() -> impl IntoView {
    let store = use_store();
    let scroll_top = RwSignal::new(0.0);
    let keys = Memo::new(move |_| visible_keys());
    let total = move || keys.with(|k| k.as_ref().map_or(0, Vec::len));
    let rows = move || {
        keys.with(|k| {
            let Ok(keys) = k else { return Vec::new() };
            let (first, count) = window(scroll_top.get(), keys.len());
            keys.iter()
                .enumerate()
                .skip(first)
                .take(count)
                .map(|(i, key)| (i, key.clone()))
                .collect::<Vec<_>>()
        })
    };
    let count_text = move || {
        let shown = total();
        let all = {
            store.revision.track();
            store.with_model(|m| m.devices.len()).unwrap_or(0)
        };
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
                    style:height=move || format!("{}px", total() as f64 * ROW_HEIGHT)
                >
                    // Keyed by device only: a row keeps its DOM (and keyboard focus) while the
                    // order changes; its position follows the list.
                    <For each=rows key=|(_, key)| key.clone() let:((_, key))>
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
                            view! { <DeviceRow key=key index=position total=Signal::derive(total) /> }
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

/// Short text of a reading for the row.
fn reading_text(reading: &Reading, settings: &crate::state::settings::Settings) -> String {
    format!(
        "{} {}",
        reading.name.replace('_', " "),
        reading.display(settings)
    )
}

/// One device row.
#[component]
pub fn DeviceRow(
    /// The device key.
    key: String,
    /// Its position in the filtered list.
    index: Signal<usize>,
    /// The list's length.
    total: Signal<usize>,
) -> impl IntoView {
    let store = use_store();
    let k = key.clone();
    let title = move || with_device(&k, |d, m| d.shown_title(&m.labels)).unwrap_or_default();
    let k = key.clone();
    let subtitle = move || {
        with_device(&k, |d, m| {
            let mut parts = Vec::new();
            if m.labels.contains_key(&d.key)
                && let Some(name) = &d.name
            {
                parts.push(printable(name).into_owned());
            }
            match d.mac {
                Some(mac) if mac.to_string() != d.key => {
                    parts.push(format!("{} · {}", mac, printable(&d.key)));
                }
                _ => parts.push(printable(&d.key).into_owned()),
            }
            parts.join(" · ")
        })
        .unwrap_or_default()
    };
    let k = key.clone();
    let kind = move || with_device(&k, |d, _| d.kind.label()).unwrap_or_default();
    let k = key.clone();
    let kind_class = move || {
        format!(
            "kind {}",
            with_device(&k, |d, _| d.kind.class()).unwrap_or("other")
        )
    };
    let k = key.clone();
    let rssi = Signal::derive(move || with_device(&k, |d, _| d.rssi).flatten());
    let k = key.clone();
    let age = move || {
        let now = store.now.get();
        with_device(&k, |d, _| format_age(now, d.last_seen_ms)).unwrap_or_default()
    };
    let k = key.clone();
    let problem = move || {
        with_device(&k, |d, _| {
            d.problem
                .as_ref()
                .map(|p| format!("{} ({})", p.message, p.kind))
        })
        .flatten()
    };
    let k = key.clone();
    let lock = move || with_device(&k, |d, _| d.encrypted).unwrap_or(false);
    let k = key.clone();
    let readings = move || {
        let settings = store.settings.get();
        with_device(&k, |d, _| {
            d.readings
                .values()
                .take(4)
                .map(|r| {
                    let text = reading_text(r, &settings);
                    let points: Vec<(u64, f64)> = r.history.iter().copied().collect();
                    let spark = (points.len() > 1).then(|| {
                        view! { <Sparkline points=points label=format!("{} history", r.name) /> }
                    });
                    view! {
                        <li class="reading">
                            <span class="reading-text">{text}</span>
                            {spark}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let k = key.clone();
    let selected =
        Signal::derive(move || store.selected.with(|s| s.as_deref() == Some(k.as_str())));
    let k = key.clone();
    let select = move |_| {
        let k = k.clone();
        store.selected.update(|s| {
            *s = if s.as_deref() == Some(k.as_str()) {
                None
            } else {
                Some(k)
            }
        });
    };
    view! {
        <li
            class="device-row"
            class:selected=move || selected.get()
            style:top=move || format!("{}px", index.get() as f64 * ROW_HEIGHT)
            aria-setsize=move || total.get().to_string()
            aria-posinset=move || (index.get() + 1).to_string()
            data-key=key.clone()
        >
            <div class="row-head">
                <button
                    class="row-title"
                    aria-expanded=move || selected.get().to_string()
                    aria-controls="device-details"
                    on:click=select
                >
                    <span class="device-title">{title}</span>
                    <Show when=lock>
                        <span class="lock" title="encrypted">
                            <span aria-hidden="true">"🔒"</span>
                            <span class="visually-hidden">" (encrypted)"</span>
                        </span>
                    </Show>
                </button>
                <span class=kind_class>{kind}</span>
                <span class="rssi" title="signal strength">
                    <span class="rssi-bar" aria-hidden="true">
                        <span style:width=move || format!("{}%", rssi_percent(rssi.get()))></span>
                    </span>
                    <span class="rssi-text">
                        {move || rssi.get().map_or("—".to_owned(), |r| format!("{r} dBm"))}
                    </span>
                </span>
                <span class="age">{age}</span>
            </div>
            <div class="row-sub mono">{subtitle}</div>
            {move || problem().map(|p| view! { <p class="problem" role="note">{p}</p> })}
            <ul class="readings">{readings}</ul>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_covers_the_viewport_plus_overscan() {
        assert_eq!(window(0.0, 1000), (0, 11));
        // Scrolled to row 100: starts three rows earlier.
        assert_eq!(window(100.0 * ROW_HEIGHT, 1000), (97, 11));
        assert_eq!(window(0.0, 4), (0, 4));
        assert_eq!(window(5_000.0 * ROW_HEIGHT, 10), (10, 0));
    }

    #[test]
    fn rssi_bar_clamps() {
        assert_eq!(rssi_percent(Some(-100)), 0.0);
        assert_eq!(rssi_percent(Some(-30)), 100.0);
        assert_eq!(rssi_percent(Some(-20)), 100.0);
        assert_eq!(rssi_percent(None), 0.0);
    }
}

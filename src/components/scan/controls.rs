//! The Scan page's controls: sources with the one primary action (Scan / Stop) and what is
//! missing and why; the toolbar: search beside the view options and filters (one disclosure,
//! collapsed on a phone), and a menu of the rest (pause, record, import, export, clear).

use bluehome_core::DeviceKey;
use bluehome_core::text::printable;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ble::{BleBackend, Capability, ScanEnd};
use crate::components::live::{Live, LiveRegion};
use crate::platform;
use crate::state::settings::{Settings, SortKey};
use crate::state::store::{Action, act};
use crate::state::{capture, export, use_store};

/// Where readings come from, and what this browser is missing for each.
#[component]
pub fn SourcePanel() -> impl IntoView {
    let store = use_store();
    let backend = store.backend();
    let simulated = backend.is_simulated();
    let caps = backend.capabilities();
    let can_scan = caps.request_le_scan;
    let can_watch = caps.request_device && caps.watch_advertisements;
    let can_reconnect = caps.get_devices && caps.watch_advertisements;
    let scanning = move || store.status.with(|s| s.scanning);
    let asking = move || store.status.with(|s| s.asking);
    let run = move |action: Action| move |_| spawn_local(act(store, action.clone()));
    let missing: Vec<Capability> = [
        Capability::SecureContext,
        Capability::Bluetooth,
        Capability::RequestLeScan,
        Capability::WatchAdvertisements,
    ]
    .into_iter()
    .filter(|c| !caps.has(*c))
    .collect();
    let explain = (!simulated && !can_scan).then(|| {
        view! {
            <div class="source-help" role="note">
                <p>
                    <strong>"Scanning every sensor nearby is not available in this browser."</strong>
                    " What is missing:"
                </p>
                <ul>
                    {missing.iter().map(|c| view! {
                        <li><code>{c.label()}</code>": "{c.advice()}</li>
                    }).collect_view()}
                </ul>
                <p>"You can still use a capture file or the demo below (and a Shelly gateway on the Devices page)."</p>
            </div>
        }
    });
    // A memo: the status changes with every replayed packet, the problem (and its announcement)
    // only when it does.
    let problem = Memo::new(move |_| store.status.with(|s| s.error.clone()));
    // Memos too: the progress changes with every packet, whether there is a replay to stop
    // (and the Stop button) only twice.
    let replay = Memo::new(move |_| store.status.with(|s| s.replay));
    let replay_total = Memo::new(move |_| replay.with(|r| r.map(|(_, total)| total)));
    let replaying = Memo::new(move |_| replay_total.with(Option::is_some));
    let demo = RwSignal::new(false);
    if simulated {
        // Effects run after the view is on the page.
        Effect::new(move |_| demo.set(true));
    }
    view! {
        <section class="sources" aria-label="Sources">
            <h2 class="visually-hidden">"Sources"</h2>
            // The demo comes with the page: its banner is said once the page (and this region) is
            // there, a step later (components/live).
            <LiveRegion kind=Live::Status>
                {move || demo.get().then(|| view! {
                    <p class="demo-banner">
                        "Demo mode: simulated Shelly BLU sensors, a generic BTHome thermometer and a simulated Shelly BLU Gateway. The encrypted ones use the key "
                        <code>"90bffd73cb6b26ef58a7a8eba9232036"</code>"."
                    </p>
                })}
            </LiveRegion>
            {explain}
            <div class="source-buttons">
                <Show when=move || can_scan>
                    <button type="button" class="primary" aria-pressed=move || scanning().to_string() disabled=asking on:click=run(Action::ToggleScan)>
                        {move || if scanning() { "Stop scan" } else { "Scan nearby" }}
                    </button>
                </Show>
                <Show when=move || can_watch && !simulated>
                    <button type="button" disabled=asking on:click=run(Action::WatchNewDevice)>
                        "Watch a sensor…"
                    </button>
                </Show>
                <Show when=move || can_reconnect && !simulated>
                    <button type="button" on:click=run(Action::WatchKnownDevices)>
                        "Watch permitted devices"
                    </button>
                </Show>
                <Show when=move || !simulated>
                    <button type="button" on:click=move |_| platform::set_query("demo")>"Try the demo"</button>
                </Show>
            </div>
            <ScanEnded />
            // On the page before the first problem, so each one is announced (components/live).
            <LiveRegion kind=Live::Alert>
                {move || problem.get().map(|e| view! { <p class="problem">{e}</p> })}
            </LiveRegion>
            // The replay's start is announced, not every packet's count (which would queue one
            // announcement per packet); the count and the button stay out of the region.
            <p class="replay">
                <LiveRegion kind=Live::Status inline=true>
                    {move || replay_total.get().map(|total| format!("Replaying a capture of {total} packets: "))}
                </LiveRegion>
                {move || replay.get().map(|(played, _)| format!("{played} played "))}
                {move || replaying.get().then(|| view! {
                    <button type="button" on:click=move |_| store.stop_replay()>"Stop"</button>
                })}
            </p>
        </section>
    }
}

/// Says plainly that the scan ended when the page did not stop it, with the one click a new scan
/// needs (Chrome wants a user gesture for `requestLEScan`).
#[component]
fn ScanEnded() -> impl IntoView {
    let store = use_store();
    let ended = Memo::new(move |_| {
        store.status.with(|s| {
            let reason = s.scan_ended.filter(|_| !s.scanning);
            (reason, !s.watched.is_empty())
        })
    });
    let said = move || {
        let (reason, watching) = ended.get();
        let why = match reason? {
            ScanEnd::PageInactive => {
                "Scanning stopped: Chrome ends a scan when the page is hidden or loses focus, and only your click can start a new one."
            }
            ScanEnd::Browser | ScanEnd::Stopped => "Scanning stopped: the browser ended the scan.",
        };
        let watches = if watching {
            " Watched devices carry on by themselves."
        } else {
            ""
        };
        Some(format!("{why}{watches}"))
    };
    // On the page before the scan ends, so that is announced; its button stays out of the region
    // (components/live).
    view! {
        <p class="scan-ended">
            <LiveRegion kind=Live::Status inline=true>{said}</LiveRegion>
            {move || ended.with(|(reason, _)| reason.is_some()).then(|| view! {
                " "
                <button type="button" on:click=move |_| spawn_local(act(store, Action::StartScan))>
                    "Scan again"
                </button>
            })}
        </p>
    }
}

/// The devices watched, each named as its card names it once it was heard (a Gen3 Shelly's
/// browser name is its MAC), by the browser's name until then. It comes with the device list
/// (the names are the list's), not with the source buttons in the first module.
#[component]
pub fn WatchedList() -> impl IntoView {
    let store = use_store();
    move || {
        let watched = store.status.with(|s| s.watched.clone());
        (!watched.is_empty()).then(|| {
            view! {
                <ul class="watched" aria-label="Watched devices">
                    {watched.into_iter().map(|d| {
                        let id = d.id.clone();
                        let key: Option<DeviceKey> = d.id.as_str().parse().ok();
                        let browser_name = printable(d.name.as_deref().unwrap_or(d.id.as_str())).into_owned();
                        let name = Memo::new(move |_| {
                            key.as_ref()
                                .and_then(|k| store.model(|m| m.device(k).map(|e| e.shown_title(&m.labels))).flatten())
                                .unwrap_or_else(|| browser_name.clone())
                        });
                        view! {
                            <li>
                                {name}
                                " "
                                <button type="button" aria-label=move || format!("Stop watching {}", name.get()) on:click=move |_| spawn_local(act(store, Action::Unwatch(id.clone())))>
                                    "Stop"
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
        })
    }
}

#[component]
fn ImportButton() -> impl IntoView {
    let store = use_store();
    let on_change = move |ev: leptos::ev::Event| {
        let Some(file) = platform::chosen_file(&ev) else {
            return;
        };
        spawn_local(async move {
            match platform::read_text(&file, capture::MAX_FILE_BYTES).await {
                Ok(text) => {
                    let count = store.import_capture(&text);
                    store.notice(format!("Import: {count} advertisements to replay."));
                }
                Err(e) => store.notice(format!("Import: {e}.")),
            }
        });
    };
    view! {
        <label class="button file-button">
            "Import capture…"
            <input type="file" accept=".jsonl,.json,.txt,.ndjson" class="visually-hidden" on:change=on_change />
        </label>
    }
}

#[component]
fn RecordButton() -> impl IntoView {
    let store = use_store();
    let recording = move || store.status.with(|s| s.recording);
    let toggle = move |_| {
        if let Some(text) = store.toggle_recording() {
            platform::download("bluehome-capture.jsonl", "application/x-ndjson", &text);
        }
    };
    view! {
        <button type="button" aria-pressed=move || recording().to_string() on:click=toggle>
            {move || if recording() { "Stop and save recording" } else { "Record" }}
        </button>
    }
}

/// Search beside the view options (sort, threshold, units, clock, filters), and the menu of
/// the rest.
#[component]
pub fn Toolbar() -> impl IntoView {
    let store = use_store();
    view! {
        <section class="toolbar" aria-label="View">
            <label class="search">
                <span class="visually-hidden">"Search devices"</span>
                <input
                    type="search"
                    placeholder="Search name, label, MAC, kind"
                    bind:value=store.search
                />
            </label>
            <MoreMenu />
            <details class="view-options" open=platform::wide_window()>
                <summary>
                    "Sort and filter"
                    {when_filtering(" (filter on)")}
                </summary>
                // The two selects start on the saved choice; only they change it afterwards.
                <div class="view-fields">
                    <label>
                        "Sort "
                        <select on:change=move |ev| {
                            if let Some(key) = SortKey::from_id(&event_target_value(&ev)) {
                                store.update_settings(|s| s.sort = key);
                            }
                        }>
                            {SortKey::ALL.into_iter().map(|k| view! {
                                <option value=k.id() selected=store.settings.with_untracked(|s| s.sort == k)>{k.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Min. signal "
                        <select on:change=move |ev| {
                            let value = event_target_value(&ev).parse::<i8>().ok();
                            store.update_settings(|s| s.rssi_threshold = value);
                        }>
                            <option value="" selected=store.settings.with_untracked(|s| s.rssi_threshold.is_none())>"any"</option>
                            {[-90i8, -80, -70, -60, -50].into_iter().map(|v| view! {
                                <option value=v.to_string() selected=store.settings.with_untracked(|s| s.rssi_threshold == Some(v))>
                                    {format!("{v} dBm")}
                                </option>
                            }).collect_view()}
                        </select>
                    </label>
                    <SettingCheck label=" °F" get=|s| s.fahrenheit set=|s, on| s.fahrenheit = on />
                    <SettingCheck label=" local time" get=|s| s.local_time set=|s, on| s.local_time = on />
                </div>
                <FilterEditor />
            </details>
        </section>
    }
}

/// `note` while filter rules are set (a disclosure's summary says so when it is closed).
fn when_filtering(note: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
    let store = use_store();
    move || {
        store
            .settings
            .with(|s| !s.filter_json.trim().is_empty())
            .then_some(note)
    }
}

/// A checkbox for one on/off view setting.
#[component]
fn SettingCheck(
    /// What the box says.
    label: &'static str,
    /// Reads the setting.
    get: fn(&Settings) -> bool,
    /// Writes the setting.
    set: fn(&mut Settings, bool),
) -> impl IntoView {
    let store = use_store();
    view! {
        <label class="check">
            <input
                type="checkbox"
                prop:checked=move || store.settings.with(get)
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    store.update_settings(|s| set(s, on));
                }
            />
            {label}
        </label>
    }
}

/// Pause, record, import, export and clear: a disclosure menu (a `<details>`, so it opens with
/// Enter or Space and every item is reached by Tab); choosing an item closes it.
#[component]
fn MoreMenu() -> impl IntoView {
    let store = use_store();
    let menu = NodeRef::<leptos::html::Details>::new();
    let close = move || {
        if let Some(menu) = menu.get_untracked() {
            menu.set_open(false);
        }
    };
    let paused = RwSignal::new(false);
    let toggle_pause = move |_| {
        let now = !paused.get_untracked();
        paused.set(now);
        store.set_paused(now);
        close();
    };
    let export_csv = move |_| {
        if let Some(text) = store.model_untracked(export::csv) {
            platform::download("bluehome-readings.csv", "text/csv", &text);
        }
        close();
    };
    let export_json = move |_| {
        let now = store.now_ms();
        if let Some(text) = store.model_untracked(|m| export::json(m, now)) {
            platform::download("bluehome-readings.json", "application/json", &text);
        }
        close();
    };
    view! {
        <details class="menu" node_ref=menu>
            <summary>"More"</summary>
            <div class="menu-items">
                <button type="button" aria-pressed=move || paused.get().to_string() on:click=toggle_pause>
                    {move || if paused.get() { "Resume the list" } else { "Pause the list" }}
                </button>
                <RecordButton />
                <ImportButton />
                <button type="button" on:click=export_csv>"Export CSV"</button>
                <button type="button" on:click=export_json>"Export JSON"</button>
                <button type="button" on:click=move |_| { store.clear(); close(); }>"Clear the list"</button>
            </div>
        </details>
    }
}

/// The id of the filter rules' error, which the rules' field names while it shows.
const FILTER_ERROR_ID: &str = "filter-json-error";

/// The filter set in Shelly's form, as JSON, with its parse error and examples.
#[component]
fn FilterEditor() -> impl IntoView {
    let store = use_store();
    let text = RwSignal::new(store.settings.with_untracked(|s| s.filter_json.clone()));
    // A memo: other settings changing leave the error (and its announcement) alone.
    let error = Memo::new(move |_| {
        store.settings.track();
        store.filters().err()
    });
    let error = move || error.get();
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = text.get_untracked();
        spawn_local(async move { store.apply_filters(value).await });
    };
    let example = |json: &'static str, label: &'static str| {
        view! {
            <button type="button" class="link" on:click=move |_| text.set(json.to_owned())>{label}</button>
        }
    };
    view! {
        <details class="filter-editor">
            <summary>
                "Filter rules (JSON)"
                {when_filtering(" (on)")}
            </summary>
            <form on:submit=apply>
                <label for="filter-json">
                    "A JSON list of Shelly scan filters; a device shows when any filter matches (all conditions of that filter hold). Empty shows everything."
                </label>
                // An error names the field it is about (WCAG 2.2 technique ARIA21).
                <textarea
                    id="filter-json"
                    class="mono"
                    rows="4"
                    spellcheck="false"
                    aria-invalid=move || error().is_some().then_some("true")
                    aria-describedby=move || error().is_some().then_some(FILTER_ERROR_ID)
                    bind:value=text
                ></textarea>
                <p class="examples">
                    "Examples: "
                    {example(r#"[{"name":"SB*"}]"#, "Shelly BLU by name")}
                    " · "
                    {example(r#"[{"serviceData":{"service":"fcd2"}}]"#, "BTHome v2")}
                    " · "
                    {example(r#"[{"manufacturerData":{"companyIdentifier":2985}}]"#, "Shelly manufacturer data")}
                </p>
                <LiveRegion kind=Live::Alert>
                    {move || error().map(|e| view! { <p class="problem" id=FILTER_ERROR_ID>{e}</p> })}
                </LiveRegion>
                <button type="submit">"Apply filters"</button>
            </form>
        </details>
    }
}

/// Button, dimmer and command events, newest first.
#[component]
pub fn Timeline() -> impl IntoView {
    let store = use_store();
    let items = move || {
        let local = store.settings.with(|s| s.local_time);
        store
            .model(|m| {
                m.timeline
                    .iter()
                    .rev()
                    .take(50)
                    .map(|e| {
                        let title = m
                            .device(&e.key)
                            .map_or_else(|| printable(e.key.as_str()).into_owned(), |d| d.shown_title(&m.labels));
                        let offset = if local {
                            crate::platform::local_offset_minutes(e.at_ms)
                        } else {
                            0
                        };
                        let when = crate::state::settings::format_time(e.at_ms, offset);
                        view! {
                            <li>
                                <time>{when}</time>
                                " "
                                <span class="timeline-device">{title}</span>
                                " "
                                <span class="timeline-event">{format!("{} {}", e.label, e.event.replace('_', " "))}</span>
                                " "
                                <span class="timeline-detail">{e.detail.clone()}</span>
                            </li>
                        }
                    })
                    .collect_view()
            })
            .unwrap_or_default()
    };
    view! {
        <section class="timeline" aria-label="Events">
            <h2>"Events"</h2>
            <ol>{items}</ol>
        </section>
    }
}

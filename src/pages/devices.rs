//! The Devices page: Shelly devices over Bluetooth, and the device profiles.

use bluehome_core::shelly::methods::wifi::WifiStatus;
use leptos::prelude::*;

use crate::components::setup::SetupPanel;
use crate::components::shelly::ble::BlePanel;
use crate::components::shelly::connect::ConnectPanel;
use crate::components::shelly::console::RpcConsole;
use crate::components::shelly::gateway::GatewayPanel;
use crate::components::shelly::info::DeviceInfoPanel;
use crate::components::shelly::profiles::ProfileSlots;
use crate::components::shelly::security::SecurityPanel;
use crate::components::shelly::wifi::WifiWizard;
use crate::state::setup::SetupSession;
use crate::state::shelly::{Phase, ShellySession};

/// The tabs of a connected device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Info,
    Wifi,
    Security,
    Bluetooth,
    Gateway,
    Console,
}

impl Tab {
    const ALL: [Tab; 6] = [
        Tab::Info,
        Tab::Wifi,
        Tab::Security,
        Tab::Bluetooth,
        Tab::Gateway,
        Tab::Console,
    ];

    /// The tab's element id (its panel names it).
    fn id(self) -> &'static str {
        match self {
            Tab::Info => "tab-device",
            Tab::Wifi => "tab-wifi",
            Tab::Security => "tab-security",
            Tab::Bluetooth => "tab-bluetooth",
            Tab::Gateway => "tab-gateway",
            Tab::Console => "tab-console",
        }
    }

    /// The tab a key moves to from this one, as the WAI-ARIA Authoring Practices' "Tabs" pattern
    /// has it (arrows wrap around; Home and End go to the ends); `None` for other keys.
    fn after_key(self, key: &str) -> Option<Tab> {
        let at = Tab::ALL.iter().position(|&t| t == self)?;
        let last = Tab::ALL.len() - 1;
        let to = match key {
            "ArrowRight" => {
                if at == last {
                    0
                } else {
                    at + 1
                }
            }
            "ArrowLeft" => {
                if at == 0 {
                    last
                } else {
                    at - 1
                }
            }
            "Home" => 0,
            "End" => last,
            _ => return None,
        };
        Tab::ALL.get(to).copied()
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Info => "Device",
            Tab::Wifi => "Wi-Fi",
            Tab::Security => "Password & name",
            Tab::Bluetooth => "Bluetooth",
            Tab::Gateway => "BTHome gateway",
            Tab::Console => "Console",
        }
    }
}

/// The guided set-up of a Shelly device, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Guide {
    Connect,
    Wifi,
    Password,
    Done,
}

impl Guide {
    const ALL: [Guide; 4] = [Guide::Connect, Guide::Wifi, Guide::Password, Guide::Done];

    /// The first step not yet done: connected, on Wi-Fi (it has an address), with a password.
    fn current(connected: bool, on_wifi: bool, password: bool) -> Self {
        match (connected, on_wifi, password) {
            (false, _, _) => Guide::Connect,
            (true, false, _) => Guide::Wifi,
            (true, true, false) => Guide::Password,
            (true, true, true) => Guide::Done,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Guide::Connect => "Connect",
            Guide::Wifi => "Wi-Fi",
            Guide::Password => "Password",
            Guide::Done => "Done",
        }
    }

    /// The tab where this step is done.
    fn tab(self) -> Tab {
        match self {
            Guide::Connect | Guide::Done => Tab::Info,
            Guide::Wifi => Tab::Wifi,
            Guide::Password => Tab::Security,
        }
    }
}

/// The steps of the guided set-up: the current one marked (`aria-current="step"`), those done
/// ticked; once connected, each opens its tab.
#[component]
fn GuideSteps(session: ShellySession, tab: RwSignal<Tab>) -> impl IntoView {
    let connected = move || session.phase.get() == Phase::Connected;
    let current = Memo::new(move |_| {
        let on_wifi = session.status.with(|s| {
            s.as_ref()
                .and_then(|s| s.get::<WifiStatus>("wifi")?.sta_ip)
                .is_some()
        });
        let password = session
            .device
            .with(|d| d.as_ref().is_some_and(|d| d.info.auth_en));
        Guide::current(connected(), on_wifi, password)
    });
    view! {
        <ol class="guide" aria-label="Set-up steps">
            {Guide::ALL.into_iter().enumerate().map(|(i, step)| {
                let state = move || {
                    let now = current.get();
                    if step == now { "current" } else if step < now { "done" } else { "todo" }
                };
                view! {
                    <li class=state aria-current=move || (current.get() == step).then_some("step")>
                        <button
                            type="button"
                            disabled=move || !connected()
                            aria-pressed=move || (connected() && tab.get() == step.tab()).to_string()
                            on:click=move |_| tab.set(step.tab())
                        >
                            <span class="guide-number" aria-hidden="true">
                                {move || if state() == "done" { "✓".to_owned() } else { (i + 1).to_string() }}
                            </span>
                            " "
                            {step.label()}
                            <span class="visually-hidden">{move || match state() {
                                "done" => " (done)",
                                "current" => " (next)",
                                _ => "",
                            }}</span>
                        </button>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// Set up a device over Bluetooth ("Set up a device" routes Shelly, Shelly BLU and Improv devices);
/// a connected Shelly device's tabs; device profiles.
#[component]
pub fn DevicesPage() -> impl IntoView {
    crate::platform::set_title("Devices");
    let session = ShellySession::from_context();
    let setup = SetupSession::from_context();
    let tab = RwSignal::new(Tab::Info);
    on_cleanup(move || session.flush_profiles());
    view! {
        <section class="page devices-page">
            <h1>"Devices"</h1>
            <p class="lead">"Set up a device over Bluetooth: a Shelly device's Wi-Fi, password, pairing and BTHome devices; a Shelly BLU sensor's encryption and settings; an Improv device's Wi-Fi. Shelly devices you connect are kept in profiles."</p>
            // The guide is a Shelly device's (Wi-Fi, then a password): not shown while a Shelly BLU
            // sensor or an Improv device is being set up.
            <Show when=move || setup.is_none_or(|s| s.flow.get().is_none())>
                <GuideSteps session=session tab=tab />
            </Show>
            {setup.map(|setup| view! { <SetupPanel session=setup /> })}
            <ProfileSlots />
            <ConnectPanel />
            <Show when=move || session.phase.get() == Phase::Connected>
                // One Tab stop for the tabs; arrows, Home and End move between them.
                <div class="tabs" role="tablist" aria-label="Device sections"
                    on:keydown=move |ev| {
                        if let Some(next) = tab.get_untracked().after_key(&ev.key()) {
                            ev.prevent_default();
                            tab.set(next);
                            if let Some(button) = document()
                                .get_element_by_id(next.id())
                                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
                            {
                                let _ = button.focus();
                            }
                        }
                    }>
                    {Tab::ALL.into_iter().map(|t| view! {
                        <button role="tab" class="tab" id=t.id() aria-controls="device-tab-panel"
                            aria-selected=move || (tab.get() == t).to_string()
                            tabindex=move || if tab.get() == t { "0" } else { "-1" }
                            on:click=move |_| tab.set(t)>{t.label()}</button>
                    }).collect_view()}
                </div>
                <div class="tab-panel" role="tabpanel" id="device-tab-panel" tabindex="0"
                    aria-labelledby=move || tab.get().id()>
                    {move || match tab.get() {
                        Tab::Info => view! { <DeviceInfoPanel /> }.into_any(),
                        Tab::Wifi => view! { <WifiWizard /> }.into_any(),
                        Tab::Security => view! { <SecurityPanel /> }.into_any(),
                        Tab::Bluetooth => view! { <BlePanel /> }.into_any(),
                        Tab::Gateway => view! { <GatewayPanel /> }.into_any(),
                        Tab::Console => view! { <RpcConsole /> }.into_any(),
                    }}
                </div>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_home_and_end_move_between_the_tabs() {
        assert_eq!(Tab::Info.after_key("ArrowRight"), Some(Tab::Wifi));
        assert_eq!(
            Tab::Info.after_key("ArrowLeft"),
            Some(Tab::Console),
            "wraps"
        );
        assert_eq!(
            Tab::Console.after_key("ArrowRight"),
            Some(Tab::Info),
            "wraps"
        );
        assert_eq!(Tab::Gateway.after_key("Home"), Some(Tab::Info));
        assert_eq!(Tab::Wifi.after_key("End"), Some(Tab::Console));
        assert_eq!(Tab::Wifi.after_key("Enter"), None);
    }

    #[test]
    fn the_guide_stands_at_the_first_step_not_done() {
        assert_eq!(Guide::current(false, true, true), Guide::Connect);
        assert_eq!(Guide::current(true, false, true), Guide::Wifi);
        assert_eq!(Guide::current(true, true, false), Guide::Password);
        assert_eq!(Guide::current(true, true, true), Guide::Done);
    }
}

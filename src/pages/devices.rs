//! The Devices page: Shelly devices over Bluetooth, and the device profiles.

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

/// Set up a device over Bluetooth ("Set up a device" routes Shelly, Shelly BLU and Improv devices);
/// a connected Shelly device's tabs; device profiles.
#[component]
pub fn DevicesPage() -> impl IntoView {
    let session = ShellySession::from_context();
    let setup = SetupSession::from_context();
    let tab = RwSignal::new(Tab::Info);
    on_cleanup(move || session.flush_profiles());
    view! {
        <section class="page devices-page">
            <h1>"Devices"</h1>
            <p class="lead">"Set up a device over Bluetooth: a Shelly device's Wi-Fi, password, pairing and BTHome devices; a Shelly BLU sensor's encryption and settings; an Improv device's Wi-Fi. Shelly devices you connect are kept in profiles."</p>
            {setup.map(|setup| view! { <SetupPanel session=setup /> })}
            <ProfileSlots session=session />
            <ConnectPanel session=session />
            <Show when=move || session.phase.get() == Phase::Connected>
                <nav class="tabs" role="tablist" aria-label="Device sections">
                    {Tab::ALL.into_iter().map(|t| view! {
                        <button role="tab" class="tab" aria-selected=move || (tab.get() == t).to_string()
                            on:click=move |_| tab.set(t)>{t.label()}</button>
                    }).collect_view()}
                </nav>
                <div class="tab-panel" role="tabpanel">
                    {move || match tab.get() {
                        Tab::Info => view! { <DeviceInfoPanel session=session /> }.into_any(),
                        Tab::Wifi => view! { <WifiWizard session=session /> }.into_any(),
                        Tab::Security => view! { <SecurityPanel session=session /> }.into_any(),
                        Tab::Bluetooth => view! { <BlePanel session=session /> }.into_any(),
                        Tab::Gateway => view! { <GatewayPanel session=session /> }.into_any(),
                        Tab::Console => view! { <RpcConsole session=session /> }.into_any(),
                    }}
                </div>
            </Show>
        </section>
    }
}

//! The Wi-Fi provisioning wizard: scan, pick or type the network, password, apply, wait for
//! the device's IP address.

use bluehome_core::text::printable;
use leptos::prelude::*;
use serde_json::{Value, json};

use super::{TextField, web_ui_url};
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::{Failure, FailureKind};
use crate::state::shelly::link::sleep_ms;

/// One network from `WiFi.Scan`.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// The SSID (`None` for a hidden network).
    pub ssid: Option<String>,
    /// Signal in dBm.
    pub rssi: i64,
    /// Security (the `auth` enum of WiFi.Scan).
    pub auth: u64,
    /// The channel.
    pub channel: Option<u64>,
}

/// The security name of WiFi.Scan's `auth` value (Shelly API docs, WiFi component).
pub fn security_label(auth: u64) -> &'static str {
    match auth {
        0 => "open",
        1 => "WEP",
        2 => "WPA-PSK",
        3 => "WPA2-PSK",
        4 => "WPA/WPA2-PSK",
        5 => "WPA2-Enterprise",
        _ => "unknown",
    }
}

/// Reads `WiFi.Scan`'s results, strongest first.
pub fn networks(result: &Value) -> Vec<Network> {
    let mut list: Vec<Network> = result
        .get("results")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|n| Network {
                    ssid: n.get("ssid").and_then(Value::as_str).map(str::to_owned),
                    rssi: n.get("rssi").and_then(Value::as_i64).unwrap_or(-100),
                    auth: n.get("auth").and_then(Value::as_u64).unwrap_or(99),
                    channel: n.get("channel").and_then(Value::as_u64),
                })
                .collect()
        })
        .unwrap_or_default();
    list.sort_by_key(|n| std::cmp::Reverse(n.rssi));
    list
}

/// Signal bars for an RSSI.
fn bars(rssi: i64) -> &'static str {
    match rssi {
        r if r >= -55 => "▂▄▆█",
        r if r >= -67 => "▂▄▆",
        r if r >= -78 => "▂▄",
        _ => "▂",
    }
}

/// Whether the link is still in the pairing-free set-up window (not encrypted).
fn in_setup_window(provisioning: Option<&str>) -> bool {
    !matches!(provisioning, Some("complete" | "locked"))
}

/// What one `WiFi.GetStatus` says about joining.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joining {
    /// Connected with this address.
    Joined(String),
    /// Still trying.
    Trying,
    /// Not connected and not trying.
    Idle,
}

/// Reads a `WiFi.GetStatus` result.
pub fn joining(status: &Value) -> Joining {
    let ip = status
        .get("sta_ip")
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty());
    match (status.get("status").and_then(Value::as_str), ip) {
        (Some("got ip"), Some(ip)) => Joining::Joined(ip.to_owned()),
        (Some("disconnected") | None, _) => Joining::Idle,
        _ => Joining::Trying,
    }
}

/// Polls `WiFi.GetStatus` every second until the device has an address (at most 45 s). Once it
/// has been seen trying, falling back to "disconnected" twice in a row means it gave up.
async fn wait_for_ip(s: ShellySession, ssid: &str) -> Result<Value, Failure> {
    let (mut tried, mut idle) = (false, 0);
    for _ in 0..45 {
        let status = s.call("WiFi.GetStatus", None).await?;
        match joining(&status) {
            Joining::Joined(_) => return Ok(status),
            Joining::Trying => (tried, idle) = (true, 0),
            Joining::Idle => idle += 1,
        }
        if (tried && idle >= 2) || idle >= 10 {
            return Err(Failure::new(
                FailureKind::WifiJoinFailed,
                "joining Wi-Fi",
                format!("the device reports \"disconnected\" after trying to join {ssid}"),
            ));
        }
        sleep_ms(1_000).await;
    }
    Err(Failure::new(
        FailureKind::Timeout,
        "joining Wi-Fi",
        format!("no address from {ssid} after 45 s"),
    ))
}

/// The wizard.
#[component]
pub fn WifiWizard(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let found = RwSignal::new(Vec::<Network>::new());
    let ssid = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let provisioning = RwSignal::new(None::<String>);
    let ip = RwSignal::new(None::<String>);
    let acknowledged = RwSignal::new(false);

    let scan = move |_| {
        session.run("Wi-Fi scan", move |s| async move {
            s.step("Reading the set-up state (BLE.GetStatus)");
            if let Ok(status) = s.call("BLE.GetStatus", None).await {
                provisioning.set(
                    status
                        .get("provisioning")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                );
            }
            s.step("Scanning for Wi-Fi networks (WiFi.Scan, up to 30 s)");
            let result = s.call("WiFi.Scan", None).await?;
            found.set(networks(&result));
            s.step_done();
            Ok(())
        });
    };
    let apply = move |_| {
        let chosen = ssid.get_untracked();
        let pass = password.get_untracked();
        if chosen.trim().is_empty() {
            session.failure.set(Some(Failure::new(
                FailureKind::Refused,
                "Wi-Fi set-up",
                "choose or type a network name first",
            )));
            return;
        }
        if let Some(link) = session.link() {
            link.add_secret(&pass);
        }
        password.set(String::new());
        session.run("Wi-Fi set-up", move |s| {
            let chosen = chosen.clone();
            let pass = pass.clone();
            async move {
                s.step(format!(
                    "Sending the Wi-Fi settings for {chosen} (WiFi.SetConfig)"
                ));
                let mut sta = json!({"ssid": chosen, "enable": true});
                if pass.is_empty() {
                    sta["is_open"] = json!(true);
                } else {
                    sta["pass"] = json!(pass);
                }
                s.call("WiFi.SetConfig", Some(json!({"config": {"sta": sta}})))
                    .await?;
                s.step("Waiting for the device to join the network (WiFi.GetStatus)");
                let status = wait_for_ip(s, &chosen).await?;
                ip.set(
                    status
                        .get("sta_ip")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                );
                s.step_done();
                if let Ok(st) = s.call("Shelly.GetStatus", None).await {
                    s.status.set(Some(st));
                }
                Ok(())
            }
        });
    };

    view! {
        <section class="shelly-wifi" aria-label="Wi-Fi set-up">
            <h2>"Wi-Fi"</h2>
            <button on:click=scan disabled=move || session.busy.get().is_some()>"Scan for networks"</button>
            <ul class="networks">
                {move || found.get().into_iter().map(|n| {
                    let name = n.ssid.as_deref().map_or_else(|| "(hidden network)".into(), |s| printable(s).into_owned());
                    let pick = n.ssid.clone().unwrap_or_default();
                    let label = format!("{name} — {} {} dBm, {}{}", bars(n.rssi), n.rssi, security_label(n.auth),
                        n.channel.map(|c| format!(", channel {c}")).unwrap_or_default());
                    view! {
                        <li><button class="network" on:click=move |_| ssid.set(pick.clone())>{label}</button></li>
                    }
                }).collect_view()}
            </ul>
            <TextField label="Network name (SSID)" value=ssid />
            <TextField label="Wi-Fi password" value=password kind="password" />
            {move || in_setup_window(provisioning.get().as_deref()).then(|| view! {
                <div class="notice warning" role="note">
                    <strong>"This Bluetooth link is not encrypted."</strong>
                    " The device is in its pairing-free set-up window, so the Wi-Fi password travels in the clear over Bluetooth. Anyone nearby with a radio could read it. Continue only if that is acceptable."
                    <label class="check">
                        <input type="checkbox" prop:checked=move || acknowledged.get()
                            on:change=move |ev| acknowledged.set(event_target_checked(&ev)) />
                        " I understand, send it"
                    </label>
                </div>
            })}
            <button class="primary"
                disabled=move || session.busy.get().is_some()
                    || (in_setup_window(provisioning.get().as_deref()) && !acknowledged.get())
                on:click=apply>"Apply"</button>
            {move || ip.get().map(|ip| view! {
                <p class="notice success" role="status">
                    {format!("Connected to Wi-Fi with address {ip}. ")}
                    {web_ui_url(&ip).map(|url| view! {
                        <a href=url target="_blank" rel="noopener noreferrer">"Open its web UI"</a>
                    })}
                </p>
            })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_come_strongest_first_with_security_names() {
        let list = networks(&json!({"results": [
            {"ssid": "far", "rssi": -80, "auth": 3, "channel": 1},
            {"ssid": null, "rssi": -40, "auth": 0},
            {"ssid": "near", "rssi": -50, "auth": 4}]}));
        assert_eq!(
            list.iter().map(|n| n.rssi).collect::<Vec<_>>(),
            [-40, -50, -80]
        );
        assert_eq!(security_label(list[1].auth), "WPA/WPA2-PSK");
        assert_eq!(list[0].ssid, None);
    }

    #[test]
    fn join_states_are_read_from_wifi_get_status() {
        assert_eq!(
            joining(&json!({"status": "got ip", "sta_ip": "192.168.1.42"})),
            Joining::Joined("192.168.1.42".into())
        );
        assert_eq!(
            joining(&json!({"status": "connecting", "sta_ip": null})),
            Joining::Trying
        );
        assert_eq!(
            joining(&json!({"status": "disconnected", "sta_ip": null})),
            Joining::Idle
        );
    }

    #[test]
    fn only_complete_and_locked_are_outside_the_setup_window() {
        assert!(in_setup_window(Some("pending")));
        assert!(in_setup_window(None));
        assert!(!in_setup_window(Some("complete")));
    }
}

//! The Wi-Fi provisioning wizard: scan, pick or type the network, password, apply (restarting the
//! device when it asks for that), wait for the device's IP address.

use bluehome_core::shelly::methods::shelly;
use bluehome_core::shelly::methods::wifi::{self, WifiStatus};
use bluehome_core::text::printable;
use leptos::prelude::*;
use serde_json::Value;

use super::{TextField, web_ui_url};
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::{Failure, FailureKind};
use crate::state::shelly::link::{now_ms, sleep_ms};

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

/// How long the device may take to join a network.
pub const JOIN_TIMEOUT_MS: u64 = 45_000;

/// A station that reports `disconnected` this long without a pause has stopped trying (between
/// its own attempts an ESP32 falls back to `disconnected` for a second or two).
pub const GIVE_UP_AFTER_MS: u64 = 8_000;

/// What the polls of `WiFi.GetStatus` say so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joining {
    /// Connected with this address.
    Joined(String),
    /// Still trying (perhaps between attempts).
    Trying,
    /// `disconnected` for [`GIVE_UP_AFTER_MS`] without a pause.
    GaveUp,
    /// No address after [`JOIN_TIMEOUT_MS`].
    TimedOut,
}

/// Follows a station joining Wi-Fi through `WiFi.GetStatus` polls. Real devices swing between
/// `connecting` and `disconnected` while they retry (shelly_rpc_ble.md §8), so only the deadline
/// or a long unbroken `disconnected` ends the wait.
#[derive(Debug, Clone)]
pub struct JoinWatch {
    started_ms: u64,
    disconnected_since: Option<u64>,
}

impl JoinWatch {
    /// A join that started at `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self {
            started_ms: now_ms,
            disconnected_since: None,
        }
    }

    /// Takes one `WiFi.GetStatus` answer, read at `now_ms`.
    pub fn observe(&mut self, status: &WifiStatus, now_ms: u64) -> Joining {
        let ip = status.sta_ip.as_deref().filter(|ip| !ip.is_empty());
        if let (Some(ip), "got ip") = (ip, status.status.as_str()) {
            return Joining::Joined(ip.to_owned());
        }
        if status.status == "disconnected" {
            let since = *self.disconnected_since.get_or_insert(now_ms);
            if now_ms.saturating_sub(since) >= GIVE_UP_AFTER_MS {
                return Joining::GaveUp;
            }
        } else {
            self.disconnected_since = None;
        }
        if now_ms.saturating_sub(self.started_ms) >= JOIN_TIMEOUT_MS {
            Joining::TimedOut
        } else {
            Joining::Trying
        }
    }
}

/// Polls `WiFi.GetStatus` every second until the device has an address, gives up, or the time is
/// over.
async fn wait_for_ip(s: ShellySession, ssid: &str) -> Result<WifiStatus, Failure> {
    let mut watch = JoinWatch::new(now_ms());
    loop {
        let status = s.call_method::<wifi::GetStatus>(&()).await?;
        match watch.observe(&status, now_ms()) {
            Joining::Joined(_) => return Ok(status),
            Joining::Trying => {}
            Joining::GaveUp => {
                return Err(Failure::new(
                    FailureKind::WifiJoinFailed,
                    "joining Wi-Fi",
                    format!(
                        "the device has reported \"disconnected\" for {} s while joining {ssid}",
                        GIVE_UP_AFTER_MS / 1000
                    ),
                ));
            }
            Joining::TimedOut => {
                return Err(Failure::new(
                    FailureKind::Timeout,
                    "joining Wi-Fi",
                    format!("no address from {ssid} after {} s", JOIN_TIMEOUT_MS / 1000),
                ));
            }
        }
        sleep_ms(1_000).await;
    }
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
    // From the session, not this panel: a restart remounts the panel while the action runs.
    let ip = move || {
        session.status.with(|st| {
            st.as_ref()
                .and_then(|st| st.get("wifi")?.get("sta_ip")?.as_str())
                .filter(|ip| !ip.is_empty())
                .map(str::to_owned)
        })
    };
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
                let params =
                    wifi::SetConfigParams::join(&chosen, (!pass.is_empty()).then_some(&*pass));
                let answer = s.call_method::<wifi::SetConfig>(&params).await?;
                if answer.restart_required {
                    s.step("The device restarts to use them (Shelly.Reboot), then reconnects");
                    s.restart_and_reconnect().await?;
                }
                s.step("Waiting for the device to join the network (WiFi.GetStatus)");
                let status = wait_for_ip(s, &chosen).await?;
                s.status.update(|st| {
                    if let Some(map) = st.as_mut().and_then(Value::as_object_mut) {
                        map.insert(
                            "wifi".into(),
                            serde_json::to_value(&status).unwrap_or_default(),
                        );
                    }
                });
                s.step_done();
                if let Ok(st) = s.call_method::<shelly::GetStatus>(&()).await {
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
            {move || ip().map(|ip| view! {
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
    use serde_json::json;

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

    fn status(text: &str) -> WifiStatus {
        WifiStatus {
            status: text.into(),
            ..WifiStatus::default()
        }
    }

    #[test]
    fn join_states_are_read_from_wifi_get_status() {
        let mut watch = JoinWatch::new(0);
        let joined = WifiStatus {
            sta_ip: Some("192.168.1.42".into()),
            status: "got ip".into(),
            ..WifiStatus::default()
        };
        assert_eq!(
            watch.observe(&joined, 500),
            Joining::Joined("192.168.1.42".into())
        );
        assert_eq!(watch.observe(&status("connecting"), 600), Joining::Trying);
        assert_eq!(watch.observe(&status("disconnected"), 700), Joining::Trying);
    }

    /// A real station retrying: `connecting` and `disconnected` in turn, the pauses up to a few
    /// seconds (one poll a second), then `got ip` after 20 s. The wait must ride it out.
    #[test]
    fn a_station_swinging_while_it_retries_is_still_joining() {
        let mut watch = JoinWatch::new(0);
        let swing = |t: u64| {
            if t % 5 < 2 {
                "connecting"
            } else {
                "disconnected"
            }
        };
        for t in 0..20 {
            assert_eq!(
                watch.observe(&status(swing(t)), t * 1_000),
                Joining::Trying,
                "second {t}"
            );
        }
    }

    /// A long unbroken `disconnected` ends the wait early; the deadline ends it in any case.
    #[test]
    fn a_station_that_stopped_trying_or_never_joins_fails() {
        let mut watch = JoinWatch::new(0);
        assert_eq!(watch.observe(&status("connecting"), 0), Joining::Trying);
        for t in 1..=8 {
            assert_eq!(
                watch.observe(&status("disconnected"), t * 1_000),
                Joining::Trying
            );
        }
        assert_eq!(
            watch.observe(&status("disconnected"), 9_000),
            Joining::GaveUp
        );
        let mut watch = JoinWatch::new(0);
        assert_eq!(
            watch.observe(&status("connecting"), JOIN_TIMEOUT_MS),
            Joining::TimedOut
        );
    }

    #[test]
    fn only_complete_and_locked_are_outside_the_setup_window() {
        assert!(in_setup_window(Some("pending")));
        assert!(in_setup_window(None));
        assert!(!in_setup_window(Some("complete")));
    }
}

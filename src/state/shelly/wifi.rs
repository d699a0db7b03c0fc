//! Wi-Fi provisioning: scan, send the network's settings (restarting the device when it asks
//! for that), and follow the station until it has an address.

use crate::state::actions::{RunsActions as _, action};
use bluehome_core::shelly::methods::ble::Provisioning;
use bluehome_core::shelly::methods::shelly;
use bluehome_core::shelly::methods::wifi::{self, ScanResult, WifiStatus};
use bluehome_core::wifi::{Security, check_password, check_ssid};
use leptos::prelude::*;

use super::ShellySession;
use super::explain::{Failure, FailureKind, FormField};
use crate::platform::{monotonic_ms, sleep_ms};

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
/// `connecting` and `disconnected` while they retry (the WiFi document lists the states; seen
/// on real ESP32-based Shellys), so only the deadline or a long unbroken `disconnected` ends the
/// wait. An address counts only on the network asked for: a device moved from one network to
/// another may still report the old one for a moment.
#[derive(Debug, Clone)]
pub struct JoinWatch {
    ssid: String,
    started_ms: u64,
    disconnected_since: Option<u64>,
}

impl JoinWatch {
    /// A join of `ssid` that started at `now_ms`.
    pub fn new(ssid: &str, now_ms: u64) -> Self {
        Self {
            ssid: ssid.to_owned(),
            started_ms: now_ms,
            disconnected_since: None,
        }
    }

    /// Takes one `WiFi.GetStatus` answer, read at `now_ms`.
    pub fn observe(&mut self, status: &WifiStatus, now_ms: u64) -> Joining {
        let ip = status.sta_ip.as_deref().filter(|ip| !ip.is_empty());
        // The WiFi document names the network in `ssid`; a status without one is taken at its word.
        let on_it = status.ssid.as_ref().is_none_or(|ssid| *ssid == self.ssid);
        if let (Some(ip), "got ip", true) = (ip, status.status.as_str(), on_it) {
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

/// Whether the link is still in the pairing-free set-up window (not encrypted): the device says
/// it is `pending` or `confirmed`, or does not say.
pub fn in_setup_window(provisioning: Option<Provisioning>) -> bool {
    !provisioning.is_some_and(Provisioning::pairing_required)
}

/// `WiFi.Scan`'s networks, strongest first (those without a signal figure last).
pub fn strongest_first(mut networks: Vec<ScanResult>) -> Vec<ScanResult> {
    networks.sort_by_key(|n| std::cmp::Reverse(n.rssi.unwrap_or(i32::MIN)));
    networks
}

/// Polls `WiFi.GetStatus` every second until the device has an address, gives up, or the time is
/// over.
async fn wait_for_ip(s: ShellySession, ssid: &str) -> Result<WifiStatus, Failure> {
    let mut watch = JoinWatch::new(ssid, monotonic_ms());
    loop {
        let status = s.call::<wifi::GetStatus>(&()).await?;
        match watch.observe(&status, monotonic_ms()) {
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

/// The network named `ssid` in a scan's `networks`.
fn scanned<'a>(networks: &'a [ScanResult], ssid: &str) -> Option<&'a ScanResult> {
    networks.iter().find(|n| n.ssid.as_deref() == Some(ssid))
}

/// What the password field says of network `ssid` among the scanned `networks`: what its
/// security takes (the rules `apply` checks), or nothing for a network the scan did not list or
/// listed without its security.
pub fn password_hint(networks: &[ScanResult], ssid: &str) -> Option<String> {
    let network = scanned(networks, ssid)?;
    let listed = network.security().unwrap_or("secured");
    let security = network.security_kind();
    match (security, security.password_rule()) {
        (Security::Open, _) => Some("Not needed: the scan lists this network as open.".to_owned()),
        (Security::Unknown, _) => None,
        (_, Some(rule)) => Some(format!("Needed ({listed}): {rule}.")),
        (_, None) => Some(format!("Needed: the scan lists this network as {listed}.")),
    }
}

/// What the Wi-Fi wizard found (the networks of the last scan and the set-up state) and what was
/// typed into it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WifiSetup {
    /// The networks, strongest first.
    pub found: RwSignal<Vec<ScanResult>>,
    /// The provisioning state, when the device reports it.
    pub provisioning: RwSignal<Option<Provisioning>>,
    /// The network name typed or picked.
    pub ssid: RwSignal<String>,
    /// The password typed, until it is sent.
    pub password: RwSignal<String>,
    /// Whether sending the password over an unencrypted link was accepted.
    pub acknowledged: RwSignal<bool>,
}

impl WifiSetup {
    /// Forgets what was read and typed (another device connected).
    pub(super) fn clear(self) {
        self.found.set(Vec::new());
        self.provisioning.set(None);
        self.ssid.set(String::new());
        self.password.set(String::new());
        self.acknowledged.set(false);
    }

    /// Reads the set-up state and scans for networks.
    pub fn scan(self, session: ShellySession) {
        session.run("Wi-Fi scan", move |s| async move {
            // Real firmware (1.7, 2.0) reports it as `provision` in the device info; older
            // firmware reports it nowhere.
            s.step("Reading the set-up state (Shelly.GetDeviceInfo)");
            let state = s
                .call::<shelly::GetDeviceInfo>(&Default::default())
                .await
                .ok()
                .and_then(|info| info.provisioning());
            self.provisioning.try_set(state);
            s.step("Scanning for Wi-Fi networks (WiFi.Scan, up to 30 s)");
            let result = s.call::<wifi::Scan>(&()).await?;
            self.found.try_set(strongest_first(result.results));
            s.step_done();
            Ok(())
        });
    }

    /// Sends network `ssid` with `password` (empty: an open network), restarts the device if it
    /// asks for that, and waits for its address (kept in the session's status). A name or a
    /// password its network cannot take (by the scan's security, `bluehome_core::wifi`) is
    /// refused on its field and nothing is sent; returns whether it was sent.
    pub fn apply(self, session: ShellySession, ssid: String, password: String) -> bool {
        let refused = |detail: String, field| {
            session.refuse(Failure::refusing(field, "Wi-Fi set-up", detail));
            false
        };
        if ssid.trim().is_empty() {
            return refused(
                "choose or type a network name first".to_owned(),
                FormField::WifiNetwork,
            );
        }
        if let Err(e) = check_ssid(ssid.as_bytes()) {
            return refused(format!("the network name: {e}"), FormField::WifiNetwork);
        }
        let security = self.found.with_untracked(|found| {
            scanned(found, &ssid).map_or(Security::Unknown, ScanResult::security_kind)
        });
        if let Err(e) = check_password(password.as_bytes(), security) {
            return refused(format!("the password: {e}"), FormField::WifiPassword);
        }
        if let Some(link) = session.link() {
            link.add_secret(&password);
        }
        session.run("Wi-Fi set-up", move |s| {
            let (ssid, password) = (ssid.clone(), password.clone());
            async move {
                s.step(format!(
                    "Sending the Wi-Fi settings for {ssid} (WiFi.SetConfig)"
                ));
                let pass = (!password.is_empty()).then_some(password.as_str());
                let params = wifi::SetConfigParams::join(&ssid, pass);
                let answer = s.call::<wifi::SetConfig>(&params).await?;
                let join = action(move |s| {
                    let ssid = ssid.clone();
                    async move { follow_join(s, &ssid).await }
                });
                if answer.restart_required {
                    s.step("The device restarts to use them (Shelly.Reboot), then reconnects");
                    s.restart_and_reconnect(Some(join)).await
                } else {
                    join(s).await
                }
            }
        });
        true
    }
}

/// Waits for the device to join `ssid` and shows its address in the session's status.
async fn follow_join(s: ShellySession, ssid: &str) -> Result<(), Failure> {
    s.step("Waiting for the device to join the network (WiFi.GetStatus)");
    let status = wait_for_ip(s, ssid).await?;
    s.status.update(|st| {
        if let Some(components) = st {
            components.insert("wifi", &status);
        }
    });
    s.step_done();
    if let Ok(st) = s.call::<shelly::GetStatus>(&()).await {
        s.status.set(Some(st));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(ssid: Option<&str>, rssi: Option<i32>, auth: u8) -> ScanResult {
        ScanResult {
            ssid: ssid.map(Into::into),
            bssid: String::new(),
            auth: Some(auth),
            channel: None,
            rssi,
        }
    }

    #[test]
    fn networks_come_strongest_first_with_security_names() {
        let list = strongest_first(vec![
            net(Some("far"), Some(-80), 3),
            net(None, Some(-40), 0),
            net(Some("quiet"), None, 3),
            net(Some("near"), Some(-50), 4),
        ]);
        let rssi: Vec<Option<i32>> = list.iter().map(|n| n.rssi).collect();
        assert_eq!(rssi, [Some(-40), Some(-50), Some(-80), None]);
        assert_eq!(list[1].security(), Some("WPA/WPA2-PSK"));
        assert_eq!(list[0].ssid, None);
    }

    fn status(text: &str) -> WifiStatus {
        WifiStatus {
            status: text.into(),
            ..WifiStatus::default()
        }
    }

    #[test]
    fn the_password_hint_gives_the_scanned_security_s_rule() {
        let found = [
            net(Some("Home"), None, 3),
            net(Some("Cafe"), None, 0),
            net(Some("Old"), None, 1),
            net(Some("Office"), None, 5),
            ScanResult {
                auth: None,
                ..net(Some("Unlisted"), None, 0)
            },
        ];
        let hint = |ssid| password_hint(&found, ssid);
        assert_eq!(
            hint("Home").as_deref(),
            Some("Needed (WPA2-PSK): 8 to 63 characters, or the key as 64 hex digits.")
        );
        assert_eq!(
            hint("Cafe").as_deref(),
            Some("Not needed: the scan lists this network as open.")
        );
        assert!(hint("Old").is_some_and(|h| h.contains("5 or 13 characters")));
        assert_eq!(
            hint("Office").as_deref(),
            Some("Needed: the scan lists this network as WPA2-Enterprise.")
        );
        assert_eq!(hint("Hidden"), None);
        assert_eq!(
            hint("Unlisted"),
            None,
            "a network listed without its security"
        );
    }

    #[test]
    fn join_states_are_read_from_wifi_get_status() {
        let mut watch = JoinWatch::new("HomeNet", 0);
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

    /// A device moved from `Guest` to `HomeNet` that still reports its address on `Guest` has
    /// not joined yet.
    #[test]
    fn an_address_on_another_network_is_not_the_join() {
        let mut watch = JoinWatch::new("HomeNet", 0);
        let on = |ssid: &str| WifiStatus {
            sta_ip: Some("192.168.1.42".into()),
            status: "got ip".into(),
            ssid: Some(ssid.into()),
            ..WifiStatus::default()
        };
        assert_eq!(watch.observe(&on("Guest"), 500), Joining::Trying);
        assert_eq!(
            watch.observe(&on("HomeNet"), 1_500),
            Joining::Joined("192.168.1.42".into())
        );
    }

    /// A real station retrying: `connecting` and `disconnected` in turn, the pauses up to a few
    /// seconds (one poll a second), then `got ip` after 20 s. The wait must ride it out.
    #[test]
    fn a_station_swinging_while_it_retries_is_still_joining() {
        let mut watch = JoinWatch::new("HomeNet", 0);
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
        let mut watch = JoinWatch::new("HomeNet", 0);
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
        let mut watch = JoinWatch::new("HomeNet", 0);
        assert_eq!(
            watch.observe(&status("connecting"), JOIN_TIMEOUT_MS),
            Joining::TimedOut
        );
    }

    /// Every state the BLE component document names: the link is unencrypted (the set-up window)
    /// in `pending` and `confirmed`, and when the device does not say; `complete` and `locked`
    /// require pairing.
    #[test]
    fn only_complete_and_locked_are_outside_the_setup_window() {
        assert!(in_setup_window(None));
        assert!(in_setup_window(Some(Provisioning::Pending)));
        assert!(in_setup_window(Some(Provisioning::Confirmed)));
        assert!(!in_setup_window(Some(Provisioning::Complete)));
        assert!(!in_setup_window(Some(Provisioning::Locked)));
    }
}

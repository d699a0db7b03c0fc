//! `WiFi.*`: the networks the radio sees, and a station that joins one as an ESP32 does.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Answer, Gateway, Route, route};
use crate::shelly::frame::RpcError;
use crate::shelly::methods::ble::Provisioning;
use crate::shelly::methods::shelly::SetConfigResult;
use crate::shelly::methods::wifi::{
    ApConfig, GetStatus, Scan, ScanResult, ScanResults, SetConfig, SetConfigParams, StaConfig,
    WifiConfig, WifiStatus,
};

pub(super) const ROUTES: &[Route] = &[route::<Scan>(), route::<GetStatus>(), route::<SetConfig>()];

/// A Wi-Fi network the simulated radio can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// What `WiFi.Scan` reports.
    pub scan: ScanResult,
    /// The password that joins it (`None`: open).
    pub password: Option<String>,
}

/// The default networks: `HomeNet` (WPA2, password `correct horse`), `Guest` (open),
/// `Neighbour` (WPA/WPA2, password `neighbour`).
pub fn default_networks() -> Vec<Network> {
    let net =
        |ssid: &str, bssid: &str, auth: u8, channel: u8, rssi: i32, pw: Option<&str>| Network {
            scan: ScanResult {
                ssid: Some(ssid.into()),
                bssid: bssid.into(),
                auth: Some(auth),
                channel: Some(channel),
                rssi: Some(rssi),
            },
            password: pw.map(Into::into),
        };
    alloc::vec![
        net(
            "HomeNet",
            "b0:be:76:00:00:01",
            3,
            6,
            -52,
            Some("correct horse")
        ),
        net("Guest", "b0:be:76:00:00:02", 0, 11, -67, None),
        net(
            "Neighbour",
            "dc:a6:32:00:00:03",
            4,
            1,
            -84,
            Some("neighbour")
        ),
    ]
}

/// How long a station attempt shows `connecting`, and the pause after a failed one.
const WIFI_ATTEMPT_MS: u64 = 1_000;
/// Attempts before a station with a wrong password gives up.
const WIFI_ATTEMPTS: u64 = 2;
/// The last 1/this of a successful join shows `connected`: associated, still waiting for DHCP
/// (shelly-api-docs WiFi: `disconnected`, `connecting`, `connected`, `got ip`).
const WIFI_CONNECTED_SHARE: u64 = 4;

/// A station join under way.
#[derive(Debug, Clone, Copy)]
pub(super) struct Join {
    started_ms: u64,
    /// The network exists and the password fits.
    ok: bool,
}

/// The Wi-Fi settings and the station's state.
#[derive(Debug, Clone, Default)]
pub(super) struct Wifi {
    sta_ssid: Option<String>,
    sta_pass: Option<String>,
    sta_enable: bool,
    pub(super) ap_enable: bool,
    pub(super) join: Option<Join>,
    pub(super) connected: bool,
    /// Station settings wait for a reboot.
    pub(super) join_on_boot: bool,
    /// An access point switch that waits for a reboot.
    pub(super) ap_enable_on_boot: Option<bool>,
}

impl Wifi {
    /// A fresh device: its own access point on, no station settings.
    pub(super) fn new() -> Self {
        Self {
            ap_enable: true,
            ..Self::default()
        }
    }
}

impl Gateway {
    /// Ends a join whose time is up: `got ip`, or the station giving up.
    pub(super) fn tick_wifi(&mut self, now_ms: u64) {
        let Some(join) = self.wifi.join else { return };
        let end = self.join_end(join);
        if now_ms < end {
            return;
        }
        self.wifi.join = None;
        self.wifi.connected = join.ok;
        if join.ok {
            // SNTP sets the clock once the station has an address.
            self.clock_synced = true;
        }
        let status = serde_json::to_value(self.wifi_status(end)).unwrap_or_default();
        self.status_change(end, "wifi", status);
    }

    /// When a join ends: `got ip`, or the station giving up.
    fn join_end(&self, join: Join) -> u64 {
        join.started_ms
            .saturating_add(match (join.ok, self.options.wifi_steady) {
                (true, _) | (false, true) => self.options.wifi_connect_ms,
                (false, false) => WIFI_ATTEMPTS * 2 * WIFI_ATTEMPT_MS - WIFI_ATTEMPT_MS,
            })
    }

    /// When a successful join is associated and waits for its address (`connected`).
    fn associated_at(&self, join: Join) -> u64 {
        self.join_end(join)
            .saturating_sub(self.options.wifi_connect_ms / WIFI_CONNECTED_SHARE)
    }

    /// The station (re)starts joining its configured network, if enabled.
    pub(super) fn start_join(&mut self, now_ms: u64) {
        self.wifi.connected = false;
        self.wifi.join = None;
        let Some(ssid) = self
            .wifi
            .sta_ssid
            .as_deref()
            .filter(|_| self.wifi.sta_enable)
        else {
            return;
        };
        let ok = self.options.networks.iter().any(|n| {
            n.scan.ssid.as_deref() == Some(ssid)
                && match &n.password {
                    None => true,
                    Some(pw) => self.wifi.sta_pass.as_deref() == Some(pw.as_str()),
                }
        });
        self.wifi.join = Some(Join {
            started_ms: now_ms,
            ok,
        });
    }

    pub(super) fn wifi_status(&self, now_ms: u64) -> WifiStatus {
        let net = self.wifi.sta_ssid.as_deref().and_then(|ssid| {
            self.options
                .networks
                .iter()
                .find(|n| n.scan.ssid.as_deref() == Some(ssid))
        });
        let (status, ip) = if let Some(join) = self.wifi.join {
            let retrying = !self.options.wifi_steady
                && now_ms.saturating_sub(join.started_ms) % (2 * WIFI_ATTEMPT_MS)
                    >= WIFI_ATTEMPT_MS;
            let status = if join.ok && now_ms >= self.associated_at(join) {
                "connected"
            } else if retrying {
                "disconnected"
            } else {
                "connecting"
            };
            // No address until `got ip`.
            (status, None)
        } else if self.wifi.connected {
            ("got ip", Some("192.168.1.42".to_string()))
        } else {
            ("disconnected", None)
        };
        WifiStatus {
            sta_ip: ip,
            status: status.into(),
            ssid: if self.wifi.connected {
                self.wifi.sta_ssid.clone()
            } else {
                None
            },
            rssi: if self.wifi.connected {
                net.and_then(|n| n.scan.rssi)
            } else {
                None
            },
        }
    }

    pub(super) fn wifi_config(&self) -> WifiConfig {
        WifiConfig {
            sta: Some(StaConfig {
                ssid: self.wifi.sta_ssid.clone(),
                pass: None,
                is_open: Some(self.wifi.sta_pass.is_none()),
                enable: Some(self.wifi.sta_enable),
                ipv4mode: Some("dhcp".into()),
            }),
            ap: Some(ApConfig {
                ssid: Some(self.id.clone()),
                pass: None,
                is_open: Some(true),
                enable: Some(self.wifi.ap_enable),
            }),
        }
    }
}

impl Answer<Scan> for Gateway {
    fn answer(&mut self, (): (), _: u64) -> Result<ScanResults, RpcError> {
        Ok(ScanResults {
            results: self
                .options
                .networks
                .iter()
                .map(|n| n.scan.clone())
                .collect(),
        })
    }
}

impl Answer<GetStatus> for Gateway {
    fn answer(&mut self, (): (), now_ms: u64) -> Result<WifiStatus, RpcError> {
        Ok(self.wifi_status(now_ms))
    }
}

impl Answer<SetConfig> for Gateway {
    fn answer(&mut self, p: SetConfigParams, now_ms: u64) -> Result<SetConfigResult, RpcError> {
        let mut restart_required = false;
        if let Some(enable) = p.config.ap.and_then(|ap| ap.enable) {
            if self.options.wifi_restart_required {
                self.wifi.ap_enable_on_boot = Some(enable);
                restart_required = true;
            } else {
                self.wifi.ap_enable = enable;
            }
        }
        if let Some(sta) = p.config.sta {
            if let Some(ssid) = sta.ssid {
                self.wifi.sta_ssid = Some(ssid);
                self.wifi.sta_pass = sta.pass;
                self.wifi.sta_enable = sta.enable.unwrap_or(true);
            } else if let Some(enable) = sta.enable {
                self.wifi.sta_enable = enable;
            }
            if self.wifi.sta_enable
                && self.wifi.sta_ssid.is_some()
                && self.provisioning == Provisioning::Pending
            {
                self.provisioning = Provisioning::Confirmed;
            }
            if self.options.wifi_restart_required {
                self.wifi.join_on_boot = true;
                restart_required = true;
            } else {
                self.start_join(now_ms);
            }
        }
        Ok(SetConfigResult { restart_required })
    }
}

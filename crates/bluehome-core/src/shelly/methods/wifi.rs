//! `WiFi.*` (the WiFi component document,
//! <https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/WiFi>).

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::shelly::SetConfigResult;
use crate::wifi::Security;

/// One access point from `WiFi.Scan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanResult {
    /// Network name (`null` for hidden networks).
    #[serde(default)]
    pub ssid: Option<String>,
    /// Access point MAC.
    #[serde(default)]
    pub bssid: String,
    /// 0 open, 1 WEP, 2 WPA-PSK, 3 WPA2-PSK, 4 WPA/WPA2-PSK, 5 WPA2-Enterprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<u8>,
    /// Channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<u8>,
    /// Signal strength, dBm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rssi: Option<i32>,
}

impl ScanResult {
    /// The security of `auth`, named as the WiFi document names it; `None` for a value it does
    /// not list, or none.
    pub fn security(&self) -> Option<&'static str> {
        match self.auth? {
            0 => Some("open"),
            1 => Some("WEP"),
            2 => Some("WPA-PSK"),
            3 => Some("WPA2-PSK"),
            4 => Some("WPA/WPA2-PSK"),
            5 => Some("WPA2-Enterprise"),
            _ => None,
        }
    }

    /// The security whose password rules apply ([`crate::wifi::check_password`]). Values past
    /// the document's follow ESP-IDF's `wifi_auth_mode_t` (`esp_wifi_types.h`): 7 is WPA2/WPA3
    /// (a WPA2 passphrase), 6 WPA3 and the rest secured in other ways.
    pub fn security_kind(&self) -> Security {
        match self.auth {
            Some(0) => Security::Open,
            Some(1) => Security::Wep,
            Some(2..=4 | 7) => Security::Personal,
            Some(_) => Security::OtherSecured,
            None => Security::Unknown,
        }
    }
}

/// `WiFi.Scan` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ScanResults {
    /// Access points found.
    pub results: Vec<ScanResult>,
}

/// `WiFi.GetStatus` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WifiStatus {
    /// IP address on the station interface, once connected.
    #[serde(default)]
    pub sta_ip: Option<String>,
    /// `disconnected`, `connecting`, `connected` or `got ip`.
    #[serde(default)]
    pub status: String,
    /// Connected network.
    #[serde(default)]
    pub ssid: Option<String>,
    /// Signal strength, dBm.
    #[serde(default)]
    pub rssi: Option<i32>,
}

/// Station (client) settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StaConfig {
    /// Network name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssid: Option<String>,
    /// Password (write only; never returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// True for a network without password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_open: Option<bool>,
    /// Enable the station interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// `dhcp` or `static`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4mode: Option<String>,
}

/// Access-point settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ApConfig {
    /// Network name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssid: Option<String>,
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// True for a network without password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_open: Option<bool>,
    /// Enable the access point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
}

/// The settable part of the Wi-Fi config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WifiConfig {
    /// Station settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sta: Option<StaConfig>,
    /// Access-point settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ap: Option<ApConfig>,
}

/// `WiFi.SetConfig` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SetConfigParams {
    /// The config subset to change.
    pub config: WifiConfig,
}

impl SetConfigParams {
    /// Joins network `ssid` (open when `pass` is `None`).
    pub fn join(ssid: &str, pass: Option<&str>) -> Self {
        Self {
            config: WifiConfig {
                sta: Some(StaConfig {
                    ssid: Some(ssid.into()),
                    pass: pass.map(Into::into),
                    is_open: Some(pass.is_none()),
                    enable: Some(true),
                    ipv4mode: None,
                }),
                ap: None,
            },
        }
    }

    /// Turns the device's own access point on or off.
    pub fn access_point(enable: bool) -> Self {
        Self {
            config: WifiConfig {
                sta: None,
                ap: Some(ApConfig {
                    enable: Some(enable),
                    ..ApConfig::default()
                }),
            },
        }
    }
}

method!(
    /// `WiFi.Scan` (slow: up to ~20 s on devices; give the call a long deadline).
    Scan = "WiFi.Scan", () => ScanResults
);
method!(
    /// `WiFi.GetStatus`.
    GetStatus = "WiFi.GetStatus", () => WifiStatus
);
method!(
    /// `WiFi.SetConfig` (`sta`, `ap`).
    SetConfig = "WiFi.SetConfig", SetConfigParams => SetConfigResult
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The sta nesting matters: an old client (ALLTERCO/fleet-management
    /// `packages/ble/src/ShellyBLE.ts`) sent `config:{ssid,pass}`, which does not work; aioshelly's
    /// `wifi_setconfig` nests them under `sta`.
    #[test]
    fn join_nests_credentials_under_sta() {
        assert_eq!(
            serde_json::to_value(SetConfigParams::join("home", Some("pw"))).unwrap(),
            json!({"config": {"sta": {"ssid": "home", "pass": "pw", "is_open": false, "enable": true}}})
        );
        assert_eq!(
            serde_json::to_value(SetConfigParams::access_point(false)).unwrap(),
            json!({"config": {"ap": {"enable": false}}})
        );
    }

    #[test]
    fn scan_results_accept_hidden_networks() {
        let r: ScanResults = serde_json::from_value(json!({"results": [
            {"ssid": null, "bssid": "aa:bb:cc:dd:ee:ff", "auth": 3, "channel": 6, "rssi": -70}
        ]}))
        .unwrap();
        assert_eq!(r.results[0].ssid, None);
        assert_eq!(r.results[0].auth, Some(3));
        assert_eq!(r.results[0].security(), Some("WPA2-PSK"));
        assert_eq!(r.results[0].security_kind(), Security::Personal);
    }

    /// Which password rules apply to each `auth` value: the document's 0 to 5, then ESP-IDF's.
    #[test]
    fn scan_auth_values_pick_the_password_rules() {
        let network = |auth| ScanResult {
            ssid: None,
            bssid: String::new(),
            auth,
            channel: None,
            rssi: None,
        };
        let kind = |auth| network(auth).security_kind();
        let names: Vec<Option<&str>> = [0, 1, 2, 3, 4, 5, 6]
            .map(|a| network(Some(a)).security())
            .into();
        assert_eq!(
            names,
            [
                Some("open"),
                Some("WEP"),
                Some("WPA-PSK"),
                Some("WPA2-PSK"),
                Some("WPA/WPA2-PSK"),
                Some("WPA2-Enterprise"),
                None
            ]
        );
        use Security::*;
        let kinds: Vec<Security> = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(|a| kind(Some(a))).into();
        assert_eq!(
            kinds,
            [
                Open,
                Wep,
                Personal,
                Personal,
                Personal,
                OtherSecured,
                OtherSecured,
                Personal,
                OtherSecured
            ]
        );
        assert_eq!(kind(None), Unknown);
    }
}

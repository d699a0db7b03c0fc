//! The typed payloads of the results a client reads: device info, Wi-Fi networks, the redirect
//! URL (improv-wifi.com/ble, "RPC Result").

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::super::Command;
use super::{Error, RpcResult};
use crate::wifi::Security;

/// The device-info result (command 0x03): at least four strings, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Firmware name (`ESPHome`).
    pub firmware: String,
    /// Firmware version (`2021.11.0`).
    pub version: String,
    /// Hardware chip or variant (`ESP32-C3`).
    pub chip: String,
    /// Device name (`Temperature Monitor`).
    pub name: String,
}

#[cfg(test)]
impl DeviceInfo {
    /// Test data: the four strings, in the order a result carries them.
    pub(crate) fn of(firmware: &str, version: &str, chip: &str, name: &str) -> Self {
        Self {
            firmware: firmware.into(),
            version: version.into(),
            chip: chip.into(),
            name: name.into(),
        }
    }
}

impl DeviceInfo {
    /// Reads a device-info result; strings beyond the fourth are ignored (revision 2.4 may
    /// append the OS name and version where they differ from the firmware's).
    pub fn from_result(result: &RpcResult) -> Result<Self, Error> {
        result.expect(Command::DeviceInfo)?;
        if result.strings.len() < 4 {
            return Err(Error::TooFewStrings {
                expected: 4,
                found: result.strings.len(),
            });
        }
        Ok(Self {
            firmware: result.text(0),
            version: result.text(1),
            chip: result.text(2),
            name: result.text(3),
        })
    }

    /// The result a device sends.
    pub fn to_result(&self) -> RpcResult {
        RpcResult {
            command: Command::DeviceInfo,
            strings: [&self.firmware, &self.version, &self.chip, &self.name]
                .into_iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        }
    }
}

/// One authentication type of a network, as a scan result names it: "WEP, WPA, WPA2, WPA2 EAP,
/// WPA3, WAPI or NO", several separated by "/" (improv-wifi.com/ble, "Request scanned Wi-Fi
/// networks"). Improv serial says only "YES" or "NO" ("Auth required", improv-wifi.com/serial).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `NO`: an open network.
    Open,
    /// `WEP`.
    Wep,
    /// `WPA`.
    Wpa,
    /// `WPA2`.
    Wpa2,
    /// `WPA2 EAP` (enterprise).
    Wpa2Eap,
    /// `WPA3`.
    Wpa3,
    /// `WAPI`.
    Wapi,
    /// `YES`: a password is needed, the type unnamed (Improv serial).
    Required,
    /// Anything else the device wrote.
    Other(String),
}

impl Auth {
    /// The text a device sends.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Open => "NO",
            Self::Wep => "WEP",
            Self::Wpa => "WPA",
            Self::Wpa2 => "WPA2",
            Self::Wpa2Eap => "WPA2 EAP",
            Self::Wpa3 => "WPA3",
            Self::Wapi => "WAPI",
            Self::Required => "YES",
            Self::Other(text) => text,
        }
    }

    /// The type as people read it: `open` for `NO`, `password needed` for `YES` (the type
    /// unnamed), the type's name otherwise.
    pub fn described(&self) -> &str {
        match self {
            Self::Open => "open",
            Self::Required => "password needed",
            other => other.as_str(),
        }
    }

    /// Reads a scan result's auth text: the "/"-separated list of types (`WPA/WPA2`).
    pub fn list(text: &str) -> Vec<Self> {
        text.split('/')
            .map(|t| match t {
                "NO" => Self::Open,
                "WEP" => Self::Wep,
                "WPA" => Self::Wpa,
                "WPA2" => Self::Wpa2,
                "WPA2 EAP" => Self::Wpa2Eap,
                "WPA3" => Self::Wpa3,
                "WAPI" => Self::Wapi,
                "YES" => Self::Required,
                other => Self::Other(other.into()),
            })
            .collect()
    }
}

/// One network of a scan result (command 0x04).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The SSID, as bytes (802.11 allows any).
    pub ssid: Vec<u8>,
    /// Signal strength in dBm; `None` when the result was cut before it ([`Self::from_cut_result`]).
    pub rssi: Option<i16>,
    /// The authentication types it offers (one, or several the device listed); none when the
    /// result was cut before them ([`Self::from_cut_result`]).
    pub auth: Vec<Auth>,
}

#[cfg(test)]
impl Network {
    /// Test data: a network with its signal and one authentication.
    pub(crate) fn of(ssid: &str, rssi: i16, auth: Auth) -> Self {
        Self {
            ssid: ssid.as_bytes().to_vec(),
            rssi: Some(rssi),
            auth: alloc::vec![auth],
        }
    }

    /// Test data: the scan result listing `networks`, encoded.
    pub(crate) fn encoded_list(networks: &[Self]) -> Vec<u8> {
        Self::list_to_result(networks).encode().unwrap()
    }
}

impl Network {
    /// The SSID for display (invalid UTF-8 shown as U+FFFD).
    pub fn ssid_text(&self) -> String {
        String::from_utf8_lossy(&self.ssid).into_owned()
    }

    /// The authentication as a device writes it (`WPA/WPA2`).
    pub fn auth_text(&self) -> String {
        let types: Vec<&str> = self.auth.iter().map(Auth::as_str).collect();
        types.join("/")
    }

    /// The authentication as people read it (`open`, `WPA/WPA2`, [`Auth::described`]).
    pub fn auth_described(&self) -> String {
        let types: Vec<&str> = self.auth.iter().map(Auth::described).collect();
        types.join("/")
    }

    /// Whether joining needs a password: always, unless the device wrote just `NO`.
    pub fn needs_password(&self) -> bool {
        self.auth != [Auth::Open]
    }

    /// Whether the device's result named its authentication (not cut before it).
    pub fn auth_known(&self) -> bool {
        !self.auth.is_empty()
    }

    /// The security whose password rules apply ([`crate::wifi::check_password`]): WPA or WPA2
    /// among the types is a passphrase (so is the WPA2/WPA3 transition mode).
    pub fn security(&self) -> Security {
        let has = |types: &[Auth]| self.auth.iter().any(|a| types.contains(a));
        match self.auth.as_slice() {
            [] => Security::Unknown,
            [Auth::Open] => Security::Open,
            _ if has(&[Auth::Wpa, Auth::Wpa2]) => Security::Personal,
            [Auth::Wep] => Security::Wep,
            _ => Security::OtherSecured,
        }
    }

    /// The network a scan result cut short names (`bytes` are the result's first bytes, the rest
    /// never came: ESP-IDF cuts a notification to the link's ATT MTU − 3 bytes,
    /// espressif/esp-idf#3315), when they hold its SSID whole, as its length byte declares; its
    /// signal and authentication too where they are whole. `None` for anything else: bytes that
    /// do not begin a scan result, an SSID cut short, or a result that is whole (the checksum is
    /// the one byte a cut cannot leave).
    pub fn from_cut_result(bytes: &[u8]) -> Option<Self> {
        let [command, len, data @ ..] = bytes else {
            return None;
        };
        let declared = usize::from(*len);
        if Command::from(*command) != Command::ScanWifi || bytes.len() >= declared + 3 {
            return None;
        }
        // The strings that are whole, within the data length declared.
        let mut strings = Vec::new();
        let mut rest = data.get(..declared.min(data.len()))?;
        while strings.len() < 3
            && let Some((&n, tail)) = rest.split_first()
            && let Some((string, tail)) = tail.split_at_checked(usize::from(n))
        {
            strings.push(string);
            rest = tail;
        }
        let (&ssid, more) = strings.split_first()?;
        if ssid.is_empty() {
            return None;
        }
        let rssi = more
            .first()
            .and_then(|r| core::str::from_utf8(r).ok())
            .filter(|t| !t.starts_with('+'))
            .and_then(|t| t.parse::<i16>().ok());
        let auth = more
            .get(1)
            .map(|a| Auth::list(&String::from_utf8_lossy(a)))
            .unwrap_or_default();
        Some(Self {
            ssid: ssid.to_vec(),
            rssi,
            auth,
        })
    }

    /// One network per SSID, the one heard strongest (several access points, or a network a
    /// device listed twice), where the SSID first appeared; one whose authentication is known
    /// before one from a result cut short ([`Self::from_cut_result`]).
    pub fn strongest_per_ssid(networks: Vec<Self>) -> Vec<Self> {
        let mut out: Vec<Self> = Vec::with_capacity(networks.len());
        let rank = |n: &Self| (n.auth_known(), n.rssi);
        for network in networks {
            match out.iter_mut().find(|n| n.ssid == network.ssid) {
                Some(kept) if rank(kept) < rank(&network) => *kept = network,
                Some(_) => {}
                None => out.push(network),
            }
        }
        out
    }

    /// Reads a scan result: SSID, RSSI, auth triples (none when nothing was found).
    pub fn list_from_result(result: &RpcResult) -> Result<Vec<Self>, Error> {
        result.expect(Command::ScanWifi)?;
        if !result.strings.len().is_multiple_of(3) {
            return Err(Error::NotTriples {
                found: result.strings.len(),
            });
        }
        result
            .strings
            .chunks_exact(3)
            .enumerate()
            .map(|(i, triple)| {
                let [ssid, rssi, auth] = triple else {
                    return Err(Error::NotTriples {
                        found: result.strings.len(),
                    });
                };
                let rssi = core::str::from_utf8(rssi)
                    .ok()
                    .and_then(|t| t.parse::<i16>().ok())
                    .filter(|_| !rssi.starts_with(b"+"))
                    .ok_or(Error::BadRssi {
                        offset: result.string_offset(i * 3 + 1),
                    })?;
                Ok(Self {
                    ssid: ssid.clone(),
                    rssi: Some(rssi),
                    auth: Auth::list(&String::from_utf8_lossy(auth)),
                })
            })
            .collect()
    }

    /// The scan result a device sends.
    pub fn list_to_result(networks: &[Self]) -> RpcResult {
        RpcResult {
            command: Command::ScanWifi,
            strings: networks
                .iter()
                .flat_map(|n| {
                    [
                        n.ssid.clone(),
                        n.rssi
                            .map(|r| alloc::format!("{r}").into_bytes())
                            .unwrap_or_default(),
                        n.auth_text().into_bytes(),
                    ]
                })
                .collect(),
        }
    }
}

/// The URL to open after provisioning: UTF-8, `http://` or `https://`, no spaces, control,
/// bidirectional or invisible characters (nothing [`printable`](crate::text::printable) would
/// escape, so the link reads as what it opens); or a bare host with an optional port (`192.168.1.5`, `esp.local:8080`), as some
/// devices send, read as `http://` that. Anything else (`javascript:`, `file:`) is refused, so a
/// device cannot make the page open what it likes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUrl(String);

impl RedirectUrl {
    /// Checks a URL's bytes; error offsets count from its first byte.
    pub fn new(bytes: &[u8]) -> Result<Self, Error> {
        let text = core::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
        let scheme = if lower.starts_with("https://") {
            8
        } else if lower.starts_with("http://") {
            7
        } else if is_bare_host(text) {
            return Ok(Self(alloc::format!("http://{text}")));
        } else {
            return Err(Error::UnsafeUrl { offset: 0 });
        };
        if let Some(bad) = text
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || crate::text::needs_escape(c))
        {
            return Err(Error::UnsafeUrl { offset: bad.0 });
        }
        if text.len() == scheme {
            return Err(Error::UnsafeUrl { offset: scheme });
        }
        Ok(Self(text.into()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Wi-Fi settings result's URL: its first string, `None` when there is none or it is
    /// empty ("If there is no URL, omit the entry or add an empty string").
    pub fn from_result(result: &RpcResult) -> Result<Option<Self>, Error> {
        result.expect(Command::WifiSettings)?;
        match result.strings.first() {
            None => Ok(None),
            Some(first) if first.is_empty() => Ok(None),
            Some(first) => Self::new(first)
                .map(Some)
                .map_err(|e| e.shifted(result.string_offset(0))),
        }
    }

    /// Every plain http(s) URL the result lists, in order; the others are left out. ESPHome lists
    /// its `next_url`, Home Assistant's link for adding the device, then the device's own web
    /// server (`esphome/components/esp32_improv`): the first is the redirect, the rest are
    /// where else a person may want to go.
    pub fn all_from_result(result: &RpcResult) -> Vec<Self> {
        if result.command != Command::WifiSettings {
            return Vec::new();
        }
        result
            .strings
            .iter()
            .filter_map(|s| Self::new(s).ok())
            .collect()
    }
}

/// `host[:port]` and nothing else: ASCII letters, digits, `.` and `-`, then optionally `:` and
/// digits.
fn is_bare_host(text: &str) -> bool {
    let (host, port) = match text.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for RedirectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

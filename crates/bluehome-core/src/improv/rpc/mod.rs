//! Improv RPC frames: commands the client writes, results the device answers, and the typed
//! payloads of each (improv-wifi.com/ble, "RPC Command" and "RPC Result").
//!
//! ```text
//! command: [command][data length][data …][checksum]
//! result:  [command][data length][len₁][string₁][len₂][string₂]…[checksum]
//! ```
//!
//! The checksum is "a simple sum checksum keeping only the LSB" of every byte before it. Offsets
//! in [`Error`] count bytes from the start of the frame.
//!
//! Strings that only describe the device (firmware, chip, names) are read leniently (invalid
//! UTF-8 becomes U+FFFD, as the browser SDK's `TextDecoder` does); what drives behaviour is
//! strict: an SSID stays bytes (802.11 allows any), an RSSI must be a number, the redirect URL
//! must be UTF-8 `http(s)://` without spaces or control characters (or a bare `host[:port]`,
//! read as `http://`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::Command;

mod parts;
mod payloads;

pub use self::parts::ResultParts;
pub use self::payloads::{Auth, DeviceInfo, Network, RedirectUrl};

/// The largest data length a frame can declare (one byte).
pub const MAX_DATA: usize = 255;
/// The longest SSID (IEEE 802.11: at most 32 octets).
pub const MAX_SSID: usize = crate::wifi::MAX_SSID_BYTES;

/// Why bytes are not a valid frame or payload, or why a value cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes end `needed` bytes early.
    Truncated {
        /// Where more bytes were expected.
        offset: usize,
        /// How many more.
        needed: usize,
    },
    /// Bytes follow the end of the frame or of its strings.
    TrailingBytes {
        /// The first extra byte.
        offset: usize,
    },
    /// The checksum byte does not match.
    Checksum {
        /// The checksum byte's offset.
        offset: usize,
        /// The sum of the bytes before it.
        expected: u8,
        /// What the frame carries.
        found: u8,
    },
    /// A command id this crate does not read (device side): one the protocol does not define,
    /// or the hostname and device-name commands, which it only names.
    UnknownCommand {
        /// The id.
        command: u8,
    },
    /// A result that answers another command.
    WrongCommand {
        /// The command asked.
        expected: Command,
        /// The command the result names.
        found: Command,
    },
    /// A value too long for its length byte (or an SSID outside 1..=32 bytes).
    Length {
        /// What.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Fewer strings than the result needs.
    TooFewStrings {
        /// Needed.
        expected: usize,
        /// Received.
        found: usize,
    },
    /// A scan result whose string count is not a multiple of three.
    NotTriples {
        /// Received.
        found: usize,
    },
    /// A scan result's RSSI that is not a whole number.
    BadRssi {
        /// The string's first byte.
        offset: usize,
    },
    /// Text that is not UTF-8.
    NotUtf8 {
        /// The first byte that is not part of a UTF-8 character.
        offset: usize,
    },
    /// A redirect URL that is not `http://` or `https://` (nor a bare `host[:port]`), or holds a
    /// space or control character.
    UnsafeUrl {
        /// The offending byte (the URL's first byte for a wrong scheme).
        offset: usize,
    },
}

impl Error {
    /// The byte offset the error points at (0 for errors about the whole value).
    pub fn offset(&self) -> usize {
        match *self {
            Self::Truncated { offset, .. }
            | Self::TrailingBytes { offset }
            | Self::Checksum { offset, .. }
            | Self::BadRssi { offset }
            | Self::NotUtf8 { offset }
            | Self::UnsafeUrl { offset } => offset,
            Self::UnknownCommand { .. }
            | Self::WrongCommand { .. }
            | Self::Length { .. }
            | Self::TooFewStrings { .. }
            | Self::NotTriples { .. } => 0,
        }
    }

    /// Moves the offset by `by` bytes (a string's error, placed in its frame).
    fn shifted(self, by: usize) -> Self {
        match self {
            Self::NotUtf8 { offset } => Self::NotUtf8 {
                offset: offset.saturating_add(by),
            },
            Self::UnsafeUrl { offset } => Self::UnsafeUrl {
                offset: offset.saturating_add(by),
            },
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { offset, needed } => {
                write!(f, "the bytes end at byte {offset}, {needed} short")
            }
            Self::TrailingBytes { offset } => write!(f, "extra bytes from byte {offset}"),
            Self::Checksum {
                offset,
                expected,
                found,
            } => write!(
                f,
                "checksum at byte {offset} is {found:#04x}, the bytes sum to {expected:#04x}"
            ),
            Self::UnknownCommand { command } => write!(f, "unknown command {command:#04x}"),
            Self::WrongCommand { expected, found } => write!(
                f,
                "a result for command {:#04x} where {:#04x} was asked",
                u8::from(*found),
                u8::from(*expected)
            ),
            Self::Length { field, len, max } => {
                write!(f, "{field} is {len} bytes, more than {max} (or empty)")
            }
            Self::TooFewStrings { expected, found } => {
                write!(f, "{found} strings where at least {expected} were expected")
            }
            Self::NotTriples { found } => write!(
                f,
                "{found} strings: a scan result is SSID, RSSI, auth triples"
            ),
            Self::BadRssi { offset } => write!(f, "RSSI at byte {offset} is not a number"),
            Self::NotUtf8 { offset } => write!(f, "not UTF-8 text at byte {offset}"),
            Self::UnsafeUrl { offset } => write!(
                f,
                "the redirect URL is not a plain http(s) address (byte {offset})"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// The low byte of the sum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, b| sum.wrapping_add(*b))
}

/// `[command][len][data][checksum]`.
fn frame(command: Command, data: &[u8]) -> Result<Vec<u8>, Error> {
    let len = u8::try_from(data.len()).map_err(|_| Error::Length {
        field: "data",
        len: data.len(),
        max: MAX_DATA,
    })?;
    let mut out = Vec::with_capacity(data.len() + 3);
    out.push(u8::from(command));
    out.push(len);
    out.extend_from_slice(data);
    out.push(checksum(&out));
    Ok(out)
}

/// Checks length and checksum; returns the command byte and the data.
fn unframe(bytes: &[u8]) -> Result<(u8, &[u8]), Error> {
    let (&command, rest) = bytes.split_first().ok_or(Error::Truncated {
        offset: 0,
        needed: 3,
    })?;
    let (&len, rest) = rest.split_first().ok_or(Error::Truncated {
        offset: 1,
        needed: 2,
    })?;
    let len = usize::from(len);
    let Some((data, rest)) = rest.split_at_checked(len) else {
        return Err(Error::Truncated {
            offset: bytes.len(),
            needed: len + 3 - bytes.len(),
        });
    };
    let (&found, extra) = rest.split_first().ok_or(Error::Truncated {
        offset: bytes.len(),
        needed: 1,
    })?;
    if !extra.is_empty() {
        return Err(Error::TrailingBytes { offset: len + 3 });
    }
    let expected = checksum(bytes.get(..len + 2).unwrap_or_default());
    if expected != found {
        return Err(Error::Checksum {
            offset: len + 2,
            expected,
            found,
        });
    }
    Ok((command, data))
}

/// The length-prefixed string at `at` in `data` and where the next one starts; `base` is the
/// data's offset in the frame (for error offsets).
fn take_string(data: &[u8], at: usize, base: usize) -> Result<(Vec<u8>, usize), Error> {
    let (&len, rest) = data
        .get(at..)
        .and_then(<[u8]>::split_first)
        .ok_or(Error::Truncated {
            offset: base + data.len(),
            needed: 1,
        })?;
    let len = usize::from(len);
    let string = rest.get(..len).ok_or_else(|| Error::Truncated {
        offset: base + data.len(),
        needed: len.saturating_sub(rest.len()),
    })?;
    Ok((string.to_vec(), at + 1 + len))
}

/// Splits `[len][bytes]…` into strings that fill `data` exactly.
fn strings(data: &[u8], base: usize) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < data.len() {
        let (string, next) = take_string(data, at, base)?;
        out.push(string);
        at = next;
    }
    Ok(out)
}

/// Wi-Fi credentials for [`Request::WifiSettings`]. Debug output hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    ssid: Vec<u8>,
    password: Vec<u8>,
}

impl Credentials {
    /// An SSID of 1 to 32 bytes and a password (empty for an open network); together they must
    /// fit one frame (253 bytes).
    pub fn new(ssid: impl Into<Vec<u8>>, password: impl Into<Vec<u8>>) -> Result<Self, Error> {
        let (ssid, password) = (ssid.into(), password.into());
        if ssid.is_empty() || ssid.len() > MAX_SSID {
            return Err(Error::Length {
                field: "SSID",
                len: ssid.len(),
                max: MAX_SSID,
            });
        }
        let room = MAX_DATA - 2 - ssid.len();
        if password.len() > room {
            return Err(Error::Length {
                field: "password",
                len: password.len(),
                max: room,
            });
        }
        Ok(Self { ssid, password })
    }

    /// The network name, as bytes.
    pub fn ssid(&self) -> &[u8] {
        &self.ssid
    }

    /// The password, as bytes.
    pub fn password(&self) -> &[u8] {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("ssid", &String::from_utf8_lossy(&self.ssid))
            .field("password", &"…")
            .finish()
    }
}

/// A command the client writes to the RPC command characteristic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// 0x01: join this network (needs the authorized state).
    WifiSettings(Credentials),
    /// 0x02: identify (blink, beep).
    Identify,
    /// 0x03: ask for device info.
    DeviceInfo,
    /// 0x04: ask for the Wi-Fi networks the device sees.
    ScanWifi,
}

impl Request {
    /// The command id.
    pub fn command(&self) -> Command {
        match self {
            Self::WifiSettings(_) => Command::WifiSettings,
            Self::Identify => Command::Identify,
            Self::DeviceInfo => Command::DeviceInfo,
            Self::ScanWifi => Command::ScanWifi,
        }
    }

    /// The frame to write.
    pub fn encode(&self) -> Vec<u8> {
        let data = match self {
            Self::WifiSettings(c) => {
                let mut data = Vec::with_capacity(c.ssid.len() + c.password.len() + 2);
                // Credentials::new bounded both lengths to fit a byte and the frame.
                data.push(u8::try_from(c.ssid.len()).unwrap_or(u8::MAX));
                data.extend_from_slice(&c.ssid);
                data.push(u8::try_from(c.password.len()).unwrap_or(u8::MAX));
                data.extend_from_slice(&c.password);
                data
            }
            _ => Vec::new(),
        };
        frame(self.command(), &data).unwrap_or_default()
    }

    /// Reads a command frame, as a device does (`improv-wifi/sdk-cpp` `parse_improv_data`, which
    /// ESPHome uses): length, checksum, command, and for Wi-Fi settings the two length-prefixed
    /// strings. Any SSID length a frame can carry is accepted (the device decides whether it can
    /// join it); bytes after the password, and data after a command that takes none, are
    /// ignored. A device answers [`Error::Checksum`] with "invalid RPC" and any other error (an
    /// SSID or password length running past the data) as an unknown command: sdk-cpp returns
    /// `BAD_CHECKSUM` for the one and `UNKNOWN` for the other.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let (command, data) = unframe(bytes)?;
        match Command::from(command) {
            Command::WifiSettings => {
                let (ssid, at) = take_string(data, 0, 2)?;
                let (password, _) = take_string(data, at, 2)?;
                Ok(Self::WifiSettings(Credentials { ssid, password }))
            }
            Command::Identify => Ok(Self::Identify),
            Command::DeviceInfo => Ok(Self::DeviceInfo),
            Command::ScanWifi => Ok(Self::ScanWifi),
            command @ (Command::Hostname | Command::DeviceName | Command::Other(_)) => {
                Err(Error::UnknownCommand {
                    command: u8::from(command),
                })
            }
        }
    }
}

/// A result the device puts in the RPC result characteristic: a command id and strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcResult {
    /// The command answered.
    pub command: Command,
    /// The strings, as bytes.
    pub strings: Vec<Vec<u8>>,
}

impl RpcResult {
    /// Reads a result frame: length, checksum, then length-prefixed strings filling the data.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let (command, data) = unframe(bytes)?;
        Ok(Self {
            command: Command::from(command),
            strings: strings(data, 2)?,
        })
    }

    /// The frame. Each string and all of them together must fit their length bytes.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut data = Vec::new();
        for s in &self.strings {
            let len = u8::try_from(s.len()).map_err(|_| Error::Length {
                field: "string",
                len: s.len(),
                max: MAX_DATA,
            })?;
            data.push(len);
            data.extend_from_slice(s);
        }
        frame(self.command, &data)
    }

    /// Where string `index`'s bytes start in the frame.
    pub fn string_offset(&self, index: usize) -> usize {
        2 + self
            .strings
            .iter()
            .take(index)
            .map(|s| s.len() + 1)
            .sum::<usize>()
            + 1
    }

    fn expect(&self, command: Command) -> Result<(), Error> {
        if self.command == command {
            Ok(())
        } else {
            Err(Error::WrongCommand {
                expected: command,
                found: self.command,
            })
        }
    }

    fn text(&self, index: usize) -> String {
        self.strings
            .get(index)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::fixture as hex;

    /// The specification's example: SSID `MyWirelessAP` (12 = 0x0C bytes), password
    /// `mysecurepassword` (16 = 0x10), data length 0x1E = 1 + 12 + 1 + 16.
    #[test]
    fn wifi_settings_frame_matches_the_specification_example() {
        let request =
            Request::WifiSettings(Credentials::new("MyWirelessAP", "mysecurepassword").unwrap());
        let bytes = request.encode();
        assert_eq!(&bytes[..3], &[0x01, 0x1E, 0x0C]);
        assert_eq!(&bytes[3..15], b"MyWirelessAP");
        assert_eq!(bytes[15], 0x10);
        assert_eq!(&bytes[16..32], b"mysecurepassword");
        assert_eq!(bytes.len(), 33);
        // 0x01 + 0x1E + 0x0C + 0x10 + the ASCII of both strings, low byte
        assert_eq!(bytes[32], 0xC0); // computed with Python: sum(frame[:32]) & 0xff
        assert_eq!(Request::parse(&bytes), Ok(request));
    }

    /// Identify is `02 00 CS` with CS = 0x02 (improv-wifi.com/ble).
    #[test]
    fn commands_without_data_are_three_bytes() {
        assert_eq!(Request::Identify.encode(), hex("020002"));
        assert_eq!(Request::DeviceInfo.encode(), hex("030003"));
        assert_eq!(Request::ScanWifi.encode(), hex("040004"));
        for r in [Request::Identify, Request::DeviceInfo, Request::ScanWifi] {
            assert_eq!(Request::parse(&r.encode()), Ok(r));
        }
        // Data after identify is ignored, as ESPHome does (found by the improv_rpc fuzz target).
        assert_eq!(Request::parse(&hex("02018d90")), Ok(Request::Identify));
    }

    #[test]
    fn a_wrong_checksum_names_its_offset_and_the_right_sum() {
        assert_eq!(
            Request::parse(&hex("020003")),
            Err(Error::Checksum {
                offset: 2,
                expected: 0x02,
                found: 0x03
            })
        );
    }

    #[test]
    fn short_and_long_frames_are_errors_with_offsets() {
        assert_eq!(
            Request::parse(&[]),
            Err(Error::Truncated {
                offset: 0,
                needed: 3
            })
        );
        assert_eq!(
            Request::parse(&hex("01")),
            Err(Error::Truncated {
                offset: 1,
                needed: 2
            })
        );
        // Declares 4 data bytes, has 2.
        assert_eq!(
            RpcResult::parse(&hex("03040102")),
            Err(Error::Truncated {
                offset: 4,
                needed: 3
            })
        );
        assert_eq!(
            Request::parse(&hex("02000200")),
            Err(Error::TrailingBytes { offset: 3 })
        );
        assert_eq!(
            Request::parse(&hex("090009")),
            Err(Error::UnknownCommand { command: 9 })
        );
    }

    /// Wi-Fi data whose SSID or password length runs past the data is refused; bytes after the
    /// password are ignored, as sdk-cpp's `parse_improv_data` does.
    #[test]
    fn malformed_wifi_data_is_refused() {
        let parsed =
            |data: &str| Request::parse(&frame(Command::WifiSettings, &hex(data)).unwrap());
        for (data, offset, needed) in [
            // data 05 'a' 'b': SSID says 5 bytes, 2 are there.
            ("056162", 5, 3),
            // SSID only, no password length byte.
            ("0161", 4, 1),
            // data 01 'a' 05 'b': the password says 5 bytes, 1 is there.
            ("01610562", 6, 4),
        ] {
            assert_eq!(
                parsed(data),
                Err(Error::Truncated { offset, needed }),
                "{data}"
            );
        }
        assert_eq!(
            parsed("0161016201"),
            Ok(Request::WifiSettings(Credentials {
                ssid: b"a".to_vec(),
                password: b"b".to_vec()
            }))
        );
    }

    #[test]
    fn credentials_follow_802_11_and_the_frame_limit() {
        assert!(Credentials::new("", "x").is_err());
        assert!(Credentials::new([b'a'; 33], "").is_err());
        assert!(Credentials::new([b'a'; 32], [b'p'; 221]).is_ok());
        assert!(Credentials::new([b'a'; 32], [b'p'; 222]).is_err());
        let open = Credentials::new("Guest", "").unwrap();
        assert_eq!(
            Request::WifiSettings(open).encode()[..9],
            hex("010705477565737400")[..]
        );
        let c = Credentials::new("Home", "secret").unwrap();
        assert!(!alloc::format!("{c:?}").contains("secret"));
    }

    /// The example of the spec's device-info section: `ESPHome`, `2021.11.0`, `ESP32-C3`,
    /// `Temperature Monitor`.
    #[test]
    fn device_info_round_trips() {
        let info = DeviceInfo::of("ESPHome", "2021.11.0", "ESP32-C3", "Temperature Monitor");
        let bytes = info.to_result().encode().unwrap();
        assert_eq!(&bytes[..3], &[0x03, 8 + 10 + 9 + 20, 7]);
        let parsed = RpcResult::parse(&bytes).unwrap();
        assert_eq!(DeviceInfo::from_result(&parsed), Ok(info));
        let short = RpcResult {
            command: Command::DeviceInfo,
            strings: alloc::vec![b"ESPHome".to_vec()],
        };
        assert_eq!(
            DeviceInfo::from_result(&short),
            Err(Error::TooFewStrings {
                expected: 4,
                found: 1
            })
        );
        // Revision 2.4's example with the OS name and version: those two are not kept.
        let with_os = RpcResult {
            command: Command::DeviceInfo,
            strings: [
                "Bluetooth Proxy",
                "v1.0.0",
                "denky_d4/esp32",
                "My Bluetooth Proxy",
                "ESPHome",
                "2025.12.2",
            ]
            .map(|s| s.as_bytes().to_vec())
            .to_vec(),
        };
        let info = DeviceInfo::from_result(&with_os).unwrap();
        assert_eq!(
            (&*info.firmware, &*info.name),
            ("Bluetooth Proxy", "My Bluetooth Proxy")
        );
    }

    /// The spec's scan example: `MyWirelessNetwork`, `-60`, `WPA2`, `MyOtherWirelessNetwork`,
    /// `-52`, `WPA/WPA2`.
    #[test]
    fn scan_results_are_triples() {
        let networks = alloc::vec![
            Network {
                ssid: b"MyWirelessNetwork".to_vec(),
                rssi: Some(-60),
                auth: alloc::vec![Auth::Wpa2]
            },
            Network {
                ssid: b"MyOtherWirelessNetwork".to_vec(),
                rssi: Some(-52),
                auth: alloc::vec![Auth::Wpa, Auth::Wpa2]
            },
        ];
        let bytes = Network::list_to_result(&networks).encode().unwrap();
        let parsed = RpcResult::parse(&bytes).unwrap();
        assert_eq!(Network::list_from_result(&parsed), Ok(networks));
        let empty = RpcResult {
            command: Command::ScanWifi,
            strings: alloc::vec![],
        };
        assert_eq!(Network::list_from_result(&empty), Ok(alloc::vec![]));
    }

    /// A scan result cut short (ESP-IDF cuts a notification to the MTU − 3 bytes,
    /// espressif/esp-idf#3315) names its network when its SSID is whole, with the signal and
    /// authentication that are whole too; anything else names none.
    #[test]
    fn a_cut_scan_result_names_its_network_by_a_whole_ssid() {
        let whole = Network::encoded_list(&[Network::of("Neighbour", -80, Auth::Wpa)]);
        // 04 13 | 09 "Neighbour" | 03 "-80" | 03 "WPA" | checksum: 21 bytes.
        assert_eq!(whole.len(), 21);
        let named = |cut: usize| Network::from_cut_result(&whole[..cut]);
        let guest = |rssi, auth| Network {
            ssid: b"Neighbour".to_vec(),
            rssi,
            auth,
        };
        assert_eq!(named(11), None, "the SSID cut short");
        assert_eq!(named(12), Some(guest(None, alloc::vec![])));
        assert_eq!(
            named(15),
            Some(guest(None, alloc::vec![])),
            "the signal cut short"
        );
        assert_eq!(named(16), Some(guest(Some(-80), alloc::vec![])));
        assert_eq!(named(20), Some(guest(Some(-80), alloc::vec![Auth::Wpa])));
        assert_eq!(named(21), None, "whole: not cut");
        // Not a scan result, no SSID, or a first string longer than the data declared.
        assert_eq!(
            Network::from_cut_result(&[0x03, 0x10, 0x05, b'a', b'b', b'c', b'd', b'e']),
            None
        );
        assert_eq!(Network::from_cut_result(&[0x04, 0x10, 0x00, 0x03]), None);
        assert_eq!(
            Network::from_cut_result(&[0x04, 0x03, 0x05, b'a', b'b', b'c']),
            None
        );
        assert_eq!(Network::from_cut_result(&[0x04]), None);
        assert_eq!(Network::from_cut_result(&[]), None);
    }

    /// Every type the spec lists is named, a "/"-joined list is read as that list, and only
    /// `NO` is open; Improv serial's `YES` needs a password.
    #[test]
    fn scan_auth_is_a_list_of_the_specified_types() {
        let texts = [
            "NO", "WPA/WPA2", "WPA2 EAP", "WPA3", "WAPI/WEP", "YES", "NO/WPA2", "WPA4",
        ];
        let result = RpcResult {
            command: Command::ScanWifi,
            strings: texts
                .iter()
                .flat_map(|auth| [b"Net".to_vec(), b"-40".to_vec(), auth.as_bytes().to_vec()])
                .collect(),
        };
        let networks = Network::list_from_result(&result).unwrap();
        let auth: Vec<&[Auth]> = networks.iter().map(|n| &n.auth[..]).collect();
        assert_eq!(
            auth,
            [
                &[Auth::Open][..],
                &[Auth::Wpa, Auth::Wpa2],
                &[Auth::Wpa2Eap],
                &[Auth::Wpa3],
                &[Auth::Wapi, Auth::Wep],
                &[Auth::Required],
                &[Auth::Open, Auth::Wpa2],
                &[Auth::Other("WPA4".into())],
            ]
        );
        let open: Vec<bool> = networks.iter().map(|n| !n.needs_password()).collect();
        assert_eq!(
            open,
            [true, false, false, false, false, false, false, false]
        );
        let shown: Vec<String> = networks.iter().map(Network::auth_text).collect();
        assert_eq!(shown, texts);
        // As people read them: "NO" is open, "YES" a password needed.
        let described: Vec<String> = networks.iter().map(Network::auth_described).collect();
        assert_eq!(
            described,
            [
                "open",
                "WPA/WPA2",
                "WPA2 EAP",
                "WPA3",
                "WAPI/WEP",
                "password needed",
                "open/WPA2",
                "WPA4"
            ]
        );
        // The password rules that apply: WPA or WPA2 among the types is a passphrase.
        use crate::wifi::Security::*;
        let security: Vec<_> = networks.iter().map(Network::security).collect();
        assert_eq!(
            security,
            [
                Open,
                Personal,
                OtherSecured,
                OtherSecured,
                OtherSecured,
                OtherSecured,
                Personal,
                OtherSecured
            ]
        );
        assert_eq!(Network::list_to_result(&networks), result);
    }

    #[test]
    fn a_bad_scan_result_names_the_rssi_offset() {
        let result = RpcResult {
            command: Command::ScanWifi,
            strings: alloc::vec![b"Net".to_vec(), b"strong".to_vec(), b"NO".to_vec()],
        };
        // 2 header bytes, 1 length + 3 bytes of "Net", then the RSSI's length byte: text at 7.
        assert_eq!(
            Network::list_from_result(&result),
            Err(Error::BadRssi { offset: 7 })
        );
        let pair = RpcResult {
            command: Command::ScanWifi,
            strings: alloc::vec![b"Net".to_vec(), b"-1".to_vec()],
        };
        assert_eq!(
            Network::list_from_result(&pair),
            Err(Error::NotTriples { found: 2 })
        );
    }

    /// ESPHome lists its `next_url`, Home Assistant's link and its web server
    /// (`esphome/components/esp32_improv`): every plain http(s) one is offered, in order.
    #[test]
    fn every_plain_url_of_a_result_is_listed() {
        let home_assistant =
            "https://my.home-assistant.io/redirect/config_flow_start?domain=esphome";
        let result = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![
                home_assistant.as_bytes().to_vec(),
                b"javascript:alert(1)".to_vec(),
                b"http://192.168.1.43:80".to_vec(),
            ],
        };
        let listed: Vec<String> = RedirectUrl::all_from_result(&result)
            .iter()
            .map(|u| u.as_str().into())
            .collect();
        assert_eq!(listed, [home_assistant, "http://192.168.1.43:80"]);
        let other = RpcResult {
            command: Command::DeviceInfo,
            ..result
        };
        assert!(RedirectUrl::all_from_result(&other).is_empty());
    }

    #[test]
    fn redirect_urls_must_be_plain_http() {
        let ok = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![b"http://192.168.1.42:80".to_vec(), b"extra".to_vec()],
        };
        assert_eq!(
            RedirectUrl::from_result(&ok).unwrap().unwrap().as_str(),
            "http://192.168.1.42:80"
        );
        for (bad, offset) in [
            (&b"javascript:alert(1)"[..], 3),
            (b"https://a b", 3 + 9),
            (b"http://", 3 + 7),
            (b"http://\x07", 3 + 7),
            // U+202E would show "http://evil.com/moc.elgoog" reversed; U+200B hides in a host.
            ("http://evil.com/\u{202e}elgoog.com".as_bytes(), 3 + 16),
            ("http://go\u{200b}ogle.com".as_bytes(), 3 + 9),
        ] {
            let result = RpcResult {
                command: Command::WifiSettings,
                strings: alloc::vec![bad.to_vec()],
            };
            assert_eq!(
                RedirectUrl::from_result(&result),
                Err(Error::UnsafeUrl { offset }),
                "{bad:?}"
            );
        }
        let none = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![],
        };
        assert_eq!(RedirectUrl::from_result(&none), Ok(None));
        // A bare host, with or without a port, as some devices send: read as http.
        for (bare, url) in [
            ("192.168.1.5", "http://192.168.1.5"),
            ("esp.local:8080", "http://esp.local:8080"),
            ("my-device", "http://my-device"),
        ] {
            assert_eq!(RedirectUrl::new(bare.as_bytes()).unwrap().as_str(), url);
        }
        for bad in [
            "javascript:alert(1)",
            "file:///x",
            "a b",
            "esp.local:",
            ":8080",
            "esp.local:80:80",
            "esp.local/path",
            "user@esp.local",
            "esp.local:80a",
            "",
        ] {
            assert_eq!(
                RedirectUrl::new(bad.as_bytes()),
                Err(Error::UnsafeUrl { offset: 0 }),
                "{bad:?}"
            );
        }
        let empty = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![alloc::vec![]],
        };
        assert_eq!(RedirectUrl::from_result(&empty), Ok(None));
        assert!(matches!(
            RedirectUrl::from_result(&RpcResult {
                command: Command::ScanWifi,
                strings: alloc::vec![]
            }),
            Err(Error::WrongCommand { .. })
        ));
    }

    #[test]
    fn results_too_long_for_their_length_bytes_are_refused() {
        let long = RpcResult {
            command: Command::DeviceInfo,
            strings: alloc::vec![alloc::vec![b'x'; 256]],
        };
        assert!(matches!(long.encode(), Err(Error::Length { len: 256, .. })));
        let total = RpcResult {
            command: Command::DeviceInfo,
            strings: alloc::vec![alloc::vec![b'x'; 200]; 2],
        };
        assert!(matches!(
            total.encode(),
            Err(Error::Length { field: "data", .. })
        ));
    }
}

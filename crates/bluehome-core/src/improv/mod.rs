//! Improv Wi-Fi over BLE: how ESPHome and many ESP32 devices take Wi-Fi credentials, as a sans-IO
//! client.
//!
//! Sources: the protocol, <https://www.improv-wifi.com/ble/> (repository `improv-wifi/website`,
//! `src/ble.md`, revision 2.4); the browser client `improv-wifi/sdk-ble-js` (`src/ble.ts`); the
//! device side in `improv-wifi/sdk-cpp` (`src/improv.h`, `src/improv.cpp`) and ESPHome,
//! `esphome/esphome` `esphome/components/esp32_improv/`.
//!
//! The service has five characteristics: the current [`State`] and [`ErrorCode`] (one byte each,
//! read and notify), the RPC command (write), the RPC result (read and notify) and the
//! [`Capabilities`] byte (read). A command is a frame `[command][length][data…][checksum]` where
//! the checksum is the low byte of the sum of all bytes before it; a result is a frame of the same
//! shape whose data is a list of length-prefixed strings ([`rpc`]).
//!
//! The flow ([`client::Client`]): read the capabilities, state and error; if the state is
//! "authorization required", ask the person to press the device's button and wait for
//! "authorized"; identify, ask for device info or a Wi-Fi scan where the capabilities offer them;
//! send the credentials and follow the state to "provisioned", where the RPC result's first string
//! is the URL to open next. State, error and result changes arrive as notifications when the
//! browser gets them, and are also polled, because notifications may not come.

pub mod client;
pub mod rpc;

pub use client::{Client, Options, Response};
pub use rpc::{Credentials, DeviceInfo, Network, RedirectUrl, Request, RpcResult};

use core::fmt;

use crate::gatt::Properties;
use crate::uuid::Uuid;

/// The Improv service; a device must advertise it.
pub const SERVICE_UUID: Uuid = Uuid(0x00467768_6228_2272_4663_277478268000);
/// The 16-bit service-data UUID (`4677`) of the advertisement's `[state][capabilities][0 0 0 0]`
/// (spec revision 2.0).
pub const SERVICE_DATA_UUID: Uuid = Uuid::from_u16(0x4677);

/// One characteristic of the Improv service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Characteristic {
    /// `…8001`: the current [`State`] (read, notify).
    State,
    /// `…8002`: the current [`ErrorCode`] (read, notify).
    Error,
    /// `…8003`: where commands are written.
    RpcCommand,
    /// `…8004`: the last command's result (read, notify).
    RpcResult,
    /// `…8005`: the [`Capabilities`] byte (read).
    Capabilities,
}

impl Characteristic {
    /// Every characteristic, in UUID order.
    pub const ALL: [Self; 5] = [
        Self::State,
        Self::Error,
        Self::RpcCommand,
        Self::RpcResult,
        Self::Capabilities,
    ];

    /// Its UUID: the service UUID with the last digit 1 to 5.
    pub const fn uuid(self) -> Uuid {
        let last = match self {
            Self::State => 1,
            Self::Error => 2,
            Self::RpcCommand => 3,
            Self::RpcResult => 4,
            Self::Capabilities => 5,
        };
        Uuid(SERVICE_UUID.0 + last)
    }

    /// The short name used in logs and by `bluehome sim improv` (`state`, `rpc_result`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Error => "error",
            Self::RpcCommand => "rpc_command",
            Self::RpcResult => "rpc_result",
            Self::Capabilities => "capabilities",
        }
    }

    /// Its properties, as the specification's table gives them.
    pub const fn properties(self) -> Properties {
        match self {
            Self::State | Self::Error | Self::RpcResult => Properties::READ_NOTIFY,
            Self::RpcCommand => Properties::WRITE,
            Self::Capabilities => Properties::READ,
        }
    }
}

crate::gatt::characteristics!(Characteristic);

/// Generates an open enum over a byte: named values from a table, anything else kept as `Other`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this revision of the protocol does not define.
            Other(u8),
        }

        impl From<u8> for $name {
            fn from(byte: u8) -> Self {
                match byte {
                    $($value => Self::$variant,)*
                    other => Self::Other(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                match value {
                    $($name::$variant => $value,)*
                    $name::Other(byte) => byte,
                }
            }
        }
    };
}

open_enum! {
    /// The current state (improv-wifi.com/ble, "Current State"; 0x00 from sdk-cpp's `improv.h`).
    State {
        /// 0x00: the service has stopped (sdk-cpp `STATE_STOPPED`; ESPHome's `esp32_improv`
        /// `stop()` sets it, and its advertisement's service data says it).
        Stopped = 0x00,
        /// 0x01: waiting for a person to authorize (press a button).
        AuthorizationRequired = 0x01,
        /// 0x02: ready to accept credentials.
        Authorized = 0x02,
        /// 0x03: credentials received, connecting.
        Provisioning = 0x03,
        /// 0x04: connected.
        Provisioned = 0x04,
    }
}

open_enum! {
    /// The current error (improv-wifi.com/ble, "Error state").
    ErrorCode {
        /// 0x00: no error.
        NoError = 0x00,
        /// 0x01: the RPC packet was malformed (bad length or checksum).
        InvalidRpc = 0x01,
        /// 0x02: the command is unknown to the device.
        UnknownCommand = 0x02,
        /// 0x03: the credentials arrived but connecting to the network failed.
        UnableToConnect = 0x03,
        /// 0x04: credentials were sent while the service was not authorized.
        NotAuthorized = 0x04,
        /// 0x05: the hostname provided was not valid or acceptable (revision 2.3).
        BadHostname = 0x05,
        /// 0xFF: an unknown error.
        Unknown = 0xFF,
    }
}

open_enum! {
    /// An RPC command id (improv-wifi.com/ble, "RPC Command").
    Command {
        /// 0x01: send Wi-Fi settings; the result's first string is the redirect URL.
        WifiSettings = 0x01,
        /// 0x02: identify (blink, beep); no result.
        Identify = 0x02,
        /// 0x03: device info; the result is firmware name, version, chip, device name (and
        /// since revision 2.4 maybe the OS name and version).
        DeviceInfo = 0x03,
        /// 0x04: scan for Wi-Fi networks; the result is SSID, RSSI, auth triples.
        ScanWifi = 0x04,
        /// 0x05: get (no data) or set the hostname; the result is the hostname (revision 2.3).
        /// Named only: this crate never sends it.
        Hostname = 0x05,
        /// 0x06: get (no data) or set the device name; the result is the device name (revision
        /// 2.4). Named only: this crate never sends it.
        DeviceName = 0x06,
    }
}

impl State {
    /// A short description for people.
    pub fn description(self) -> &'static str {
        match self {
            Self::Stopped => "stopped: its Improv service no longer runs",
            Self::AuthorizationRequired => "waiting for authorization: press the device's button",
            Self::Authorized => "ready for Wi-Fi credentials",
            Self::Provisioning => "connecting to the Wi-Fi network",
            Self::Provisioned => "connected to the Wi-Fi network",
            Self::Other(_) => "in a state this version of Improv does not define",
        }
    }
}

impl ErrorCode {
    /// What the error means and what to do, for people.
    pub fn description(self) -> &'static str {
        match self {
            Self::NoError => "no error",
            Self::InvalidRpc => {
                "the device could not read the command (malformed or bad checksum); try again"
            }
            Self::UnknownCommand => "the device does not know this command",
            Self::UnableToConnect => {
                "the device could not join the network: check the network name and password, \
                 and that the network is in range and uses 2.4 GHz if the device needs it"
            }
            Self::NotAuthorized => {
                "the device was not authorized: press its button, then send the settings again"
            }
            Self::BadHostname => "the device did not accept the hostname",
            Self::Unknown => "the device reported an unknown error",
            Self::Other(_) => "the device reported an error this version of Improv does not define",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (Improv error 0x{:02x})",
            self.description(),
            u8::from(*self)
        )
    }
}

/// The capabilities byte (improv-wifi.com/ble, "Capabilities"). Bits 4–7 are not defined by
/// revision 2.4 and are kept as they came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(pub u8);

impl Capabilities {
    /// Bit 0: the identify command.
    pub const IDENTIFY: u8 = 0x01;
    /// Bit 1: the device-info command.
    pub const DEVICE_INFO: u8 = 0x02;
    /// Bit 2: the scan-Wi-Fi command.
    pub const SCAN_WIFI: u8 = 0x04;
    /// Bit 3: the hostname command (revision 2.3).
    pub const HOSTNAME: u8 = 0x08;

    /// Whether the device offers `command` (Wi-Fi settings always; unknown commands never). The
    /// device-name command has no capability bit (revision 2.4), so the byte cannot say a device
    /// offers it: `false`, as for a command the byte does not name.
    pub fn offers(self, command: Command) -> bool {
        match command {
            Command::WifiSettings => true,
            Command::Identify => self.0 & Self::IDENTIFY != 0,
            Command::DeviceInfo => self.0 & Self::DEVICE_INFO != 0,
            Command::ScanWifi => self.0 & Self::SCAN_WIFI != 0,
            Command::Hostname => self.0 & Self::HOSTNAME != 0,
            Command::DeviceName | Command::Other(_) => false,
        }
    }
}

/// The advertisement's service data (UUID `4677`): state and capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceData {
    /// The current state.
    pub state: State,
    /// The capabilities.
    pub capabilities: Capabilities,
}

impl ServiceData {
    /// Reads `[state][capabilities][0][0][0][0]`. Only the first two bytes are read (the other four
    /// are reserved); fewer than two is an error naming the length.
    pub fn parse(data: &[u8]) -> Result<Self, rpc::Error> {
        match data {
            [state, capabilities, ..] => Ok(Self {
                state: State::from(*state),
                capabilities: Capabilities(*capabilities),
            }),
            _ => Err(rpc::Error::Truncated {
                offset: data.len(),
                needed: 2 - data.len(),
            }),
        }
    }

    /// The six bytes a device advertises.
    pub fn encode(&self) -> [u8; 6] {
        [u8::from(self.state), self.capabilities.0, 0, 0, 0, 0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gatt::AttError;
    use alloc::string::ToString;

    /// The UUIDs exactly as improv-wifi.com/ble lists them.
    #[test]
    fn uuids_match_the_specification() {
        for (uuid, text) in [
            (SERVICE_UUID, "00467768-6228-2272-4663-277478268000"),
            (
                Characteristic::State.uuid(),
                "00467768-6228-2272-4663-277478268001",
            ),
            (
                Characteristic::Capabilities.uuid(),
                "00467768-6228-2272-4663-277478268005",
            ),
            (SERVICE_DATA_UUID, "00004677-0000-1000-8000-00805f9b34fb"),
        ] {
            assert_eq!(uuid.to_string(), text);
        }
    }

    #[test]
    fn characteristics_parse_by_name_and_uuid() {
        assert_eq!("rpc_result".parse(), Ok(Characteristic::RpcResult));
        assert_eq!(
            "00467768-6228-2272-4663-277478268003".parse(),
            Ok(Characteristic::RpcCommand)
        );
        assert_eq!(
            "rpc".parse::<Characteristic>(),
            Err(AttError::AttributeNotFound)
        );
    }

    /// Values the specification does not define are data, not errors, and survive a round trip.
    #[test]
    fn codes_are_open_enums() {
        assert_eq!(State::from(0x02), State::Authorized);
        assert_eq!(State::from(0x09), State::Other(0x09));
        assert_eq!(u8::from(State::Other(0x09)), 0x09);
        assert_eq!(ErrorCode::from(0xFF), ErrorCode::Unknown);
        assert_eq!(ErrorCode::from(0x06), ErrorCode::Other(0x06));
        for byte in 0..=255u8 {
            assert_eq!(u8::from(State::from(byte)), byte);
            assert_eq!(u8::from(ErrorCode::from(byte)), byte);
            assert_eq!(u8::from(Command::from(byte)), byte);
        }
    }

    #[test]
    fn capabilities_gate_the_optional_commands() {
        let caps = Capabilities(Capabilities::IDENTIFY | Capabilities::SCAN_WIFI | 0x80);
        assert!(caps.offers(Command::Identify) && caps.offers(Command::ScanWifi));
        assert!(!caps.offers(Command::DeviceInfo));
        assert!(Capabilities(0).offers(Command::WifiSettings));
        assert!(!caps.offers(Command::Other(0x07)));
        // Each optional command by its own bit: offered with that bit alone, not with all others.
        for (command, bit) in [
            (Command::Identify, Capabilities::IDENTIFY),
            (Command::DeviceInfo, Capabilities::DEVICE_INFO),
            (Command::ScanWifi, Capabilities::SCAN_WIFI),
            (Command::Hostname, Capabilities::HOSTNAME),
        ] {
            assert!(Capabilities(bit).offers(command), "{command:?}");
            assert!(!Capabilities(!bit).offers(command), "{command:?}");
        }
    }

    /// Revision 2.4 (and sdk-cpp's `improv.h` for state 0x00): the values are named, described,
    /// and bit 3 offers the hostname command; the device-name command has no bit.
    #[test]
    fn revision_2_4_values_are_known() {
        assert_eq!(
            ErrorCode::from(0x05).to_string(),
            "the device did not accept the hostname (Improv error 0x05)"
        );
        assert!(State::from(0x00).description().contains("stopped"));
        let hostname = Capabilities(0x08);
        assert!(hostname.offers(Command::from(0x05)));
        assert!(
            !hostname.offers(Command::from(0x06))
                && !Capabilities(0xFF).offers(Command::from(0x06))
        );
        assert!(!Capabilities(0x07).offers(Command::from(0x05)));
    }

    /// Spec rev 2.0: service data `[state][capabilities][0][0][0][0]`.
    #[test]
    fn service_data_round_trips_and_short_data_is_an_error() {
        let data = ServiceData {
            state: State::AuthorizationRequired,
            capabilities: Capabilities(0x07),
        };
        assert_eq!(data.encode(), [0x01, 0x07, 0, 0, 0, 0]);
        assert_eq!(ServiceData::parse(&data.encode()), Ok(data));
        assert_eq!(
            ServiceData::parse(&[0x01]),
            Err(rpc::Error::Truncated {
                offset: 1,
                needed: 1
            })
        );
    }
}

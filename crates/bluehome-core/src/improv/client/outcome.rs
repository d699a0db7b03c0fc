//! What an Improv task ends with: the device's answer ([`Response`]) or why it failed ([`Error`]),
//! and how the RPC result's bytes are read as the answer to a command.

use alloc::vec::Vec;
use core::fmt;

use super::super::rpc::{self, DeviceInfo, Network, RedirectUrl, RpcResult};
use super::super::{Capabilities, Characteristic, Command, ErrorCode, State};
#[cfg(doc)]
use super::Client;
use crate::gatt::AttError;

/// What a finished task produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The connection task: what the device reports.
    Connected {
        /// The capabilities (0 when the characteristic is missing, as the browser SDK assumes).
        capabilities: Capabilities,
        /// The state.
        state: State,
        /// The error.
        error: ErrorCode,
    },
    /// [`Client::await_authorization`]: the state is "authorized".
    Authorized,
    /// [`Client::identify`]: the command was written (identify has no result).
    Identified,
    /// [`Client::request_device_info`].
    DeviceInfo(DeviceInfo),
    /// [`Client::scan_wifi`]: the networks the device sees (possibly none).
    Networks(Vec<Network>),
    /// [`Client::send_wifi`]: the device joined the network.
    Provisioned {
        /// The URL to open next, if the device gave a usable one.
        redirect: Option<RedirectUrl>,
        /// Why the device's URL was refused, if it was.
        redirect_error: Option<rpc::Error>,
    },
}

/// Why a task failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A GATT operation failed.
    Gatt {
        /// On which characteristic.
        characteristic: Characteristic,
        /// How.
        error: AttError,
    },
    /// The device reported an error ([`ErrorCode::description`] explains it).
    Device(ErrorCode),
    /// The capabilities byte does not offer this command.
    Unsupported(Command),
    /// The state is "authorization required": the person must press the device's button.
    AuthorizationRequired,
    /// The state does not allow this (already provisioning or provisioned).
    WrongState(State),
    /// The deadline passed.
    Timeout {
        /// What was awaited.
        waiting_for: &'static str,
    },
    /// A state, error or capabilities value of the wrong size.
    BadValue {
        /// Which characteristic.
        characteristic: Characteristic,
        /// Its length.
        len: usize,
    },
    /// The RPC result's bytes are not a valid result.
    Rpc(rpc::Error),
    /// A task is running or its outcome has not been taken.
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gatt {
                characteristic,
                error,
            } => write!(f, "{characteristic}: {error}"),
            Self::Device(code) => code.fmt(f),
            Self::Unsupported(command) => write!(
                f,
                "the device does not offer command {:#04x}",
                u8::from(*command)
            ),
            Self::AuthorizationRequired => {
                f.write_str("the device waits for authorization: press its button")
            }
            Self::WrongState(state) => write!(f, "the device is {}", state.description()),
            Self::Timeout { waiting_for } => write!(f, "no {waiting_for} before the deadline"),
            Self::BadValue {
                characteristic,
                len,
            } => write!(f, "{characteristic} is {len} bytes where 1 was expected"),
            Self::Rpc(e) => write!(f, "RPC result: {e}"),
            Self::Busy => f.write_str("another Improv task is running"),
        }
    }
}

impl core::error::Error for Error {}

/// Reads the result bytes as the answer to `command`; `None` when they answer something else (or
/// nothing yet). Bytes that are not a result at all fail the task only when they are new.
pub(super) fn answer(
    command: Command,
    bytes: &[u8],
    fresh: bool,
) -> Option<Result<Response, Error>> {
    if bytes.is_empty() {
        return None;
    }
    let result = match RpcResult::parse(bytes) {
        Ok(r) => r,
        Err(e) => return fresh.then_some(Err(Error::Rpc(e))),
    };
    if result.command != command {
        return None;
    }
    Some(match command {
        Command::DeviceInfo => DeviceInfo::from_result(&result)
            .map(Response::DeviceInfo)
            .map_err(Error::Rpc),
        Command::ScanWifi => Network::list_from_result(&result)
            .map(|list| Response::Networks(Network::strongest_per_ssid(list)))
            .map_err(Error::Rpc),
        _ => Ok(match RedirectUrl::from_result(&result) {
            Ok(redirect) => Response::Provisioned {
                redirect,
                redirect_error: None,
            },
            Err(e) => Response::Provisioned {
                redirect: None,
                redirect_error: Some(e),
            },
        }),
    })
}

//! What every sans-IO GATT client in the core shares: the ATT errors a GATT operation can fail
//! with, and the action/feedback pair through which a client asks its IO shell for the next GATT
//! operation and hears how it went.
//!
//! The Shelly BLU settings ([`crate::blu`]) and Improv ([`crate::improv`]) clients speak
//! [`Action`] and [`Feedback`]; the Shelly RPC transport has its own copy of the same shape in
//! [`crate::shelly::rpc::client`], with its characteristic type built in.

use core::fmt;

/// Why a GATT operation failed, as an ATT error (Core Specification Vol 3 Part F 3.4.1.1), or
/// because the link went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AttError {
    /// 0x01: the handle (here: characteristic name) does not exist.
    AttributeNotFound,
    /// 0x02: the characteristic cannot be read (a write-only one such as a passkey).
    ReadNotPermitted,
    /// 0x03: the characteristic cannot be written (BLE RPC disabled, or `rx_ctl`).
    WriteNotPermitted,
    /// 0x05: the link must be paired (bonded) first.
    InsufficientAuthentication,
    /// 0x06: the request is not supported (a `tx_ctl` value shorter than 4 bytes, reading `tx_ctl`,
    /// a write longer than the device accepts).
    RequestNotSupported,
    /// 0x07: a data chunk runs past the announced frame length.
    InvalidOffset,
    /// 0x0D: a written value has the wrong length for the characteristic.
    InvalidAttributeValueLength,
    /// 0x11: the announced frame is larger than the device's buffer.
    InsufficientResources,
    /// 0x13: a written value is outside what the characteristic accepts.
    ValueNotAllowed,
    /// The link is down (not an ATT error; reported with code 0x0E, "unlikely error").
    Disconnected,
    /// Any other ATT error code.
    Other(u8),
}

impl AttError {
    /// The ATT error code.
    pub const fn code(self) -> u8 {
        match self {
            Self::AttributeNotFound => 0x01,
            Self::ReadNotPermitted => 0x02,
            Self::WriteNotPermitted => 0x03,
            Self::InsufficientAuthentication => 0x05,
            Self::RequestNotSupported => 0x06,
            Self::InvalidOffset => 0x07,
            Self::InvalidAttributeValueLength => 0x0D,
            Self::InsufficientResources => 0x11,
            Self::ValueNotAllowed => 0x13,
            Self::Disconnected => 0x0E,
            Self::Other(code) => code,
        }
    }

    /// The snake-case name used by the simulators' line protocol.
    pub const fn name(self) -> &'static str {
        match self {
            Self::AttributeNotFound => "attribute_not_found",
            Self::ReadNotPermitted => "read_not_permitted",
            Self::WriteNotPermitted => "write_not_permitted",
            Self::InsufficientAuthentication => "insufficient_authentication",
            Self::RequestNotSupported => "request_not_supported",
            Self::InvalidOffset => "invalid_offset",
            Self::InvalidAttributeValueLength => "invalid_attribute_value_length",
            Self::InsufficientResources => "insufficient_resources",
            Self::ValueNotAllowed => "value_not_allowed",
            Self::Disconnected => "disconnected",
            Self::Other(_) => "other",
        }
    }

    /// Reads a name as [`AttError::name`] prints it; unknown names become `Other(code)`.
    pub fn from_name(name: &str, code: u8) -> Self {
        match name {
            "attribute_not_found" => Self::AttributeNotFound,
            "read_not_permitted" => Self::ReadNotPermitted,
            "write_not_permitted" => Self::WriteNotPermitted,
            "insufficient_authentication" => Self::InsufficientAuthentication,
            "request_not_supported" => Self::RequestNotSupported,
            "invalid_offset" => Self::InvalidOffset,
            "invalid_attribute_value_length" => Self::InvalidAttributeValueLength,
            "insufficient_resources" => Self::InsufficientResources,
            "value_not_allowed" => Self::ValueNotAllowed,
            "disconnected" => Self::Disconnected,
            _ => Self::Other(code),
        }
    }
}

impl fmt::Display for AttError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (ATT error 0x{:02x})", self.name(), self.code())
    }
}

impl core::error::Error for AttError {}

/// The GATT operation a client wants next, on characteristics of type `C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a, C> {
    /// Write `value` (with response) to `characteristic`.
    Write {
        /// Where.
        characteristic: C,
        /// What.
        value: &'a [u8],
    },
    /// Read `characteristic`.
    Read {
        /// Where.
        characteristic: C,
    },
    /// Do nothing until `until_ms` (same clock as the `now_ms` arguments), then feed
    /// [`Feedback::Woke`]. A notification may end the wait early.
    Sleep {
        /// Absolute wake-up time.
        until_ms: u64,
    },
    /// Nothing more to do: the client has its outcome.
    Done,
}

/// How the last [`Action`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback<'a> {
    /// The write succeeded.
    Written,
    /// The read returned these bytes.
    Read(&'a [u8]),
    /// The sleep is over.
    Woke,
    /// The GATT operation failed.
    Failed(AttError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn att_error_names_round_trip() {
        for e in [
            AttError::AttributeNotFound,
            AttError::ReadNotPermitted,
            AttError::WriteNotPermitted,
            AttError::InsufficientAuthentication,
            AttError::RequestNotSupported,
            AttError::InvalidOffset,
            AttError::InvalidAttributeValueLength,
            AttError::InsufficientResources,
            AttError::ValueNotAllowed,
            AttError::Disconnected,
        ] {
            assert_eq!(AttError::from_name(e.name(), e.code()), e);
        }
        assert_eq!(AttError::from_name("whatever", 0x80), AttError::Other(0x80));
    }

    /// Codes from the Core Specification's ATT error table (Vol 3 Part F 3.4.1.1).
    #[test]
    fn codes_follow_the_core_specification() {
        assert_eq!(AttError::ReadNotPermitted.code(), 0x02);
        assert_eq!(AttError::InsufficientAuthentication.code(), 0x05);
        assert_eq!(AttError::InvalidAttributeValueLength.code(), 0x0D);
        assert_eq!(AttError::ValueNotAllowed.code(), 0x13);
    }
}

//! What every sans-IO GATT client in the core shares: the ATT errors a GATT operation can fail
//! with, and the action/feedback pair through which a client asks its IO shell for the next GATT
//! operation and hears how it went.
//!
//! The Shelly RPC transport ([`crate::shelly::rpc::client`]), the Shelly BLU settings
//! ([`crate::blu`]) and Improv ([`crate::improv`]) clients all speak [`Action`] and [`Feedback`],
//! each over its own characteristic type, which implements [`Characteristics`].

use core::fmt;

use crate::uuid::Uuid;

/// The characteristics of the one GATT service a client speaks to: each has a UUID and a short
/// name (for logs and the simulators' line protocol), and is found by either.
pub trait Characteristics: Sized + Copy + 'static {
    /// Every characteristic of the service.
    const ALL: &'static [Self];

    /// Its UUID.
    fn uuid(self) -> Uuid;

    /// Its short name.
    fn name(self) -> &'static str;

    /// The properties it declares.
    fn properties(self) -> Properties;

    /// Looks one up by its UUID.
    fn from_uuid(uuid: Uuid) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.uuid() == uuid)
    }

    /// Reads a short name or a UUID (any form [`Uuid`] parses); one the service does not have
    /// is [`AttError::AttributeNotFound`], as a discovery of it would answer.
    fn parse(text: &str) -> Result<Self, AttError> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.name() == text)
            .or_else(|| text.parse::<Uuid>().ok().and_then(Self::from_uuid))
            .ok_or(AttError::AttributeNotFound)
    }
}

/// What a characteristic declares it can do (Core Specification Vol 3 Part G 3.3.1.1, the
/// characteristic properties). Browsers check them before they ask the device: the Web Bluetooth
/// specification rejects `readValue()`, `writeValueWith(out)Response()` and `startNotifications()`
/// with a `NotSupportedError` when the property is missing. Whether a bond is needed is a
/// permission, not a property: the device answers that with an ATT error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Properties {
    /// Read.
    pub read: bool,
    /// Write (a write request, acknowledged).
    pub write: bool,
    /// Write without response (a write command).
    pub write_without_response: bool,
    /// Notify or indicate: the device sends changes.
    pub notify: bool,
}

impl Properties {
    /// Read only.
    pub const READ: Self = Self {
        read: true,
        write: false,
        write_without_response: false,
        notify: false,
    };
    /// Write (with response) only.
    pub const WRITE: Self = Self {
        read: false,
        write: true,
        write_without_response: false,
        notify: false,
    };
    /// Read and notify (or indicate).
    pub const READ_NOTIFY: Self = Self {
        notify: true,
        ..Self::READ
    };
    /// Read and write (with response).
    pub const READ_WRITE: Self = Self {
        write: true,
        ..Self::READ
    };
}

/// Implements [`Characteristics`] for a characteristic enum with inherent `const fn uuid`, `const
/// fn name`, `const fn properties` and `const ALL`, plus `Display` (the short name) and `FromStr` (a short name or a UUID,
/// as [`Characteristics::parse`]).
macro_rules! characteristics {
    ($t:ty) => {
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl core::str::FromStr for $t {
            type Err = $crate::gatt::AttError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                <Self as $crate::gatt::Characteristics>::parse(text)
            }
        }

        impl $crate::gatt::Characteristics for $t {
            const ALL: &'static [Self] = &<$t>::ALL;

            fn uuid(self) -> $crate::uuid::Uuid {
                <$t>::uuid(self)
            }

            fn name(self) -> &'static str {
                <$t>::name(self)
            }

            fn properties(self) -> $crate::gatt::Properties {
                <$t>::properties(self)
            }
        }
    };
}
pub(crate) use characteristics;

/// Why a GATT operation failed, as an ATT error (Core Specification Vol 3 Part F 3.4.1.1), or
/// because the link went down. Exhaustive on purpose (codes without a variant are kept in
/// [`AttError::Other`]): a variant added here must be mapped wherever ATT errors are explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttError {
    /// 0x0A: no such attribute (here: the service has no characteristic of that name or UUID,
    /// what a discovery of it answers).
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
            Self::AttributeNotFound => 0x0A,
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

    /// Codes from the Core Specification's ATT error table (Vol 3 Part F 3.4.1.1): 0x01 is
    /// Invalid Handle, 0x0A Attribute Not Found, 0x0E Unlikely Error.
    #[test]
    fn codes_follow_the_core_specification() {
        let table = [
            (AttError::ReadNotPermitted, 0x02),
            (AttError::WriteNotPermitted, 0x03),
            (AttError::InsufficientAuthentication, 0x05),
            (AttError::RequestNotSupported, 0x06),
            (AttError::InvalidOffset, 0x07),
            (AttError::AttributeNotFound, 0x0A),
            (AttError::InvalidAttributeValueLength, 0x0D),
            (AttError::Disconnected, 0x0E),
            (AttError::InsufficientResources, 0x11),
            (AttError::ValueNotAllowed, 0x13),
        ];
        for (error, code) in table {
            assert_eq!(error.code(), code, "{error:?}");
        }
        assert_eq!(
            AttError::Other(0x01).code(),
            0x01,
            "Invalid Handle is kept as a code"
        );
    }
}

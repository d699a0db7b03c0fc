//! How a Bluetooth operation failed: a kind rich enough for every explanation the app gives,
//! and the browser's (or simulator's) own words. `web::convert` reads Chrome's words into a kind
//! once; nothing else looks at the words.

use std::fmt;

use bluehome_core::gatt::AttError;

/// What kind of failure a Bluetooth operation met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// This browser (or the backend) does not offer the operation.
    Unsupported,
    /// The user closed the chooser or the scan permission prompt.
    UserCancelled,
    /// The page may not use Bluetooth here (permissions policy, insecure context, a service the
    /// chooser did not grant).
    NotAllowed,
    /// The chooser or scan prompt was asked for without a click or key press just before it
    /// (Chrome: "Must be handling a user gesture to show a permission request.").
    NoUserGesture,
    /// The device, service or characteristic was not found (or is not in `optionalServices`).
    NotFound,
    /// The Bluetooth adapter is off or missing.
    AdapterUnavailable,
    /// The device is not connected (or the connection dropped during the operation).
    Disconnected,
    /// A GATT operation failed for another reason (a network error, a value too long).
    Gatt,
    /// The link must be paired (bonded) first: "GATT Error: Not paired.", a failed or refused
    /// authentication, insufficient encryption.
    NotPaired,
    /// The device refuses the operation: "GATT operation not permitted.".
    NotPermitted,
    /// The device (or the browser's one GATT slot) is busy, or failed the operation for no stated
    /// reason: "GATT operation already in progress.", "GATT operation failed for unknown reason.".
    Busy,
    /// The operating system denies the browser Bluetooth (Android: "User denied the browser
    /// permission to scan for Bluetooth devices.").
    PermissionDenied,
    /// The operation took too long.
    Timeout,
    /// The request itself was malformed (an empty filter list, a bad UUID).
    InvalidRequest,
}

impl ErrorKind {
    /// The ATT error a core GATT client is told for a browser failure: the page never sees ATT
    /// codes, so this is as near as the browser's kinds get (the rest are 0x0E, Unlikely Error).
    pub fn att_error(self) -> AttError {
        match self {
            Self::Disconnected => AttError::Disconnected,
            Self::NotPaired => AttError::InsufficientAuthentication,
            Self::NotPermitted => AttError::WriteNotPermitted,
            Self::NotFound => AttError::AttributeNotFound,
            Self::Unsupported
            | Self::UserCancelled
            | Self::NotAllowed
            | Self::NoUserGesture
            | Self::AdapterUnavailable
            | Self::Gatt
            | Self::Busy
            | Self::PermissionDenied
            | Self::Timeout
            | Self::InvalidRequest => AttError::Other(0x0E),
        }
    }

    /// A short phrase for the kind.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unsupported => "not supported",
            Self::UserCancelled => "cancelled",
            Self::NotAllowed => "not allowed",
            Self::NoUserGesture => "needs a click",
            Self::NotFound => "not found",
            Self::AdapterUnavailable => "Bluetooth unavailable",
            Self::Disconnected => "disconnected",
            Self::Gatt => "GATT error",
            Self::NotPaired => "not paired",
            Self::NotPermitted => "not permitted",
            Self::Busy => "busy",
            Self::PermissionDenied => "permission denied",
            Self::Timeout => "timed out",
            Self::InvalidRequest => "invalid request",
        }
    }
}

/// A failed Bluetooth operation: its kind and the browser's own words (the DOMException name and
/// message on the web).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BleError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The detail, as the browser or simulator reported it.
    pub message: String,
}

impl BleError {
    /// Builds an error of one kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for BleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

impl std::error::Error for BleError {}

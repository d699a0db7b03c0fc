//! Every failure explained: what happened, in words a person can act on, and whether a retry
//! makes sense.
//!
//! Failures come from three places: the browser's Bluetooth stack (chooser, connect, GATT), the
//! GATT RPC transport (no answer, busy), and the device's JSON-RPC error codes. Each is sorted into
//! a [`FailureKind`] with a fixed title and advice; the raw detail is kept (secrets masked) for
//! people who want it.

use std::num::IntErrorKind;
use std::ops::RangeInclusive;

use bluehome_core::shelly::methods::ErrorCode;
use bluehome_core::text::printable;

use crate::ble::ErrorKind;

/// What kind of failure, as the user needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The chooser was closed.
    Cancelled,
    /// The browser has no Web Bluetooth, the adapter is off, or the page may not use it.
    BluetoothUnavailable,
    /// The operating system does not let the browser use Bluetooth (Android's app permission).
    BrowserPermission,
    /// The browser shows its chooser only right after a click or key press, and none came just
    /// before (the page waited too long between the click and the chooser).
    NeedsClick,
    /// The device did not answer the connection: too far away, off, or connected elsewhere.
    OutOfRange,
    /// The device wants a bonded (paired) link; it is out of its set-up window.
    PairingRequired,
    /// The device refuses RPC over Bluetooth (BLE RPC turned off).
    RpcDisabled,
    /// The device has no Shelly RPC service (not a Shelly, or a stale GATT cache).
    NotShelly,
    /// The device asks for its password and none is known.
    PasswordNeeded,
    /// The password (or remembered HA1) was refused.
    WrongPassword,
    /// The device refuses sign-ins for a while: too many failed ones (from any app), or no free
    /// nonce slot (firmware 2.0 answers 429). The password may well be right.
    SignInsPaused,
    /// No answer in time.
    Timeout,
    /// The device is busy with another request or about to reboot.
    DeviceBusy,
    /// The device already has its 20 bonds.
    BondsFull,
    /// The connection dropped during the operation.
    Disconnected,
    /// The device does not offer the method, or not in its present settings (404 "No handler",
    /// -114 unavailable: real firmware answers that for a method or component it lacks).
    Unsupported,
    /// The device refused the request (its JSON-RPC error code and message are in the detail).
    Refused,
    /// The answer made no sense (bad frame, wrong id).
    Protocol,
    /// The device took the Wi-Fi settings but could not join the network.
    WifiJoinFailed,
}

impl FailureKind {
    /// A one-line title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Cancelled => "No device chosen",
            Self::BluetoothUnavailable => "Bluetooth is not available",
            Self::BrowserPermission => "The browser may not use Bluetooth",
            Self::NeedsClick => "The browser wants a fresh click",
            Self::OutOfRange => "The device did not answer",
            Self::PairingRequired => "The device requires pairing",
            Self::RpcDisabled => "Bluetooth RPC is turned off on the device",
            Self::NotShelly => "No Shelly RPC service on this device",
            Self::PasswordNeeded => "The device is password protected",
            Self::WrongPassword => "Wrong password",
            Self::SignInsPaused => "The device pauses sign-ins",
            Self::Timeout => "The device took too long to answer",
            Self::DeviceBusy => "The device is busy",
            Self::BondsFull => "The device cannot pair with more devices",
            Self::Disconnected => "The connection dropped",
            Self::Unsupported => "The device does not offer this",
            Self::Refused => "The device refused the request",
            Self::Protocol => "The device's answer could not be read",
            Self::WifiJoinFailed => "The device could not join the Wi-Fi network",
        }
    }

    /// What to do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Self::Cancelled => "Open the chooser again and pick the device.",
            Self::BluetoothUnavailable => {
                "Turn Bluetooth on, and use Chrome or Edge over https:// or localhost (see the capability panel above)."
            }
            Self::BrowserPermission => {
                "Allow the browser to find Bluetooth devices: on Android, Settings › Apps › Chrome › Permissions › Nearby devices (and Location on Android 11 or older). Then retry."
            }
            Self::NeedsClick => {
                "The browser opens the device chooser only right after a click or key press. Press the button again."
            }
            Self::OutOfRange => {
                "Move closer (within a few metres), check that the device has power, and disconnect any other phone or app that is connected to it. Then retry."
            }
            Self::PairingRequired => {
                "After its set-up window a Shelly only accepts paired connections. Start pairing on the device (its web UI: Settings › Bluetooth › Pair, or BLE.StartPairing from a connected client), then retry within the pairing time (how this system pairs is said below). A Shelly keeps at most 20 paired devices: if pairing fails while it is on, its list may be full. Delete one in its paired-devices list (from a device still paired with it), then pair again."
            }
            Self::RpcDisabled => {
                "Turn on \"RPC over Bluetooth\" in the device's web UI (Settings › Bluetooth), then retry."
            }
            Self::NotShelly => {
                "Pick a Shelly Gen2, Gen3 or Gen4 device. If it is one, forget it in the operating system's Bluetooth settings (a stale cache hides services) and retry."
            }
            Self::PasswordNeeded => "Enter the device password and retry.",
            Self::WrongPassword => {
                "Check the password (the user is always admin). A remembered password is forgotten; enter it again."
            }
            Self::SignInsPaused => {
                "After too many failed sign-ins (from this page or any other app) Shelly firmware 2.0 refuses new ones for a while. Wait a few minutes and retry; if it happens again, check the password in the other apps that use this device."
            }
            Self::Timeout => {
                "Stay close to the device and retry. Wi-Fi scans can take up to 30 seconds."
            }
            Self::DeviceBusy => {
                "Wait a few seconds and retry; if it keeps failing, move closer or restart the device."
            }
            Self::BondsFull => {
                "A Shelly keeps at most 20 paired devices. Delete one in the paired-devices list, then pair again."
            }
            Self::Disconnected => "Reconnect and retry.",
            Self::Unsupported => {
                "Its firmware or its present settings do not offer this (the device's words are below). Newer firmware may, where the device gets it (not every generation does), or a setting may turn it on."
            }
            Self::Refused => "Check the values you entered and retry.",
            Self::Protocol => "Retry; if it persists, reconnect the device.",
            Self::WifiJoinFailed => {
                "Check the password, and that the network is 2.4 GHz and within reach of the device, then apply again."
            }
        }
    }

    /// Whether retrying the same step can help without changing anything first.
    pub fn retryable(self) -> bool {
        !matches!(
            self,
            Self::NotShelly | Self::BluetoothUnavailable | Self::Unsupported
        )
    }
}

/// A form field whose value a refusal is about: the form marks it invalid and names the
/// failure's words as its description (WCAG 3.3.1, technique ARIA21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormField {
    /// The Wi-Fi network name (SSID).
    WifiNetwork,
    /// The Wi-Fi password.
    WifiPassword,
    /// A new device password.
    NewPassword,
    /// The new device password, repeated.
    PasswordRepeat,
    /// The address of a device added to a gateway.
    GatewayAddress,
    /// The bind key of a device added to a gateway.
    GatewayBindKey,
    /// How long a gateway's device discovery runs.
    DiscoverySeconds,
    /// How long the pairing window stays open.
    PairingSeconds,
}

/// Reads a number of seconds typed into `field`: one within `range`, else a refusal that says
/// what was wrong with what was typed. Never a number clamped or guessed: what is sent is what
/// the user asked for.
pub fn typed_seconds(
    field: FormField,
    during: &str,
    typed: &str,
    range: RangeInclusive<u32>,
) -> Result<u32, Failure> {
    let typed = typed.trim();
    let words = match typed.parse::<u32>() {
        Ok(secs) if range.contains(&secs) => return Ok(secs),
        Ok(_) => format!("{typed} is out of range"),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => format!("{typed} is out of range"),
        Err(_) if typed.is_empty() => "none were typed".to_owned(),
        Err(_) => format!("\"{}\" is not a whole number", printable(typed)),
    };
    let (low, high) = (range.start(), range.end());
    let detail = format!("the seconds: {words} (a whole number from {low} to {high})");
    Err(Failure::refusing(field, during, detail))
}

/// One explained failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The kind.
    pub kind: FailureKind,
    /// What was being done ("connecting", "WiFi.Scan").
    pub during: String,
    /// The underlying detail, secrets masked.
    pub detail: String,
    /// The field whose value was refused, when the failure is about one.
    pub field: Option<FormField>,
}

impl Failure {
    /// Builds a failure.
    pub fn new(kind: FailureKind, during: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind,
            during: during.into(),
            detail: detail.into(),
            field: None,
        }
    }

    /// A refusal of what was typed into `field`, before anything was sent.
    pub fn refusing(field: FormField, during: &str, detail: impl Into<String>) -> Self {
        Self::new(FailureKind::Refused, during, detail).about(field)
    }

    /// The same failure, about what was typed into `field`.
    #[must_use]
    pub fn about(self, field: FormField) -> Self {
        Self {
            field: Some(field),
            ..self
        }
    }
}

/// When a browser failure happened: while the link is being set up (choosing the device,
/// connecting to it) or over an open link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Choosing or connecting: a failure without a clearer kind means the device did not answer.
    Connecting,
    /// A GATT operation over an open link.
    Connected,
}

impl FailureKind {
    /// The explanation of a browser Bluetooth failure, from the kind `ble::web::convert` read it
    /// as (the one place the browser's words are read).
    pub fn of_ble_error(kind: ErrorKind, stage: Stage) -> Self {
        use ErrorKind as K;
        match (kind, stage) {
            (K::UserCancelled, _) => Self::Cancelled,
            (K::PermissionDenied, _) => Self::BrowserPermission,
            (K::NoUserGesture, _) => Self::NeedsClick,
            (K::Unsupported | K::AdapterUnavailable | K::NotAllowed, _) => {
                Self::BluetoothUnavailable
            }
            (K::NotPaired, _) => Self::PairingRequired,
            (K::NotPermitted, _) => Self::RpcDisabled,
            (K::Busy, _) => Self::DeviceBusy,
            (K::Timeout, _) => Self::Timeout,
            (K::NotFound | K::Disconnected | K::Gatt | K::InvalidRequest, Stage::Connecting) => {
                Self::OutOfRange
            }
            (K::NotFound, Stage::Connected) => Self::NotShelly,
            (K::Disconnected, Stage::Connected) => Self::Disconnected,
            (K::Gatt | K::InvalidRequest, Stage::Connected) => Self::Protocol,
        }
    }

    /// The explanation of an error answer, from its code. `method` tells a full bond list apart:
    /// -108 (resource exhausted) from the BLE component's methods.
    pub fn of_rpc_error(code: ErrorCode, method: &str) -> Self {
        use ErrorCode as C;
        match code {
            C::AuthRequired => Self::WrongPassword,
            C::TooManyAuthFailures => Self::SignInsPaused,
            C::DeadlineExceeded => Self::Timeout,
            C::ResourceExhausted if method.starts_with("BLE.") => Self::BondsFull,
            C::LockedOut => Self::DeviceBusy,
            C::NoHandler | C::Unavailable => Self::Unsupported,
            C::InvalidArgument
            | C::NotFound
            | C::AlreadyExists
            | C::ResourceExhausted
            | C::FailedPrecondition
            | C::BadRequest
            | C::Forbidden
            | C::Internal
            | C::Other(_) => Self::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seconds within the range are taken as typed (spaces around them aside); anything else is
    /// refused on its field, saying what was typed and what is taken.
    #[test]
    fn typed_seconds_are_taken_or_refused_never_clamped() {
        let read =
            |typed| typed_seconds(FormField::DiscoverySeconds, "discovering", typed, 1..=120);
        assert_eq!(read(" 45 "), Ok(45));
        assert_eq!(read("1"), Ok(1));
        assert_eq!(read("120"), Ok(120));
        let refusal = |typed| read(typed).unwrap_err();
        let failure = refusal("121");
        assert_eq!(failure.kind, FailureKind::Refused);
        assert_eq!(failure.field, Some(FormField::DiscoverySeconds));
        assert_eq!(failure.during, "discovering");
        assert_eq!(
            failure.detail,
            "the seconds: 121 is out of range (a whole number from 1 to 120)"
        );
        assert!(refusal("0").detail.contains("0 is out of range"));
        assert!(
            refusal("99999999999")
                .detail
                .contains("99999999999 is out of range")
        );
        assert!(refusal("").detail.contains("none were typed"));
        assert!(
            refusal("-5")
                .detail
                .contains("\"-5\" is not a whole number")
        );
        assert!(
            refusal("1.5")
                .detail
                .contains("\"1.5\" is not a whole number")
        );
        assert!(
            refusal("soon\u{7}")
                .detail
                .contains("\"soon\\u{7}\" is not")
        );
    }

    /// Chrome's texts, each with the kind `ble::web::convert` gives it (tested in the browser,
    /// tests/web.rs), land on the explanation a person can act on.
    #[test]
    fn chrome_failures_get_the_right_explanation() {
        let cases = [
            (
                ErrorKind::NotPaired,
                "NetworkError: GATT Error: Not paired.",
                false,
                FailureKind::PairingRequired,
            ),
            (
                ErrorKind::Busy,
                "NotSupportedError: GATT operation failed for unknown reason.",
                false,
                FailureKind::DeviceBusy,
            ),
            (
                ErrorKind::Busy,
                "NetworkError: GATT operation already in progress.",
                false,
                FailureKind::DeviceBusy,
            ),
            (
                ErrorKind::PermissionDenied,
                "NotAllowedError: User denied the browser permission to scan for Bluetooth devices.",
                true,
                FailureKind::BrowserPermission,
            ),
            (
                ErrorKind::UserCancelled,
                "NotFoundError: User cancelled the requestDevice() chooser.",
                true,
                FailureKind::Cancelled,
            ),
            (
                ErrorKind::NoUserGesture,
                "SecurityError: Failed to execute 'requestDevice' on 'Bluetooth': Must be \
                 handling a user gesture to show a permission request.",
                true,
                FailureKind::NeedsClick,
            ),
            (
                ErrorKind::UserCancelled,
                "InvalidStateError: User canceled the permission prompt.",
                false,
                FailureKind::Cancelled,
            ),
            (
                ErrorKind::NotPermitted,
                "NotSupportedError: GATT operation not permitted.",
                false,
                FailureKind::RpcDisabled,
            ),
            (
                ErrorKind::Gatt,
                "NetworkError: Connection attempt failed.",
                true,
                FailureKind::OutOfRange,
            ),
            (
                ErrorKind::Disconnected,
                "NetworkError: GATT Server is disconnected. Cannot perform GATT operations.",
                false,
                FailureKind::Disconnected,
            ),
            (
                ErrorKind::NotFound,
                "NotFoundError: No Services matching UUID found in Device.",
                false,
                FailureKind::NotShelly,
            ),
        ];
        for (kind, text, connecting, want) in cases {
            let stage = if connecting {
                Stage::Connecting
            } else {
                Stage::Connected
            };
            assert_eq!(FailureKind::of_ble_error(kind, stage), want, "{text}");
        }
    }

    /// The pairing advice covers what Chrome cannot tell apart: a full bond list also answers
    /// "Not paired.". How the system pairs comes from [`Os::pairing_advice`](crate::platform::Os).
    #[test]
    fn pairing_advice_names_the_pairing_window_and_the_bond_limit() {
        let advice = FailureKind::PairingRequired.advice();
        assert!(advice.contains("Start pairing on the device"), "{advice}");
        assert!(advice.contains("at most 20 paired devices"), "{advice}");
        assert!(advice.contains("Delete one"), "{advice}");
    }

    #[test]
    fn rpc_codes_are_sorted() {
        let kind = |code: i64, method| FailureKind::of_rpc_error(ErrorCode::from(code), method);
        assert_eq!(kind(401, "WiFi.Scan"), FailureKind::WrongPassword);
        assert_eq!(kind(-108, "BLE.StartPairing"), FailureKind::BondsFull);
        assert_eq!(kind(-108, "BTHome.AddSensor"), FailureKind::Refused);
        assert_eq!(kind(418, "Shelly.GetStatus"), FailureKind::DeviceBusy);
        // Real firmware: `{"code":-114,"message":"Method Script.GetCode failed: Method not
        // found!"}` (a Wall Display, quoted in aioshelly `rpc_device/device.py`) and 404 "No
        // handler for …" mean the device lacks it; waiting does not help.
        assert_eq!(kind(-114, "Script.GetCode"), FailureKind::Unsupported);
        assert_eq!(kind(404, "BTHome.GetConfig"), FailureKind::Unsupported);
        // Firmware 2.0's sign-in throttle: "Too many failed authentication attempts".
        assert_eq!(kind(429, "Shelly.GetStatus"), FailureKind::SignInsPaused);
        assert_eq!(kind(-104, "WiFi.Scan"), FailureKind::Timeout);
        assert_eq!(kind(-105, "BTHome.DeleteDevice"), FailureKind::Refused);
        assert_eq!(kind(-999, "WiFi.Scan"), FailureKind::Refused);
    }

    #[test]
    fn every_kind_has_its_own_title_and_only_unfixable_ones_hide_retry() {
        use FailureKind as F;
        // Every kind (the match makes a new kind fail to compile until it is listed here).
        let every = [
            F::Cancelled,
            F::BluetoothUnavailable,
            F::BrowserPermission,
            F::OutOfRange,
            F::PairingRequired,
            F::RpcDisabled,
            F::NotShelly,
            F::PasswordNeeded,
            F::WrongPassword,
            F::SignInsPaused,
            F::Timeout,
            F::DeviceBusy,
            F::BondsFull,
            F::Disconnected,
            F::Unsupported,
            F::Refused,
            F::Protocol,
            F::WifiJoinFailed,
            F::NeedsClick,
        ];
        let unfixable = |kind| match kind {
            F::NotShelly | F::BluetoothUnavailable | F::Unsupported => true,
            F::Cancelled
            | F::BrowserPermission
            | F::NeedsClick
            | F::OutOfRange
            | F::PairingRequired
            | F::RpcDisabled
            | F::PasswordNeeded
            | F::WrongPassword
            | F::SignInsPaused
            | F::Timeout
            | F::DeviceBusy
            | F::BondsFull
            | F::Disconnected
            | F::Refused
            | F::Protocol
            | F::WifiJoinFailed => false,
        };
        for kind in every {
            assert_eq!(kind.retryable(), !unfixable(kind), "{kind:?}");
        }
        let titles: std::collections::BTreeSet<_> = every.map(FailureKind::title).into();
        assert_eq!(titles.len(), every.len(), "one title each");
        assert!(titles.iter().all(|t| !t.is_empty()));
    }
}

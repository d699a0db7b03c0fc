//! Every failure explained: what happened, in words a person can act on, and whether a retry
//! makes sense.
//!
//! Failures come from three places: the browser's Bluetooth stack (chooser, connect, GATT), the
//! GATT RPC transport (no answer, busy), and the device's JSON-RPC error codes. Each is sorted into
//! a [`FailureKind`] with a fixed title and advice; the raw detail is kept (secrets masked) for
//! people who want it.

use std::fmt;

/// What kind of failure, as the user needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The chooser was closed.
    Cancelled,
    /// The browser has no Web Bluetooth, the adapter is off, or the page may not use it.
    BluetoothUnavailable,
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
    /// No answer in time.
    Timeout,
    /// The device is busy with another request or about to reboot.
    DeviceBusy,
    /// The device already has its 20 bonds.
    BondsFull,
    /// The connection dropped during the operation.
    Disconnected,
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
            Self::OutOfRange => "The device did not answer",
            Self::PairingRequired => "The device requires pairing",
            Self::RpcDisabled => "Bluetooth RPC is turned off on the device",
            Self::NotShelly => "No Shelly RPC service on this device",
            Self::PasswordNeeded => "The device is password protected",
            Self::WrongPassword => "Wrong password",
            Self::Timeout => "The device took too long to answer",
            Self::DeviceBusy => "The device is busy",
            Self::BondsFull => "The device cannot pair with more devices",
            Self::Disconnected => "The connection dropped",
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
            Self::OutOfRange => {
                "Move closer (within a few metres), check that the device has power, and disconnect any other phone or app that is connected to it. Then retry."
            }
            Self::PairingRequired => {
                "After its set-up window a Shelly only accepts paired connections. Start pairing on the device (its web UI: Settings › Bluetooth › Pair, or BLE.StartPairing from a connected client), then retry within the pairing time; pair in the operating system's Bluetooth settings if the browser does not offer to."
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
            Self::Timeout => {
                "Stay close to the device and retry. Wi-Fi scans can take up to 30 seconds."
            }
            Self::DeviceBusy => "Wait a few seconds and retry.",
            Self::BondsFull => {
                "A Shelly keeps at most 20 paired devices. Delete one in the paired-devices list, then pair again."
            }
            Self::Disconnected => "Reconnect and retry.",
            Self::Refused => "Check the values you entered and retry.",
            Self::Protocol => "Retry; if it persists, reconnect the device.",
            Self::WifiJoinFailed => {
                "Check the password, and that the network is 2.4 GHz and within reach of the device, then apply again."
            }
        }
    }

    /// Whether retrying the same step can help without changing anything first.
    pub fn retryable(self) -> bool {
        !matches!(self, Self::NotShelly | Self::BluetoothUnavailable)
    }
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
}

impl Failure {
    /// Builds a failure.
    pub fn new(kind: FailureKind, during: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind,
            during: during.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.kind.title(),
            self.during,
            self.detail
        )
    }
}

/// Sorts a JSON-RPC error from the device. `method` helps where a code means different things.
pub fn kind_of_rpc_error(code: i64, message: &str, method: &str) -> FailureKind {
    let lower = message.to_ascii_lowercase();
    match code {
        401 => FailureKind::WrongPassword,
        -104 => FailureKind::Timeout,
        -108 if method.starts_with("BLE.") || lower.contains("bond") || lower.contains("pair") => {
            FailureKind::BondsFull
        }
        -114 | 418 => FailureKind::DeviceBusy,
        _ if lower.contains("busy") => FailureKind::DeviceBusy,
        _ => FailureKind::Refused,
    }
}

/// Sorts a browser Bluetooth failure by its words (the DOMException name and message, or the
/// backend's kind label), during a given stage.
pub fn kind_of_ble_error(text: &str, connecting: bool) -> FailureKind {
    let lower = text.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    if has("cancel") || has("chooser") && has("closed") {
        FailureKind::Cancelled
    } else if has("bond") && (has("full") || has("20")) {
        FailureKind::BondsFull
    } else if has("not paired")
        || has("insufficient auth")
        || has("insufficient_auth")
        || has("insufficient encryption")
        || has("authentication")
    {
        FailureKind::PairingRequired
    } else if has("not permitted") || has("write_not_permitted") {
        FailureKind::RpcDisabled
    } else if has("no services matching")
        || has("service not found")
        || has("notfound") && !connecting
    {
        FailureKind::NotShelly
    } else if has("adapter") || has("unsupported") || has("not supported") || has("notallowed") {
        FailureKind::BluetoothUnavailable
    } else if has("timed out") || has("timeout") {
        FailureKind::Timeout
    } else if has("busy") || has("in progress") {
        FailureKind::DeviceBusy
    } else if connecting {
        FailureKind::OutOfRange
    } else if has("disconnect") || has("networkerror") {
        FailureKind::Disconnected
    } else {
        FailureKind::Protocol
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chrome_not_paired_gatt_error_means_pairing_required() {
        // electron/electron#52837: "GATT Error: Not paired."
        assert_eq!(
            kind_of_ble_error("NetworkError: GATT Error: Not paired.", false),
            FailureKind::PairingRequired
        );
    }

    #[test]
    fn a_refused_bond_on_a_full_list_is_not_a_plain_pairing_failure() {
        assert_eq!(
            kind_of_ble_error(
                "GATT Error: Not paired. Pairing failed: the bond list is full (20 bonds)",
                false
            ),
            FailureKind::BondsFull
        );
    }

    #[test]
    fn connect_failure_without_a_reason_is_out_of_range() {
        assert_eq!(
            kind_of_ble_error("NetworkError: Connection attempt failed.", true),
            FailureKind::OutOfRange
        );
    }

    #[test]
    fn write_not_permitted_means_rpc_disabled() {
        // HA aborts with ble_not_permitted when the error text contains "not permitted".
        assert_eq!(
            kind_of_ble_error("GATT operation not permitted.", false),
            FailureKind::RpcDisabled
        );
    }

    #[test]
    fn closing_the_chooser_is_a_cancel() {
        assert_eq!(
            kind_of_ble_error(
                "NotFoundError: User cancelled the requestDevice() chooser.",
                true
            ),
            FailureKind::Cancelled
        );
    }

    #[test]
    fn rpc_codes_are_sorted() {
        assert_eq!(
            kind_of_rpc_error(401, "{}", "WiFi.Scan"),
            FailureKind::WrongPassword
        );
        assert_eq!(
            kind_of_rpc_error(-108, "Resource exhausted", "BLE.StartPairing"),
            FailureKind::BondsFull
        );
        assert_eq!(
            kind_of_rpc_error(-108, "Too many", "BTHome.AddSensor"),
            FailureKind::Refused
        );
        assert_eq!(
            kind_of_rpc_error(418, "", "Shelly.GetStatus"),
            FailureKind::DeviceBusy
        );
        assert_eq!(
            kind_of_rpc_error(-104, "", "WiFi.Scan"),
            FailureKind::Timeout
        );
    }

    #[test]
    fn only_unfixable_kinds_hide_retry() {
        assert!(FailureKind::OutOfRange.retryable());
        assert!(!FailureKind::NotShelly.retryable());
    }
}

//! The set-up flows' failures explained: the browser's errors (as `ble::web::convert` sorted them,
//! through the Shelly session's [`FailureKind`] where the words fit), a BLU operation's errors and
//! every documented Improv error, each with what to do. Pairing advice depends on the operating
//! system ([`Os`]).

use bluehome_core::MacAddress;
use bluehome_core::blu;
use bluehome_core::improv::{self, ErrorCode, State};
use bluehome_core::shelly::models::Model;

use crate::ble::{BleError, ErrorKind};
use crate::platform::Os;
use crate::state::shelly::explain::{FailureKind, Stage};

/// How a Shelly BLU device is put in pairing mode: as its page in shelly-api-docs docs-ble says
/// (`Devices/…`), else as docs-ble/common says for all. `model` is the product at hand, when known.
pub fn blu_pairing_mode(model: Option<&Model>) -> String {
    const MINUTE: &str = " for a minute";
    let (how, lasts) = match model.map(|m| m.id) {
        // wall_eu: "prior to v1.0.22, holding a single button longer than 10 seconds".
        Some(0x0006) => (
            "Hold two of its buttons together for more than 10 seconds (firmware before 1.0.22: one button)",
            "",
        ),
        // wall_us.
        Some(0x0007) => (
            "Hold one of its buttons for more than 10 seconds until its LED flashes blue",
            "",
        ),
        // trv.
        Some(0x0008) => (
            "Press its reset button (next to the battery cover) once",
            "",
        ),
        // BLU_ZB/blu_remote.
        Some(0x0009) => (
            "Press one of its buttons 4 times, until its LEDs run from left to right",
            "",
        ),
        // BLU/distance; BLU_ZB/ht_display as zigbee2mqtt's SBHT-103C page repeats its button list.
        Some(0x000A | 0x000C) => ("Press its button 4 times quickly", ""),
        // BLU_ZB/wstation.
        Some(0x000B) => ("Click its CAL button once", " for 30 seconds"),
        // BLU_ZB/{ht_ZB, BluMotionZB, dw_ZB}.
        Some(0x0011 | 0x0013 | 0x0014) => (
            "Press its button 4 times, or hold it for 10 seconds, until its LED blinks briefly every couple of seconds",
            MINUTE,
        ),
        // BLU_ZB/{button22_ZB, button4_ZB}.
        Some(0x0015 | 0x0016) => (
            "Press any of its buttons 4 times, or hold any two together for 10 seconds",
            MINUTE,
        ),
        Some(_) => (
            "Hold the device's button for more than 10 seconds until its LED flashes blue",
            MINUTE,
        ),
        None => (
            "Hold the device's button for more than 10 seconds until its LED flashes blue (a \"ZB\" model: press it 4 times)",
            MINUTE,
        ),
    };
    format!("{how}: it is then in pairing mode{lasts} and accepts a new connection.")
}

/// One explained failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupFailure {
    /// A one-line title.
    pub title: String,
    /// What to do.
    pub advice: String,
    /// What was being done.
    pub during: String,
    /// The underlying detail (the browser's or the device's words).
    pub detail: String,
    /// Its advice says how to pair, so the flow's standing pairing notice is not shown beside it.
    pub tells_pairing: bool,
}

impl SetupFailure {
    /// Builds one.
    pub fn new(
        title: impl Into<String>,
        advice: impl Into<String>,
        during: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            advice: advice.into(),
            during: during.into(),
            detail: detail.into(),
            tells_pairing: false,
        }
    }

    /// Marks its advice as the one that says how to pair.
    fn telling_pairing(self) -> Self {
        Self {
            tells_pairing: true,
            ..self
        }
    }

    /// A browser Bluetooth error; `blu` is the Shelly BLU product at hand, when known (its
    /// pairing-mode steps), and `address` its Bluetooth address (the commands to pair it).
    pub fn ble(
        error: &BleError,
        stage: Stage,
        during: &str,
        os: Os,
        blu: Option<&Model>,
        address: Option<MacAddress>,
    ) -> Self {
        let detail = error.to_string();
        match (error.kind, stage) {
            (ErrorKind::NotPaired, _) => Self::new(
                "The device wants a paired link",
                format!(
                    "{} {} Then retry.",
                    os.pairing_advice(address),
                    blu_pairing_mode(blu)
                ),
                during,
                detail,
            )
            .telling_pairing(),
            (ErrorKind::NotFound, Stage::Connected) => Self::new(
                "The device does not have this",
                "The device lacks the service or characteristic (another model or firmware). If it should have it, forget the device in the system's Bluetooth settings (a stale cache hides services) and retry.",
                during,
                detail,
            ),
            (ErrorKind::NotPermitted, _) => Self::new(
                "The device refused the operation",
                "The device does not allow this operation on this link. Retry after pairing; if it persists, the device does not offer it.",
                during,
                detail,
            ),
            (
                ErrorKind::Disconnected
                | ErrorKind::Gatt
                | ErrorKind::NotFound
                | ErrorKind::Timeout,
                Stage::Connecting,
            ) => {
                let kind = FailureKind::OutOfRange;
                Self::new(
                    kind.title(),
                    format!(
                        "{} A Shelly BLU sensor accepts connections only from a device it is paired with, or in pairing mode: {}",
                        kind.advice(),
                        blu_pairing_mode(blu)
                    ),
                    during,
                    detail,
                )
            }
            (kind, stage) => {
                let kind = FailureKind::of_ble_error(kind, stage);
                Self::new(kind.title(), kind.advice(), during, detail)
            }
        }
    }

    /// A BLU operation's error; `ble` is the browser's error behind a failed GATT operation,
    /// `model` the product and `address` its Bluetooth address, when known.
    pub fn blu(
        error: &blu::Error,
        ble: Option<&BleError>,
        during: &str,
        os: Os,
        model: Option<&Model>,
        address: Option<MacAddress>,
    ) -> Self {
        if let (blu::Error::Gatt { characteristic, .. }, Some(ble)) = (error, ble) {
            // Chrome does not always say "Not paired" when a device refuses an unpaired link:
            // Chromium's Bluetooth emulation on Linux reports ATT 0x05 as "GATT operation failed
            // for unknown reason." (seen in tests/e2e/setup.mjs). On a characteristic that needs
            // a bond, that is most likely the reason.
            let info = characteristic.info();
            let protected = info.read == blu::Access::Bonded || info.write == blu::Access::Bonded;
            if protected
                && !os.pairs_on_demand()
                && matches!(ble.kind, ErrorKind::Busy | ErrorKind::Gatt)
            {
                return Self::new(
                    "The device refused a protected operation",
                    format!(
                        "Reading the key and changing settings need a paired link, and the browser did not say why this failed. {} {} If the device is paired already, wait a few seconds and retry.",
                        os.pairing_advice(address),
                        blu_pairing_mode(model)
                    ),
                    during,
                    ble.to_string(),
                )
                .telling_pairing();
            }
            return Self::ble(ble, Stage::Connected, during, os, model, address);
        }
        let detail = error.to_string();
        let (title, advice) = match error {
            blu::Error::Missing(_) | blu::Error::NotReadable(_) | blu::Error::NotWritable(_) => (
                "The device does not offer this",
                "This model or firmware does not have the setting; only what the device lists is offered.",
            ),
            blu::Error::Value(_) => (
                "The value does not fit",
                "Check the value against the range shown and try again.",
            ),
            blu::Error::Unreadable { .. } => (
                "The device's answer is not a value this page knows",
                "Its firmware may differ from the documented one. Retry; if it persists, change the setting in the Shelly app.",
            ),
            blu::Error::NotApplied {
                characteristic: blu::Characteristic::BuzzerActivate,
                ..
            } => (
                "The buzzer did not start",
                "\"Find my button\" sounds only while beacon mode is on: turn beacon mode on, then try again.",
            ),
            blu::Error::NotApplied { .. } => (
                "The device did not keep the value",
                "It still reads its old value. Retry; if it persists, the firmware ignores this setting.",
            ),
            blu::Error::KeyNotSet => (
                "Encryption is not on yet",
                "The device has no key yet: turn encryption on with a passkey first.",
            ),
            _ => (
                "The device's answer could not be used",
                "Retry; if it persists, reconnect the device.",
            ),
        };
        Self::new(title, advice, during, detail)
    }

    /// An Improv task's error; `ble` is the browser's error behind a failed GATT operation.
    pub fn improv(
        error: &improv::client::Error,
        ble: Option<&BleError>,
        during: &str,
        os: Os,
    ) -> Self {
        use improv::client::Error as E;
        if let (E::Gatt { .. }, Some(ble)) = (error, ble) {
            return Self::ble(ble, Stage::Connected, during, os, None, None);
        }
        let detail = error.to_string();
        let (title, advice): (&str, String) = match error {
            E::Device(code) => (improv_title(*code), improv_advice(*code).to_owned()),
            E::AuthorizationRequired => (
                "The device waits for authorization",
                "Press the button on the device (or do what its documentation says to authorize), then retry.".to_owned(),
            ),
            E::WrongState(State::Stopped) => (
                "The device's Improv service has stopped",
                "It no longer takes Wi-Fi settings (ESPHome stops the service once the device is on a network). Restart the device to start it again, then reconnect.".to_owned(),
            ),
            E::WrongState(state) => (
                "The device is not ready for this",
                format!("The device is {}. Wait for it to finish, or reconnect and retry.", state.description()),
            ),
            E::Unsupported(_) => (
                "The device does not offer this",
                "Its capabilities do not include this command.".to_owned(),
            ),
            E::Timeout { .. } => (
                "The device took too long",
                "Stay close to the device and retry. Joining a network can take up to a minute.".to_owned(),
            ),
            _ => (
                "The device's answer could not be read",
                "Retry; if it persists, reconnect the device.".to_owned(),
            ),
        };
        Self::new(title, advice, during, detail)
    }
}

/// The title for each documented Improv error (improv-wifi.com/ble, "Error state").
pub fn improv_title(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NoError => "No error",
        ErrorCode::InvalidRpc => "The device could not read the command",
        ErrorCode::UnknownCommand => "The device does not know the command",
        ErrorCode::UnableToConnect => "The device could not join the Wi-Fi network",
        ErrorCode::NotAuthorized => "The device was not authorized",
        ErrorCode::BadHostname => "The device did not accept the hostname",
        ErrorCode::Unknown | ErrorCode::Other(_) => "The device reported an error",
    }
}

/// What to do about each documented Improv error.
pub fn improv_advice(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NoError => "Nothing to do.",
        ErrorCode::InvalidRpc => {
            "The command arrived damaged (a bad length or checksum). Retry; move closer if it repeats."
        }
        ErrorCode::UnknownCommand => {
            "The device's firmware does not support this command; update it or use what it offers."
        }
        ErrorCode::UnableToConnect => {
            "Check the network name and password, that the network is in range, and that it uses 2.4 GHz if the device needs it. Then send the settings again."
        }
        ErrorCode::NotAuthorized => {
            "Press the button on the device to authorize, then send the settings again."
        }
        ErrorCode::BadHostname => {
            "A hostname may hold only letters, digits and hyphens (RFC 1123). Choose another and send it again."
        }
        ErrorCode::Unknown | ErrorCode::Other(_) => {
            "Retry; if it persists, restart the device and reconnect."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairing_advice_follows_the_operating_system() {
        let error = BleError::new(
            ErrorKind::NotPaired,
            "NetworkError: GATT Error: Not paired.",
        );
        let windows =
            SetupFailure::ble(&error, Stage::Connected, "writing", Os::Windows, None, None);
        assert!(
            windows.advice.contains("Settings › Bluetooth & devices"),
            "{windows:?}"
        );
        let mac = SetupFailure::ble(&error, Stage::Connected, "writing", Os::MacOs, None, None);
        assert!(mac.advice.contains("system will ask"), "{mac:?}");
        assert!(mac.advice.contains("10 seconds"));
    }

    /// Each product's own way into pairing mode, from its docs-ble page.
    #[test]
    fn pairing_mode_steps_follow_the_product() {
        let how = |code: &str| blu_pairing_mode(bluehome_core::shelly::models::model_by_code(code));
        assert!(how("SBBT-002C").contains("more than 10 seconds"));
        assert!(how("SBBT-004CEU").contains("two of its buttons"));
        assert!(how("SBDI-003E").contains("4 times"));
        assert!(how("SBBT-104CUS").contains("any two together"));
        assert!(how("SBTR-001AEU").contains("reset button"));
        assert!(blu_pairing_mode(None).contains("ZB"));
    }

    /// Chromium (its emulation on Linux at least) reports a refused unpaired write as "failed for
    /// unknown reason": on a protected characteristic, where the system does not pair by itself,
    /// the advice is how to pair; elsewhere it stays "busy".
    #[test]
    fn an_unexplained_refusal_of_a_protected_operation_gives_the_pairing_steps() {
        let unknown = BleError::new(
            ErrorKind::Busy,
            "NotSupportedError: GATT operation failed for unknown reason.",
        );
        let passkey = blu::Error::Gatt {
            characteristic: blu::Characteristic::Passkey,
            error: bluehome_core::gatt::AttError::Other(0x0E),
        };
        let address: MacAddress = "3C:2E:F5:B1:00:01".parse().unwrap();
        let linux = SetupFailure::blu(
            &passkey,
            Some(&unknown),
            "writing",
            Os::Linux,
            None,
            Some(address),
        );
        assert_eq!(linux.title, "The device refused a protected operation");
        assert!(linux.tells_pairing);
        assert!(
            linux.advice.contains(
                "bluetoothctl, then: scan on, pair 3C:2E:F5:B1:00:01, trust 3C:2E:F5:B1:00:01)"
            ),
            "{linux:?}"
        );
        let unknown_address =
            SetupFailure::blu(&passkey, Some(&unknown), "writing", Os::Linux, None, None);
        assert!(
            unknown_address
                .advice
                .contains("pair <its address, which scan on lists>"),
            "{unknown_address:?}"
        );
        let mac = SetupFailure::blu(&passkey, Some(&unknown), "writing", Os::MacOs, None, None);
        assert_ne!(
            mac.title, linux.title,
            "macOS pairs by itself: not the reason"
        );
        let firmware = blu::Error::Gatt {
            characteristic: blu::Characteristic::FirmwareRevision,
            error: bluehome_core::gatt::AttError::Other(0x0E),
        };
        let open = SetupFailure::blu(&firmware, Some(&unknown), "reading", Os::Linux, None, None);
        assert_ne!(open.title, linux.title, "an open read needs no pairing");
    }

    /// A value typed that does not fit and an answer of the device that makes no value are told
    /// apart: only the first is the person's to fix.
    #[test]
    fn a_bad_answer_is_not_blamed_on_the_value_typed() {
        let typed = blu::Error::Value(blu::ValueError::OutOfRange {
            characteristic: blu::Characteristic::MotionPulseCount,
            value: 9,
            min: 1,
            max: 4,
        });
        let answered = blu::Error::Unreadable {
            characteristic: blu::Characteristic::EncryptionKey,
            error: blu::ValueError::Length {
                characteristic: blu::Characteristic::EncryptionKey,
                expected: 16,
                found: 15,
            },
        };
        let typed = SetupFailure::blu(&typed, None, "writing a setting", Os::Linux, None, None);
        let answered = SetupFailure::blu(&answered, None, "reading the key", Os::Linux, None, None);
        assert!(typed.advice.contains("range shown"), "{typed:?}");
        assert!(!answered.advice.contains("range shown"), "{answered:?}");
        assert!(answered.title.contains("answer"), "{answered:?}");
    }

    #[test]
    fn every_documented_improv_error_has_its_own_explanation() {
        let codes = [
            ErrorCode::InvalidRpc,
            ErrorCode::UnknownCommand,
            ErrorCode::UnableToConnect,
            ErrorCode::NotAuthorized,
            ErrorCode::from(0x05),
            ErrorCode::Unknown,
        ];
        let mut advice: Vec<&str> = codes.iter().map(|c| improv_advice(*c)).collect();
        advice.dedup();
        assert_eq!(advice.len(), codes.len());
        assert!(improv_title(ErrorCode::from(0x05)).contains("hostname"));
        let failure = SetupFailure::improv(
            &improv::client::Error::Device(ErrorCode::UnableToConnect),
            None,
            "sending",
            Os::Linux,
        );
        assert_eq!(failure.title, "The device could not join the Wi-Fi network");
        assert!(failure.advice.contains("password"));
        let stopped = SetupFailure::improv(
            &improv::client::Error::WrongState(State::Stopped),
            None,
            "waiting for authorization",
            Os::Linux,
        );
        assert!(stopped.title.contains("stopped"), "{stopped:?}");
        assert!(stopped.advice.contains("Restart the device"), "{stopped:?}");
    }

    /// Each kind of BLU and Improv error that is not the browser's has its own words: the title
    /// says which, so the person is never told "could not be used" when the page knows more.
    #[test]
    fn every_blu_and_improv_error_is_told_by_its_kind() {
        use blu::Characteristic as C;
        let blu_failure = |error: blu::Error| {
            SetupFailure::blu(&error, None, "writing", Os::Linux, None, None).title
        };
        let not_applied = |characteristic| blu::Error::NotApplied {
            characteristic,
            written: blu::Value::Switch(true),
            read: blu::Value::Switch(false),
        };
        let unreadable = blu::Error::Unreadable {
            characteristic: C::EncryptionKey,
            error: blu::ValueError::Length {
                characteristic: C::EncryptionKey,
                expected: 16,
                found: 15,
            },
        };
        for (error, title) in [
            (
                blu::Error::Missing(C::BeaconMode),
                "The device does not offer this",
            ),
            (
                blu::Error::NotReadable(C::Passkey),
                "The device does not offer this",
            ),
            (
                blu::Error::NotWritable(C::FirmwareRevision),
                "The device does not offer this",
            ),
            (
                unreadable,
                "The device's answer is not a value this page knows",
            ),
            (not_applied(C::BuzzerActivate), "The buzzer did not start"),
            (
                not_applied(C::BeaconMode),
                "The device did not keep the value",
            ),
            (blu::Error::KeyNotSet, "Encryption is not on yet"),
            (
                blu::Error::NotFinished,
                "The device's answer could not be used",
            ),
        ] {
            assert_eq!(blu_failure(error.clone()), title, "{error:?}");
        }
        use improv::client::Error as E;
        let improv_failure =
            |error: E| SetupFailure::improv(&error, None, "sending", Os::Linux).title;
        for (error, title) in [
            (
                E::AuthorizationRequired,
                "The device waits for authorization",
            ),
            (
                E::WrongState(State::Provisioning),
                "The device is not ready for this",
            ),
            (
                E::Unsupported(improv::Command::DeviceInfo),
                "The device does not offer this",
            ),
            (
                E::Timeout {
                    waiting_for: "a result",
                },
                "The device took too long",
            ),
            (E::Busy, "The device's answer could not be read"),
        ] {
            assert_eq!(improv_failure(error.clone()), title, "{error:?}");
        }
    }
}

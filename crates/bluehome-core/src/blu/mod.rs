//! Shelly BLU sensors' own GATT settings: BTHome encryption (passkey, bind key), factory reset,
//! beacon mode and the per-model options, as a sans-IO client.
//!
//! Sources: Shelly's BLU API documentation, <https://shelly-api-docs.shelly.cloud/docs-ble/>
//! (pages `common`, `encryption`, `changelog`, `Devices/{button, wall_eu, wall_us, dw, motion, ht}`,
//! `Devices/BLU/distance` and `Devices/BLU_ZB/{distance, ht_ZB, ht_display}`). Four characteristics
//! appear only in public code, not on those pages ([`Source::PublicCode`]): treat them as
//! optional, like everything else here — a device is asked for what it exposes ([`Exposed`]) and
//! only that is offered.
//!
//! How it fits together:
//!
//! 1. Identify the product from an advertisement: [`identify`] (the Shelly manufacturer data's
//!    model id, else the local name, which is the product code such as `SBBT-002C`); whether its
//!    settings are documented is [`model_by_id`].
//! 2. Connect, list the characteristics the device has (in [`SETTINGS_SERVICE`] and
//!    [`DEVICE_INFORMATION_SERVICE`]) and build an [`Exposed`] from their UUIDs.
//! 3. Run [`Operation`]s: each one says which GATT read or write to perform next ([`Action`]) and
//!    takes the result ([`Feedback`]); the IO shell performs them one at a time.
//!
//! Every value has a type and a range ([`Value`], [`Characteristic::decode`],
//! [`Characteristic::encode`]); bad bytes from a device give a [`ValueError`] naming the
//! characteristic and the offending offset. Reading the key and every write need a bonded link
//! ([`Access::Bonded`]): the system (Android, macOS) or Chrome itself (Windows, Linux; chromium
//! `content/browser/bluetooth/README.md`, "Secure Characteristics") pairs when a protected
//! characteristic is touched, where it can; elsewhere the person pairs the device in the
//! system's settings first. A device accepts connections only from a bonded peer or while in pairing
//! mode, entered by holding its button for more than 10 s (docs-ble/common).
//!
//! [`Action`]: crate::gatt::Action
//! [`Feedback`]: crate::gatt::Feedback

mod operation;
mod value;

pub use operation::{Error, Operation, Outcome};
pub use value::{
    ByteOrder, ClickSpeed, PASSKEY_BYTE_ORDER, Passkey, Ranges, Sensitivity, Value, ValueError,
};

use crate::gatt::{Characteristics, Properties};
use crate::shelly::manufacturer::ManufacturerData;
use crate::shelly::models::{self, Model};
use crate::uuid::Uuid;

/// The service that holds the settings characteristics. Seen only in public code (a firmware
/// source listing it as the "custom configuration" service), not in Shelly's documentation.
pub const SETTINGS_SERVICE: Uuid = Uuid(0xde8a5aac_a99b_c315_0c80_60d4cbb51225);
/// The Bluetooth SIG Device Information service, home of [`Characteristic::FirmwareRevision`].
pub const DEVICE_INFORMATION_SERVICE: Uuid = Uuid::from_u16(0x180A);

/// One GATT characteristic of a Shelly BLU device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Characteristic {
    /// Write `01` to restore factory settings (encryption off, bonds gone). docs-ble/encryption.
    FactoryReset,
    /// A 6-digit passkey (0..=999999); writing one turns BTHome encryption on and regenerates the
    /// key. docs-ble/encryption.
    Passkey,
    /// The 16-byte AES-CCM bind key. docs-ble/encryption.
    EncryptionKey,
    /// Periodic advertising on or off (Button1, Wall Switch 4, RC Button 4, Door/Window, Motion).
    BeaconMode,
    /// Button1's "find my button": 1 starts the buzzer, 0 stops it (it stops by itself after
    /// 30 s; beacon mode must be on). docs-ble/Devices/button.
    BuzzerActivate,
    /// The buzzer on or off (buttons). docs-ble/Devices/{button, wall_eu, wall_us}.
    BuzzerEnabled,
    /// The delay between clicks that still counts as a multi-click, 0..=5 (buttons).
    MultiClickSpeed,
    /// Door/Window: the smallest rotation that is reported. Its UUID is seen only in public code;
    /// docs-ble/changelog 1.0.23 changed its unit from tenths of a degree to degrees
    /// ([`angle_threshold_in_tenths`]).
    AngleThreshold,
    /// Motion: PIR sensitivity, 0 low, 1 medium, 2 high. docs-ble/Devices/motion.
    MotionSensitivity,
    /// Motion: the red LED on or off.
    MotionLed,
    /// Motion: movements (1..=4) that make one motion event.
    MotionPulseCount,
    /// Motion: seconds (30..=600) from the end of motion until "no motion".
    MotionBlindTime,
    /// Distance: which measuring ranges are on (bit mask close, middle, far).
    /// docs-ble/Devices/BLU_ZB/distance.
    DistanceRanges,
    /// Distance: seconds between measurements, 5..=300.
    MeasureInterval,
    /// Distance: also measure when the device feels a vibration (on by default; the ZB page marks
    /// it deprecated, to be removed by a later firmware). docs-ble/Devices/BLU/distance.
    MeasureOnVibration,
    /// H&T ZB: added to the measured temperature, in 0.1 °C. docs-ble/Devices/BLU_ZB/ht_ZB.
    TemperatureOffset,
    /// H&T Display ZB: clock synchronisation on or off. docs-ble/Devices/BLU_ZB/ht_display.
    TimeSync,
    /// A plaintext BTHome payload of the current readings. Seen only in public code.
    SampleBthome,
    /// The standard Firmware Revision String (0x2A26). Seen only in public code for these devices.
    FirmwareRevision,
}

/// What a characteristic allows, for reading or for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Not at all (a write-only passkey, a read-only key).
    Never,
    /// From any connected peer.
    Open,
    /// Only over a bonded (paired) link.
    Bonded,
}

/// Where a characteristic is known from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Shelly's BLU API documentation.
    Documented,
    /// Public code only (scripts, a firmware source), not the documentation.
    PublicCode,
}

/// The fixed facts about one characteristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// The characteristic.
    pub characteristic: Characteristic,
    /// Its UUID.
    pub uuid: Uuid,
    /// The service it lives in.
    pub service: Uuid,
    /// The short name used in logs and by `bluehome sim blu` (`passkey`, `beacon_mode`, …).
    pub name: &'static str,
    /// What a person reads in a form.
    pub label: &'static str,
    /// Reading.
    pub read: Access,
    /// Writing.
    pub write: Access,
    /// Where it is known from.
    pub source: Source,
}

/// Read open, write bonded: every per-model setting (the documentation's "Read, Write bonded").
const SETTING: (Access, Access) = (Access::Open, Access::Bonded);

impl Characteristic {
    /// Every characteristic, in the order a settings form lists them.
    pub const ALL: [Self; 19] = [
        Self::FactoryReset,
        Self::Passkey,
        Self::EncryptionKey,
        Self::BeaconMode,
        Self::BuzzerActivate,
        Self::BuzzerEnabled,
        Self::MultiClickSpeed,
        Self::AngleThreshold,
        Self::MotionSensitivity,
        Self::MotionLed,
        Self::MotionPulseCount,
        Self::MotionBlindTime,
        Self::DistanceRanges,
        Self::MeasureInterval,
        Self::MeasureOnVibration,
        Self::TemperatureOffset,
        Self::TimeSync,
        Self::SampleBthome,
        Self::FirmwareRevision,
    ];

    /// Its fixed facts: the one table of UUIDs, names and access.
    pub const fn info(self) -> Info {
        use Access::{Bonded, Never, Open};
        use Source::{Documented, PublicCode};
        let (uuid, name, label, (read, write), source) = match self {
            Self::FactoryReset => (
                0xb0a7e40f_2b87_49db_801c_eb3686a24bdb,
                "factory_reset",
                "Factory reset",
                (Never, Bonded),
                Documented,
            ),
            Self::Passkey => (
                0x0ffb7104_860c_49ae_8989_1f946d5f6c03,
                "passkey",
                "Passkey (turns encryption on)",
                (Never, Bonded),
                Documented,
            ),
            Self::EncryptionKey => (
                0xeb0fb41b_af4b_4724_a6f9_974f55aba81a,
                "encryption_key",
                "Encryption key",
                (Bonded, Never),
                Documented,
            ),
            Self::BeaconMode => (
                0xcb9e957e_952d_4761_a7e1_4416494a5bfa,
                "beacon_mode",
                "Beacon mode",
                SETTING,
                Documented,
            ),
            Self::BuzzerActivate => (
                0x5b026510_4088_c297_46d8_be6c736a087b,
                "buzzer_activate",
                "Find my button (buzzer)",
                SETTING,
                Documented,
            ),
            Self::BuzzerEnabled => (
                0xdd78bf35_7680_484e_ad86_1bc1e7738e14,
                "buzzer_enabled",
                "Buzzer enabled",
                SETTING,
                Documented,
            ),
            Self::MultiClickSpeed => (
                0x35c8a5e2_1cac_4b03_8386_eb6846a1776e,
                "multi_click_speed",
                "Multi-click speed",
                SETTING,
                Documented,
            ),
            Self::AngleThreshold => (
                0x86e7cc43_19f4_4f38_b5ad_1ae586237e2a,
                "angle_threshold",
                "Angle report threshold",
                SETTING,
                PublicCode,
            ),
            Self::MotionSensitivity => (
                0x21b5b57b_da8d_4ea4_baf8_7654a2214650,
                "motion_sensitivity",
                "Motion sensitivity",
                SETTING,
                Documented,
            ),
            Self::MotionLed => (
                0x24f52308_6cc6_4065_acf0_1d4574d9ba0f,
                "motion_led",
                "LED enabled",
                SETTING,
                Documented,
            ),
            Self::MotionPulseCount => (
                0x22f36e64_e682_4fbc_8dd6_a87f6e7b7d92,
                "motion_pulse_count",
                "Motion pulse count",
                SETTING,
                Documented,
            ),
            Self::MotionBlindTime => (
                0x219a1ecc_2567_4378_9dbd_0c97d10630ad,
                "motion_blind_time",
                "Motion blind time",
                SETTING,
                Documented,
            ),
            Self::DistanceRanges => (
                0xd61da5aa_5515_46ae_a2b2_f9a5a9ad5f1e,
                "distance_ranges",
                "Measured ranges",
                SETTING,
                Documented,
            ),
            Self::MeasureInterval => (
                0x342d88e8_88e3_4aa6_8cf8_178ad229a049,
                "measure_interval",
                "Measure interval",
                SETTING,
                Documented,
            ),
            Self::MeasureOnVibration => (
                0xb65a6119_889b_4275_869e_946a93bd23c4,
                "measure_on_vibration",
                "Measure on vibration",
                SETTING,
                Documented,
            ),
            Self::TemperatureOffset => (
                0x0de178e5_a95d_4988_b042_7145d540a000,
                "temperature_offset",
                "Temperature offset",
                SETTING,
                Documented,
            ),
            Self::TimeSync => (
                0x317c7868_5889_4572_b6ef_2c436ee5a92a,
                "time_sync",
                "Time synchronisation",
                SETTING,
                Documented,
            ),
            // Read bonded is an assumption: a plaintext sample of an encrypted device's readings
            // would otherwise leak them.
            Self::SampleBthome => (
                0xd52246df_98ac_4d21_be1b_70d5f66a5ddb,
                "sample_bthome",
                "Sample BTHome payload",
                (Bonded, Never),
                PublicCode,
            ),
            Self::FirmwareRevision => (
                Uuid::from_u16(0x2A26).0,
                "firmware_revision",
                "Firmware revision",
                (Open, Never),
                PublicCode,
            ),
        };
        let service = match self {
            Self::FirmwareRevision => DEVICE_INFORMATION_SERVICE,
            _ => SETTINGS_SERVICE,
        };
        Info {
            characteristic: self,
            uuid: Uuid(uuid),
            service,
            name,
            label,
            read,
            write,
            source,
        }
    }

    /// Its UUID.
    pub const fn uuid(self) -> Uuid {
        self.info().uuid
    }

    /// Its short name (`passkey`, `beacon_mode`, …).
    pub const fn name(self) -> &'static str {
        self.info().name
    }

    /// Its properties: read and write where the documentation allows them at all (whether a bond
    /// is needed is the device's answer, not a property); the per-model settings also take writes
    /// without response ("Read, Write bonded, write without response bonded" on every device
    /// page). None notifies.
    pub fn properties(self) -> Properties {
        let info = self.info();
        Properties {
            read: !matches!(info.read, Access::Never),
            write: !matches!(info.write, Access::Never),
            write_without_response: self.is_setting(),
            notify: false,
        }
    }

    /// Whether it is one of the per-model settings (not encryption, reset or information).
    pub fn is_setting(self) -> bool {
        self.info().read == Access::Open && self.info().write == Access::Bonded
    }
}

crate::gatt::characteristics!(Characteristic);

/// The characteristics a connected device exposes, from the UUIDs it listed: the API offers
/// only these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exposed {
    bits: u32,
}

impl Exposed {
    /// From the characteristic UUIDs a device listed; UUIDs that are not BLU settings are ignored.
    pub fn from_uuids(uuids: impl IntoIterator<Item = Uuid>) -> Self {
        uuids
            .into_iter()
            .filter_map(Characteristic::from_uuid)
            .collect()
    }

    /// Whether the device has this characteristic.
    pub fn has(&self, characteristic: Characteristic) -> bool {
        self.bits & (1 << characteristic as u32) != 0
    }

    /// Adds a characteristic.
    pub fn insert(&mut self, characteristic: Characteristic) {
        self.bits |= 1 << characteristic as u32;
    }

    /// Removes a characteristic.
    pub fn remove(&mut self, characteristic: Characteristic) {
        self.bits &= !(1 << characteristic as u32);
    }

    /// What it has, in table order.
    pub fn iter(&self) -> impl Iterator<Item = Characteristic> + '_ {
        Characteristic::ALL.into_iter().filter(|c| self.has(*c))
    }

    /// The per-model settings it has, in table order.
    pub fn settings(&self) -> impl Iterator<Item = Characteristic> + '_ {
        self.iter().filter(|c| c.is_setting())
    }

    /// Whether encryption can be turned on and the key read (passkey and key both present).
    pub fn can_encrypt(&self) -> bool {
        self.has(Characteristic::Passkey) && self.has(Characteristic::EncryptionKey)
    }
}

impl FromIterator<Characteristic> for Exposed {
    fn from_iter<I: IntoIterator<Item = Characteristic>>(iter: I) -> Self {
        let mut exposed = Self::default();
        for c in iter {
            exposed.insert(c);
        }
        exposed
    }
}

/// The characteristics every documented BLU device has (docs-ble/encryption).
pub const COMMON: [Characteristic; 3] = [
    Characteristic::FactoryReset,
    Characteristic::Passkey,
    Characteristic::EncryptionKey,
];

/// A BLU model whose GATT settings are documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BluModel {
    /// The Shelly model id (manufacturer data block `0x0B`); see [`models::MODELS`].
    pub id: u16,
    /// Its own settings besides [`COMMON`], as documented.
    pub settings: &'static [Characteristic],
    /// The documentation page.
    pub docs: &'static str,
}

impl BluModel {
    /// The product code and name from the Shelly model table.
    pub fn model(&self) -> Option<&'static Model> {
        models::model(self.id)
    }

    /// The product code (`SBBT-002C`), also the device's local name.
    pub fn code(&self) -> &'static str {
        self.model().map_or("", |m| m.code)
    }

    /// What the documentation says the device exposes: [`COMMON`] and its settings.
    pub fn documented(&self) -> Exposed {
        COMMON.iter().chain(self.settings).copied().collect()
    }
}

const BUTTON_SETTINGS: [Characteristic; 3] = [
    Characteristic::BeaconMode,
    Characteristic::BuzzerEnabled,
    Characteristic::MultiClickSpeed,
];

/// The models whose settings pages were read, by model id. Models not listed (the other "ZB"
/// devices, the TRV, remotes) still work through [`Exposed`]: their characteristics are offered
/// when the device lists them.
pub static MODELS: [BluModel; 9] = [
    BluModel {
        id: 0x0001,
        settings: &[
            Characteristic::BeaconMode,
            Characteristic::BuzzerActivate,
            Characteristic::BuzzerEnabled,
            Characteristic::MultiClickSpeed,
        ],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/button",
    },
    BluModel {
        id: 0x0002,
        settings: &[Characteristic::BeaconMode],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/dw",
    },
    BluModel {
        // "There are no device specific settings. Beacon mode is always active."
        id: 0x0003,
        settings: &[],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/ht",
    },
    BluModel {
        id: 0x0005,
        settings: &[
            Characteristic::BeaconMode,
            Characteristic::MotionSensitivity,
            Characteristic::MotionLed,
            Characteristic::MotionPulseCount,
            Characteristic::MotionBlindTime,
        ],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/motion",
    },
    BluModel {
        id: 0x0006,
        settings: &BUTTON_SETTINGS,
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/wall_eu",
    },
    BluModel {
        id: 0x0007,
        settings: &BUTTON_SETTINGS,
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/wall_us",
    },
    BluModel {
        id: 0x000A,
        settings: &[
            Characteristic::DistanceRanges,
            Characteristic::MeasureInterval,
            Characteristic::MeasureOnVibration,
        ],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/BLU_ZB/distance",
    },
    BluModel {
        id: 0x000C,
        settings: &[Characteristic::TimeSync],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/BLU_ZB/ht_display",
    },
    BluModel {
        id: 0x0011,
        settings: &[Characteristic::TemperatureOffset],
        docs: "https://shelly-api-docs.shelly.cloud/docs-ble/Devices/BLU_ZB/ht_ZB",
    },
];

/// The documented model with this id.
pub fn model_by_id(id: u16) -> Option<&'static BluModel> {
    MODELS.iter().find(|m| m.id == id)
}

/// The documented model with this product code (`SBMO-003Z`), case-insensitive.
pub fn model_by_code(code: &str) -> Option<&'static BluModel> {
    MODELS.iter().find(|m| m.code().eq_ignore_ascii_case(code))
}

/// Which Shelly BLU product an advertisement comes from, its settings documented or not (the newer
/// "ZB" models too): the Shelly manufacturer data's model id first (always sent), else the local
/// name (only in active-scan responses).
pub fn identify(
    manufacturer: Option<&ManufacturerData>,
    local_name: Option<&str>,
) -> Option<&'static Model> {
    manufacturer
        .and_then(ManufacturerData::model)
        .or_else(|| local_name.and_then(models::model_by_code))
        // A Wi-Fi device's model (a gateway, a plug) is no BLU product.
        .filter(|m| m.is_blu())
}

/// Whether firmware of this revision still uses the encryption passkey as the PIN it asks for
/// when pairing: firmware 1.0.23 removed PIN bonding (docs-ble/changelog), after it the passkey only
/// seeds the key. `None` when the revision is not a version number.
pub fn passkey_is_pairing_pin(revision: &str) -> Option<bool> {
    before_1_0_23(revision)
}

/// Whether the Door/Window of this firmware revision counts [`Characteristic::AngleThreshold`] in
/// tenths of a degree: firmware 1.0.23 changed it to whole degrees ("DW: Change report angle
/// treshold to degrees x 1 instead of degrees x 10", docs-ble/changelog). `None` when the
/// revision is not a version number.
pub fn angle_threshold_in_tenths(revision: &str) -> Option<bool> {
    before_1_0_23(revision)
}

/// Whether a firmware revision (`1.0.22`, `v1.0.22`) is older than 1.0.23; what follows the
/// number (`-beta`, a build id) does not count. `None` when it does not start with a version.
fn before_1_0_23(revision: &str) -> Option<bool> {
    let text = revision.trim();
    let text = text.strip_prefix(['v', 'V']).unwrap_or(text);
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let mut parts = text[..end].split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next().flatten()?;
    let minor = parts.next().flatten()?;
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch) < (1, 0, 23))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gatt::AttError;
    use crate::hex::fixture as hex;
    use crate::shelly::manufacturer;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn firmware_before_1_0_23_uses_the_passkey_as_pairing_pin_and_tenths_of_a_degree() {
        for (revision, expected) in [
            ("1.0.22", Some(true)),
            ("v1.0.9", Some(true)),
            ("0.9", Some(true)),
            ("1.0.23", Some(false)),
            (" V1.0.23-beta2 ", Some(false)),
            ("1.1.0", Some(false)),
            ("2.0", Some(false)),
            ("", None),
            ("1", None),
            ("1..22", None),
            ("beta", None),
            ("99999999999.0.0", None),
        ] {
            assert_eq!(passkey_is_pairing_pin(revision), expected, "{revision:?}");
            assert_eq!(
                angle_threshold_in_tenths(revision),
                expected,
                "{revision:?}"
            );
        }
    }

    #[test]
    fn every_characteristic_is_listed_once_with_its_own_uuid_and_name() {
        for (i, c) in Characteristic::ALL.into_iter().enumerate() {
            assert_eq!(c as usize, i, "{c}");
            assert_eq!(c.name().parse(), Ok(c));
        }
        let mut uuids: Vec<Uuid> = Characteristic::ALL.iter().map(|c| c.uuid()).collect();
        uuids.sort();
        uuids.dedup();
        assert_eq!(uuids.len(), Characteristic::ALL.len());
    }

    /// The UUIDs as docs-ble/encryption prints them.
    #[test]
    fn encryption_uuids_match_the_documentation() {
        for (c, uuid) in [
            (
                Characteristic::Passkey,
                "0ffb7104-860c-49ae-8989-1f946d5f6c03",
            ),
            (
                Characteristic::EncryptionKey,
                "eb0fb41b-af4b-4724-a6f9-974f55aba81a",
            ),
            (
                Characteristic::FactoryReset,
                "b0a7e40f-2b87-49db-801c-eb3686a24bdb",
            ),
            (
                Characteristic::FirmwareRevision,
                "00002a26-0000-1000-8000-00805f9b34fb",
            ),
        ] {
            assert_eq!(c.uuid().to_string(), uuid, "{c:?}");
        }
    }

    #[test]
    fn characteristics_parse_by_name_and_uuid() {
        assert_eq!("beacon_mode".parse(), Ok(Characteristic::BeaconMode));
        assert_eq!(
            "CB9E957E-952D-4761-A7E1-4416494A5BFA".parse(),
            Ok(Characteristic::BeaconMode)
        );
        assert_eq!("2a26".parse(), Ok(Characteristic::FirmwareRevision));
        assert_eq!(
            "pin".parse::<Characteristic>(),
            Err(AttError::AttributeNotFound)
        );
    }

    /// Access as the documentation's "Properties" columns give it.
    #[test]
    fn access_follows_the_documented_properties() {
        let passkey = Characteristic::Passkey.info();
        assert_eq!(
            (passkey.read, passkey.write),
            (Access::Never, Access::Bonded)
        );
        let key = Characteristic::EncryptionKey.info();
        assert_eq!((key.read, key.write), (Access::Bonded, Access::Never));
        let beacon = Characteristic::BeaconMode.info();
        assert_eq!((beacon.read, beacon.write), (Access::Open, Access::Bonded));
        assert!(Characteristic::MultiClickSpeed.is_setting());
        assert!(!Characteristic::FirmwareRevision.is_setting());
        // The firmware revision is the SIG Device Information service's, the rest Shelly's.
        assert_eq!(
            Characteristic::FirmwareRevision.info().service,
            DEVICE_INFORMATION_SERVICE
        );
        assert_eq!(beacon.service, SETTINGS_SERVICE);
        // "Read, Write bonded, write without response bonded".
        let setting = Characteristic::MotionBlindTime.properties();
        assert!(setting.read && setting.write && setting.write_without_response);
        assert!(!setting.notify);
        let passkey = Characteristic::Passkey.properties();
        assert!(!passkey.read && passkey.write && !passkey.write_without_response);
    }

    /// The settings of docs-ble/Devices/{motion, BLU/distance, dw}, as printed there.
    #[test]
    fn motion_and_distance_settings_match_their_pages() {
        let motion = model_by_code("SBMO-003Z").unwrap().documented();
        let distance = model_by_code("SBDI-003E").unwrap().documented();
        for (c, uuid, model) in [
            (
                Characteristic::MotionBlindTime,
                "219a1ecc-2567-4378-9dbd-0c97d10630ad",
                motion,
            ),
            (
                Characteristic::MeasureOnVibration,
                "b65a6119-889b-4275-869e-946a93bd23c4",
                distance,
            ),
        ] {
            assert_eq!(c.uuid().to_string(), uuid);
            assert_eq!(c.info().source, Source::Documented);
            assert!(c.is_setting() && model.has(c), "{c}");
        }
        // docs-ble/Devices/dw lists beacon mode only; the angle threshold's UUID is public code's.
        let door = model_by_code("SBDW-002C").unwrap().documented();
        assert_eq!(
            door.settings().collect::<Vec<_>>(),
            [Characteristic::BeaconMode]
        );
        assert_eq!(
            Characteristic::AngleThreshold.info().source,
            Source::PublicCode
        );
    }

    /// Only what the device lists is offered; foreign UUIDs are ignored.
    #[test]
    fn exposed_offers_only_listed_characteristics() {
        let exposed = Exposed::from_uuids([
            Characteristic::Passkey.uuid(),
            Characteristic::MotionLed.uuid(),
            Uuid::from_u16(0x2A19), // battery level: not a BLU setting
        ]);
        assert!(exposed.has(Characteristic::Passkey));
        assert!(!exposed.has(Characteristic::EncryptionKey));
        assert!(!exposed.can_encrypt());
        assert_eq!(exposed.iter().count(), 2);
        assert_eq!(
            exposed.settings().collect::<Vec<_>>(),
            [Characteristic::MotionLed]
        );
    }

    #[test]
    fn every_documented_model_is_in_the_shelly_model_table() {
        for m in &MODELS {
            assert!(m.model().is_some(), "model id {:#06x}", m.id);
            assert!(m.documented().can_encrypt());
        }
        assert_eq!(model_by_code("sbmo-003z").map(|m| m.id), Some(0x0005));
        assert!(
            model_by_code("SBTR-001AEU").is_none(),
            "the TRV has no page read"
        );
    }

    /// BLU Motion capture (Theengs tests): manufacturer data `01 0100 0b 0500 0a ccbbaaabef60`
    /// names model 5; a name alone identifies when the manufacturer data lacks a model block.
    #[test]
    fn identifies_by_model_id_then_by_local_name() {
        let mfd = manufacturer::parse(&hex("0101000b05000accbbaaabef60"));
        assert_eq!(
            identify(Some(&mfd), None).map(|m| m.code),
            Some("SBMO-003Z")
        );
        let flags_only = manufacturer::parse(&hex("010100"));
        assert_eq!(
            identify(Some(&flags_only), Some("SBBT-002C")).map(|m| m.id),
            Some(1)
        );
        assert!(identify(None, Some("ATC_8D18B2")).is_none());
        // A BLU Gateway Gen3 (model 0x1817) is a Shelly model, but no BLU product.
        let gateway = manufacturer::parse(&hex("0105000b17180a015e0d97bacc"));
        assert_eq!(gateway.model().map(|m| m.code), Some("S3GW-1DBT001"));
        assert!(identify(Some(&gateway), None).is_none());
        assert!(identify(None, Some("S3GW-1DBT001")).is_none());
    }

    /// A model whose settings pages were not read is still named: a BLU Motion ZB (model id
    /// 0x0013) by its manufacturer data, a BLU Button Tough 1 ZB by its local name.
    #[test]
    fn models_without_documented_settings_are_named_too() {
        let mfd = manufacturer::parse(&hex("0101000b13000accbbaaabef60"));
        let motion_zb = identify(Some(&mfd), None).unwrap();
        assert_eq!(
            (motion_zb.code, motion_zb.name),
            ("SBMO-103Z", "Shelly BLU Motion ZB")
        );
        assert!(model_by_id(motion_zb.id).is_none(), "no settings page read");
        assert_eq!(
            identify(None, Some("sbbt-102c")).map(|m| m.id),
            Some(0x0017)
        );
    }
}

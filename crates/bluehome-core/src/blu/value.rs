//! Typed, range-checked values of the BLU characteristics, and their bytes.
//!
//! Every value is one byte unless said otherwise; multi-byte numbers are little-endian, as the
//! documentation gives them ("u16 LE", "Little endian encoded"). Ranges are the documented ones;
//! where the documentation gives none, the reason for the range used is next to it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use super::Characteristic;

/// Byte order of a multi-byte value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Least significant byte first.
    LittleEndian,
    /// Most significant byte first.
    BigEndian,
}

/// The byte order of the passkey characteristic.
///
/// Shelly's documentation (docs-ble/encryption) says "Little endian encoded", and this follows
/// it: 123456 is written `40 e2 01 00`. One public reverse-engineering script recorded the
/// Shelly app writing the same passkey big-endian, `00 01 e2 40`, the opposite of the
/// documentation; no second source settles it. If a device turns out to take the other order,
/// this constant is the one place to change.
pub const PASSKEY_BYTE_ORDER: ByteOrder = ByteOrder::LittleEndian;

/// A passkey: the "6 digit code" (0..=999999) that turns encryption on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Passkey(u32);

impl Passkey {
    /// The largest passkey.
    pub const MAX: u32 = 999_999;

    /// A passkey, if `value` is at most [`Passkey::MAX`].
    pub fn new(value: u32) -> Result<Self, ValueError> {
        if value > Self::MAX {
            return Err(ValueError::OutOfRange {
                characteristic: Characteristic::Passkey,
                value: i64::from(value),
                min: 0,
                max: i64::from(Self::MAX),
            });
        }
        Ok(Self(value))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }

    /// The four bytes written to the passkey characteristic, in [`PASSKEY_BYTE_ORDER`].
    pub fn to_bytes(self) -> [u8; 4] {
        match PASSKEY_BYTE_ORDER {
            ByteOrder::LittleEndian => self.0.to_le_bytes(),
            ByteOrder::BigEndian => self.0.to_be_bytes(),
        }
    }

    /// Reads the four bytes of a passkey write (what a device receives).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ValueError> {
        let bytes: [u8; 4] = fixed(Characteristic::Passkey, bytes)?;
        Self::new(match PASSKEY_BYTE_ORDER {
            ByteOrder::LittleEndian => u32::from_le_bytes(bytes),
            ByteOrder::BigEndian => u32::from_be_bytes(bytes),
        })
    }
}

impl fmt::Debug for Passkey {
    /// Never printed in full: a passkey is a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passkey(******)")
    }
}

impl fmt::Display for Passkey {
    /// Six digits, zero-padded, as the person typed it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// Why passkey text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasskeyTextError;

impl fmt::Display for PasskeyTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a passkey is 1 to 6 digits (0 to 999999)")
    }
}

impl core::error::Error for PasskeyTextError {}

impl FromStr for Passkey {
    type Err = PasskeyTextError;

    /// 1 to 6 ASCII digits (`042000`, `7`).
    fn from_str(text: &str) -> Result<Self, PasskeyTextError> {
        // `u32`'s parser refuses the empty text, but takes a sign.
        if text.len() > 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PasskeyTextError);
        }
        text.parse::<u32>()
            .ok()
            .and_then(|n| Self::new(n).ok())
            .ok_or(PasskeyTextError)
    }
}

/// The multi-click delay, 0..=5 (docs-ble/Devices/button: 800, 550, 300, 150, 90 and 55 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClickSpeed(u8);

impl ClickSpeed {
    /// The delay of each step, in milliseconds.
    pub const DELAYS_MS: [u16; 6] = [800, 550, 300, 150, 90, 55];

    /// A speed step, if it is 0..=5.
    pub fn new(step: u8) -> Result<Self, ValueError> {
        check(Characteristic::MultiClickSpeed, i64::from(step))?;
        Ok(Self(step))
    }

    /// The step.
    pub fn step(self) -> u8 {
        self.0
    }

    /// The longest gap between clicks that still counts as one multi-click.
    pub fn delay_ms(self) -> u16 {
        Self::DELAYS_MS
            .get(usize::from(self.0))
            .copied()
            .unwrap_or_default()
    }
}

/// Motion sensor sensitivity (docs-ble/Devices/motion: 0 low, 1 medium, 2 high).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sensitivity {
    /// 0.
    Low,
    /// 1.
    Medium,
    /// 2.
    High,
}

impl Sensitivity {
    fn byte(self) -> u8 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }
}

/// BLU Distance's measuring ranges (docs-ble/Devices/BLU_ZB/distance: close 0x01, middle 0x02,
/// far 0x04; all on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ranges(u8);

impl Ranges {
    /// Close range.
    pub const CLOSE: u8 = 0x01;
    /// Middle range.
    pub const MIDDLE: u8 = 0x02;
    /// Far range.
    pub const FAR: u8 = 0x04;

    /// A mask of the three range bits; other bits are refused.
    pub fn new(mask: u8) -> Result<Self, ValueError> {
        check(Characteristic::DistanceRanges, i64::from(mask))?;
        Ok(Self(mask))
    }

    /// The mask.
    pub fn mask(self) -> u8 {
        self.0
    }

    /// Whether a range (one of the constants) is on.
    pub fn has(self, range: u8) -> bool {
        self.0 & range != 0
    }
}

/// A typed value of one characteristic. Which variant a characteristic takes is fixed
/// ([`Characteristic::decode`] produces it, [`Characteristic::encode`] requires it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The factory-reset command (`01`).
    Trigger,
    /// A passkey.
    Passkey(Passkey),
    /// The bind key; `None` when the device reads all zeros (no key generated yet).
    Key(Option<[u8; 16]>),
    /// On or off: beacon mode, buzzer, LED, time sync, measuring on vibration; the "find my button"
    /// buzzer sounding.
    Switch(bool),
    /// Multi-click speed.
    ClickSpeed(ClickSpeed),
    /// Angle threshold in the device's unit: degrees from firmware 1.0.23, tenths of a degree
    /// before ([`angle_threshold_in_tenths`](super::angle_threshold_in_tenths)).
    Angle(u8),
    /// Motion sensitivity.
    Sensitivity(Sensitivity),
    /// Motion pulse count.
    Count(u8),
    /// Distance ranges.
    Ranges(Ranges),
    /// Seconds: measure interval, blind time.
    Seconds(u16),
    /// Temperature offset in 0.1 °C.
    TenthsCelsius(i16),
    /// Text (firmware revision).
    Text(String),
    /// Raw bytes (a sample BTHome payload).
    Bytes(Vec<u8>),
}

/// Why bytes or a value do not fit a characteristic. Offsets count bytes of the value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueError {
    /// The value has the wrong number of bytes.
    Length {
        /// Which characteristic.
        characteristic: Characteristic,
        /// Bytes it takes.
        expected: usize,
        /// Bytes there were.
        found: usize,
    },
    /// A number outside the characteristic's range.
    OutOfRange {
        /// Which characteristic.
        characteristic: Characteristic,
        /// The number.
        value: i64,
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// Text that is not UTF-8.
    NotUtf8 {
        /// Which characteristic.
        characteristic: Characteristic,
        /// The first byte that is not part of a UTF-8 character.
        offset: usize,
    },
    /// A [`Value`] variant this characteristic does not take.
    WrongKind {
        /// Which characteristic.
        characteristic: Characteristic,
    },
}

impl ValueError {
    /// The byte offset in the value where the problem is.
    pub fn offset(&self) -> usize {
        match *self {
            Self::Length {
                expected, found, ..
            } => expected.min(found),
            Self::NotUtf8 { offset, .. } => offset,
            Self::OutOfRange { .. } | Self::WrongKind { .. } => 0,
        }
    }

    /// The characteristic concerned.
    pub fn characteristic(&self) -> Characteristic {
        match *self {
            Self::Length { characteristic, .. }
            | Self::OutOfRange { characteristic, .. }
            | Self::NotUtf8 { characteristic, .. }
            | Self::WrongKind { characteristic } => characteristic,
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length {
                characteristic,
                expected,
                found,
            } => write!(
                f,
                "{characteristic}: {found} bytes where {expected} were expected (at byte {})",
                self.offset()
            ),
            Self::OutOfRange {
                characteristic,
                value,
                min,
                max,
            } => write!(f, "{characteristic}: {value} is outside {min}..={max}"),
            Self::NotUtf8 {
                characteristic,
                offset,
            } => write!(f, "{characteristic}: not UTF-8 text at byte {offset}"),
            Self::WrongKind { characteristic } => {
                write!(f, "{characteristic}: not a value this characteristic takes")
            }
        }
    }
}

impl core::error::Error for ValueError {}

/// `N` bytes exactly, or a length error.
fn fixed<const N: usize>(
    characteristic: Characteristic,
    bytes: &[u8],
) -> Result<[u8; N], ValueError> {
    bytes.try_into().map_err(|_| ValueError::Length {
        characteristic,
        expected: N,
        found: bytes.len(),
    })
}

/// A number within the characteristic's range, or an out-of-range error.
fn check(characteristic: Characteristic, value: i64) -> Result<i64, ValueError> {
    match characteristic.range() {
        Some((min, max)) if !(min..=max).contains(&value) => Err(ValueError::OutOfRange {
            characteristic,
            value,
            min,
            max,
        }),
        _ => Ok(value),
    }
}

impl Characteristic {
    /// The numeric range of the value, for numbers, switches and choices.
    pub const fn range(self) -> Option<(i64, i64)> {
        Some(match self {
            Self::FactoryReset => (1, 1),
            Self::Passkey => (0, Passkey::MAX as i64),
            Self::BeaconMode
            | Self::BuzzerActivate
            | Self::BuzzerEnabled
            | Self::MotionLed
            | Self::MeasureOnVibration
            | Self::TimeSync => (0, 1),
            Self::MultiClickSpeed => (0, 5),
            // No documented range, and a unit that depends on the firmware: the byte's.
            Self::AngleThreshold => (0, 255),
            Self::MotionSensitivity => (0, 2),
            Self::MotionPulseCount => (1, 4),
            Self::MotionBlindTime => (30, 600),
            Self::DistanceRanges => (0, 0x07),
            Self::MeasureInterval => (5, 300),
            // No documented range: the type's.
            Self::TemperatureOffset => (i16::MIN as i64, i16::MAX as i64),
            Self::EncryptionKey | Self::SampleBthome | Self::FirmwareRevision => return None,
        })
    }

    /// Reads a value as the device holds it (a read's bytes, or a write's on the device side).
    pub fn decode(self, bytes: &[u8]) -> Result<Value, ValueError> {
        let byte = || -> Result<i64, ValueError> {
            let [b] = fixed::<1>(self, bytes)?;
            check(self, i64::from(b))
        };
        let word = || -> Result<i64, ValueError> {
            check(self, i64::from(u16::from_le_bytes(fixed(self, bytes)?)))
        };
        // `check` has bounded every number below to its range, which fits the narrower types.
        let narrow = |n: i64| u8::try_from(n).unwrap_or_default();
        Ok(match self {
            Self::FactoryReset => {
                byte()?;
                Value::Trigger
            }
            Self::Passkey => Value::Passkey(Passkey::from_bytes(bytes)?),
            Self::EncryptionKey => {
                let key: [u8; 16] = fixed(self, bytes)?;
                Value::Key((key != [0; 16]).then_some(key))
            }
            Self::BeaconMode
            | Self::BuzzerActivate
            | Self::BuzzerEnabled
            | Self::MotionLed
            | Self::MeasureOnVibration
            | Self::TimeSync => Value::Switch(byte()? == 1),
            Self::MultiClickSpeed => Value::ClickSpeed(ClickSpeed(narrow(byte()?))),
            Self::AngleThreshold => Value::Angle(narrow(byte()?)),
            Self::MotionSensitivity => Value::Sensitivity(match byte()? {
                0 => Sensitivity::Low,
                1 => Sensitivity::Medium,
                _ => Sensitivity::High,
            }),
            Self::MotionPulseCount => Value::Count(narrow(byte()?)),
            Self::DistanceRanges => Value::Ranges(Ranges(narrow(byte()?))),
            Self::MotionBlindTime | Self::MeasureInterval => {
                Value::Seconds(u16::try_from(word()?).unwrap_or_default())
            }
            Self::TemperatureOffset => {
                Value::TenthsCelsius(i16::from_le_bytes(fixed(self, bytes)?))
            }
            Self::SampleBthome => Value::Bytes(bytes.to_vec()),
            Self::FirmwareRevision => {
                // Fixed-size string fields are often padded with NULs.
                let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                let text = bytes.get(..end).unwrap_or_default();
                let text = core::str::from_utf8(text).map_err(|e| ValueError::NotUtf8 {
                    characteristic: self,
                    offset: e.valid_up_to(),
                })?;
                Value::Text(text.into())
            }
        })
    }

    /// The bytes that write `value`, after checking its kind and range.
    pub fn encode(self, value: &Value) -> Result<Vec<u8>, ValueError> {
        let wrong = ValueError::WrongKind {
            characteristic: self,
        };
        let byte = |n: u8| -> Result<Vec<u8>, ValueError> {
            check(self, i64::from(n))?;
            Ok(alloc::vec![n])
        };
        match (self, value) {
            (Self::FactoryReset, Value::Trigger) => Ok(alloc::vec![0x01]),
            (Self::Passkey, Value::Passkey(p)) => Ok(p.to_bytes().to_vec()),
            (Self::EncryptionKey, Value::Key(Some(key))) => Ok(key.to_vec()),
            (
                Self::BeaconMode
                | Self::BuzzerActivate
                | Self::BuzzerEnabled
                | Self::MotionLed
                | Self::MeasureOnVibration
                | Self::TimeSync,
                Value::Switch(on),
            ) => byte(u8::from(*on)),
            (Self::MultiClickSpeed, Value::ClickSpeed(s)) => byte(s.0),
            (Self::AngleThreshold, Value::Angle(a)) => byte(*a),
            (Self::MotionSensitivity, Value::Sensitivity(s)) => byte(s.byte()),
            (Self::MotionPulseCount, Value::Count(n)) => byte(*n),
            (Self::DistanceRanges, Value::Ranges(r)) => byte(r.0),
            (Self::MotionBlindTime | Self::MeasureInterval, Value::Seconds(s)) => {
                check(self, i64::from(*s))?;
                Ok(s.to_le_bytes().to_vec())
            }
            (Self::TemperatureOffset, Value::TenthsCelsius(t)) => Ok(t.to_le_bytes().to_vec()),
            (Self::SampleBthome, Value::Bytes(b)) => Ok(b.clone()),
            (Self::FirmwareRevision, Value::Text(t)) => Ok(t.as_bytes().to_vec()),
            _ => Err(wrong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::fixture as hex;

    /// 123456 = 0x0001E240, written least significant byte first as docs-ble/encryption says.
    #[test]
    fn passkey_is_written_in_the_documented_little_endian_order() {
        assert_eq!(PASSKEY_BYTE_ORDER, ByteOrder::LittleEndian);
        let p = Passkey::new(123_456).unwrap();
        assert_eq!(p.to_bytes(), [0x40, 0xE2, 0x01, 0x00]);
        assert_eq!(
            Characteristic::Passkey.encode(&Value::Passkey(p)),
            Ok(hex("40e20100"))
        );
        assert_eq!(Passkey::from_bytes(&hex("40e20100")), Ok(p));
    }

    #[test]
    fn passkey_is_at_most_999999() {
        assert!(Passkey::new(999_999).is_ok());
        assert_eq!(
            Passkey::new(1_000_000),
            Err(ValueError::OutOfRange {
                characteristic: Characteristic::Passkey,
                value: 1_000_000,
                min: 0,
                max: 999_999
            })
        );
        // 1_000_000 = 0x000F4240, as a device would receive it.
        assert!(Passkey::from_bytes(&hex("40420f00")).is_err());
    }

    #[test]
    fn passkey_text_is_one_to_six_digits() {
        assert_eq!("042000".parse::<Passkey>().map(Passkey::get), Ok(42_000));
        assert_eq!(
            "7".parse::<Passkey>().map(|p| p.to_string()),
            Ok("000007".into())
        );
        for bad in ["", "1234567", "12a456", "-1", " 123", "+12"] {
            assert_eq!(bad.parse::<Passkey>(), Err(PasskeyTextError), "{bad:?}");
        }
        assert_eq!(
            PasskeyTextError.to_string(),
            "a passkey is 1 to 6 digits (0 to 999999)"
        );
    }

    #[test]
    fn passkey_debug_output_hides_the_digits() {
        let p = Passkey::new(123_456).unwrap();
        assert_eq!(alloc::format!("{p:?}"), "Passkey(******)");
    }

    /// A key read of all zeros means no key yet (before a passkey was written).
    #[test]
    fn a_key_of_zeros_is_no_key() {
        let c = Characteristic::EncryptionKey;
        assert_eq!(c.decode(&[0; 16]), Ok(Value::Key(None)));
        let key = hex("90bffd73cb6b26ef58a7a8eba9232036");
        assert_eq!(
            c.decode(&key),
            Ok(Value::Key(Some(key.as_slice().try_into().unwrap())))
        );
        let short = c.decode(&key[..15]).unwrap_err();
        assert_eq!(
            short,
            ValueError::Length {
                characteristic: c,
                expected: 16,
                found: 15
            }
        );
        assert_eq!(short.offset(), 15);
        assert_eq!(
            short.to_string(),
            alloc::format!("{c}: 15 bytes where 16 were expected (at byte 15)")
        );
    }

    /// docs-ble/Devices/button: step 0 is 800 ms, step 5 is 55 ms, nothing beyond.
    #[test]
    fn click_speed_steps_map_to_the_documented_delays() {
        assert_eq!(ClickSpeed::new(0).map(ClickSpeed::delay_ms), Ok(800));
        assert_eq!(ClickSpeed::new(5).map(ClickSpeed::delay_ms), Ok(55));
        assert_eq!(ClickSpeed::new(3).map(ClickSpeed::step), Ok(3));
        assert!(ClickSpeed::new(6).is_err());
        assert!(Characteristic::MultiClickSpeed.decode(&[6]).is_err());
    }

    #[test]
    fn switches_take_only_zero_and_one() {
        let c = Characteristic::BeaconMode;
        assert_eq!(c.decode(&[1]), Ok(Value::Switch(true)));
        assert_eq!(c.decode(&[0]), Ok(Value::Switch(false)));
        assert!(matches!(
            c.decode(&[2]),
            Err(ValueError::OutOfRange { value: 2, .. })
        ));
        assert!(matches!(
            c.decode(&[]),
            Err(ValueError::Length { found: 0, .. })
        ));
    }

    /// docs-ble/Devices/BLU_ZB/distance: "Valid range is 5 seconds to 300 seconds", u16 LE.
    #[test]
    fn measure_interval_is_u16_le_from_5_to_300() {
        let c = Characteristic::MeasureInterval;
        assert_eq!(c.encode(&Value::Seconds(300)), Ok(hex("2c01")));
        assert_eq!(c.decode(&hex("1e00")), Ok(Value::Seconds(30)));
        assert!(c.encode(&Value::Seconds(4)).is_err());
        assert!(c.decode(&hex("2d01")).is_err(), "301 s");
    }

    /// -1.5 °C = -15 tenths = 0xFFF1, little-endian.
    #[test]
    fn temperature_offset_is_signed_tenths_le() {
        let c = Characteristic::TemperatureOffset;
        assert_eq!(c.encode(&Value::TenthsCelsius(-15)), Ok(hex("f1ff")));
        assert_eq!(c.decode(&hex("f1ff")), Ok(Value::TenthsCelsius(-15)));
    }

    #[test]
    fn pulse_count_and_sensitivity_stay_in_range() {
        assert!(Characteristic::MotionPulseCount.decode(&[0]).is_err());
        assert_eq!(
            Characteristic::MotionPulseCount.decode(&[4]),
            Ok(Value::Count(4))
        );
        assert_eq!(
            Characteristic::MotionSensitivity.decode(&[2]),
            Ok(Value::Sensitivity(Sensitivity::High))
        );
        assert!(Characteristic::MotionSensitivity.decode(&[3]).is_err());
    }

    #[test]
    fn ranges_take_only_the_three_bits() {
        let r = Ranges::new(Ranges::CLOSE | Ranges::FAR).unwrap();
        assert!(r.has(Ranges::FAR) && !r.has(Ranges::MIDDLE));
        assert_eq!(r.mask(), 0x05);
        assert!(Ranges::new(0x08).is_err());
    }

    /// Firmware revision text may be NUL-padded; bad UTF-8 names its offset.
    #[test]
    fn firmware_revision_is_utf8_without_padding() {
        let c = Characteristic::FirmwareRevision;
        assert_eq!(c.decode(b"1.0.23\0\0"), Ok(Value::Text("1.0.23".into())));
        assert_eq!(
            c.decode(&[b'1', b'.', 0xFF, b'2']),
            Err(ValueError::NotUtf8 {
                characteristic: c,
                offset: 2
            })
        );
        assert_eq!(c.decode(&[b'1', 0xFF]).map_err(|e| e.offset()), Err(1));
    }

    #[test]
    fn factory_reset_is_the_single_byte_01() {
        let c = Characteristic::FactoryReset;
        assert_eq!(c.encode(&Value::Trigger), Ok(alloc::vec![1]));
        assert_eq!(c.decode(&[1]), Ok(Value::Trigger));
        assert!(c.decode(&[0]).is_err());
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused() {
        assert_eq!(
            Characteristic::BeaconMode.encode(&Value::Count(1)),
            Err(ValueError::WrongKind {
                characteristic: Characteristic::BeaconMode
            })
        );
        assert!(
            Characteristic::EncryptionKey
                .encode(&Value::Key(None))
                .is_err()
        );
    }

    /// Every encodable value decodes back to itself.
    #[test]
    fn every_encodable_value_round_trips() {
        let values = [
            (Characteristic::FactoryReset, Value::Trigger),
            (
                Characteristic::Passkey,
                Value::Passkey(Passkey::new(999_999).unwrap()),
            ),
            (Characteristic::EncryptionKey, Value::Key(Some([7; 16]))),
            (Characteristic::BeaconMode, Value::Switch(true)),
            (Characteristic::BuzzerActivate, Value::Switch(false)),
            (Characteristic::BuzzerEnabled, Value::Switch(true)),
            (
                Characteristic::MultiClickSpeed,
                Value::ClickSpeed(ClickSpeed::new(3).unwrap()),
            ),
            (Characteristic::AngleThreshold, Value::Angle(255)),
            (
                Characteristic::MotionSensitivity,
                Value::Sensitivity(Sensitivity::Medium),
            ),
            (Characteristic::MotionLed, Value::Switch(false)),
            (Characteristic::MotionPulseCount, Value::Count(1)),
            (Characteristic::MotionBlindTime, Value::Seconds(600)),
            (
                Characteristic::DistanceRanges,
                Value::Ranges(Ranges::new(7).unwrap()),
            ),
            (Characteristic::MeasureInterval, Value::Seconds(5)),
            (Characteristic::MeasureOnVibration, Value::Switch(false)),
            (
                Characteristic::TemperatureOffset,
                Value::TenthsCelsius(i16::MIN),
            ),
            (Characteristic::TimeSync, Value::Switch(true)),
            (
                Characteristic::SampleBthome,
                Value::Bytes(hex("4000010164")),
            ),
            (
                Characteristic::FirmwareRevision,
                Value::Text("1.0.23".into()),
            ),
        ];
        assert_eq!(values.len(), Characteristic::ALL.len());
        for (c, v) in values {
            let bytes = c.encode(&v).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert_eq!(c.decode(&bytes), Ok(v), "{c}");
        }
    }
}

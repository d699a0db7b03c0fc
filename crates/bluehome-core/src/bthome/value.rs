//! Decoded objects and their values, and the one JSON form they have everywhere.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::table::{self, ObjectInfo, info};

/// A firmware version from object `0xF1` (4 parts) or `0xF2` (3 parts), most significant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirmwareVersion {
    /// The parts, most significant first; only the first `len` are meaningful.
    pub parts: [u8; 4],
    /// 3 or 4.
    pub len: u8,
}

impl fmt::Display for FirmwareVersion {
    /// `a.b.c` or `a.b.c.d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.parts;
        if self.len == 4 {
            write!(f, "{a}.{b}.{c}.{d}")
        } else {
            write!(f, "{a}.{b}.{c}")
        }
    }
}

/// The value of one object.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// An integer object whose factor is 1 (battery %, counts, CO2 ppm, packet id …).
    Int(i64),
    /// A scaled value, already rounded to the factor's decimal places (25.06, not 25.060000000000002).
    Float(f64),
    /// A binary sensor (any non-zero byte is `true`).
    Bool(bool),
    /// `0x53` text.
    Text(String),
    /// `0x53` text whose bytes are not UTF-8 (bthome-ble drops it; JSON shows `null`).
    InvalidText(Vec<u8>),
    /// v1 value bytes in a format bthome-ble cannot read (control bits 5–7 = 6 or 7, or a float
    /// not 2, 4 or 8 bytes long): it drops the value, but the object still counts when naming
    /// the others (`temperature_2` after it). JSON shows `null`.
    Unreadable(Vec<u8>),
    /// `0x54` raw bytes.
    Raw(Vec<u8>),
    /// `0x50`: unix seconds (UTC).
    Timestamp(u64),
    /// `0xF0`: device type id.
    DeviceTypeId(u16),
    /// `0xF1` / `0xF2`.
    Firmware(FirmwareVersion),
    /// `0x3A`: the event byte (`0x00` = no event).
    Button(u8),
    /// `0x3C`: the event byte and the number of steps.
    Dimmer {
        /// `0x00` none, `0x01` rotate left, `0x02` rotate right.
        event: u8,
        /// Steps, unsigned (spec and bthome-ble 3.25).
        steps: u8,
    },
    /// `0x3B`: the opcode and its argument bytes.
    Command {
        /// `0x00` off, `0x01` on, `0x02` toggle, `0x03` step up, `0x04` step down.
        opcode: u8,
        /// Opcode- or manufacturer-specific arguments.
        args: Vec<u8>,
    },
}

/// Button event names by event byte (bthome.io + bthome-ble 3.25's `0x81`).
pub(crate) fn button_event(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "press",
        0x02 => "double_press",
        0x03 => "triple_press",
        0x04 => "long_press",
        0x05 => "long_double_press",
        0x06 => "long_triple_press",
        0x80 => "hold_press",
        0x81 => "hold_release",
        _ => return None,
    })
}

/// Dimmer event names by event byte.
pub(crate) fn dimmer_event(code: u8) -> Option<&'static str> {
    match code {
        0x01 => Some("rotate_left"),
        0x02 => Some("rotate_right"),
        _ => None,
    }
}

/// Command names by opcode.
pub(crate) fn command_event(opcode: u8) -> Option<&'static str> {
    Some(match opcode {
        0x00 => "off",
        0x01 => "on",
        0x02 => "toggle",
        0x03 => "step_up",
        0x04 => "step_down",
        _ => return None,
    })
}

impl Value {
    /// The event name for button, dimmer and command values (`press`, `rotate_left`, `toggle` …);
    /// `None` for other values and for event bytes that mean "no event" or are unknown.
    pub fn event(&self) -> Option<&'static str> {
        match *self {
            Self::Button(code) => button_event(code),
            Self::Dimmer { event, .. } => dimmer_event(event),
            Self::Command { opcode, .. } => command_event(opcode),
            _ => None,
        }
    }

    /// Whether this is an event value (button, dimmer, command).
    pub fn is_event(&self) -> bool {
        matches!(
            self,
            Self::Button(_) | Self::Dimmer { .. } | Self::Command { .. }
        )
    }

    /// The value as a number, when it is one (ints, floats, booleans as 0/1, timestamps, ids).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Self::Int(v) => Some(v as f64),
            Self::Float(v) => Some(v),
            Self::Bool(v) => Some(f64::from(u8::from(v))),
            Self::Timestamp(v) => Some(v as f64),
            Self::DeviceTypeId(v) => Some(f64::from(v)),
            _ => None,
        }
    }

    /// Scales a raw integer by a table row's factor and rounds like bthome-ble:
    /// `round(raw × factor, decimals)`, an integer when the factor is 1.
    pub fn scaled(raw: i64, info: &ObjectInfo) -> Self {
        if info.factor == 1.0 {
            Self::Int(raw)
        } else if table::is_power_of_ten(info) {
            // Dividing the exact integer by an exact power of ten is correctly rounded, which is
            // what Python's round(raw * 10^-d, d) yields too (its error is far below 10^-d / 2).
            Self::Float(raw as f64 / table::pow10(info.decimals))
        } else {
            Self::Float(round_decimals(raw as f64 * info.factor, info.decimals))
        }
    }
}

/// Python's `round(x, decimals)`: the decimal with `decimals` places nearest to the exact binary
/// value of `x` (ties to even), converted back to the nearest `f64`.
pub(crate) fn round_decimals(x: f64, decimals: u8) -> f64 {
    let bits = x.to_bits();
    let negative = bits >> 63 != 0;
    let exponent = ((bits >> 52) & 0x7FF) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    // x = mantissa × 2^power exactly.
    let (mantissa, power) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exponent - 1075)
    };
    let scale = 10u128.pow(u32::from(decimals.min(9)));
    let n = u128::from(mantissa) * scale; // < 2^53 × 2^30
    if power >= 0 {
        return x; // already an integer (|x| ≥ 2^52), or infinite or NaN: nothing to round
    }
    let shift = power.unsigned_abs();
    let rounded = if shift >= 127 {
        0 // |x × 10^decimals| < 2^83 / 2^127: far below one half
    } else {
        // Round n / 2^shift to an integer, ties to even.
        let q = n >> shift;
        let rem = n - (q << shift);
        let half = 1u128 << (shift - 1);
        if rem > half || (rem == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let v = rounded as f64 / scale as f64;
    if negative { -v } else { v }
}

/// One decoded object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The object id.
    pub id: u8,
    /// Byte offset of the object in the service data.
    pub offset: u16,
    /// Bytes the object takes from `offset`: id, any length or control byte, and the value
    /// (0 for an object made to encode). See [`Object::span`].
    pub len: u16,
    /// The value.
    pub value: Value,
}

impl Object {
    /// An object to encode: not read from a packet, so its offset and length are 0.
    pub fn new(id: u8, value: Value) -> Self {
        Self {
            id,
            offset: 0,
            len: 0,
            value,
        }
    }

    /// The bytes of the service data this object was read from (for an encrypted packet, the
    /// ciphertext bytes at the same positions: AES-CCM encrypts byte for byte).
    pub fn span(&self) -> core::ops::Range<usize> {
        let start = usize::from(self.offset);
        start..start + usize::from(self.len)
    }

    /// This object's table row (always present for decoded objects).
    pub fn info(&self) -> Option<&'static ObjectInfo> {
        info(self.id)
    }

    /// The name from the object table (`temperature`, `button`, …).
    pub fn name(&self) -> &'static str {
        self.info().map_or("unknown", |i| i.name)
    }

    /// The unit from the object table, as bthome-ble reports it.
    pub fn unit(&self) -> Option<&'static str> {
        self.info().and_then(|i| i.unit)
    }
}

/// Writes lower-case hex.
pub(crate) struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for Object {
    /// `{"id":2,"name":"temperature","value":25.06,"unit":"°C"}` for values;
    /// `{"id":58,"name":"button","event":"press"}` for events, plus `"steps"` (dimmer) or
    /// `"args"` (command, hex).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("name", self.name())?;
        match &self.value {
            Value::Button(_) => map.serialize_entry("event", &self.value.event())?,
            Value::Dimmer { steps, .. } => {
                map.serialize_entry("event", &self.value.event())?;
                map.serialize_entry("steps", steps)?;
            }
            Value::Command { args, .. } => {
                map.serialize_entry("event", &self.value.event())?;
                map.serialize_entry("args", &Hex(args))?;
            }
            value => {
                match value {
                    Value::Int(v) => map.serialize_entry("value", v)?,
                    Value::Float(v) => map.serialize_entry("value", v)?,
                    Value::Bool(v) => map.serialize_entry("value", v)?,
                    Value::Text(v) => map.serialize_entry("value", v)?,
                    Value::Raw(v) => map.serialize_entry("value", &Hex(v))?,
                    Value::Timestamp(v) => map.serialize_entry("value", v)?,
                    Value::DeviceTypeId(v) => map.serialize_entry("value", v)?,
                    Value::Firmware(v) => map.serialize_entry("value", &alloc::format!("{v}"))?,
                    _ => map.serialize_entry("value", &())?,
                }
                map.serialize_entry("unit", &self.unit())?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_python() {
        // Python: round(0.35, 1) == 0.3 (0.35 is 0.34999… in binary); round(-22 * 0.35, 1) == -7.7
        assert_eq!(round_decimals(0.35, 1), 0.3);
        assert_eq!(round_decimals(-22.0 * 0.35, 1), -7.7);
        // Python: round(2.675, 2) == 2.67; round(0.125, 2) == 0.12 (exact tie → even)
        assert_eq!(round_decimals(2.675, 2), 2.67);
        assert_eq!(round_decimals(0.125, 2), 0.12);
        assert_eq!(round_decimals(0.375, 2), 0.38);
        assert_eq!(round_decimals(25.0 * 0.01, 2), 0.25);
        assert_eq!(round_decimals(1.5, 0), 2.0);
        assert_eq!(round_decimals(2.5, 0), 2.0);
        assert_eq!(round_decimals(f64::INFINITY, 2), f64::INFINITY);
        assert!(round_decimals(f64::NAN, 2).is_nan());
        assert!(round_decimals(-0.0, 2).is_sign_negative());
        assert_eq!(round_decimals(1e-300, 2), 0.0);
        assert_eq!(round_decimals(5e-324, 2), 0.0); // subnormal
    }

    /// Every numeric value charts as a number; events, text and raw bytes do not.
    #[test]
    fn numbers_are_the_numeric_values() {
        assert_eq!(Value::Int(-3).as_f64(), Some(-3.0));
        assert_eq!(Value::Float(25.06).as_f64(), Some(25.06));
        assert_eq!(Value::Bool(true).as_f64(), Some(1.0));
        assert_eq!(Value::Bool(false).as_f64(), Some(0.0));
        assert_eq!(
            Value::Timestamp(1_684_093_277).as_f64(),
            Some(1_684_093_277.0)
        );
        assert_eq!(Value::DeviceTypeId(0x0010).as_f64(), Some(16.0));
        assert_eq!(Value::Button(1).as_f64(), None);
        assert_eq!(Value::Text("1".into()).as_f64(), None);
    }

    /// Object 0x58 (sint8 × 0.35, 1 decimal) over its whole domain, against Python 3.11's
    /// `[round(r * 0.35, 1) for r in range(-128, 128)]` (×10 here). Rounding the exact product
    /// (half away from zero) differs from Python at 118 of these 256 values.
    #[test]
    fn factor_0_35_matches_python_for_every_raw_value() {
        const PYTHON_TENTHS: [i32; 256] = [
            -448, -444, -441, -438, -434, -430, -427, -423, -420, -416, -413, -409, -406, -402,
            -399, -395, -392, -388, -385, -381, -378, -374, -371, -368, -364, -360, -357, -353,
            -350, -346, -343, -339, -336, -332, -329, -325, -322, -318, -315, -311, -308, -304,
            -301, -297, -294, -290, -287, -283, -280, -276, -273, -269, -266, -262, -259, -255,
            -252, -248, -245, -241, -238, -234, -231, -228, -224, -220, -217, -213, -210, -206,
            -203, -199, -196, -192, -189, -185, -182, -178, -175, -171, -168, -164, -161, -157,
            -154, -150, -147, -143, -140, -136, -133, -129, -126, -122, -119, -115, -112, -108,
            -105, -101, -98, -94, -91, -88, -84, -80, -77, -73, -70, -66, -63, -59, -56, -52, -49,
            -45, -42, -38, -35, -31, -28, -24, -21, -18, -14, -10, -7, -3, 0, 3, 7, 10, 14, 18, 21,
            24, 28, 31, 35, 38, 42, 45, 49, 52, 56, 59, 63, 66, 70, 73, 77, 80, 84, 88, 91, 94, 98,
            101, 105, 108, 112, 115, 119, 122, 126, 129, 133, 136, 140, 143, 147, 150, 154, 157,
            161, 164, 168, 171, 175, 178, 182, 185, 189, 192, 196, 199, 203, 206, 210, 213, 217,
            220, 224, 228, 231, 234, 238, 241, 245, 248, 252, 255, 259, 262, 266, 269, 273, 276,
            280, 283, 287, 290, 294, 297, 301, 304, 308, 311, 315, 318, 322, 325, 329, 332, 336,
            339, 343, 346, 350, 353, 357, 360, 364, 368, 371, 374, 378, 381, 385, 388, 392, 395,
            399, 402, 406, 409, 413, 416, 420, 423, 427, 430, 434, 438, 441, 444,
        ];
        let info = info(0x58).unwrap();
        for (raw, tenths) in (-128i64..128).zip(PYTHON_TENTHS) {
            assert_eq!(
                Value::scaled(raw, info),
                Value::Float(f64::from(tenths) / 10.0),
                "{raw}"
            );
        }
    }

    #[test]
    fn scales_to_the_shortest_float() {
        let t = info(0x02).unwrap();
        assert_eq!(Value::scaled(2506, t), Value::Float(25.06));
        assert_eq!(
            serde_json::to_string(&Value::scaled(2506, t).as_f64()).unwrap(),
            "25.06"
        );
        assert_eq!(Value::scaled(97, info(0x01).unwrap()), Value::Int(97));
        assert_eq!(
            Value::scaled(-2_123_456, info(0x62).unwrap()),
            Value::Float(-2.123456)
        );
    }

    #[test]
    fn objects_serialize_in_the_decode_schema() {
        let temp = Object {
            id: 2,
            offset: 1,
            len: 3,
            value: Value::Float(23.45),
        };
        assert_eq!(
            serde_json::to_string(&temp).unwrap(),
            r#"{"id":2,"name":"temperature","value":23.45,"unit":"°C"}"#
        );
        let dimmer = Object {
            id: 0x3C,
            offset: 1,
            len: 3,
            value: Value::Dimmer { event: 1, steps: 3 },
        };
        assert_eq!(
            serde_json::to_string(&dimmer).unwrap(),
            r#"{"id":60,"name":"dimmer","event":"rotate_left","steps":3}"#
        );
        let none = Object {
            id: 0x3A,
            offset: 1,
            len: 3,
            value: Value::Button(0),
        };
        assert_eq!(
            serde_json::to_string(&none).unwrap(),
            r#"{"id":58,"name":"button","event":null}"#
        );
        let cmd = Object {
            id: 0x3B,
            offset: 1,
            len: 3,
            value: Value::Command {
                opcode: 3,
                args: alloc::vec![5],
            },
        };
        assert_eq!(
            serde_json::to_string(&cmd).unwrap(),
            r#"{"id":59,"name":"command","event":"step_up","args":"05"}"#
        );
        let fw = Object {
            id: 0xF1,
            offset: 1,
            len: 3,
            value: Value::Firmware(FirmwareVersion {
                parts: [4, 2, 1, 0],
                len: 4,
            }),
        };
        assert_eq!(
            serde_json::to_string(&fw).unwrap(),
            r#"{"id":241,"name":"firmware_version","value":"4.2.1.0","unit":null}"#
        );
        let bad = Object {
            id: 0x53,
            offset: 1,
            len: 3,
            value: Value::InvalidText(alloc::vec![0xFF]),
        };
        assert_eq!(
            serde_json::to_string(&bad).unwrap(),
            r#"{"id":83,"name":"text","value":null,"unit":null}"#
        );
        for (id, value, json) in [
            (
                0x01,
                Value::Int(97),
                r#"{"id":1,"name":"battery","value":97,"unit":"%"}"#,
            ),
            (
                0x10,
                Value::Bool(true),
                r#"{"id":16,"name":"power","value":true,"unit":null}"#,
            ),
            (
                0x53,
                Value::Text("Hi".into()),
                r#"{"id":83,"name":"text","value":"Hi","unit":null}"#,
            ),
            (
                0x54,
                Value::Raw(alloc::vec![0xAB, 0x01]),
                r#"{"id":84,"name":"raw","value":"ab01","unit":null}"#,
            ),
            (
                0x50,
                Value::Timestamp(1_684_093_277),
                r#"{"id":80,"name":"timestamp","value":1684093277,"unit":null}"#,
            ),
            (
                0xF0,
                Value::DeviceTypeId(1),
                r#"{"id":240,"name":"device_type_id","value":1,"unit":null}"#,
            ),
        ] {
            assert_eq!(
                serde_json::to_string(&Object::new(id, value)).unwrap(),
                json
            );
        }
    }
}

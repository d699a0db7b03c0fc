//! Encoding objects into v2 / v1 service data, plain or encrypted (for the simulator and
//! `BLE.AdvertiseOnce`).

use alloc::vec::Vec;
use core::fmt;

use super::crypto;
use super::table::{self, Kind, ObjectInfo, info};
use super::{BindKey, Header, Object, Value};
use crate::advertisement::MacAddress;

/// What encryption needs: the bind key, the device MAC (goes into the nonce) and the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encryption {
    /// The bind key.
    pub key: BindKey,
    /// The device address, most significant byte first (v2 with a payload MAC uses that one).
    pub mac: MacAddress,
    /// The encryption counter; the caller increases it for every new packet.
    pub counter: u32,
}

/// Why objects could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The id is not in the object table.
    UnknownObject {
        /// Index of the object in the list.
        index: usize,
        /// The id.
        id: u8,
    },
    /// The value's variant does not fit the object's kind (e.g. text for temperature).
    WrongValue {
        /// Index of the object in the list.
        index: usize,
        /// The id.
        id: u8,
    },
    /// The value does not fit the object's width and signedness after scaling.
    OutOfRange {
        /// Index of the object in the list.
        index: usize,
        /// The id.
        id: u8,
    },
    /// Text, raw data or command arguments longer than the format allows (255, 255, 31 bytes;
    /// 30 value bytes in v1).
    TooLong {
        /// Index of the object in the list.
        index: usize,
        /// The id.
        id: u8,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UnknownObject { index, id } => {
                write!(f, "object #{index}: id {id:#04x} is not a BTHome object")
            }
            Self::WrongValue { index, id } => {
                write!(
                    f,
                    "object #{index} ({id:#04x}): the value has the wrong type for this object"
                )
            }
            Self::OutOfRange { index, id } => {
                write!(
                    f,
                    "object #{index} ({id:#04x}): the value does not fit the object's range"
                )
            }
            Self::TooLong { index, id } => {
                write!(
                    f,
                    "object #{index} ({id:#04x}): too many bytes for this object"
                )
            }
        }
    }
}

impl core::error::Error for EncodeError {}

/// The raw integer for a numeric value: the inverse of [`Value::scaled`].
fn raw_integer(info: &ObjectInfo, value: &Value) -> Option<i128> {
    let scaled = match *value {
        Value::Int(v) if info.factor == 1.0 => return Some(i128::from(v)),
        Value::Int(v) => v as f64,
        Value::Float(v) => v,
        Value::Bool(b) => return Some(i128::from(b)),
        Value::Timestamp(v) => return Some(i128::from(v)),
        Value::DeviceTypeId(v) => return Some(i128::from(v)),
        _ => return None,
    };
    let raw = if table::is_power_of_ten(info) {
        scaled * table::pow10(info.decimals)
    } else {
        scaled / info.factor
    };
    raw.is_finite().then(|| round_half_away(raw) as i128)
}

/// Rounds half away from zero (`f64::round` needs std).
fn round_half_away(x: f64) -> f64 {
    let t = x as i128 as f64; // truncates toward zero; |x| is far below 2^127 here
    let diff = x - t;
    if diff >= 0.5 {
        t + 1.0
    } else if diff <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// Little-endian bytes of `raw` in `width` bytes, when it fits.
fn int_bytes(raw: i128, width: u8, signed: bool) -> Option<([u8; 8], usize)> {
    let width = usize::from(width).min(8);
    let bits = (width * 8) as u32;
    let (min, max) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    if raw < min || raw > max {
        return None;
    }
    let bytes = (raw as i64).to_le_bytes();
    Some((bytes, width))
}

/// Appends object number `index` in v2 form (`[id][value]` or `[id][len][bytes]`).
fn encode_at(index: usize, object: &Object, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let id = object.id;
    let info = info(id).ok_or(EncodeError::UnknownObject { index, id })?;
    let wrong = EncodeError::WrongValue { index, id };
    let too_long = EncodeError::TooLong { index, id };
    out.push(id);
    match (info.kind, &object.value) {
        (Kind::Text, Value::Text(text)) => push_prefixed(out, text.as_bytes(), too_long)?,
        (Kind::Text, Value::InvalidText(bytes)) | (Kind::Raw, Value::Raw(bytes)) => {
            push_prefixed(out, bytes, too_long)?;
        }
        (Kind::Button, &Value::Button(code)) => out.push(code),
        (Kind::Dimmer, &Value::Dimmer { event, steps }) => out.extend_from_slice(&[event, steps]),
        (Kind::Command, Value::Command { opcode, args }) => {
            let len = u8::try_from(args.len())
                .ok()
                .filter(|&n| n <= 0x1F)
                .ok_or(too_long)?;
            out.extend_from_slice(&[len, *opcode]);
            out.extend_from_slice(args);
        }
        (Kind::Firmware, Value::Firmware(version)) => {
            if usize::from(version.len) != usize::from(info.width) {
                return Err(wrong);
            }
            let parts = version
                .parts
                .get(..usize::from(version.len))
                .ok_or(wrong.clone())?;
            out.extend(parts.iter().rev());
        }
        (Kind::Number | Kind::Binary | Kind::Timestamp | Kind::DeviceTypeId, value) => {
            let raw = raw_integer(info, value).ok_or(wrong)?;
            let (bytes, width) = int_bytes(raw, info.width, info.signed)
                .ok_or(EncodeError::OutOfRange { index, id })?;
            out.extend_from_slice(bytes.get(..width).unwrap_or_default());
        }
        _ => return Err(wrong),
    }
    Ok(())
}

fn push_prefixed(
    out: &mut Vec<u8>,
    bytes: &[u8],
    too_long: EncodeError,
) -> Result<(), EncodeError> {
    let len = u8::try_from(bytes.len()).map_err(|_| too_long)?;
    out.push(len);
    out.extend_from_slice(bytes);
    Ok(())
}

/// Encodes v2 service data (the bytes after the `0xFCD2` UUID).
///
/// `trigger_based` sets device-info bit 2; `payload_mac` adds the legacy MAC (bit 1, stored
/// reversed); `encryption` encrypts with AES-CCM (nonce MAC: `payload_mac` when given, else
/// `encryption.mac`).
pub fn encode_v2(
    objects: &[Object],
    trigger_based: bool,
    payload_mac: Option<MacAddress>,
    encryption: Option<&Encryption>,
) -> Result<Vec<u8>, EncodeError> {
    let header = Header {
        version: 2,
        encrypted: encryption.is_some(),
        mac_included: payload_mac.is_some(),
        trigger_based,
    };
    let info_byte = header.to_v2_byte();
    let mut out = Vec::with_capacity(16 + objects.len() * 3);
    out.push(info_byte);
    if let Some(mac) = payload_mac {
        out.extend(mac.0.iter().rev());
    }
    let body_start = out.len();
    for (index, object) in objects.iter().enumerate() {
        encode_at(index, object, &mut out)?;
    }
    if let Some(enc) = encryption {
        let counter = enc.counter.to_le_bytes();
        let nonce = crypto::nonce_v2(payload_mac.unwrap_or(enc.mac), info_byte, counter);
        let mic = crypto::encrypt_v2(
            enc.key.as_bytes(),
            &nonce,
            out.get_mut(body_start..).unwrap_or_default(),
        );
        out.extend_from_slice(&counter);
        out.extend_from_slice(&mic);
    }
    Ok(out)
}

/// Encodes v1 service data (UUID `0x181C`, or `0x181E` when `encryption` is given).
pub fn encode_v1(
    objects: &[Object],
    encryption: Option<&Encryption>,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(16 + objects.len() * 4);
    let mut value = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        value.clear();
        encode_at(index, object, &mut value)?;
        let id = object.id;
        let info = info(id).ok_or(EncodeError::UnknownObject { index, id })?;
        // v2 form is [id][value] or [id][len][bytes]; v1 drops the length prefix.
        let (format, data) = match info.kind {
            Kind::Text => (3u8, value.get(2..)),
            Kind::Raw => (4, value.get(2..)),
            Kind::Command => (0, value.get(2..)),
            Kind::Timestamp => (5, value.get(1..)),
            _ if info.signed => (1, value.get(1..)),
            _ => (0, value.get(1..)),
        };
        let data = data.unwrap_or_default();
        let len = u8::try_from(data.len() + 1)
            .ok()
            .filter(|&n| n <= 0x1F)
            .ok_or(EncodeError::TooLong { index, id })?;
        out.push(format << 5 | len);
        out.push(id);
        out.extend_from_slice(data);
    }
    if let Some(enc) = encryption {
        let counter = enc.counter.to_le_bytes();
        let nonce = crypto::nonce_v1(enc.mac, counter);
        let mic = crypto::encrypt_v1(enc.key.as_bytes(), &nonce, &mut out);
        out.extend_from_slice(&counter);
        out.extend_from_slice(&mic);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bthome::spec_example::{KEY, MAC};
    use crate::bthome::{decode_v1, decode_v2};
    use crate::hex::fixture as hex;

    /// Decoding gave back the values that were encoded, in order.
    fn assert_same_values(decoded: &[Object], encoded: &[Object]) {
        let values =
            |objects: &[Object]| objects.iter().map(|o| o.value.clone()).collect::<Vec<_>>();
        assert_eq!(values(decoded), values(encoded));
    }

    #[test]
    fn encodes_the_spec_example() {
        let objects = [
            Object::new(2, Value::Float(25.06)),
            Object::new(3, Value::Float(50.55)),
        ];
        assert_eq!(
            encode_v2(&objects, false, None, None).unwrap(),
            hex("4002ca0903bf13")
        );
        let enc = Encryption {
            key: KEY,
            mac: MAC,
            counter: 0x0011_2233,
        };
        assert_eq!(
            encode_v2(&objects, false, None, Some(&enc)).unwrap(),
            hex("41e445f3c9962b332211006c7c4519")
        );
        // bthome-ble test_parser_v1 test_bindkey_correct, re-encrypted.
        let enc1 = Encryption {
            counter: 0x3322_1100,
            ..enc
        };
        assert_eq!(
            encode_v1(&objects, Some(&enc1)).unwrap(),
            hex("fba435e4d3c312fb0011223357d90a99")
        );
    }

    #[test]
    fn encodes_length_prefixed_and_events() {
        let objects = [
            Object::new(
                0x3B,
                Value::Command {
                    opcode: 3,
                    args: alloc::vec![5],
                },
            ),
            Object::new(
                0x3C,
                Value::Dimmer {
                    event: 2,
                    steps: 10,
                },
            ),
            Object::new(0x53, Value::Text("Hi".into())),
        ];
        assert_eq!(
            encode_v2(&objects, true, None, None).unwrap(),
            hex("443b0103053c020a53024869")
        );
        let back = decode_v2(&hex("443b0103053c020a53024869"), None, None);
        assert_same_values(&back.objects, &objects);
    }

    #[test]
    fn rejects_values_that_do_not_fit() {
        assert_eq!(
            encode_v2(&[Object::new(1, Value::Int(256))], false, None, None),
            Err(EncodeError::OutOfRange { index: 0, id: 1 })
        );
        assert_eq!(
            encode_v2(
                &[Object::new(2, Value::Text("x".into()))],
                false,
                None,
                None
            ),
            Err(EncodeError::WrongValue { index: 0, id: 2 })
        );
        assert_eq!(
            encode_v2(&[Object::new(0x30, Value::Int(0))], false, None, None),
            Err(EncodeError::UnknownObject { index: 0, id: 0x30 })
        );
    }

    /// The widths' limits, after scaling: temperature `0x02` is a signed 16-bit count of 0.01 °C,
    /// battery `0x01` an unsigned byte; an integer for a scaled object is scaled like a float.
    #[test]
    fn range_limits_are_the_widths_limits() {
        let encode = |id, value| encode_v2(&[Object::new(id, value)], false, None, None);
        assert_eq!(encode(2, Value::Float(327.67)), Ok(hex("4002ff7f")));
        assert_eq!(encode(2, Value::Float(-327.68)), Ok(hex("40020080")));
        assert_eq!(encode(2, Value::Int(25)), Ok(hex("4002c409")));
        assert_eq!(encode(1, Value::Int(255)), Ok(hex("4001ff")));
        assert_eq!(encode(1, Value::Int(0)), Ok(hex("400100")));
        for (id, value) in [
            (2, Value::Float(327.68)),
            (2, Value::Float(-327.69)),
            (1, Value::Int(-1)),
            (1, Value::Int(256)),
        ] {
            assert_eq!(
                encode(id, value),
                Err(EncodeError::OutOfRange { index: 0, id })
            );
        }
        assert_eq!(
            EncodeError::OutOfRange { index: 0, id: 1 }.to_string(),
            "object #0 (0x01): the value does not fit the object's range"
        );
    }

    #[test]
    fn v1_round_trips() {
        let objects = [
            Object::new(2, Value::Float(-12.5)),
            Object::new(0x53, Value::Text("Hello".into())),
            Object::new(0x50, Value::Timestamp(1_684_093_277)),
            Object::new(0x1E, Value::Bool(true)),
        ];
        let bytes = encode_v1(&objects, None).unwrap();
        let back = decode_v1(&bytes, false, None, None);
        assert!(back.is_ok(), "{:?}", back.error);
        assert_same_values(&back.objects, &objects);
        // A timestamp in v1 is format 5 (bthome-ble's reading of the legacy format page's
        // example `A5505D396164`), not an unsigned integer.
        assert_eq!(
            encode_v1(&[Object::new(0x50, Value::Timestamp(1_684_093_277))], None),
            Ok(hex("a5505d396164"))
        );
    }
}

//! Stateless decoding of v2 and v1 service data.

use alloc::string::String;
use alloc::vec::Vec;

use super::crypto;
use super::table::{Kind, ObjectInfo, info};
use super::value::{FirmwareVersion, Object, Value, round_decimals};
use super::{BindKey, Error, Header, Packet};
use crate::advertisement::MacAddress;
use crate::uuid::Uuid;

/// Bytes after the ciphertext: counter (4) and MIC (4).
const TRAILER: usize = 8;
/// Smallest v2 ciphertext bthome-ble accepts.
const MIN_CIPHERTEXT_V2: usize = 2;
/// Smallest v1 ciphertext bthome-ble accepts.
const MIN_CIPHERTEXT_V1: usize = 4;
/// Ciphertexts up to this size are decrypted on the stack.
const STACK_BUFFER: usize = 64;

/// Decodes BTHome service data (the bytes after the UUID), statelessly.
///
/// - `service_uuid` picks the format: `0xFCD2` → v2, `0x181C` → v1, `0x181E` → v1 encrypted;
///   anything else gives [`Error::NotBthome`].
/// - `mac` (the device address, most significant byte first) is needed only to decrypt, and only
///   when the payload does not carry its own MAC (v2 device-info bit 1).
/// - `key` is the 16-byte bind key, needed only for encrypted packets.
///
/// No replay, duplicate or downgrade checks happen here; see [`super::ReceiverState`].
pub fn decode(
    service_uuid: Uuid,
    service_data: &[u8],
    mac: Option<MacAddress>,
    key: Option<&BindKey>,
) -> Packet {
    decode_checked(service_uuid, service_data, mac, key, &mut |_| Ok(()))
}

/// Decodes v2 service data (UUID `0xFCD2`); see [`decode`].
pub fn decode_v2(service_data: &[u8], mac: Option<MacAddress>, key: Option<&BindKey>) -> Packet {
    decode_v2_checked(service_data, mac, key, &mut |_| Ok(()))
}

/// Decodes v1 service data (UUID `0x181C`, or `0x181E` when `encrypted`); see [`decode`].
pub fn decode_v1(
    service_data: &[u8],
    encrypted: bool,
    mac: Option<MacAddress>,
    key: Option<&BindKey>,
) -> Packet {
    decode_v1_checked(service_data, encrypted, mac, key, &mut |_| Ok(()))
}

/// A hook called with the encryption counter before decrypting (the receiver's replay check).
pub(crate) type CounterCheck<'a> = dyn FnMut(u32) -> Result<(), Error> + 'a;

pub(crate) fn decode_checked(
    service_uuid: Uuid,
    service_data: &[u8],
    mac: Option<MacAddress>,
    key: Option<&BindKey>,
    check: &mut CounterCheck<'_>,
) -> Packet {
    if service_uuid == Uuid::BTHOME_V2 {
        decode_v2_checked(service_data, mac, key, check)
    } else if service_uuid == Uuid::BTHOME_V1 {
        decode_v1_checked(service_data, false, mac, key, check)
    } else if service_uuid == Uuid::BTHOME_V1_ENCRYPTED {
        decode_v1_checked(service_data, true, mac, key, check)
    } else {
        Packet::failed(None, Error::NotBthome { uuid: service_uuid })
    }
}

/// `ciphertext`, counter bytes, MIC bytes.
type EncryptedParts<'a> = (&'a [u8], [u8; 4], [u8; 4]);

/// Splits `ciphertext ‖ counter ‖ MIC`, checking the minimum ciphertext length.
fn split_encrypted(
    body: &[u8],
    body_offset: usize,
    min: usize,
) -> Result<EncryptedParts<'_>, Error> {
    let too_short = Error::TooShort {
        offset: body_offset,
        needed: min + TRAILER,
        available: body.len(),
    };
    if body.len() < min + TRAILER {
        return Err(too_short);
    }
    let (ciphertext, trailer) = body
        .split_at_checked(body.len() - TRAILER)
        .ok_or(too_short.clone())?;
    let (counter, mic) = trailer.split_at_checked(4).ok_or(too_short.clone())?;
    let counter: [u8; 4] = counter.try_into().map_err(|_| too_short.clone())?;
    let mic: [u8; 4] = mic.try_into().map_err(|_| too_short)?;
    Ok((ciphertext, counter, mic))
}

/// Decrypts with a stack buffer when small, then hands the plaintext to `use_plain`.
fn with_plaintext(
    ciphertext: &[u8],
    decrypt: impl FnOnce(&mut [u8]) -> bool,
    use_plain: impl FnOnce(&[u8]),
) -> bool {
    let mut stack = [0u8; STACK_BUFFER];
    let mut heap: Vec<u8>;
    let buffer: &mut [u8] = match stack.get_mut(..ciphertext.len()) {
        Some(buffer) => buffer,
        None => {
            heap = Vec::new();
            heap.extend_from_slice(ciphertext);
            heap.as_mut_slice()
        }
    };
    buffer.copy_from_slice(ciphertext);
    if !decrypt(buffer) {
        return false;
    }
    use_plain(buffer);
    true
}

pub(crate) fn decode_v2_checked(
    data: &[u8],
    mac: Option<MacAddress>,
    key: Option<&BindKey>,
    check: &mut CounterCheck<'_>,
) -> Packet {
    let Some((&info_byte, rest)) = data.split_first() else {
        return Packet::failed(
            None,
            Error::TooShort {
                offset: 0,
                needed: 1,
                available: 0,
            },
        );
    };
    let Some(header) = Header::from_v2_byte(info_byte) else {
        return Packet::failed(
            None,
            Error::UnsupportedVersion {
                version: info_byte >> 5,
            },
        );
    };
    let mut packet = Packet {
        header: Some(header),
        ..Packet::default()
    };
    let mut body = rest;
    let mut body_offset = 1;
    if header.mac_included {
        let Some((reversed, after)) = rest.split_at_checked(6) else {
            packet.error = Some(Error::Truncated {
                offset: 1,
                id: None,
                needed: 6,
                available: rest.len(),
            });
            return packet;
        };
        let mut mac_bytes = [0u8; 6];
        for (slot, byte) in mac_bytes.iter_mut().zip(reversed.iter().rev()) {
            *slot = *byte;
        }
        packet.payload_mac = Some(MacAddress(mac_bytes));
        body = after;
        body_offset = 7;
    }
    packet.error = if header.encrypted {
        let nonce_mac = packet.payload_mac.or(mac);
        let scheme = Scheme::V2 { info_byte };
        decode_encrypted(
            scheme,
            body,
            body_offset,
            (key, nonce_mac),
            check,
            &mut packet,
        )
    } else {
        parse_v2_objects(body, body_offset, &mut packet.objects)
    }
    .err();
    packet.packet_id = first_packet_id(&packet.objects, header.version);
    packet
}

/// What differs between the versions on the encrypted path.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    /// v1 (`0x181E`): 12-byte nonce, AAD `0x11`, v1 objects.
    V1,
    /// v2: 13-byte nonce with the device-info byte, v2 objects.
    V2 {
        /// The device-info byte, part of the nonce.
        info_byte: u8,
    },
}

impl Scheme {
    fn min_ciphertext(self) -> usize {
        match self {
            Self::V1 => MIN_CIPHERTEXT_V1,
            Self::V2 { .. } => MIN_CIPHERTEXT_V2,
        }
    }

    fn decrypt(
        self,
        key: &[u8; 16],
        mac: MacAddress,
        counter: [u8; 4],
        buffer: &mut [u8],
        mic: [u8; 4],
    ) -> bool {
        match self {
            Self::V1 => crypto::decrypt_v1(key, &crypto::nonce_v1(mac, counter), buffer, mic),
            Self::V2 { info_byte } => {
                crypto::decrypt_v2(key, &crypto::nonce_v2(mac, info_byte, counter), buffer, mic)
            }
        }
    }

    fn parse(self, plain: &[u8], base: usize, out: &mut Vec<Object>) -> Result<(), Error> {
        match self {
            Self::V1 => parse_v1_objects(plain, base, out),
            Self::V2 { .. } => parse_v2_objects(plain, base, out),
        }
    }
}

/// The encrypted path of both versions, in the order bthome-ble checks it: split
/// `ciphertext ‖ counter ‖ MIC` (the counter is recorded), a key is needed, the receiver's replay
/// check runs, a MAC is needed for the nonce, then the MIC must verify and the plaintext parses.
fn decode_encrypted(
    scheme: Scheme,
    body: &[u8],
    body_offset: usize,
    (key, mac): (Option<&BindKey>, Option<MacAddress>),
    check: &mut CounterCheck<'_>,
    packet: &mut Packet,
) -> Result<(), Error> {
    let (ciphertext, counter, mic) = split_encrypted(body, body_offset, scheme.min_ciphertext())?;
    let counter_value = u32::from_le_bytes(counter);
    packet.counter = Some(counter_value);
    let key = key.ok_or(Error::MissingKey)?;
    check(counter_value)?;
    let mac = mac.ok_or(Error::MissingMac)?;
    let mut result = Ok(());
    let verified = with_plaintext(
        ciphertext,
        |buffer| scheme.decrypt(key.as_bytes(), mac, counter, buffer, mic),
        |plain| result = scheme.parse(plain, body_offset, &mut packet.objects),
    );
    if !verified {
        return Err(Error::MicFailure {
            offset: body_offset + ciphertext.len() + 4,
        });
    }
    result
}

fn first_packet_id(objects: &[Object], version: u8) -> Option<u64> {
    objects
        .iter()
        .find(|o| o.id == 0)
        .and_then(|o| packet_id(o, version))
}

/// A packet-id object's value as bthome-ble 3.25 compares it: the unsigned integer of its value
/// bytes. v2 sends one byte; v1 may send more, or a signed format (which reads negative).
pub(crate) fn packet_id(object: &Object, version: u8) -> Option<u64> {
    let Value::Int(value) = object.value else {
        return None;
    };
    // The value follows the id (v2), or the control byte and the id (v1).
    let bytes = usize::from(object.len).saturating_sub(if version == 1 { 2 } else { 1 });
    let bits = 8 * bytes.min(8) as u32;
    Some(value as u64 & u64::MAX.checked_shr(64 - bits).unwrap_or(0))
}

/// Little-endian unsigned integer of up to 8 bytes.
fn read_uint(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Little-endian two's-complement integer of 1 to 8 bytes.
fn read_int(bytes: &[u8]) -> i64 {
    let bits = bytes.len().min(8) * 8;
    let raw = read_uint(bytes);
    if bits == 0 || bits == 64 {
        raw as i64
    } else {
        let shift = 64 - bits;
        ((raw << shift) as i64) >> shift
    }
}

/// The value of a v2 object (or a v1 object whose format matches the table) from its value bytes.
fn table_value(info: &ObjectInfo, bytes: &[u8]) -> Value {
    let first = bytes.first().copied().unwrap_or(0);
    match info.kind {
        Kind::Number => {
            let raw = if info.signed {
                read_int(bytes)
            } else {
                read_uint(bytes) as i64
            };
            Value::scaled(raw, info)
        }
        Kind::Binary => Value::Bool(bytes.iter().any(|&b| b != 0)),
        Kind::Button => Value::Button(first),
        Kind::Dimmer => Value::Dimmer {
            event: first,
            steps: bytes.get(1).copied().unwrap_or(0),
        },
        Kind::Command => Value::Command {
            opcode: first,
            args: bytes.get(1..).unwrap_or_default().to_vec(),
        },
        Kind::Text => match core::str::from_utf8(bytes) {
            Ok(text) => Value::Text(String::from(text)),
            Err(_) => Value::InvalidText(bytes.to_vec()),
        },
        Kind::Raw => Value::Raw(bytes.to_vec()),
        Kind::Timestamp => Value::Timestamp(read_uint(bytes)),
        Kind::DeviceTypeId => Value::DeviceTypeId(read_uint(bytes) as u16),
        Kind::Firmware => {
            let mut parts = [0u8; 4];
            for (slot, byte) in parts.iter_mut().zip(bytes.iter().rev()) {
                *slot = *byte;
            }
            Value::Firmware(FirmwareVersion {
                parts,
                len: bytes.len().min(4) as u8,
            })
        }
    }
}

/// Reads v2 objects into `out`; stops at the first unknown id or truncated object.
pub(crate) fn parse_v2_objects(
    payload: &[u8],
    base: usize,
    out: &mut Vec<Object>,
) -> Result<(), Error> {
    out.reserve(payload.len() / 2);
    let mut at = 0usize;
    while let Some(&id) = payload.get(at) {
        let offset = base + at;
        let Some(info) = info(id) else {
            return Err(Error::UnknownObject { offset, id });
        };
        let (prefix, len) = match info.kind {
            Kind::Text | Kind::Raw | Kind::Command => {
                let Some(&len_byte) = payload.get(at + 1) else {
                    return Err(Error::Truncated {
                        offset,
                        id: Some(id),
                        needed: 2,
                        available: 1,
                    });
                };
                let len = if info.kind == Kind::Command {
                    1 + usize::from(len_byte & 0x1F)
                } else {
                    usize::from(len_byte)
                };
                (1, len)
            }
            _ => (0, usize::from(info.width)),
        };
        let start = at + 1 + prefix;
        let end = start + len;
        let Some(bytes) = payload.get(start..end) else {
            return Err(Error::Truncated {
                offset,
                id: Some(id),
                needed: end - at,
                available: payload.len() - at,
            });
        };
        out.push(Object {
            id,
            offset: offset as u16,
            len: (end - at) as u16,
            value: table_value(info, bytes),
        });
        at = end;
    }
    Ok(())
}

pub(crate) fn decode_v1_checked(
    data: &[u8],
    encrypted: bool,
    mac: Option<MacAddress>,
    key: Option<&BindKey>,
    check: &mut CounterCheck<'_>,
) -> Packet {
    let header = Header {
        version: 1,
        encrypted,
        mac_included: false,
        trigger_based: false,
    };
    let mut packet = Packet {
        header: Some(header),
        ..Packet::default()
    };
    if data.is_empty() {
        packet.error = Some(Error::TooShort {
            offset: 0,
            needed: 2,
            available: 0,
        });
        return packet;
    }
    packet.error = if encrypted {
        decode_encrypted(Scheme::V1, data, 0, (key, mac), check, &mut packet)
    } else {
        parse_v1_objects(data, 0, &mut packet.objects)
    }
    .err();
    packet.packet_id = first_packet_id(&packet.objects, header.version);
    packet
}

/// IEEE half-precision to f64.
fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits >> 15 == 0 { 1.0 } else { -1.0 };
    let exponent = u64::from((bits >> 10) & 0x1F);
    let fraction = u64::from(bits & 0x3FF);
    match exponent {
        0 => sign * fraction as f64 / 16_777_216.0, // subnormal: fraction × 2^-24
        0x1F if fraction == 0 => sign * f64::INFINITY,
        0x1F => f64::NAN,
        // Re-bias the exponent (15 → 1023) and widen the fraction (10 → 52 bits).
        e => f64::from_bits((u64::from(bits >> 15) << 63) | ((e + 1008) << 52) | (fraction << 42)),
    }
}

/// v1 formats (control byte bits 5–7).
const V1_UINT: u8 = 0;
const V1_SINT: u8 = 1;
const V1_FLOAT: u8 = 2;
const V1_STRING: u8 = 3;
const V1_RAW: u8 = 4;
const V1_TIMESTAMP: u8 = 5;

/// The value of a v1 object. As bthome-ble 3.25 parser.py does it: the control byte's format
/// decides how the bytes are read, then the table's kind decides what the value is (the factor,
/// a binary sensor's truth, an event). `None` = skipped: an event without bytes (bthome-ble
/// fails on it), device information it cannot read (bthome-ble fails on v1 device information;
/// left as it was), a timestamp over 8 bytes.
fn v1_value(info: &ObjectInfo, format: u8, bytes: &[u8]) -> Option<Value> {
    let event = matches!(info.kind, Kind::Button | Kind::Dimmer | Kind::Command);
    let device_info = matches!(info.kind, Kind::DeviceTypeId | Kind::Firmware);
    Some(match v1_read(info, format, bytes) {
        Some(Value::Int(_) | Value::Float(_)) if device_info => table_value(info, bytes),
        Some(Value::Unreadable(_)) | None if device_info => return None,
        // bthome-ble drops a value it cannot read (no event either), but the object still counts.
        Some(value @ (Value::Unreadable(_) | Value::InvalidText(_))) => value,
        _ if event && bytes.is_empty() => return None,
        _ if event => table_value(info, bytes),
        // A binary sensor is Python's truth of whatever was read: text "a" is on.
        Some(value) if info.kind == Kind::Binary => Value::Bool(truthy(&value)),
        value => value?,
    })
}

/// Python's `bool()` of a value as bthome-ble reads it (raw bytes become a hex string there).
fn truthy(value: &Value) -> bool {
    match value {
        Value::Text(text) => !text.is_empty(),
        Value::Raw(bytes) => !bytes.is_empty(),
        Value::Timestamp(_) => true, // a datetime
        value => value.as_f64().is_some_and(|v| v != 0.0),
    }
}

/// A v1 value read by its format (control bits 5–7), scaled by the table's factor; `None` for a
/// timestamp over 8 bytes.
fn v1_read(info: &ObjectInfo, format: u8, bytes: &[u8]) -> Option<Value> {
    Some(match format {
        V1_UINT | V1_SINT | V1_TIMESTAMP if bytes.len() <= 8 => {
            let raw = if format == V1_SINT {
                read_int(bytes)
            } else {
                read_uint(bytes) as i64
            };
            // A signed format stays signed on the timestamp id too (bthome-ble 3.25 parser.py
            // reads it with parse_int: `-1`, not 2^64 - 1).
            if format == V1_TIMESTAMP || (info.kind == Kind::Timestamp && format == V1_UINT) {
                Value::Timestamp(raw as u64)
            } else {
                Value::scaled(raw, info)
            }
        }
        V1_UINT | V1_SINT => {
            // Wider than 8 bytes (bthome-ble uses Python's big integers): approximate as a float.
            let mut v = bytes
                .iter()
                .rev()
                .fold(0.0f64, |acc, &b| acc * 256.0 + f64::from(b));
            if format == V1_SINT && bytes.last().is_some_and(|&b| b & 0x80 != 0) {
                v -= bytes.iter().fold(1.0f64, |acc, _| acc * 256.0);
            }
            Value::Float(round_decimals(v * info.factor, info.decimals))
        }
        V1_FLOAT => {
            let v = match *bytes {
                [a, b] => f16_to_f64(u16::from_le_bytes([a, b])),
                [a, b, c, d] => f64::from(f32::from_le_bytes([a, b, c, d])),
                [a, b, c, d, e, f, g, h] => f64::from_le_bytes([a, b, c, d, e, f, g, h]),
                _ => return Some(Value::Unreadable(bytes.to_vec())),
            };
            Value::Float(round_decimals(v * info.factor, info.decimals))
        }
        V1_STRING => match core::str::from_utf8(bytes) {
            Ok(text) => Value::Text(String::from(text)),
            Err(_) => Value::InvalidText(bytes.to_vec()),
        },
        V1_RAW => Value::Raw(bytes.to_vec()),
        V1_TIMESTAMP => return None,
        _ => Value::Unreadable(bytes.to_vec()),
    })
}

/// Reads v1 objects (`[control][id][value…]`, control bits 0–4 = length including the id).
/// Unknown ids are skipped (their length is known); a truncated object stops the parse.
pub(crate) fn parse_v1_objects(
    payload: &[u8],
    base: usize,
    out: &mut Vec<Object>,
) -> Result<(), Error> {
    let mut at = 0usize;
    while let Some(&control) = payload.get(at) {
        let offset = base + at;
        let len = usize::from(control & 0x1F);
        let format = control >> 5;
        let Some(&id) = payload.get(at + 1) else {
            return Err(Error::Truncated {
                offset,
                id: None,
                needed: 2,
                available: 1,
            });
        };
        if len == 0 {
            at += 1;
            continue;
        }
        let end = at + 1 + len;
        let Some(bytes) = payload.get(at + 2..end) else {
            return Err(Error::Truncated {
                offset,
                id: Some(id),
                needed: len + 1,
                available: payload.len() - at,
            });
        };
        at = end;
        let Some(info) = info(id) else { continue };
        if let Some(value) = v1_value(info, format, bytes) {
            out.push(Object {
                id,
                offset: offset as u16,
                len: (1 + len) as u16,
                value,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bthome::spec_example::{KEY, MAC};
    use crate::hex::fixture as hex;

    fn values(p: &Packet) -> Vec<(u8, Value)> {
        p.objects.iter().map(|o| (o.id, o.value.clone())).collect()
    }

    /// Temperature 25.06 °C and humidity 50.55 %, bthome.io `format.html` example.
    #[test]
    fn decodes_temperature_and_humidity() {
        let p = decode_v2(&hex("4002ca0903bf13"), None, None);
        assert!(p.is_ok());
        let h = p.header.unwrap();
        assert_eq!(
            (h.version, h.encrypted, h.mac_included, h.trigger_based),
            (2, false, false, false)
        );
        assert_eq!(
            values(&p),
            [(2, Value::Float(25.06)), (3, Value::Float(50.55))]
        );
        assert_eq!((p.objects[0].offset, p.objects[1].offset), (1, 4));
    }

    /// bthome-ble `test_bthome_battery_wrong_object_id_humidity`: `40 015d fe5d09 03b718`.
    #[test]
    fn unknown_object_keeps_the_objects_before_it() {
        let p = decode_v2(&hex("40015dfe5d0903b718"), None, None);
        assert_eq!(values(&p), [(1, Value::Int(93))]);
        assert_eq!(
            p.error,
            Some(Error::UnknownObject {
                offset: 3,
                id: 0xFE
            })
        );
    }

    /// bthome-ble `test_bthome_invalid_object_payload_data_length`: `4002ca0903bf`.
    #[test]
    fn truncated_object_reports_its_offset() {
        let p = decode_v2(&hex("4002ca0903bf"), None, None);
        assert_eq!(values(&p), [(2, Value::Float(25.06))]);
        assert_eq!(
            p.error,
            Some(Error::Truncated {
                offset: 4,
                id: Some(3),
                needed: 3,
                available: 2
            })
        );
        let lone = decode_v2(&hex("4002ca0954"), None, None);
        assert_eq!(
            lone.error,
            Some(Error::Truncated {
                offset: 4,
                id: Some(0x54),
                needed: 2,
                available: 1
            })
        );
    }

    #[test]
    fn empty_and_wrong_version_have_no_header() {
        let empty = decode_v2(&[], None, None);
        assert_eq!(empty.header, None);
        assert_eq!(
            empty.error,
            Some(Error::TooShort {
                offset: 0,
                needed: 1,
                available: 0
            })
        );
        let v1 = decode_v2(&hex("2002ca09"), None, None);
        assert_eq!(v1.header, None);
        assert_eq!(v1.error, Some(Error::UnsupportedVersion { version: 1 }));
    }

    /// bthome-ble `test_bthome_with_mac`: bit 1 set, reversed MAC, then pressure 1008.83.
    #[test]
    fn reads_the_payload_mac() {
        let p = decode_v2(&hex("42b2188d38c1a404138a01"), None, None);
        assert_eq!(
            p.payload_mac,
            Some(MacAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]))
        );
        assert_eq!(values(&p), [(4, Value::Float(1008.83))]);
        assert_eq!(p.objects[0].offset, 7);
    }

    /// bthome.io worked example: `41 e445f3c9962b 33221100 6c7c4519`.
    #[test]
    fn decrypts_the_spec_example() {
        let data = hex("41e445f3c9962b332211006c7c4519");
        let p = decode_v2(&data, Some(MAC), Some(&KEY));
        assert!(p.is_ok(), "{:?}", p.error);
        assert_eq!(p.counter, Some(0x0011_2233));
        assert_eq!(
            values(&p),
            [(2, Value::Float(25.06)), (3, Value::Float(50.55))]
        );
        let wrong_mac = decode_v2(
            &data,
            Some(MacAddress([0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA6])),
            Some(&KEY),
        );
        assert_eq!(wrong_mac.error, Some(Error::MicFailure { offset: 11 }));
        assert!(wrong_mac.objects.is_empty());
        assert_eq!(
            decode_v2(&data, Some(MAC), None).error,
            Some(Error::MissingKey)
        );
        assert_eq!(
            decode_v2(&data, None, Some(&KEY)).error,
            Some(Error::MissingMac)
        );
    }

    /// Shelly BLU Button1 capture (bthome-ble `test_encrypted_shelly_blu_button_event`).
    #[test]
    fn decrypts_a_shelly_button_with_info_byte_0x45() {
        let key: BindKey = "90bffd73cb6b26ef58a7a8eba9232036".parse().unwrap();
        let mac = MacAddress([0xB4, 0x35, 0x22, 0xF5, 0x3D, 0xA4]);
        let p = decode_v2(
            &hex("450aeb84467f85ba0100003188788c"),
            Some(mac),
            Some(&key),
        );
        assert!(p.is_ok(), "{:?}", p.error);
        assert_eq!(p.counter, Some(442));
        assert_eq!(p.packet_id, Some(7));
        assert_eq!(
            values(&p),
            [
                (0, Value::Int(7)),
                (1, Value::Int(100)),
                (0x3A, Value::Button(1))
            ]
        );
    }

    #[test]
    fn short_ciphertext_is_too_short() {
        let p = decode_v2(&hex("41aa0100000000000000"), Some(MAC), Some(&KEY));
        assert_eq!(
            p.error,
            Some(Error::TooShort {
                offset: 1,
                needed: 10,
                available: 9
            })
        );
    }

    /// BTHome v1 examples (bthome.io legacy v1 format page, as bthome-ble decodes them):
    /// `2302CA09` temperature, `0303BF13` humidity, `4306FE70` mass (float16).
    #[test]
    fn decodes_v1_formats() {
        let p = decode_v1(&hex("2302ca090303bf134306fe70"), false, None, None);
        assert!(p.is_ok());
        assert_eq!(
            values(&p),
            [
                (2, Value::Float(25.06)),
                (3, Value::Float(50.55)),
                (6, Value::Float(102.24))
            ]
        );
        let skipped = decode_v1(&hex("02fe0002015d"), false, None, None);
        assert_eq!(values(&skipped), [(1, Value::Int(93))]);
        let lone = decode_v1(&hex("02"), false, None, None);
        assert_eq!(
            lone.error,
            Some(Error::Truncated {
                offset: 0,
                id: None,
                needed: 2,
                available: 1
            })
        );
    }

    /// v1's rarer formats as bthome-ble 3.25 reads them (parser.py: Python integers of any
    /// width, `struct` doubles): integers over 8 bytes, a double, a timestamp too wide to read, an
    /// event without bytes, a device type id.
    #[test]
    fn decodes_v1_edge_formats() {
        let one = |data: &str| values(&decode_v1(&hex(data), false, None, None));
        // Count (factor 1), 9 bytes with the top bit set: 2^71 unsigned, -2^71 signed.
        let top = "000000000000000080";
        assert_eq!(
            one(&format!("0a09{top}")),
            [(0x09, Value::Float(2f64.powi(71)))]
        );
        assert_eq!(
            one(&format!("2a09{top}")),
            [(0x09, Value::Float(-(2f64.powi(71))))]
        );
        // Signed without bytes: Python's `int.from_bytes(b"", signed=True)` is 0.
        assert_eq!(one("2102"), [(0x02, Value::Float(0.0))]);
        // Signed, top bit clear: positive.
        assert_eq!(
            one("2a09000000000000000001"),
            [(0x09, Value::Float(2f64.powi(64)))]
        );
        // Temperature (factor 0.01), 9 bytes signed: -2^71 × 0.01.
        let [(0x02, Value::Float(t))] = one(&format!("2a02{top}"))[..] else {
            panic!("no temperature")
        };
        assert!((t + 2.3611832414348227e19).abs() < 1e5, "{t}");
        // Mass (factor 0.01) as a little-endian double: 10224.0 × 0.01.
        assert_eq!(one("49060000000000f8c340"), [(0x06, Value::Float(102.24))]);
        // A timestamp of 9 bytes is skipped; the battery after it is read.
        assert_eq!(
            one("aa50000000000000000001020164"),
            [(0x01, Value::Int(100))]
        );
        // A button event without bytes is skipped too.
        assert_eq!(one("013a020164"), [(0x01, Value::Int(100))]);
        // A device type id read as an integer is a device type id.
        assert_eq!(one("03f00a00"), [(0xF0, Value::DeviceTypeId(10))]);
        // One it cannot read (a 3-byte float) is skipped.
        assert_eq!(one("44f0010203020164"), [(0x01, Value::Int(100))]);
        // An object longer than what is left stops the parse, saying how much was missing.
        let cut = decode_v1(&hex("0201640302ca"), false, None, None);
        assert_eq!(values(&cut), [(0x01, Value::Int(100))]);
        assert_eq!(
            cut.error,
            Some(Error::Truncated {
                offset: 3,
                id: Some(0x02),
                needed: 4,
                available: 3
            })
        );
    }

    /// bthome-ble `test_parser_v1.py::test_bindkey_correct`.
    #[test]
    fn decrypts_v1() {
        let p = decode_v1(
            &hex("fba435e4d3c312fb0011223357d90a99"),
            true,
            Some(MAC),
            Some(&KEY),
        );
        assert!(p.is_ok(), "{:?}", p.error);
        assert_eq!(
            values(&p),
            [(2, Value::Float(25.06)), (3, Value::Float(50.55))]
        );
    }

    #[test]
    fn half_floats_convert() {
        assert_eq!(f16_to_f64(0x3C00), 1.0);
        assert_eq!(f16_to_f64(0xC000), -2.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert!(f16_to_f64(0x7E00).is_nan());
        // IEEE 754 binary16's edges: the largest subnormal, a negative one, the smallest and the
        // largest normal number, and both infinities.
        assert_eq!(f16_to_f64(0x03FF), 1023.0 * 2f64.powi(-24));
        assert_eq!(f16_to_f64(0x8001), -(2f64.powi(-24)));
        assert_eq!(f16_to_f64(0x0400), 2f64.powi(-14));
        assert_eq!(f16_to_f64(0x7BFF), 65504.0);
        assert_eq!(f16_to_f64(0x7C00), f64::INFINITY);
        assert_eq!(f16_to_f64(0xFC00), f64::NEG_INFINITY);
    }
}

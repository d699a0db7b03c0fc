//! The byte map of a decoded packet: which field each byte of the service data belongs to.
//!
//! [`Packet::spans`] walks the service data once, without allocating, and yields [`Span`]s that
//! tile it exactly (in order, no gaps, no overlaps). Layouts (bthome.io `format.html` and
//! `encryption.html`): v2 is `[device info][reversed MAC if bit 1][objects…]`, with
//! `[ciphertext…][counter 4][MIC 4]` in place of the objects when encrypted; v1 (`0x181C`/`0x181E`)
//! has no device-info byte. AES-CCM encrypts byte for byte, so a decrypted object's span is the
//! ciphertext bytes at its position.

use core::ops::Range;

use super::{Error, Packet};

/// Bytes after the ciphertext: counter (4) and MIC (4).
const COUNTER_LEN: usize = 4;
const MIC_LEN: usize = 4;

/// What a run of service-data bytes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The v2 device-information byte (also when its version bits are wrong).
    DeviceInfo,
    /// The reversed MAC after a v2 device-info byte with bit 1 set.
    PayloadMac,
    /// An object: its index in [`Packet::objects`]. Covers the id, any length or control byte,
    /// and the value bytes.
    Object(usize),
    /// Encrypted bytes not decrypted (no key, no MAC, MIC failure) or not readable after
    /// decryption.
    Ciphertext,
    /// The 4-byte encryption counter (little-endian).
    Counter,
    /// The 4-byte message integrity check.
    Mic,
    /// Plain bytes not decoded: after an error, or v1 objects skipped (unknown id, no value).
    Undecoded,
}

/// One run of bytes and the field it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The bytes, as offsets in the service data.
    pub range: Range<usize>,
    /// What they are.
    pub field: Field,
}

/// Iterator over a packet's spans; see [`Packet::spans`].
#[derive(Debug, Clone)]
pub struct Spans<'a> {
    packet: &'a Packet,
    len: usize,
    at: usize,
    next_object: usize,
    /// Device-info byte (0 or 1 byte).
    info_end: usize,
    /// Device info and payload MAC: the objects (or ciphertext) start here.
    body_start: usize,
    /// The objects (or ciphertext) end here; counter and MIC follow when encrypted.
    body_end: usize,
    /// What body bytes outside any object are.
    filler: Field,
}

impl Packet {
    /// The fields of the `len` bytes of service data this packet was decoded from, in order;
    /// together they cover `0..len` exactly. A `len` other than the decoded data's gives spans
    /// that still tile `0..len` but no longer describe it.
    pub fn spans(&self, len: usize) -> Spans<'_> {
        let header = self.header;
        let v2 = header.is_some_and(|h| h.version == 2)
            || matches!(self.error, Some(Error::UnsupportedVersion { .. }));
        let info_end = usize::from(v2).min(len);
        let mac_end = if self.payload_mac.is_some() {
            info_end + 6
        } else {
            info_end
        };
        let body_start = mac_end.min(len);
        let encrypted = header.is_some_and(|h| h.encrypted);
        // The decoder records the counter exactly when the data was long enough to split off
        // counter and MIC.
        let sealed = encrypted && self.counter.is_some();
        let body_end = if sealed {
            len.saturating_sub(COUNTER_LEN + MIC_LEN).max(body_start)
        } else {
            len
        };
        Spans {
            packet: self,
            len,
            at: 0,
            next_object: 0,
            info_end,
            body_start,
            body_end,
            filler: if sealed {
                Field::Ciphertext
            } else {
                Field::Undecoded
            },
        }
    }
}

impl Spans<'_> {
    /// The end and field of the span starting at `self.at` (inside the body).
    fn body_span(&mut self) -> (usize, Field) {
        let objects = &self.packet.objects;
        // Objects that start behind the cursor are done (or, in a packet built by hand, overlap
        // the one before).
        while objects
            .get(self.next_object)
            .is_some_and(|o| usize::from(o.offset) < self.at)
        {
            self.next_object += 1;
        }
        match objects.get(self.next_object) {
            Some(o) if usize::from(o.offset) == self.at && o.len > 0 => (
                o.span().end.min(self.body_end),
                Field::Object(self.next_object),
            ),
            Some(o) => (usize::from(o.offset).min(self.body_end), self.filler),
            None => (self.body_end, self.filler),
        }
    }
}

impl Iterator for Spans<'_> {
    type Item = Span;

    fn next(&mut self) -> Option<Span> {
        let at = self.at;
        if at >= self.len {
            return None;
        }
        let (end, field) = if at < self.info_end {
            (self.info_end, Field::DeviceInfo)
        } else if at < self.body_start {
            (self.body_start, Field::PayloadMac)
        } else if at < self.body_end {
            self.body_span()
        } else if at < self.body_end + COUNTER_LEN {
            (self.body_end + COUNTER_LEN, Field::Counter)
        } else {
            (self.len, Field::Mic)
        };
        // Every span covers at least one byte and none runs past the data.
        let end = end.clamp(at + 1, self.len);
        self.at = end;
        Some(Span {
            range: at..end,
            field,
        })
    }
}

impl core::iter::FusedIterator for Spans<'_> {}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::advertisement::MacAddress;
    use crate::bthome::Object;
    use crate::bthome::spec_example::{KEY, MAC};
    use crate::bthome::{BindKey, decode_v1, decode_v2};
    use crate::hex::fixture as hex;

    fn map(packet: &Packet, len: usize) -> Vec<(Range<usize>, Field)> {
        packet.spans(len).map(|s| (s.range, s.field)).collect()
    }

    /// The map of v2 service data (`data` in hex) decoded with `mac` and `key`, over all of it.
    fn v2(
        data: &str,
        mac: Option<MacAddress>,
        key: Option<&BindKey>,
    ) -> Vec<(Range<usize>, Field)> {
        let data = hex(data);
        map(&decode_v2(&data, mac, key), data.len())
    }

    /// bthome.io `format.html` example: temperature 25.06 °C, humidity 50.55 %.
    #[test]
    fn plain_v2_objects_follow_the_device_info_byte() {
        assert_eq!(
            v2("4002ca0903bf13", None, None),
            [
                (0..1, Field::DeviceInfo),
                (1..4, Field::Object(0)),
                (4..7, Field::Object(1)),
            ]
        );
    }

    /// bthome.io `encryption.html` example, decrypted and not.
    #[test]
    fn encrypted_v2_has_ciphertext_counter_and_mic() {
        let data = "41e445f3c9962b332211006c7c4519";
        assert_eq!(
            v2(data, Some(MAC), Some(&KEY)),
            [
                (0..1, Field::DeviceInfo),
                (1..4, Field::Object(0)),
                (4..7, Field::Object(1)),
                (7..11, Field::Counter),
                (11..15, Field::Mic),
            ]
        );
        assert_eq!(
            v2(data, Some(MAC), None),
            [
                (0..1, Field::DeviceInfo),
                (1..7, Field::Ciphertext),
                (7..11, Field::Counter),
                (11..15, Field::Mic),
            ]
        );
    }

    /// bthome-ble `test_bthome_with_mac`: the reversed MAC, then pressure.
    #[test]
    fn payload_mac_has_its_span() {
        assert_eq!(
            v2("42b2188d38c1a404138a01", None, None),
            [
                (0..1, Field::DeviceInfo),
                (1..7, Field::PayloadMac),
                (7..11, Field::Object(0)),
            ]
        );
    }

    /// bthome-ble `test_bthome_invalid_object_payload_data_length`, and a wrong version byte.
    #[test]
    fn bytes_after_an_error_are_undecoded() {
        assert_eq!(
            v2("4002ca0903bf", None, None),
            [
                (0..1, Field::DeviceInfo),
                (1..4, Field::Object(0)),
                (4..6, Field::Undecoded),
            ]
        );
        assert_eq!(
            v2("2002ca09", None, None),
            [(0..1, Field::DeviceInfo), (1..4, Field::Undecoded)]
        );
        assert_eq!(map(&decode_v2(&[], None, None), 0), []);
        // Encrypted, but too short to hold a counter and MIC: nothing is sealed.
        assert_eq!(
            v2("41e445", Some(MAC), Some(&KEY)),
            [(0..1, Field::DeviceInfo), (1..3, Field::Undecoded)]
        );
    }

    /// A packet built by hand may list an object that overlaps the one before (passed over) or
    /// one of no bytes (its byte is undecoded).
    #[test]
    fn hand_built_objects_still_tile() {
        let object = |offset, len| Object {
            offset,
            len,
            ..Object::new(0x01, crate::bthome::Value::Int(1))
        };
        let packet = Packet {
            header: crate::bthome::Header::from_v2_byte(0x40),
            objects: alloc::vec![object(1, 3), object(2, 2), object(4, 0), object(5, 1)],
            ..Packet::default()
        };
        assert_eq!(
            map(&packet, 6),
            [
                (0..1, Field::DeviceInfo),
                (1..4, Field::Object(0)),
                (4..5, Field::Undecoded),
                (5..6, Field::Object(3)),
            ]
        );
    }

    /// v1: no device-info byte; a skipped unknown object (`02 fe 00`) is undecoded; encrypted
    /// v1 (bthome-ble `test_parser_v1.py::test_bindkey_correct`) ends in counter and MIC.
    #[test]
    fn v1_layouts() {
        let data = hex("02fe0002015d");
        let p = decode_v1(&data, false, None, None);
        assert_eq!(
            map(&p, data.len()),
            [(0..3, Field::Undecoded), (3..6, Field::Object(0))]
        );
        let data = hex("fba435e4d3c312fb0011223357d90a99");
        let p = decode_v1(&data, true, Some(MAC), Some(&KEY));
        assert_eq!(
            map(&p, data.len()),
            [
                (0..4, Field::Object(0)),
                (4..8, Field::Object(1)),
                (8..12, Field::Counter),
                (12..16, Field::Mic),
            ]
        );
    }

    #[test]
    fn a_wrong_length_still_tiles_without_panicking() {
        let data = hex("41e445f3c9962b332211006c7c4519");
        let p = decode_v2(&data, Some(MAC), Some(&KEY));
        for len in [0, 1, 3, 9, 40] {
            let mut at = 0;
            for span in p.spans(len) {
                assert_eq!(span.range.start, at);
                assert!(span.range.end > at);
                at = span.range.end;
            }
            assert_eq!(at, len);
        }
    }
}

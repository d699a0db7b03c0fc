//! Per-device receiver state: the checks bthome-ble 3.25 applies between advertisements of one
//! device (`Bluetooth-Devices/bthome-ble` `src/bthome_ble/parser.py`: the encryption counter and
//! packet-id checks).

use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::decode::{decode_checked, packet_id};
use super::{BindKey, Error, Header, Packet, Value};
use crate::advertisement::MacAddress;
use crate::uuid::Uuid;

/// How long (ms) after the last accepted advertisement a repeated packet id still counts as a
/// duplicate, and after which identical encrypted service data counts as a replay.
const WINDOW_MS: u64 = 4_000;
/// How long (ms) a remote scanner's late report is compared with what came before it
/// ([`ReceiverState::receive_relayed`]).
const RELAYED_WINDOW_MS: u64 = 60_000;
/// How many accepted advertisements a late report is compared with.
const KEPT_ACCEPTED: usize = 8;
/// Encryption counters below this are accepted even when lower than the last one (the device
/// restarted), as in bthome-ble.
const RESTART_COUNTERS: u32 = 100;

/// State kept per device between advertisements. The caller owns it (one per device), passes the
/// time in, and may persist it (it is `Serialize`/`Deserialize`; persisting `counter` keeps replay
/// protection across restarts).
///
/// Rules, as bthome-ble 3.25 applies them:
/// - **downgrade**: a plaintext packet while a key is set is rejected ([`Error::Downgrade`]);
/// - **replay**: an encrypted packet whose counter is below the last accepted one is rejected
///   ([`Error::Replayed`]) once the key has been verified, unless the counter is below 100 (the
///   device restarted); an equal counter is accepted;
/// - **repeat**: identical encrypted service data more than 4 s after the last accepted
///   advertisement is rejected ([`Error::RepeatedAdvertisement`]);
/// - **packet id**: within 4 s of the last accepted advertisement, a packet id that is not newer
///   by 1…63 (modulo 256; a v1 id wider than a byte is compared whole) stops the decode at that
///   object ([`Error::DuplicatePacketId`]; objects before it are kept, as bthome-ble does);
/// - **key verification**: a good MIC marks the key verified; two MIC failures in a row clear it
///   (the point where Home Assistant asks for a new key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiverState {
    /// The bind key, when known.
    pub key: Option<BindKey>,
    /// The key decrypted a packet, and has not failed twice in a row since.
    pub key_verified: bool,
    /// The last decryption failed.
    pub decryption_failed: bool,
    /// The last accepted encryption counter (0 before any).
    pub counter: u32,
    /// The last accepted packet id.
    pub packet_id: Option<u64>,
    /// When (caller's clock, ms) the last advertisement was accepted.
    pub last_time_ms: Option<u64>,
    /// The service data of that advertisement.
    pub last_service_data: Vec<u8>,
    /// The last advertisement was rejected by the downgrade rule.
    pub downgrade_detected: bool,
    /// When and with what service data the last few advertisements were accepted (within a
    /// minute, oldest first), for remote scanners' late reports.
    #[serde(skip)]
    pub accepted: Vec<(u64, Vec<u8>)>,
}

impl ReceiverState {
    /// A fresh state, with the device's key when known.
    pub fn new(key: Option<BindKey>) -> Self {
        Self {
            key,
            ..Self::default()
        }
    }

    /// Sets or clears the key (the verification starts over).
    pub fn set_key(&mut self, key: Option<BindKey>) {
        self.key = key;
        self.key_verified = false;
        self.decryption_failed = false;
    }

    /// Decodes one advertisement's BTHome service data for this device and applies the rules
    /// above. `mac` is the device address (needed for decryption unless the payload carries it);
    /// `now_ms` is the caller's clock. A rejected advertisement comes back with its header, no
    /// objects (or those before a duplicate packet id) and the rejection as its error.
    pub fn receive(
        &mut self,
        uuid: Uuid,
        service_data: &[u8],
        mac: Option<MacAddress>,
        now_ms: u64,
    ) -> Packet {
        let encrypted = if uuid == Uuid::BTHOME_V2 {
            match service_data.first() {
                Some(&info) => info & 1 != 0,
                None => return decode_checked(uuid, service_data, mac, None, &mut |_| Ok(())),
            }
        } else if uuid == Uuid::BTHOME_V1_ENCRYPTED {
            true
        } else if uuid == Uuid::BTHOME_V1 {
            false
        } else {
            return Packet::failed(None, Error::NotBthome { uuid });
        };
        let header = if uuid == Uuid::BTHOME_V2 {
            service_data.first().and_then(|&b| Header::from_v2_byte(b))
        } else {
            Some(Header {
                version: 1,
                encrypted,
                mac_included: false,
                trigger_based: false,
            })
        };
        let recent = self
            .last_time_ms
            .map(|t| now_ms.saturating_sub(t) <= WINDOW_MS);

        if encrypted
            && recent == Some(false)
            && self.key_verified
            && self.last_service_data == service_data
        {
            return Packet::failed(header, Error::RepeatedAdvertisement);
        }
        if self.key.is_some() && !encrypted {
            self.downgrade_detected = true;
            return Packet::failed(header, Error::Downgrade);
        }
        self.downgrade_detected = false;

        let verified = self.key_verified;
        let last = self.counter;
        let counter_offset = service_data.len().saturating_sub(8);
        let mut packet =
            decode_checked(uuid, service_data, mac, self.key.as_ref(), &mut |counter| {
                if counter < last && verified && counter >= RESTART_COUNTERS {
                    Err(Error::Replayed {
                        offset: counter_offset,
                        counter,
                        last,
                    })
                } else {
                    Ok(())
                }
            });
        if packet.header.is_none() {
            return packet; // no usable device-info byte: nothing changes
        }

        if encrypted {
            match packet.error {
                Some(Error::MissingKey) => {
                    self.key_verified = false;
                    self.accept(service_data, now_ms);
                    return packet;
                }
                Some(Error::MicFailure { .. }) => {
                    if self.decryption_failed {
                        self.key_verified = false;
                    } else {
                        self.decryption_failed = true;
                    }
                    self.accept(service_data, now_ms);
                    return packet;
                }
                Some(Error::Replayed { .. } | Error::TooShort { .. }) => {
                    self.accept(service_data, now_ms);
                    return packet;
                }
                Some(Error::MissingMac) => return packet,
                _ => {
                    self.decryption_failed = false;
                    self.key_verified = true;
                    if let Some(counter) = packet.counter {
                        self.counter = counter;
                    }
                }
            }
        }

        // Packet-id de-duplication, object by object as bthome-ble does it.
        let window_open = recent == Some(true);
        let version = packet.header.map_or(2, |h| h.version);
        let mut cut = None;
        for (index, object) in packet.objects.iter().enumerate() {
            if object.id != 0 {
                continue;
            }
            let Some(new) = packet_id(object, version) else {
                continue;
            };
            if let (Some(last), true) = (self.packet_id, window_open)
                && !is_newer(new, last)
            {
                cut = Some((
                    index,
                    Error::DuplicatePacketId {
                        offset: usize::from(object.offset),
                        packet_id: new,
                        last,
                    },
                ));
                break;
            }
            self.packet_id = Some(new);
        }
        if let Some((index, error)) = cut {
            packet.objects.truncate(index);
            packet.error = Some(error);
        }

        // bthome-ble remembers the advertisement when at least one object produced a value.
        if packet.objects.iter().any(counts_as_value) {
            self.accept(service_data, now_ms);
        }
        packet
    }

    /// [`Self::receive`] for an advertisement a remote scanner heard some time ago and reports
    /// now: a Shelly gateway is polled, and lists each device's last advertisement
    /// (`BLE.CloudRelay.ListInfos`). bthome-ble's 4 s windows assume a packet arrives as it is
    /// sent; a late report past them would count a press again, or put an older reading over a
    /// newer one. So within a minute of the last accepted advertisement, one identical to an
    /// advertisement accepted in that time, or whose packet id is not newer than the last, is a
    /// late copy ([`Error::LateCopy`]) and changes nothing.
    pub fn receive_relayed(
        &mut self,
        uuid: Uuid,
        service_data: &[u8],
        mac: Option<MacAddress>,
        now_ms: u64,
    ) -> Packet {
        let before = self.clone();
        let packet = self.receive(uuid, service_data, mac, now_ms);
        let within = |t: u64| now_ms.saturating_sub(t) <= RELAYED_WINDOW_MS;
        let again = before
            .accepted
            .iter()
            .any(|(t, data)| within(*t) && data == service_data);
        let older = match (before.packet_id, before.last_time_ms, packet.packet_id) {
            (Some(last), Some(t), Some(id)) if within(t) => !is_newer(id, last),
            _ => false,
        };
        if again || older {
            *self = before;
            return Packet::failed(packet.header, Error::LateCopy);
        }
        packet
    }

    fn accept(&mut self, service_data: &[u8], now_ms: u64) {
        self.last_time_ms = Some(now_ms);
        self.last_service_data.clear();
        self.last_service_data.extend_from_slice(service_data);
        self.accepted
            .retain(|(t, _)| now_ms.saturating_sub(*t) <= RELAYED_WINDOW_MS);
        if self.accepted.len() >= KEPT_ACCEPTED {
            self.accepted.remove(0);
        }
        self.accepted.push((now_ms, service_data.to_vec()));
    }
}

/// bthome-ble 3.25's packet-id test: newer when 1–63 ahead, past a wrap from 255 to 0 too. It
/// compares integers, so a v1 id wider than a byte is not cut to one: 258 is not 1–63 after 1.
fn is_newer(new: u64, last: u64) -> bool {
    if new > last {
        new - last < 64
    } else {
        last - new > 192
    }
}

/// Whether bthome-ble would count this object as a decoded value (zero-length text/raw are
/// skipped, undecodable text and unreadable v1 values are dropped there).
fn counts_as_value(object: &super::Object) -> bool {
    match &object.value {
        Value::InvalidText(_) | Value::Unreadable(_) => false,
        Value::Text(t) => !t.is_empty(),
        Value::Raw(r) => !r.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bthome::spec_example::{KEY, MAC};
    use crate::hex::fixture as hex;

    /// bthome-ble `test_identical_packet_id`: 9 accepted, 9 and 8 skipped, 9 again after 5 s.
    #[test]
    fn duplicate_packet_ids_are_dropped_within_four_seconds() {
        let mut state = ReceiverState::new(None);
        let v2 = Uuid::BTHOME_V2;
        assert!(state.receive(v2, &hex("400009"), None, 0).is_ok());
        let dup = state.receive(v2, &hex("400009"), None, 0);
        assert_eq!(
            dup.error,
            Some(Error::DuplicatePacketId {
                offset: 1,
                packet_id: 9,
                last: 9
            })
        );
        assert!(dup.objects.is_empty());
        assert!(!state.receive(v2, &hex("400008"), None, 0).is_ok());
        assert!(state.receive(v2, &hex("400009"), None, 5_000).is_ok());
    }

    /// A late report (a gateway's polled relay list) of what was received changes nothing for a
    /// minute, where bthome-ble's rules would take it again after 4 s: the same packet id, an
    /// older one, or the same data of a device without packet ids. A newer one is taken.
    #[test]
    fn a_late_report_of_what_was_received_is_a_copy() {
        let v2 = Uuid::BTHOME_V2;
        let mut state = ReceiverState::new(None);
        assert!(state.receive(v2, &hex("400009"), None, 0).is_ok());
        assert!(state.receive(v2, &hex("40000a"), None, 1_000).is_ok());
        let before = state.clone();
        for late in ["400009", "40000a"] {
            let packet = state.receive_relayed(v2, &hex(late), None, 6_000);
            assert_eq!(packet.error, Some(Error::LateCopy), "{late}");
            assert_eq!(state, before, "{late} changed the state");
        }
        assert!(
            state.receive(v2, &hex("40000a"), None, 6_000).is_ok(),
            "bthome-ble's rule"
        );
        assert!(
            state
                .receive_relayed(v2, &hex("40000b"), None, 7_000)
                .is_ok()
        );
        assert!(
            state
                .receive_relayed(v2, &hex("400009"), None, 68_000)
                .is_ok(),
            "a minute on"
        );
        // Without packet ids: the same data again is a copy, other data is news.
        let mut state = ReceiverState::new(None);
        assert!(state.receive(v2, &hex("4002c409"), None, 0).is_ok());
        let again = state.receive_relayed(v2, &hex("4002c409"), None, 30_000);
        assert_eq!(again.error, Some(Error::LateCopy));
        assert!(
            state
                .receive_relayed(v2, &hex("4002ca09"), None, 30_000)
                .is_ok()
        );
        // Every advertisement accepted within the minute counts, not only the last.
        let mut state = ReceiverState::new(None);
        assert!(state.receive(v2, &hex("4002c409"), None, 0).is_ok());
        assert!(state.receive(v2, &hex("4002ca09"), None, 1_000).is_ok());
        let first = state.receive_relayed(v2, &hex("4002c409"), None, 30_000);
        assert_eq!(first.error, Some(Error::LateCopy));
        // A packet id not newer than the last is a late copy even with other data.
        let mut state = ReceiverState::new(None);
        assert!(state.receive(v2, &hex("40000a"), None, 0).is_ok());
        let older = state.receive_relayed(v2, &hex("4000090164"), None, 30_000);
        assert_eq!(older.error, Some(Error::LateCopy));
    }

    /// bthome-ble's window: 1 to 63 ahead is newer, across the wrap from 255 to 0 too.
    #[test]
    fn newer_is_one_to_sixty_three_ahead() {
        assert!(is_newer(64, 1));
        assert!(!is_newer(65, 1));
        assert!(!is_newer(200, 100));
        assert!(!is_newer(100, 150));
        assert!(is_newer(0, 255));
        assert!(is_newer(62, 255));
        assert!(!is_newer(63, 255));
    }

    /// What bthome-ble counts as a decoded value: not empty text or bytes, nothing unreadable.
    #[test]
    fn empty_and_unreadable_values_do_not_count() {
        let counts = |value| counts_as_value(&super::super::Object::new(0x53, value));
        assert!(counts(Value::Text("a".into())));
        assert!(!counts(Value::Text(String::new())));
        assert!(counts(Value::Raw(alloc::vec![0])));
        assert!(!counts(Value::Raw(Vec::new())));
        assert!(!counts(Value::InvalidText(alloc::vec![0xff])));
        assert!(!counts(Value::Unreadable(alloc::vec![1])));
        assert!(counts(Value::Int(0)));
    }

    /// An encrypted packet that cannot be decrypted for want of a key or a MAC verifies nothing;
    /// one without a key is still the last advertisement, one without a MAC is not read at all.
    #[test]
    fn a_missing_key_or_mac_verifies_nothing() {
        let data = hex("41e445f3c9962b332211006c7c4519");
        let mut state = ReceiverState::new(None);
        let p = state.receive(Uuid::BTHOME_V2, &data, Some(MAC), 0);
        assert_eq!(p.error, Some(Error::MissingKey));
        assert!(!state.key_verified);
        assert_eq!(state.last_time_ms, Some(0));
        let mut state = ReceiverState::new(Some(KEY));
        let p = state.receive(Uuid::BTHOME_V2, &data, None, 0);
        assert_eq!(p.error, Some(Error::MissingMac));
        assert!(!state.key_verified);
        assert_eq!(state.last_time_ms, None);
    }

    /// bthome-ble `test_increasing_packet_id`: 189 → 190 → 253 → 47 all accepted.
    #[test]
    fn increasing_packet_ids_wrap_around() {
        let mut state = ReceiverState::new(None);
        for id in ["bd", "be", "fd", "2f"] {
            let p = state.receive(Uuid::BTHOME_V2, &hex(&alloc::format!("4000{id}")), None, 0);
            assert!(p.is_ok(), "{id}: {:?}", p.error);
        }
    }

    /// edge::replay_sequence_equal_then_lower_counter (bthome-ble 3.25 behaviour).
    #[test]
    fn equal_counter_is_accepted_lower_is_replay() {
        let mut state = ReceiverState::new(Some(KEY));
        let v2 = Uuid::BTHOME_V2;
        let first = hex("41e445f3c9962b332211006c7c4519");
        assert!(state.receive(v2, &first, Some(MAC), 0).is_ok());
        assert!(state.key_verified);
        assert!(state.receive(v2, &first, Some(MAC), 1_000).is_ok());
        let older = state.receive(v2, &hex("41723d3035fb88322211009e7414c0"), Some(MAC), 2_000);
        assert_eq!(
            older.error,
            Some(Error::Replayed {
                offset: 7,
                counter: 1_122_866,
                last: 1_122_867
            })
        );
    }

    /// bthome-ble `test_same_service_data`: the identical encrypted adv 5 s later is skipped.
    #[test]
    fn identical_encrypted_data_after_four_seconds_is_a_repeat() {
        let mut state = ReceiverState::new(Some(KEY));
        let first = hex("41e445f3c9962b332211006c7c4519");
        assert!(state.receive(Uuid::BTHOME_V2, &first, Some(MAC), 0).is_ok());
        let repeat = state.receive(Uuid::BTHOME_V2, &first, Some(MAC), 5_000);
        assert_eq!(repeat.error, Some(Error::RepeatedAdvertisement));
        assert!(repeat.objects.is_empty());
        // The rejection keeps the packet's own header (v2, encrypted, trigger-based 0x41).
        assert_eq!(repeat.header, Header::from_v2_byte(0x41));
        assert_eq!(repeat.header.map(|h| h.version), Some(2));
    }

    #[test]
    fn plaintext_from_a_keyed_device_is_a_downgrade() {
        let mut state = ReceiverState::new(Some(KEY));
        let p = state.receive(Uuid::BTHOME_V2, &hex("4002ca09"), Some(MAC), 0);
        assert_eq!(p.error, Some(Error::Downgrade));
        assert!(p.objects.is_empty());
        assert!(state.downgrade_detected);
    }

    #[test]
    fn two_mic_failures_in_a_row_unverify_the_key() {
        let mut state = ReceiverState::new(Some(KEY));
        state.key_verified = true;
        let tampered = hex("4107f3b93b67b501000000d8555241");
        state.receive(Uuid::BTHOME_V2, &tampered, Some(MAC), 0);
        assert!(state.key_verified && state.decryption_failed);
        state.receive(Uuid::BTHOME_V2, &tampered, Some(MAC), 0);
        assert!(!state.key_verified);
    }
}

//! BTHome decoding: arbitrary service data under each UUID, with and without a key, statelessly
//! and through a ReceiverState; nothing may panic, serialization must work, a clean plain
//! v2 packet must re-encode to bytes that decode to the same objects, and the byte map
//! (`Packet::spans`) must tile the data exactly, with one span per object equal to its bytes.
#![no_main]

use bluehome_core::bthome::{self, ReceiverState};
use bluehome_core::{MacAddress, Uuid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&selector, rest)) = input.split_first() else { return };
    let uuid = match selector % 3 {
        0 => Uuid::BTHOME_V2,
        1 => Uuid::BTHOME_V1,
        _ => Uuid::BTHOME_V1_ENCRYPTED,
    };
    let mac = MacAddress([0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5]);
    let key = bthome::BindKey::new([0x23u8; 16]);
    let with_key = selector & 0x80 != 0;
    let packet = bthome::decode(uuid, rest, Some(mac), with_key.then_some(&key));
    let json = serde_json::to_string(&packet).expect("a packet serializes");
    assert!(json.starts_with('{'));
    if let Some(e) = &packet.error {
        assert!(e.offset() <= rest.len());
    }
    let mut at = 0;
    let mut objects_seen = 0;
    for span in packet.spans(rest.len()) {
        assert_eq!(span.range.start, at, "spans in order, no gap, no overlap");
        assert!(span.range.end > at, "no empty span");
        if let bthome::Field::Object(i) = span.field {
            assert_eq!(i, objects_seen, "objects mapped once, in order");
            assert_eq!(span.range, packet.objects[i].span(), "an object's span is its bytes");
            objects_seen += 1;
        }
        at = span.range.end;
    }
    assert_eq!(at, rest.len(), "spans cover the data");
    assert_eq!(objects_seen, packet.objects.len(), "every object mapped");

    // Semantic round trip: a clean plain v2 packet re-encodes to bytes that decode the same (the
    // bytes may differ: binary 0x02 becomes 0x01, reserved bits are dropped).
    if let (true, Some(h)) = (uuid == Uuid::BTHOME_V2 && packet.is_ok(), packet.header) {
        if !h.encrypted {
            let again = bthome::encode_v2(&packet.objects, h.trigger_based, packet.payload_mac, None)
                .expect("decoded objects re-encode");
            let back = bthome::decode(uuid, &again, Some(mac), None);
            let strip = |p: &bthome::Packet| p.objects.iter().map(|o| (o.id, o.value.clone())).collect::<Vec<_>>();
            assert_eq!(strip(&back), strip(&packet), "plain v2 round trip");
            assert!(back.is_ok());
        }
    }

    let mut state = ReceiverState::new(with_key.then_some(key));
    for now in [0, 1_000, 10_000] {
        let p = state.receive(uuid, rest, Some(mac), now);
        let _ = serde_json::to_string(&p).expect("a packet serializes");
    }
});

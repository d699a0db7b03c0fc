//! Encode → decode round-trip properties, driven by a tiny deterministic PRNG (splitmix64) rather
//! than proptest: no new dependency to build on the shared machine, the same cases on every run,
//! and a failing case names its seed. Each property runs a few thousand random cases.
//!
//! Properties: every object of the table, alone and in random lists, survives v2 and v1 encoding,
//! plain and encrypted (random key, MAC, counter, flags); AD structures re-parse to themselves;
//! Shelly manufacturer blocks (flags, MAC, model, time beacon) re-parse to themselves.

use bluehome_core::ad::{self, AdStructure};
use bluehome_core::bthome::{
    self, BindKey, Encryption, FirmwareVersion, Kind, OBJECTS, Object, ObjectInfo, Value,
};
use bluehome_core::shelly::manufacturer::{self, Flags, ManufacturerData, TimeBeacon};
use bluehome_core::{MacAddress, Uuid};

/// splitmix64: small, fast, good enough to spread test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn bytes(&mut self, max_len: u64) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.byte()).collect()
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn mac(&mut self) -> MacAddress {
        MacAddress(std::array::from_fn(|_| self.byte()))
    }
    fn key(&mut self) -> [u8; 16] {
        std::array::from_fn(|_| self.byte())
    }
}

/// A random value that fits the object (`max_len` bounds text/raw/args).
fn random_value(rng: &mut Rng, info: &ObjectInfo, max_len: u64) -> Value {
    match info.kind {
        Kind::Number => {
            let bits = u32::from(info.width) * 8;
            let raw = if info.signed {
                let span = 1i128 << bits;
                (i128::from(rng.next()) % span - span / 2) as i64
            } else {
                (u128::from(rng.next()) % (1u128 << bits)) as i64
            };
            Value::scaled(raw, info)
        }
        Kind::Binary => Value::Bool(rng.bool()),
        Kind::Button => Value::Button(rng.byte()),
        Kind::Dimmer => Value::Dimmer {
            event: rng.byte(),
            steps: rng.byte(),
        },
        Kind::Command => Value::Command {
            opcode: rng.byte(),
            args: rng.bytes(max_len.min(29)),
        },
        Kind::Text => {
            let len = rng.below(max_len / 2 + 1);
            let text: String = (0..len)
                .map(|_| ['a', 'Z', '0', ' ', '°', 'é', '€'][rng.below(7) as usize])
                .collect();
            let mut text = text;
            while text.len() > max_len as usize {
                text.pop();
            }
            Value::Text(text)
        }
        Kind::Raw => Value::Raw(rng.bytes(max_len)),
        Kind::Timestamp => Value::Timestamp(u64::from(rng.next() as u32)),
        Kind::DeviceTypeId => Value::DeviceTypeId(rng.next() as u16),
        Kind::Firmware => Value::Firmware(FirmwareVersion {
            parts: std::array::from_fn(|i| {
                if i < usize::from(info.width) {
                    rng.byte()
                } else {
                    0
                }
            }),
            len: info.width,
        }),
        other => panic!("kind {other:?} not covered"),
    }
}

fn random_objects(rng: &mut Rng, count: u64, max_len: u64) -> Vec<Object> {
    (0..count)
        .map(|_| {
            let info = &OBJECTS[rng.below(OBJECTS.len() as u64) as usize];
            Object::new(info.id, random_value(rng, info, max_len))
        })
        .collect()
}

fn values(objects: &[Object]) -> Vec<(u8, Value)> {
    objects.iter().map(|o| (o.id, o.value.clone())).collect()
}

#[test]
fn every_object_round_trips_through_v2_plain_and_encrypted() {
    for seed in 0..4_000u64 {
        let mut rng = Rng(seed);
        let objects = if seed < OBJECTS.len() as u64 * 8 {
            // First, every table row on its own, several times.
            let info = &OBJECTS[(seed % OBJECTS.len() as u64) as usize];
            vec![Object::new(info.id, random_value(&mut rng, info, 40))]
        } else {
            let n = 1 + rng.below(8);
            random_objects(&mut rng, n, 12)
        };
        let trigger = rng.bool();
        let payload_mac = rng.bool().then(|| rng.mac());
        let device_mac = rng.mac();
        let encryption = rng.bool().then(|| Encryption {
            key: rng.key().into(),
            mac: device_mac,
            counter: rng.next() as u32,
        });
        let bytes = bthome::encode_v2(&objects, trigger, payload_mac, encryption.as_ref())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let packet = bthome::decode(
            Uuid::BTHOME_V2,
            &bytes,
            Some(device_mac),
            encryption.as_ref().map(|e| &e.key),
        );
        assert_eq!(packet.error, None, "seed {seed}: {bytes:02x?}");
        assert_eq!(values(&packet.objects), values(&objects), "seed {seed}");
        let header = packet.header.unwrap();
        assert_eq!(header.trigger_based, trigger, "seed {seed}");
        assert_eq!(header.encrypted, encryption.is_some(), "seed {seed}");
        assert_eq!(packet.payload_mac, payload_mac, "seed {seed}");
        assert_eq!(packet.counter, encryption.map(|e| e.counter), "seed {seed}");
        if let Some(e) = encryption {
            // Any other key fails the MIC and yields no objects.
            let mut wrong = *e.key.as_bytes();
            wrong[rng.below(16) as usize] ^= 1 << rng.below(8);
            let wrong = BindKey::new(wrong);
            let bad = bthome::decode(Uuid::BTHOME_V2, &bytes, Some(device_mac), Some(&wrong));
            assert_eq!(
                bad.error.as_ref().map(|e| e.kind()),
                Some("mic_failure"),
                "seed {seed}"
            );
            assert!(bad.objects.is_empty());
        }
    }
}

#[test]
fn every_object_round_trips_through_v1_plain_and_encrypted() {
    for seed in 0..3_000u64 {
        let mut rng = Rng(seed ^ 0xA5A5);
        let n = 1 + rng.below(6);
        let objects = random_objects(&mut rng, n, 29);
        let mac = rng.mac();
        let encryption = rng.bool().then(|| Encryption {
            key: rng.key().into(),
            mac,
            counter: rng.next() as u32,
        });
        let bytes = bthome::encode_v1(&objects, encryption.as_ref())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let uuid = if encryption.is_some() {
            Uuid::BTHOME_V1_ENCRYPTED
        } else {
            Uuid::BTHOME_V1
        };
        // bthome-ble's minimum v1 ciphertext is 4 bytes; shorter ones are rejected as too short.
        if encryption.is_some() && bytes.len() < 12 {
            let p = bthome::decode(uuid, &bytes, Some(mac), encryption.as_ref().map(|e| &e.key));
            assert_eq!(
                p.error.as_ref().map(|e| e.kind()),
                Some("too_short"),
                "seed {seed}"
            );
            continue;
        }
        let packet = bthome::decode(uuid, &bytes, Some(mac), encryption.as_ref().map(|e| &e.key));
        assert_eq!(packet.error, None, "seed {seed}: {bytes:02x?}");
        assert_eq!(values(&packet.objects), values(&objects), "seed {seed}");
    }
}

#[test]
fn ad_structures_round_trip() {
    for seed in 0..3_000u64 {
        let mut rng = Rng(seed ^ 0x5A5A_0000);
        let n = 1 + rng.below(6);
        // Borrowed data lives in this pool.
        let pool: Vec<Vec<u8>> = (0..n).map(|_| rng.bytes(40)).collect();
        let uuid_lists: Vec<Vec<u8>> = (0..n)
            .map(|i| vec![i as u8; 16 * (1 + (i as usize % 2))])
            .collect();
        let mut structures = Vec::new();
        for (i, data) in pool.iter().enumerate() {
            let s = match rng.below(9) {
                0 => AdStructure::Flags(rng.byte()),
                1 => AdStructure::ServiceUuids {
                    complete: rng.bool(),
                    width: [2, 4, 16][rng.below(3) as usize],
                    data: &uuid_lists[i],
                },
                2 => AdStructure::LocalName {
                    complete: rng.bool(),
                    name: data,
                },
                3 => AdStructure::TxPower(rng.byte() as i8),
                4 => AdStructure::ServiceData {
                    uuid: Uuid::from_u16(rng.next() as u16),
                    width: 2,
                    data,
                },
                5 => AdStructure::ServiceData {
                    uuid: Uuid::from_u32(rng.next() as u32),
                    width: 4,
                    data,
                },
                6 => AdStructure::ServiceData {
                    uuid: Uuid(u128::from(rng.next()) << 64 | u128::from(rng.next())),
                    width: 16,
                    data,
                },
                7 => AdStructure::ManufacturerData {
                    company: rng.next() as u16,
                    data,
                },
                _ => AdStructure::Appearance(rng.next() as u16),
            };
            structures.push(s);
        }
        let mut out = Vec::new();
        for s in &structures {
            s.encode_to_vec(&mut out).unwrap();
        }
        let back: Vec<_> = ad::iter(&out)
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(back, structures, "seed {seed}");
    }
}

#[test]
fn shelly_manufacturer_blocks_round_trip() {
    for seed in 0..3_000u64 {
        let mut rng = Rng(seed ^ 0x0BA9);
        let data = ManufacturerData {
            flags: rng.bool().then(|| Flags(rng.next() as u16)),
            mac: rng.bool().then(|| rng.mac()),
            model_id: rng.bool().then(|| rng.next() as u16),
            beacon: rng.bool().then(|| TimeBeacon {
                unix_time: rng.next() as u32,
                utc_offset: rng.next() as i32,
                dst_start: rng.next() as u32,
                dst_end: rng.next() as u32,
                dst_shift: rng.next() as i32,
            }),
            error: None,
        };
        let bytes = manufacturer::encode(&data);
        let mut back = manufacturer::parse(&bytes);
        if bytes.is_empty() {
            assert_eq!(back.error, Some(manufacturer::Error::Empty));
            back.error = None;
        }
        assert_eq!(back, data, "seed {seed}: {bytes:02x?}");
    }
}

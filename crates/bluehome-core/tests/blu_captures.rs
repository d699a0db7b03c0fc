//! Shelly BLU advertisements captured from real devices and published with the values they carry,
//! beyond the vectors of `bthome_public.json`: each whole advertisement is parsed as it came over
//! the air, its BTHome service data decoded and its Shelly manufacturer data read, and compared
//! with what the source states.

use bluehome_core::bthome::{self, Value, entity_keys};
use bluehome_core::shelly::{COMPANY_ID, manufacturer};
use bluehome_core::{Advertisement, MacAddress, Uuid};

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The BTHome v2 readings of an advertisement, as `(key, value)` in packet order.
fn readings(adv: &Advertisement) -> Vec<(String, Value)> {
    let data = adv.service_data.get(&Uuid::BTHOME_V2).expect("BTHome data");
    let packet = bthome::decode(Uuid::BTHOME_V2, data, adv.address, None);
    assert_eq!(packet.error, None);
    entity_keys(&packet.objects)
        .into_iter()
        .zip(packet.objects.iter().map(|o| o.value.clone()))
        .collect()
}

/// A Shelly BLU H&T ZB (SBHT-203C, model id 0x0011) as a Shelly Wall Display heard it: the
/// "Example event payload" of the Wall Display firmware changelog, version 2.6.0, with its
/// `sensorReadings` (packet id 0, battery 97 %, humidity 19 %, a single press, 25.5 °C). The
/// trailing zero bytes are the scanner's padding. A button press in a packet that is not
/// trigger-based (device info `0x40`), and the manufacturer data in flags, model, MAC order.
#[test]
fn a_blu_ht_zb_reads_as_the_wall_display_reported_it() {
    let adv = Advertisement::from_ad_bytes(&hex(
        "0201060F16D2FC40000001612E133A0145FF000A08534248542D3230334310FFA90B0101000B11000A9A3536ED2CC0000000000000000000000000000000",
    ))
    .unwrap();
    assert_eq!(adv.name.as_deref(), Some("SBHT-203C"));
    let text = |key: &str, value: Value| (key.to_owned(), value);
    assert_eq!(
        readings(&adv),
        [
            text("packet_id", Value::Int(0)),
            text("battery", Value::Int(97)),
            text("humidity", Value::Int(19)),
            text("button", Value::Button(1)),
            text("temperature", Value::Float(25.5)),
        ]
    );
    let mfd = manufacturer::parse(adv.manufacturer_data.get(&COMPANY_ID).unwrap());
    assert_eq!(mfd.error, None);
    assert_eq!(mfd.flags.map(|f| f.0), Some(1));
    assert_eq!(mfd.model().map(|m| m.code), Some("SBHT-203C"));
    assert_eq!(
        mfd.mac,
        Some("C0:2C:ED:36:35:9A".parse::<MacAddress>().unwrap())
    );
}

/// A Shelly BLU Distance's service data posted with its reading, 222 mm
/// (iobroker-community-adapters/ioBroker.shelly#1280): object `0x40`, distance in millimetres.
#[test]
fn a_blu_distance_reads_222_mm() {
    let mut adv = Advertisement::default();
    adv.service_data
        .insert(Uuid::BTHOME_V2, hex("44000b015c2c0040de00"));
    let readings = readings(&adv);
    assert!(
        readings.contains(&("distance".to_owned(), Value::Int(222))),
        "{readings:?}"
    );
}

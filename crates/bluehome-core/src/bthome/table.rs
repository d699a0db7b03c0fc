//! The BTHome object table: one row per object id, used by the decoder, the encoder, the command
//! line and the app, so every surface prints the same names and units.
//!
//! Sources: bthome.io `format.html` (ids, value widths, signedness, factors) and bthome-ble 3.25.0
//! `const.py` (the names, which are Home Assistant's device classes, and the units as bthome-ble
//! reports them, e.g. `mbar` for pressure where the spec says hPa). Both agree on the 95 ids, their
//! lengths, signedness and factors.

/// What kind of value an object carries; decides how its bytes are read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A little-endian integer times the factor (sensors, and the packet id `0x00`).
    Number,
    /// One byte, any non-zero value is `true` (as bthome-ble reads it).
    Binary,
    /// `0x3A`: one event byte.
    Button,
    /// `0x3C`: an event byte and an unsigned step count.
    Dimmer,
    /// `0x3B`: a length byte (low 5 bits = number of argument bytes), an opcode, the arguments.
    Command,
    /// `0x53`: a length byte and UTF-8 text.
    Text,
    /// `0x54`: a length byte and raw bytes.
    Raw,
    /// `0x50`: unsigned 32-bit unix seconds.
    Timestamp,
    /// `0xF0`: a 16-bit device type id (Shelly uses its BLE model id here).
    DeviceTypeId,
    /// `0xF1` (4 bytes) / `0xF2` (3 bytes): a firmware version, least significant part first.
    Firmware,
}

/// One row of the object table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ObjectInfo {
    /// The object id (first byte of the object in v2; second byte in v1).
    pub id: u8,
    /// The name bthome-ble uses as the entity key (Home Assistant's device class), e.g.
    /// `temperature`, `dew_point`, `carbon_dioxide`.
    pub name: &'static str,
    /// The unit as bthome-ble reports it (`°C`, `mbar`, `µg/m³`), `None` when unitless.
    pub unit: Option<&'static str>,
    /// How the value is read.
    pub kind: Kind,
    /// Value bytes after the id; 0 for the length-prefixed objects (text, raw, command).
    pub width: u8,
    /// Whether the integer is two's complement.
    pub signed: bool,
    /// Decimal places of the factor (`0.01` → 2, `0.35` → 1, `1` → 0): values are rounded to these.
    pub decimals: u8,
    /// The factor the raw integer is multiplied by.
    pub factor: f64,
}

#[allow(clippy::too_many_arguments)] // one call per table row reads best positionally
const fn row(
    id: u8,
    name: &'static str,
    unit: Option<&'static str>,
    kind: Kind,
    width: u8,
    signed: bool,
    decimals: u8,
    factor: f64,
) -> ObjectInfo {
    ObjectInfo {
        id,
        name,
        unit,
        kind,
        width,
        signed,
        decimals,
        factor,
    }
}

/// Every BTHome v2 object id, ascending (95 rows: 60 sensors, 28 binary sensors, 3 events, the
/// packet id and 3 device-information objects).
pub static OBJECTS: [ObjectInfo; 95] = [
    row(0x00, "packet_id", None, Kind::Number, 1, false, 0, 1.0),
    row(0x01, "battery", Some("%"), Kind::Number, 1, false, 0, 1.0),
    row(
        0x02,
        "temperature",
        Some("°C"),
        Kind::Number,
        2,
        true,
        2,
        0.01,
    ),
    row(0x03, "humidity", Some("%"), Kind::Number, 2, false, 2, 0.01),
    row(
        0x04,
        "pressure",
        Some("mbar"),
        Kind::Number,
        3,
        false,
        2,
        0.01,
    ),
    row(
        0x05,
        "illuminance",
        Some("lx"),
        Kind::Number,
        3,
        false,
        2,
        0.01,
    ),
    row(0x06, "mass", Some("kg"), Kind::Number, 2, false, 2, 0.01),
    row(0x07, "mass", Some("lb"), Kind::Number, 2, false, 2, 0.01),
    row(
        0x08,
        "dew_point",
        Some("°C"),
        Kind::Number,
        2,
        true,
        2,
        0.01,
    ),
    row(0x09, "count", None, Kind::Number, 1, false, 0, 1.0),
    row(
        0x0A,
        "energy",
        Some("kWh"),
        Kind::Number,
        3,
        false,
        3,
        0.001,
    ),
    row(0x0B, "power", Some("W"), Kind::Number, 3, false, 2, 0.01),
    row(0x0C, "voltage", Some("V"), Kind::Number, 2, false, 3, 0.001),
    row(0x0D, "pm25", Some("µg/m³"), Kind::Number, 2, false, 0, 1.0),
    row(0x0E, "pm10", Some("µg/m³"), Kind::Number, 2, false, 0, 1.0),
    row(0x0F, "generic", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x10, "power", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x11, "opening", None, Kind::Binary, 1, false, 0, 1.0),
    row(
        0x12,
        "carbon_dioxide",
        Some("ppm"),
        Kind::Number,
        2,
        false,
        0,
        1.0,
    ),
    row(
        0x13,
        "volatile_organic_compounds",
        Some("µg/m³"),
        Kind::Number,
        2,
        false,
        0,
        1.0,
    ),
    row(0x14, "moisture", Some("%"), Kind::Number, 2, false, 2, 0.01),
    row(0x15, "battery", None, Kind::Binary, 1, false, 0, 1.0),
    row(
        0x16,
        "battery_charging",
        None,
        Kind::Binary,
        1,
        false,
        0,
        1.0,
    ),
    row(
        0x17,
        "carbon_monoxide",
        None,
        Kind::Binary,
        1,
        false,
        0,
        1.0,
    ),
    row(0x18, "cold", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x19, "connectivity", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x1A, "door", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x1B, "garage_door", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x1C, "gas", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x1D, "heat", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x1E, "light", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x1F, "lock", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x20, "moisture", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x21, "motion", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x22, "moving", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x23, "occupancy", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x24, "plug", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x25, "presence", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x26, "problem", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x27, "running", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x28, "safety", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x29, "smoke", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x2A, "sound", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x2B, "tamper", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x2C, "vibration", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x2D, "window", None, Kind::Binary, 1, false, 0, 1.0),
    row(0x2E, "humidity", Some("%"), Kind::Number, 1, false, 0, 1.0),
    row(0x2F, "moisture", Some("%"), Kind::Number, 1, false, 0, 1.0),
    row(0x3A, "button", None, Kind::Button, 1, false, 0, 1.0),
    row(0x3B, "command", None, Kind::Command, 0, false, 0, 1.0),
    row(0x3C, "dimmer", None, Kind::Dimmer, 2, false, 0, 1.0),
    row(0x3D, "count", None, Kind::Number, 2, false, 0, 1.0),
    row(0x3E, "count", None, Kind::Number, 4, false, 0, 1.0),
    row(0x3F, "rotation", Some("°"), Kind::Number, 2, true, 1, 0.1),
    row(0x40, "distance", Some("mm"), Kind::Number, 2, false, 0, 1.0),
    row(0x41, "distance", Some("m"), Kind::Number, 2, false, 1, 0.1),
    row(
        0x42,
        "duration",
        Some("s"),
        Kind::Number,
        3,
        false,
        3,
        0.001,
    ),
    row(0x43, "current", Some("A"), Kind::Number, 2, false, 3, 0.001),
    row(0x44, "speed", Some("m/s"), Kind::Number, 2, false, 2, 0.01),
    row(
        0x45,
        "temperature",
        Some("°C"),
        Kind::Number,
        2,
        true,
        1,
        0.1,
    ),
    row(0x46, "uv_index", None, Kind::Number, 1, false, 1, 0.1),
    row(0x47, "volume", Some("L"), Kind::Number, 2, false, 1, 0.1),
    row(0x48, "volume", Some("mL"), Kind::Number, 2, false, 0, 1.0),
    row(
        0x49,
        "volume_flow_rate",
        Some("m³/h"),
        Kind::Number,
        2,
        false,
        3,
        0.001,
    ),
    row(0x4A, "voltage", Some("V"), Kind::Number, 2, false, 1, 0.1),
    row(0x4B, "gas", Some("m³"), Kind::Number, 3, false, 3, 0.001),
    row(0x4C, "gas", Some("m³"), Kind::Number, 4, false, 3, 0.001),
    row(
        0x4D,
        "energy",
        Some("kWh"),
        Kind::Number,
        4,
        false,
        3,
        0.001,
    ),
    row(0x4E, "volume", Some("L"), Kind::Number, 4, false, 3, 0.001),
    row(0x4F, "water", Some("L"), Kind::Number, 4, false, 3, 0.001),
    row(0x50, "timestamp", None, Kind::Timestamp, 4, false, 0, 1.0),
    row(
        0x51,
        "acceleration",
        Some("m/s²"),
        Kind::Number,
        2,
        false,
        3,
        0.001,
    ),
    row(
        0x52,
        "gyroscope",
        Some("°/s"),
        Kind::Number,
        2,
        false,
        3,
        0.001,
    ),
    row(0x53, "text", None, Kind::Text, 0, false, 0, 1.0),
    row(0x54, "raw", None, Kind::Raw, 0, false, 0, 1.0),
    row(
        0x55,
        "volume_storage",
        Some("L"),
        Kind::Number,
        4,
        false,
        3,
        0.001,
    ),
    row(
        0x56,
        "conductivity",
        Some("µS/cm"),
        Kind::Number,
        2,
        false,
        0,
        1.0,
    ),
    row(
        0x57,
        "temperature",
        Some("°C"),
        Kind::Number,
        1,
        true,
        0,
        1.0,
    ),
    row(
        0x58,
        "temperature",
        Some("°C"),
        Kind::Number,
        1,
        true,
        1,
        0.35,
    ),
    row(0x59, "count", None, Kind::Number, 1, true, 0, 1.0),
    row(0x5A, "count", None, Kind::Number, 2, true, 0, 1.0),
    row(0x5B, "count", None, Kind::Number, 4, true, 0, 1.0),
    row(0x5C, "power", Some("W"), Kind::Number, 4, true, 2, 0.01),
    row(0x5D, "current", Some("A"), Kind::Number, 2, true, 3, 0.001),
    row(
        0x5E,
        "direction",
        Some("°"),
        Kind::Number,
        2,
        false,
        2,
        0.01,
    ),
    row(
        0x5F,
        "precipitation",
        Some("mm"),
        Kind::Number,
        2,
        false,
        1,
        0.1,
    ),
    row(0x60, "channel", None, Kind::Number, 1, false, 0, 1.0),
    row(
        0x61,
        "rotational_speed",
        Some("rpm"),
        Kind::Number,
        2,
        false,
        0,
        1.0,
    ),
    row(0x62, "speed", Some("m/s"), Kind::Number, 4, true, 6, 1e-06),
    row(
        0x63,
        "acceleration",
        Some("m/s²"),
        Kind::Number,
        4,
        true,
        6,
        1e-06,
    ),
    row(0x64, "light_level", None, Kind::Number, 1, false, 0, 1.0),
    row(
        0x65,
        "settings_revision",
        None,
        Kind::Number,
        1,
        false,
        0,
        1.0,
    ),
    row(
        0xF0,
        "device_type_id",
        None,
        Kind::DeviceTypeId,
        2,
        false,
        0,
        1.0,
    ),
    row(
        0xF1,
        "firmware_version",
        None,
        Kind::Firmware,
        4,
        false,
        0,
        1.0,
    ),
    row(
        0xF2,
        "firmware_version",
        None,
        Kind::Firmware,
        3,
        false,
        0,
        1.0,
    ),
];

/// Position of each id in [`OBJECTS`], `NONE` when the id is not in the table.
static INDEX: [u8; 256] = build_index();
const NONE: u8 = u8::MAX;

#[allow(clippy::indexing_slicing)] // const evaluation: an out-of-range index fails the build
const fn build_index() -> [u8; 256] {
    let mut index = [NONE; 256];
    let mut i = 0;
    while i < OBJECTS.len() {
        index[OBJECTS[i].id as usize] = i as u8;
        i += 1;
    }
    index
}

/// The table row for an object id, `None` for ids BTHome does not define.
#[inline]
pub fn info(id: u8) -> Option<&'static ObjectInfo> {
    let at = *INDEX.get(usize::from(id))?;
    if at == NONE {
        None
    } else {
        OBJECTS.get(usize::from(at))
    }
}

/// What a binary sensor's two states mean, as words: `[false, true]` (`window` reads
/// closed/open, `motion` clear/detected). From the binary sensor table of bthome.io `format.html`
/// ("0 (False = Closed) 1 (True = Open)"); `None` for ids that are not binary sensors.
pub fn binary_words(id: u8) -> Option<[&'static str; 2]> {
    Some(match id {
        0x0F | 0x10 | 0x2B => ["off", "on"],
        0x11 | 0x1A | 0x1B | 0x2D => ["closed", "open"],
        0x15 => ["normal", "low"],
        0x16 => ["not charging", "charging"],
        0x18 => ["normal", "cold"],
        0x19 => ["disconnected", "connected"],
        0x1D => ["normal", "hot"],
        0x1E => ["no light", "light detected"],
        0x1F => ["locked", "unlocked"],
        0x20 => ["dry", "wet"],
        0x17 | 0x1C | 0x21 | 0x23 | 0x29 | 0x2A | 0x2C => ["clear", "detected"],
        0x22 => ["not moving", "moving"],
        0x24 => ["unplugged", "plugged in"],
        0x25 => ["away", "home"],
        0x26 => ["OK", "problem"],
        0x27 => ["not running", "running"],
        0x28 => ["unsafe", "safe"],
        _ => return None,
    })
}

/// `10^decimals` as a float: exact, as every power of ten up to `10^22` is a double.
pub(crate) fn pow10(decimals: u8) -> f64 {
    (0..decimals).fold(1.0, |power, _| power * 10.0)
}

/// Whether the factor is exactly `10^-decimals` (every row but `0x58`, whose factor is 0.35).
pub(crate) fn is_power_of_ten(info: &ObjectInfo) -> bool {
    info.factor * pow10(info.decimals) == 1.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_binary_sensor_and_nothing_else_has_state_words() {
        for id in 0..=u8::MAX {
            let binary = info(id).is_some_and(|o| o.kind == Kind::Binary);
            assert_eq!(binary_words(id).is_some(), binary, "object {id:#04x}");
        }
        assert_eq!(binary_words(0x2D), Some(["closed", "open"]));
        assert_eq!(binary_words(0x1A), Some(["closed", "open"]));
        assert_eq!(binary_words(0x21), Some(["clear", "detected"]));
    }

    use super::*;

    #[test]
    fn table_has_the_95_spec_ids_in_ascending_order() {
        assert_eq!(OBJECTS.len(), 95);
        assert!(OBJECTS.windows(2).all(|w| w[0].id < w[1].id));
        // 0x30..=0x39 and 0x66..=0xEF are not BTHome objects.
        assert!((0x30..=0x39).all(|id| info(id).is_none()));
        assert!((0x66..=0xEF).all(|id| info(id).is_none()));
        assert_eq!(info(0xF2).map(|i| i.width), Some(3));
    }

    #[test]
    fn counts_per_kind_match_the_spec() {
        let count = |k: Kind| OBJECTS.iter().filter(|o| o.kind == k).count();
        assert_eq!(count(Kind::Binary), 28);
        assert_eq!(
            count(Kind::Button) + count(Kind::Dimmer) + count(Kind::Command),
            3
        );
        assert_eq!(
            count(Kind::DeviceTypeId) + count(Kind::Firmware),
            3,
            "device information"
        );
        // 60 sensors + the packet id.
        assert_eq!(
            count(Kind::Number) + count(Kind::Text) + count(Kind::Raw) + count(Kind::Timestamp),
            61
        );
    }

    #[test]
    fn factors_agree_with_their_decimal_places() {
        for o in &OBJECTS {
            if o.id == 0x58 {
                assert_eq!((o.factor, o.decimals), (0.35, 1));
                assert!(!is_power_of_ten(o));
            } else {
                assert!(is_power_of_ten(o), "{:#04x}", o.id);
            }
        }
    }

    /// Rows checked by hand against bthome.io `format.html` and bthome-ble's `const.py`.
    #[test]
    fn spot_checks_against_the_reference_table() {
        let t = info(0x02).unwrap();
        assert_eq!(
            (t.name, t.unit, t.width, t.signed, t.decimals),
            ("temperature", Some("°C"), 2, true, 2)
        );
        let p = info(0x04).unwrap();
        assert_eq!((p.name, p.unit, p.width), ("pressure", Some("mbar"), 3));
        let pm = info(0x0D).unwrap();
        assert_eq!((pm.name, pm.unit), ("pm25", Some("µg/m³")));
        assert_eq!(info(0x3C).unwrap().kind, Kind::Dimmer);
        assert_eq!(info(0x62).unwrap().decimals, 6);
    }
}

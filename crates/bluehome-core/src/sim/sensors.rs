//! Simulated BTHome sensors (Shelly BLU models and a generic thermometer), plain or encrypted,
//! periodic or trigger-based. Their advertisements are built with the BTHome encoder
//! ([`crate::bthome::encode_v2`]) and Shelly's manufacturer-data encoder.
//!
//! Each sensor emits at `phase + n × interval` (n = 0, 1, …); the values of emission `n` are a
//! fixed function of `n`, so runs are reproducible. [`SimSensor::press`] emits at once (a button
//! press, a door opening).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use serde_json::{Value as Json, json};

use crate::advertisement::{Advertisement, MacAddress};
use crate::bthome::{self, BindKey, Encryption, Kind, Object, Value};
use crate::shelly::manufacturer::{self, Flags, ManufacturerData};
use crate::shelly::methods::bthome::ObjectInfo;
use crate::shelly::methods::events::{DiscoveredDevice, ShellyMfdata};
use crate::shelly::models;
use crate::uuid::Uuid;

/// The bind key of every encrypted simulated sensor (the key of the encrypted examples in
/// Bluetooth-Devices/bthome-ble's tests).
pub const SIM_KEY: BindKey = BindKey::new([
    0x90, 0xbf, 0xfd, 0x73, 0xcb, 0x6b, 0x26, 0xef, 0x58, 0xa7, 0xa8, 0xeb, 0xa9, 0x23, 0x20, 0x36,
]);

/// What a simulated sensor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SensorKind {
    /// Shelly BLU Button1 (`SBBT-002C`, model 1): trigger-based button presses.
    Button,
    /// Shelly BLU H&T (`SBHT-003C`, model 3): temperature and humidity every minute.
    HumidityTemperature,
    /// Shelly BLU Door/Window (`SBDW-002C`, model 2): open/close, illuminance, rotation.
    DoorWindow,
    /// Shelly BLU Motion (`SBMO-003Z`, model 5): motion and illuminance.
    Motion,
    /// Shelly BLU RC Button 4 (`SBBT-004CUS`, model 7): four buttons.
    RcButton4,
    /// A generic (non-Shelly) BTHome thermometer, periodic.
    Thermometer,
}

impl SensorKind {
    /// Every kind.
    pub const ALL: [Self; 6] = [
        Self::Button,
        Self::HumidityTemperature,
        Self::DoorWindow,
        Self::Motion,
        Self::RcButton4,
        Self::Thermometer,
    ];

    /// Short name used on the command line: `button`, `ht`, `dw`, `motion`, `rc4`, `thermo`.
    pub const fn short(self) -> &'static str {
        match self {
            Self::Button => "button",
            Self::HumidityTemperature => "ht",
            Self::DoorWindow => "dw",
            Self::Motion => "motion",
            Self::RcButton4 => "rc4",
            Self::Thermometer => "thermo",
        }
    }

    /// The Shelly BLU model id (`None` for the generic thermometer).
    pub const fn model_id(self) -> Option<u16> {
        match self {
            Self::Button => Some(1),
            Self::DoorWindow => Some(2),
            Self::HumidityTemperature => Some(3),
            Self::Motion => Some(5),
            Self::RcButton4 => Some(7),
            Self::Thermometer => None,
        }
    }

    /// Trigger-based devices set device-info bit 2 (Shelly BLU devices all do, per captures).
    pub const fn trigger_based(self) -> bool {
        !matches!(self, Self::Thermometer)
    }

    /// Default emission interval.
    pub const fn default_interval_ms(self) -> u64 {
        match self {
            Self::HumidityTemperature | Self::Thermometer => 60_000,
            Self::Motion | Self::DoorWindow => 45_000,
            Self::Button | Self::RcButton4 => 30_000,
        }
    }
}

/// An unknown kind name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown sensor kind {:?} (button, ht, dw, motion, rc4, thermo)",
            self.0
        )
    }
}

impl core::error::Error for UnknownKind {}

impl FromStr for SensorKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.short() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// How to build a simulated sensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorSpec {
    /// What it is.
    pub kind: SensorKind,
    /// Its address.
    pub mac: MacAddress,
    /// Encrypt with [`SIM_KEY`].
    pub encrypted: bool,
    /// Time between emissions.
    pub interval_ms: u64,
    /// Time of the first emission.
    pub phase_ms: u64,
    /// Received signal strength.
    pub rssi: i8,
}

impl SensorSpec {
    /// The `index`-th sensor of a fleet: MAC `3C:2E:F5:5B:<kind>:<index>`, staggered phases.
    pub fn numbered(kind: SensorKind, index: u8, encrypted: bool) -> Self {
        let kind_byte = SensorKind::ALL
            .iter()
            .position(|k| *k == kind)
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0);
        Self {
            kind,
            mac: MacAddress([0x3C, 0x2E, 0xF5, 0x5B, kind_byte, index.wrapping_add(1)]),
            encrypted,
            interval_ms: kind.default_interval_ms(),
            phase_ms: 250u64.saturating_mul(u64::from(index) + 1),
            // −50 − index, as the CLI README documents. Written `-50i8.saturating_sub(…)` it was
            // −(50 − index): unary minus binds after the method call, so RSSI rose with the index.
            rssi: (-50i8).saturating_sub(i8::try_from(index % 40).unwrap_or(0)),
        }
    }

    /// Parses a comma-separated fleet: `ht,button+enc,dw` (`+enc` = encrypted).
    pub fn parse_list(list: &str) -> Result<Vec<Self>, UnknownKind> {
        list.split(',')
            .filter(|s| !s.is_empty())
            .enumerate()
            .map(|(i, item)| {
                let (name, encrypted) = match item.strip_suffix("+enc") {
                    Some(name) => (name, true),
                    None => (item, false),
                };
                let kind: SensorKind = name.parse()?;
                Ok(Self::numbered(
                    kind,
                    u8::try_from(i).unwrap_or(u8::MAX),
                    encrypted,
                ))
            })
            .collect()
    }
}

/// A simulated sensor.
#[derive(Debug, Clone)]
pub struct SimSensor {
    spec: SensorSpec,
    emissions: u32,
    scheduled: u32,
    last_emit_ms: Option<u64>,
    objects: Vec<Object>,
    advertisement: Advertisement,
}

fn tenths(n: u32, base: f64, span: u32) -> f64 {
    base + f64::from(n.wrapping_mul(7) % span) / 10.0
}

impl SimSensor {
    /// A sensor that has not emitted yet.
    pub fn new(spec: SensorSpec) -> Self {
        Self {
            spec,
            emissions: 0,
            scheduled: 0,
            last_emit_ms: None,
            objects: Vec::new(),
            advertisement: Advertisement::default(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> &SensorSpec {
        &self.spec
    }

    /// Its address.
    pub fn mac(&self) -> MacAddress {
        self.spec.mac
    }

    /// The Shelly model id, for Shelly BLU kinds.
    pub fn model_id(&self) -> Option<u16> {
        self.spec.kind.model_id()
    }

    /// The local name (`SBBT-002C`, … or `BTH-<last two MAC bytes>`).
    pub fn local_name(&self) -> String {
        match self.spec.kind.model_id().and_then(models::model) {
            Some(model) => model.code.to_string(),
            None => {
                let [.., a, b] = self.spec.mac.0;
                alloc::format!("BTH-{a:02X}{b:02X}")
            }
        }
    }

    /// RSSI.
    pub fn rssi(&self) -> i8 {
        self.spec.rssi
    }

    /// True once it has emitted.
    pub fn has_emitted(&self) -> bool {
        self.last_emit_ms.is_some()
    }

    /// Packets sent so far.
    pub fn emissions(&self) -> u32 {
        self.emissions
    }

    /// Time of the last emission (0 before the first).
    pub fn last_emit_ms(&self) -> u64 {
        self.last_emit_ms.unwrap_or(0)
    }

    /// The packet id of the last emission.
    pub fn packet_id(&self) -> u8 {
        (self.emissions.saturating_sub(1) % 256) as u8
    }

    /// The battery level of the last emission.
    pub fn battery(&self) -> Option<u8> {
        self.objects.iter().find_map(|o| match (o.id, &o.value) {
            (0x01, Value::Int(v)) => u8::try_from(*v).ok(),
            _ => None,
        })
    }

    /// The objects of the last emission.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// `(object id, index among objects with that id)` of the last emission, packet id excluded.
    pub fn object_slots(&self) -> Vec<(u8, u8)> {
        let mut seen: Vec<(u8, u8)> = Vec::new();
        for o in self.objects.iter().filter(|o| o.id != 0x00) {
            let idx = seen.iter().filter(|(id, _)| *id == o.id).count();
            seen.push((o.id, u8::try_from(idx).unwrap_or(u8::MAX)));
        }
        seen
    }

    /// The value of object `obj_id` number `idx` (0-based) as JSON: numbers, booleans, or the
    /// button event byte.
    pub fn value(&self, obj_id: u8, idx: u8) -> Option<Json> {
        let o = self
            .objects
            .iter()
            .filter(|o| o.id == obj_id)
            .nth(usize::from(idx))?;
        Some(match &o.value {
            Value::Int(v) => json!(v),
            Value::Float(v) => json!(v),
            Value::Bool(b) => json!(b),
            Value::Button(code) => json!(code),
            _ => Json::Null,
        })
    }

    /// The last advertisement (empty before the first emission).
    pub fn advertisement(&self) -> Advertisement {
        self.advertisement.clone()
    }

    /// What `device_discovered` reports.
    pub fn discovered(&self) -> DiscoveredDevice {
        let addr = self.spec.mac.to_shelly_rpc();
        DiscoveredDevice {
            shelly_mfdata: self.model_id().map(|model_id| ShellyMfdata {
                flags: self.flags().0,
                model_id,
                mac: Some(addr.clone()),
            }),
            addr,
            local_name: Some(self.local_name()),
            rssi: i32::from(self.spec.rssi),
            encrypted: self.spec.encrypted,
        }
    }

    fn flags(&self) -> Flags {
        // Discoverable, as the Theengs captures show for most BLU devices.
        Flags(0x0001)
    }

    /// Emits every emission due by `now_ms` (only the newest one is built).
    pub fn tick(&mut self, now_ms: u64) {
        let interval = self.spec.interval_ms.max(1);
        if now_ms < self.spec.phase_ms {
            return;
        }
        let due = (now_ms - self.spec.phase_ms) / interval + 1;
        let due = u32::try_from(due).unwrap_or(u32::MAX);
        let scheduled = self.emissions_scheduled();
        if due > scheduled {
            let at = self.spec.phase_ms + u64::from(due - 1) * interval;
            self.emissions = self.emissions.saturating_add(due - scheduled);
            self.scheduled = due;
            self.build(at);
        }
    }

    fn emissions_scheduled(&self) -> u32 {
        self.scheduled
    }

    /// Emits at once (a press, a door event), outside the schedule.
    pub fn press(&mut self, now_ms: u64) {
        self.emissions = self.emissions.saturating_add(1);
        self.build(now_ms);
    }

    fn build(&mut self, at_ms: u64) {
        let n = self.emissions.saturating_sub(1);
        let packet = Value::Int(i64::from(n % 256));
        let battery = Value::Int(i64::from(100 - (n / 50) % 10));
        let mut objects = alloc::vec![Object::new(0x00, packet), Object::new(0x01, battery)];
        match self.spec.kind {
            SensorKind::Button => {
                let code = match n % 3 {
                    0 => 0x01,
                    1 => 0x02,
                    _ => 0x04,
                };
                objects.push(Object::new(0x3A, Value::Button(code)));
            }
            SensorKind::HumidityTemperature => {
                objects.push(Object::new(
                    0x2E,
                    Value::Int(i64::from(40 + n.wrapping_mul(3) % 30)),
                ));
                objects.push(Object::new(0x45, Value::Float(tenths(n, 20.0, 50))));
            }
            SensorKind::DoorWindow => {
                objects.push(Object::new(
                    0x05,
                    Value::Float(f64::from(n.wrapping_mul(1337) % 50_000) / 100.0),
                ));
                objects.push(Object::new(0x2D, Value::Bool(n % 2 == 1)));
                objects.push(Object::new(
                    0x3F,
                    Value::Float(f64::from(n.wrapping_mul(15) % 900) / 10.0),
                ));
            }
            SensorKind::Motion => {
                objects.push(Object::new(
                    0x05,
                    Value::Float(f64::from(n.wrapping_mul(911) % 30_000) / 100.0),
                ));
                objects.push(Object::new(0x21, Value::Bool(n % 2 == 1)));
            }
            SensorKind::RcButton4 => {
                for b in 0..4u32 {
                    let code = if n % 4 == b { 0x01 } else { 0x00 };
                    objects.push(Object::new(0x3A, Value::Button(code)));
                }
            }
            SensorKind::Thermometer => {
                objects.truncate(0);
                objects.push(Object::new(0x01, battery_of(n)));
                objects.push(Object::new(
                    0x02,
                    Value::Float(f64::from(1800 + n.wrapping_mul(13) % 700) / 100.0),
                ));
                objects.push(Object::new(
                    0x03,
                    Value::Float(f64::from(4000 + n.wrapping_mul(17) % 2000) / 100.0),
                ));
            }
        }
        let encryption = self.spec.encrypted.then_some(Encryption {
            key: SIM_KEY,
            mac: self.spec.mac,
            counter: self.emissions,
        });
        let mut adv = Advertisement {
            address: Some(self.spec.mac),
            name: Some(self.local_name()),
            rssi: Some(self.spec.rssi),
            ..Advertisement::default()
        };
        if let Ok(data) = bthome::encode_v2(
            &objects,
            self.spec.kind.trigger_based(),
            None,
            encryption.as_ref(),
        ) {
            adv.service_data.insert(Uuid::BTHOME_V2, data);
            adv.add_service_uuid(Uuid::BTHOME_V2);
        }
        if let Some(model) = self.model_id() {
            let mfd = ManufacturerData {
                flags: Some(self.flags()),
                mac: Some(self.spec.mac),
                model_id: Some(model),
                ..ManufacturerData::default()
            };
            adv.manufacturer_data
                .insert(manufacturer::COMPANY_ID, manufacturer::encode(&mfd));
        }
        self.objects = objects;
        self.advertisement = adv;
        self.last_emit_ms = Some(at_ms);
    }
}

fn battery_of(n: u32) -> Value {
    Value::Int(i64::from(100 - (n / 50) % 10))
}

/// `BTHome.GetObjectInfos` entry for an object id, from the BTHome object table.
pub fn object_info(id: u8) -> ObjectInfo {
    let info = bthome::info(id);
    ObjectInfo {
        obj_id: id,
        obj_name: info.map(|i| i.name.into()),
        kind: info.map(|i| {
            match i.kind {
                Kind::Binary => "binary_sensor",
                Kind::Button | Kind::Dimmer | Kind::Command => "event",
                _ => "sensor",
            }
            .into()
        }),
        unit: info.and_then(|i| i.unit).map(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bthome::decode;

    #[test]
    fn fleet_lists_parse_with_encryption_flags() {
        let fleet = SensorSpec::parse_list("ht,button+enc,,thermo").unwrap();
        assert_eq!(fleet.len(), 3);
        assert_eq!(fleet[1].kind, SensorKind::Button);
        assert!(fleet[1].encrypted && !fleet[0].encrypted);
        assert_eq!((fleet[0].rssi, fleet[1].rssi), (-50, -51), "−50 − index");
        assert_ne!(fleet[0].mac, fleet[2].mac);
        assert!(SensorSpec::parse_list("lamp").is_err());
    }

    #[test]
    fn emissions_follow_the_schedule_even_across_long_jumps() {
        let spec = SensorSpec::numbered(SensorKind::HumidityTemperature, 0, false);
        let mut s = SimSensor::new(spec);
        s.tick(249);
        assert!(!s.has_emitted());
        s.tick(250);
        assert_eq!((s.last_emit_ms(), s.packet_id()), (250, 0));
        // Ten hours later, in one step: the newest emission only.
        s.tick(36_000_250);
        assert_eq!(s.last_emit_ms(), 36_000_250);
        assert_eq!(u32::from(s.packet_id()), 600 % 256);
        // A press emits at once, outside the schedule.
        s.press(36_000_300);
        assert_eq!(s.last_emit_ms(), 36_000_300);
    }

    /// Encrypted adverts decrypt with [`SIM_KEY`] and the sensor's MAC in the decoder.
    #[test]
    fn encrypted_sensors_decrypt_with_the_sim_key() {
        let mut s = SimSensor::new(SensorSpec::numbered(SensorKind::DoorWindow, 3, true));
        s.tick(100_000);
        let adv = s.advertisement();
        let data = &adv.service_data[&Uuid::BTHOME_V2];
        assert_eq!(data[0], 0x45, "v2, encrypted, trigger-based");
        let plain = decode(Uuid::BTHOME_V2, data, Some(s.mac()), Some(&SIM_KEY));
        assert!(plain.is_ok(), "{plain:?}");
        let ids: Vec<u8> = plain.objects.iter().map(|o| o.id).collect();
        assert_eq!(ids, [0x00, 0x01, 0x05, 0x2D, 0x3F]);
        let wrong = decode(
            Uuid::BTHOME_V2,
            data,
            Some(s.mac()),
            Some(&BindKey::new([0; 16])),
        );
        assert!(!wrong.is_ok());
        // Shelly manufacturer data names the model and the MAC.
        let mfd = manufacturer::parse(&adv.manufacturer_data[&manufacturer::COMPANY_ID]);
        assert_eq!((mfd.model_id, mfd.mac), (Some(2), Some(s.mac())));
    }

    #[test]
    fn rc_button_4_sends_four_button_objects_with_indexes() {
        let mut s = SimSensor::new(SensorSpec::numbered(SensorKind::RcButton4, 0, false));
        s.tick(250);
        let slots = s.object_slots();
        let buttons: Vec<_> = slots.iter().filter(|(id, _)| *id == 0x3A).collect();
        assert_eq!(buttons, [&(0x3A, 0), &(0x3A, 1), &(0x3A, 2), &(0x3A, 3)]);
        assert_eq!(
            s.value(0x3A, 0),
            Some(serde_json::json!(1)),
            "button 1 pressed first"
        );
        assert_eq!(s.value(0x3A, 1), Some(serde_json::json!(0)));
    }
}

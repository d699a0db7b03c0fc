//! What a simulated BLU device advertises: its BTHome objects per model (the Devices pages of
//! Shelly's BLU documentation and public captures) and Shelly's manufacturer data, encrypted once
//! a passkey made a key.

use alloc::vec::Vec;

use super::BluDevice;
use crate::advertisement::Advertisement;
use crate::blu::{Characteristic, Value};
use crate::bthome::{self, BindKey, Encryption, Object, Value as Reading};
use crate::shelly::manufacturer::{self, Flags, ManufacturerData};
use crate::uuid::Uuid;

/// Why the device emits an advertisement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Emission {
    /// Its periodic beacon or reading.
    Periodic,
    /// A short press of its button.
    Press,
    /// Pairing mode started.
    Pairing,
}

impl BluDevice {
    /// The BTHome objects of emission `n`, in ascending id order, from the model's documented
    /// object list (reference: the Devices pages and the Theengs captures).
    pub(super) fn objects(&self, n: u32, why: Emission) -> Vec<Object> {
        let int = |v: u32| Reading::Int(i64::from(v));
        // A reading that moves with each emission: (n × step mod span) / scale.
        let varying = |step: u32, span: u32, scale: f64| {
            Reading::Float(f64::from(n.wrapping_mul(step) % span) / scale)
        };
        let mut objects = alloc::vec![
            Object::new(0x00, int(n % 256)),
            Object::new(0x01, int(100 - (n / 50) % 10)),
        ];
        let press = why == Emission::Press;
        let button = |objects: &mut Vec<Object>| {
            if press {
                objects.push(Object::new(0x3A, Reading::Button(0x01)));
            }
        };
        let offset = match self.setting(Characteristic::TemperatureOffset) {
            Some(Value::TenthsCelsius(t)) => f64::from(t) / 10.0,
            _ => 0.0,
        };
        let temperature = 20.0 + f64::from(n.wrapping_mul(7) % 50) / 10.0 + offset;
        let humidity = int(40 + n.wrapping_mul(3) % 30);
        match self.model.id {
            0x0001 => objects.push(Object::new(
                0x3A,
                Reading::Button(if press { 0x01 } else { 0x00 }),
            )),
            0x0002 => {
                objects.push(Object::new(0x05, varying(1337, 50_000, 100.0)));
                objects.push(Object::new(0x2D, Reading::Bool(n % 2 == 1)));
                button(&mut objects);
                objects.push(Object::new(0x3F, varying(15, 900, 10.0)));
            }
            0x0005 => {
                objects.push(Object::new(0x05, varying(911, 30_000, 100.0)));
                objects.push(Object::new(0x21, Reading::Bool(n % 2 == 1)));
                button(&mut objects);
            }
            0x0006 | 0x0007 => {
                for b in 0..4 {
                    let code = if press && b == 0 { 0x01 } else { 0x00 };
                    objects.push(Object::new(0x3A, Reading::Button(code)));
                }
            }
            0x000A => {
                button(&mut objects);
                objects.push(Object::new(0x40, int(500 + n.wrapping_mul(13) % 2000)));
            }
            0x000C => {
                objects.push(Object::new(0x1E, Reading::Bool(n.is_multiple_of(2))));
                objects.push(Object::new(0x2E, humidity));
                button(&mut objects);
                objects.push(Object::new(0x45, Reading::Float(temperature)));
            }
            _ => {
                objects.push(Object::new(0x2E, humidity));
                button(&mut objects);
                objects.push(Object::new(0x45, Reading::Float(temperature)));
            }
        }
        objects
    }

    pub(super) fn emit(&mut self, why: Emission, at_ms: u64) {
        self.emissions = self.emissions.wrapping_add(1);
        let n = self.emissions;
        let encryption = self.key.map(|key| Encryption {
            key: BindKey::new(key),
            mac: self.mac,
            counter: n,
        });
        let mut adv = Advertisement {
            address: Some(self.mac),
            name: Some(self.model.code().into()),
            rssi: Some(self.rssi),
            ..Advertisement::default()
        };
        // Shelly BLU devices all send trigger-based BTHome (device info 0x44 / 0x45, captures).
        if let Ok(data) = bthome::encode_v2(&self.objects(n, why), true, None, encryption.as_ref())
        {
            adv.service_data.insert(Uuid::BTHOME_V2, data);
            adv.add_service_uuid(Uuid::BTHOME_V2);
        }
        let mut flags = 0x0001; // discoverable
        if self.setting(Characteristic::BuzzerEnabled) == Some(Value::Switch(true)) {
            flags |= 0x0008;
        }
        if self.pairing(at_ms) {
            flags |= 0x0010;
        }
        adv.manufacturer_data.insert(
            manufacturer::COMPANY_ID,
            manufacturer::encode(&ManufacturerData {
                flags: Some(Flags(flags)),
                mac: Some(self.mac),
                model_id: Some(self.model.id),
                ..ManufacturerData::default()
            }),
        );
        self.advertisement = Some(adv);
    }
}

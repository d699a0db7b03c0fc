//! A simulated Shelly BLU device: its settings characteristics behind bonding, and its BTHome
//! advertisements, plain until a passkey is written and encrypted with the new key afterwards.
//! This is what `bluehome sim blu --stdio` drives.
//!
//! The rules, from Shelly's BLU documentation (docs-ble/common, /encryption, /Devices/*):
//!
//! * A connection is accepted from a bonded client, or from anyone while pairing mode is on.
//!   Holding the button for more than 10 s ([`BluDevice::press`]) turns pairing mode on for a
//!   minute; the first connection ends it, and that connection may bond ([`BluDevice::pair`]).
//! * At most 4 bonds; a fifth replaces the one used least recently.
//! * Reading the key and writing anything needs a bonded link; reading the settings does not.
//! * Writing a passkey turns encryption on and makes a new key (derived here from the MAC, the
//!   passkey and a counter, so runs are reproducible); from the next advertisement on, the BTHome
//!   device-info byte has the encryption bit and the payload is encrypted with that key. Only a
//!   factory reset goes back to plaintext; it also forgets bonds and settings and drops the link.
//! * The "find my button" buzzer sounds only while beacon mode is on, and stops by itself after
//!   30 s.
//!
//! What the documentation leaves open, the simulator decides (and the CLI README lists): the key
//! reads as 16 zero bytes before a passkey was written (as one public script saw); bad values are
//! refused with ATT errors (`invalid_attribute_value_length`, `value_not_allowed`); beacons go out
//! every 30 s; settings start at the defaults in [`BluDevice::new`]'s table.
//!
//! Each device builds its own advertisements (not [`super::SimSensor`]'s) because the objects
//! depend on its settings (H&T ZB adds its temperature offset) and its encryption changes at run
//! time.

mod advertising;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use litemap::LiteMap;
use sha2::{Digest, Sha256};

use self::advertising::Emission;
use crate::advertisement::{Advertisement, MacAddress};
use crate::blu::{Access, BluModel, Characteristic, Exposed, Passkey, Value, ValueError};
use crate::bthome;
use crate::gatt::AttError;

/// How long the button must be held to enter pairing mode (docs-ble/common: "more than 10
/// seconds").
pub const PAIRING_HOLD_MS: u64 = 10_001;
/// How long pairing mode lasts without a connection (docs-ble/common: "1 minute").
pub const PAIRING_MS: u64 = 60_000;
/// Bonds a device keeps (docs-ble/common).
pub const MAX_BONDS: usize = 4;
/// How long the "find my button" buzzer sounds (docs-ble/Devices/button: "30 seconds").
pub const BUZZER_MS: u64 = 30_000;
/// Time between beacons (the documentation gives none; the simulator's choice).
pub const BEACON_INTERVAL_MS: u64 = 30_000;
/// Time between the H&T models' readings (docs-ble/Devices/ht: "every 1 minute").
pub const HT_INTERVAL_MS: u64 = 60_000;

/// How to build a simulated BLU device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BluOptions {
    /// The model.
    pub model: &'static BluModel,
    /// Its address.
    pub mac: MacAddress,
    /// What the Firmware Revision characteristic reads.
    pub firmware: String,
    /// Clients bonded from the start.
    pub bonds: Vec<String>,
    /// Beacon mode on from the start (for models that have the setting).
    pub beacon: bool,
    /// Encryption on from the start: this passkey was written before (by the Shelly app), and
    /// the device has the key it made.
    pub passkey: Option<Passkey>,
    /// Also expose what is seen only in public code: the sample-BTHome read, and the Door/Window's
    /// angle threshold.
    pub undocumented: bool,
    /// Characteristics to leave out (an older firmware without them).
    pub without: Vec<Characteristic>,
    /// Received signal strength.
    pub rssi: i8,
    /// Time between periodic advertisements in place of the model's (a livelier demo); a device
    /// that sends none (beacon mode off) still sends none.
    pub interval_ms: Option<u64>,
}

impl BluOptions {
    /// Defaults for a model: MAC `3C:2E:F5:B1:00:<model id>`, firmware `1.0.23`, no bonds, beacon
    /// and encryption off, documented characteristics only.
    pub fn new(model: &'static BluModel) -> Self {
        let [_, id] = model.id.to_be_bytes();
        Self {
            model,
            mac: MacAddress([0x3C, 0x2E, 0xF5, 0xB1, 0x00, id]),
            firmware: "1.0.23".into(),
            bonds: Vec::new(),
            beacon: false,
            passkey: None,
            undocumented: false,
            without: Vec::new(),
            rssi: -55,
            interval_ms: None,
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotConnectable;

impl fmt::Display for NotConnectable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the device accepts connections only from a bonded client or in pairing mode \
             (hold its button for more than 10 s)",
        )
    }
}

impl core::error::Error for NotConnectable {}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Bond {
    client: String,
    last_used: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Connection {
    client: String,
    /// Opened while pairing mode was on: this link may bond.
    may_bond: bool,
}

/// A simulated Shelly BLU device. Time is always an argument (milliseconds on any monotonic
/// clock).
#[derive(Debug, Clone)]
pub struct BluDevice {
    model: &'static BluModel,
    mac: MacAddress,
    firmware: String,
    rssi: i8,
    interval_ms: Option<u64>,
    exposed: Exposed,
    settings: LiteMap<Characteristic, Vec<u8>>,
    key: Option<[u8; 16]>,
    key_generation: u32,
    bonds: Vec<Bond>,
    connection: Option<Connection>,
    pairing_until: Option<u64>,
    buzzer_until: Option<u64>,
    emissions: u32,
    next_periodic: Option<u64>,
    advertisement: Option<Advertisement>,
}

/// The bytes a setting starts with: the documented default where there is one (Distance: all
/// ranges, 30 s, measuring on vibration), otherwise the simulator's choice. A unit test decodes
/// each.
fn default_setting(c: Characteristic, beacon: bool) -> Vec<u8> {
    match c {
        Characteristic::BeaconMode => alloc::vec![u8::from(beacon)],
        Characteristic::BuzzerEnabled
        | Characteristic::MotionLed
        | Characteristic::MeasureOnVibration
        | Characteristic::TimeSync => alloc::vec![1],
        Characteristic::MultiClickSpeed | Characteristic::MotionPulseCount => alloc::vec![2],
        Characteristic::AngleThreshold => alloc::vec![5],
        Characteristic::MotionSensitivity => alloc::vec![1],
        Characteristic::MotionBlindTime => 60u16.to_le_bytes().to_vec(),
        Characteristic::DistanceRanges => alloc::vec![0x07],
        Characteristic::MeasureInterval => 30u16.to_le_bytes().to_vec(),
        Characteristic::TemperatureOffset => alloc::vec![0, 0],
        // BuzzerActivate (silent), and what is not a setting.
        _ => alloc::vec![0],
    }
}

/// A passkey as the documentation has the device read it: a little-endian u32 of at most 999999
/// (docs-ble/encryption).
fn documented_passkey(value: &[u8]) -> Result<Passkey, AttError> {
    let bytes: [u8; 4] = value
        .try_into()
        .map_err(|_| AttError::InvalidAttributeValueLength)?;
    Passkey::new(u32::from_le_bytes(bytes)).map_err(|_| AttError::ValueNotAllowed)
}

impl BluDevice {
    /// A device as it leaves the factory (plus the options' bonds and beacon mode).
    pub fn new(options: BluOptions) -> Self {
        let mut exposed = options.model.documented();
        exposed.insert(Characteristic::FirmwareRevision);
        if options.undocumented {
            exposed.insert(Characteristic::SampleBthome);
            if options.model.id == 0x0002 {
                exposed.insert(Characteristic::AngleThreshold);
            }
        }
        for c in &options.without {
            exposed.remove(*c);
        }
        let mut device = Self {
            model: options.model,
            mac: options.mac,
            firmware: options.firmware,
            rssi: options.rssi,
            interval_ms: options.interval_ms,
            exposed,
            settings: LiteMap::new(),
            key: None,
            key_generation: 0,
            bonds: options
                .bonds
                .into_iter()
                .map(|client| Bond {
                    client,
                    last_used: 0,
                })
                .collect(),
            connection: None,
            pairing_until: None,
            buzzer_until: None,
            emissions: 0,
            next_periodic: None,
            advertisement: None,
        };
        device.load_defaults(options.beacon);
        if let Some(passkey) = options.passkey {
            device.new_key(passkey);
        }
        device
    }

    fn load_defaults(&mut self, beacon: bool) {
        self.settings = self
            .exposed
            .settings()
            .map(|c| (c, default_setting(c, beacon)))
            .collect();
        // The first periodic advertisement 1 s after power-on.
        self.next_periodic = self.periodic_interval().map(|i| i.min(1_000));
    }

    /// The model.
    pub fn model(&self) -> &'static BluModel {
        self.model
    }

    /// Its address.
    pub fn mac(&self) -> MacAddress {
        self.mac
    }

    /// The characteristics it exposes.
    pub fn exposed(&self) -> Exposed {
        self.exposed
    }

    /// The current bind key, once a passkey was written.
    pub fn key(&self) -> Option<[u8; 16]> {
        self.key
    }

    /// Whether pairing asks for a passkey: firmware before 1.0.23 takes the encryption passkey,
    /// once one was written, as its pairing PIN (firmware 1.0.23 removed PIN bonding,
    /// docs-ble/changelog); otherwise it pairs with no PIN.
    pub fn asks_for_passkey(&self) -> bool {
        self.key.is_some() && crate::blu::passkey_is_pairing_pin(&self.firmware) == Some(true)
    }

    /// The bonded clients, oldest bond first.
    pub fn bonds(&self) -> impl Iterator<Item = &str> {
        self.bonds.iter().map(|b| b.client.as_str())
    }

    /// Whether pairing mode is on.
    pub fn pairing(&self, now_ms: u64) -> bool {
        self.pairing_until.is_some_and(|until| now_ms < until)
    }

    /// Whether the "find my button" buzzer sounds.
    pub fn buzzing(&self, now_ms: u64) -> bool {
        self.buzzer_until.is_some_and(|until| now_ms < until)
    }

    /// The connected client, if any.
    pub fn client(&self) -> Option<&str> {
        self.connection.as_ref().map(|c| c.client.as_str())
    }

    fn setting(&self, c: Characteristic) -> Option<Value> {
        self.settings.get(&c).and_then(|b| c.decode(b).ok())
    }

    fn bonded(&self, client: &str) -> bool {
        self.bonds
            .iter()
            .any(|b| b.client.eq_ignore_ascii_case(client))
    }

    /// Brings time-driven state up to `now_ms`: pairing mode and the buzzer end, periodic
    /// advertisements go out (only the newest of several due is built).
    pub fn tick(&mut self, now_ms: u64) {
        if self.pairing_until.is_some_and(|until| now_ms >= until) {
            self.pairing_until = None;
        }
        if self.buzzer_until.is_some_and(|until| now_ms >= until) {
            self.buzzer_until = None;
            if self.settings.contains_key(&Characteristic::BuzzerActivate) {
                self.settings
                    .insert(Characteristic::BuzzerActivate, alloc::vec![0]);
            }
        }
        if let (Some(next), Some(interval)) = (self.next_periodic, self.periodic_interval())
            && next <= now_ms
        {
            let missed = (now_ms - next) / interval.max(1);
            let at = next + missed * interval;
            self.emit(Emission::Periodic, at);
            self.next_periodic = Some(at + interval);
        }
    }

    /// Time between periodic advertisements: readings for the H&T models and Distance, beacons
    /// while beacon mode is on, none otherwise.
    fn periodic_interval(&self) -> Option<u64> {
        let interval = self.model_interval()?;
        Some(self.interval_ms.unwrap_or(interval))
    }

    fn model_interval(&self) -> Option<u64> {
        match self.model.id {
            0x0003 | 0x000C | 0x0011 => Some(HT_INTERVAL_MS),
            0x000A => match self.setting(Characteristic::MeasureInterval) {
                Some(Value::Seconds(s)) => Some(u64::from(s) * 1000),
                _ => Some(BEACON_INTERVAL_MS),
            },
            _ => (self.setting(Characteristic::BeaconMode) == Some(Value::Switch(true)))
                .then_some(BEACON_INTERVAL_MS),
        }
    }

    /// A person presses the button for `hold_ms`: more than 10 s turns pairing mode on, a shorter
    /// press is a button event (advertised at once).
    pub fn press(&mut self, hold_ms: u64, now_ms: u64) {
        self.tick(now_ms);
        if hold_ms >= PAIRING_HOLD_MS {
            self.pairing_until = Some(now_ms.saturating_add(PAIRING_MS));
            self.emit(Emission::Pairing, now_ms);
        } else {
            self.emit(Emission::Press, now_ms);
        }
    }

    /// A client connects (replacing any other). Refused unless it is bonded or pairing mode is
    /// on; a connection in pairing mode ends pairing mode and may bond.
    pub fn connect(&mut self, client: &str, now_ms: u64) -> Result<(), NotConnectable> {
        self.tick(now_ms);
        self.connection = None;
        let pairing = self.pairing(now_ms);
        if !pairing && !self.bonded(client) {
            return Err(NotConnectable);
        }
        self.pairing_until = None;
        self.touch(client, now_ms);
        self.connection = Some(Connection {
            client: client.into(),
            may_bond: pairing,
        });
        Ok(())
    }

    /// The link drops.
    pub fn disconnect(&mut self, now_ms: u64) {
        self.tick(now_ms);
        self.connection = None;
    }

    fn touch(&mut self, client: &str, now_ms: u64) {
        if let Some(b) = self
            .bonds
            .iter_mut()
            .find(|b| b.client.eq_ignore_ascii_case(client))
        {
            b.last_used = now_ms;
        }
    }

    /// Bonds the connected client (or `client`): allowed on a link opened in pairing mode; a
    /// bonded client just stays bonded. A fifth bond replaces the least recently used.
    pub fn pair(&mut self, client: Option<&str>, now_ms: u64) -> Result<(), AttError> {
        self.tick(now_ms);
        let conn = self.connection.as_ref().ok_or(AttError::Disconnected)?;
        let who = String::from(client.unwrap_or(&conn.client));
        if self.bonded(&who) {
            self.touch(&who, now_ms);
            return Ok(());
        }
        if !conn.may_bond {
            return Err(AttError::InsufficientAuthentication);
        }
        if self.bonds.len() >= MAX_BONDS
            && let Some(oldest) = self
                .bonds
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| b.last_used)
                .map(|(i, _)| i)
        {
            self.bonds.remove(oldest);
        }
        self.bonds.push(Bond {
            client: who,
            last_used: now_ms,
        });
        Ok(())
    }

    /// Checks the link, that the characteristic exists, and its access rule: `never` is the
    /// error when the access is [`Access::Never`].
    fn check(&self, c: Characteristic, access: Access, never: AttError) -> Result<(), AttError> {
        let conn = self.connection.as_ref().ok_or(AttError::Disconnected)?;
        if !self.exposed.has(c) {
            return Err(AttError::AttributeNotFound);
        }
        match access {
            Access::Never => Err(never),
            Access::Bonded if !self.bonded(&conn.client) => {
                Err(AttError::InsufficientAuthentication)
            }
            _ => Ok(()),
        }
    }

    /// A read.
    pub fn read(&mut self, c: Characteristic, now_ms: u64) -> Result<Vec<u8>, AttError> {
        self.tick(now_ms);
        self.check(c, c.info().read, AttError::ReadNotPermitted)?;
        Ok(match c {
            Characteristic::EncryptionKey => self.key.unwrap_or_default().to_vec(),
            Characteristic::FirmwareRevision => self.firmware.as_bytes().to_vec(),
            Characteristic::SampleBthome => {
                let n = self.emissions;
                bthome::encode_v2(&self.objects(n, Emission::Periodic), true, None, None)
                    .unwrap_or_default()
            }
            _ => self.settings.get(&c).cloned().unwrap_or_default(),
        })
    }

    /// A write (with response). Values are checked with the core's own decoder, except the
    /// passkey, which the device reads by itself as documented: the client's byte order is what
    /// a test of it checks.
    pub fn write(&mut self, c: Characteristic, value: &[u8], now_ms: u64) -> Result<(), AttError> {
        self.tick(now_ms);
        self.check(c, c.info().write, AttError::WriteNotPermitted)?;
        if c == Characteristic::Passkey {
            self.new_key(documented_passkey(value)?);
            return Ok(());
        }
        let decoded = c.decode(value).map_err(|e| match e {
            ValueError::Length { .. } => AttError::InvalidAttributeValueLength,
            _ => AttError::ValueNotAllowed,
        })?;
        match (c, decoded) {
            (Characteristic::FactoryReset, _) => self.factory_reset(now_ms),
            (Characteristic::BuzzerActivate, Value::Switch(on)) => {
                let beacon = self.setting(Characteristic::BeaconMode) == Some(Value::Switch(true));
                let sounding = on && beacon;
                self.buzzer_until = sounding.then_some(now_ms.saturating_add(BUZZER_MS));
                self.settings.insert(c, alloc::vec![u8::from(sounding)]);
            }
            _ => {
                self.settings.insert(c, value.to_vec());
                if c == Characteristic::BeaconMode || c == Characteristic::MeasureInterval {
                    self.next_periodic = self.periodic_interval().map(|i| now_ms.saturating_add(i));
                }
            }
        }
        Ok(())
    }

    fn new_key(&mut self, passkey: Passkey) {
        self.key_generation = self.key_generation.wrapping_add(1);
        let digest = Sha256::new()
            .chain_update(b"bluehome sim BLU key")
            .chain_update(self.mac.0)
            .chain_update(passkey.get().to_le_bytes())
            .chain_update(self.key_generation.to_le_bytes())
            .finalize();
        let mut key = [0u8; 16];
        for (k, d) in key.iter_mut().zip(digest.iter()) {
            *k = *d;
        }
        self.key = Some(key);
    }

    fn factory_reset(&mut self, now_ms: u64) {
        self.key = None;
        self.bonds.clear();
        self.pairing_until = None;
        self.buzzer_until = None;
        self.connection = None;
        self.load_defaults(false);
        self.next_periodic = self.periodic_interval().map(|i| now_ms.saturating_add(i));
    }

    /// The last advertisement, once the device has emitted.
    pub fn advertisement(&mut self, now_ms: u64) -> Option<Advertisement> {
        self.tick(now_ms);
        self.advertisement.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blu::{self, Operation, Outcome};
    use crate::bthome::{BindKey, Value as Reading};
    use crate::gatt::{Action, Feedback};
    use crate::shelly::manufacturer;
    use crate::uuid::Uuid;

    fn device(code: &str) -> BluDevice {
        BluDevice::new(BluOptions::new(blu::model_by_code(code).unwrap()))
    }

    /// Runs a core BLU operation against the device, as an IO shell would.
    fn run(device: &mut BluDevice, mut op: Operation, now: u64) -> Result<Outcome, blu::Error> {
        for _ in 0..64 {
            let feedback = match op.action() {
                Action::Write {
                    characteristic,
                    value,
                } => match device.write(characteristic, value, now) {
                    Ok(()) => Feedback::Written,
                    Err(e) => Feedback::Failed(e),
                },
                Action::Read { characteristic } => match device.read(characteristic, now) {
                    Ok(bytes) => {
                        op.advance(Feedback::Read(&bytes));
                        continue;
                    }
                    Err(e) => Feedback::Failed(e),
                },
                Action::Sleep { .. } | Action::Done => break,
            };
            op.advance(feedback);
        }
        op.finish()
    }

    fn paired(device: &mut BluDevice, client: &str, now: u64) {
        device.press(PAIRING_HOLD_MS, now);
        device.connect(client, now).unwrap();
        device.pair(None, now).unwrap();
    }

    #[test]
    fn connections_need_a_bond_or_pairing_mode() {
        let mut d = device("SBBT-002C");
        assert_eq!(d.connect("phone", 0), Err(NotConnectable));
        d.press(3_000, 10);
        assert_eq!(d.connect("phone", 10), Err(NotConnectable), "a short press");
        d.press(PAIRING_HOLD_MS, 20);
        assert!(d.pairing(20));
        assert_eq!(d.connect("phone", 30), Ok(()));
        assert_eq!(d.client(), Some("phone"));
        assert!(!d.pairing(30), "a connection ends pairing mode");
        d.disconnect(40);
        assert_eq!(d.connect("laptop", 50), Err(NotConnectable));
    }

    #[test]
    fn pairing_mode_ends_after_a_minute() {
        let mut d = device("SBMO-003Z");
        d.press(PAIRING_HOLD_MS, 1_000);
        assert!(d.pairing(1_000 + PAIRING_MS - 1));
        assert!(!d.pairing(1_000 + PAIRING_MS));
        assert_eq!(d.connect("phone", 1_000 + PAIRING_MS), Err(NotConnectable));
    }

    #[test]
    fn only_a_link_opened_in_pairing_mode_may_bond() {
        let mut d = BluDevice::new(BluOptions {
            bonds: alloc::vec!["phone".into()],
            ..BluOptions::new(blu::model_by_code("SBMO-003Z").unwrap())
        });
        d.connect("phone", 0).unwrap();
        assert_eq!(
            d.pair(Some("laptop"), 0),
            Err(AttError::InsufficientAuthentication)
        );
        assert_eq!(d.pair(None, 0), Ok(()), "already bonded");
    }

    /// docs-ble/common: at most 4 bonds, a fifth replaces the least used.
    #[test]
    fn a_fifth_bond_replaces_the_least_recently_used() {
        let mut d = device("SBBT-002C");
        for (i, name) in ["a", "b", "c", "d"].into_iter().enumerate() {
            paired(&mut d, name, i as u64 * 100);
        }
        d.connect("a", 1_000).unwrap(); // "a" is used again: "b" is now the least recent
        paired(&mut d, "e", 2_000);
        assert_eq!(d.bonds().collect::<Vec<_>>(), ["a", "c", "d", "e"]);
    }

    #[test]
    fn protected_characteristics_need_the_bond_settings_read_without() {
        let mut d = device("SBMO-003Z");
        d.press(PAIRING_HOLD_MS, 0);
        d.connect("phone", 0).unwrap();
        assert_eq!(d.read(Characteristic::MotionLed, 0), Ok(alloc::vec![1]));
        assert_eq!(
            d.read(Characteristic::EncryptionKey, 0),
            Err(AttError::InsufficientAuthentication)
        );
        assert_eq!(
            d.write(Characteristic::MotionLed, &[0], 0),
            Err(AttError::InsufficientAuthentication)
        );
        assert_eq!(
            d.read(Characteristic::Passkey, 0),
            Err(AttError::ReadNotPermitted)
        );
        assert_eq!(
            d.read(Characteristic::TimeSync, 0),
            Err(AttError::AttributeNotFound),
            "not a Motion setting"
        );
        d.pair(None, 0).unwrap();
        assert_eq!(d.write(Characteristic::MotionLed, &[0], 0), Ok(()));
        assert_eq!(d.read(Characteristic::MotionLed, 0), Ok(alloc::vec![0]));
    }

    #[test]
    fn bad_values_get_att_errors() {
        let mut d = device("SBMO-003Z");
        paired(&mut d, "phone", 0);
        assert_eq!(
            d.write(Characteristic::MotionPulseCount, &[5], 0),
            Err(AttError::ValueNotAllowed)
        );
        assert_eq!(
            d.write(Characteristic::MotionPulseCount, &[1, 0], 0),
            Err(AttError::InvalidAttributeValueLength)
        );
        assert_eq!(
            d.write(Characteristic::Passkey, &1_000_000u32.to_le_bytes(), 0),
            Err(AttError::ValueNotAllowed)
        );
        // The device reads the documented order by itself: 123456 written big-endian is
        // 0x40E20100, out of range, and the client's bytes are the documented ones.
        assert_eq!(
            d.write(Characteristic::Passkey, &123_456u32.to_be_bytes(), 0),
            Err(AttError::ValueNotAllowed)
        );
        let passkey = Passkey::new(123_456).unwrap();
        assert_eq!(passkey.to_bytes(), 123_456u32.to_le_bytes());
        assert_eq!(
            d.write(Characteristic::Passkey, &passkey.to_bytes(), 0),
            Ok(())
        );
    }

    /// The whole encryption flow: the core client turns encryption on and reads the key; the
    /// device's next advertisement carries the encryption bit and decrypts with that key through
    /// the core's BTHome decoder, using the MAC from the Shelly manufacturer data.
    #[test]
    fn encryption_on_then_key_read_then_the_next_advertisement_decrypts() {
        let mut d = device("SBBT-002C");
        paired(&mut d, "phone", 0);
        d.press(100, 10);
        let plain = d.advertisement(10).unwrap();
        assert_eq!(
            plain.service_data[&Uuid::BTHOME_V2][0],
            0x44,
            "plain, trigger-based"
        );

        // What the IO shell builds from the characteristic UUIDs the device lists.
        let exposed = Exposed::from_uuids(d.exposed().iter().map(Characteristic::uuid));
        let op = Operation::enable_encryption(&exposed, "123456".parse().unwrap()).unwrap();
        let Ok(Outcome::Key(key)) = run(&mut d, op, 20) else {
            panic!("no key")
        };
        assert_eq!(Some(key), d.key());

        d.press(100, 30);
        let adv = d.advertisement(30).unwrap();
        let data = &adv.service_data[&Uuid::BTHOME_V2];
        assert_eq!(data[0], 0x45, "encrypted, trigger-based");
        let mfd = manufacturer::parse(&adv.manufacturer_data[&manufacturer::COMPANY_ID]);
        let packet = bthome::decode(Uuid::BTHOME_V2, data, mfd.mac, Some(&BindKey::new(key)));
        assert!(packet.is_ok(), "{packet:?}");
        assert!(
            packet
                .objects
                .iter()
                .any(|o| o.id == 0x3A && o.value == Reading::Button(0x01))
        );
        let wrong = bthome::decode(Uuid::BTHOME_V2, data, mfd.mac, Some(&BindKey::new([0; 16])));
        assert!(!wrong.is_ok());
    }

    #[test]
    fn the_key_reads_zero_until_a_passkey_and_changes_with_each_passkey() {
        let mut d = device("SBDW-002C");
        paired(&mut d, "phone", 0);
        assert_eq!(
            d.read(Characteristic::EncryptionKey, 0),
            Ok(alloc::vec![0; 16])
        );
        let p = Passkey::new(1).unwrap().to_bytes();
        d.write(Characteristic::Passkey, &p, 0).unwrap();
        let first = d.read(Characteristic::EncryptionKey, 0).unwrap();
        d.write(Characteristic::Passkey, &p, 0).unwrap();
        let second = d.read(Characteristic::EncryptionKey, 0).unwrap();
        assert_ne!(first, [0; 16]);
        assert_ne!(first, second, "a new key on each passkey write");
    }

    #[test]
    fn factory_reset_goes_back_to_plaintext_and_forgets_everything() {
        let mut d = device("SBBT-002C");
        paired(&mut d, "phone", 0);
        d.write(
            Characteristic::Passkey,
            &Passkey::new(42).unwrap().to_bytes(),
            0,
        )
        .unwrap();
        d.write(Characteristic::BeaconMode, &[1], 0).unwrap();
        assert_eq!(d.write(Characteristic::FactoryReset, &[1], 10), Ok(()));
        assert_eq!(d.client(), None, "the device reboots");
        assert_eq!(d.bonds().count(), 0);
        assert_eq!(d.key(), None);
        assert_eq!(d.connect("phone", 20), Err(NotConnectable));
        paired(&mut d, "phone", 30);
        assert_eq!(d.read(Characteristic::BeaconMode, 30), Ok(alloc::vec![0]));
        d.press(100, 40);
        let adv = d.advertisement(40).unwrap();
        assert_eq!(
            adv.service_data[&Uuid::BTHOME_V2][0],
            0x44,
            "plaintext again"
        );
    }

    #[test]
    fn beacon_mode_makes_periodic_advertisements() {
        let mut d = device("SBBT-002C");
        assert!(d.advertisement(100_000).is_none(), "a button is silent");
        paired(&mut d, "phone", 100_000);
        assert_eq!(d.emissions, 1, "entering pairing mode advertises");
        d.write(Characteristic::BeaconMode, &[1], 100_000).unwrap();
        d.tick(100_000 + BEACON_INTERVAL_MS - 1);
        assert_eq!(d.emissions, 1);
        d.tick(100_000 + BEACON_INTERVAL_MS);
        assert_eq!(d.emissions, 2);
        // Ten intervals later in one step: only the newest beacon is built.
        d.tick(100_000 + 11 * BEACON_INTERVAL_MS);
        assert_eq!(d.emissions, 3);
        // The beats keep their phase: the next is one interval after the newest.
        d.tick(100_000 + 12 * BEACON_INTERVAL_MS - 1);
        assert_eq!(d.emissions, 3);
        d.tick(100_000 + 12 * BEACON_INTERVAL_MS);
        assert_eq!(d.emissions, 4);
        d.write(
            Characteristic::BeaconMode,
            &[0],
            100_000 + 12 * BEACON_INTERVAL_MS,
        )
        .unwrap();
        d.tick(100_000 + 20 * BEACON_INTERVAL_MS);
        assert_eq!(d.emissions, 4, "beacon mode off: silent again");
    }

    #[test]
    fn every_default_setting_is_a_valid_value() {
        for c in Characteristic::ALL.into_iter().filter(|c| c.is_setting()) {
            for beacon in [false, true] {
                assert!(c.decode(&default_setting(c, beacon)).is_ok(), "{c}");
            }
        }
    }

    /// docs-ble/Devices/button: the buzzer needs beacon mode and stops by itself after 30 s.
    #[test]
    fn the_buzzer_needs_beacon_mode_and_stops_after_30_s() {
        let mut d = device("SBBT-002C");
        paired(&mut d, "phone", 0);
        d.write(Characteristic::BuzzerActivate, &[1], 0).unwrap();
        assert_eq!(
            d.read(Characteristic::BuzzerActivate, 0),
            Ok(alloc::vec![0])
        );
        assert!(!d.buzzing(0));
        d.write(Characteristic::BeaconMode, &[1], 0).unwrap();
        d.write(Characteristic::BuzzerActivate, &[1], 0).unwrap();
        assert!(d.buzzing(BUZZER_MS - 1));
        assert!(!d.buzzing(BUZZER_MS));
        assert_eq!(
            d.read(Characteristic::BuzzerActivate, BUZZER_MS),
            Ok(alloc::vec![0])
        );
    }

    /// Firmware before 1.0.23 takes the passkey, once one was written, as its pairing PIN
    /// (docs-ble/changelog: 1.0.23 removed PIN bonding).
    #[test]
    fn only_firmware_before_1_0_23_asks_for_the_passkey_to_pair() {
        let button = blu::model_by_code("SBBT-002C").unwrap();
        let asks = |firmware: &str, passkey: Option<u32>| {
            BluDevice::new(BluOptions {
                firmware: firmware.into(),
                passkey: passkey.map(|p| Passkey::new(p).unwrap()),
                ..BluOptions::new(button)
            })
            .asks_for_passkey()
        };
        assert!(asks("1.0.22", Some(123_456)));
        assert!(!asks("1.0.22", None));
        assert!(!asks("1.0.23", Some(123_456)));
    }

    /// BLU Distance (docs-ble/Devices/BLU_ZB/distance): every range on and a reading every 30 s
    /// out of the box; the measuring interval it is given sets the pace.
    #[test]
    fn the_distance_sensor_measures_at_its_interval() {
        let distance = blu::MODELS.iter().find(|m| m.id == 0x000A).unwrap();
        let mut d = BluDevice::new(BluOptions::new(distance));
        paired(&mut d, "phone", 0);
        assert_eq!(
            d.read(Characteristic::DistanceRanges, 0),
            Ok(alloc::vec![0x07])
        );
        assert_eq!(
            d.read(Characteristic::MeasureInterval, 0),
            Ok(30u16.to_le_bytes().to_vec())
        );
        d.write(Characteristic::MeasureInterval, &10u16.to_le_bytes(), 0)
            .unwrap();
        let sent = d.emissions;
        d.tick(9_999);
        assert_eq!(d.emissions, sent);
        d.tick(10_000);
        assert_eq!(d.emissions, sent + 1);
    }

    /// A beacon carries the objects of the real device's, in its order (captures in the Theengs
    /// decoder's tests, `tests/BLE/test_ble.cpp`: SBDW-002C `44005d016405fc21002d013f9601`,
    /// SBBT-004CUS `44001d01643a003a013a003a00`).
    #[test]
    fn beacons_carry_the_real_devices_objects() {
        let ids = |code: &str| {
            let mut d = BluDevice::new(BluOptions {
                beacon: true,
                ..BluOptions::new(blu::model_by_code(code).unwrap())
            });
            let adv = d.advertisement(BEACON_INTERVAL_MS).unwrap();
            let data = &adv.service_data[&Uuid::BTHOME_V2];
            let packet = bthome::decode(Uuid::BTHOME_V2, data, None, None);
            packet.objects.iter().map(|o| o.id).collect::<Vec<u8>>()
        };
        assert_eq!(ids("SBDW-002C"), [0x00, 0x01, 0x05, 0x2D, 0x3F]);
        assert_eq!(ids("SBBT-004CUS"), [0x00, 0x01, 0x3A, 0x3A, 0x3A, 0x3A]);
        // A press of its first button (Theengs' `44001d01643a013a003a003a00`).
        let mut d = device("SBBT-004CUS");
        d.press(100, 0);
        let adv = d.advertisement(0).unwrap();
        let packet = bthome::decode(
            Uuid::BTHOME_V2,
            &adv.service_data[&Uuid::BTHOME_V2],
            None,
            None,
        );
        let buttons: Vec<&Reading> = packet.objects.iter().skip(2).map(|o| &o.value).collect();
        let [first, others @ ..] = buttons.as_slice() else {
            panic!("{packet:?}")
        };
        assert_eq!(**first, Reading::Button(0x01));
        assert_eq!(others.len(), 3);
        assert!(
            others.iter().all(|b| **b == Reading::Button(0x00)),
            "{others:?}"
        );
    }

    /// H&T ZB adds its temperature offset to what it reports.
    #[test]
    fn the_temperature_offset_shows_in_the_readings() {
        let temperature = |d: &mut BluDevice, now: u64| {
            let adv = d.advertisement(now).unwrap();
            let data = &adv.service_data[&Uuid::BTHOME_V2];
            let packet = bthome::decode(Uuid::BTHOME_V2, data, None, None);
            match packet
                .objects
                .iter()
                .find(|o| o.id == 0x45)
                .map(|o| &o.value)
            {
                Some(Reading::Float(t)) => *t,
                other => panic!("no temperature: {other:?}"),
            }
        };
        let mut d = device("SBHT-203C");
        // Emission 1 at 1 s: 20 °C + 0.7 °C.
        assert!((temperature(&mut d, 1_000) - 20.7).abs() < 1e-9);
        paired(&mut d, "phone", 1_000);
        d.write(
            Characteristic::TemperatureOffset,
            &(-25i16).to_le_bytes(),
            1_000,
        )
        .unwrap();
        // Emission 3 (the second was the pairing advertisement): 20 °C + 2.1 °C - 2.5 °C.
        assert!((temperature(&mut d, 1_000 + HT_INTERVAL_MS) - 19.6).abs() < 1e-9);
        assert_eq!(d.emissions, 3);
    }

    /// A demo's interval replaces the model's, but never makes a device with beacon mode off
    /// advertise.
    #[test]
    fn a_given_interval_replaces_the_models_only_while_it_advertises() {
        let motion = blu::model_by_code("SBMO-003Z").unwrap();
        let quick = |beacon| {
            let mut d = BluDevice::new(BluOptions {
                beacon,
                interval_ms: Some(3_000),
                ..BluOptions::new(motion)
            });
            (0..=10).filter_map(|s| d.advertisement(s * 1_000)).count()
        };
        assert!(quick(true) > 0);
        let mut d = BluDevice::new(BluOptions {
            beacon: true,
            interval_ms: Some(3_000),
            ..BluOptions::new(motion)
        });
        let first = d.advertisement(1_000);
        assert!(first.is_some());
        assert_ne!(d.advertisement(4_000), first, "a new beacon 3 s later");
        assert_eq!(quick(false), 0);
    }

    /// A device whose passkey was written before starts with a key, and encrypts.
    #[test]
    fn a_passkey_given_starts_the_device_encrypted() {
        let button = blu::model_by_code("SBBT-002C").unwrap();
        let mut d = BluDevice::new(BluOptions {
            passkey: Some(Passkey::new(123_456).unwrap()),
            ..BluOptions::new(button)
        });
        assert!(d.key().is_some_and(|k| k != [0; 16]));
        d.press(100, 0);
        let sent = d.advertisement(0).unwrap();
        assert_eq!(
            sent.service_data[&Uuid::BTHOME_V2][0] & 0x01,
            0x01,
            "{sent:?}"
        );
        assert!(BluDevice::new(BluOptions::new(button)).key().is_none());
    }

    #[test]
    fn options_add_and_remove_characteristics() {
        let motion = blu::model_by_code("SBMO-003Z").unwrap();
        let d = BluDevice::new(BluOptions {
            undocumented: true,
            without: alloc::vec![Characteristic::MotionLed],
            ..BluOptions::new(motion)
        });
        let e = d.exposed();
        assert!(e.has(Characteristic::SampleBthome));
        assert!(!e.has(Characteristic::MotionLed));
        assert!(e.has(Characteristic::FirmwareRevision));

        let door = blu::model_by_code("SBDW-002C").unwrap();
        let angle = Characteristic::AngleThreshold;
        assert!(!BluDevice::new(BluOptions::new(door)).exposed().has(angle));
        let d = BluDevice::new(BluOptions {
            undocumented: true,
            ..BluOptions::new(door)
        });
        assert!(d.exposed().has(angle));
    }
}

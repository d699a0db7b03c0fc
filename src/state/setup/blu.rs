//! The Shelly BLU flow: what the device has, its settings, encryption with a passkey and the key
//! stored as the sensor's bind key (with the MAC from its Shelly manufacturer data) in the app's
//! one bind-key store, so the Scan page decrypts at once; factory reset.
//!
//! The GATT work is the core's [`Operation`]s; this file only performs what they ask for.

use crate::state::actions::RunsActions as _;
use std::str::FromStr;

use bluehome_core::blu::{self, Characteristic, Exposed, Operation, Outcome, Passkey, Value};
use bluehome_core::bthome::BindKey;
use bluehome_core::gatt::{Action, Feedback};
use bluehome_core::shelly::models::Model;
use bluehome_core::shelly::{self, manufacturer};
use bluehome_core::{DeviceKey, MacAddress, Uuid};
use leptos::prelude::*;

use super::SetupSession;
use super::explain::SetupFailure;
use crate::ble::{BleBackend, BleError, GrantedDevice};
use crate::platform::sleep_ms;
use crate::state::model::KeyEntry;

/// How long to watch the device's advertisements for its MAC (Shelly BLU devices announce it in
/// their manufacturer data; the browser hides the address).
pub const MAC_WATCH_MS: u64 = 5_000;

/// The BLU flow's state.
#[derive(Debug, Clone, Copy)]
pub struct BluView {
    /// What the device exposes.
    pub exposed: RwSignal<Exposed>,
    /// Its product, when identified (its settings documented or not).
    pub model: RwSignal<Option<&'static Model>>,
    /// Its MAC (announced, or typed when the browser could not learn it).
    pub mac: RwSignal<Option<MacAddress>>,
    /// The settings read, each with its value or why there is none.
    pub values: RwSignal<Vec<(Characteristic, Result<Value, String>)>>,
    /// The bind key read from the device.
    pub key: RwSignal<Option<BindKey>>,
    /// The key was stored for the Scan page.
    pub key_stored: RwSignal<bool>,
    /// Encryption was on already (the key shown is the device's): a passkey written now would
    /// make a new key, which the person confirms first.
    pub rekey_armed: RwSignal<bool>,
    /// The factory reset asks for its confirmation.
    pub reset_armed: RwSignal<bool>,
    /// The factory reset was sent.
    pub reset_done: RwSignal<bool>,
    /// The passkey typed (kept while the page is left and come back to).
    pub passkey: RwSignal<String>,
    /// The MAC typed, where the browser could not learn it.
    pub mac_text: RwSignal<String>,
}

impl BluView {
    pub(super) fn new() -> Self {
        Self {
            exposed: RwSignal::new(Exposed::default()),
            model: RwSignal::new(None),
            mac: RwSignal::new(None),
            values: RwSignal::new(Vec::new()),
            key: RwSignal::new(None),
            key_stored: RwSignal::new(false),
            rekey_armed: RwSignal::new(false),
            reset_armed: RwSignal::new(false),
            reset_done: RwSignal::new(false),
            passkey: RwSignal::new(String::new()),
            mac_text: RwSignal::new(String::new()),
        }
    }

    pub(super) fn clear(&self) {
        self.exposed.set(Exposed::default());
        self.model.set(None);
        self.mac.set(None);
        self.values.set(Vec::new());
        self.key.set(None);
        self.key_stored.set(false);
        self.rekey_armed.set(false);
        self.reset_armed.set(false);
        self.reset_done.set(false);
        self.passkey.set(String::new());
        self.mac_text.set(String::new());
    }

    /// Whether the passkey may also be the PIN asked for when pairing (tracked): firmware before
    /// 1.0.23 uses it so (docs-ble/changelog). `Some(true)` when the revision read says so,
    /// `None` when the revision is unknown (not read, or not a version number), so the page
    /// cannot rule it out.
    pub fn passkey_is_pairing_pin(&self) -> Option<bool> {
        self.revision_says(blu::passkey_is_pairing_pin)
    }

    /// How the form writes this setting's number (tracked): the temperature offset always in
    /// tenths, the angle threshold in tenths on firmware before 1.0.23 (docs-ble/changelog).
    /// `None` where the unit depends on a firmware revision that could not be read.
    pub fn scale(&self, characteristic: Characteristic) -> Option<Scale> {
        match characteristic {
            Characteristic::TemperatureOffset => Some(Scale::Tenths),
            Characteristic::AngleThreshold => self
                .revision_says(blu::angle_threshold_in_tenths)
                .map(|tenths| if tenths { Scale::Tenths } else { Scale::Whole }),
            _ => Some(Scale::Whole),
        }
    }

    /// What the core makes of the firmware revision read (tracked).
    fn revision_says(&self, rule: fn(&str) -> Option<bool>) -> Option<bool> {
        self.values.with(|values| {
            values.iter().find_map(|(c, value)| match (c, value) {
                (Characteristic::FirmwareRevision, Ok(Value::Text(revision))) => rule(revision),
                _ => None,
            })
        })
    }
}

/// How a setting's number is shown and typed: as the device counts it, or, where it counts tenths
/// (of a °C, of a degree), with one decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// As the device counts it.
    Whole,
    /// The device counts tenths; the form shows and takes one decimal.
    Tenths,
}

fn gatt(c: Characteristic) -> crate::ble::Characteristic {
    crate::ble::Characteristic {
        service: c.info().service,
        uuid: c.uuid(),
    }
}

impl SetupSession {
    /// The device's key in the app's store: the browser's id, as the Scan page keys it.
    fn blu_key(self) -> Option<DeviceKey> {
        self.device_id().and_then(|id| id.as_str().parse().ok())
    }

    pub(super) async fn blu_start(
        self,
        device: GrantedDevice,
        settings: Vec<Uuid>,
    ) -> Result<(), SetupFailure> {
        let info = self
            .discover(blu::DEVICE_INFORMATION_SERVICE)
            .await?
            .unwrap_or_default();
        let exposed = Exposed::from_uuids(settings.into_iter().chain(info));
        self.blu.exposed.set(exposed);
        self.step("Learning its MAC and model from its Shelly advertisement");
        let (mac, mfd) = self.blu_identity().await;
        self.blu.mac.set(mac);
        self.blu
            .model
            .set(blu::identify(mfd.as_ref(), device.name.as_deref()));
        self.step("Reading its settings (no pairing needed)");
        let outcome = self
            .drive_blu(Operation::read_settings(&exposed), "reading settings")
            .await?;
        if let Outcome::Values(values) = outcome {
            self.blu.values.set(
                values
                    .into_iter()
                    .map(|(c, v)| (c, v.map_err(|e| e.to_string())))
                    .collect(),
            );
        }
        self.step_done();
        Ok(())
    }

    /// The product of a device about to be set up, from what the store heard of it and its name,
    /// so that advice on pairing mode fits it even before it is connected.
    pub(super) fn blu_guess_model(self, device: &GrantedDevice) {
        let heard = self.blu_key().map(|key| self.blu_heard(&key));
        let mfd = heard.and_then(|(_, mfd)| mfd);
        self.blu
            .model
            .set(blu::identify(mfd.as_ref(), device.name.as_deref()));
    }

    /// The MAC and Shelly manufacturer data the store heard from this device.
    fn blu_heard(
        self,
        key: &DeviceKey,
    ) -> (Option<MacAddress>, Option<manufacturer::ManufacturerData>) {
        self.store
            .model_untracked(|m| {
                let manager = m.manager();
                let mfd = manager
                    .device(key)
                    .and_then(|d| d.info())
                    .and_then(|i| i.data.manufacturer_data.get(&shelly::COMPANY_ID).cloned())
                    .map(|bytes| manufacturer::parse(&bytes));
                let mac = manager
                    .announced_mac(key)
                    .or_else(|| mfd.as_ref().and_then(|m| m.mac))
                    .or(key.mac());
                (mac, mfd)
            })
            .unwrap_or((key.mac(), None))
    }

    /// [`Self::blu_heard`], watching the device's advertisements for a while when nothing was
    /// heard yet (and the browser can watch).
    async fn blu_identity(self) -> (Option<MacAddress>, Option<manufacturer::ManufacturerData>) {
        let Some(key) = self.blu_key() else {
            return (None, None);
        };
        let look = || self.blu_heard(&key);
        let found = look();
        if found.0.is_some() && found.1.is_some() {
            return found;
        }
        let Some(device) = self.device.get_untracked() else {
            return found;
        };
        // The watch stays on, listed with the Scan page's watches: the page keeps receiving this
        // sensor, and its watch is re-armed with theirs when Chrome drops them (page hidden).
        if !self.backend().capabilities().watch_advertisements
            || self.store.watch_listed(device).await.is_err()
        {
            return found;
        }
        for _ in 0..MAC_WATCH_MS / 100 {
            sleep_ms(100).await;
            let found = look();
            if found.0.is_some() && found.1.is_some() {
                return found;
            }
        }
        look()
    }

    /// Sets the MAC typed by the person (when the browser could not learn it).
    pub fn blu_set_mac(self, text: &str) -> Result<(), String> {
        let mac = MacAddress::from_str(text.trim()).map_err(|e| format!("MAC: {e}"))?;
        self.blu.mac.set(Some(mac));
        // A key read before the MAC was known is stored now.
        if !self.blu.key_stored.get_untracked() {
            self.blu_store_key();
        }
        Ok(())
    }

    /// Performs an operation's GATT reads and writes, one at a time; a failure is explained.
    async fn drive_blu(self, op: Operation, during: &str) -> Result<Outcome, SetupFailure> {
        self.perform_blu(op)
            .await
            .map_err(|(e, ble)| self.blu_failure(&e, ble.as_ref(), during))
    }

    /// Performs an operation's GATT reads and writes, one at a time; a failure comes with the
    /// browser's error behind it, if a GATT operation failed.
    async fn perform_blu(
        self,
        mut op: Operation,
    ) -> Result<Outcome, (blu::Error, Option<BleError>)> {
        let mut last_error: Option<BleError> = None;
        loop {
            let result = match op.action() {
                Action::Read { characteristic } => self.read(gatt(characteristic)).await.map(Some),
                Action::Write {
                    characteristic,
                    value,
                } => {
                    let value = value.to_vec();
                    self.write(gatt(characteristic), &value)
                        .await
                        .map(|()| None)
                }
                Action::Sleep { .. } | Action::Done => break,
            };
            match result {
                Ok(Some(bytes)) => op.advance(Feedback::Read(&bytes)),
                Ok(None) => op.advance(Feedback::Written),
                Err(e) => {
                    op.advance(Feedback::Failed(e.kind.att_error()));
                    last_error = Some(e);
                }
            }
        }
        op.finish().map_err(|e| (e, last_error))
    }

    fn blu_failure(self, error: &blu::Error, ble: Option<&BleError>, during: &str) -> SetupFailure {
        SetupFailure::blu(
            error,
            ble,
            during,
            self.os.get_untracked(),
            self.blu.model.get_untracked(),
            self.blu.mac.get_untracked(),
        )
    }

    /// Turns encryption on with `passkey` (text from the form), reads the new key and stores it
    /// as the sensor's bind key. A device whose encryption is on already keeps its key until the
    /// person confirms a new one ([`BluView::rekey_armed`]): each passkey written makes a new key
    /// (docs-ble/encryption), and every receiver holding the old one stops decoding.
    pub fn blu_enable_encryption(self, passkey: &str) {
        let passkey = match Passkey::from_str(passkey.trim()) {
            Ok(p) => p,
            Err(e) => {
                return self.refuse(SetupFailure::new(
                    "Not a passkey",
                    "Enter 1 to 6 digits (0 to 999999).",
                    "turning encryption on",
                    e.to_string(),
                ));
            }
        };
        let confirmed = self.blu.rekey_armed.get_untracked();
        self.blu.rekey_armed.set(false);
        self.steps.set(Vec::new());
        self.run("Turn encryption on", move |s| async move {
            let during = "turning encryption on";
            let exposed = s.blu.exposed.get_untracked();
            if !confirmed {
                s.step("Reading the key, to see whether encryption is on already");
                let op = Operation::read_key(&exposed).map_err(|e| s.blu_failure(&e, None, during))?;
                match s.perform_blu(op).await {
                    Ok(outcome) => {
                        s.blu_keep_key(outcome);
                        s.blu.rekey_armed.set(true);
                        return Ok(());
                    }
                    Err((blu::Error::KeyNotSet, _)) => s.step_done(),
                    Err((e, ble)) => return Err(s.blu_failure(&e, ble.as_ref(), during)),
                }
            }
            s.step(
                "Writing the passkey (turns BTHome encryption on and makes a new key), then reading the key",
            );
            let op = Operation::enable_encryption(&exposed, passkey)
                .map_err(|e| s.blu_failure(&e, None, during))?;
            let outcome = s.drive_blu(op, during).await?;
            s.blu_keep_key(outcome);
            Ok(())
        });
    }

    /// Reads the current key and stores it as the bind key.
    pub fn blu_read_key(self) {
        self.steps.set(Vec::new());
        self.run("Read the key", |s| async move {
            s.step("Reading the encryption key");
            let op = Operation::read_key(&s.blu.exposed.get_untracked())
                .map_err(|e| s.blu_failure(&e, None, "reading the key"))?;
            let outcome = s.drive_blu(op, "reading the key").await?;
            s.blu_keep_key(outcome);
            Ok(())
        });
    }

    /// Shows the key read, and stores it for the Scan page once the MAC is known.
    fn blu_keep_key(self, outcome: Outcome) {
        let Outcome::Key(bytes) = outcome else {
            return;
        };
        self.blu.key.set(Some(BindKey::new(bytes)));
        if self.blu.mac.get_untracked().is_some() {
            self.step("Storing the key as this sensor's bind key (the Scan page decrypts with it)");
            self.blu_store_key();
        }
        self.step_done();
    }

    /// Stores the key shown as this sensor's bind key, with its MAC: BTHome's nonce holds the
    /// MAC, so without it the Scan page could not decrypt (the person may type it later).
    fn blu_store_key(self) {
        let (Some(bindkey), Some(mac), Some(key)) = (
            self.blu.key.get_untracked(),
            self.blu.mac.get_untracked(),
            self.blu_key(),
        ) else {
            return;
        };
        self.store.set_key(
            &key,
            Some(KeyEntry {
                bindkey,
                mac: Some(mac),
            }),
        );
        self.blu.key_stored.set(true);
    }

    /// Writes one setting (read back by the operation).
    pub fn blu_write(self, characteristic: Characteristic, value: Value) {
        self.steps.set(Vec::new());
        self.run("Change a setting", move |s| {
            let value = value.clone();
            async move {
                s.step(format!("Writing {}", characteristic.info().label));
                let op = Operation::write(&s.blu.exposed.get_untracked(), characteristic, value)
                    .map_err(|e| s.blu_failure(&e, None, "writing a setting"))?;
                if let Outcome::Written {
                    characteristic,
                    value,
                } = s.drive_blu(op, "writing a setting").await?
                {
                    s.blu.values.update(|values| {
                        for (c, v) in values.iter_mut() {
                            if *c == characteristic {
                                *v = Ok(value.clone());
                            }
                        }
                    });
                }
                s.step_done();
                Ok(())
            }
        });
    }

    /// Factory reset: the first call asks for confirmation, the second sends it.
    pub fn blu_factory_reset(self) {
        if !self.blu.reset_armed.get_untracked() {
            self.blu.reset_armed.set(true);
            return;
        }
        self.blu.reset_armed.set(false);
        self.steps.set(Vec::new());
        self.run("Factory reset", |s| async move {
            s.step("Sending the factory reset");
            let op = Operation::factory_reset(&s.blu.exposed.get_untracked())
                .map_err(|e| s.blu_failure(&e, None, "factory reset"))?;
            s.drive_blu(op, "factory reset").await?;
            // Encryption is off and any key void, this session's or one stored before: the Scan
            // page reads plaintext again (with a key kept, it would refuse it as a downgrade).
            if let Some(key) = s.blu_key() {
                s.store.set_key(&key, None);
            }
            s.blu.key.set(None);
            s.blu.key_stored.set(false);
            s.blu.rekey_armed.set(false);
            // The device restarts and drops the link: what was read of it no longer holds.
            s.blu.values.set(Vec::new());
            s.blu.exposed.set(Exposed::default());
            if let Some(id) = s.device_id() {
                s.backend().disconnect(&id);
            }
            s.blu.reset_done.set(true);
            s.step_done();
            Ok(())
        });
    }
}

/// A setting's new value from a number typed in its form, in the unit the page shows it in
/// ([`show`]: with one decimal where the device counts tenths, else whole) and the width the
/// device uses for it (`current`'s): refused out of the characteristic's range in the words of the
/// field's label, then checked by the core's decoder.
pub fn setting_from_text(
    characteristic: Characteristic,
    scale: Scale,
    current: &Value,
    text: &str,
) -> Result<Value, String> {
    let label = characteristic.info().label;
    let text = text.trim();
    let number: i64 = if scale == Scale::Tenths {
        let typed: f64 = text
            .parse()
            .ok()
            .filter(|d: &f64| d.is_finite())
            .ok_or_else(|| format!("{label}: enter a number, e.g. 1.5"))?;
        let tenths = (typed * 10.0).round();
        if (typed * 10.0 - tenths).abs() > 1e-6 {
            return Err(format!("{label}: one decimal at most (0.1 steps)"));
        }
        // Saturating: anything beyond i64 is out of range below all the same.
        tenths as i64
    } else {
        text.parse()
            .map_err(|_| format!("{label}: enter a whole number"))?
    };
    // Checked here, in the unit typed, so that the error says the range the label says.
    let out_of_range = || {
        let range = range_text(characteristic, scale);
        format!("{label}: {text} is out of range ({range})")
    };
    if characteristic
        .range()
        .is_some_and(|(min, max)| !(min..=max).contains(&number))
    {
        return Err(out_of_range());
    }
    let width = characteristic
        .encode(current)
        .map_err(|e| e.to_string())?
        .len();
    let bytes = match width {
        1 => vec![u8::try_from(number).map_err(|_| out_of_range())?],
        2 if characteristic == Characteristic::TemperatureOffset => i16::try_from(number)
            .map_err(|_| out_of_range())?
            .to_le_bytes()
            .to_vec(),
        2 => u16::try_from(number)
            .map_err(|_| out_of_range())?
            .to_le_bytes()
            .to_vec(),
        _ => return Err(format!("{label}: not a number setting")),
    };
    characteristic.decode(&bytes).map_err(|e| e.to_string())
}

/// A setting's range as the form takes it (empty when it has none).
pub fn range_text(characteristic: Characteristic, scale: Scale) -> String {
    let unit = match characteristic {
        Characteristic::TemperatureOffset => " °C",
        Characteristic::AngleThreshold => "°",
        _ => "",
    };
    match (characteristic.range(), scale) {
        // A step means nothing without its delay: "0 to 5: 800 to 55 ms", slowest first.
        (Some((min, max)), _) if characteristic == Characteristic::MultiClickSpeed => {
            let [slowest, .., fastest] = blu::ClickSpeed::DELAYS_MS;
            format!("{min} to {max}: {slowest} to {fastest} ms")
        }
        (Some((min, max)), Scale::Tenths) => {
            format!("{:.1} to {:.1}{unit}", min as f64 / 10.0, max as f64 / 10.0)
        }
        (Some((min, max)), Scale::Whole) => format!("{min} to {max}{unit}"),
        (None, _) => String::new(),
    }
}

/// A value as a person reads it, the angle threshold in the `scale` the firmware counts it in.
pub fn show(value: &Value, scale: Scale) -> String {
    match value {
        Value::Switch(on) => if *on { "on" } else { "off" }.to_owned(),
        Value::ClickSpeed(speed) => format!("{} ({} ms)", speed.step(), speed.delay_ms()),
        Value::Angle(a) if scale == Scale::Tenths => format!("{:.1}°", f64::from(*a) / 10.0),
        Value::Angle(a) => format!("{a}°"),
        Value::Sensitivity(s) => format!("{s:?}").to_lowercase(),
        Value::Count(n) => n.to_string(),
        Value::Ranges(r) => format!("mask {:#04x}", r.mask()),
        Value::Seconds(s) => format!("{s} s"),
        Value::TenthsCelsius(t) => format!("{:.1} °C", f64::from(*t) / 10.0),
        Value::Text(text) => bluehome_core::text::printable(text).into_owned(),
        Value::Bytes(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        Value::Key(Some(_)) => "set".to_owned(),
        Value::Key(None) => "none".to_owned(),
        Value::Passkey(_) | Value::Trigger => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_settings_are_checked_in_the_unit_shown_and_the_device_width() {
        let click = Characteristic::MultiClickSpeed;
        let current = click.decode(&[2]).unwrap();
        assert_eq!(
            setting_from_text(click, Scale::Whole, &current, "4"),
            click.decode(&[4]).map_err(|e| e.to_string())
        );
        assert_eq!(
            setting_from_text(click, Scale::Whole, &current, " 9 "),
            Err("Multi-click speed: 9 is out of range (0 to 5: 800 to 55 ms)".into())
        );
        assert!(setting_from_text(click, Scale::Whole, &current, "-1").is_err());
        assert!(setting_from_text(click, Scale::Whole, &current, "fast").is_err());
        let offset = Characteristic::TemperatureOffset;
        let zero = offset.decode(&[0, 0]).unwrap();
        // Typed in °C as shown, written in tenths; 0.1 °C steps within i16 tenths.
        for (typed, tenths) in [
            ("-1.5", Some(-15)),
            ("2", Some(20)),
            ("0.25", None),
            ("4000", None),
            ("NaN", None),
        ] {
            assert_eq!(
                setting_from_text(offset, Scale::Tenths, &zero, typed).ok(),
                tenths.map(Value::TenthsCelsius),
                "{typed}"
            );
        }
        assert_eq!(range_text(offset, Scale::Tenths), "-3276.8 to 3276.7 °C");
        assert_eq!(
            range_text(Characteristic::MultiClickSpeed, Scale::Whole),
            "0 to 5: 800 to 55 ms"
        );
        let interval = Characteristic::MeasureInterval;
        let thirty = interval.decode(&30u16.to_le_bytes()).unwrap();
        assert_eq!(
            setting_from_text(interval, Scale::Whole, &thirty, "120"),
            Ok(Value::Seconds(120))
        );
        assert!(
            setting_from_text(interval, Scale::Whole, &thirty, "2").is_err(),
            "5..=300 s"
        );
    }

    /// Firmware before 1.0.23 counts the Door/Window's angle threshold in tenths of a degree
    /// (docs-ble/changelog): the form shows and takes degrees either way.
    #[test]
    fn the_angle_threshold_is_shown_and_typed_in_degrees_on_either_firmware() {
        let angle = Characteristic::AngleThreshold;
        let current = Value::Angle(50);
        assert_eq!(show(&current, Scale::Whole), "50°");
        assert_eq!(show(&current, Scale::Tenths), "5.0°");
        assert_eq!(
            setting_from_text(angle, Scale::Tenths, &current, "2.5"),
            Ok(Value::Angle(25))
        );
        assert_eq!(
            setting_from_text(angle, Scale::Whole, &current, "25"),
            Ok(Value::Angle(25))
        );
        assert_eq!(
            setting_from_text(angle, Scale::Tenths, &current, "30"),
            Err("Angle report threshold: 30 is out of range (0.0 to 25.5°)".to_owned())
        );
        assert!(setting_from_text(angle, Scale::Whole, &current, "2.5").is_err());
    }

    #[test]
    fn the_firmware_revision_read_decides_the_angle_scale() {
        let owner = Owner::new();
        owner.set();
        let view = BluView::new();
        let angle = Characteristic::AngleThreshold;
        assert_eq!(view.scale(angle), None, "no revision read yet");
        assert_eq!(view.passkey_is_pairing_pin(), None, "no revision read yet");
        assert_eq!(
            view.scale(Characteristic::TemperatureOffset),
            Some(Scale::Tenths)
        );
        for (revision, scale) in [("1.0.22", Scale::Tenths), ("1.0.23", Scale::Whole)] {
            view.values.set(vec![(
                Characteristic::FirmwareRevision,
                Ok(Value::Text(revision.into())),
            )]);
            assert_eq!(view.scale(angle), Some(scale), "{revision}");
            assert_eq!(
                view.passkey_is_pairing_pin(),
                Some(scale == Scale::Tenths),
                "{revision}: PIN bonding ended with 1.0.23"
            );
        }
    }

    /// The next device set up starts from nothing: none of the last one's key, MAC, values or
    /// confirmations carries over.
    #[test]
    fn clearing_forgets_the_last_device() {
        let owner = Owner::new();
        owner.set();
        let view = BluView::new();
        view.exposed
            .set(Exposed::from_uuids([Characteristic::BeaconMode.uuid()]));
        view.model
            .set(bluehome_core::shelly::models::MODELS.first());
        view.mac.set("aa:bb:cc:dd:ee:ff".parse().ok());
        view.values
            .set(vec![(Characteristic::BeaconMode, Ok(Value::Switch(true)))]);
        view.key
            .set("231d39c1d7cc1ab1aee224cd096db932".parse().ok());
        view.passkey.set("123456".to_owned());
        view.mac_text.set("aa:bb".to_owned());
        for armed in [
            view.key_stored,
            view.rekey_armed,
            view.reset_armed,
            view.reset_done,
        ] {
            armed.set(true);
        }
        view.clear();
        assert_eq!(view.exposed.get_untracked(), Exposed::default());
        assert!(view.model.get_untracked().is_none());
        assert_eq!(view.mac.get_untracked(), None);
        assert!(view.values.get_untracked().is_empty());
        assert!(view.key.get_untracked().is_none());
        assert!(view.passkey.get_untracked().is_empty());
        assert!(view.mac_text.get_untracked().is_empty());
        for armed in [
            view.key_stored,
            view.rekey_armed,
            view.reset_armed,
            view.reset_done,
        ] {
            assert!(!armed.get_untracked());
        }
    }
}

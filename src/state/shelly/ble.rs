//! Bluetooth on the device: RPC over Bluetooth on or off, the pairing window and the bonds, and
//! `BLE.AdvertiseOnce` with BTHome objects composed through the core encoder.

use crate::state::actions::RunsActions as _;
use bluehome_core::ad::AdStructure;
use bluehome_core::bthome::{self, Kind, OBJECTS, Object, ObjectInfo, Value as Reading};
use bluehome_core::shelly::methods::Method;
use bluehome_core::shelly::methods::ble::{self, AdvertiseOnceParams, PairedDevice};
use bluehome_core::shelly::methods::events::Event;
use bluehome_core::uuid::Uuid;
use leptos::prelude::*;

use super::ShellySession;
use super::explain::{Failure, FailureKind, FormField, typed_seconds};
use crate::platform::{monotonic_ms, sleep_ms};

/// The pairing windows the page opens: long enough to walk to the other phone or computer (the
/// device's own default is 180 s, `BLE.StartPairing` in shelly-api-docs), short enough that a
/// forgotten window does not stay open for long.
pub const PAIRING_SECONDS: std::ops::RangeInclusive<u32> = 10..=600;

/// How often an open pairing window is watched for new bonds.
pub const WATCH_PAIRING_EVERY_MS: u64 = 2_000;

/// What the Bluetooth panel shows (the RPC switch, the bonds, the pairing window) and what was
/// typed into it.
#[derive(Debug, Clone, Copy)]
pub struct BleSettings {
    /// RPC over Bluetooth, once read.
    pub rpc_enabled: RwSignal<Option<bool>>,
    /// The bonded clients.
    pub paired: RwSignal<Vec<PairedDevice>>,
    /// When the pairing window closes (ms since the epoch), while it is open.
    pub pairing_until: RwSignal<Option<u64>>,
    /// How long to open the pairing window for, as typed.
    pub pairing_seconds: RwSignal<String>,
    /// The "Advertise once" composer's.
    pub composer: Composer,
}

impl Default for BleSettings {
    fn default() -> Self {
        Self {
            rpc_enabled: RwSignal::default(),
            paired: RwSignal::default(),
            pairing_until: RwSignal::default(),
            pairing_seconds: RwSignal::new("180".to_owned()),
            composer: Composer::default(),
        }
    }
}

/// What was typed into the "Advertise once" composer: BTHome objects with their values, or raw
/// advertising data.
#[derive(Debug, Clone, Copy)]
pub struct Composer {
    /// The objects, in order.
    pub rows: RwSignal<Vec<Row>>,
    /// The advertising data as hex.
    pub raw: RwSignal<String>,
    /// Whether the raw data is sent rather than the objects.
    pub use_raw: RwSignal<bool>,
}

impl Default for Composer {
    fn default() -> Self {
        Self {
            rows: RwSignal::new(vec![Row {
                id: 0x02,
                value: "21.5".into(),
            }]),
            raw: RwSignal::default(),
            use_raw: RwSignal::default(),
        }
    }
}

impl BleSettings {
    /// Forgets what was read (another device connected); what was typed is not one device's and
    /// stays.
    pub(super) fn clear(self) {
        self.rpc_enabled.set(None);
        self.paired.set(Vec::new());
        self.pairing_until.set(None);
    }

    /// Reads the RPC switch and the bonds.
    pub fn load(self, session: ShellySession) {
        session.run("Bluetooth settings", move |s| async move {
            s.step("Reading the Bluetooth settings (BLE.GetConfig)");
            let config = s.call::<ble::GetConfig>(&()).await?;
            self.rpc_enabled.try_set(config.rpc.map(|rpc| rpc.enable));
            s.step("Listing paired devices (BLE.ListPairedDevices)");
            self.read_bonds(s).await?;
            s.step_done();
            Ok(())
        });
    }

    async fn read_bonds(self, s: ShellySession) -> Result<(), Failure> {
        let list = s.call::<ble::ListPairedDevices>(&()).await?;
        self.paired.try_set(list.0);
        Ok(())
    }

    /// Turns RPC over Bluetooth on or off. Firmware saves the switch and applies it after a
    /// restart when it answers `restart_required` (shelly-api-docs, BLE component, the
    /// BLE.SetConfig example): turned on, the device restarts and the page reconnects; turned
    /// off, it restarts and the page leaves it, as from then on it refuses RPC over Bluetooth.
    pub fn set_rpc(self, session: ShellySession, enable: bool) {
        session.run("RPC over Bluetooth", move |s| async move {
            s.step(format!(
                "{} RPC over Bluetooth (BLE.SetConfig)",
                if enable { "Turning on" } else { "Turning off" }
            ));
            let answer = s
                .call::<ble::SetConfig>(&ble::SetConfigParams::rpc(enable))
                .await?;
            self.rpc_enabled.try_set(Some(enable));
            if answer.restart_required {
                s.restart_to_apply(enable).await?;
            }
            s.step_done();
            Ok(())
        });
    }

    /// Opens the pairing window for the seconds typed (refused outside [`PAIRING_SECONDS`]), and
    /// watches it for new bonds.
    pub fn start_pairing(self, session: ShellySession, typed_secs: &str) {
        let field = FormField::PairingSeconds;
        let secs = match typed_seconds(
            field,
            "opening the pairing window",
            typed_secs,
            PAIRING_SECONDS,
        ) {
            Ok(secs) => secs,
            Err(refusal) => return session.refuse(refusal),
        };
        session.run("Start pairing", move |s| async move {
            s.step(format!(
                "Opening the pairing window for {secs} s (BLE.StartPairing)"
            ));
            let answer = s
                .call::<ble::StartPairing>(&ble::StartPairingParams {
                    timeout: Some(secs),
                })
                .await?;
            // The window the device reports, no longer than the one asked for (a device saying
            // more would keep the page polling the link for as long as it claims).
            let granted = answer.timeout.unwrap_or(secs).min(secs);
            let until = monotonic_ms().saturating_add(u64::from(granted) * 1000);
            self.pairing_until.try_set(Some(until));
            s.step_done();
            leptos::task::spawn_local(self.watch_pairing(s, until));
            Ok(())
        });
    }

    /// Closes the pairing window.
    pub fn stop_pairing(self, session: ShellySession) {
        session.run("Stop pairing", move |s| async move {
            s.step("Closing the pairing window (BLE.StopPairing)");
            s.call::<ble::StopPairing>(&()).await?;
            self.pairing_until.try_set(None);
            s.step_done();
            Ok(())
        });
    }

    /// Removes the bond with `addr`.
    pub fn delete(self, session: ShellySession, addr: String) {
        session.run("Delete paired device", move |s| {
            let addr = addr.clone();
            async move {
                s.step(format!(
                    "Deleting the bond with {addr} (BLE.DeletePairedDevice)"
                ));
                s.call::<ble::DeletePairedDevice>(&ble::DeletePairedDeviceParams { addr })
                    .await?;
                self.read_bonds(s).await?;
                s.step_done();
                Ok(())
            }
        });
    }

    /// While the pairing window closing at `until` is open, reads the device's events every 2 s
    /// and refreshes the bonds when a device pairs (`paired_device_added`) or is removed; one
    /// last look after the window closed by itself catches a bond of its final seconds. A window
    /// stopped (or replaced by a new one) is not looked at again.
    async fn watch_pairing(self, s: ShellySession, until: u64) {
        let is_bond_event = |e: &Event| {
            matches!(
                e,
                Event::PairedDeviceAdded(_) | Event::PairedDeviceRemoved(_)
            )
        };
        let mut seen = s.events_seen();
        loop {
            sleep_ms(WATCH_PAIRING_EVERY_MS).await;
            let stopped = self.pairing_until.try_get_untracked().flatten() != Some(until);
            if stopped || s.link().is_none() || s.listen().await.is_err() {
                break;
            }
            if s.event_since(seen, is_bond_event) {
                seen = s.events_seen();
                let _ = self.read_bonds(s).await;
            }
            if monotonic_ms() >= until {
                break;
            }
        }
    }
}

/// Sends one advertisement (`BLE.AdvertiseOnce`) of these AD structures (or explains why the
/// composed data cannot go out).
pub fn advertise_once(session: ShellySession, adv_data: Result<Vec<u8>, String>) {
    let params =
        adv_data.and_then(|b| AdvertiseOnceParams::new(&b, None).map_err(|e| e.to_string()));
    let params = match params {
        Ok(params) => params,
        Err(e) => {
            return session.refuse(Failure::new(
                FailureKind::Refused,
                ble::AdvertiseOnce::NAME,
                e,
            ));
        }
    };
    session.run("Advertise once", move |s| {
        let params = params.clone();
        async move {
            s.step("Advertising once (BLE.AdvertiseOnce)");
            s.call::<ble::AdvertiseOnce>(&params).await?;
            s.step_done();
            Ok(())
        }
    });
}

/// Wraps a BTHome v2 payload in its service-data AD structure (UUID 0xFCD2).
pub fn bthome_ad(payload: &[u8]) -> Result<Vec<u8>, String> {
    let mut ad = Vec::new();
    AdStructure::ServiceData {
        uuid: Uuid::BTHOME_V2,
        width: 2,
        data: payload,
    }
    .encode_to_vec(&mut ad)
    .map_err(|e| e.to_string())?;
    Ok(ad)
}

/// Objects the composer offers: numeric sensors, binary sensors and the button.
pub fn composable() -> impl Iterator<Item = &'static ObjectInfo> {
    OBJECTS
        .iter()
        .filter(|o| matches!(o.kind, Kind::Number | Kind::Binary | Kind::Button) && o.id != 0x00)
}

/// One composed object: its id and the value as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The BTHome object id.
    pub id: u8,
    /// The value as typed (a number; 0/1 for binary; an event code for the button).
    pub value: String,
}

/// Encodes composed rows as a BTHome v2 payload with the core encoder.
pub fn encode_rows(rows: &[Row]) -> Result<Vec<u8>, String> {
    let mut objects = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let info = bthome::info(row.id).ok_or_else(|| format!("object {}: unknown id", i + 1))?;
        let number: f64 = row.value.trim().parse().map_err(|_| {
            format!(
                "object {} ({}): \"{}\" is not a number",
                i + 1,
                info.name,
                row.value
            )
        })?;
        let value = match info.kind {
            Kind::Binary => Reading::Bool(number != 0.0),
            Kind::Button => Reading::Button(
                u8::try_from(number as i64)
                    .map_err(|_| format!("object {}: event code 0–255", i + 1))?,
            ),
            // The encoder scales and rounds to the object's resolution (half away from zero).
            _ => Reading::Float(number),
        };
        objects.push(Object::new(row.id, value));
    }
    objects.sort_by_key(|o| o.id);
    let trigger = objects.iter().any(|o| o.id == 0x3A);
    bthome::encode_v2(&objects, trigger, None, None).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use bluehome_core::shelly::methods::ble::{MAX_ADV_DATA, check_ad_data};

    use super::*;

    #[test]
    fn bthome_payload_is_wrapped_in_fcd2_service_data() {
        // Temperature 25.06 °C, bthome.io/format example.
        let ad = bthome_ad(&[0x40, 0x02, 0xca, 0x09]).unwrap();
        assert_eq!(ad, [0x07, 0x16, 0xD2, 0xFC, 0x40, 0x02, 0xca, 0x09]);
        assert_eq!(check_ad_data(&ad, MAX_ADV_DATA), Ok(()));
    }

    /// The composer offers what a typed number makes: sensors, binary sensors and the button;
    /// not the packet id (the encoder's to set) nor objects with bytes of their own (text, raw,
    /// the dimmer's steps, commands, timestamps, device ids, firmware).
    #[test]
    fn the_composer_offers_numbers_binaries_and_the_button() {
        let offered: Vec<u8> = composable().map(|o| o.id).collect();
        // Temperature, humidity, generic boolean, button.
        for id in [0x02, 0x03, 0x0F, 0x3A] {
            assert!(offered.contains(&id), "{id:#04x} is offered");
        }
        assert!(!offered.contains(&0x00), "the packet id is not offered");
        for id in [0x3B, 0x3C, 0x50, 0x53, 0x54, 0xF0, 0xF1] {
            assert!(!offered.contains(&id), "{id:#04x} is not offered");
        }
    }

    #[test]
    fn composed_objects_go_through_the_core_encoder() {
        // Temperature 25.06 °C and humidity 50.55 %, the bthome.io/format example bytes.
        let rows = [
            Row {
                id: 0x03,
                value: "50.55".into(),
            },
            Row {
                id: 0x02,
                value: "25.06".into(),
            },
        ];
        assert_eq!(
            encode_rows(&rows),
            Ok(vec![0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13])
        );
        let press = [Row {
            id: 0x3A,
            value: "1".into(),
        }];
        assert_eq!(
            encode_rows(&press),
            Ok(vec![0x44, 0x3A, 0x01]),
            "button packets are trigger-based"
        );
        assert!(
            encode_rows(&[Row {
                id: 0x02,
                value: "warm".into()
            }])
            .unwrap_err()
            .contains("not a number")
        );
        // A whole-number object takes the nearest whole number (count: 2.5 goes out as 3).
        let count = [Row {
            id: 0x09,
            value: "2.5".into(),
        }];
        assert_eq!(encode_rows(&count), Ok(vec![0x40, 0x09, 0x03]));
        // A binary sensor is on for any number but zero, and goes out as 1 (generic boolean).
        let on = [Row {
            id: 0x0F,
            value: "0.4".into(),
        }];
        assert_eq!(encode_rows(&on), Ok(vec![0x40, 0x0F, 0x01]));
        // A button's event code is one byte.
        let too_big = [Row {
            id: 0x3A,
            value: "300".into(),
        }];
        assert_eq!(
            encode_rows(&too_big),
            Err("object 1: event code 0–255".to_owned())
        );
    }
}

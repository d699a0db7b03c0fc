//! `BLE.*`: RPC over Bluetooth on or off, bonding with its pairing window, `BLE.AdvertiseOnce`
//! and `BLE.StartAssociations`.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use serde_json::json;

use super::{Answer, Gateway, Route, Window, route, rpc_error};
use crate::shelly::frame::RpcError;
use crate::shelly::methods::ErrorCode;
use crate::shelly::methods::ble::{
    AdvertiseOnce, AdvertiseOnceParams, BleConfig, BleStatus, DeletePairedDevice,
    DeletePairedDeviceParams, GetConfig, GetStatus, ListPairedDevices, PairedDevice, PairedDevices,
    PairingStatus, RpcConfig, SetConfig, SetConfigParams, StartAssociations,
    StartAssociationsParams, StartPairing, StartPairingParams, StartPairingResult, StopPairing,
};
use crate::shelly::methods::shelly::SetConfigResult;

pub(super) const ROUTES: &[Route] = &[
    route::<GetConfig>(),
    route::<SetConfig>(),
    route::<GetStatus>(),
    route::<StartPairing>(),
    route::<StopPairing>(),
    route::<ListPairedDevices>(),
    route::<DeletePairedDevice>(),
    route::<AdvertiseOnce>(),
    route::<StartAssociations>(),
];

/// A user advertisement from `BLE.AdvertiseOnce`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAdvert {
    /// AD structures (without the Flags AD).
    pub adv_data: Vec<u8>,
    /// Scan response.
    pub scan_rsp: Option<Vec<u8>>,
    /// When it stops (about 3 s after the call).
    pub until_ms: u64,
}

/// Why [`Gateway::bond`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BondError {
    /// Pairing is neither enabled (`BLE.StartPairing`) nor in the set-up window.
    NotPairable,
    /// All bond slots are taken.
    Full,
}

impl core::fmt::Display for BondError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::NotPairable => "pairing is not enabled (call BLE.StartPairing first)",
            Self::Full => "the bond list is full (20 bonds)",
        })
    }
}

impl core::error::Error for BondError {}

impl Gateway {
    /// True while `BLE.StartPairing`'s window is open.
    pub fn pairing_open(&self, now_ms: u64) -> bool {
        self.pairing.as_ref().is_some_and(|w| now_ms < w.end_ms())
    }

    /// True when `client` is bonded.
    pub fn is_bonded(&self, client: &str) -> bool {
        self.bonds
            .iter()
            .any(|b| b.addr.eq_ignore_ascii_case(client))
    }

    /// The bonds.
    pub fn bonds(&self) -> &[PairedDevice] {
        &self.bonds
    }

    /// The current `BLE.AdvertiseOnce` advertisement, while it lasts.
    pub fn user_advert(&self, now_ms: u64) -> Option<&UserAdvert> {
        self.user_advert.as_ref().filter(|a| now_ms < a.until_ms)
    }

    /// Bonds `client` (Just Works). Allowed while the pairing window or the set-up window
    /// (`pending`, `confirmed`) is open; fails when the bond list is full.
    pub fn bond(&mut self, client: &str, now_ms: u64) -> Result<(), BondError> {
        if self.touch_bond(client, now_ms) {
            return Ok(());
        }
        let now_s = self.unix_s(now_ms);
        if !self.pairing_open(now_ms) && self.provisioning.pairing_required() {
            return Err(BondError::NotPairable);
        }
        if self.bonds.len() >= self.options.max_bonds {
            return Err(BondError::Full);
        }
        let bond = PairedDevice {
            addr: client.into(),
            ctime: now_s,
            atime: now_s,
        };
        self.bonds.push(bond.clone());
        self.notify_event(
            now_ms,
            json!({"component": "ble", "event": "paired_device_added", "info": bond}),
        );
        Ok(())
    }

    /// Records a connection from a bonded client (updates `atime`); false when it has no bond.
    pub fn touch_bond(&mut self, client: &str, now_ms: u64) -> bool {
        let now_s = self.unix_s(now_ms);
        let bond = self
            .bonds
            .iter_mut()
            .find(|b| b.addr.eq_ignore_ascii_case(client));
        bond.map(|b| b.atime = now_s).is_some()
    }

    /// A window (pairing, associations) that opens now for `duration_s`, announced as a `ble`
    /// status change of `member`.
    fn open_window(&mut self, member: &str, now_ms: u64, duration_s: u32) -> Window {
        let started_at = self.unix_s(now_ms);
        let mut change = serde_json::Map::new();
        change.insert(
            member.into(),
            json!({"started_at": started_at, "duration": duration_s}),
        );
        self.status_change(now_ms, "ble", serde_json::Value::Object(change));
        Window {
            started_ms: now_ms,
            duration_s,
        }
    }

    /// Closes the pairing and association windows whose time is up.
    pub(super) fn tick_windows(&mut self, now_ms: u64) {
        if let Some(w) = &self.pairing
            && now_ms >= w.end_ms()
        {
            self.pairing = None;
            self.status_change(now_ms, "ble", json!({"pairing": null}));
        }
        if let Some(w) = &self.associations
            && now_ms >= w.end_ms()
        {
            self.associations = None;
            self.status_change(now_ms, "ble", json!({"ble_assoc": null}));
        }
    }

    pub(super) fn ble_config(&self) -> BleConfig {
        BleConfig {
            enable: None,
            rpc: Some(RpcConfig {
                enable: self.rpc_enabled_on_boot.unwrap_or(self.rpc_enabled),
                keep_running: None,
            }),
            observer: None,
        }
    }

    pub(super) fn ble_status(&self, now_ms: u64) -> BleStatus {
        let mut flags = Vec::new();
        if self.discovery.is_some() || !self.sensors.is_empty() {
            flags.push("scanning".to_string());
        }
        if self.user_advert(now_ms).is_some() || self.rpc_enabled {
            flags.push("advertising".to_string());
        }
        BleStatus {
            addr: format!("{},p", self.options.mac.to_shelly_rpc()),
            flags: if flags.is_empty() { None } else { Some(flags) },
            pairing: self
                .pairing
                .as_ref()
                .filter(|w| now_ms < w.end_ms())
                .map(|w| PairingStatus {
                    started_at: self.unix_s(w.started_ms),
                    duration: w.duration_s,
                }),
            provisioning: self
                .options
                .report_provisioning
                .then_some(self.provisioning),
        }
    }
}

impl Answer<GetConfig> for Gateway {
    fn answer(&mut self, (): (), _: u64) -> Result<BleConfig, RpcError> {
        Ok(self.ble_config())
    }
}

impl Answer<SetConfig> for Gateway {
    fn answer(&mut self, p: SetConfigParams, _: u64) -> Result<SetConfigResult, RpcError> {
        let Some(rpc) = p.config.rpc else {
            return Ok(SetConfigResult::APPLIED);
        };
        if !self.options.ble_restart_required {
            self.rpc_enabled = rpc.enable;
            return Ok(SetConfigResult::APPLIED);
        }
        // Saved now (GetConfig shows it), in effect after the restart.
        self.rpc_enabled_on_boot = Some(rpc.enable);
        Ok(SetConfigResult {
            restart_required: rpc.enable != self.rpc_enabled,
        })
    }
}

impl Answer<GetStatus> for Gateway {
    fn answer(&mut self, (): (), now_ms: u64) -> Result<BleStatus, RpcError> {
        Ok(self.ble_status(now_ms))
    }
}

impl Answer<StartPairing> for Gateway {
    fn answer(
        &mut self,
        p: StartPairingParams,
        now_ms: u64,
    ) -> Result<StartPairingResult, RpcError> {
        let timeout = p.timeout.unwrap_or(180);
        if timeout == 0 {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                "timeout must be positive",
            ));
        }
        self.pairing = Some(self.open_window("pairing", now_ms, timeout));
        Ok(StartPairingResult {
            timeout: Some(timeout),
        })
    }
}

impl Answer<StopPairing> for Gateway {
    fn answer(&mut self, (): (), now_ms: u64) -> Result<(), RpcError> {
        if self.pairing.take().is_some() {
            self.status_change(now_ms, "ble", json!({"pairing": null}));
        }
        Ok(())
    }
}

impl Answer<ListPairedDevices> for Gateway {
    fn answer(&mut self, (): (), _: u64) -> Result<PairedDevices, RpcError> {
        Ok(PairedDevices(self.bonds.clone()))
    }
}

impl Answer<DeletePairedDevice> for Gateway {
    fn answer(&mut self, p: DeletePairedDeviceParams, now_ms: u64) -> Result<(), RpcError> {
        let Some(pos) = self
            .bonds
            .iter()
            .position(|b| b.addr.eq_ignore_ascii_case(&p.addr))
        else {
            return Err(rpc_error(
                ErrorCode::NotFound,
                format!("no bond with {}", p.addr),
            ));
        };
        let bond = self.bonds.remove(pos);
        self.notify_event(
            now_ms,
            json!({"component": "ble", "event": "paired_device_removed", "info": bond}),
        );
        Ok(())
    }
}

impl Answer<AdvertiseOnce> for Gateway {
    fn answer(&mut self, p: AdvertiseOnceParams, now_ms: u64) -> Result<(), RpcError> {
        let (adv_data, scan_rsp) = p
            .validate()
            .map_err(|e| rpc_error(ErrorCode::InvalidArgument, e.to_string()))?;
        self.user_advert = Some(UserAdvert {
            adv_data,
            scan_rsp,
            until_ms: now_ms.saturating_add(3_000),
        });
        Ok(())
    }
}

impl Answer<StartAssociations> for Gateway {
    fn answer(&mut self, p: StartAssociationsParams, now_ms: u64) -> Result<(), RpcError> {
        if p.target != 0 && p.target != 8 {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                format!("unsupported target {}", p.target),
            ));
        }
        let duration = p.duration.unwrap_or(30);
        self.associations = Some(self.open_window("ble_assoc", now_ms, duration));
        Ok(())
    }
}

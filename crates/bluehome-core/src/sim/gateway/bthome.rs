//! `BTHome.*`, `BTHomeDevice.*`, `BTHomeSensor.*`: discovery, the BTHome devices and sensors the
//! gateway keeps as components 200..299, and what it learns from their packets.

use alloc::format;
use alloc::vec::Vec;

use litemap::LiteMap;
use serde_json::{Map, Value, json};

use super::{Answer, Gateway, Route, bad_id, parse_addr, route, rpc_error};
use crate::advertisement::MacAddress;
use crate::bthome::{self, Kind};
use crate::shelly::frame::RpcError;
use crate::shelly::methods::ErrorCode;
use crate::shelly::methods::bthome::{
    AddDevice, AddDeviceParams, AddSensor, AddSensorParams, Added, BthomeSetConfigParams,
    BthomeStatus, DeleteDevice, DeleteSensor, DeviceConfig, DeviceGetConfig, DeviceGetKnownObjects,
    DeviceGetStatus, DeviceSetConfig, DeviceSetConfigParams, DeviceStatus, FIRST_ID, GetConfig,
    GetObjectInfos, GetObjectInfosParams, GetStatus, IdParams, KnownObject, KnownObjects, LAST_ID,
    ObjectInfos, SensorConfig, SensorGetConfig, SensorGetStatus, SensorSetConfig,
    SensorSetConfigParams, SensorStatus, SetConfig, StartDeviceDiscovery, StartDiscoveryParams,
};
use crate::shelly::methods::shelly::SetConfigResult;
use crate::sim::sensors::{self, SimSensor};

pub(super) const ROUTES: &[Route] = &[
    route::<GetConfig>(),
    route::<SetConfig>(),
    route::<GetStatus>(),
    route::<AddDevice>(),
    route::<DeleteDevice>(),
    route::<AddSensor>(),
    route::<DeleteSensor>(),
    route::<StartDeviceDiscovery>(),
    route::<GetObjectInfos>(),
    route::<DeviceGetConfig>(),
    route::<DeviceSetConfig>(),
    route::<DeviceGetStatus>(),
    route::<DeviceGetKnownObjects>(),
    route::<SensorGetConfig>(),
    route::<SensorSetConfig>(),
    route::<SensorGetStatus>(),
];

/// Whether the gateway knows a BTHome device's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Heard {
    /// Not until its sensor has sent more than this many packets.
    After(u32),
    /// Known.
    Known,
}

/// A `BTHome.StartDeviceDiscovery` under way.
#[derive(Debug, Clone)]
pub(super) struct DiscoveryRun {
    pub(super) started_ms: u64,
    pub(super) duration_s: u32,
    emitted: usize,
}

/// The `config.addr` of `BTHome.AddDevice` / `BTHome.AddSensor`, which must be a MAC address.
fn config_addr(addr: Option<&str>) -> Result<MacAddress, RpcError> {
    addr.and_then(parse_addr).ok_or_else(|| {
        rpc_error(
            ErrorCode::InvalidArgument,
            "config.addr must be a MAC address",
        )
    })
}

/// The id a new component gets: `wanted` when it is free and in 200..299, else the first free one.
fn free_id<T>(taken: &LiteMap<u16, T>, wanted: Option<u16>) -> Result<u16, RpcError> {
    match wanted {
        Some(id) if !(FIRST_ID..=LAST_ID).contains(&id) => Err(rpc_error(
            ErrorCode::InvalidArgument,
            format!("id {id} is outside 200..299"),
        )),
        Some(id) if taken.contains_key(&id) => Err(rpc_error(
            ErrorCode::InvalidArgument,
            format!("id {id} is taken"),
        )),
        Some(id) => Ok(id),
        None => (FIRST_ID..=LAST_ID)
            .find(|id| !taken.contains_key(id))
            .ok_or_else(|| rpc_error(ErrorCode::ResourceExhausted, "no free component id")),
    }
}

impl Gateway {
    /// A BTHome device's objects become known with its first packet after `BTHome.AddDevice`.
    pub(super) fn tick_heard(&mut self, now_ms: u64) {
        let learned: Vec<u16> = self
            .heard
            .keys()
            .copied()
            .filter(|&id| self.heard_since_added(id) && self.key_problem(id).is_none())
            .filter(|&id| !self.knows(id))
            .collect();
        for id in learned {
            self.heard.insert(id, Heard::Known);
            self.notify_event(
                now_ms,
                json!({"component": format!("bthomedevice:{id}"), "id": id, "event": "new_objects"}),
            );
        }
    }

    /// Sends `device_discovered` for each sensor as the scan reaches it, then `discovery_done`.
    pub(super) fn tick_discovery(&mut self, now_ms: u64) {
        let Some(run) = self.discovery.clone() else {
            return;
        };
        let total_ms = u64::from(run.duration_s).saturating_mul(1000);
        let count = self.sensors.len();
        // Sensor i is found at (i + 1) / (count + 1) of the scan, at most 1 s apart.
        let step = (total_ms / (count as u64 + 1)).min(1000);
        let mut emitted = run.emitted;
        while emitted < count {
            let due = run
                .started_ms
                .saturating_add(step.saturating_mul(emitted as u64 + 1));
            if now_ms < due {
                break;
            }
            if let Some(device) = self.sensors.get(emitted).map(SimSensor::discovered) {
                self.notify_event(
                    due,
                    json!({"component": "bthome", "event": "device_discovered", "device": device}),
                );
            }
            emitted += 1;
        }
        if let Some(r) = self.discovery.as_mut() {
            r.emitted = emitted;
        }
        let end = run.started_ms.saturating_add(total_ms);
        if now_ms >= end {
            self.discovery = None;
            self.notify_event(
                end,
                json!({"component": "bthome", "event": "discovery_done", "device_count": emitted}),
            );
        }
    }

    /// The simulated sensor a BTHome device component stands for.
    pub(super) fn device_sensor(&self, id: u16) -> Option<&SimSensor> {
        let device = self.devices.get(&id)?;
        self.sensor_by_addr(device.addr.as_deref())
    }

    fn knows(&self, id: u16) -> bool {
        self.heard.get(&id) == Some(&Heard::Known)
    }

    /// Whether the device's sensor has sent since the device was added.
    fn heard_since_added(&self, id: u16) -> bool {
        match self.heard.get(&id) {
            Some(Heard::After(count)) => self
                .device_sensor(id)
                .is_some_and(|s| s.emissions() > *count),
            Some(Heard::Known) => true,
            None => false,
        }
    }

    /// Why the gateway cannot read a device's packets, as `BTHomeDevice.GetStatus` names it in
    /// `errors` (taulfsime/shelly-rpc-ts `BTHomeDevice.ts`): an encrypted sensor without a key, or
    /// with another key than its own, or a key for a sensor that does not encrypt. Its objects
    /// then stay unknown.
    fn key_problem(&self, id: u16) -> Option<&'static str> {
        let key = self.devices.get(&id)?.key.as_deref();
        let encrypted = self.device_sensor(id)?.spec().encrypted;
        let own = crate::hex::encode(sensors::SIM_KEY.as_bytes());
        match (encrypted, key) {
            (true, None) => Some("key_missing_or_bad"),
            (true, Some(key)) if !key.eq_ignore_ascii_case(&own) => Some("decrypt_failed"),
            (false, Some(_)) => Some("unencrypted_data"),
            _ => None,
        }
    }

    fn sensor_by_addr(&self, addr: Option<&str>) -> Option<&SimSensor> {
        let mac = addr.and_then(parse_addr)?;
        self.sensors.iter().find(|s| s.mac() == mac)
    }

    /// `{"added": "<kind>:<id>"}` (or `key`, by option).
    fn added(&self, kind: &str, id: u16) -> Added {
        Added {
            key: format!("{kind}:{id}"),
            member: self.options.add_answer,
        }
    }

    pub(super) fn device_status(&self, id: u16) -> Result<DeviceStatus, RpcError> {
        let d = self.devices.get(&id).ok_or_else(|| bad_id(id))?;
        let mut status = DeviceStatus {
            id,
            ..DeviceStatus::default()
        };
        let heard = self
            .sensor_by_addr(d.addr.as_deref())
            .filter(|_| self.knows(id));
        if self.heard_since_added(id) {
            status.errors = self.key_problem(id).map(|e| alloc::vec![e.into()]);
        }
        if let Some(s) = heard {
            status.rssi = Some(i32::from(s.rssi()));
            status.battery = s.battery();
            status.packet_id = Some(u32::from(s.packet_id()));
            status.last_updated_ts = Some(self.unix_s(s.last_emit_ms()) as f64);
        }
        Ok(status)
    }

    pub(super) fn sensor_status(&self, id: u16) -> Result<SensorStatus, RpcError> {
        let c = self.sensor_components.get(&id).ok_or_else(|| bad_id(id))?;
        let sensor = self
            .sensor_by_addr(c.addr.as_deref())
            .filter(|s| s.has_emitted());
        let value = match (sensor, c.obj_id, c.idx) {
            (Some(s), Some(obj), Some(idx)) => s.value(obj, idx).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Ok(SensorStatus {
            id,
            value,
            last_updated_ts: sensor.map(|s| self.unix_s(s.last_emit_ms()) as f64),
        })
    }
}

impl Answer<GetConfig> for Gateway {
    fn answer(&mut self, (): (), _: u64) -> Result<Value, RpcError> {
        Ok(Value::Object(Map::new()))
    }
}

impl Answer<SetConfig> for Gateway {
    fn answer(
        &mut self,
        _: BthomeSetConfigParams,
        _: u64,
    ) -> Result<Option<SetConfigResult>, RpcError> {
        Ok(None)
    }
}

impl Answer<GetStatus> for Gateway {
    fn answer(&mut self, (): (), _: u64) -> Result<BthomeStatus, RpcError> {
        Ok(self.bthome_status())
    }
}

impl Answer<AddDevice> for Gateway {
    fn answer(&mut self, p: AddDeviceParams, _: u64) -> Result<Added, RpcError> {
        let addr = config_addr(p.config.addr.as_deref())?;
        if let Some(key) = &p.config.key
            && (key.len() != 32 || !key.bytes().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                "config.key must be 32 hex digits",
            ));
        }
        if self
            .devices
            .values()
            .any(|d| d.addr.as_deref().and_then(parse_addr) == Some(addr))
        {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                format!("device {} already added", addr.to_shelly_rpc()),
            ));
        }
        let id = free_id(&self.devices, p.id)?;
        let config = DeviceConfig {
            id: Some(id),
            addr: Some(addr.to_shelly_rpc()),
            ..p.config
        };
        self.devices.insert(id, config);
        let sent = self.device_sensor(id).map(SimSensor::emissions);
        let heard = match sent {
            Some(n) if n > 0 && self.options.objects_known_at_once => Heard::Known,
            sent => Heard::After(sent.unwrap_or(0)),
        };
        self.heard.insert(id, heard);
        Ok(self.added("bthomedevice", id))
    }
}

impl Answer<DeleteDevice> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<(), RpcError> {
        self.devices.remove(&p.id).ok_or_else(|| bad_id(p.id))?;
        self.heard.remove(&p.id);
        Ok(())
    }
}

impl Answer<AddSensor> for Gateway {
    fn answer(&mut self, p: AddSensorParams, _: u64) -> Result<Added, RpcError> {
        let new = p.config;
        let addr = config_addr(Some(&new.addr))?;
        // Since fw 1.6.0 button presses come as BTHomeDevice events, not sensors (shelly-api-docs
        // DynamicComponents/BTHome).
        if bthome::info(new.obj_id).map(|i| i.kind) == Some(Kind::Button) {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                "BTHomeSensor of type button is not supported, its events come from BTHomeDevice",
            ));
        }
        // The sensor belongs to a BTHomeDevice component, which must be created first.
        if !self
            .devices
            .values()
            .any(|d| d.addr.as_deref().and_then(parse_addr) == Some(addr))
        {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                format!(
                    "BTHomeDevice with addr {} must be created first",
                    addr.to_shelly_rpc()
                ),
            ));
        }
        let id = free_id(&self.sensor_components, p.id)?;
        let config = SensorConfig {
            id: Some(id),
            addr: Some(addr.to_shelly_rpc()),
            obj_id: Some(new.obj_id),
            idx: Some(new.obj_idx),
            name: new.name,
            meta: new.meta,
        };
        self.sensor_components.insert(id, config);
        Ok(self.added("bthomesensor", id))
    }
}

impl Answer<DeleteSensor> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<(), RpcError> {
        self.sensor_components
            .remove(&p.id)
            .ok_or_else(|| bad_id(p.id))?;
        Ok(())
    }
}

impl Answer<StartDeviceDiscovery> for Gateway {
    fn answer(&mut self, p: StartDiscoveryParams, now_ms: u64) -> Result<(), RpcError> {
        if self.discovery.is_some() {
            return Err(rpc_error(
                ErrorCode::InvalidArgument,
                "discovery already running",
            ));
        }
        let duration = p.duration.unwrap_or(30).max(1);
        self.discovery = Some(DiscoveryRun {
            started_ms: now_ms,
            duration_s: duration,
            emitted: 0,
        });
        Ok(())
    }
}

impl Answer<GetObjectInfos> for Gateway {
    fn answer(&mut self, p: GetObjectInfosParams, _: u64) -> Result<ObjectInfos, RpcError> {
        let total = p.obj_ids.len();
        let start = usize::try_from(p.offset.unwrap_or(0))
            .unwrap_or(usize::MAX)
            .min(total);
        let objects: Vec<_> = p
            .obj_ids
            .iter()
            .skip(start)
            .take(self.options.object_page_size.max(1))
            .map(|&id| sensors::object_info(id))
            .collect();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(ObjectInfos {
            offset: count(start),
            count: count(objects.len()),
            total: count(total),
            objects,
        })
    }
}

impl Answer<DeviceGetConfig> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<DeviceConfig, RpcError> {
        self.devices.get(&p.id).cloned().ok_or_else(|| bad_id(p.id))
    }
}

impl Answer<DeviceSetConfig> for Gateway {
    fn answer(
        &mut self,
        p: DeviceSetConfigParams,
        _: u64,
    ) -> Result<Option<SetConfigResult>, RpcError> {
        let d = self.devices.get_mut(&p.id).ok_or_else(|| bad_id(p.id))?;
        // Members left out keep their value.
        d.name = p.config.name.or(d.name.take());
        d.key = p.config.key.or(d.key.take());
        d.meta = p.config.meta.or(d.meta.take());
        Ok(Some(SetConfigResult::APPLIED))
    }
}

impl Answer<DeviceGetStatus> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<DeviceStatus, RpcError> {
        self.device_status(p.id)
    }
}

impl Answer<DeviceGetKnownObjects> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<KnownObjects, RpcError> {
        let id = p.id;
        let d = self.devices.get(&id).ok_or_else(|| bad_id(id))?;
        let objects = match self.sensor_by_addr(d.addr.as_deref()) {
            Some(s) if self.knows(id) => s
                .object_slots()
                .into_iter()
                .map(|(obj_id, idx)| KnownObject {
                    obj_id,
                    idx,
                    component: self
                        .sensor_components
                        .iter()
                        .find(|(_, c)| {
                            c.obj_id == Some(obj_id)
                                && c.idx == Some(idx)
                                && c.addr.as_deref().and_then(parse_addr) == Some(s.mac())
                        })
                        .map(|(cid, _)| format!("bthomesensor:{cid}")),
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(KnownObjects { id, objects })
    }
}

impl Answer<SensorGetConfig> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<SensorConfig, RpcError> {
        self.sensor_components
            .get(&p.id)
            .cloned()
            .ok_or_else(|| bad_id(p.id))
    }
}

impl Answer<SensorSetConfig> for Gateway {
    fn answer(
        &mut self,
        p: SensorSetConfigParams,
        _: u64,
    ) -> Result<Option<SetConfigResult>, RpcError> {
        let s = self
            .sensor_components
            .get_mut(&p.id)
            .ok_or_else(|| bad_id(p.id))?;
        s.name = p.config.name.or(s.name.take());
        s.meta = p.config.meta.or(s.meta.take());
        Ok(Some(SetConfigResult::APPLIED))
    }
}

impl Answer<SensorGetStatus> for Gateway {
    fn answer(&mut self, p: IdParams, _: u64) -> Result<SensorStatus, RpcError> {
        self.sensor_status(p.id)
    }
}

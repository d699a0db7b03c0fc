//! `BLE.CloudRelay.*`: what the gateway last heard from the Shelly BLU devices it relays.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use base64::Engine as _;

use super::{Answer, Gateway, Route, route};
use crate::shelly::frame::RpcError;
use crate::shelly::methods::ble::{
    CloudRelayList, CloudRelayListInfos, ListInfosParams, RelayInfo, RelayInfos, RelayList,
};
use crate::sim::sensors::SimSensor;

pub(super) const ROUTES: &[Route] = &[route::<CloudRelayList>(), route::<CloudRelayListInfos>()];

impl Gateway {
    /// The sensors the gateway relays: Shelly BLU devices (those with a model id).
    fn relayed(&self) -> impl Iterator<Item = &SimSensor> {
        self.sensors.iter().filter(|s| s.model_id().is_some())
    }

    fn relay_info(&self, sensor: &SimSensor) -> RelayInfo {
        let engine = base64::engine::general_purpose::STANDARD;
        let adv = sensor.advertisement();
        let mut info = RelayInfo {
            name: None,
            model: 0,
            last_seen: Some(self.unix_s(sensor.last_emit_ms())),
            ..RelayInfo::default()
        };
        for (uuid, data) in &adv.service_data {
            let key = uuid
                .as_u16()
                .map_or_else(|| uuid.to_string(), |u| format!("{u:04x}"));
            info.sdata.insert(key, engine.encode(data));
        }
        for (company, data) in &adv.manufacturer_data {
            info.mdata
                .insert(format!("{company:04x}"), engine.encode(data));
        }
        info
    }
}

impl Answer<CloudRelayList> for Gateway {
    fn answer(&mut self, (): (), _: u64) -> Result<RelayList, RpcError> {
        Ok(RelayList {
            rev: self.sensors.len() as u64,
            addrs: self.relayed().map(|s| s.mac().to_shelly_rpc()).collect(),
        })
    }
}

impl Answer<CloudRelayListInfos> for Gateway {
    fn answer(&mut self, p: ListInfosParams, now_ms: u64) -> Result<RelayInfos, RpcError> {
        let all: Vec<&SimSensor> = self.relayed().collect();
        let total = all.len();
        let start = usize::try_from(p.offset.unwrap_or(0))
            .unwrap_or(usize::MAX)
            .min(total);
        let devices: Vec<BTreeMap<_, _>> = all
            .iter()
            .skip(start)
            .take(self.options.relay_page_size.max(1))
            .map(|s| BTreeMap::from([(s.mac().to_shelly_rpc(), self.relay_info(s))]))
            .collect();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(RelayInfos {
            ts: self.unix_s(now_ms) as f64,
            offset: count(start),
            count: count(devices.len()),
            total: count(total),
            devices,
        })
    }
}

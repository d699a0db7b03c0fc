//! The simulated gateway as a GATT peripheral: connection, bonding, the RPC service's three
//! characteristics, and fault injection. This is what `bluehome sim shelly --stdio` drives.

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::advertisement::Advertisement;
use crate::shelly::frame::{Frame, Id};
use crate::shelly::manufacturer::{self, Flags, ManufacturerData};
use crate::shelly::rpc::client::{Action, Call, Feedback};
use crate::shelly::rpc::server::Server;
use crate::shelly::rpc::{AttError, Characteristic};

use super::gateway::{BondError, Gateway};
use super::sensors::SimSensor;

/// The length a Shelly 1PM Mini Gen4 was seen to report in `rx_ctl` (aioshelly PR #991).
pub const GARBAGE_LENGTH: u32 = 0x3213_005f;
/// Shelly BLU Gateway Gen3 model id.
pub const GATEWAY_MODEL_ID: u16 = 0x1817;

/// Faults to inject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// For every answer, the first this-many data reads return nothing.
    pub empty_reads: u32,
    /// `rx_ctl` reports [`GARBAGE_LENGTH`] instead of the real length.
    pub garbage_length: bool,
    /// Answers become readable this long after the request.
    pub slow_ms: u64,
    /// The next this-many answers are preceded by a copy with a foreign id.
    pub wrong_ids: u32,
    /// The link drops (once) when the client has written more than this many data bytes since
    /// connecting — in the middle of a frame.
    pub disconnect_after: Option<usize>,
    /// Data writes longer than this fail with `request_not_supported` (no long writes).
    pub max_write: Option<usize>,
}

#[derive(Debug, Clone)]
struct Connection {
    client: String,
    pairing_required: bool,
    data_written: usize,
}

/// The simulated gateway behind its GATT service.
#[derive(Debug, Clone)]
pub struct Peripheral {
    gateway: Gateway,
    server: Server,
    mtu: u16,
    faults: Faults,
    connection: Option<Connection>,
    pending: VecDeque<(u64, Vec<u8>)>,
    empty_left: u32,
}

impl Peripheral {
    /// A peripheral with ATT MTU `mtu` (data reads return at most `mtu - 2` bytes).
    pub fn new(gateway: Gateway, mtu: u16, faults: Faults) -> Self {
        Self {
            gateway,
            server: Server::new(mtu, crate::shelly::rpc::DEFAULT_MAX_FRAME),
            mtu,
            faults,
            connection: None,
            pending: VecDeque::new(),
            empty_left: 0,
        }
    }

    /// The gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The gateway, mutable.
    pub fn gateway_mut(&mut self) -> &mut Gateway {
        &mut self.gateway
    }

    /// The faults, mutable (tests change them between calls).
    pub fn faults_mut(&mut self) -> &mut Faults {
        &mut self.faults
    }

    /// The connected client, if any.
    pub fn client(&self) -> Option<&str> {
        self.connection.as_ref().map(|c| c.client.as_str())
    }

    /// Brings time-driven state up to `now_ms` and moves due frames to the outbound queue.
    pub fn sync(&mut self, now_ms: u64) {
        self.gateway.tick(now_ms);
        if self.gateway.take_reboot() {
            // The radio restarts with the device: the link and everything queued on it go.
            self.server.disconnect();
            self.server.clear_outbound();
            self.pending.clear();
            self.connection = None;
        }
        let notifications = self.gateway.take_notifications();
        if self.connection.is_none() {
            // No RPC channel: what the device sends now has nowhere to go, and answers to the old
            // link's requests die with it (rpc-common `mg_rpc_remove_channel_internal`).
            self.pending.clear();
            return;
        }
        for n in notifications {
            self.server.push_notification(n.to_bytes());
        }
        while let Some((at, _)) = self.pending.front() {
            if *at > now_ms {
                break;
            }
            if let Some((_, frame)) = self.pending.pop_front() {
                self.server.push_response(frame);
            }
        }
    }

    /// A client connects (replacing any current connection). Whether it must be bonded is decided
    /// now, from the provisioning state.
    pub fn connect(&mut self, client: &str, now_ms: u64) {
        if self.connection.is_some() {
            self.disconnect(now_ms);
        }
        self.sync(now_ms);
        self.gateway.touch_bond(client, now_ms);
        self.connection = Some(Connection {
            client: client.into(),
            pairing_required: self.gateway.provisioning().pairing_required(),
            data_written: 0,
        });
    }

    /// The link drops: a half-written request and every frame queued for this client are
    /// discarded; the next connection never reads them.
    pub fn disconnect(&mut self, now_ms: u64) {
        self.server.disconnect();
        if self.connection.take().is_some() {
            self.gateway.on_disconnect(now_ms);
        }
        self.sync(now_ms);
    }

    /// Bonds the connected client (or `client`, when given).
    pub fn pair(&mut self, client: Option<&str>, now_ms: u64) -> Result<(), AttError> {
        self.sync(now_ms);
        let Some(conn) = &self.connection else {
            return Err(AttError::Disconnected);
        };
        let who = String::from(client.unwrap_or(&conn.client));
        let result = self.gateway.bond(&who, now_ms).map_err(|e| match e {
            BondError::Full => AttError::InsufficientResources,
            _ => AttError::InsufficientAuthentication,
        });
        self.sync(now_ms);
        result
    }

    fn check_access(&self) -> Result<&Connection, AttError> {
        let conn = self.connection.as_ref().ok_or(AttError::Disconnected)?;
        if conn.pairing_required && !self.gateway.is_bonded(&conn.client) {
            return Err(AttError::InsufficientAuthentication);
        }
        Ok(conn)
    }

    /// A write to one of the service's characteristics.
    pub fn write(
        &mut self,
        characteristic: Characteristic,
        value: &[u8],
        now_ms: u64,
    ) -> Result<(), AttError> {
        self.sync(now_ms);
        let written = self.check_access()?.data_written;
        if characteristic != Characteristic::RxCtl && !self.gateway.rpc_enabled() {
            return Err(AttError::WriteNotPermitted);
        }
        if characteristic == Characteristic::Data {
            if self.faults.max_write.is_some_and(|max| value.len() > max) {
                return Err(AttError::RequestNotSupported);
            }
            if let Some(limit) = self.faults.disconnect_after
                && written.saturating_add(value.len()) > limit
                && self.server.receiving()
            {
                self.faults.disconnect_after = None;
                self.disconnect(now_ms);
                return Err(AttError::Disconnected);
            }
            if let Some(conn) = self.connection.as_mut() {
                conn.data_written = conn.data_written.saturating_add(value.len());
            }
        }
        let Some(frame) = self.server.write(characteristic, value)? else {
            return Ok(());
        };
        if let Ok(Frame::Request(req)) = Frame::parse(&frame) {
            let response = self.gateway.handle(&req, now_ms);
            let ready = now_ms.saturating_add(self.faults.slow_ms);
            if self.faults.wrong_ids > 0 {
                self.faults.wrong_ids -= 1;
                let mut stale = response.clone();
                stale.id = match &response.id {
                    Id::Num(n) => Id::Num(n.wrapping_add(1_000_000)),
                    Id::Str(s) => Id::Str(alloc::format!("{s}-stale")),
                };
                self.pending.push_back((ready, stale.to_bytes()));
            }
            self.pending.push_back((ready, response.to_bytes()));
        }
        // Anything else (bad JSON, a response, a notification) is dropped, as the device does.
        self.sync(now_ms);
        Ok(())
    }

    /// Performs every GATT operation one client call asks for, as a browser would, until the
    /// call is done. The clock moves to each requested wake-up time and by `ms_per_op` after each
    /// operation. Returns the number of GATT operations, or `None` if the call was not done after
    /// `max_ops` of them.
    pub fn run_call(
        &mut self,
        call: &mut Call,
        now_ms: &mut u64,
        ms_per_op: u64,
        max_ops: usize,
    ) -> Option<usize> {
        for ops in 0..max_ops {
            let owned;
            let feedback = match call.action() {
                Action::Done => return Some(ops),
                Action::Write {
                    characteristic,
                    value,
                } => match self.write(characteristic, value, *now_ms) {
                    Ok(()) => Feedback::Written,
                    Err(e) => Feedback::Failed(e),
                },
                Action::Read { characteristic } => match self.read(characteristic, *now_ms) {
                    Ok(value) => {
                        owned = value;
                        Feedback::Read(&owned)
                    }
                    Err(e) => Feedback::Failed(e),
                },
                Action::Sleep { until_ms } => {
                    *now_ms = until_ms;
                    Feedback::Woke
                }
            };
            *now_ms = now_ms.saturating_add(ms_per_op);
            call.advance(feedback, *now_ms);
        }
        matches!(call.action(), Action::Done).then_some(max_ops)
    }

    /// A read of one of the service's characteristics.
    pub fn read(
        &mut self,
        characteristic: Characteristic,
        now_ms: u64,
    ) -> Result<Vec<u8>, AttError> {
        self.sync(now_ms);
        self.check_access()?;
        match characteristic {
            Characteristic::RxCtl => {
                let value = self.server.read(Characteristic::RxCtl)?;
                if value != [0, 0, 0, 0] {
                    self.empty_left = self.faults.empty_reads;
                    if self.faults.garbage_length {
                        return Ok(GARBAGE_LENGTH.to_be_bytes().to_vec());
                    }
                }
                Ok(value)
            }
            Characteristic::Data if self.empty_left > 0 && self.server.pending_len() > 0 => {
                self.empty_left -= 1;
                Ok(Vec::new())
            }
            other => self.server.read(other),
        }
    }

    /// The ATT MTU.
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// The gateway's own advertisements now: its Shelly manufacturer data (flags, MAC, model
    /// 0x1817), and its `BLE.AdvertiseOnce` advertisement while it lasts.
    pub fn gateway_advertisements(&mut self, now_ms: u64) -> Vec<Advertisement> {
        self.sync(now_ms);
        let gw = &self.gateway;
        let mut flags = 0x0001 | 0x0004; // discoverable, RPC over BLE
        if gw.auth_enabled() {
            flags |= 0x0002;
        }
        if gw.pairing_open(now_ms) {
            flags |= 0x0010;
        }
        let mut own = Advertisement {
            address: Some(gw.mac()),
            name: Some(gw.mac().to_string()),
            ..Advertisement::default()
        };
        own.manufacturer_data.insert(
            manufacturer::COMPANY_ID,
            manufacturer::encode(&ManufacturerData {
                flags: Some(Flags(flags)),
                mac: Some(gw.mac()),
                model_id: Some(GATEWAY_MODEL_ID),
                ..ManufacturerData::default()
            }),
        );
        let mut out = alloc::vec![own];
        if let Some(user) = gw.user_advert(now_ms) {
            let mut bytes = user.adv_data.clone();
            bytes.extend(user.scan_rsp.iter().flatten());
            let (mut adv, _) = Advertisement::from_ad_bytes_lossy(&bytes);
            adv.address = Some(gw.mac());
            out.push(adv);
        }
        out
    }

    /// The last advertisement of every simulated sensor that has emitted.
    pub fn sensor_advertisements(&mut self, now_ms: u64) -> Vec<Advertisement> {
        self.sync(now_ms);
        self.gateway
            .sensors()
            .iter()
            .filter(|s| s.has_emitted())
            .map(SimSensor::advertisement)
            .collect()
    }
}

//! A simulated Improv Wi-Fi device over BLE, behaving as ESPHome's `esp32_improv` component does
//! (`esphome/esphome`, `esphome/components/esp32_improv/esp32_improv_component.cpp`) within the
//! protocol of improv-wifi.com/ble. This is what `bluehome sim improv --stdio` drives.
//!
//! * It starts in "authorization required" when [`ImprovOptions::authorization`] is on (a
//!   person must press its button, [`ImprovDevice::press`]), else "authorized". Authorization
//!   lapses after [`ImprovOptions::authorization_ms`] back to "authorization required".
//! * Command bytes may arrive in several writes; they are collected until the frame's declared
//!   length is there. A collection longer than that is dropped without an answer.
//! * Each command first clears the error. A bad checksum gives "invalid RPC"; an unknown
//!   command, one the capabilities do not offer, or Wi-Fi settings whose SSID or password length
//!   runs past the data "unknown command", as sdk-cpp's `parse_improv_data` (which ESPHome uses)
//!   answers `BAD_CHECKSUM` and `UNKNOWN` ([`Request::parse`]); bytes after the password are
//!   ignored. Wi-Fi settings outside "authorized" give "not authorized".
//! * Wi-Fi settings: "provisioning", then after [`ImprovOptions::connect_ms`] "provisioned"
//!   with the redirect URL as the result, when the SSID and password match one of
//!   [`ImprovOptions::networks`] (an open network takes any password); otherwise, after
//!   [`ImprovOptions::connect_timeout_ms`] (ESPHome's 30 s), error "unable to connect" and back
//!   to "authorized" with the authorization time started over.
//! * Identify blinks for [`ImprovOptions::identify_ms`]; device info answers at once (with
//!   [`ImprovOptions::device_info_strings`] of its strings); a scan answers after
//!   [`ImprovOptions::scan_ms`], in one result or ([`ImprovOptions::scan_per_network`]) one per
//!   network and an empty one.
//! * It advertises in two packets ([`ImprovDevice::packets`]): the Improv UUID and service data
//!   fill the advertising data, the name is in the scan response; for 1 s at the start and every
//!   60 s the name replaces the service data ([`ImprovDevice::naming`]).
//! * A disconnect clears the error. Every change of state, error or result is queued as a
//!   notification ([`ImprovDevice::take_notifications`]) for clients that subscribe; a result
//!   in parts with [`ImprovOptions::result_part_bytes`], its values spaced by
//!   [`ImprovOptions::result_interval_ms`], one notification cut short with
//!   [`ImprovOptions::cut_result_notification`].

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use crate::advertisement::{Advertisement, MacAddress};
use crate::gatt::AttError;
use crate::improv::rpc::{self, Auth, Credentials, DeviceInfo, Network, Request, RpcResult};
use crate::improv::{
    Capabilities, Characteristic, Command, ErrorCode, SERVICE_DATA_UUID, SERVICE_UUID, ServiceData,
    State,
};

/// A network the simulated device can join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNetwork {
    /// Its name.
    pub ssid: String,
    /// What a scan reports.
    pub rssi: i16,
    /// Its authentication.
    pub auth: Auth,
    /// The password that works (ignored for open networks).
    pub password: String,
}

/// How to build a simulated Improv device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImprovOptions {
    /// The capabilities byte.
    pub capabilities: Capabilities,
    /// Whether a person must authorize by pressing the button (ESPHome's `authorizer`).
    pub authorization: bool,
    /// How long an authorization lasts (the specification suggests 1 minute; ESPHome's default).
    pub authorization_ms: u64,
    /// From credentials to "provisioned" on a network that works.
    pub connect_ms: u64,
    /// From credentials to "unable to connect" (ESPHome: 30 s).
    pub connect_timeout_ms: u64,
    /// From the scan command to its result.
    pub scan_ms: u64,
    /// How long identify blinks (ESPHome's `identify_duration` default).
    pub identify_ms: u64,
    /// The networks in range.
    pub networks: Vec<SimNetwork>,
    /// What device info answers.
    pub device_info: DeviceInfo,
    /// How many of [`Self::device_info`]'s four strings the answer carries: fewer than four is
    /// a result a client must refuse (revision 2.1 asks for at least four).
    pub device_info_strings: usize,
    /// The URLs the result lists after provisioning, in order (ESPHome lists its `next_url`,
    /// Home Assistant's link and its web server); empty: a result with no strings.
    pub redirect_urls: Vec<String>,
    /// The local name.
    pub name: String,
    /// Its address.
    pub mac: MacAddress,
    /// A read answers at most this many bytes of a value: ESPHome before 2026.6 answers 22
    /// (esphome/esphome#16420), so a redirect URL's result does not arrive whole. `None`: the
    /// whole value, as ESPHome since.
    pub read_limit: Option<usize>,
    /// How long after "provisioned" the device stops its Improv service (ESPHome's
    /// `esp32_improv` `stop()`, 10 s in current versions); reads and writes then fail as an
    /// attribute not found. `None`: never.
    pub stop_after_provisioned_ms: Option<u64>,
    /// Whether it advertises its name for 1 s at the start and every 60 s, without its service
    /// data ([`ImprovDevice::naming`]), as ESPHome does since esphome/esphome#10918 (merged
    /// 2025-09); `false`: the name is only ever in the scan response, as before.
    pub name_cycle: bool,
    /// Each result is notified in parts of at most this many bytes, one after another, as
    /// Tasmota's Berry Improv example does with 20 (`Staars/berry-examples`, `ble/improv.be`,
    /// `sendRPCresult`, which sets the characteristic to each part in turn: a read then answers
    /// the last part). `None`: a result in one notification, as ESPHome sends it.
    pub result_part_bytes: Option<usize>,
    /// A scan answers one result per network and then an empty result, as Improv serial does
    /// (improv-wifi.com/serial, "Request scanned Wi-Fi networks") and Tasmota's Berry example
    /// does over BLE (`Staars/berry-examples`, `ble/improv.be`, `sendAPInfo`); `false`: one
    /// result with every network, as the BLE specification asks (improv-wifi.com/ble).
    pub scan_per_network: bool,
    /// Between one value of the result (a part or a whole result) and the next, each replacing
    /// the last: Tasmota's Berry example sends at most one per `every_100ms` tick, and a result
    /// of one part every 200 ms (the tick after a result only prepares the next). 0: all at once.
    pub result_interval_ms: u64,
    /// `(n, bytes)`: the `n`-th RPC-result notification since the start (from 0) carries only its
    /// first `bytes`, as a stack cuts a notification to the link's ATT MTU − 3 (ESP-IDF,
    /// espressif/esp-idf#3315); the value read stays whole. `None`: no notification is cut.
    pub cut_result_notification: Option<(usize, usize)>,
}

impl Default for ImprovOptions {
    fn default() -> Self {
        let network = |ssid: &str, rssi, auth, password: &str| SimNetwork {
            ssid: ssid.into(),
            rssi,
            auth,
            password: password.into(),
        };
        Self {
            capabilities: Capabilities(
                Capabilities::IDENTIFY | Capabilities::DEVICE_INFO | Capabilities::SCAN_WIFI,
            ),
            authorization: true,
            authorization_ms: 60_000,
            connect_ms: 3_000,
            connect_timeout_ms: 30_000,
            scan_ms: 2_000,
            identify_ms: 10_000,
            networks: alloc::vec![
                network("HomeNet", -48, Auth::Wpa2, "correct horse"),
                network("Guest", -61, Auth::Open, ""),
                network("Neighbour", -80, Auth::Wpa, "neighbour"),
            ],
            device_info: DeviceInfo {
                firmware: "ESPHome".into(),
                version: "2026.1.0".into(),
                chip: "ESP32-C3".into(),
                name: "bluehome Improv sim".into(),
            },
            device_info_strings: 4,
            redirect_urls: alloc::vec!["http://192.168.1.43/".into()],
            name: "improv-sim".into(),
            mac: MacAddress([0x24, 0x58, 0x7C, 0x1D, 0x2E, 0x3F]),
            read_limit: None,
            stop_after_provisioned_ms: Some(10_000),
            name_cycle: true,
            result_part_bytes: None,
            scan_per_network: false,
            result_interval_ms: 0,
            cut_result_notification: None,
        }
    }
}

/// A simulated Improv device. Time is always an argument.
#[derive(Debug, Clone)]
pub struct ImprovDevice {
    options: ImprovOptions,
    state: State,
    error: ErrorCode,
    result: Vec<u8>,
    incoming: Vec<u8>,
    authorized_until: Option<u64>,
    connecting: Option<(Credentials, u64)>,
    scan_due: Option<u64>,
    identify_until: Option<u64>,
    client: Option<String>,
    notifications: Vec<(Characteristic, Vec<u8>)>,
    /// Result values waiting for [`ImprovOptions::result_interval_ms`], oldest first, with when
    /// each was ready.
    outbox: VecDeque<(u64, Vec<u8>)>,
    /// When the next value of [`Self::outbox`] may go.
    next_result_at: u64,
    /// RPC-result notifications sent so far.
    results_notified: usize,
    /// When it said "provisioned".
    provisioned_at: Option<u64>,
    /// When its state last changed (`None`: not since the start).
    state_changed_at: Option<u64>,
}

impl ImprovDevice {
    /// A device waiting for credentials.
    pub fn new(options: ImprovOptions) -> Self {
        let state = if options.authorization {
            State::AuthorizationRequired
        } else {
            State::Authorized
        };
        Self {
            options,
            state,
            error: ErrorCode::NoError,
            result: Vec::new(),
            incoming: Vec::new(),
            authorized_until: None,
            connecting: None,
            scan_due: None,
            identify_until: None,
            client: None,
            notifications: Vec::new(),
            outbox: VecDeque::new(),
            next_result_at: 0,
            results_notified: 0,
            provisioned_at: None,
            state_changed_at: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The current error.
    pub fn error(&self) -> ErrorCode {
        self.error
    }

    /// Whether it is identifying itself (blinking).
    pub fn identifying(&self, now_ms: u64) -> bool {
        self.identify_until.is_some_and(|until| now_ms < until)
    }

    /// The connected client, if any.
    pub fn client(&self) -> Option<&str> {
        self.client.as_deref()
    }

    /// The notifications queued since the last call, oldest first.
    pub fn take_notifications(&mut self) -> Vec<(Characteristic, Vec<u8>)> {
        core::mem::take(&mut self.notifications)
    }

    fn set_state(&mut self, state: State, at_ms: u64) {
        if self.state != state {
            self.state = state;
            self.state_changed_at = Some(at_ms);
            self.notifications
                .push((Characteristic::State, alloc::vec![u8::from(state)]));
        }
    }

    fn set_error(&mut self, error: ErrorCode) {
        if self.error != error {
            self.error = error;
            self.notifications
                .push((Characteristic::Error, alloc::vec![u8::from(error)]));
        }
    }

    /// Queues `result` at `at_ms`: whole, or in parts ([`ImprovOptions::result_part_bytes`]),
    /// each value sent when [`ImprovOptions::result_interval_ms`] allows.
    fn set_result(&mut self, result: &RpcResult, at_ms: u64) {
        // The options are the simulator's own; a result too long for its frame is sent empty.
        let frame = result.encode().unwrap_or_default();
        match self.options.result_part_bytes.filter(|&n| n > 0) {
            Some(n) if frame.len() > n => self
                .outbox
                .extend(frame.chunks(n).map(|part| (at_ms, part.to_vec()))),
            _ => self.outbox.push_back((at_ms, frame)),
        }
        self.send_results(at_ms);
    }

    /// Sends the queued result values due by `now_ms`: each becomes the value and a notification.
    fn send_results(&mut self, now_ms: u64) {
        let interval = self.options.result_interval_ms;
        while let Some(&(ready_at, _)) = self.outbox.front() {
            let sent_at = ready_at.max(self.next_result_at);
            if sent_at > now_ms {
                break;
            }
            let Some((_, value)) = self.outbox.pop_front() else {
                break;
            };
            let mut notified = value.clone();
            if let Some((_, bytes)) = self
                .options
                .cut_result_notification
                .filter(|&(n, _)| n == self.results_notified)
            {
                notified.truncate(bytes);
            }
            self.results_notified += 1;
            self.notifications
                .push((Characteristic::RpcResult, notified));
            self.result = value;
            self.next_result_at = sent_at.saturating_add(interval);
        }
    }

    /// Brings time-driven state up to `now_ms`, in the order things happen.
    pub fn tick(&mut self, now_ms: u64) {
        if let Some((credentials, started)) = self.connecting.clone() {
            let network = self.options.networks.iter().find(|n| {
                n.ssid.as_bytes() == credentials.ssid()
                    && (n.auth == Auth::Open || n.password.as_bytes() == credentials.password())
            });
            let done = started.saturating_add(match network {
                Some(_) => self.options.connect_ms,
                None => self.options.connect_timeout_ms,
            });
            if now_ms >= done {
                self.connecting = None;
                if network.is_some() {
                    // The result first, then the state, as ESPHome sends them
                    // (esphome `components/esp32_improv/esp32_improv_component.cpp`).
                    let strings = self
                        .options
                        .redirect_urls
                        .iter()
                        .map(|u| u.as_bytes().to_vec())
                        .collect();
                    self.set_result(
                        &RpcResult {
                            command: Command::WifiSettings,
                            strings,
                        },
                        done,
                    );
                    self.set_state(State::Provisioned, done);
                    self.provisioned_at = Some(done);
                } else {
                    self.set_error(ErrorCode::UnableToConnect);
                    self.set_state(State::Authorized, done);
                    if self.options.authorization {
                        self.authorized_until =
                            Some(done.saturating_add(self.options.authorization_ms));
                    }
                }
            }
        }
        if let Some(until) = self
            .authorized_until
            .filter(|&until| self.state == State::Authorized && now_ms >= until)
            .filter(|_| self.options.authorization)
        {
            self.authorized_until = None;
            self.set_state(State::AuthorizationRequired, until);
        }
        if let Some(due) = self.scan_due.filter(|&due| now_ms >= due) {
            self.scan_due = None;
            let networks: Vec<Network> = self
                .options
                .networks
                .iter()
                .map(|n| Network {
                    ssid: n.ssid.as_bytes().to_vec(),
                    rssi: Some(n.rssi),
                    auth: alloc::vec![n.auth.clone()],
                })
                .collect();
            if self.options.scan_per_network {
                for network in networks {
                    self.set_result(&Network::list_to_result(&[network]), due);
                }
                self.set_result(&Network::list_to_result(&[]), due);
            } else {
                self.set_result(&Network::list_to_result(&networks), due);
            }
        }
        self.send_results(now_ms);
    }

    /// A person presses the button: authorizes (again) when the device asks for it.
    pub fn press(&mut self, now_ms: u64) {
        self.tick(now_ms);
        if !self.options.authorization {
            return;
        }
        if matches!(self.state, State::AuthorizationRequired | State::Authorized) {
            self.authorized_until = Some(now_ms.saturating_add(self.options.authorization_ms));
            self.set_state(State::Authorized, now_ms);
        }
    }

    /// A client connects (replacing any other). Improv needs no bond.
    pub fn connect(&mut self, client: &str, now_ms: u64) {
        self.tick(now_ms);
        self.client = Some(client.into());
    }

    /// The link drops: half a command is forgotten, and the error cleared (ESPHome).
    pub fn disconnect(&mut self, now_ms: u64) {
        self.tick(now_ms);
        self.client = None;
        self.incoming.clear();
        self.set_error(ErrorCode::NoError);
    }

    /// A read.
    pub fn read(&mut self, c: Characteristic, now_ms: u64) -> Result<Vec<u8>, AttError> {
        self.tick(now_ms);
        if self.client.is_none() {
            return Err(AttError::Disconnected);
        }
        if self.stopped(now_ms) {
            return Err(AttError::AttributeNotFound);
        }
        let mut value = match c {
            Characteristic::State => alloc::vec![u8::from(self.state)],
            Characteristic::Error => alloc::vec![u8::from(self.error)],
            Characteristic::RpcResult => self.result.clone(),
            Characteristic::Capabilities => alloc::vec![self.options.capabilities.0],
            Characteristic::RpcCommand => return Err(AttError::ReadNotPermitted),
        };
        if let Some(limit) = self.options.read_limit {
            value.truncate(limit);
        }
        Ok(value)
    }

    /// Whether its Improv service has stopped ([`ImprovOptions::stop_after_provisioned_ms`]).
    pub fn stopped(&self, now_ms: u64) -> bool {
        match (self.provisioned_at, self.options.stop_after_provisioned_ms) {
            (Some(at), Some(after)) => now_ms >= at.saturating_add(after),
            _ => false,
        }
    }

    /// A write: only the RPC command characteristic takes one.
    pub fn write(&mut self, c: Characteristic, value: &[u8], now_ms: u64) -> Result<(), AttError> {
        self.tick(now_ms);
        if self.client.is_none() {
            return Err(AttError::Disconnected);
        }
        if self.stopped(now_ms) {
            return Err(AttError::AttributeNotFound);
        }
        if c != Characteristic::RpcCommand {
            return Err(AttError::WriteNotPermitted);
        }
        if self.state == State::Provisioned {
            // The service has done its job; ESPHome drops whatever comes.
            return Ok(());
        }
        self.incoming.extend_from_slice(value);
        let Some(&declared) = self.incoming.get(1) else {
            return Ok(());
        };
        let whole = usize::from(declared) + 3;
        if self.incoming.len() > whole {
            self.incoming.clear();
        } else if self.incoming.len() == whole {
            let frame = core::mem::take(&mut self.incoming);
            self.process(&frame, now_ms);
        }
        Ok(())
    }

    fn process(&mut self, frame: &[u8], now_ms: u64) {
        self.set_error(ErrorCode::NoError);
        let request = match Request::parse(frame) {
            Ok(r) if self.options.capabilities.offers(r.command()) => r,
            Err(rpc::Error::Checksum { .. }) => return self.set_error(ErrorCode::InvalidRpc),
            Ok(_) | Err(_) => return self.set_error(ErrorCode::UnknownCommand),
        };
        match request {
            Request::WifiSettings(credentials) => {
                if self.state != State::Authorized {
                    return self.set_error(ErrorCode::NotAuthorized);
                }
                self.set_state(State::Provisioning, now_ms);
                self.connecting = Some((credentials, now_ms));
            }
            Request::Identify => {
                self.identify_until = Some(now_ms.saturating_add(self.options.identify_ms));
            }
            Request::DeviceInfo => {
                let mut result = self.options.device_info.to_result();
                result.strings.truncate(self.options.device_info_strings);
                self.set_result(&result, now_ms);
            }
            Request::ScanWifi => {
                self.scan_due = Some(now_ms.saturating_add(self.options.scan_ms));
            }
        }
    }

    /// Whether it advertises its name instead of its service data now (ESPHome since
    /// esphome/esphome#10918, merged 2025-09, `esp32_improv_component.cpp`
    /// `update_advertising_type_`): for `NAME_ADVERTISING_DURATION` (1 s) from the start, then
    /// for 1 s every `NAME_ADVERTISING_INTERVAL` (60 s) after the last change of state or the
    /// last such second; a change of state ends it at once, and once provisioned it stops.
    pub fn naming(&self, now_ms: u64) -> bool {
        if !self.options.name_cycle || self.state == State::Provisioned {
            return false;
        }
        let since = now_ms.saturating_sub(self.state_changed_at.unwrap_or(0));
        // The start counts as a name phase; after a change of state the first comes 60 s later.
        let cycled = self.state_changed_at.is_none() || since >= NAME_INTERVAL_MS;
        cycled && since % NAME_INTERVAL_MS < NAME_DURATION_MS
    }

    /// The two packets it sends now, as ESPHome's `esp32_ble` builds them on ESP-IDF's
    /// Bluedroid: `[advertising data, scan response]`. ESPHome turns the scan response on
    /// (`esphome/components/esp32_ble/ble.cpp`, `advertising_init_`) and then
    /// (`ble_advertising.cpp`, `services_advertisement_`) leaves the name out of the advertising
    /// data and puts it (and the transmit power) in the scan response, which otherwise repeats the
    /// advertising data. Bluedroid (`esp-idf` `components/bt/host/bluedroid/stack/btm/
    /// btm_ble_gap.c`, `btm_ble_build_adv_data`) packs flags, name, transmit power, the 128-bit
    /// UUID, then service data into 31 bytes, skipping what no longer fits: the advertising data
    /// is flags (3), the Improv UUID (18) and the service data `0x4677` (10), 31 bytes, and the
    /// scan response has no room for the UUID beside a name of more than 8 bytes. While
    /// [`Self::naming`], the service data is cleared and the name joins the advertising data
    /// (where the UUID then no longer fits either). Once the service has stopped the UUID goes
    /// with it (`BLEService::stop`, `esphome/components/esp32_ble_server/ble_service.cpp`); the
    /// service data stays. The transmit power is not modelled.
    pub fn packets(&mut self, now_ms: u64) -> [Advertisement; 2] {
        self.tick(now_ms);
        let naming = self.naming(now_ms);
        let uuid = !self.stopped(now_ms);
        let data = ServiceData {
            state: self.state,
            capabilities: self.options.capabilities,
        };
        let service_data = (!naming).then(|| data.encode().to_vec());
        let packet = |flags: bool, name: bool, tx_power: bool| {
            let mut room = ADV_BYTES - if flags { 3 } else { 0 };
            let mut adv = Advertisement {
                address: Some(self.options.mac),
                ..Advertisement::default()
            };
            if name {
                let name = shortened(&self.options.name, room - 2);
                room -= 2 + name.len();
                adv.name = Some(name.into());
            }
            if tx_power && room > 2 {
                room -= 3;
            }
            if uuid && room >= 18 {
                room -= 18;
                adv.add_service_uuid(SERVICE_UUID);
            }
            if let Some(bytes) = service_data.as_ref().filter(|b| room >= 4 + b.len()) {
                adv.service_data.insert(SERVICE_DATA_UUID, bytes.clone());
            }
            adv
        };
        [packet(true, naming, false), packet(false, true, true)]
    }

    /// What an active scan hears now: both [`Self::packets`] merged (the name from the scan
    /// response). A passive scan hears only the first packet.
    pub fn advertisement(&mut self, now_ms: u64) -> Advertisement {
        let [mut adv, response] = self.packets(now_ms);
        if adv.name.is_none() {
            adv.name = response.name;
        }
        for uuid in response.service_uuids {
            adv.add_service_uuid(uuid);
        }
        for (uuid, bytes) in response.service_data.iter() {
            if !adv.service_data.contains_key(uuid) {
                adv.service_data.insert(*uuid, bytes.clone());
            }
        }
        adv
    }
}

/// A legacy advertising packet's bytes.
const ADV_BYTES: usize = 31;
/// ESPHome's `NAME_ADVERTISING_INTERVAL` (`esp32_improv_component.cpp`, since esphome#10918).
const NAME_INTERVAL_MS: u64 = 60_000;
/// ESPHome's `NAME_ADVERTISING_DURATION`.
const NAME_DURATION_MS: u64 = 1_000;

/// `name` cut to at most `max` bytes on a character boundary (Bluedroid's shortened name).
fn shortened(name: &str, max: usize) -> &str {
    let mut end = name.len().min(max);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gatt::{Action, Feedback};
    use crate::improv::client::{Client, Error, Options, Response};

    /// Drives the core client against the device: GATT operations as a browser would, sleeps by
    /// moving the clock, and (when `notify`) the device's notifications delivered between steps.
    /// Returns the outcome and the clock.
    fn drive(
        device: &mut ImprovDevice,
        client: &mut Client,
        now: &mut u64,
        notify: bool,
    ) -> Result<Response, Error> {
        for _ in 0..10_000 {
            if notify {
                for (c, value) in device.take_notifications() {
                    client.notified(c, &value, *now);
                }
            }
            match client.action() {
                Action::Read { characteristic } => {
                    let read = device.read(characteristic, *now);
                    let feedback = match &read {
                        Ok(bytes) => Feedback::Read(bytes),
                        Err(e) => Feedback::Failed(*e),
                    };
                    // What the device notified up to the read (its clock ran to `now`) came
                    // while the read was under way.
                    let during = notified_during(device, notify);
                    let during = during.iter().map(|(c, v)| (*c, v.as_slice()));
                    client.advance_after(during, feedback, *now);
                }
                Action::Write {
                    characteristic,
                    value,
                } => {
                    let feedback = match device.write(characteristic, value, *now) {
                        Ok(()) => Feedback::Written,
                        Err(e) => Feedback::Failed(e),
                    };
                    let during = notified_during(device, notify);
                    let during = during.iter().map(|(c, v)| (*c, v.as_slice()));
                    client.advance_after(during, feedback, *now);
                }
                Action::Sleep { until_ms } => {
                    // With notifications on, wake at the device's next event if it is sooner.
                    *now = if notify {
                        (*now + 100).min(until_ms)
                    } else {
                        until_ms
                    };
                    device.tick(*now);
                    if *now >= until_ms {
                        client.advance(Feedback::Woke, *now);
                    }
                }
                Action::Done => break,
            }
            *now += 5; // each GATT operation takes a little time
        }
        client.take_outcome().expect("the task ended")
    }

    /// The notifications the device queued, when the client is subscribed.
    fn notified_during(device: &mut ImprovDevice, notify: bool) -> Vec<(Characteristic, Vec<u8>)> {
        if notify {
            device.take_notifications()
        } else {
            Vec::new()
        }
    }

    fn start(options: ImprovOptions, now: &mut u64) -> (ImprovDevice, Client) {
        let mut device = ImprovDevice::new(options);
        device.connect("browser", *now);
        let mut client = Client::new(Options::default(), *now);
        let connected = drive(&mut device, &mut client, now, false);
        assert!(
            matches!(connected, Ok(Response::Connected { .. })),
            "{connected:?}"
        );
        (device, client)
    }

    /// Connects a client to a device made with `options` and scans, with notifications on or
    /// off: the networks listed and how long the scan took.
    fn scanned(options: ImprovOptions, notify: bool) -> (Vec<Network>, u64) {
        let mut now = 0;
        let (mut device, mut client) = start(options.clone(), &mut now);
        client.scan_wifi(now).unwrap();
        let started = now;
        let outcome = drive(&mut device, &mut client, &mut now, notify);
        let Ok(Response::Networks(networks)) = outcome else {
            panic!("{options:?}: {outcome:?}")
        };
        (networks, now - started)
    }

    /// A device made with `options`, connected and just sent `request` at time 0.
    fn asked(options: ImprovOptions, request: &Request) -> ImprovDevice {
        let mut device = ImprovDevice::new(options);
        device.connect("c", 0);
        device
            .write(Characteristic::RpcCommand, &request.encode(), 0)
            .unwrap();
        device
    }

    /// The SSIDs of the networks the simulator hears by default, in the order it lists them.
    const DEFAULT_NETWORKS: [&str; 3] = ["HomeNet", "Guest", "Neighbour"];

    fn names(networks: &[Network]) -> Vec<String> {
        networks.iter().map(Network::ssid_text).collect()
    }

    fn creds(ssid: &str, password: &str) -> Credentials {
        Credentials::new(ssid, password).unwrap()
    }

    /// The whole flow by polling only: authorization by a button press, device info, a scan,
    /// credentials, "provisioned" and the redirect URL.
    #[test]
    fn provisioning_by_polling_from_authorization_to_redirect() {
        let mut now = 0;
        let (mut device, mut client) = start(ImprovOptions::default(), &mut now);
        assert_eq!(client.state(), Some(State::AuthorizationRequired));

        client
            .send_wifi(creds("HomeNet", "correct horse"), now)
            .unwrap();
        assert_eq!(
            drive(&mut device, &mut client, &mut now, false),
            Err(Error::AuthorizationRequired)
        );

        client.await_authorization(now).unwrap();
        drive_until(&mut device, &mut client, &mut now, 3_000);
        device.press(now);
        assert_eq!(
            drive(&mut device, &mut client, &mut now, false),
            Ok(Response::Authorized)
        );

        client.request_device_info(now).unwrap();
        let Ok(Response::DeviceInfo(info)) = drive(&mut device, &mut client, &mut now, false)
        else {
            panic!("no device info")
        };
        assert_eq!(info.firmware, "ESPHome");

        client.scan_wifi(now).unwrap();
        let Ok(Response::Networks(networks)) = drive(&mut device, &mut client, &mut now, false)
        else {
            panic!("no networks")
        };
        assert_eq!(names(&networks), DEFAULT_NETWORKS);

        client
            .send_wifi(creds("HomeNet", "correct horse"), now)
            .unwrap();
        let Ok(Response::Provisioned {
            redirect: Some(url),
            redirect_error: None,
        }) = drive(&mut device, &mut client, &mut now, false)
        else {
            panic!("not provisioned")
        };
        assert_eq!(url.as_str(), "http://192.168.1.43/");
        assert_eq!(device.state(), State::Provisioned);
    }

    /// ESPHome before 2026.6 answers a read with 22 bytes, and every version stops its Improv
    /// service 10 s after provisioning: the client still ends "provisioned", without the URL.
    #[test]
    fn an_older_esphome_cuts_reads_and_stops_after_provisioning() {
        let mut now = 0;
        let options = ImprovOptions {
            authorization: false,
            read_limit: Some(22),
            ..ImprovOptions::default()
        };
        let (mut device, mut client) = start(options, &mut now);
        client
            .send_wifi(creds("HomeNet", "correct horse"), now)
            .unwrap();
        let Ok(Response::Provisioned {
            redirect: None,
            redirect_error: Some(_),
        }) = drive(&mut device, &mut client, &mut now, false)
        else {
            panic!("not provisioned")
        };
        assert_eq!(
            device.read(Characteristic::RpcResult, now).map(|r| r.len()),
            Ok(22)
        );
        let stopped = now + 10_000;
        assert_eq!(
            device.read(Characteristic::State, stopped),
            Err(AttError::AttributeNotFound)
        );
        assert_eq!(
            device.write(Characteristic::RpcCommand, &[0x02, 0x00, 0x02], stopped),
            Err(AttError::AttributeNotFound)
        );
        // The advertising loses the service UUID with the service; the service data stays.
        assert!(
            device
                .advertisement(now)
                .service_uuids
                .contains(&SERVICE_UUID)
        );
        let after = device.advertisement(stopped);
        assert!(!after.service_uuids.contains(&SERVICE_UUID), "{after:?}");
        let data = ServiceData::parse(&after.service_data[&SERVICE_DATA_UUID]).unwrap();
        assert_eq!(data.state, State::Provisioned);
    }

    /// Runs the client's polling until `until` without expecting an outcome.
    fn drive_until(device: &mut ImprovDevice, client: &mut Client, now: &mut u64, until: u64) {
        while *now < until {
            match client.action() {
                Action::Read { characteristic } => {
                    let bytes = device.read(characteristic, *now).unwrap();
                    client.advance(Feedback::Read(&bytes), *now);
                }
                Action::Sleep { until_ms } => {
                    *now = until_ms;
                    client.advance(Feedback::Woke, *now);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The failure path with notifications: a wrong password gives "unable to connect" after
    /// ESPHome's 30 s, and the device goes back to "authorized".
    #[test]
    fn a_wrong_password_fails_with_unable_to_connect_by_notification() {
        let mut now = 0;
        let options = ImprovOptions {
            authorization: false,
            ..ImprovOptions::default()
        };
        let (mut device, mut client) = start(options, &mut now);
        client.send_wifi(creds("HomeNet", "wrong"), now).unwrap();
        let started = now;
        assert_eq!(
            drive(&mut device, &mut client, &mut now, true),
            Err(Error::Device(ErrorCode::UnableToConnect))
        );
        assert!(
            now - started >= 30_000 && now - started < 30_200,
            "{}",
            now - started
        );
        assert!(client.notifications_seen());
        assert_eq!(device.state(), State::Authorized);

        // A second attempt with the right password, while the old error still reads 3.
        client
            .send_wifi(creds("HomeNet", "correct horse"), now)
            .unwrap();
        assert!(matches!(
            drive(&mut device, &mut client, &mut now, false),
            Ok(Response::Provisioned { .. })
        ));
    }

    #[test]
    fn a_second_failure_is_seen_although_the_error_stays_the_same() {
        let mut now = 0;
        let options = ImprovOptions {
            authorization: false,
            connect_timeout_ms: 5_000,
            ..ImprovOptions::default()
        };
        let (mut device, mut client) = start(options, &mut now);
        client.send_wifi(creds("Nowhere", "x"), now).unwrap();
        let first = drive(&mut device, &mut client, &mut now, false);
        assert_eq!(first, Err(Error::Device(ErrorCode::UnableToConnect)));
        client.send_wifi(creds("Nowhere", "y"), now).unwrap();
        let second = drive(&mut device, &mut client, &mut now, false);
        assert_eq!(second, Err(Error::Device(ErrorCode::UnableToConnect)));
    }

    /// A device-info answer with three strings is refused by the client, as revision 2.1 asks
    /// for at least four.
    #[test]
    fn device_info_may_answer_too_few_strings() {
        let mut now = 0;
        let options = ImprovOptions {
            device_info_strings: 3,
            ..ImprovOptions::default()
        };
        let (mut device, mut client) = start(options, &mut now);
        client.request_device_info(now).unwrap();
        assert_eq!(
            drive(&mut device, &mut client, &mut now, false),
            Err(Error::Rpc(rpc::Error::TooFewStrings {
                expected: 4,
                found: 3
            }))
        );
    }

    #[test]
    fn authorization_lapses_after_a_minute() {
        let mut device = ImprovDevice::new(ImprovOptions::default());
        device.press(1_000);
        assert_eq!(device.state(), State::Authorized);
        device.tick(60_999);
        assert_eq!(device.state(), State::Authorized);
        device.tick(61_000);
        assert_eq!(device.state(), State::AuthorizationRequired);
    }

    #[test]
    fn identify_blinks_for_ten_seconds() {
        let mut now = 0;
        let (mut device, mut client) = start(ImprovOptions::default(), &mut now);
        client.identify(now).unwrap();
        assert_eq!(
            drive(&mut device, &mut client, &mut now, false),
            Ok(Response::Identified)
        );
        assert!(device.identifying(now));
        assert!(!device.identifying(now + 10_000));
        // To the millisecond, from a command written at 0.
        let device = asked(ImprovOptions::default(), &Request::Identify);
        assert_eq!(device.client(), Some("c"));
        assert!(device.identifying(9_999));
        assert!(!device.identifying(10_000));
    }

    /// ESPHome collects split writes until the declared length is there.
    #[test]
    fn a_command_split_over_writes_is_collected() {
        let mut device = ImprovDevice::new(ImprovOptions::default());
        device.connect("c", 0);
        let frame = Request::DeviceInfo.encode();
        device
            .write(Characteristic::RpcCommand, &frame[..1], 0)
            .unwrap();
        assert!(
            device
                .read(Characteristic::RpcResult, 0)
                .unwrap()
                .is_empty()
        );
        device
            .write(Characteristic::RpcCommand, &frame[1..], 0)
            .unwrap();
        let result = RpcResult::parse(&device.read(Characteristic::RpcResult, 0).unwrap());
        assert_eq!(result.map(|r| r.command), Ok(Command::DeviceInfo));
    }

    #[test]
    fn bad_commands_set_the_documented_errors() {
        let mut device = ImprovDevice::new(ImprovOptions {
            capabilities: Capabilities(Capabilities::IDENTIFY),
            ..ImprovOptions::default()
        });
        device.connect("c", 0);
        let error = |d: &mut ImprovDevice| d.read(Characteristic::Error, 0).unwrap()[0];
        device
            .write(Characteristic::RpcCommand, &[0x02, 0x00, 0x05], 0)
            .unwrap();
        assert_eq!(error(&mut device), 0x01, "bad checksum: invalid RPC");
        device
            .write(Characteristic::RpcCommand, &[0x09, 0x00, 0x09], 0)
            .unwrap();
        assert_eq!(error(&mut device), 0x02, "unknown command");
        device
            .write(Characteristic::RpcCommand, &Request::ScanWifi.encode(), 0)
            .unwrap();
        assert_eq!(error(&mut device), 0x02, "not in the capabilities");
        let wifi = Request::WifiSettings(creds("HomeNet", "correct horse")).encode();
        device.write(Characteristic::RpcCommand, &wifi, 0).unwrap();
        assert_eq!(error(&mut device), 0x04, "not authorized");
        // sdk-cpp's parse_improv_data: an SSID running past the data is UNKNOWN (0x02); bytes
        // after the password are ignored, so these settings are read (and not authorized).
        for (data, code) in [
            (&[0x05, b'a', b'b'][..], 0x02),
            (&[1, b'a', 1, b'b', 1], 0x04),
        ] {
            let mut frame = alloc::vec![0x01, data.len() as u8];
            frame.extend_from_slice(data);
            frame.push(rpc::checksum(&frame));
            device.write(Characteristic::RpcCommand, &frame, 0).unwrap();
            assert_eq!(error(&mut device), code, "{frame:02x?}");
        }
        device
            .write(Characteristic::RpcCommand, &Request::Identify.encode(), 0)
            .unwrap();
        assert_eq!(error(&mut device), 0x00, "each command clears the error");
        assert_eq!(
            device.write(Characteristic::State, &[2], 0),
            Err(AttError::WriteNotPermitted)
        );
        assert_eq!(
            device.read(Characteristic::RpcCommand, 0),
            Err(AttError::ReadNotPermitted)
        );
    }

    #[test]
    fn the_advertisement_carries_state_and_capabilities() {
        let mut device = ImprovDevice::new(ImprovOptions::default());
        let adv = device.advertisement(NAME_DURATION_MS);
        assert_eq!(adv.service_uuids, [SERVICE_UUID]);
        let data = ServiceData::parse(&adv.service_data[&SERVICE_DATA_UUID]).unwrap();
        assert_eq!(data.state, State::AuthorizationRequired);
        assert_eq!(data.capabilities, Capabilities(0x07));
    }

    /// The bytes a packet takes on air: each field as Bluedroid writes it.
    fn air_bytes(adv: &Advertisement, flags: bool) -> usize {
        let name = adv.name.as_ref().map_or(0, |n| 2 + n.len());
        let data: usize = adv.service_data.values().map(|d| 4 + d.len()).sum();
        usize::from(flags) * 3 + name + 18 * adv.service_uuids.len() + data
    }

    /// ESPHome's advertising data is flags, the 128-bit Improv UUID and the service data (31
    /// bytes, so no room for a name); the name is in the scan response, with the service data
    /// but without the UUID, which no longer fits beside a 10-byte name and the transmit power.
    #[test]
    fn the_name_is_in_the_scan_response_and_the_uuid_beside_the_service_data() {
        let mut device = ImprovDevice::new(ImprovOptions::default());
        let [data, response] = device.packets(5_000);
        assert_eq!(data.name, None);
        assert_eq!(data.service_uuids, [SERVICE_UUID]);
        assert_eq!(
            data.service_data[&SERVICE_DATA_UUID],
            [0x01, 0x07, 0, 0, 0, 0]
        );
        assert_eq!(air_bytes(&data, true), 31);
        assert_eq!(response.name.as_deref(), Some("improv-sim"));
        assert!(response.service_uuids.is_empty(), "{response:?}");
        assert!(response.service_data.contains_key(&SERVICE_DATA_UUID));
        assert!(air_bytes(&response, false) + 3 <= 31);
        // An active scan hears both: the merged view has all three.
        let heard = device.advertisement(5_000);
        assert_eq!(heard.name.as_deref(), Some("improv-sim"));
        assert_eq!(heard.service_uuids, [SERVICE_UUID]);
        assert!(heard.service_data.contains_key(&SERVICE_DATA_UUID));
    }

    /// ESPHome since esphome#10918 starts by advertising its name, without service data, for
    /// 1 s; then service data, and the name again for 1 s every 60 s. A change of state ends a
    /// name phase at once and starts the 60 s over; once provisioned the name phases stop.
    #[test]
    fn the_name_is_advertised_for_a_second_at_the_start_and_every_minute() {
        let mut device = ImprovDevice::new(ImprovOptions::default());
        let naming = |d: &mut ImprovDevice, t: u64| {
            let [data, response] = d.packets(t);
            let named = data.name.as_deref() == Some("improv-sim");
            assert_eq!(named, data.service_data.is_empty(), "{t}: {data:?}");
            assert!(air_bytes(&data, true) <= 31, "{t}: {data:?}");
            assert!(response.service_data.is_empty() || !named, "{t}");
            named
        };
        assert!(naming(&mut device, 0));
        assert!(naming(&mut device, 999));
        assert!(!naming(&mut device, 1_000));
        assert!(!naming(&mut device, 59_999));
        assert!(naming(&mut device, 60_000));
        assert!(naming(&mut device, 60_999));
        assert!(!naming(&mut device, 61_000));
        assert!(naming(&mut device, 120_500));
        // A 10-byte name leaves no room for the UUID beside it.
        assert!(device.packets(120_500)[0].service_uuids.is_empty());

        // A press at 120.5 s, during a name phase, authorizes: service data at once, and the
        // next name 60 s later, when the authorization lapses: that change of state starts the
        // 60 s over.
        device.press(120_500);
        assert!(!naming(&mut device, 120_500));
        assert!(!naming(&mut device, 180_000));
        assert!(!naming(&mut device, 180_500));
        assert_eq!(device.state(), State::AuthorizationRequired);
        assert!(naming(&mut device, 240_500));

        // Once provisioned, service data only, and after the stop without the UUID.
        let mut device = ImprovDevice::new(ImprovOptions {
            authorization: false,
            ..ImprovOptions::default()
        });
        device.connect("c", 500);
        let wifi = Request::WifiSettings(creds("HomeNet", "correct horse")).encode();
        device
            .write(Characteristic::RpcCommand, &wifi, 500)
            .unwrap();
        device.tick(3_500);
        assert_eq!(device.state(), State::Provisioned);
        assert!(!naming(&mut device, 63_500));
        assert!(
            device.packets(13_499)[0]
                .service_uuids
                .contains(&SERVICE_UUID)
        );
        assert!(device.packets(13_500)[0].service_uuids.is_empty());
        assert!(!naming(&mut device, 123_500));
    }

    /// Tasmota's Berry example notifies every result in parts of 20 bytes and leaves the last
    /// part in the characteristic: the client joins the parts, and a device-info answer of 47
    /// bytes (three notifications) arrives whole. Before, the client read the last part and
    /// failed the task with a result that does not parse.
    #[test]
    fn results_notified_in_parts_reach_the_client_whole() {
        let mut now = 0;
        let info = DeviceInfo::of("Tasmota", "14.4.1", "ESP32-C3", "tasmota-1A2B3C-2748");
        let options = ImprovOptions {
            authorization: false,
            result_part_bytes: Some(20),
            device_info: info.clone(),
            ..ImprovOptions::default()
        };
        let mut probe = asked(options.clone(), &Request::DeviceInfo);
        let frame = info.to_result().encode().unwrap();
        let parts: Vec<Vec<u8>> = probe
            .take_notifications()
            .into_iter()
            .map(|(_, part)| part)
            .collect();
        let expected: Vec<Vec<u8>> = frame.chunks(20).map(<[u8]>::to_vec).collect();
        assert_eq!((frame.len(), parts), (47, expected));
        assert_eq!(
            probe.read(Characteristic::RpcResult, 0),
            Ok(frame[40..].to_vec()),
            "the value holds the last part"
        );
        // Parts of no bytes are no parts: the result goes out whole.
        let zero = ImprovOptions {
            result_part_bytes: Some(0),
            ..options.clone()
        };
        let mut whole = asked(zero, &Request::DeviceInfo);
        let values: Vec<Vec<u8>> = whole
            .take_notifications()
            .into_iter()
            .map(|(_, value)| value)
            .collect();
        assert_eq!(values, [frame]);

        let (mut device, mut client) = start(options, &mut now);
        client.request_device_info(now).unwrap();
        assert_eq!(
            drive(&mut device, &mut client, &mut now, true),
            Ok(Response::DeviceInfo(info))
        );
    }

    /// Tasmota's Berry example answers a scan with one result per network, then an empty one,
    /// each notified in parts of 20 bytes: the client collects the whole list. Before, it took
    /// the first network for the answer.
    #[test]
    fn a_scan_answered_one_network_per_result_reaches_the_client_whole() {
        let options = ImprovOptions {
            authorization: false,
            scan_per_network: true,
            result_part_bytes: Some(20),
            ..ImprovOptions::default()
        };
        let mut probe = asked(options.clone(), &Request::ScanWifi);
        probe.tick(2_000);
        let results: Vec<Vec<u8>> = probe
            .take_notifications()
            .into_iter()
            .map(|(_, value)| value)
            .collect();
        // HomeNet's frame is 20 bytes, Guest's 16, Neighbour's 21 (two parts), then the end.
        let sizes: Vec<usize> = results.iter().map(Vec::len).collect();
        assert_eq!(sizes, [20, 16, 20, 1, 3], "{results:02x?}");
        assert_eq!(results[4], [0x04, 0x00, 0x04]);

        let (networks, _) = scanned(options, true);
        assert_eq!(names(&networks), DEFAULT_NETWORKS);
    }

    /// A scan answered one network per result, Tasmota's way: parts of 20 bytes, one value every
    /// 200 ms, each replacing the last.
    fn tasmota_scan() -> ImprovOptions {
        ImprovOptions {
            authorization: false,
            scan_per_network: true,
            result_part_bytes: Some(20),
            result_interval_ms: 200,
            ..ImprovOptions::default()
        }
    }

    /// The values spaced by `result_interval_ms`; the cut notification keeps its first bytes and
    /// the value read stays whole.
    #[test]
    fn result_values_are_spaced_and_one_notification_is_cut() {
        let options = ImprovOptions {
            cut_result_notification: Some((1, 10)),
            ..tasmota_scan()
        };
        let mut device = asked(options, &Request::ScanWifi);
        let guest = Network::encoded_list(&[Network::of("Guest", -61, Auth::Open)]);
        let mut sizes = Vec::new();
        for t in [2_000, 2_199, 2_200, 2_400, 2_600, 2_800] {
            device.tick(t);
            let notified: Vec<usize> = device
                .take_notifications()
                .iter()
                .map(|(_, value)| value.len())
                .collect();
            sizes.push(notified);
            if t == 2_200 {
                assert_eq!(device.read(Characteristic::RpcResult, t), Ok(guest.clone()));
            }
        }
        // HomeNet (20), Guest cut from 16 to 10, Neighbour's two parts (20 + 1), the end (3).
        assert_eq!(
            sizes,
            [vec![20], vec![], vec![10], vec![20], vec![1], vec![3]]
        );
    }

    /// A stack cuts Guest's notification (16 bytes, to 10) and Neighbour's result follows in two
    /// parts: the client drops the cut part, reads Guest's result whole from the value, joins
    /// Neighbour's parts and lists every network. Before, the cut part and Neighbour's first part
    /// were joined into more bytes than declared and the scan failed with `TrailingBytes`.
    #[test]
    fn a_cut_notification_then_a_result_in_parts_still_lists_every_network() {
        let options = ImprovOptions {
            cut_result_notification: Some((1, 10)),
            ..tasmota_scan()
        };
        let (networks, _) = scanned(options, true);
        assert_eq!(names(&networks), DEFAULT_NETWORKS);
    }

    /// Without notifications, a device answering one network per result every 200 ms: the client
    /// reads the result often enough to see each. Before, it read every 500 ms and listed only
    /// the networks it happened to read.
    #[test]
    fn a_scan_one_network_per_result_by_polling_lists_every_network() {
        let options = ImprovOptions {
            result_part_bytes: None,
            ..tasmota_scan()
        };
        let (networks, took) = scanned(options, false);
        assert_eq!(names(&networks), DEFAULT_NETWORKS);
        // The empty result (at 2.6 s) ends the list, not the quiet time.
        assert!(took < 2_800, "{took}");
    }

    /// A device that sends every network of a scan at once, one per result, and the empty end
    /// (Tasmota's way without its 200 ms spacing), on a connection where no notification has come
    /// yet, so the client polls the result every 50 ms: whenever the scan ends, before, during or
    /// after a read, every network is listed, whole or notified in parts of 20 bytes.
    #[test]
    fn a_polled_scan_lists_every_network_whenever_the_device_sends_them() {
        for (parts, offset) in [None, Some(20)]
            .into_iter()
            .flat_map(|p| (0..60).map(move |o| (p, o)))
        {
            let options = ImprovOptions {
                result_part_bytes: parts,
                result_interval_ms: 0,
                scan_ms: 2_000 + offset,
                ..tasmota_scan()
            };
            let (networks, _) = scanned(options, true);
            assert_eq!(names(&networks), DEFAULT_NETWORKS, "{parts:?} {offset}");
        }
    }

    /// Guest's only notification cut from 16 to 10 bytes (ESP-IDF, espressif/esp-idf#3315) and
    /// every value sent at once, so the read after the cut answers a later network: Guest's
    /// result is gone, but the 10 bytes hold its SSID whole, and it is listed by name, its signal
    /// and security unknown. Before, it was missing from the list.
    #[test]
    fn a_network_whose_cut_result_was_replaced_is_listed_by_its_name() {
        for parts in [None, Some(20)] {
            let options = ImprovOptions {
                cut_result_notification: Some((1, 10)),
                result_part_bytes: parts,
                result_interval_ms: 0,
                ..tasmota_scan()
            };
            let (networks, _) = scanned(options, true);
            assert_eq!(names(&networks), DEFAULT_NETWORKS, "{parts:?}");
            let guest = &networks[1];
            assert_eq!((guest.rssi, guest.auth_known()), (None, false), "{parts:?}");
        }
    }

    /// Before esphome#10918 the name was only ever in the scan response.
    #[test]
    fn without_the_name_cycle_the_service_data_is_there_from_the_start() {
        let mut device = ImprovDevice::new(ImprovOptions {
            name_cycle: false,
            ..ImprovOptions::default()
        });
        for t in [0, 60_000, 120_500] {
            let [data, response] = device.packets(t);
            assert_eq!(data.name, None);
            assert_eq!(data.service_uuids, [SERVICE_UUID]);
            assert!(data.service_data.contains_key(&SERVICE_DATA_UUID));
            assert_eq!(response.name.as_deref(), Some("improv-sim"));
        }
    }

    /// A long name is shortened to what fits, on a character boundary.
    /// The scan response gives the name what a packet has (31 bytes less its 2-byte header), and
    /// fits the transmit power (3 bytes) only where it still has room.
    #[test]
    fn the_scan_response_holds_a_name_of_up_to_29_bytes() {
        let packets = |name: &str| {
            ImprovDevice::new(ImprovOptions {
                name: name.into(),
                ..ImprovOptions::default()
            })
            .packets(5_000)
        };
        let long = "a".repeat(40);
        let [_, response] = packets(&long);
        assert_eq!(response.name.as_deref(), Some(&long[..29]));
        // 2 bytes left after it: no transmit power.
        let name = "b".repeat(27);
        let [_, response] = packets(&name);
        assert_eq!(response.name.as_deref(), Some(name.as_str()));
    }

    #[test]
    fn a_long_name_is_shortened_to_fit() {
        assert_eq!(shortened("improv-sim", 4), "impr");
        assert_eq!(shortened("ééé", 3), "é");
        assert_eq!(shortened("ab", 10), "ab");
    }
}

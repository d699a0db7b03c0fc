//! The simulated Shelly BLU Gateway Gen3: device state and the RPC methods over it.
//!
//! Everything the methods change is real state that later calls read back. Time is the `now_ms`
//! passed to [`Gateway::handle`] and [`Gateway::tick`].
//!
//! By default it does what real firmware does where a simulator is easily kinder (reference:
//! shelly_rpc_ble.md §8, from mongoose-os-libs rpc-common and rpc-gatts, the Shelly API documents,
//! a real BLU Gateway Gen3's RPC dump in Luligu/matterbridge-shelly `src/mock/`, aioshelly); each
//! kinder behaviour of earlier versions stays as an option of [`GatewayOptions`]:
//! * `BTHome.AddDevice` / `AddSensor` answer `{"added": "bthomedevice:200"}` ([`AddAnswer`]).
//! * A freshly added BTHome device has no known objects until the gateway hears its next packet;
//!   then a `new_objects` event goes out ([`GatewayOptions::objects_known_at_once`]).
//! * The device clock counts seconds from boot (1970) until Wi-Fi first gets an IP, then jumps to
//!   real time (`epoch_s + now_ms / 1000`, as SNTP would set it): the 401 nonce is that clock, so
//!   nonces from before the jump are refused with a new 401 ([`GatewayOptions::clock_synced`]).
//!   A nonce lasts an hour; each use needs a higher `nc` than the last (at most 30,000).
//! * `WiFi.GetStatus` swings between `connecting` and `disconnected` while the station retries
//!   ([`GatewayOptions::wifi_steady`]); `WiFi.SetConfig` may answer `restart_required: true`, the
//!   settings then apply after `Shelly.Reboot` ([`GatewayOptions::wifi_restart_required`]).
//! * `BLE.GetStatus` has no `provisioning` member ([`GatewayOptions::report_provisioning`]).
//!
//! Behaviour the firmware documentation leaves open is modelled as follows (and marked so in the
//! CLI README):
//! * Provisioning state: `pending` → `confirmed` when `WiFi.SetConfig` gives station credentials;
//!   `confirmed` → `complete` when the client disconnects after Wi-Fi got an IP. `locked` only by
//!   option.
//! * Component-id conflicts, bad parameters and a second discovery answer -103; unknown ids -105;
//!   a full id range or bond list -108; unknown methods 404.
//! * The `new_objects` event is `{"component": "bthomedevice:<id>", "id": <id>, "event":
//!   "new_objects", "ts": …}` (the document names the event without an example).
//! * A wrong Wi-Fi password: two attempts (`connecting` 1 s, `disconnected` 1 s), then the station
//!   gives up and stays `disconnected`. A `cnonce` above 32 bits is refused (closed firmware may
//!   read it as a number).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::advertisement::MacAddress;
use crate::shelly::auth::{self, AuthParams, Challenge, SetAuthParams};
use crate::shelly::frame::{Notification, Request, Response, RpcError};
use crate::shelly::methods::ble::{
    self, AdvertiseOnceParams, BleConfig, BleStatus, DeletePairedDeviceParams, PairedDevice,
    PairingStatus, RelayInfo, RpcConfig, StartAssociationsParams, StartPairingParams,
};
use crate::shelly::methods::bthome::{
    self, AddDeviceParams, AddSensorParams, DeviceConfig, DeviceSetConfigParams,
    GetObjectInfosParams, IdParams, SensorConfig, SensorSetConfigParams, StartDiscoveryParams,
};
use crate::shelly::methods::shelly::{RebootParams, SysSetConfigParams};
use crate::shelly::methods::wifi::{self, ScanResult};
use crate::shelly::methods::{ErrorCode, Method};

use super::sensors::SimSensor;

/// Provisioning state of the BLE RPC channel (BLE component document, firmware 2.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Provisioning {
    /// Fresh device: RPC without pairing.
    #[default]
    Pending,
    /// Set-up in progress: RPC without pairing.
    Confirmed,
    /// Set up: pairing required.
    Complete,
    /// Locked: pairing required.
    Locked,
}

impl Provisioning {
    /// `pending`, `confirmed`, `complete`, `locked`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Complete => "complete",
            Self::Locked => "locked",
        }
    }

    /// Parses [`Provisioning::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Pending, Self::Confirmed, Self::Complete, Self::Locked]
            .into_iter()
            .find(|p| p.name() == name)
    }

    /// True in `complete` and `locked`: connections must be bonded.
    pub const fn pairing_required(self) -> bool {
        matches!(self, Self::Complete | Self::Locked)
    }
}

/// How `BTHome.AddDevice` / `BTHome.AddSensor` name the new component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddAnswer {
    /// `{"added": "bthomedevice:200"}`, as real firmware answers.
    #[default]
    Added,
    /// `{"key": "bthomedevice:200"}`, as the document's table says.
    Key,
}

/// A Wi-Fi network the simulated radio can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// What `WiFi.Scan` reports.
    pub scan: ScanResult,
    /// The password that joins it (`None`: open).
    pub password: Option<String>,
}

/// Initial state of the simulated gateway.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Bluetooth/Wi-Fi MAC.
    pub mac: MacAddress,
    /// Model code.
    pub model: String,
    /// Digest-auth password (auth enabled when set).
    pub password: Option<String>,
    /// Provisioning state.
    pub provisioning: Provisioning,
    /// `BLE.rpc.enable`.
    pub rpc_enabled: bool,
    /// Unix time at `now_ms = 0`.
    pub epoch_s: u64,
    /// Networks `WiFi.Scan` finds.
    pub networks: Vec<Network>,
    /// Time from `WiFi.SetConfig` to `got ip`.
    pub wifi_connect_ms: u64,
    /// Items per `BLE.CloudRelay.ListInfos` page.
    pub relay_page_size: usize,
    /// Items per `BTHome.GetObjectInfos` page.
    pub object_page_size: usize,
    /// Bond capacity.
    pub max_bonds: usize,
    /// Clients bonded from the start.
    pub bonds: Vec<String>,
    /// The member naming a new BTHome component.
    pub add_answer: AddAnswer,
    /// A BTHome device's objects are known as soon as it is added, if its sensor ever sent
    /// (instead of after its next packet).
    pub objects_known_at_once: bool,
    /// The clock is real time from the start (instead of counting from boot until Wi-Fi joins).
    pub clock_synced: bool,
    /// `WiFi.GetStatus` stays `connecting` until the join ends (instead of swinging).
    pub wifi_steady: bool,
    /// `WiFi.SetConfig` with station settings answers `restart_required: true`; they apply after
    /// `Shelly.Reboot`.
    pub wifi_restart_required: bool,
    /// `BLE.GetStatus` reports the provisioning state as `provisioning`.
    pub report_provisioning: bool,
}

/// The default networks: `HomeNet` (WPA2, password `correct horse`), `Guest` (open),
/// `Neighbour` (WPA/WPA2, password `neighbour`).
pub fn default_networks() -> Vec<Network> {
    let net =
        |ssid: &str, bssid: &str, auth: u8, channel: u8, rssi: i32, pw: Option<&str>| Network {
            scan: ScanResult {
                ssid: Some(ssid.into()),
                bssid: bssid.into(),
                auth,
                channel,
                rssi,
            },
            password: pw.map(Into::into),
        };
    alloc::vec![
        net(
            "HomeNet",
            "b0:be:76:00:00:01",
            3,
            6,
            -52,
            Some("correct horse")
        ),
        net("Guest", "b0:be:76:00:00:02", 0, 11, -67, None),
        net(
            "Neighbour",
            "dc:a6:32:00:00:03",
            4,
            1,
            -84,
            Some("neighbour")
        ),
    ]
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            mac: MacAddress([0xCC, 0xBA, 0x97, 0x0D, 0x5E, 0x01]),
            model: "S3GW-1DBT001".into(),
            password: None,
            provisioning: Provisioning::Pending,
            rpc_enabled: true,
            epoch_s: 1_700_000_000,
            networks: default_networks(),
            wifi_connect_ms: 3_000,
            relay_page_size: 5,
            object_page_size: 5,
            max_bonds: 20,
            bonds: Vec::new(),
            add_answer: AddAnswer::Added,
            objects_known_at_once: false,
            clock_synced: false,
            wifi_steady: false,
            wifi_restart_required: false,
            report_provisioning: false,
        }
    }
}

/// How long a station attempt shows `connecting`, and the pause after a failed one.
const WIFI_ATTEMPT_MS: u64 = 1_000;
/// Attempts before a station with a wrong password gives up.
const WIFI_ATTEMPTS: u64 = 2;
/// How long a digest nonce is good for (shelly-api-docs, Authentication: about an hour).
const NONCE_LIFETIME_S: u64 = 3_600;
/// Requests one nonce may serve (shelly-api-docs, Authentication: up to 30,000).
const MAX_NC: u64 = 30_000;

/// A station join under way.
#[derive(Debug, Clone, Copy)]
struct Join {
    started_ms: u64,
    /// The network exists and the password fits.
    ok: bool,
}

#[derive(Debug, Clone, Default)]
struct Wifi {
    sta_ssid: Option<String>,
    sta_pass: Option<String>,
    sta_enable: bool,
    ap_enable: bool,
    join: Option<Join>,
    connected: bool,
    /// Station settings wait for a reboot.
    join_on_boot: bool,
}

/// Whether the gateway knows a BTHome device's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    /// Not until its sensor has sent more than this many packets.
    After(u32),
    /// Known.
    Known,
}

#[derive(Debug, Clone)]
struct DiscoveryRun {
    started_ms: u64,
    duration_s: u32,
    emitted: usize,
}

#[derive(Debug, Clone)]
struct Window {
    started_ms: u64,
    duration_s: u32,
}

impl Window {
    fn end_ms(&self) -> u64 {
        self.started_ms
            .saturating_add(u64::from(self.duration_s).saturating_mul(1000))
    }
}

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

/// The simulated gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    options: GatewayOptions,
    id: String,
    ha1: Option<String>,
    name: Option<String>,
    provisioning: Provisioning,
    rpc_enabled: bool,
    bonds: Vec<PairedDevice>,
    pairing: Option<Window>,
    associations: Option<Window>,
    wifi: Wifi,
    devices: BTreeMap<u16, DeviceConfig>,
    heard: BTreeMap<u16, Heard>,
    sensor_components: BTreeMap<u16, SensorConfig>,
    discovery: Option<DiscoveryRun>,
    sensors: Vec<SimSensor>,
    outbox: VecDeque<Notification>,
    user_advert: Option<UserAdvert>,
    clock_synced: bool,
    boot_ms: u64,
    reboot_at: Option<u64>,
    rebooted: bool,
    /// Highest `nc` accepted per nonce.
    nonce_counts: BTreeMap<u64, u64>,
}

type Outcome = Result<Value, RpcError>;

fn rpc_error(code: ErrorCode, message: impl Into<String>) -> RpcError {
    RpcError {
        code: code.code(),
        message: message.into(),
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn params<P: DeserializeOwned>(req: &Request) -> Result<P, RpcError> {
    let value = req.params.clone().unwrap_or_else(|| json!({}));
    serde_json::from_value(value)
        .map_err(|e| rpc_error(ErrorCode::InvalidArgument, format!("invalid params: {e}")))
}

fn mac_lower(mac: &MacAddress) -> String {
    mac.to_string().to_ascii_lowercase()
}

/// Parses `AA:BB:…` in any case, with `,p`-style type suffixes tolerated.
/// The `config.addr` of `BTHome.AddDevice` / `BTHome.AddSensor`, which must be a MAC address.
fn config_addr(addr: Option<&str>) -> Result<MacAddress, RpcError> {
    addr.and_then(parse_addr).ok_or_else(|| {
        rpc_error(
            ErrorCode::InvalidArgument,
            "config.addr must be a MAC address",
        )
    })
}

fn parse_addr(text: &str) -> Option<MacAddress> {
    text.split(',').next()?.parse().ok()
}

impl Gateway {
    /// A gateway in the given state, with these simulated sensors in radio range.
    pub fn new(options: GatewayOptions, sensors: Vec<SimSensor>) -> Self {
        let mac_hex: String = options.mac.0.iter().map(|b| format!("{b:02x}")).collect();
        let id = format!("shellyblugwg3-{mac_hex}");
        let ha1 = options.password.as_deref().map(|pw| auth::ha1(&id, pw));
        Self {
            id,
            ha1,
            name: None,
            provisioning: options.provisioning,
            rpc_enabled: options.rpc_enabled,
            bonds: options
                .bonds
                .iter()
                .take(options.max_bonds)
                .map(|addr| PairedDevice {
                    addr: addr.clone(),
                    ctime: options.epoch_s,
                    atime: options.epoch_s,
                })
                .collect(),
            pairing: None,
            associations: None,
            wifi: Wifi {
                ap_enable: true,
                ..Wifi::default()
            },
            devices: BTreeMap::new(),
            heard: BTreeMap::new(),
            sensor_components: BTreeMap::new(),
            discovery: None,
            sensors,
            outbox: VecDeque::new(),
            user_advert: None,
            clock_synced: options.clock_synced,
            boot_ms: 0,
            reboot_at: None,
            rebooted: false,
            nonce_counts: BTreeMap::new(),
            options,
        }
    }

    /// The device id (`shellyblugwg3-<mac>`), also the auth realm.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The MAC.
    pub fn mac(&self) -> MacAddress {
        self.options.mac
    }

    /// The device clock at `now_ms`, in Unix seconds: seconds since boot until Wi-Fi has given
    /// it real time, then `epoch_s + now_ms / 1000`.
    pub fn unix_s(&self, now_ms: u64) -> u64 {
        if self.clock_synced {
            self.options.epoch_s.saturating_add(now_ms / 1000)
        } else {
            now_ms.saturating_sub(self.boot_ms) / 1000
        }
    }

    /// True once after the device restarted (`Shelly.Reboot`): the transport drops the link.
    pub fn take_reboot(&mut self) -> bool {
        core::mem::take(&mut self.rebooted)
    }

    /// The provisioning state.
    pub fn provisioning(&self) -> Provisioning {
        self.provisioning
    }

    /// True when RPC over BLE is enabled.
    pub fn rpc_enabled(&self) -> bool {
        self.rpc_enabled
    }

    /// True when digest auth is on.
    pub fn auth_enabled(&self) -> bool {
        self.ha1.is_some()
    }

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

    /// The simulated sensors.
    pub fn sensors(&self) -> &[SimSensor] {
        &self.sensors
    }

    /// The simulated sensors, mutable (tests press buttons).
    pub fn sensors_mut(&mut self) -> &mut [SimSensor] {
        &mut self.sensors
    }

    /// The current `BLE.AdvertiseOnce` advertisement, while it lasts.
    pub fn user_advert(&self, now_ms: u64) -> Option<&UserAdvert> {
        self.user_advert.as_ref().filter(|a| now_ms < a.until_ms)
    }

    /// Bonds `client` (Just Works). Allowed while the pairing window or the set-up window
    /// (`pending`, `confirmed`) is open; fails when the bond list is full.
    pub fn bond(&mut self, client: &str, now_ms: u64) -> Result<(), BondError> {
        let now_s = self.unix_s(now_ms);
        if let Some(b) = self
            .bonds
            .iter_mut()
            .find(|b| b.addr.eq_ignore_ascii_case(client))
        {
            b.atime = now_s;
            return Ok(());
        }
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
        self.event(
            now_ms,
            json!({"component": "ble", "event": "paired_device_added", "info": bond}),
        );
        Ok(())
    }

    /// Records a connection from a bonded client (updates `atime`).
    pub fn touch_bond(&mut self, client: &str, now_ms: u64) {
        let now_s = self.unix_s(now_ms);
        if let Some(b) = self
            .bonds
            .iter_mut()
            .find(|b| b.addr.eq_ignore_ascii_case(client))
        {
            b.atime = now_s;
        }
    }

    /// The client went away: the set-up window closes once Wi-Fi is up.
    pub fn on_disconnect(&mut self, now_ms: u64) {
        self.tick(now_ms);
        if self.provisioning == Provisioning::Confirmed && self.wifi.connected {
            self.provisioning = Provisioning::Complete;
        }
    }

    fn event(&mut self, now_ms: u64, mut event: Value) {
        let ts = self.unix_s(now_ms);
        if let Value::Object(map) = &mut event {
            map.entry("ts").or_insert(json!(ts));
        }
        self.outbox.push_back(Notification {
            src: Some(self.id.clone()),
            dst: None,
            method: Notification::EVENT.into(),
            params: json!({"ts": ts, "events": [event]}),
        });
    }

    fn status_change(&mut self, now_ms: u64, component: &str, status: Value) {
        let ts = self.unix_s(now_ms);
        let mut params = Map::new();
        params.insert("ts".into(), json!(ts));
        params.insert(component.into(), status);
        self.outbox.push_back(Notification {
            src: Some(self.id.clone()),
            dst: None,
            method: Notification::STATUS.into(),
            params: Value::Object(params),
        });
    }

    /// Notifications produced so far (events, status changes), oldest first.
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.outbox.drain(..).collect()
    }

    /// Advances time-driven state: Wi-Fi connection, discovery events, windows, sensors.
    pub fn tick(&mut self, now_ms: u64) {
        if let Some(at) = self.reboot_at
            && now_ms >= at
        {
            self.reboot(at);
        }
        if let Some(join) = self.wifi.join
            && now_ms >= self.join_end(join)
        {
            let end = self.join_end(join);
            self.wifi.join = None;
            self.wifi.connected = join.ok;
            if join.ok {
                // SNTP sets the clock once the station has an address.
                self.clock_synced = true;
            }
            let status = to_value(&self.wifi_status(end));
            self.status_change(end, "wifi", status);
        }
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
        for sensor in &mut self.sensors {
            sensor.tick(now_ms);
        }
        self.tick_heard(now_ms);
        self.tick_discovery(now_ms);
    }

    /// The device restarts: volatile state goes, the clock counts from boot again, and station
    /// settings that waited for the restart start joining.
    fn reboot(&mut self, at_ms: u64) {
        self.reboot_at = None;
        self.rebooted = true;
        self.boot_ms = at_ms;
        self.clock_synced = self.options.clock_synced;
        self.pairing = None;
        self.associations = None;
        self.discovery = None;
        self.outbox.clear();
        self.wifi.connected = false;
        self.wifi.join = None;
        if core::mem::take(&mut self.wifi.join_on_boot) {
            self.start_join(at_ms);
        }
    }

    /// When a join ends: `got ip`, or the station giving up.
    fn join_end(&self, join: Join) -> u64 {
        join.started_ms
            .saturating_add(match (join.ok, self.options.wifi_steady) {
                (true, _) | (false, true) => self.options.wifi_connect_ms,
                (false, false) => WIFI_ATTEMPTS * 2 * WIFI_ATTEMPT_MS - WIFI_ATTEMPT_MS,
            })
    }

    /// A BTHome device's objects become known with its first packet after `BTHome.AddDevice`.
    fn tick_heard(&mut self, now_ms: u64) {
        let learned: Vec<u16> = self
            .heard
            .iter()
            .filter_map(|(&id, heard)| match heard {
                Heard::After(count) => self
                    .device_sensor(id)
                    .filter(|s| s.emissions() > *count)
                    .map(|_| id),
                Heard::Known => None,
            })
            .collect();
        for id in learned {
            self.heard.insert(id, Heard::Known);
            self.event(
                now_ms,
                json!({"component": format!("bthomedevice:{id}"), "id": id, "event": "new_objects"}),
            );
        }
    }

    /// The simulated sensor a BTHome device component stands for.
    fn device_sensor(&self, id: u16) -> Option<&SimSensor> {
        let device = self.devices.get(&id)?;
        self.sensor_by_addr(device.addr.as_deref())
    }

    fn knows(&self, id: u16) -> bool {
        self.heard.get(&id) == Some(&Heard::Known)
    }

    fn tick_discovery(&mut self, now_ms: u64) {
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
            if let Some(device) = self.sensors.get(emitted).map(|s| s.discovered()) {
                self.event(
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
            self.event(
                end,
                json!({"component": "bthome", "event": "discovery_done", "device_count": emitted}),
            );
        }
    }

    /// A 401 with the clock as nonce and the next `nc` that nonce accepts.
    fn challenge(&self, now_ms: u64) -> RpcError {
        let nonce = self.unix_s(now_ms);
        let mut challenge = Challenge::new(&self.id, nonce);
        challenge.nc = self.nonce_counts.get(&nonce).map_or(1, |nc| nc + 1);
        RpcError {
            code: ErrorCode::AuthRequired.code(),
            message: challenge.to_message(),
        }
    }

    fn check_auth(&mut self, auth: Option<&AuthParams>, now_ms: u64) -> Result<(), RpcError> {
        let Some(ha1) = &self.ha1 else {
            return Ok(());
        };
        let now_s = self.unix_s(now_ms);
        let accepted = auth.and_then(|a| {
            let nonce = a.nonce.seconds()?;
            let last_nc = self.nonce_counts.get(&nonce).copied().unwrap_or(0);
            let good = a.realm == self.id
                && nonce <= now_s
                && now_s - nonce < NONCE_LIFETIME_S
                && (last_nc + 1..=MAX_NC).contains(&a.nc)
                && u32::try_from(a.cnonce).is_ok()
                && a.verify(ha1);
            good.then_some((nonce, a.nc))
        });
        let Some((nonce, nc)) = accepted else {
            return Err(self.challenge(now_ms));
        };
        self.nonce_counts
            .retain(|&n, _| n <= now_s && now_s - n < NONCE_LIFETIME_S);
        self.nonce_counts.insert(nonce, nc);
        Ok(())
    }

    /// Answers one request.
    pub fn handle(&mut self, req: &Request, now_ms: u64) -> Response {
        self.tick(now_ms);
        let outcome = if req.method == crate::shelly::methods::shelly::GetDeviceInfo::NAME {
            Ok(self.device_info())
        } else {
            self.check_auth(req.auth.as_ref(), now_ms)
                .and_then(|()| self.dispatch(req, now_ms))
        };
        Response {
            id: req.id.clone(),
            src: Some(self.id.clone()),
            dst: req.src.clone(),
            outcome,
        }
    }

    fn device_info(&self) -> Value {
        json!({
            "name": self.name,
            "id": self.id,
            "mac": self.options.mac.to_string().replace(':', ""),
            "slot": 0,
            "model": self.options.model,
            "gen": 3,
            "fw_id": "20261101-000000/2.0.0-bluehome-sim",
            "ver": "2.0.0",
            "app": "BluGwG3",
            "auth_en": self.ha1.is_some(),
            "auth_domain": null,
        })
    }

    fn dispatch(&mut self, req: &Request, now_ms: u64) -> Outcome {
        let now_s = self.unix_s(now_ms);
        match req.method.as_str() {
            "Shelly.GetStatus" => Ok(self.full_status(now_ms)),
            "Shelly.GetConfig" => Ok(self.full_config()),
            "Shelly.SetAuth" => {
                let p: SetAuthParams = params(req)?;
                if p.user != auth::USERNAME {
                    return Err(rpc_error(ErrorCode::InvalidArgument, "user must be admin"));
                }
                if p.realm != self.id {
                    return Err(rpc_error(
                        ErrorCode::InvalidArgument,
                        "realm must be the device id",
                    ));
                }
                match p.ha1 {
                    Some(h) if h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()) => {
                        self.ha1 = Some(h.to_ascii_lowercase());
                    }
                    Some(_) => {
                        return Err(rpc_error(
                            ErrorCode::InvalidArgument,
                            "ha1 must be 64 hex digits",
                        ));
                    }
                    None => self.ha1 = None,
                }
                Ok(Value::Null)
            }
            "Shelly.Reboot" => {
                let p: RebootParams = params(req)?;
                let delay = p.delay_ms.map_or(1_000, u64::from);
                self.reboot_at = Some(now_ms.saturating_add(delay));
                Ok(Value::Null)
            }
            "Sys.SetConfig" => {
                let p: SysSetConfigParams = params(req)?;
                if let Some(name) = p.config.device.and_then(|d| d.name) {
                    self.name = Some(name);
                }
                Ok(json!({"restart_required": false}))
            }
            "WiFi.Scan" => Ok(json!({
                "results": self.options.networks.iter().map(|n| to_value(&n.scan)).collect::<Vec<_>>()
            })),
            "WiFi.GetStatus" => Ok(to_value(&self.wifi_status(now_ms))),
            "WiFi.SetConfig" => self.wifi_set_config(req, now_ms),
            "BLE.GetConfig" => Ok(to_value(&self.ble_config())),
            "BLE.SetConfig" => {
                let p: ble::SetConfigParams = params(req)?;
                if let Some(rpc) = p.config.rpc {
                    self.rpc_enabled = rpc.enable;
                }
                Ok(json!({"restart_required": false}))
            }
            "BLE.GetStatus" => Ok(to_value(&self.ble_status(now_ms))),
            "BLE.StartPairing" => {
                let p: StartPairingParams = params(req)?;
                let timeout = p.timeout.unwrap_or(180);
                if timeout == 0 {
                    return Err(rpc_error(
                        ErrorCode::InvalidArgument,
                        "timeout must be positive",
                    ));
                }
                self.pairing = Some(Window {
                    started_ms: now_ms,
                    duration_s: timeout,
                });
                self.status_change(
                    now_ms,
                    "ble",
                    json!({"pairing": {"started_at": now_s, "duration": timeout}}),
                );
                Ok(json!({"timeout": timeout}))
            }
            "BLE.StopPairing" => {
                if self.pairing.take().is_some() {
                    self.status_change(now_ms, "ble", json!({"pairing": null}));
                }
                Ok(Value::Null)
            }
            "BLE.ListPairedDevices" => Ok(to_value(&self.bonds)),
            "BLE.DeletePairedDevice" => {
                let p: DeletePairedDeviceParams = params(req)?;
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
                self.event(
                    now_ms,
                    json!({"component": "ble", "event": "paired_device_removed", "info": bond}),
                );
                Ok(Value::Null)
            }
            "BLE.AdvertiseOnce" => {
                let p: AdvertiseOnceParams = params(req)?;
                let (adv_data, scan_rsp) = p
                    .validate()
                    .map_err(|e| rpc_error(ErrorCode::InvalidArgument, e.to_string()))?;
                self.user_advert = Some(UserAdvert {
                    adv_data,
                    scan_rsp,
                    until_ms: now_ms.saturating_add(3_000),
                });
                Ok(Value::Null)
            }
            "BLE.StartAssociations" => {
                let p: StartAssociationsParams = params(req)?;
                if p.target != 0 && p.target != 8 {
                    return Err(rpc_error(
                        ErrorCode::InvalidArgument,
                        format!("unsupported target {}", p.target),
                    ));
                }
                let duration = p.duration.unwrap_or(30);
                self.associations = Some(Window {
                    started_ms: now_ms,
                    duration_s: duration,
                });
                self.status_change(
                    now_ms,
                    "ble",
                    json!({"ble_assoc": {"duration": duration, "started_at": now_s}}),
                );
                Ok(Value::Null)
            }
            "BLE.CloudRelay.List" => Ok(json!({
                "rev": self.sensors.len(),
                "addrs": self.relayed().map(|s| mac_lower(&s.mac())).collect::<Vec<_>>(),
            })),
            "BLE.CloudRelay.ListInfos" => {
                let p: ble::ListInfosParams = params(req)?;
                Ok(self.relay_infos(p.offset.unwrap_or(0), now_ms))
            }
            "BTHome.GetConfig" => Ok(json!({})),
            "BTHome.SetConfig" => Ok(Value::Null),
            "BTHome.GetStatus" => Ok(self.bthome_status()),
            "BTHome.AddDevice" => {
                let p: AddDeviceParams = params(req)?;
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
                        format!("device {} already added", mac_lower(&addr)),
                    ));
                }
                let id = free_id(&self.devices, p.id)?;
                let config = DeviceConfig {
                    id: Some(id),
                    addr: Some(mac_lower(&addr)),
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
            "BTHome.DeleteDevice" => {
                let p: IdParams = params(req)?;
                self.devices.remove(&p.id).ok_or_else(|| bad_id(p.id))?;
                self.heard.remove(&p.id);
                Ok(Value::Null)
            }
            "BTHome.AddSensor" => {
                let p: AddSensorParams = params(req)?;
                let addr = config_addr(p.config.addr.as_deref())?;
                if p.config.obj_id.is_none() {
                    return Err(rpc_error(
                        ErrorCode::InvalidArgument,
                        "Missing required 'obj_id'",
                    ));
                }
                if p.config.obj_idx.is_none() {
                    return Err(rpc_error(
                        ErrorCode::InvalidArgument,
                        "Missing required 'obj_idx'",
                    ));
                }
                let id = free_id(&self.sensor_components, p.id)?;
                let config = SensorConfig {
                    id: Some(id),
                    addr: Some(mac_lower(&addr)),
                    ..p.config
                };
                self.sensor_components.insert(id, config);
                Ok(self.added("bthomesensor", id))
            }
            "BTHome.DeleteSensor" => {
                let p: IdParams = params(req)?;
                self.sensor_components
                    .remove(&p.id)
                    .ok_or_else(|| bad_id(p.id))?;
                Ok(Value::Null)
            }
            "BTHome.StartDeviceDiscovery" => {
                let p: StartDiscoveryParams = params(req)?;
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
                Ok(Value::Null)
            }
            "BTHome.GetObjectInfos" => {
                let p: GetObjectInfosParams = params(req)?;
                Ok(self.object_infos(&p))
            }
            "BTHomeDevice.GetConfig" => {
                let p: IdParams = params(req)?;
                Ok(to_value(
                    self.devices.get(&p.id).ok_or_else(|| bad_id(p.id))?,
                ))
            }
            "BTHomeDevice.SetConfig" => {
                let p: DeviceSetConfigParams = params(req)?;
                let d = self.devices.get_mut(&p.id).ok_or_else(|| bad_id(p.id))?;
                if p.config.name.is_some() {
                    d.name = p.config.name;
                }
                if p.config.key.is_some() {
                    d.key = p.config.key;
                }
                if p.config.meta.is_some() {
                    d.meta = p.config.meta;
                }
                Ok(json!({"restart_required": false}))
            }
            "BTHomeDevice.GetStatus" => {
                let p: IdParams = params(req)?;
                Ok(self.device_status(p.id)?)
            }
            "BTHomeDevice.GetKnownObjects" => {
                let p: IdParams = params(req)?;
                Ok(self.known_objects(p.id)?)
            }
            "BTHomeSensor.GetConfig" => {
                let p: IdParams = params(req)?;
                Ok(to_value(
                    self.sensor_components
                        .get(&p.id)
                        .ok_or_else(|| bad_id(p.id))?,
                ))
            }
            "BTHomeSensor.SetConfig" => {
                let p: SensorSetConfigParams = params(req)?;
                let s = self
                    .sensor_components
                    .get_mut(&p.id)
                    .ok_or_else(|| bad_id(p.id))?;
                if p.config.name.is_some() {
                    s.name = p.config.name;
                }
                if p.config.meta.is_some() {
                    s.meta = p.config.meta;
                }
                Ok(json!({"restart_required": false}))
            }
            "BTHomeSensor.GetStatus" => {
                let p: IdParams = params(req)?;
                Ok(self.sensor_status(p.id)?)
            }
            other => Err(rpc_error(
                ErrorCode::NoHandler,
                format!("No handler for {other}"),
            )),
        }
    }

    fn wifi_set_config(&mut self, req: &Request, now_ms: u64) -> Outcome {
        let p: wifi::SetConfigParams = params(req)?;
        if let Some(enable) = p.config.ap.and_then(|ap| ap.enable) {
            self.wifi.ap_enable = enable;
        }
        if let Some(sta) = p.config.sta {
            if let Some(ssid) = sta.ssid {
                self.wifi.sta_ssid = Some(ssid);
                self.wifi.sta_pass = sta.pass;
                self.wifi.sta_enable = sta.enable.unwrap_or(true);
            } else if let Some(enable) = sta.enable {
                self.wifi.sta_enable = enable;
            }
            if self.wifi.sta_enable
                && self.wifi.sta_ssid.is_some()
                && self.provisioning == Provisioning::Pending
            {
                self.provisioning = Provisioning::Confirmed;
            }
            if self.options.wifi_restart_required {
                self.wifi.join_on_boot = true;
                return Ok(json!({"restart_required": true}));
            }
            self.start_join(now_ms);
        }
        Ok(json!({"restart_required": false}))
    }

    /// The station (re)starts joining its configured network, if enabled.
    fn start_join(&mut self, now_ms: u64) {
        self.wifi.connected = false;
        self.wifi.join = None;
        let Some(ssid) = self
            .wifi
            .sta_ssid
            .as_deref()
            .filter(|_| self.wifi.sta_enable)
        else {
            return;
        };
        let ok = self.options.networks.iter().any(|n| {
            n.scan.ssid.as_deref() == Some(ssid)
                && match &n.password {
                    None => true,
                    Some(pw) => self.wifi.sta_pass.as_deref() == Some(pw.as_str()),
                }
        });
        self.wifi.join = Some(Join {
            started_ms: now_ms,
            ok,
        });
    }

    /// `{"added": "<kind>:<id>"}` (or `key`, by option).
    fn added(&self, kind: &str, id: u16) -> Value {
        let key = format!("{kind}:{id}");
        match self.options.add_answer {
            AddAnswer::Added => json!({ "added": key }),
            AddAnswer::Key => json!({ "key": key }),
        }
    }

    fn wifi_status(&self, now_ms: u64) -> wifi::WifiStatus {
        let net = self.wifi.sta_ssid.as_deref().and_then(|ssid| {
            self.options
                .networks
                .iter()
                .find(|n| n.scan.ssid.as_deref() == Some(ssid))
        });
        let (status, ip) = if let Some(join) = self.wifi.join {
            let retrying = !self.options.wifi_steady
                && now_ms.saturating_sub(join.started_ms) % (2 * WIFI_ATTEMPT_MS)
                    >= WIFI_ATTEMPT_MS;
            (
                if retrying {
                    "disconnected"
                } else {
                    "connecting"
                },
                None,
            )
        } else if self.wifi.connected {
            ("got ip", Some("192.168.1.42".to_string()))
        } else {
            ("disconnected", None)
        };
        wifi::WifiStatus {
            sta_ip: ip,
            status: status.into(),
            ssid: if self.wifi.connected {
                self.wifi.sta_ssid.clone()
            } else {
                None
            },
            rssi: if self.wifi.connected {
                net.map(|n| n.scan.rssi)
            } else {
                None
            },
        }
    }

    fn ble_config(&self) -> BleConfig {
        BleConfig {
            enable: None,
            rpc: Some(RpcConfig {
                enable: self.rpc_enabled,
                keep_running: None,
            }),
            observer: None,
        }
    }

    fn ble_status(&self, now_ms: u64) -> BleStatus {
        let mut flags = Vec::new();
        if self.discovery.is_some() || !self.sensors.is_empty() {
            flags.push("scanning".to_string());
        }
        if self.user_advert(now_ms).is_some() || self.rpc_enabled {
            flags.push("advertising".to_string());
        }
        BleStatus {
            addr: format!("{},p", mac_lower(&self.options.mac)),
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
                .then(|| self.provisioning.name().into()),
        }
    }

    fn bthome_status(&self) -> Value {
        match &self.discovery {
            Some(run) => {
                json!({"discovery": {"started_at": self.unix_s(run.started_ms), "duration": run.duration_s}})
            }
            None => json!({}),
        }
    }

    fn full_status(&self, now_ms: u64) -> Value {
        let mut map = Map::new();
        map.insert("ble".into(), to_value(&self.ble_status(now_ms)));
        map.insert("bthome".into(), self.bthome_status());
        map.insert("wifi".into(), to_value(&self.wifi_status(now_ms)));
        map.insert("sys".into(), json!({"mac": self.options.mac.to_string().replace(':', ""), "unixtime": self.unix_s(now_ms), "uptime": now_ms / 1000}));
        for id in self.devices.keys() {
            if let Ok(s) = self.device_status(*id) {
                map.insert(format!("bthomedevice:{id}"), s);
            }
        }
        for id in self.sensor_components.keys() {
            if let Ok(s) = self.sensor_status(*id) {
                map.insert(format!("bthomesensor:{id}"), s);
            }
        }
        Value::Object(map)
    }

    fn full_config(&self) -> Value {
        let mut map = Map::new();
        map.insert("ble".into(), to_value(&self.ble_config()));
        map.insert("bthome".into(), json!({}));
        map.insert("sys".into(), json!({"device": {"name": self.name, "mac": self.options.mac.to_string().replace(':', "")}}));
        map.insert("wifi".into(), json!({
            "sta": {"ssid": self.wifi.sta_ssid, "is_open": self.wifi.sta_pass.is_none(), "enable": self.wifi.sta_enable, "ipv4mode": "dhcp"},
            "ap": {"ssid": self.id, "is_open": true, "enable": self.wifi.ap_enable},
        }));
        for (id, d) in &self.devices {
            map.insert(format!("bthomedevice:{id}"), to_value(d));
        }
        for (id, s) in &self.sensor_components {
            map.insert(format!("bthomesensor:{id}"), to_value(s));
        }
        Value::Object(map)
    }

    fn relayed(&self) -> impl Iterator<Item = &SimSensor> {
        self.sensors.iter().filter(|s| s.model_id().is_some())
    }

    fn relay_infos(&self, offset: u32, now_ms: u64) -> Value {
        let engine = base64::engine::general_purpose::STANDARD;
        let all: Vec<&SimSensor> = self.relayed().collect();
        let total = all.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
        let page: Vec<Value> = all
            .iter()
            .skip(start)
            .take(self.options.relay_page_size.max(1))
            .map(|s| {
                let adv = s.advertisement();
                let mut info = RelayInfo {
                    name: None,
                    model: 0,
                    last_seen: self.unix_s(s.last_emit_ms()),
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
                let mut entry = Map::new();
                entry.insert(mac_lower(&s.mac()), to_value(&info));
                Value::Object(entry)
            })
            .collect();
        json!({
            "ts": self.unix_s(now_ms),
            "offset": start,
            "count": page.len(),
            "total": total,
            "devices": page,
        })
    }

    fn object_infos(&self, p: &GetObjectInfosParams) -> Value {
        let total = p.obj_ids.len();
        let start = usize::try_from(p.offset.unwrap_or(0))
            .unwrap_or(usize::MAX)
            .min(total);
        let objects: Vec<Value> = p
            .obj_ids
            .iter()
            .skip(start)
            .take(self.options.object_page_size.max(1))
            .map(|&id| super::sensors::object_info(id))
            .collect();
        json!({"objects": objects, "offset": start, "count": objects.len(), "total": total})
    }

    fn sensor_by_addr(&self, addr: Option<&str>) -> Option<&SimSensor> {
        let mac = addr.and_then(parse_addr)?;
        self.sensors.iter().find(|s| s.mac() == mac)
    }

    fn device_status(&self, id: u16) -> Outcome {
        let d = self.devices.get(&id).ok_or_else(|| bad_id(id))?;
        let mut status = json!({"id": id});
        let heard = self
            .sensor_by_addr(d.addr.as_deref())
            .filter(|_| self.knows(id));
        if let (Some(s), Value::Object(map)) = (heard, &mut status) {
            map.insert("rssi".into(), json!(s.rssi()));
            if let Some(b) = s.battery() {
                map.insert("battery".into(), json!(b));
            }
            map.insert("packet_id".into(), json!(s.packet_id()));
            map.insert(
                "last_updated_ts".into(),
                json!(self.unix_s(s.last_emit_ms())),
            );
        }
        Ok(status)
    }

    fn known_objects(&self, id: u16) -> Outcome {
        let d = self.devices.get(&id).ok_or_else(|| bad_id(id))?;
        let objects: Vec<Value> = match self.sensor_by_addr(d.addr.as_deref()) {
            Some(s) if self.knows(id) => s
                .object_slots()
                .into_iter()
                .map(|(obj_id, idx)| {
                    let component = self
                        .sensor_components
                        .iter()
                        .find(|(_, c)| {
                            c.obj_id == Some(obj_id)
                                && c.obj_idx == Some(idx)
                                && c.addr.as_deref().and_then(parse_addr) == Some(s.mac())
                        })
                        .map(|(cid, _)| format!("bthomesensor:{cid}"));
                    json!({"obj_id": obj_id, "idx": idx, "component": component})
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(json!({"id": id, "objects": objects}))
    }

    fn sensor_status(&self, id: u16) -> Outcome {
        let c = self.sensor_components.get(&id).ok_or_else(|| bad_id(id))?;
        let sensor = self
            .sensor_by_addr(c.addr.as_deref())
            .filter(|s| s.has_emitted());
        let value = match (sensor, c.obj_id, c.obj_idx) {
            (Some(s), Some(obj), Some(idx)) => s.value(obj, idx).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let mut status = json!({"id": id, "value": value});
        if let (Some(s), Value::Object(map)) = (sensor, &mut status) {
            map.insert(
                "last_updated_ts".into(),
                json!(self.unix_s(s.last_emit_ms())),
            );
        }
        Ok(status)
    }
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

fn bad_id(id: u16) -> RpcError {
    rpc_error(ErrorCode::NotFound, format!("Bad id={id}"))
}

fn free_id<T>(taken: &BTreeMap<u16, T>, wanted: Option<u16>) -> Result<u16, RpcError> {
    match wanted {
        Some(id) if !(bthome::FIRST_ID..=bthome::LAST_ID).contains(&id) => Err(rpc_error(
            ErrorCode::InvalidArgument,
            format!("id {id} is outside 200..299"),
        )),
        Some(id) if taken.contains_key(&id) => Err(rpc_error(
            ErrorCode::InvalidArgument,
            format!("id {id} is taken"),
        )),
        Some(id) => Ok(id),
        None => (bthome::FIRST_ID..=bthome::LAST_ID)
            .find(|id| !taken.contains_key(id))
            .ok_or_else(|| rpc_error(ErrorCode::ResourceExhausted, "no free component id")),
    }
}

//! The simulated Shelly BLU Gateway Gen3: device state and the RPC methods over it.
//!
//! Everything the methods change is real state that later calls read back. Time is the `now_ms`
//! passed to [`Gateway::handle`] and [`Gateway::tick`].
//!
//! Requests are routed by the typed methods' names ([`Method::NAME`]): each namespace module
//! (`shelly`: `Shelly.*` and `Sys.*`; `wifi`; `ble`; `relay`: `BLE.CloudRelay.*`; `bthome`:
//! `BTHome*.*`) answers its methods through the `Answer` trait, reading the method's own parameter type and
//! answering its own result type, and lists them in its route table.
//!
//! By default it does what real firmware does where a simulator is easily kinder (sources:
//! mongoose-os-libs rpc-common and rpc-gatts, the Shelly API documents at
//! <https://shelly-api-docs.shelly.cloud/gen2/>, a real BLU Gateway Gen3's RPC dump in
//! Luligu/matterbridge-shelly `src/mock/`, aioshelly `rpc_device/blerpc.py`); each kinder
//! behaviour of earlier versions stays as an option of [`GatewayOptions`]:
//! * `BTHome.AddDevice` / `AddSensor` answer `{"added": "bthomedevice:200"}` ([`AddedMember`]).
//! * A freshly added BTHome device has no known objects until the gateway hears its next packet;
//!   then a `new_objects` event goes out ([`GatewayOptions::objects_known_at_once`]).
//! * The device clock counts seconds from boot (1970) until Wi-Fi first gets an IP, then jumps to
//!   real time (`epoch_s + now_ms / 1000`, as SNTP would set it): the 401 nonce of firmware 1.x
//!   is that clock, so nonces from before the jump are refused with a new 401
//!   ([`GatewayOptions::clock_synced`]). Firmware 2.0's nonces, its `stale` challenges and its
//!   429 after failed sign-ins come with [`GatewayOptions::firmware_2_auth`] (`digest.rs`).
//! * `WiFi.GetStatus` swings between `connecting` and `disconnected` while the station retries
//!   ([`GatewayOptions::wifi_steady`]), then shows `connected` with `sta_ip` null before `got ip`; `WiFi.SetConfig` may answer `restart_required: true`, the
//!   settings then apply after `Shelly.Reboot` ([`GatewayOptions::wifi_restart_required`]).
//! * The provisioning state is `provision` in `Shelly.GetDeviceInfo`, as real 1.7 and 2.0 firmware
//!   reports it; `BLE.GetStatus` has no `provisioning` member
//!   ([`GatewayOptions::report_provisioning`]).
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
//!   gives up and stays `disconnected`. Firmware 1.x refuses a `cnonce` that is not a number
//!   of 32 bits (closed firmware may read it as one); after how many failed sign-ins firmware 2.0
//!   pauses them is the simulator's choice (five in ten minutes).

mod ble;
mod bthome;
mod digest;
mod relay;
mod shelly;
mod wifi;

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use litemap::LiteMap;
use serde_json::{Map, Value, json};

pub use self::ble::{BondError, UserAdvert};
pub use self::wifi::{Network, default_networks};
use crate::advertisement::MacAddress;
use crate::shelly::auth;
use crate::shelly::frame::{Notification, Request, Response, RpcError};
use crate::shelly::methods::ble::{PairedDevice, Provisioning};
use crate::shelly::methods::bthome::{AddedMember, DeviceConfig, SensorConfig};
use crate::shelly::methods::{ErrorCode, Method};

use super::sensors::SimSensor;

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
    /// Time from `WiFi.SetConfig` to `got ip`; its last quarter shows `connected` (no `sta_ip`).
    pub wifi_connect_ms: u64,
    /// Items per `BLE.CloudRelay.ListInfos` page.
    pub relay_page_size: usize,
    /// Items per `BTHome.GetObjectInfos` and `Shelly.GetComponents` page.
    pub object_page_size: usize,
    /// Bond capacity.
    pub max_bonds: usize,
    /// Clients bonded from the start.
    pub bonds: Vec<String>,
    /// The member naming a new BTHome component.
    pub add_answer: AddedMember,
    /// A BTHome device's objects are known as soon as it is added, if its sensor ever sent
    /// (instead of after its next packet).
    pub objects_known_at_once: bool,
    /// The clock is real time from the start (instead of counting from boot until Wi-Fi joins).
    pub clock_synced: bool,
    /// `WiFi.GetStatus` stays `connecting` until the join ends (instead of swinging).
    pub wifi_steady: bool,
    /// `WiFi.SetConfig` with station or access point settings answers `restart_required: true`;
    /// they apply after `Shelly.Reboot`.
    pub wifi_restart_required: bool,
    /// `BLE.GetStatus` reports the provisioning state as `provisioning`.
    pub report_provisioning: bool,
    /// `BLE.SetConfig` turning RPC over Bluetooth on or off answers `restart_required: true`, and
    /// the change applies after `Shelly.Reboot` (the answer of the BLE.SetConfig example in
    /// shelly-api-docs, BLE component); when false it applies at once.
    pub ble_restart_required: bool,
    /// Digest authentication as firmware 2.0 checks it (text nonces without `nc`, 32 kept at
    /// most, `stale` challenges, 429 after failed sign-ins) instead of firmware 1.x.
    pub firmware_2_auth: bool,
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
            add_answer: AddedMember::Added,
            objects_known_at_once: false,
            clock_synced: false,
            wifi_steady: false,
            wifi_restart_required: false,
            report_provisioning: false,
            ble_restart_required: true,
            firmware_2_auth: false,
        }
    }
}

/// A window that stays open for a while (pairing, associations).
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

/// The simulated gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    options: GatewayOptions,
    id: String,
    auth: digest::DigestAuth,
    name: Option<String>,
    provisioning: Provisioning,
    rpc_enabled: bool,
    /// The RPC switch saved by `BLE.SetConfig`, applied at the next restart.
    rpc_enabled_on_boot: Option<bool>,
    bonds: Vec<PairedDevice>,
    pairing: Option<Window>,
    associations: Option<Window>,
    wifi: wifi::Wifi,
    // BTHome components by id (200..299, so at most 100 each): sorted vectors.
    devices: LiteMap<u16, DeviceConfig>,
    heard: LiteMap<u16, bthome::Heard>,
    sensor_components: LiteMap<u16, SensorConfig>,
    discovery: Option<bthome::DiscoveryRun>,
    sensors: Vec<SimSensor>,
    outbox: VecDeque<Notification>,
    user_advert: Option<UserAdvert>,
    clock_synced: bool,
    boot_ms: u64,
    reboot_at: Option<u64>,
    rebooted: bool,
}

/// A method the gateway answers, typed: its parameters in, its result (or an error) out.
trait Answer<M: Method> {
    /// Answers one call at `now_ms`.
    fn answer(&mut self, params: M::Params, now_ms: u64) -> Result<M::Result, RpcError>;
}

/// One entry of a route table: a method's name and its typed answer behind one signature.
struct Route {
    name: &'static str,
    answer: fn(&mut Gateway, Option<&Value>, u64) -> Result<Value, RpcError>,
}

/// The route of method `M`.
const fn route<M: Method>() -> Route
where
    Gateway: Answer<M>,
{
    Route {
        name: M::NAME,
        answer: answer_json::<M>,
    }
}

/// Reads `M`'s parameters, answers, and writes the result as JSON. Only the (de)serialization is
/// generic; the rest is in plain functions, so that each of the many routes stays small.
fn answer_json<M: Method>(
    gateway: &mut Gateway,
    params: Option<&Value>,
    now_ms: u64,
) -> Result<Value, RpcError>
where
    Gateway: Answer<M>,
{
    let params = match serde_json::from_value::<M::Params>(Value::Null) {
        // A method without parameters ignores what was sent, as firmware does.
        Ok(none) => none,
        Err(_) => serde_json::from_value(params_or_empty(params)).map_err(bad_params)?,
    };
    let result = <Gateway as Answer<M>>::answer(gateway, params, now_ms)?;
    Ok(serde_json::to_value(&result).unwrap_or(Value::Null))
}

/// The `params` sent, or `{}` when there are none.
#[inline(never)]
fn params_or_empty(params: Option<&Value>) -> Value {
    params.cloned().unwrap_or_else(|| Value::Object(Map::new()))
}

/// -103 for parameters of the wrong shape.
#[inline(never)]
fn bad_params(e: serde_json::Error) -> RpcError {
    rpc_error(ErrorCode::InvalidArgument, format!("invalid params: {e}"))
}

/// Every method the gateway answers, by namespace.
const ROUTES: [&[Route]; 5] = [
    shelly::ROUTES,
    wifi::ROUTES,
    ble::ROUTES,
    relay::ROUTES,
    bthome::ROUTES,
];

fn rpc_error(code: ErrorCode, message: impl Into<String>) -> RpcError {
    RpcError {
        code: code.code(),
        message: message.into(),
    }
}

fn bad_id(id: u16) -> RpcError {
    rpc_error(ErrorCode::NotFound, format!("Bad id={id}"))
}

/// The MAC in Shelly's form: upper-case hex without separators.
fn mac_plain(mac: &MacAddress) -> String {
    mac.to_string().replace(':', "")
}

/// Parses `AA:BB:…` in any case, with `,p`-style type suffixes tolerated.
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
            auth: digest::DigestAuth::new(ha1, options.firmware_2_auth),
            id,
            name: None,
            provisioning: options.provisioning,
            rpc_enabled: options.rpc_enabled,
            rpc_enabled_on_boot: None,
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
            wifi: wifi::Wifi::new(),
            devices: LiteMap::new(),
            heard: LiteMap::new(),
            sensor_components: LiteMap::new(),
            discovery: None,
            sensors,
            outbox: VecDeque::new(),
            user_advert: None,
            clock_synced: options.clock_synced,
            boot_ms: 0,
            reboot_at: None,
            rebooted: false,
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
        self.auth.ha1.is_some()
    }

    /// The simulated sensors.
    pub fn sensors(&self) -> &[SimSensor] {
        &self.sensors
    }

    /// The simulated sensors, mutable (tests press buttons).
    pub fn sensors_mut(&mut self) -> &mut [SimSensor] {
        &mut self.sensors
    }

    /// The client went away: the set-up window closes once Wi-Fi is up.
    pub fn on_disconnect(&mut self, now_ms: u64) {
        self.tick(now_ms);
        if self.provisioning == Provisioning::Confirmed && self.wifi.connected {
            self.provisioning = Provisioning::Complete;
        }
    }

    /// Queues a `NotifyEvent` with one event (its `ts` added when missing).
    fn notify_event(&mut self, now_ms: u64, event: Value) {
        self.notify_events(now_ms, vec![event]);
    }

    /// Queues one `NotifyEvent` with `events` (each one's `ts` added when missing): the gateway's
    /// own, or those a test sends for what this simulator does not make (a BTHome button's
    /// `single_push`).
    pub fn notify_events(&mut self, now_ms: u64, mut events: Vec<Value>) {
        let ts = self.unix_s(now_ms);
        for event in &mut events {
            if let Value::Object(map) = event {
                map.entry("ts").or_insert(json!(ts));
            }
        }
        self.outbox.push_back(Notification {
            src: Some(self.id.clone()),
            dst: None,
            method: Notification::EVENT.into(),
            params: json!({"ts": ts, "events": events}),
        });
    }

    /// Queues a `NotifyStatus` with one component's changed members.
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
        self.tick_wifi(now_ms);
        self.tick_windows(now_ms);
        for sensor in &mut self.sensors {
            sensor.tick(now_ms);
        }
        self.tick_heard(now_ms);
        self.tick_discovery(now_ms);
    }

    /// The device restarts: volatile state goes, the clock counts from boot again, and settings
    /// that waited for the restart apply (station settings start joining).
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
        if let Some(enable) = self.rpc_enabled_on_boot.take() {
            self.rpc_enabled = enable;
        }
        if let Some(enable) = self.wifi.ap_enable_on_boot.take() {
            self.wifi.ap_enable = enable;
        }
        if core::mem::take(&mut self.wifi.join_on_boot) {
            self.start_join(at_ms);
        }
    }

    /// Answers one request.
    pub fn handle(&mut self, req: &Request, now_ms: u64) -> Response {
        self.tick(now_ms);
        // `Shelly.GetDeviceInfo` needs no auth (the Authentication document).
        let open = req.method == crate::shelly::methods::shelly::GetDeviceInfo::NAME;
        let outcome = match open {
            true => Ok(()),
            false => {
                let clock_s = self.unix_s(now_ms);
                self.auth
                    .check(&self.id, req.auth.as_ref(), clock_s, now_ms)
            }
        }
        .and_then(|()| self.dispatch(req, now_ms));
        Response {
            id: req.id.clone(),
            src: Some(self.id.clone()),
            dst: req.src.clone(),
            outcome,
        }
    }

    fn dispatch(&mut self, req: &Request, now_ms: u64) -> Result<Value, RpcError> {
        let route = ROUTES
            .iter()
            .flat_map(|table| table.iter())
            .find(|route| route.name == req.method)
            .ok_or_else(|| {
                rpc_error(
                    ErrorCode::NoHandler,
                    format!("No handler for {}", req.method),
                )
            })?;
        (route.answer)(self, req.params.as_ref(), now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each method has one route, and only the typed methods' names are routed.
    #[test]
    fn every_route_is_named_once() {
        let names: Vec<&str> = ROUTES
            .iter()
            .flat_map(|table| table.iter().map(|r| r.name))
            .collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        for wanted in [
            crate::shelly::methods::shelly::GetDeviceInfo::NAME,
            crate::shelly::methods::wifi::Scan::NAME,
            crate::shelly::methods::ble::CloudRelayListInfos::NAME,
            crate::shelly::methods::bthome::SensorGetStatus::NAME,
        ] {
            assert!(names.contains(&wanted), "{wanted} is not routed");
        }
    }

    #[test]
    fn parameterless_methods_ignore_params_and_others_read_an_empty_object() {
        use crate::shelly::methods::{ble, bthome};
        let mut gw = Gateway::new(GatewayOptions::default(), Vec::new());
        let stop = answer_json::<ble::StopPairing>(&mut gw, Some(&json!({"x": 1})), 0);
        assert_eq!(stop, Ok(Value::Null));
        let start = answer_json::<ble::StartPairing>(&mut gw, None, 0).unwrap();
        assert_eq!(start, json!({"timeout": 180}), "the default window");
        let bad = answer_json::<bthome::DeleteDevice>(&mut gw, None, 0).unwrap_err();
        assert_eq!(bad.code, ErrorCode::InvalidArgument.code());
        assert!(bad.message.starts_with("invalid params"), "{}", bad.message);
    }
}

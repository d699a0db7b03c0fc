//! Shared by the Devices page browser tests: the simulated Shelly gateway behind the mock
//! backend, mounting, and DOM helpers.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bluehome::ble::mock::{
    ChooserAnswer, GattPeer, MockBackend, Properties, att_failure, declared,
};
use bluehome::ble::{
    Backend, BleBackend as _, BleError, Capabilities, Characteristic, DeviceId, ErrorKind,
};
use bluehome::pages::DevicesPage;
use bluehome::state::shelly::{Phase, ShellySession};
use bluehome::state::storage::MemoryStore;
use bluehome_core::MacAddress;
use bluehome_core::gatt::Characteristics as _;
use bluehome_core::profiles::Config;
use bluehome_core::shelly::frame::{Frame, Request};
use bluehome_core::shelly::rpc::server::Server;
use bluehome_core::shelly::rpc::{AttError, Characteristic as RpcCharacteristic};
use bluehome_core::sim::gateway::{Gateway, GatewayOptions};
use bluehome_core::sim::sensors::{SensorKind, SensorSpec, SimSensor};
use leptos::prelude::*;

pub use crate::dom::*;

// ---- the simulated device behind the mock backend ------------------------------------------

/// The simulated gateway's GATT server, as the mock backend's peer. Time is real time since the
/// test started, so the page's timers and the simulator agree. It fails as Chrome reports a
/// device's failures (`mock::att_failure`): an unpaired link after the set-up window is "Not
/// paired" (the mock pairs on demand where the platform does), a restart drops the link.
pub struct SimPeer {
    pub gateway: Rc<RefCell<Gateway>>,
    pub server: Server,
    pub client: String,
    /// What the test sees of the device.
    pub taps: Taps,
}

/// A test's view into a [`SimPeer`].
#[derive(Clone)]
pub struct Taps {
    /// When the device's clock started (`Date.now()`, ms): its time is real time since then.
    pub started: f64,
    /// Whether the device's NotifyEvent / NotifyStatus frames reach a Bluetooth client (true
    /// unless a test turns it off).
    pub events_over_ble: Rc<Cell<bool>>,
    /// Every request frame the device received, in order.
    pub requests: Rc<RefCell<Vec<Request>>>,
}

impl Taps {
    /// The device's clock: what its timers (a restart's delay among them) count in.
    pub fn device_now_ms(&self) -> u64 {
        (js_sys::Date::now() - self.started).max(0.0) as u64
    }
}

impl SimPeer {
    fn now(&self) -> u64 {
        self.taps.device_now_ms()
    }

    /// After the set-up window only a bonded client gets in.
    fn secure(&mut self) -> Result<(), BleError> {
        let gw = self.gateway.borrow();
        if !gw.provisioning().pairing_required() || gw.is_bonded(&self.client) {
            Ok(())
        } else {
            Err(att_failure(AttError::InsufficientAuthentication))
        }
    }

    /// Brings the device up to now: a restart drops the link and what was queued on it.
    fn pump(&mut self) -> Result<(), BleError> {
        let now = self.now();
        let mut gw = self.gateway.borrow_mut();
        gw.tick(now);
        if gw.take_reboot() {
            self.server.disconnect();
            self.server.clear_outbound();
            return Err(att_failure(AttError::Disconnected));
        }
        let notes = gw.take_notifications();
        if self.taps.events_over_ble.get() {
            for note in notes {
                self.server.push_notification(note.to_bytes());
            }
        }
        Ok(())
    }
}

pub fn rpc_char(c: Characteristic) -> Result<RpcCharacteristic, BleError> {
    RpcCharacteristic::from_uuid(c.uuid).ok_or_else(|| {
        BleError::new(
            ErrorKind::NotFound,
            "NotFoundError: No Characteristics matching UUID found in Service.",
        )
    })
}

impl GattPeer for SimPeer {
    fn characteristics(
        &mut self,
        service: bluehome_core::Uuid,
    ) -> Result<Vec<(bluehome_core::Uuid, Properties)>, BleError> {
        if service != bluehome_core::shelly::rpc::SERVICE_UUID {
            return Err(bluehome::ble::mock::no_service(service));
        }
        Ok(declared::<RpcCharacteristic>())
    }

    fn connect(&mut self) -> Result<(), BleError> {
        let out_of_range = OUT_OF_RANGE.with(|n| {
            let left = n.get();
            n.set(left.saturating_sub(1));
            left > 0
        });
        if out_of_range {
            return Err(BleError::new(
                ErrorKind::Gatt,
                "NetworkError: Connection attempt failed.",
            ));
        }
        // A device that restarted meanwhile is simply there again.
        let _ = self.pump();
        self.server = Server::default();
        Ok(())
    }

    fn disconnect(&mut self) {
        self.server.disconnect();
        let now = self.now();
        self.gateway.borrow_mut().on_disconnect(now);
    }

    fn pair(&mut self) -> Result<(), BleError> {
        let now = self.now();
        self.gateway
            .borrow_mut()
            .bond(&self.client, now)
            .map_err(|_| att_failure(AttError::InsufficientAuthentication))
    }

    fn read(&mut self, c: Characteristic) -> Result<Vec<u8>, BleError> {
        self.pump()?;
        self.secure()?;
        self.server.read(rpc_char(c)?).map_err(att_failure)
    }

    fn write(&mut self, c: Characteristic, value: &[u8]) -> Result<(), BleError> {
        self.pump()?;
        self.secure()?;
        if let Some(frame) = self
            .server
            .write(rpc_char(c)?, value)
            .map_err(att_failure)?
        {
            let request: Request = match Frame::parse(&frame) {
                Ok(Frame::Request(r)) => r,
                _ => return Err(att_failure(AttError::Other(0x0E))),
            };
            self.taps.requests.borrow_mut().push(request.clone());
            let now = self.now();
            let response = self.gateway.borrow_mut().handle(&request, now);
            self.server.push_response(response.to_bytes());
            self.pump()?;
        }
        Ok(())
    }
}

thread_local! {
    /// How many connection attempts fail as if the device were out of range.
    pub static OUT_OF_RANGE: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

pub const DEVICE_NAME: &str = "ShellyBluGwG3-CCBA970D5E01";

pub struct World {
    pub session: ShellySession,
    /// "Set up a device", which hands Shelly devices to `session` (its `os` says how this system
    /// pairs).
    pub setup: bluehome::state::setup::SetupSession,
    pub backend: Rc<Backend>,
    pub gateway: Rc<RefCell<Gateway>>,
    pub storage: MemoryStore,
    pub host: web_sys::HtmlElement,
    /// The test's view into `gw-1` (see [`SimPeer`]).
    pub taps: Taps,
}

impl World {
    /// The mock backend the page runs on.
    pub fn mock(&self) -> &MockBackend {
        self.backend
            .as_mock()
            .expect("the test world runs the mock backend")
    }

    /// Waits at most 10 s until the device's status has been read: connected.
    pub async fn until_connected(&self) {
        until(10, "connected", || {
            self.session.status.get_untracked().is_some()
        })
        .await;
    }

    /// Waits until the page, without a failure, left the device after `calls` (their names, in
    /// the log) turned RPC over Bluetooth off and restarted it; checks that the restarted device
    /// has it off.
    pub async fn left_without_rpc_over_bluetooth(&self, calls: &[&str]) {
        until(10, "the page left the device", || {
            self.session.phase.get_untracked() == Phase::Idle
                && self.session.busy.get_untracked().is_none()
        })
        .await;
        let log = log_text(self.session);
        for call in calls {
            assert!(log.contains(call), "{call} not in {log}");
        }
        self.assert_no_failure();
        // The device applies the switch as it restarts, a second later on its own clock (the
        // mock backend's clock is another one, which the Devices page's store may not be moving).
        let later = self.taps.device_now_ms() + 2_000;
        self.gateway.borrow_mut().tick(later);
        assert!(!self.gateway.borrow().rpc_enabled());
    }

    /// Clicks "Add device" in the gateway panel and waits at most `secs` seconds for the panel's
    /// wait for the device to say `words`; returns what it says.
    pub async fn add_device_waiting(&self, secs: u64, words: &str) -> String {
        click(&self.host, "Add device");
        text_saying(&self.host, secs, ".waiting-for-device", words).await
    }

    /// Presses the gateway's first sensor's button (it sends at once) and waits at most `secs`
    /// seconds for the gateway panel to offer its sensors to add.
    pub async fn press_and_see_its_sensors_offered(&self, secs: u64) {
        self.gateway.borrow_mut().sensors_mut()[0].press(0);
        until(secs, "its sensors offered", || {
            count(&self.host, "fieldset.objects input") >= 2
        })
        .await;
    }

    /// Clicks Disconnect and waits at most 5 s for the link to go.
    pub async fn disconnect(&self) {
        click(&self.host, "Disconnect");
        until(5, "disconnected", || self.session.link().is_none()).await;
    }

    /// Clicks Reconnect with the chooser answering `chooser` (should it be shown), and waits at
    /// most 10 s until the status is read and nothing is running.
    pub async fn reconnect(&self, chooser: ChooserAnswer) {
        tick().await;
        self.mock().set_chooser(chooser);
        click(&self.host, "Reconnect");
        until(10, "reconnected", || {
            self.session.status.get_untracked().is_some()
                && self.session.busy.get_untracked().is_none()
        })
        .await;
    }

    /// Turns to a second gateway (`add_neighbour`'s, as `gw-2`) as a person does: another
    /// profile chosen, then "Set up a device…" with the chooser answering it. Waits at most 10 s
    /// until it is connected and nothing runs; returns its id.
    pub async fn turn_to_a_second_gateway(&self) -> DeviceId {
        let second = DeviceId::from("gw-2");
        add_neighbour(self.mock(), &second, Some("ShellyBluGwG3-CCBA970D5E02"));
        nth(&self.host, ".slot-select", 1).click();
        tick().await;
        self.mock()
            .set_chooser(ChooserAnswer::Device(second.clone()));
        click(&self.host, "Set up a device…");
        until(10, "connected to the second gateway", || {
            self.session.link().is_some_and(|l| *l.device() == second)
                && self.session.busy.get_untracked().is_none()
        })
        .await;
        second
    }

    /// Answers the page's password request with `password`.
    pub fn send_password(&self, password: &str) {
        type_into(&self.host, "Device password (user admin)", password);
        click(&self.host, "Send password and retry");
    }

    /// Answers the password request wrongly first, then with `password`, asking the page to
    /// remember it; waits until connected.
    pub async fn sign_in_remembering_after_a_wrong_try(&self, password: &str) {
        self.send_password("wrong");
        self.failure_saying(10, "Wrong password").await;
        check_box(&self.host, "Remember it in this profile");
        self.send_password(password);
        self.until_connected().await;
        self.assert_no_failure();
    }

    /// What the failure panels say ("" when there is none). A panel stays on the page, empty,
    /// while there is no failure (its alert region must be there before the failure is).
    pub fn failure(&self) -> String {
        texts(&self.host, ".failure")
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits at most `secs` seconds for the failure panel to say `words`; returns all it says.
    pub async fn failure_saying(&self, secs: u64, words: &str) -> String {
        text_saying(&self.host, secs, ".failure", words).await;
        self.failure()
    }

    /// Clicks `button`, whose action must be refused on the field labelled `field` (its
    /// words, which begin with `refusal`, named by the field: WCAG 2.2 technique ARIA21) before
    /// `method` is called; returns what the failure panel says.
    pub async fn refused_on(
        &self,
        button: &str,
        field: &str,
        refusal: &str,
        method: &str,
    ) -> String {
        click(&self.host, button);
        let failure = self.failure_saying(5, refusal).await;
        let named = refusal_of(&self.host, field);
        assert!(named.starts_with(refusal), "{field}: {named}");
        let log = log_text(self.session);
        assert!(!log.contains(method), "{method} was called: {log}");
        failure
    }

    /// No failure is shown (else it is the panic message).
    #[track_caller]
    pub fn assert_no_failure(&self) {
        let failure = self.failure();
        assert!(failure.is_empty(), "{failure}");
    }

    /// Ends a test that must end well: no failure is shown, then the page is taken away.
    #[track_caller]
    pub fn end_without_failure(self) {
        self.assert_no_failure();
        self.host.remove();
    }
}

/// One Shelly BLU H&T in range, numbered 0, not encrypted.
pub fn one_ht() -> Vec<SimSensor> {
    vec![SimSensor::new(SensorSpec::numbered(
        SensorKind::HumidityTemperature,
        0,
        false,
    ))]
}

pub fn gateway(options: GatewayOptions, sensors: Vec<SimSensor>) -> Rc<RefCell<Gateway>> {
    Rc::new(RefCell::new(Gateway::new(options, sensors)))
}

/// A second simulated gateway (no sensors, MAC CC:BA:97:0D:5E:02) next to the test's: device
/// `id` of `mock`, with its GATT server, advertising as Shelly devices do, named `name` in the
/// chooser. Returns its MAC.
pub fn add_neighbour(mock: &MockBackend, id: &DeviceId, name: Option<&str>) -> MacAddress {
    let mac = MacAddress([0xCC, 0xBA, 0x97, 0x0D, 0x5E, 0x02]);
    let neighbour = gateway(
        GatewayOptions {
            mac,
            ..GatewayOptions::default()
        },
        Vec::new(),
    );
    let (peer, _) = sim_peer(&neighbour);
    mock.set_gatt_peer(id, name, peer);
    mock.advertise(id, shelly_advert(mac));
    mac
}

/// Calls the simulator directly, as another client would (to set it up or check its state): the
/// result, or `{"error": code}`.
pub fn sim_call(
    gw: &Rc<RefCell<Gateway>>,
    method: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let request = Request {
        id: bluehome_core::shelly::frame::Id::Num(9_999),
        src: Some("checker".into()),
        method: method.into(),
        params: Some(params),
        auth: None,
    };
    gw.borrow_mut()
        .handle(&request, 0)
        .outcome
        .unwrap_or_else(|e| serde_json::json!({"error": e.code}))
}

/// A gateway (no sensors) whose set-up is complete: only a bonded client gets in.
pub fn provisioned_gateway() -> Rc<RefCell<Gateway>> {
    let options = GatewayOptions {
        provisioning: bluehome_core::shelly::methods::ble::Provisioning::Complete,
        ..GatewayOptions::default()
    };
    gateway(options, Vec::new())
}

/// `gateway`'s GATT server, as the mock backend's peer for a device, and the test's view into it.
pub fn sim_peer(gateway: &Rc<RefCell<Gateway>>) -> (Box<SimPeer>, Taps) {
    let taps = Taps {
        started: js_sys::Date::now(),
        events_over_ble: Rc::new(Cell::new(true)),
        requests: Rc::default(),
    };
    let peer = SimPeer {
        gateway: Rc::clone(gateway),
        server: Server::default(),
        client: "aa:bb:cc:00:00:99".into(),
        taps: taps.clone(),
    };
    (Box::new(peer), taps)
}

/// A mock backend whose one device, `gw-1`, is `gateway`'s GATT server.
pub fn gateway_backend(gateway: &Rc<RefCell<Gateway>>) -> (Rc<Backend>, Taps) {
    gateway_backend_on(MockBackend::new(), gateway)
}

/// `mock`, with `gateway`'s GATT server as its device `gw-1`.
pub fn gateway_backend_on(
    mock: MockBackend,
    gateway: &Rc<RefCell<Gateway>>,
) -> (Rc<Backend>, Taps) {
    let (peer, taps) = sim_peer(gateway);
    mock.set_gatt_peer(&DeviceId::from("gw-1"), Some(DEVICE_NAME), peer);
    (Rc::new(Backend::Mock(mock)), taps)
}

/// A mock backend for a browser that lacks what `lacking` turns off.
pub fn mock_lacking(lacking: impl FnOnce(&mut Capabilities)) -> MockBackend {
    let mut capabilities = MockBackend::new().capabilities();
    lacking(&mut capabilities);
    MockBackend::with_capabilities(capabilities)
}

/// The Devices page in a browser that lacks what `lacking` turns off, its one device a gateway
/// with no sensors, fresh storage.
pub async fn world_lacking(lacking: impl FnOnce(&mut Capabilities)) -> World {
    let gw = gateway(GatewayOptions::default(), Vec::new());
    let (backend, taps) = gateway_backend_on(mock_lacking(lacking), &gw);
    world_on(backend, gw, taps, MemoryStore::default()).await
}

/// Mounts the Devices page over a mock backend whose one device is `gateway`.
pub async fn world(gateway: Rc<RefCell<Gateway>>, storage: MemoryStore) -> World {
    let (backend, taps) = gateway_backend(&gateway);
    world_on(backend, gateway, taps, storage).await
}

/// Mounts the Devices page over `backend`, where `gateway` (seen through `taps`) is one device.
pub async fn world_on(
    backend: Rc<Backend>,
    gateway: Rc<RefCell<Gateway>>,
    taps: Taps,
    storage: MemoryStore,
) -> World {
    let session = ShellySession::new(
        Rc::clone(&backend),
        Rc::new(storage.clone()),
        Config::default(),
    );
    let (host, setup) = mount(session).await;
    World {
        session,
        setup,
        backend,
        gateway,
        storage,
        host,
        taps,
    }
}

/// The Shelly manufacturer data a Gen3 gateway advertises (flags, model 0x1817, its MAC), as an
/// advertisement without a name.
pub fn shelly_advert(mac: bluehome_core::MacAddress) -> bluehome_core::Advertisement {
    use bluehome_core::shelly::manufacturer::{COMPANY_ID, Flags, ManufacturerData, encode};
    let mut adv = bluehome_core::Advertisement::default();
    let data = encode(&ManufacturerData {
        flags: Some(Flags(0x0005)),
        model_id: Some(0x1817),
        mac: Some(mac),
        ..ManufacturerData::default()
    });
    adv.manufacturer_data.insert(COMPANY_ID, data);
    adv
}

/// A gateway that joins a Wi-Fi network `ms` after it is given one.
pub fn joins_wifi_after(ms: u64) -> GatewayOptions {
    GatewayOptions {
        wifi_connect_ms: ms,
        ..GatewayOptions::default()
    }
}

/// The Devices page over a gateway set up by `options` (no sensors), fresh storage.
pub async fn world_with(options: GatewayOptions) -> World {
    world(gateway(options, Vec::new()), MemoryStore::default()).await
}

/// The Devices page connected to a gateway set up by `options` (no sensors), fresh storage.
pub async fn connected_world_with(options: GatewayOptions) -> World {
    let w = world_with(options).await;
    connect(&w).await;
    w
}

/// The Devices page connected to a default gateway (no sensors, no password), fresh storage.
pub async fn connected_world() -> World {
    connected_world_with(GatewayOptions::default()).await
}

/// The Devices page connected to a default gateway, its tab `tab` open.
pub async fn connected_on(tab: &str) -> World {
    let w = connected_world().await;
    click_and_render(&w.host, tab).await;
    w
}

/// The Devices page connected to a gateway set up by `options` that hears `sensors` and keeps
/// one BTHome device already (`aa:bb:cc:dd:ee:ff`, id 200, so the next is 201), its BTHome tab
/// open.
pub async fn gateway_tab_keeping_a_device(
    options: GatewayOptions,
    sensors: Vec<SimSensor>,
) -> World {
    let gw = gateway(options, sensors);
    sim_call(
        &gw,
        "BTHome.AddDevice",
        serde_json::json!({"config": {"addr": "aa:bb:cc:dd:ee:ff"}}),
    );
    let w = world(gw, MemoryStore::default()).await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    w
}

/// The Devices page over a default gateway (no sensors), keeping its profiles in `storage`.
pub async fn world_storing(storage: &MemoryStore) -> World {
    world(
        gateway(GatewayOptions::default(), Vec::new()),
        storage.clone(),
    )
    .await
}

/// [`world_storing`], connected.
pub async fn connected_storing(storage: &MemoryStore) -> World {
    let w = world_storing(storage).await;
    connect(&w).await;
    w
}

/// The Devices page over a default gateway that hears one Shelly BLU H&T, fresh storage.
pub async fn world_hearing_one_ht() -> World {
    world(
        gateway(GatewayOptions::default(), one_ht()),
        MemoryStore::default(),
    )
    .await
}

/// Connected to a gateway that hears one H&T, which is added as "Kitchen H&T" and waited for
/// (the gateway knows none of its objects until it sends again).
pub async fn waiting_for_a_new_ht() -> World {
    let w = world_hearing_one_ht().await;
    connect(&w).await;
    click_and_render(&w.host, "BTHome gateway").await;
    type_into(&w.host, "Address", "3c:2e:f5:5b:01:01");
    type_into(&w.host, "Name", "Kitchen H&T");
    w.add_device_waiting(10, "Press the device's button").await;
    w
}

/// The Devices page connected to a gateway set up by `options`, its Wi-Fi tab open with `ssid`
/// and `password` typed in (not yet applied).
pub async fn wifi_typed_in(options: GatewayOptions, ssid: &str, password: &str) -> World {
    let w = connected_world_with(options).await;
    click_and_render(&w.host, "Wi-Fi").await;
    type_into(&w.host, "Network name (SSID)", ssid);
    type_into(&w.host, "Wi-Fi password", password);
    w
}

/// The Wi-Fi form filled in and acknowledged, for a gateway that asks for a restart to apply
/// it and joins the network `joins_after_ms` after.
pub async fn wifi_needing_a_restart(joins_after_ms: u64) -> World {
    let options = GatewayOptions {
        wifi_restart_required: true,
        ..joins_wifi_after(joins_after_ms)
    };
    let w = wifi_typed_in(options, "HomeNet", "correct horse").await;
    check_box(&w.host, "I understand");
    tick().await;
    w
}

/// Scans for networks until `ssid` is listed; returns the list's text.
pub async fn scan_networks(w: &World, ssid: &str) -> String {
    click(&w.host, "Scan for networks");
    text_saying(&w.host, 10, ".networks", ssid).await
}

/// The Devices page asked for the password of a gateway protected by `password`: the connect
/// reads Shelly.GetDeviceInfo (open) and is challenged at Shelly.GetStatus.
pub async fn challenged_world(password: &str) -> World {
    challenged_world_with(GatewayOptions {
        password: Some(password.into()),
        ..GatewayOptions::default()
    })
    .await
}

/// The Devices page connected to a gateway protected by `password`, after answering its
/// challenge with it.
pub async fn signed_in_world(password: &str) -> World {
    let w = challenged_world(password).await;
    w.send_password(password);
    w.until_connected().await;
    w
}

/// [`challenged_world`] for a gateway set up by `options` (a password among them).
pub async fn challenged_world_with(options: GatewayOptions) -> World {
    let w = world_with(options).await;
    click(&w.host, "Set up a device…");
    w.failure_saying(10, "password protected").await;
    w
}

pub async fn mount(
    session: ShellySession,
) -> (web_sys::HtmlElement, bluehome::state::setup::SetupSession) {
    let made = Rc::new(Cell::new(None));
    let setup_out = Rc::clone(&made);
    let host = crate::dom::mount_view(move || {
        provide_context(session);
        // "Set up a device", the page's one chooser, hands Shelly devices to the session.
        let backend = session.backend();
        let store = bluehome::state::AppStore::new(Rc::clone(&backend), false);
        provide_context(store);
        let setup = bluehome::state::setup::SetupSession::new(backend, store, session);
        setup_out.set(Some(setup));
        provide_context(setup);
        view! { <DevicesPage /> }
    });
    tick().await;
    (host, made.get().expect("the page was mounted"))
}

pub async fn connect(w: &World) {
    click(&w.host, "Set up a device…");
    until(10, "connected", || {
        w.host.inner_text().contains("Disconnect") && w.session.status.get_untracked().is_some()
    })
    .await;
}

/// When each logged call of `method` was sent (ms since the epoch), in the log's order.
pub fn sent_at(session: ShellySession, method: &str) -> Vec<u64> {
    session.log.with_untracked(|log| {
        log.iter()
            .filter(|e| e.method == method)
            .map(|e| e.at_ms)
            .collect()
    })
}

pub fn log_text(session: ShellySession) -> String {
    session.log.with_untracked(|log| {
        log.iter()
            .map(|e| format!("{} {} {:?}", e.method, e.params, e.outcome))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The GATT time limit shortened for one test, restored however the test ends.
pub struct GattLimit;

impl GattLimit {
    /// Shortens the limit to `ms`.
    pub fn set(ms: u64) -> Self {
        bluehome::ble::set_gatt_time_limit(ms);
        Self
    }
}

impl Drop for GattLimit {
    fn drop(&mut self) {
        bluehome::ble::set_gatt_time_limit(bluehome::ble::GATT_TIMEOUT_MS);
    }
}

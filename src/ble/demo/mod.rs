//! Demo mode: the mock backend populated from the core simulator — a simulated Shelly BLU Gateway
//! Gen3 (connectable, speaking the real GATT RPC protocol) and the BTHome sensors in its range
//! (plain and encrypted), advertising as simulated time passes; a Shelly BLU Motion with its
//! settings service (paired before, for the "Set up a device" flow) and an Improv Wi-Fi device.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bluehome_core::gatt::{AttError, Characteristics};
use bluehome_core::shelly::rpc;
use bluehome_core::sim::{
    BluDevice, BluOptions, Faults, Gateway, GatewayOptions, ImprovDevice, ImprovOptions,
    Peripheral, SensorSpec, SimSensor,
};
use bluehome_core::{Advertisement, LiteMap, MacAddress, Uuid, blu, improv};

use super::mock::{
    AdvertisementSource, GattPeer, MockBackend, Platform, Properties, att_failure, declared,
    no_characteristic, no_service, not_paired, shelly_blu_packets,
};
use super::{BleError, Characteristic, DeviceId, ErrorKind};

/// The fleet the demo shows (`+enc`: encrypted with [`bluehome_core::sim::sensors::SIM_KEY`]).
pub const DEMO_FLEET: &str = "ht,thermo,button,dw,motion,rc4,ht+enc,thermo+enc";

/// The simulated gateway shared by its GATT peer and its advertisement source.
pub type SharedPeripheral = Rc<RefCell<Peripheral>>;

/// A device id for the simulator's devices: the MAC, as a remote scanner would report it.
pub fn device_id(mac: MacAddress) -> DeviceId {
    DeviceId(mac.to_string())
}

/// The simulated gateway with the demo fleet, sensors advertising every few seconds.
pub fn demo_peripheral() -> SharedPeripheral {
    let sensors = SensorSpec::parse_list(DEMO_FLEET)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, mut spec)| {
            // Livelier than real devices (which send every 30–60 s).
            spec.interval_ms = 2_000 + 700 * i as u64;
            SimSensor::new(spec)
        })
        .collect();
    let gateway = Gateway::new(GatewayOptions::default(), sensors);
    Rc::new(RefCell::new(Peripheral::new(
        gateway,
        rpc::server::DEFAULT_MTU,
        Faults::default(),
    )))
}

/// A mock backend running the demo: the gateway is a connectable device with the Shelly RPC
/// service; every simulated device advertises.
pub fn demo_backend() -> MockBackend {
    let backend = MockBackend::new();
    // Pairing on demand for every device, as on Android and macOS: after its set-up window the
    // demo gateway wants a paired link, and the demo has no operating system to pair in.
    backend.set_platform(Platform::MacOs);
    // The demo starts listening as it opens, which no browser allows without a click.
    backend.set_needs_user_gesture(false);
    let peripheral = demo_peripheral();
    let mac = peripheral.borrow().gateway().mac();
    let name = peripheral.borrow().gateway().id().to_owned();
    backend.set_gatt_peer(
        &device_id(mac),
        Some(&name),
        Box::new(GatewayPeer::new(Rc::clone(&peripheral), backend.clock())),
    );
    backend.add_source(Box::new(PeripheralSource::new(peripheral)));
    // The BLU and Improv devices have addresses that sort after the gateway's: the simulated
    // chooser offers the first match, so a chooser for Shelly devices finds the gateway, and
    // "Set up a device" lists the gateway first. The Motion sensor was paired with this
    // browser before (the demo has no button to hold) and beacons every 3 s.
    let motion = blu_device(BluDevice::new(BluOptions {
        mac: MacAddress([0xDA, 0x2E, 0xF5, 0xB1, 0x00, 0x05]),
        bonds: vec![CLIENT.to_owned()],
        beacon: true,
        interval_ms: Some(3_000),
        ..BluOptions::new(&blu::MODELS[3])
    }));
    add_blu(&backend, &motion);
    add_improv(
        &backend,
        // Authorized from the start: nobody can press a simulated button in the demo.
        &improv_device(ImprovOptions {
            mac: MacAddress([0xDB, 0x58, 0x7C, 0x1D, 0x2E, 0x3F]),
            authorization: false,
            ..ImprovOptions::default()
        }),
    );
    backend
}

/// A simulated Shelly BLU device shared by its GATT peer and its advertisement source.
pub type SharedBlu = Rc<RefCell<BluDevice>>;

/// A simulated Improv device shared by its GATT peer and its advertisement source.
pub type SharedImprov = Rc<RefCell<ImprovDevice>>;

/// Shares a BLU device.
pub fn blu_device(device: BluDevice) -> SharedBlu {
    Rc::new(RefCell::new(device))
}

/// Shares an Improv device.
pub fn improv_device(options: ImprovOptions) -> SharedImprov {
    Rc::new(RefCell::new(ImprovDevice::new(options)))
}

/// Puts a BLU device on the mock, named by its MAC as the demo names devices: connectable and
/// advertising.
pub fn add_blu(backend: &MockBackend, device: &SharedBlu) -> DeviceId {
    let id = device_id(device.borrow().mac());
    add_blu_as(backend, &id, device);
    id
}

/// Puts a BLU device on the mock under `id` (a browser's opaque id, as Chrome names devices).
pub fn add_blu_as(backend: &MockBackend, id: &DeviceId, device: &SharedBlu) {
    let name = device.borrow().model().code();
    backend.set_gatt_peer(
        id,
        Some(name),
        Box::new(BluPeer::new(Rc::clone(device), backend.clock())),
    );
    backend.add_source(Box::new(BluSource {
        device: Rc::clone(device),
        id: id.clone(),
        last: None,
    }));
}

/// Puts an Improv device on the mock, named by its MAC: connectable, advertising, notifying.
pub fn add_improv(backend: &MockBackend, device: &SharedImprov) -> DeviceId {
    let address = device.borrow_mut().advertisement(0).address;
    let id = address.map_or_else(|| "improv".into(), device_id);
    add_improv_as(backend, &id, device);
    id
}

/// Puts an Improv device on the mock under `id`.
pub fn add_improv_as(backend: &MockBackend, id: &DeviceId, device: &SharedImprov) {
    let name = device.borrow_mut().advertisement(0).name;
    backend.set_gatt_peer(
        id,
        name.as_deref(),
        Box::new(SimPeer::new(Rc::clone(device), backend.clock())),
    );
    backend.add_source(Box::new(ImprovSource {
        device: Rc::clone(device),
        id: id.clone(),
        last: None,
    }));
}

/// A BLU device's GATT server: its settings and Device Information services, bonding on the
/// mock's pairing, and failures in Chrome's words.
#[derive(Debug)]
pub struct BluPeer {
    device: SharedBlu,
    clock: Rc<Cell<u64>>,
}

impl BluPeer {
    /// The GATT side of a shared BLU device, on the mock's clock.
    pub fn new(device: SharedBlu, clock: Rc<Cell<u64>>) -> Self {
        Self { device, clock }
    }

    fn characteristic(&self, c: Characteristic) -> Result<blu::Characteristic, BleError> {
        blu::Characteristic::from_uuid(c.uuid)
            .filter(|found| found.info().service == c.service)
            .ok_or_else(|| att_failure(AttError::AttributeNotFound))
    }
}

impl GattPeer for BluPeer {
    fn connect(&mut self) -> Result<(), BleError> {
        // Chrome does not say why a device refused a connection.
        self.device
            .borrow_mut()
            .connect(CLIENT, self.clock.get())
            .map_err(|_| BleError::new(ErrorKind::Gatt, "NetworkError: Connection attempt failed."))
    }

    fn disconnect(&mut self) {
        self.device.borrow_mut().disconnect(self.clock.get());
    }

    fn holds_link(&self) -> bool {
        self.device.borrow().client().is_some()
    }

    fn asks_for_passkey(&self) -> bool {
        self.device.borrow().asks_for_passkey()
    }

    fn pair(&mut self) -> Result<(), BleError> {
        self.device
            .borrow_mut()
            .pair(None, self.clock.get())
            .map_err(att_failure)
    }

    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        let exposed = self.device.borrow().exposed();
        let list: Vec<_> = exposed
            .iter()
            .filter(|c| c.info().service == service)
            .map(|c| (c.uuid(), c.properties()))
            .collect();
        if list.is_empty() {
            return Err(no_service(service));
        }
        Ok(list)
    }

    fn read(&mut self, c: Characteristic) -> Result<Vec<u8>, BleError> {
        let c = self.characteristic(c)?;
        self.device
            .borrow_mut()
            .read(c, self.clock.get())
            .map_err(att_failure)
    }

    fn write(&mut self, c: Characteristic, value: &[u8]) -> Result<(), BleError> {
        let c = self.characteristic(c)?;
        self.device
            .borrow_mut()
            .write(c, value, self.clock.get())
            .map_err(att_failure)
    }
}

/// A BLU device's advertisements, each new one split into its two packets as the device sends
/// them.
#[derive(Debug)]
struct BluSource {
    device: SharedBlu,
    id: DeviceId,
    last: Option<Advertisement>,
}

impl AdvertisementSource for BluSource {
    fn poll(&mut self, now_ms: u64) -> Vec<(DeviceId, Advertisement)> {
        let Some(adv) = self.device.borrow_mut().advertisement(now_ms) else {
            return Vec::new();
        };
        if self.last.as_ref() == Some(&adv) {
            return Vec::new();
        }
        self.last = Some(adv.clone());
        match shelly_blu_packets(&adv) {
            Some(packets) => packets.into_iter().map(|p| (self.id.clone(), p)).collect(),
            None => vec![(self.id.clone(), adv)],
        }
    }
}

/// An Improv device's advertisements (when its state changes, and every few seconds) and the
/// notifications it queued.
#[derive(Debug)]
struct ImprovSource {
    device: SharedImprov,
    id: DeviceId,
    last: Option<([Advertisement; 2], u64)>,
}

impl AdvertisementSource for ImprovSource {
    /// Its two packets as ESPHome sends them (`ImprovDevice::packets`): the advertising data with
    /// the service UUID and service data, then the scan response with the name.
    fn poll(&mut self, now_ms: u64) -> Vec<(DeviceId, Advertisement)> {
        let packets = self.device.borrow_mut().packets(now_ms);
        let fresh = match &self.last {
            Some((previous, at)) => *previous != packets || now_ms >= at + REPEAT_MS,
            None => true,
        };
        if !fresh {
            return Vec::new();
        }
        self.last = Some((packets.clone(), now_ms));
        packets.into_iter().map(|p| (self.id.clone(), p)).collect()
    }

    fn notifications(&mut self, now_ms: u64) -> Vec<(DeviceId, Characteristic, Vec<u8>)> {
        let mut device = self.device.borrow_mut();
        device.tick(now_ms);
        device
            .take_notifications()
            .into_iter()
            .map(|(c, value)| {
                let characteristic = Characteristic {
                    service: improv::SERVICE_UUID,
                    uuid: c.uuid(),
                };
                (self.id.clone(), characteristic, value)
            })
            .collect()
    }
}

/// The advertisements of the simulated gateway and its sensors.
#[derive(Debug)]
pub struct PeripheralSource {
    peripheral: SharedPeripheral,
    last: LiteMap<MacAddress, (Advertisement, u64)>,
}

/// A device that sends nothing new is still re-announced this often (real devices repeat).
const REPEAT_MS: u64 = 3_000;

impl PeripheralSource {
    /// Advertisements of this peripheral.
    pub fn new(peripheral: SharedPeripheral) -> Self {
        Self {
            peripheral,
            last: LiteMap::new(),
        }
    }
}

impl AdvertisementSource for PeripheralSource {
    fn poll(&mut self, now_ms: u64) -> Vec<(DeviceId, Advertisement)> {
        let adverts = {
            let mut peripheral = self.peripheral.borrow_mut();
            let mut all = peripheral.gateway_advertisements(now_ms);
            all.extend(peripheral.sensor_advertisements(now_ms));
            all
        };
        let mut out = Vec::new();
        for adv in adverts {
            let Some(mac) = adv.address else { continue };
            let fresh = match self.last.get(&mac) {
                Some((previous, at)) => *previous != adv || now_ms >= at + REPEAT_MS,
                None => true,
            };
            if fresh {
                self.last.insert(mac, (adv.clone(), now_ms));
                // Shelly BLU sensors send their name and MAC in the scan response.
                match shelly_blu_packets(&adv) {
                    Some(packets) => out.extend(packets.map(|p| (device_id(mac), p))),
                    None => out.push((device_id(mac), adv)),
                }
            }
        }
        out
    }
}

/// The client name the simulator sees for the browser.
const CLIENT: &str = "browser";

/// A simulated device with the one GATT service of the core's `C` (the gateway's Shelly RPC,
/// Improv's provisioning), as [`SimPeer`] drives it.
pub trait OneService {
    /// Its service's characteristics.
    type C: Characteristics;
    /// Its service.
    const SERVICE: Uuid;
    /// A central connected.
    fn connect(&mut self, now_ms: u64);
    /// The central disconnected.
    fn disconnect(&mut self, now_ms: u64);
    /// The operating system pairs with it (by default it cannot be paired, as Chrome reports it).
    fn pair(&mut self, _now_ms: u64) -> Result<(), BleError> {
        Err(not_paired())
    }
    /// Reads a characteristic.
    fn read(&mut self, c: Self::C, now_ms: u64) -> Result<Vec<u8>, AttError>;
    /// Writes a characteristic.
    fn write(&mut self, c: Self::C, value: &[u8], now_ms: u64) -> Result<(), AttError>;
}

impl OneService for Peripheral {
    type C = rpc::Characteristic;
    const SERVICE: Uuid = rpc::SERVICE_UUID;
    fn connect(&mut self, now_ms: u64) {
        Peripheral::connect(self, CLIENT, now_ms);
    }
    fn disconnect(&mut self, now_ms: u64) {
        Peripheral::disconnect(self, now_ms);
    }
    fn pair(&mut self, now_ms: u64) -> Result<(), BleError> {
        Peripheral::pair(self, None, now_ms).map_err(att_failure)
    }
    fn read(&mut self, c: Self::C, now_ms: u64) -> Result<Vec<u8>, AttError> {
        Peripheral::read(self, c, now_ms)
    }
    fn write(&mut self, c: Self::C, value: &[u8], now_ms: u64) -> Result<(), AttError> {
        Peripheral::write(self, c, value, now_ms)
    }
}

impl OneService for ImprovDevice {
    type C = improv::Characteristic;
    const SERVICE: Uuid = improv::SERVICE_UUID;
    fn connect(&mut self, now_ms: u64) {
        ImprovDevice::connect(self, CLIENT, now_ms);
    }
    fn disconnect(&mut self, now_ms: u64) {
        ImprovDevice::disconnect(self, now_ms);
    }
    fn read(&mut self, c: Self::C, now_ms: u64) -> Result<Vec<u8>, AttError> {
        ImprovDevice::read(self, c, now_ms)
    }
    fn write(&mut self, c: Self::C, value: &[u8], now_ms: u64) -> Result<(), AttError> {
        ImprovDevice::write(self, c, value, now_ms)
    }
}

/// The GATT server of a shared simulated device with one service, on the mock's clock; what it
/// lacks fails in Chrome's words.
#[derive(Debug)]
pub struct SimPeer<D> {
    device: Rc<RefCell<D>>,
    clock: Rc<Cell<u64>>,
}

impl<D: OneService> SimPeer<D> {
    /// The GATT side of a shared device, on the mock's clock.
    pub fn new(device: Rc<RefCell<D>>, clock: Rc<Cell<u64>>) -> Self {
        Self { device, clock }
    }

    fn characteristic(c: Characteristic) -> Result<D::C, BleError> {
        if c.service != D::SERVICE {
            return Err(no_service(c.service));
        }
        D::C::from_uuid(c.uuid).ok_or_else(|| no_characteristic(c))
    }
}

impl<D: OneService> GattPeer for SimPeer<D> {
    fn connect(&mut self) -> Result<(), BleError> {
        self.device.borrow_mut().connect(self.clock.get());
        Ok(())
    }

    fn disconnect(&mut self) {
        self.device.borrow_mut().disconnect(self.clock.get());
    }

    fn pair(&mut self) -> Result<(), BleError> {
        self.device.borrow_mut().pair(self.clock.get())
    }

    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        if service != D::SERVICE {
            return Err(no_service(service));
        }
        Ok(declared::<D::C>())
    }

    fn read(&mut self, c: Characteristic) -> Result<Vec<u8>, BleError> {
        let c = Self::characteristic(c)?;
        let now = self.clock.get();
        self.device.borrow_mut().read(c, now).map_err(att_failure)
    }

    fn write(&mut self, c: Characteristic, value: &[u8]) -> Result<(), BleError> {
        let c = Self::characteristic(c)?;
        let now = self.clock.get();
        self.device
            .borrow_mut()
            .write(c, value, now)
            .map_err(att_failure)
    }
}

/// The simulated gateway's GATT server.
pub type GatewayPeer = SimPeer<Peripheral>;

#[cfg(test)]
mod tests;

//! The backend trait and the platform-neutral types it speaks.
//!
//! Web Bluetooth hides MAC addresses, so devices are named by [`DeviceId`] (the browser's opaque
//! per-origin id, or the simulator's name for a simulated device). Advertisements arrive already
//! converted to [`bluehome_core::Advertisement`]; GATT attributes are named by [`Uuid`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use bluehome_core::filter::web::{self, WebFilter, WebManufacturerData};
use bluehome_core::filter::{DataPrefix, FilterSet};
use bluehome_core::shelly::{self, manufacturer};
use bluehome_core::{Advertisement, MacAddress, Uuid};

use super::{BleError, Capabilities, ErrorKind};

/// A device as the backend names it: the browser's opaque `BluetoothDevice.id`, or a simulated
/// device's id. Never a MAC address (Web Bluetooth does not expose one).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(pub String);

impl DeviceId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DeviceId {
    fn from(id: &str) -> Self {
        Self(id.to_owned())
    }
}

/// Device Name characteristic): Chrome refuses a longer name filter.
pub const MAX_NAME_BYTES: usize = 248;

/// Options of `navigator.bluetooth.requestDevice` (the chooser).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestDeviceOptions {
    /// Devices offered match any of these (must be non-empty unless `accept_all_devices`).
    pub filters: Vec<WebFilter>,
    /// Devices matching any of these are left out (Chrome 114+).
    pub exclusion_filters: Vec<WebFilter>,
    /// Services the page may use beyond those in `filters` (BTHome 0xFCD2 for its service data).
    pub optional_services: Vec<Uuid>,
    /// Company ids whose manufacturer data advertisements may show (0x0BA9 for Shelly).
    pub optional_manufacturer_data: Vec<u16>,
    /// Offer every device (then `filters` must be empty).
    pub accept_all_devices: bool,
}

impl RequestDeviceOptions {
    /// The chooser options that find Shelly devices and grant their RPC service and manufacturer data.
    pub fn shelly(rpc_service: Uuid) -> Self {
        Self {
            filters: vec![
                WebFilter {
                    services: vec![rpc_service],
                    ..WebFilter::default()
                },
                WebFilter {
                    manufacturer_data: vec![WebManufacturerData {
                        company: shelly::COMPANY_ID,
                        data: DataPrefix::default(),
                    }],
                    ..WebFilter::default()
                },
                WebFilter {
                    name_prefix: Some("Shelly".to_owned()),
                    ..WebFilter::default()
                },
            ],
            optional_services: vec![rpc_service, Uuid::BTHOME_V2],
            optional_manufacturer_data: vec![shelly::COMPANY_ID],
            ..Self::default()
        }
    }

    /// The chooser options that find one Shelly device again, whose MAC is `mac`: its Shelly
    /// manufacturer data (company 0x0BA9) with that MAC block, in either layout firmware uses,
    /// and, for Gen2 devices that advertise `<Model>-<MAC>`, `name` when it carries the MAC.
    /// Never the exact name alone: Gen3/Gen4 devices advertise none that says which device.
    pub fn shelly_device(rpc_service: Uuid, mac: MacAddress, name: &str) -> Self {
        let mut filters: Vec<WebFilter> = manufacturer::mac_prefixes(mac)
            .into_iter()
            .map(|data| WebFilter {
                manufacturer_data: vec![WebManufacturerData {
                    company: shelly::COMPANY_ID,
                    data,
                }],
                ..WebFilter::default()
            })
            .collect();
        let hex: String = mac.0.iter().map(|b| format!("{b:02x}")).collect();
        // Chrome refuses a name filter longer than an advertised name can be (248 bytes); one
        // from an imported profile can be.
        if name.len() <= MAX_NAME_BYTES && name.to_ascii_lowercase().ends_with(&hex) {
            filters.push(WebFilter {
                name: Some(name.to_owned()),
                ..WebFilter::default()
            });
        }
        Self {
            filters,
            ..Self::shelly(rpc_service)
        }
    }

    /// The chooser of "Set up a device": Shelly RPC devices (their service), Shelly BLU sensors
    /// (the Shelly company id in their manufacturer data) and Improv Wi-Fi devices (their
    /// service, which the Improv specification says they advertise); every service the set-up
    /// flows use is granted, the page routes by the services it then finds.
    pub fn setup(rpc_service: Uuid, blu_services: &[Uuid], improv_service: Uuid) -> Self {
        let mut options = Self::shelly(rpc_service);
        options.filters.push(WebFilter {
            services: vec![improv_service],
            ..WebFilter::default()
        });
        options.optional_services.extend(blu_services);
        options.optional_services.push(improv_service);
        options
    }

    /// The chooser options that find BTHome sensors (to watch their advertisements).
    pub fn bthome_sensors() -> Self {
        Self {
            accept_all_devices: true,
            optional_services: vec![Uuid::BTHOME_V2, Uuid::BTHOME_V1, Uuid::BTHOME_V1_ENCRYPTED],
            optional_manufacturer_data: vec![shelly::COMPANY_ID],
            ..Self::default()
        }
    }
}

/// Options of `navigator.bluetooth.requestLEScan` (not Shelly's scan options, which are
/// [`bluehome_core::filter::ScanOptions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeScanOptions {
    /// Advertisements must match one of these (ignored with `accept_all_advertisements`).
    pub filters: Vec<WebFilter>,
    /// Report every advertisement, not only the first per device.
    pub keep_repeated_devices: bool,
    /// Report advertisements of every device.
    pub accept_all_advertisements: bool,
}

impl Default for LeScanOptions {
    /// Everything, repeatedly: what a sensor console wants.
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            keep_repeated_devices: true,
            accept_all_advertisements: true,
        }
    }
}

impl LeScanOptions {
    /// The scan for a Shelly filter set: the core's scan translation
    /// ([`bluehome_core::filter::web::translate_scan`]: advertised services only, else every
    /// advertisement), every packet kept. Names and manufacturer data cannot narrow a scan
    /// safely; the list applies the whole set to each device's merged data.
    pub fn for_filters(filters: &FilterSet) -> Self {
        let web = web::translate_scan(filters);
        Self {
            accept_all_advertisements: web.accept_all,
            filters: web.filters,
            keep_repeated_devices: true,
        }
    }
}

/// A device the user granted (from the chooser or `getDevices`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedDevice {
    /// The backend's id for it.
    pub id: DeviceId,
    /// Its name, when known.
    pub name: Option<String>,
}

/// How to write a characteristic value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Write request, acknowledged by the device (Shelly RPC uses this).
    #[default]
    WithResponse,
    /// Write command, not acknowledged.
    WithoutResponse,
}

/// A GATT characteristic of a connected device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Characteristic {
    /// The primary service it belongs to.
    pub service: Uuid,
    /// The characteristic.
    pub uuid: Uuid,
}

/// Something that happened in the backend, delivered to every subscriber.
#[derive(Debug, Clone, PartialEq)]
pub enum BleEvent {
    /// An advertisement arrived (from a scan or a watched device).
    Advertisement {
        /// Who sent it.
        device: DeviceId,
        /// Its content, normalized by the core type.
        advertisement: Advertisement,
    },
    /// A notification (or indication) of a characteristic whose notifications were started.
    Notification {
        /// The device.
        device: DeviceId,
        /// The characteristic.
        characteristic: Characteristic,
        /// The new value.
        value: Vec<u8>,
    },
    /// The GATT connection to a device dropped (`gattserverdisconnected`), asked for or not.
    Disconnected {
        /// The device.
        device: DeviceId,
    },
    /// The LE scan ended.
    ScanStopped {
        /// Why.
        reason: ScanEnd,
    },
    /// The page became inactive (hidden, or lost focus) or active again (visible and focused).
    /// Going inactive, Chrome silently ends the LE scan and every watch (`ClearAdvertisementClients`
    /// in `content/browser/bluetooth/web_bluetooth_service_impl.cc`); back, a watch can be re-armed
    /// without a user gesture (unwatch, then watch), a scan cannot.
    PageActivity {
        /// Visible and focused.
        active: bool,
    },
}

/// Why an LE scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEnd {
    /// The page stopped it.
    Stopped,
    /// The page was hidden or lost focus, and the browser ended it.
    PageInactive,
    /// The browser ended it for a reason of its own (`BluetoothLEScan.active` turned false).
    Browser,
}

/// Where the browser dispatched an advertisement event. Chrome dispatches a scan's results on
/// `navigator.bluetooth` and a watch's on the `BluetoothDevice`, so a device that is both watched
/// and scanned yields two events per advertisement (`third_party/blink/renderer/modules/bluetooth/`
/// `bluetooth.cc` and `bluetooth_device.cc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// A scan result, dispatched on `navigator.bluetooth`.
    Scan,
    /// A watch result, dispatched on the device.
    Watch,
}

impl Dispatch {
    /// Whether a backend delivers the event, so that each advertisement is delivered once: a
    /// watched device's from its watch, any other device's from the scan.
    pub fn delivers(self, watched: bool) -> bool {
        match self {
            Self::Scan => !watched,
            Self::Watch => watched,
        }
    }
}

/// Tracks whether the page is visible and focused, from the browser's page events (the web
/// backend) or a test's calls (the mock), and says when that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageActivity {
    visible: bool,
    focused: bool,
}

impl Default for PageActivity {
    /// A visible, focused page.
    fn default() -> Self {
        Self::new(true, true)
    }
}

impl PageActivity {
    /// The page as it is now.
    pub fn new(visible: bool, focused: bool) -> Self {
        Self { visible, focused }
    }

    /// Visible and focused: scans and watches run only then.
    pub fn is_active(&self) -> bool {
        self.visible && self.focused
    }

    /// Visible (another tab is not in front, the window is not minimised).
    pub fn is_visible(&self) -> bool {
        self.visible
    }

    /// Focused (no other window, or browser dialog, has the focus).
    pub fn is_focused(&self) -> bool {
        self.focused
    }

    /// Records the page's state; returns the event to emit when its activity changed.
    pub fn update(&mut self, visible: bool, focused: bool) -> Option<BleEvent> {
        let was = self.is_active();
        *self = Self::new(visible, focused);
        (self.is_active() != was).then_some(BleEvent::PageActivity {
            active: self.is_active(),
        })
    }
}

/// Receives backend events.
pub type EventSink = Rc<dyn Fn(&BleEvent)>;

/// Every event `backend` emits from now on, in order (what tests read back).
pub fn event_log(backend: &impl BleBackend) -> Rc<RefCell<Vec<BleEvent>>> {
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&events);
    backend.subscribe(Rc::new(move |e: &BleEvent| {
        sink.borrow_mut().push(e.clone())
    }));
    events
}

/// The values of the notifications in an [`event_log`], oldest first.
pub fn notified_values(events: &RefCell<Vec<BleEvent>>) -> Vec<Vec<u8>> {
    logged(events, |e| match e {
        BleEvent::Notification { value, .. } => Some(value.clone()),
        _ => None,
    })
}

/// The advertisements in an [`event_log`], oldest first.
pub fn advertised(events: &RefCell<Vec<BleEvent>>) -> Vec<Advertisement> {
    logged(events, |e| match e {
        BleEvent::Advertisement { advertisement, .. } => Some(advertisement.clone()),
        _ => None,
    })
}

fn logged<T>(events: &RefCell<Vec<BleEvent>>, pick: impl Fn(&BleEvent) -> Option<T>) -> Vec<T> {
    events.borrow().iter().filter_map(pick).collect()
}

/// A subscription handle; pass it to [`BleBackend::unsubscribe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription(u64);

/// The subscriber list every backend keeps.
#[derive(Default)]
pub struct Subscribers {
    next: Cell<u64>,
    sinks: RefCell<Vec<(u64, EventSink)>>,
}

impl fmt::Debug for Subscribers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscribers")
            .field("count", &self.sinks.borrow().len())
            .finish()
    }
}

impl Subscribers {
    /// Adds a sink.
    pub fn add(&self, sink: EventSink) -> Subscription {
        let id = self.next.get();
        self.next.set(id + 1);
        self.sinks.borrow_mut().push((id, sink));
        Subscription(id)
    }

    /// Removes a sink (no-op when already gone).
    pub fn remove(&self, subscription: Subscription) {
        self.sinks
            .borrow_mut()
            .retain(|(id, _)| *id != subscription.0);
    }

    /// Delivers an event to every sink. Sinks may subscribe or unsubscribe while it runs.
    pub fn emit(&self, event: &BleEvent) {
        let sinks: Vec<EventSink> = self
            .sinks
            .borrow()
            .iter()
            .map(|(_, s)| Rc::clone(s))
            .collect();
        for sink in sinks {
            sink(event);
        }
    }
}

/// A Bluetooth backend: Web Bluetooth in the browser, or the simulator.
///
/// The futures are `!Send` (Web Bluetooth promises live on the page's thread), so the methods are
/// plain `async fn` without `Send` bounds. Implementations serialize GATT operations themselves
/// (Chrome allows one at a time per device), so callers may issue them freely.
#[allow(async_fn_in_trait)] // Deliberately no Send bound: wasm futures are single-threaded.
pub trait BleBackend {
    /// What this backend can do (the UI offers only these).
    fn capabilities(&self) -> Capabilities;

    /// Whether the system has a Bluetooth adapter this page may use
    /// (`navigator.bluetooth.getAvailability()`). False without an adapter, without Low Energy,
    /// or where Bluetooth is blocked for the site; an adapter that is switched off still counts
    /// (Chromium's `content/browser/bluetooth/web_bluetooth_service_impl.cc`, `GetAvailability`,
    /// answers `adapter->IsPresent()`). `None` when the browser cannot tell.
    async fn adapter_available(&self) -> Option<bool>;

    /// Starts delivering events to `sink`.
    fn subscribe(&self, sink: EventSink) -> Subscription;

    /// Stops delivering events to a sink.
    fn unsubscribe(&self, subscription: Subscription);

    /// Starts an LE scan (`requestLEScan`; needs a user gesture on the web).
    async fn start_scan(&self, options: &LeScanOptions) -> Result<(), BleError>;

    /// Stops the LE scan, if one runs.
    fn stop_scan(&self);

    /// Whether an LE scan runs (false once the browser ended it, even without an event).
    fn is_scanning(&self) -> bool;

    /// Shows the chooser (`requestDevice`; needs a user gesture on the web).
    async fn request_device(
        &self,
        options: &RequestDeviceOptions,
    ) -> Result<GrantedDevice, BleError>;

    /// Devices the user permitted before (`getDevices`).
    async fn get_devices(&self) -> Result<Vec<GrantedDevice>, BleError>;

    /// Starts delivering a granted device's advertisements (`watchAdvertisements`).
    ///
    /// For a device already watched this may do nothing at all: Chrome resolves at once while
    /// `watchingAdvertisements` is true, even after it silently dropped the watch (page hidden or
    /// unfocused). To re-arm a watch, unwatch first.
    async fn watch_advertisements(&self, device: &DeviceId) -> Result<(), BleError>;

    /// Stops watching a device's advertisements (aborts the watch).
    fn unwatch_advertisements(&self, device: &DeviceId);

    /// Connects to a granted device's GATT server.
    async fn connect(&self, device: &DeviceId) -> Result<(), BleError>;

    /// Disconnects (a [`BleEvent::Disconnected`] follows).
    fn disconnect(&self, device: &DeviceId);

    /// Whether the device's GATT server is connected.
    fn is_connected(&self, device: &DeviceId) -> bool;

    /// Revokes this page's permission for a device (`BluetoothDevice.forget()`), disconnecting
    /// it: the chooser is needed to use it again. A device the browser does not list as
    /// permitted is already forgotten.
    async fn forget(&self, device: &DeviceId) -> Result<(), BleError>;

    /// The characteristics a primary service of a connected device has (`getPrimaryService`,
    /// then `getCharacteristics`), by UUID. A service the device lacks, or that the chooser's
    /// `optionalServices` did not grant, is [`ErrorKind::NotFound`].
    async fn characteristics(
        &self,
        device: &DeviceId,
        service: Uuid,
    ) -> Result<Vec<Uuid>, BleError>;

    /// Reads a characteristic value.
    async fn read(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<Vec<u8>, BleError>;

    /// Writes a characteristic value (at most 512 bytes).
    async fn write(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
        value: &[u8],
        mode: WriteMode,
    ) -> Result<(), BleError>;

    /// Starts notifications of a characteristic ([`BleEvent::Notification`] follows).
    async fn start_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError>;

    /// Stops notifications of a characteristic.
    async fn stop_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError>;
}

/// The largest value one GATT read or write may carry in Web Bluetooth.
pub const MAX_GATT_VALUE: usize = 512;

/// Refuses a value longer than [`MAX_GATT_VALUE`] before it is written, in Chrome's words
/// (`BluetoothRemoteGATTCharacteristic::WriteValue` in Chromium's
/// `third_party/blink/renderer/modules/bluetooth/bluetooth_remote_gatt_characteristic.cc`).
pub fn check_value_length(value: &[u8]) -> Result<(), BleError> {
    if value.len() > MAX_GATT_VALUE {
        return Err(BleError::new(
            ErrorKind::Gatt,
            "InvalidModificationError: Value can't exceed 512 bytes.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_receive_until_unsubscribed() {
        let subscribers = Subscribers::default();
        let seen = Rc::new(Cell::new(0));
        let counter = Rc::clone(&seen);
        let sub = subscribers.add(Rc::new(move |_| counter.set(counter.get() + 1)));
        let stopped = BleEvent::ScanStopped {
            reason: ScanEnd::Stopped,
        };
        subscribers.emit(&stopped);
        subscribers.remove(sub);
        subscribers.emit(&stopped);
        assert_eq!(seen.get(), 1);
    }

    /// A write of 512 bytes goes out; one byte more is refused as Chrome refuses it.
    #[test]
    fn values_over_512_bytes_are_refused_in_chromes_words() {
        assert!(check_value_length(&[0; MAX_GATT_VALUE]).is_ok());
        let refused = check_value_length(&[0; MAX_GATT_VALUE + 1]).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::Gatt);
        assert_eq!(
            refused.message,
            "InvalidModificationError: Value can't exceed 512 bytes."
        );
    }

    /// Reconnecting finds the device by the MAC block of its manufacturer data (a Gen3 gateway
    /// advertising no useful name), not a neighbour; a Gen2 name with the MAC is kept as well.
    #[test]
    fn shelly_device_filters_match_only_that_mac() {
        use bluehome_core::shelly::manufacturer::{Flags, ManufacturerData, encode};
        let mac = MacAddress([0xCC, 0xBA, 0x97, 0x0D, 0x5E, 0x01]);
        let advert = |mac| {
            let mut adv = Advertisement::default();
            let data = encode(&ManufacturerData {
                flags: Some(Flags(0x0005)),
                model_id: Some(0x1817),
                mac: Some(mac),
                ..ManufacturerData::default()
            });
            adv.manufacturer_data.insert(shelly::COMPANY_ID, data);
            adv
        };
        let options =
            RequestDeviceOptions::shelly_device(Uuid::BTHOME_V2, mac, "shellyblugwg3-ccba970d5e01");
        let offered =
            |adv: &Advertisement, name| options.filters.iter().any(|f| f.matches(name, Some(adv)));
        assert!(offered(&advert(mac), None));
        let neighbour = MacAddress([0xCC, 0xBA, 0x97, 0x0D, 0x5E, 0x02]);
        assert!(!offered(&advert(neighbour), None));
        let renamed = RequestDeviceOptions::shelly_device(Uuid::BTHOME_V2, mac, "Kitchen gateway");
        assert!(
            renamed.filters.iter().all(|f| f.name.is_none()),
            "a name without the MAC says nothing about the device"
        );
        let gen2 =
            RequestDeviceOptions::shelly_device(Uuid::BTHOME_V2, mac, "ShellyPlus1-CCBA970D5E01");
        assert_eq!(gen2.filters.len(), 3);
        assert!(
            gen2.filters
                .iter()
                .any(|f| f.matches(Some("ShellyPlus1-CCBA970D5E01"), None))
        );
    }

    /// "Set up a device" lists Shelly RPC devices, Shelly BLU sensors (company 0x0BA9) and
    /// Improv devices, and grants every service the flows then open.
    #[test]
    fn the_setup_chooser_finds_all_three_kinds_and_grants_their_services() {
        let rpc = Uuid::from_u16(0x1111);
        let blu = [Uuid::from_u16(0x2222), Uuid::from_u16(0x180A)];
        let improv = Uuid::from_u16(0x3333);
        let options = RequestDeviceOptions::setup(rpc, &blu, improv);
        let by_service = |uuid| {
            let mut adv = Advertisement::default();
            adv.add_service_uuid(uuid);
            options.filters.iter().any(|f| f.matches(None, Some(&adv)))
        };
        assert!(by_service(rpc) && by_service(improv));
        let mut shelly_blu = Advertisement::default();
        shelly_blu
            .manufacturer_data
            .insert(shelly::COMPANY_ID, vec![0x01, 0x00]);
        assert!(
            options
                .filters
                .iter()
                .any(|f| f.matches(None, Some(&shelly_blu)))
        );
        assert!(!by_service(Uuid::from_u16(0x4444)), "nothing else");
        for uuid in [rpc, blu[0], blu[1], improv] {
            assert!(options.optional_services.contains(&uuid), "{uuid}");
        }
        assert!(!options.accept_all_devices);
    }

    /// The Shelly chooser lists devices by their RPC service, their Shelly manufacturer data or
    /// their name, and grants the RPC and BTHome services and the company's manufacturer data:
    /// Chrome leaves out of a granted device's advertisements any manufacturer data the chooser
    /// did not ask for, and the page reads the MAC from it.
    #[test]
    fn the_shelly_chooser_finds_them_three_ways_and_grants_their_data() {
        let rpc = Uuid::from_u16(0x1111);
        let options = RequestDeviceOptions::shelly(rpc);
        let mut by_service = Advertisement::default();
        by_service.add_service_uuid(rpc);
        let mut by_company = Advertisement::default();
        by_company
            .manufacturer_data
            .insert(shelly::COMPANY_ID, vec![0x01, 0x00]);
        let offered =
            |name, adv: &Advertisement| options.filters.iter().any(|f| f.matches(name, Some(adv)));
        assert!(offered(None, &by_service) && offered(None, &by_company));
        assert!(offered(
            Some("ShellyPlus1-A8032AB12345"),
            &Advertisement::default()
        ));
        assert!(
            !offered(Some("Plus1"), &Advertisement::default()),
            "nothing else"
        );
        assert_eq!(options.optional_services, [rpc, Uuid::BTHOME_V2]);
        assert_eq!(options.optional_manufacturer_data, [shelly::COMPANY_ID]);
        assert!(!options.accept_all_devices);
    }

    #[test]
    fn each_advertisement_is_delivered_once() {
        // Watched and scanned: Chrome dispatches it twice, the watch's copy goes through.
        assert!(Dispatch::Watch.delivers(true) && !Dispatch::Scan.delivers(true));
        // Only scanned: the scan's copy.
        assert!(Dispatch::Scan.delivers(false) && !Dispatch::Watch.delivers(false));
    }

    #[test]
    fn page_activity_reports_each_change_once() {
        let mut page = PageActivity::default();
        let active = |active| Some(BleEvent::PageActivity { active });
        assert_eq!(page.update(true, false), active(false), "focus lost");
        assert_eq!(page.update(false, false), None, "hidden as well");
        assert_eq!(page.update(true, false), None, "visible, not focused yet");
        assert_eq!(page.update(true, true), active(true));
        assert_eq!(page.update(false, true), active(false), "hidden");
    }

    fn options(json: &str) -> LeScanOptions {
        LeScanOptions::for_filters(&FilterSet::from_json(json).unwrap())
    }

    #[test]
    fn scan_options_follow_the_filter_set_where_chrome_can() {
        let all = LeScanOptions::for_filters(&FilterSet::default());
        assert!(all.accept_all_advertisements && all.keep_repeated_devices);
        assert_eq!(all, LeScanOptions::default());

        // Chrome has no service-data filters: scan everything, the list still filters exactly.
        assert_eq!(options(r#"[{"serviceData":{"service":"fcd2"}}]"#), all);

        let battery = options(r#"[{"services":["180f"]}]"#);
        assert!(!battery.accept_all_advertisements && battery.keep_repeated_devices);
        assert_eq!(battery.filters.len(), 1);
        assert_eq!(battery.filters[0].services, [Uuid::from_u16(0x180F)]);
    }

    #[test]
    fn scan_options_never_narrow_by_name_or_manufacturer_data() {
        // Chrome matches a scan's name filter against each packet's own name (a Shelly BLU data
        // packet has none on Windows) and ignores manufacturerData: both would lose packets.
        let all = LeScanOptions::default();
        assert_eq!(options(r#"[{"name":"SB*"}]"#), all);
        assert_eq!(options(r#"[{"name":"SBHT-003C"}]"#), all);
        assert_eq!(
            options(r#"[{"manufacturerData":{"companyIdentifier":2985}}]"#),
            all
        );
        let narrowed = options(r#"[{"services":["180f"],"name":"SB*"}]"#);
        assert_eq!(narrowed.filters.len(), 1);
        assert_eq!(narrowed.filters[0].name_prefix, None);
        assert_eq!(narrowed.filters[0].name, None);
    }
}

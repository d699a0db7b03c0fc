//! Shelly RPC results as a device may send them, and parameters as the simulator reads them:
//! arbitrary JSON read as each typed method's result and parameters. Never a panic; what reads
//! once reads the same after it is written back (the simulator answers from these types, so an
//! answer it writes reads as it meant it); the readers the app applies to results (the auth realm,
//! the set-up state, component ids, a BTHome device's attrs, a relayed advertisement, a network's
//! security, `BLE.AdvertiseOnce`'s checks) take anything; a pager fed arbitrary pages stops within
//! its page limit and keeps every item of the pages it took.
//!
//! Input: JSON text, read as every method's parameters and result; an array is also fed to each
//! pager as its pages. `seeds/shelly_results/` holds answers shaped as firmware sends them.
#![no_main]

use bluehome_core::shelly::methods::{
    Method, Paged, Pager, ble, bthome, shelly, shelly::component_id, wifi,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `value` read as `T`; when it reads, written back it reads again to the same JSON.
fn round_trip<T: Serialize + DeserializeOwned>(value: &Value) -> Option<T> {
    let read: T = serde_json::from_value(value.clone()).ok()?;
    let written = serde_json::to_value(&read).expect("a typed value writes as JSON");
    let again: T = serde_json::from_value(written.clone())
        .unwrap_or_else(|e| panic!("{written} (from {value}) does not read back: {e}"));
    assert_eq!(
        serde_json::to_value(&again).expect("it wrote before"),
        written,
        "from {value}"
    );
    Some(read)
}

/// Both sides of `M`: its parameters (as the simulator reads them) and its result.
fn method<M: Method>(value: &Value) -> Option<M::Result> {
    round_trip::<M::Params>(value);
    round_trip::<M::Result>(value)
}

fn device_info(value: &Value) {
    if let Some(info) = method::<shelly::GetDeviceInfo>(value) {
        let realm = info.realm();
        assert!(realm == info.id || Some(realm) == info.auth_domain.as_deref());
        let _ = info.provisioning();
    }
}

/// The component maps, read the lenient ways the app reads them.
fn component_map<M: Method<Result = shelly::ComponentMap>>(value: &Value) {
    let Some(map) = method::<M>(value) else {
        return;
    };
    for kind in ["bthomedevice", "bthomesensor", "switch", "ble", ""] {
        let found = map.numbered::<Value>(kind);
        assert!(found.windows(2).all(|w| w[0].0 <= w[1].0), "in id order");
        for (id, _) in &found {
            // An id read from a key names the same component when written the canonical way.
            assert_eq!(component_id(&format!("{kind}:{id}"), kind), Some(*id));
        }
    }
    for (key, _) in map.iter() {
        let _ = map.get::<ble::BleConfig>(key);
        let _ = map.get::<bthome::DeviceConfig>(key);
        let _ = map.get::<bthome::SensorStatus>(key);
    }
}

fn components(value: &Value) {
    if let Some(page) = method::<shelly::GetComponents>(value) {
        for component in &page.components {
            let attrs = component.device_attrs();
            if let Some(model) = attrs.model() {
                assert_eq!(Some(model.id), attrs.model_id);
            }
        }
        let statuses = shelly::ComponentMap::statuses(&page.components);
        let with_status = page.components.iter().filter(|c| c.status.is_some());
        // Keys may repeat in a device's answer: the map has one entry per key.
        assert!(statuses.iter().count() <= with_status.count());
    }
}

fn relay_infos(value: &Value) {
    if let Some(page) = method::<ble::CloudRelayListInfos>(value) {
        for (addr, info) in page.devices.iter().flatten() {
            let (adv, skipped) = info.to_advertisement(addr);
            let sent = info.sdata.len() + info.mdata.len();
            assert!(skipped <= sent);
            // Keys that name one UUID or company twice ("fcd2", "FCD2") make one entry.
            assert!(adv.service_data.len() + adv.manufacturer_data.len() + skipped <= sent);
        }
    }
}

fn wifi_scan(value: &Value) {
    if let Some(scan) = method::<wifi::Scan>(value) {
        for network in &scan.results {
            let _ = (network.security(), network.security_kind());
        }
    }
}

fn added<M: Method<Result = bthome::Added>>(value: &Value) {
    if let Some(added) = method::<M>(value) {
        let _ = added.id();
    }
}

/// What the simulator accepts, a client could have built: the same bytes, checked the same way.
fn advertise_once(value: &Value) {
    if let Some(params) = round_trip::<ble::AdvertiseOnceParams>(value)
        && let Ok((adv, rsp)) = params.validate()
    {
        let built = ble::AdvertiseOnceParams::new(&adv, rsp.as_deref())
            .expect("data the server accepts, the client builds");
        assert_eq!(built.validate().ok(), Some((adv, rsp)));
    }
}

/// `method::<M>` for each `M`, as a list of checks.
macro_rules! checks {
    ($($m:ty),* $(,)?) => {
        &[$(|value: &Value| _ = method::<$m>(value)),*]
    };
}

/// The methods with readers of their own.
const READ_FURTHER: &[fn(&Value)] = &[
    device_info,
    component_map::<shelly::GetStatus>,
    component_map::<shelly::GetConfig>,
    components,
    wifi_scan,
    advertise_once,
    relay_infos,
    added::<bthome::AddDevice>,
    added::<bthome::AddSensor>,
];

/// Every other method (the paged ones go through [`pages`] too).
const ROUND_TRIP: &[fn(&Value)] = checks![
    shelly::SetAuth,
    shelly::Reboot,
    shelly::CheckForUpdate,
    shelly::Update,
    shelly::SysGetConfig,
    shelly::SysSetConfig,
    shelly::SysGetStatus,
    wifi::GetStatus,
    wifi::SetConfig,
    ble::GetConfig,
    ble::SetConfig,
    ble::GetStatus,
    ble::StartPairing,
    ble::StopPairing,
    ble::ListPairedDevices,
    ble::DeletePairedDevice,
    ble::StartAssociations,
    ble::CloudRelayList,
    bthome::GetConfig,
    bthome::SetConfig,
    bthome::GetStatus,
    bthome::DeleteDevice,
    bthome::DeleteSensor,
    bthome::StartDeviceDiscovery,
    bthome::GetObjectInfos,
    bthome::DeviceGetConfig,
    bthome::DeviceSetConfig,
    bthome::DeviceGetStatus,
    bthome::DeviceGetKnownObjects,
    bthome::SensorGetConfig,
    bthome::SensorSetConfig,
    bthome::SensorGetStatus,
];

/// A pager fed `pages` in turn until it is done, refuses one, or they run out.
fn pages<M: Paged>(params: M::Params, pages: &[Value]) {
    const MAX_PAGES: u32 = 6;
    let mut pager = Pager::<M>::new(params, MAX_PAGES);
    let mut kept = 0usize;
    // The items of a refused page: kept when it was refused for coming past the page limit.
    let mut refused = None;
    for page in pages {
        if pager.next_params().is_none() {
            break;
        }
        let Ok(result) = serde_json::from_value::<M::Result>(page.clone()) else {
            break;
        };
        let items = M::page(serde_json::from_value(page.clone()).expect("it read once")).items;
        if pager.add(result).is_err() {
            refused = Some(items.len());
            break;
        }
        kept += items.len();
    }
    assert!(pager.pages() <= MAX_PAGES);
    if refused.is_some() {
        assert!(pager.is_done(), "a refused page ends the paging");
    }
    let collected = pager.into_items().len();
    assert!(
        collected == kept || Some(collected - kept) == refused,
        "{collected} items from pages of {kept} taken and {refused:?} refused"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    for check in READ_FURTHER.iter().chain(ROUND_TRIP) {
        check(&value);
    }
    if let Value::Array(list) = &value {
        pages::<shelly::GetComponents>(Default::default(), list);
        pages::<ble::CloudRelayListInfos>(Default::default(), list);
        pages::<bthome::GetObjectInfos>(Default::default(), list);
    }
});

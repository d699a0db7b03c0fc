//! Answers captured from real Shelly devices (tests/data/shelly_real, from the public repository
//! Luligu/matterbridge-shelly `src/mock/`; see its README), read with the typed results our client
//! uses. The simulator answers the way the client expects; these are the check that real firmware
//! does too.

use bluehome_core::shelly::methods::shelly::{self, ComponentMap, Components};
use bluehome_core::shelly::methods::{Method, ble, bthome, wifi};
use serde_json::{Value, json};

/// One captured device: its answers by method name.
struct Capture(Value);

impl Capture {
    fn load(name: &str) -> Self {
        let path = format!(
            "{}/tests/data/shelly_real/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        Self(serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap())
    }

    fn raw(&self, method: &str) -> &Value {
        self.0
            .get(method)
            .unwrap_or_else(|| panic!("no {method} in the capture"))
    }

    /// The answer to `M`, read as `M`'s result (strictly: a shape error fails the test).
    fn answer<M: Method>(&self) -> M::Result {
        serde_json::from_value(self.raw(M::NAME).clone())
            .unwrap_or_else(|e| panic!("{}: {e}", M::NAME))
    }

    /// Component `key` of the answer to `whole` (`Shelly.GetStatus` or `Shelly.GetConfig`), read
    /// as the result of `M`, the component's own method, which answers the same object.
    fn component<M: Method>(&self, whole: &str, key: &str) -> M::Result {
        let value = self
            .raw(whole)
            .get(key)
            .unwrap_or_else(|| panic!("no {key}"));
        serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{whole} {key}: {e}"))
    }

    fn status<M: Method>(&self, key: &str) -> M::Result {
        self.component::<M>(shelly::GetStatus::NAME, key)
    }

    fn config<M: Method>(&self, key: &str) -> M::Result {
        self.component::<M>(shelly::GetConfig::NAME, key)
    }
}

fn gateway() -> Capture {
    Capture::load("blu_gateway_gen3.json")
}

fn pro_1pm() -> Capture {
    Capture::load("pro_1pm.json")
}

fn gen4_relay() -> Capture {
    Capture::load("1_gen4.json")
}

fn em_mini() -> Capture {
    Capture::load("em_mini_gen4.json")
}

#[test]
fn device_info_of_each_device_reads_as_captured() {
    let info = gateway().answer::<shelly::GetDeviceInfo>();
    assert_eq!(info.id, "shellyblugwg3-34cdb077bcd4");
    assert_eq!(info.mac, "34CDB077BCD4");
    assert_eq!(info.model, "S3GW-1DBT001");
    assert_eq!(info.r#gen, 3);
    assert_eq!(info.fw_id, "20260311-095814/1.7.5-g9979d16");
    assert_eq!(info.ver, "1.7.5");
    assert_eq!(info.app, "BluGwG3");
    assert_eq!(info.slot, Some(1));
    assert_eq!(info.name.as_deref(), Some("BLU Gateway Gen3"));
    assert!(!info.auth_en);
    assert_eq!(info.auth_domain, None);
    assert_eq!(info.realm(), "shellyblugwg3-34cdb077bcd4");

    let info = pro_1pm().answer::<shelly::GetDeviceInfo>();
    assert_eq!(
        (
            info.id.as_str(),
            info.model.as_str(),
            info.r#gen,
            info.app.as_str()
        ),
        ("shellypro1pm-ec62608ab9a4", "SPSW-201PE16EU", 2, "Pro1PM")
    );

    let info = gen4_relay().answer::<shelly::GetDeviceInfo>();
    assert_eq!(info.id, "shelly1g4-a085e3bca4c8");
    assert_eq!(info.mac, "A085E3BCA4C8");
    assert_eq!(info.model, "S4SW-001X16EU");
    assert_eq!(info.r#gen, 4);
    assert_eq!(info.name.as_deref(), Some("1 Gen4"));

    // Firmware 2.0.0-beta1 with a password: the realm is in auth_domain.
    let info = em_mini().answer::<shelly::GetDeviceInfo>();
    assert_eq!(info.ver, "2.0.0-beta1");
    assert_eq!(info.fw_id, "20260423-102553/2.0.0-beta1-g8c7700a");
    assert!(info.auth_en);
    assert_eq!(
        info.auth_domain.as_deref(),
        Some("shellyemminig4-d885acef41a8")
    );
    assert_eq!(info.realm(), "shellyemminig4-d885acef41a8");
}

#[test]
fn sys_status_and_config_read_as_captured() {
    let d = gateway();
    let sys = d.status::<shelly::SysGetStatus>("sys");
    assert_eq!(sys.mac.as_deref(), Some("34CDB077BCD4"));
    assert_eq!(sys.unixtime, Some(1_779_361_814));
    assert_eq!(sys.uptime, Some(1_048_617));
    let device = d.config::<shelly::SysGetConfig>("sys").device.unwrap();
    assert_eq!(device.name.as_deref(), Some("BLU Gateway Gen3"));
    assert_eq!(device.mac.as_deref(), Some("34CDB077BCD4"));
    // The update offer in `sys.available_updates` has the shape of Shelly.CheckForUpdate's answer.
    let updates: <shelly::CheckForUpdate as Method>::Result =
        serde_json::from_value(d.raw(shelly::GetStatus::NAME)["sys"]["available_updates"].clone())
            .unwrap();
    assert_eq!(updates.stable, None);
    assert_eq!(updates.beta.unwrap().version, "2.0.0-beta1");
}

#[test]
fn wifi_status_and_config_read_as_captured() {
    for (d, ip, rssi) in [
        (gateway(), "192.168.68.76", -58),
        (gen4_relay(), "192.168.70.1", -51),
        (em_mini(), "192.168.68.95", -50),
    ] {
        let st = d.status::<wifi::GetStatus>("wifi");
        assert_eq!(st.sta_ip.as_deref(), Some(ip));
        assert_eq!(st.status, "got ip");
        assert_eq!(st.rssi, Some(rssi));
        // The capturing tool blanked the network name.
        assert_eq!(st.ssid.as_deref(), Some(""));
    }
    let config: wifi::WifiConfig =
        serde_json::from_value(gateway().raw(shelly::GetConfig::NAME)["wifi"].clone()).unwrap();
    let sta = config.sta.unwrap();
    assert_eq!(sta.enable, Some(true));
    assert_eq!(sta.is_open, Some(false));
    assert_eq!(sta.ipv4mode.as_deref(), Some("dhcp"));
    assert_eq!(sta.pass, None, "the password is never sent back");
    assert_eq!(config.ap.unwrap().enable, Some(false));
}

#[test]
fn ble_config_and_status_read_as_captured() {
    let config = gateway().config::<ble::GetConfig>("ble");
    assert_eq!(config.enable, Some(true));
    assert!(!config.rpc.unwrap().enable);
    let config = gen4_relay().config::<ble::GetConfig>("ble");
    assert_eq!(config.enable, Some(false));
    // 2.0.0 dropped `enable`.
    let config = em_mini().config::<ble::GetConfig>("ble");
    assert_eq!(config.enable, None);
    assert!(!config.rpc.unwrap().enable);
    // Real BLE status is empty: no address, no flags, no pairing window.
    for d in [gateway(), gen4_relay(), em_mini()] {
        let st = d.status::<ble::GetStatus>("ble");
        assert_eq!(st, ble::BleStatus::default());
    }
}

#[test]
fn bthome_status_reads_as_captured() {
    let st = gateway().status::<bthome::GetStatus>("bthome");
    assert_eq!(st, bthome::BthomeStatus::default());
    let st = gen4_relay().status::<bthome::GetStatus>("bthome");
    assert_eq!(
        st.errors.as_deref(),
        Some(&["bluetooth_disabled".to_owned()][..])
    );
    assert_eq!(st.discovery, None);
}

/// `Shelly.GetComponents {"dynamic_only": true}` of a gateway: BLU TRVs, BTHome devices and their
/// sensors, each with its status and config (asked without `include`).
#[test]
fn get_components_reads_as_captured() {
    let page: Components = gateway().answer::<shelly::GetComponents>();
    assert_eq!((page.cfg_rev, page.offset, page.total), (21, 0, 27));
    assert_eq!(page.components.len(), 27);
    assert_eq!(page.components[0].key, "blutrv:200");
    let find = |key: &str| {
        page.components
            .iter()
            .find(|c| c.key == key)
            .unwrap_or_else(|| panic!("no {key}"))
    };

    let device = find("bthomedevice:200");
    let st: <bthome::DeviceGetStatus as Method>::Result =
        serde_json::from_value(device.status.clone().unwrap()).unwrap();
    assert_eq!(st.id, 200);
    assert_eq!(st.rssi, Some(-38));
    assert_eq!(st.battery, Some(81));
    assert_eq!(st.packet_id, Some(155));
    assert_eq!(st.last_updated_ts, Some(1_779_361_811.0));
    let config: <bthome::DeviceGetConfig as Method>::Result =
        serde_json::from_value(device.config.clone().unwrap()).unwrap();
    assert_eq!(config.id, Some(200));
    assert_eq!(config.addr.as_deref(), Some("28:68:47:fc:9a:6b"));
    assert_eq!(config.name.as_deref(), Some("BluTrv 200"));
    assert_eq!(config.key, None);
    assert_eq!(
        config.meta,
        Some(json!({"ui": {"view": "regular", "icon": null}}))
    );

    // A device not heard since it was added: every reading is null.
    let st: bthome::DeviceStatus =
        serde_json::from_value(find("bthomedevice:204").status.clone().unwrap()).unwrap();
    assert_eq!(
        (st.id, st.rssi, st.battery, st.packet_id, st.last_updated_ts),
        (204, None, None, None, None)
    );
    let config: bthome::DeviceConfig =
        serde_json::from_value(find("bthomedevice:202").config.clone().unwrap()).unwrap();
    assert_eq!((config.name, config.meta), (None, None));

    let sensor = find("bthomesensor:203");
    let st: <bthome::SensorGetStatus as Method>::Result =
        serde_json::from_value(sensor.status.clone().unwrap()).unwrap();
    assert_eq!(st.id, 203);
    assert_eq!(st.value, json!(23.7));
    assert_eq!(st.last_updated_ts, Some(1_779_361_811.0));
    let config: <bthome::SensorGetConfig as Method>::Result =
        serde_json::from_value(sensor.config.clone().unwrap()).unwrap();
    assert_eq!(config.addr.as_deref(), Some("28:68:47:fc:9a:6b"));
    assert_eq!((config.obj_id, config.idx), (Some(69), Some(1)));
    assert_eq!(config.name, None);

    let st: bthome::SensorStatus =
        serde_json::from_value(find("bthomesensor:210").status.clone().unwrap()).unwrap();
    assert_eq!(st.value, json!(true));
    // A button never pressed has no `value` member at all.
    let st: bthome::SensorStatus =
        serde_json::from_value(find("bthomesensor:201").status.clone().unwrap()).unwrap();
    assert_eq!(st.value, Value::Null);
    assert_eq!(st.last_updated_ts, Some(1_070_210_576.0));

    // A Pro 1PM as a BTHome gateway: user-named sensors.
    let page = pro_1pm().answer::<shelly::GetComponents>();
    assert_eq!(page.total, 8);
    let config: bthome::SensorConfig = serde_json::from_value(
        page.components
            .iter()
            .find(|c| c.key == "bthomesensor:200")
            .unwrap()
            .config
            .clone()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(config.name.as_deref(), Some("Battery"));
    assert_eq!((config.obj_id, config.idx), (Some(1), Some(0)));
}

/// Each BTHome device's `attrs` names its BLU model: on the BLU Gateway Gen3 the two BLU TRVs
/// (model 8), two H&Ts (3) and a Door/Window (2), flags 17; on the Pro 1PM a Button1 (1) and an
/// H&T (3), flags 0. Sensors carry no attrs.
#[test]
fn device_attrs_read_as_captured() {
    let attrs = |d: &Capture| -> Vec<(String, bthome::DeviceAttrs)> {
        d.answer::<shelly::GetComponents>()
            .components
            .iter()
            .filter(|c| c.key.starts_with("bthomedevice:"))
            .map(|c| (c.key.clone(), c.device_attrs()))
            .collect()
    };
    let read = |key: &str, flags: u32, model_id: u16| {
        (
            key.to_owned(),
            bthome::DeviceAttrs {
                flags: Some(flags),
                model_id: Some(model_id),
            },
        )
    };
    assert_eq!(
        attrs(&gateway()),
        vec![
            read("bthomedevice:200", 17, 8),
            read("bthomedevice:201", 17, 3),
            read("bthomedevice:202", 17, 2),
            read("bthomedevice:203", 17, 8),
            read("bthomedevice:204", 17, 3),
        ]
    );
    assert_eq!(
        attrs(&pro_1pm()),
        vec![
            read("bthomedevice:200", 0, 1),
            read("bthomedevice:201", 0, 3)
        ]
    );
    let h_t = gateway()
        .answer::<shelly::GetComponents>()
        .components
        .into_iter()
        .find(|c| c.key == "bthomedevice:201")
        .unwrap()
        .device_attrs()
        .model()
        .unwrap();
    assert_eq!((h_t.code, h_t.name), ("SBHT-003C", "Shelly BLU H&T"));
    for d in [gateway(), pro_1pm()] {
        let page = d.answer::<shelly::GetComponents>();
        for c in page
            .components
            .iter()
            .filter(|c| c.key.starts_with("bthomesensor:"))
        {
            assert_eq!(c.attrs, None, "{}", c.key);
            assert_eq!(c.device_attrs(), bthome::DeviceAttrs::default());
        }
    }
}

/// Firmware 1.7 and 2.0 report the provisioning state in `Shelly.GetDeviceInfo` as `provision`;
/// `BLE.GetStatus` is `{}` on every device captured.
#[test]
fn provisioning_state_is_read_from_device_info() {
    for d in [gateway(), pro_1pm(), gen4_relay(), em_mini()] {
        let info = d.answer::<shelly::GetDeviceInfo>();
        assert_eq!(info.provision.as_deref(), Some("complete"), "{}", info.id);
        assert_eq!(info.provisioning(), Some(ble::Provisioning::Complete));
        assert_eq!(d.status::<ble::GetStatus>("ble").provisioning, None);
    }
    // A state this crate does not know is kept as sent, and names no known state.
    let info: shelly::DeviceInfo =
        serde_json::from_value(json!({"id": "x", "provision": "someday"})).unwrap();
    assert_eq!(info.provision.as_deref(), Some("someday"));
    assert_eq!(info.provisioning(), None);
    // Older firmware (1.4 to 1.6) leaves it out.
    let info: shelly::DeviceInfo = serde_json::from_value(json!({"id": "x"})).unwrap();
    assert_eq!((info.provisioning(), info.provision), (None, None));
}

/// Real `Shelly.GetStatus` and `Shelly.GetConfig` leave the dynamic components out: the BLU Gateway
/// Gen3 with 27 of them, and the Pro 1PM with 8, list none there (as on every device captured,
/// firmware 1.4.99 to 1.7.5; aioshelly merges them in from `Shelly.GetComponents` for the same
/// reason). They come only from `Shelly.GetComponents`, whose pages make the same maps.
#[test]
fn bthome_components_come_from_get_components_only() {
    for (d, devices, sensors) in [(gateway(), 5, 20), (pro_1pm(), 2, 6)] {
        let status = d.answer::<shelly::GetStatus>();
        let config = d.answer::<shelly::GetConfig>();
        assert!(
            config
                .numbered::<bthome::DeviceConfig>("bthomedevice")
                .is_empty()
        );
        assert!(
            config
                .numbered::<bthome::SensorConfig>("bthomesensor")
                .is_empty()
        );
        assert!(
            status
                .numbered::<bthome::SensorStatus>("bthomesensor")
                .is_empty()
        );

        let page = d.answer::<shelly::GetComponents>();
        let status = ComponentMap::statuses(&page.components);
        let config = ComponentMap::configs(&page.components);
        assert_eq!(
            config
                .numbered::<bthome::DeviceConfig>("bthomedevice")
                .len(),
            devices
        );
        assert_eq!(
            config
                .numbered::<bthome::SensorConfig>("bthomesensor")
                .len(),
            sensors
        );
        assert_eq!(
            status
                .numbered::<bthome::SensorStatus>("bthomesensor")
                .len(),
            sensors
        );
    }
    let page = gateway().answer::<shelly::GetComponents>();
    let status = ComponentMap::statuses(&page.components);
    let sensor: bthome::SensorStatus = status.get("bthomesensor:219").unwrap();
    assert_eq!(sensor.value, json!(21.1));
    let config = ComponentMap::configs(&page.components);
    let device: bthome::DeviceConfig = config.get("bthomedevice:201").unwrap();
    assert_eq!(device.addr.as_deref(), Some("7c:c6:b6:65:2d:87"));
    // The BLU model of each device is in `attrs` (model_id 3: BLU H&T).
    let attrs = page.components[3].attrs.as_ref().unwrap();
    assert_eq!(page.components[3].key, "bthomedevice:201");
    assert_eq!(attrs, &json!({"flags": 17, "model_id": 3}));
}

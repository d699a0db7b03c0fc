//! `Shelly.*` and `Sys.*` (the Shelly API documents: Shelly component,
//! <https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Shelly>, and Sys,
//! <https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/Sys>).

use alloc::string::String;
use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ble::Provisioning;
use super::bthome::DeviceAttrs;
use super::{Page, Paged};

pub use crate::shelly::auth::SetAuthParams;

/// `Shelly.GetDeviceInfo` result (the method needs no auth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeviceInfo {
    /// Device id, e.g. `shellyblugwg3-aabbccddeeff` (the default auth realm).
    pub id: String,
    /// Wi-Fi MAC, upper-case hex without separators.
    #[serde(default)]
    pub mac: String,
    /// Firmware slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u8>,
    /// Model code, e.g. `S3GW-1DBT001`.
    #[serde(default)]
    pub model: String,
    /// Generation (2, 3, 4).
    #[serde(default)]
    pub r#gen: u8,
    /// Firmware id.
    #[serde(default)]
    pub fw_id: String,
    /// Firmware version.
    #[serde(default)]
    pub ver: String,
    /// Application name.
    #[serde(default)]
    pub app: String,
    /// User-set device name.
    #[serde(default)]
    pub name: Option<String>,
    /// True when digest auth is enabled.
    #[serde(default)]
    pub auth_en: bool,
    /// Auth realm when it differs from `id`.
    #[serde(default)]
    pub auth_domain: Option<String>,
    /// Provisioning state as sent (`pending`, `confirmed`, `complete`, `locked`; read it with
    /// [`DeviceInfo::provisioning`]). Real firmware reports it here, not in `BLE.GetStatus`:
    /// `"provision": "complete"` in the `Shelly.GetDeviceInfo` of every 1.7.5 and 2.0.0-beta1
    /// device captured in Luligu/matterbridge-shelly `src/mock/` (BLU Gateway Gen3, Pro 1PM,
    /// 1 Gen4, EM Mini Gen4, …); older firmware (1.4 to 1.6) leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision: Option<String>,
}

impl DeviceInfo {
    /// The realm for digest auth: `auth_domain` when present, else `id`.
    pub fn realm(&self) -> &str {
        self.auth_domain.as_deref().unwrap_or(&self.id)
    }

    /// The provisioning state of `provision`; `None` when absent or not a state this crate knows.
    pub fn provisioning(&self) -> Option<Provisioning> {
        Provisioning::from_name(self.provision.as_deref()?)
    }
}

/// `Shelly.GetDeviceInfo` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GetDeviceInfoParams {
    /// Also return identity details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ident: Option<bool>,
}

/// `Shelly.Reboot` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RebootParams {
    /// Delay before rebooting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

/// A firmware version offered by `Shelly.CheckForUpdate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Release {
    /// Version, e.g. `1.4.4`.
    #[serde(default)]
    pub version: String,
    /// Build id.
    #[serde(default)]
    pub build_id: String,
}

/// `Shelly.CheckForUpdate` result: the releases newer than the running firmware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Updates {
    /// A newer stable release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable: Option<Release>,
    /// A newer beta release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<Release>,
}

/// `Shelly.Update` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UpdateParams {
    /// `stable` or `beta`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// A firmware image URL instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Result of `*.SetConfig` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SetConfigResult {
    /// The change takes effect after a reboot.
    #[serde(default)]
    pub restart_required: bool,
}

impl SetConfigResult {
    /// The change took effect at once.
    pub const APPLIED: Self = Self {
        restart_required: false,
    };
}

/// `Sys.SetConfig` parameters: `{"config":{"device":{"name":…}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SysSetConfigParams {
    /// The config subset to change.
    pub config: SysConfig,
}

/// The settable part of the `sys` config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SysConfig {
    /// Device settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<SysDeviceConfig>,
}

/// `sys.device` config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SysDeviceConfig {
    /// Device name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// MAC, upper-case hex without separators (read only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// The `sys` status (`Sys.GetStatus`, the `sys` member of `Shelly.GetStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SysStatus {
    /// MAC, upper-case hex without separators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Unix time of the device clock (absent until it is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unixtime: Option<u64>,
    /// Seconds since boot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime: Option<u64>,
}

/// `Shelly.GetStatus` and `Shelly.GetConfig` results: every component's status (or config) by its
/// key (`sys`, `wifi`, `ble`, `bthomedevice:200`, …), the members kept as the device sent them.
/// Read one component typed with [`ComponentMap::get`], the numbered instances of a kind with
/// [`ComponentMap::numbered`]. Both are lenient: a component of another shape reads as absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct ComponentMap(Map<String, Value>);

impl ComponentMap {
    /// Component `key` read as `T`; `None` when absent or of another shape.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        // From an owned copy: the same deserializer typed calls use, not a second one.
        serde_json::from_value(self.0.get(key)?.clone()).ok()
    }

    /// Every `<kind>:<id>` component read as `T`, in id order (those of another shape left out).
    pub fn numbered<T: DeserializeOwned>(&self, kind: &str) -> Vec<(u16, T)> {
        let mut found: Vec<(u16, T)> = self
            .0
            .iter()
            .filter_map(|(key, value)| {
                let id = component_id(key, kind)?;
                Some((id, serde_json::from_value(value.clone()).ok()?))
            })
            .collect();
        found.sort_by_key(|(id, _)| *id);
        found
    }

    /// Sets component `key` to `value` (a value that does not serialize is stored as `null`).
    pub fn insert<T: Serialize>(&mut self, key: impl Into<String>, value: &T) {
        self.0.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }

    /// The components, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }

    /// The statuses of `Shelly.GetComponents` items by key, as `Shelly.GetStatus` would list them.
    /// Real firmware leaves the dynamic components (`bthomedevice:200`, `bthomesensor:201`, …) out
    /// of `Shelly.GetStatus` and `Shelly.GetConfig`: they come only from `Shelly.GetComponents`
    /// (the device dumps in Luligu/matterbridge-shelly `src/mock/`; aioshelly
    /// `rpc_device/device.py` merges them in from there for the same reason).
    pub fn statuses(components: &[Component]) -> Self {
        Self::of(components, |c| c.status.as_ref())
    }

    /// The configs of `Shelly.GetComponents` items by key (see [`ComponentMap::statuses`]).
    pub fn configs(components: &[Component]) -> Self {
        Self::of(components, |c| c.config.as_ref())
    }

    fn of(components: &[Component], part: impl Fn(&Component) -> Option<&Value>) -> Self {
        Self(
            components
                .iter()
                .filter_map(|c| Some((c.key.clone(), part(c)?.clone())))
                .collect(),
        )
    }
}

/// The id of a `<kind>:<id>` component key.
pub fn component_id(key: &str, kind: &str) -> Option<u16> {
    key.strip_prefix(kind)?.strip_prefix(':')?.parse().ok()
}

/// What `Shelly.GetComponents` includes for each component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Include {
    /// The status.
    Status,
    /// The config.
    Config,
}

/// `Shelly.GetComponents` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GetComponentsParams {
    /// First item (paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// What to include besides the key (nothing when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<Include>,
    /// Only the dynamic components (ids 200..299).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_only: Option<bool>,
    /// Only these keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}

/// One component of a `Shelly.GetComponents` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Component {
    /// Its key, e.g. `bthomesensor:200`.
    pub key: String,
    /// Its status, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    /// Its config, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Fixed facts of the component (a BTHome device's `{"flags": 17, "model_id": 3}`: the BLU
    /// model; a real BLU Gateway Gen3's answer in Luligu/matterbridge-shelly `src/mock/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attrs: Option<Value>,
}

impl Component {
    /// Its `attrs` read as a BTHome device's ([`DeviceAttrs::read`]: none when absent or of
    /// another shape).
    pub fn device_attrs(&self) -> DeviceAttrs {
        self.attrs
            .as_ref()
            .map(DeviceAttrs::read)
            .unwrap_or_default()
    }
}

/// `Shelly.GetComponents` result (one page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Components {
    /// The components of this page.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Config revision.
    #[serde(default)]
    pub cfg_rev: u32,
    /// First item of this page.
    #[serde(default)]
    pub offset: u32,
    /// Items in all pages.
    #[serde(default)]
    pub total: u32,
}

impl SysSetConfigParams {
    /// Parameters that rename the device.
    pub fn device_name(name: &str) -> Self {
        Self {
            config: SysConfig {
                device: Some(SysDeviceConfig {
                    name: Some(name.into()),
                    mac: None,
                }),
            },
        }
    }
}

method!(
    /// `Shelly.GetDeviceInfo`: identity, firmware, `auth_en`.
    GetDeviceInfo = "Shelly.GetDeviceInfo", GetDeviceInfoParams => DeviceInfo
);
method!(
    /// `Shelly.GetStatus`: every component's status by key (`wifi`, `ble`, `bthomedevice:200`, …).
    GetStatus = "Shelly.GetStatus", () => ComponentMap
);
method!(
    /// `Shelly.GetConfig`: every component's config by key.
    GetConfig = "Shelly.GetConfig", () => ComponentMap
);
method!(
    /// `Shelly.GetComponents` (paged: use a [`super::Pager`]).
    GetComponents = "Shelly.GetComponents", GetComponentsParams => Components
);
method!(
    /// `Shelly.SetAuth`: enable (HA1) or disable (`null`) digest auth.
    SetAuth = "Shelly.SetAuth", SetAuthParams => ()
);
method!(
    /// `Shelly.Reboot`.
    Reboot = "Shelly.Reboot", RebootParams => ()
);
method!(
    /// `Shelly.CheckForUpdate` (the device asks its update server: slow).
    CheckForUpdate = "Shelly.CheckForUpdate", () => Updates
);
method!(
    /// `Shelly.Update` (slow to answer).
    Update = "Shelly.Update", UpdateParams => ()
);
method!(
    /// `Sys.GetConfig` (the device part).
    SysGetConfig = "Sys.GetConfig", () => SysConfig
);
method!(
    /// `Sys.SetConfig` (device name).
    SysSetConfig = "Sys.SetConfig", SysSetConfigParams => SetConfigResult
);
method!(
    /// `Sys.GetStatus`.
    SysGetStatus = "Sys.GetStatus", () => SysStatus
);

impl Paged for GetComponents {
    type Item = Component;

    fn with_offset(params: &GetComponentsParams, offset: u32) -> GetComponentsParams {
        GetComponentsParams {
            offset: Some(offset),
            ..params.clone()
        }
    }

    fn page(result: Components) -> Page<Component> {
        Page {
            items: result.components,
            offset: result.offset,
            total: result.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn device_info_realm_prefers_auth_domain() {
        let info: DeviceInfo = serde_json::from_value(json!({
            "id": "shellyplus1-a8032ab12345", "mac": "A8032AB12345", "model": "SNSW-001X16EU",
            "gen": 2, "fw_id": "x", "ver": "1.0.0", "app": "Plus1", "auth_en": true,
            "auth_domain": null, "unknown_member": 1
        }))
        .unwrap();
        assert_eq!(info.realm(), "shellyplus1-a8032ab12345");
        let info = DeviceInfo {
            auth_domain: Some("shared".into()),
            ..info
        };
        assert_eq!(info.realm(), "shared");
    }

    /// The shape of the Sys document's example: `{"config":{"device":{"name":"…"}}}`.
    #[test]
    fn sys_set_config_nests_the_name() {
        assert_eq!(
            serde_json::to_value(SysSetConfigParams::device_name("Hall")).unwrap(),
            json!({"config": {"device": {"name": "Hall"}}})
        );
    }

    #[test]
    fn component_maps_read_components_typed_and_in_id_order() {
        let status: ComponentMap = serde_json::from_value(json!({
            "sys": {"mac": "CCBA970D5E01", "uptime": 42, "unixtime": 1700000042},
            "wifi": {"sta_ip": "192.168.1.42", "status": "got ip"},
            "bthomesensor:201": {"id": 201, "value": true},
            "bthomesensor:200": {"id": 200, "value": 21.5},
            "bthomesensor:x": {"id": 1},
            "bthomesensorx:202": {"id": 202},
            "bthomesensor:203": {"id": "not a number"}
        }))
        .unwrap();
        assert_eq!(status.get::<SysStatus>("sys").unwrap().uptime, Some(42));
        let wifi: super::super::wifi::WifiStatus = status.get("wifi").unwrap();
        assert_eq!(wifi.sta_ip.as_deref(), Some("192.168.1.42"));
        assert_eq!(status.get::<SysStatus>("ble"), None);
        let sensors = status.numbered::<super::super::bthome::SensorStatus>("bthomesensor");
        let ids: Vec<u16> = sensors.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [200, 201], "malformed keys and shapes are left out");
        assert_eq!(sensors[0].1.value, json!(21.5));
        // Kept as sent: the raw view shows what the device said.
        assert_eq!(
            serde_json::to_value(&status).unwrap()["bthomesensor:x"],
            json!({"id": 1})
        );
    }

    /// The Shelly component document's `Shelly.GetComponents` example shape.
    #[test]
    fn get_components_pages_and_sends_its_include_list() {
        let params = GetComponentsParams {
            include: alloc::vec![Include::Status, Include::Config],
            ..GetComponentsParams::default()
        };
        assert_eq!(
            serde_json::to_value(GetComponents::with_offset(&params, 2)).unwrap(),
            json!({"offset": 2, "include": ["status", "config"]})
        );
        let page: Components = serde_json::from_value(json!({
            "components": [{"key": "bthomedevice:200", "config": {"addr": "x"}}],
            "cfg_rev": 7, "offset": 0, "total": 3
        }))
        .unwrap();
        let page = GetComponents::page(page);
        assert_eq!((page.offset, page.total), (0, 3));
        assert_eq!(page.items[0].key, "bthomedevice:200");
    }
}

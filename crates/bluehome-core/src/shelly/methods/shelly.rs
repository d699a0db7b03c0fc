//! `Shelly.*` and `Sys.SetConfig` (reference: shelly_rpc_ble.md §4.1, §6.1).

use alloc::string::String;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::shelly::auth::SetAuthParams;

/// `Shelly.GetDeviceInfo` result (the method needs no auth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeviceInfo {
    /// Device id, e.g. `shellyblugwg3-aabbccddeeff` (the default auth realm).
    pub id: String,
    /// Wi-Fi MAC, upper-case hex without separators.
    #[serde(default)]
    pub mac: String,
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
}

impl DeviceInfo {
    /// The realm for digest auth: `auth_domain` when present, else `id`.
    pub fn realm(&self) -> &str {
        self.auth_domain.as_deref().unwrap_or(&self.id)
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

/// Result of `*.SetConfig` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SetConfigResult {
    /// The change takes effect after a reboot.
    #[serde(default)]
    pub restart_required: bool,
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
}

impl SysSetConfigParams {
    /// Parameters that rename the device.
    pub fn device_name(name: &str) -> Self {
        Self {
            config: SysConfig {
                device: Some(SysDeviceConfig {
                    name: Some(name.into()),
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
    GetStatus = "Shelly.GetStatus", () => Value
);
method!(
    /// `Shelly.GetConfig`: every component's config by key.
    GetConfig = "Shelly.GetConfig", () => Value
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
    /// `Sys.SetConfig` (device name).
    SysSetConfig = "Sys.SetConfig", SysSetConfigParams => SetConfigResult
);

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

    /// The shape from shelly_rpc_ble.md §6.1: `{"config":{"device":{"name":"…"}}}`.
    #[test]
    fn sys_set_config_nests_the_name() {
        assert_eq!(
            serde_json::to_value(SysSetConfigParams::device_name("Hall")).unwrap(),
            json!({"config": {"device": {"name": "Hall"}}})
        );
    }
}

//! What is known about the connected device: its `Shelly.GetDeviceInfo`, and the browser's name
//! and id of it.

use bluehome_core::shelly::methods::shelly::DeviceInfo;
use bluehome_core::shelly::models::{self, Model};
use bluehome_core::{DeviceKind, MacAddress};

use crate::ble::DeviceId;

/// The connected device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSummary {
    /// The browser's id of it.
    pub device_id: DeviceId,
    /// The name the chooser showed.
    pub ble_name: Option<String>,
    /// Its MAC (from `Shelly.GetDeviceInfo`).
    pub mac: Option<MacAddress>,
    /// Its `Shelly.GetDeviceInfo` answer (kept up to date when the page renames it or sets its
    /// password).
    pub info: DeviceInfo,
}

impl DeviceSummary {
    /// The summary of a device that answered `Shelly.GetDeviceInfo` with `info`.
    pub fn from_info(device_id: DeviceId, ble_name: Option<String>, info: DeviceInfo) -> Self {
        Self {
            device_id,
            ble_name,
            mac: parse_shelly_mac(&info.mac),
            info,
        }
    }

    /// The device id (`shellyplus1-a8032ab12345`).
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The digest-auth realm.
    pub fn realm(&self) -> &str {
        self.info.realm()
    }

    /// The firmware: its id, else its version.
    pub fn firmware(&self) -> &str {
        match self.info.fw_id.as_str() {
            "" => &self.info.ver,
            id => id,
        }
    }

    /// Its model, when the model table knows its code (`S3GW-1DBT001`).
    pub fn model(&self) -> Option<&'static Model> {
        models::model_by_code(&self.info.model)
    }

    /// Its model for people: product name and code, else the code as the device sent it.
    pub fn model_label(&self) -> String {
        self.model().map_or_else(
            || self.info.model.clone(),
            |m| format!("{} ({})", m.name, m.code),
        )
    }

    /// The best name to show: the name set on the device, else the name it advertises (a Gen3
    /// or later device, which advertises its MAC, by its model as the Scan page names it), else
    /// its id.
    pub fn display_name(&self) -> String {
        let advertised = || DeviceKind::Shelly(self.model()).shown_name(self.ble_name.as_deref());
        self.info
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or_else(advertised)
            .unwrap_or(&self.info.id)
            .to_owned()
    }
}

/// Reads Shelly's MAC form (`A8032AB12345`, 12 hex digits) or the colon form.
pub fn parse_shelly_mac(text: &str) -> Option<MacAddress> {
    if let Ok(mac) = text.parse() {
        return Some(mac);
    }
    if text.len() != 12 || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 6];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(MacAddress(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shelly_mac_forms_parse() {
        assert_eq!(
            parse_shelly_mac("A8032AB12345"),
            Some(MacAddress([0xA8, 0x03, 0x2A, 0xB1, 0x23, 0x45]))
        );
        assert_eq!(
            parse_shelly_mac("a8:03:2a:b1:23:45"),
            Some(MacAddress([0xA8, 0x03, 0x2A, 0xB1, 0x23, 0x45]))
        );
        assert_eq!(parse_shelly_mac("A8032AB1234"), None);
        // Neither a 13th digit nor a sign (which `u8::from_str_radix` would take) is a MAC.
        assert_eq!(parse_shelly_mac("A8032AB123456"), None);
        assert_eq!(parse_shelly_mac("+8032AB12345"), None);
    }

    #[test]
    fn summary_takes_realm_from_auth_domain_when_present() {
        let info = |json| serde_json::from_value::<DeviceInfo>(json).unwrap();
        let s = DeviceSummary::from_info(
            DeviceId::from("x"),
            None,
            info(
                serde_json::json!({"id": "shellyplus1-a8032ab12345", "mac": "A8032AB12345",
                "auth_en": true, "auth_domain": "dom"}),
            ),
        );
        assert_eq!(s.realm(), "dom");
        assert_eq!(s.id(), "shellyplus1-a8032ab12345");
        assert!(s.info.auth_en);
        assert_eq!(s.mac, parse_shelly_mac("A8032AB12345"));
        let s = DeviceSummary::from_info(
            DeviceId::from("x"),
            None,
            info(serde_json::json!({"id": "abc"})),
        );
        assert_eq!(s.realm(), "abc");
        assert_eq!(s.mac, None);
    }

    /// A BLU Gateway Gen3 chosen by its advertised name, its MAC, is named by its model; a name
    /// set on it, or an advertised name that is not a MAC, wins.
    #[test]
    fn a_gen3_device_is_named_by_its_model() {
        let summary = |name: Option<&str>, ble_name: &str| {
            let info = serde_json::from_value::<DeviceInfo>(serde_json::json!({
                "id": "shellyblugwg3-ccba970d5e01", "model": "S3GW-1DBT001", "name": name}))
            .unwrap();
            DeviceSummary::from_info(DeviceId::from("x"), Some(ble_name.to_owned()), info)
        };
        let gateway = summary(None, "CC:BA:97:0D:5E:01");
        assert_eq!(gateway.display_name(), "Shelly BLU Gateway Gen3");
        assert_eq!(
            gateway.model_label(),
            "Shelly BLU Gateway Gen3 (S3GW-1DBT001)"
        );
        assert_eq!(
            summary(Some("Hall"), "CC:BA:97:0D:5E:01").display_name(),
            "Hall"
        );
        assert_eq!(
            summary(None, "ShellyBluGwG3-CCBA970D5E01").display_name(),
            "ShellyBluGwG3-CCBA970D5E01"
        );
    }

    #[test]
    fn firmware_is_the_id_else_the_version() {
        let mut info = DeviceInfo {
            ver: "1.4.4".into(),
            ..DeviceInfo::default()
        };
        let summary = |info: &DeviceInfo| DeviceSummary::from_info("x".into(), None, info.clone());
        assert_eq!(summary(&info).firmware(), "1.4.4");
        info.fw_id = "20241011-114455/1.4.4-g6d2a586".into();
        assert_eq!(summary(&info).firmware(), "20241011-114455/1.4.4-g6d2a586");
    }
}

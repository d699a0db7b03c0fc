//! The device's password (`Shelly.SetAuth` with HA1 only), its name, and hardening after set-up.

use crate::state::actions::RunsActions as _;
use bluehome_core::shelly::auth::{Credentials, SetAuthParams, ha1};
use bluehome_core::shelly::methods::shelly::{self, SysSetConfigParams};
use bluehome_core::shelly::methods::{ble, wifi};
use leptos::prelude::*;

use super::ShellySession;
use super::explain::{Failure, FormField};

/// What to turn off once the device is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hardening {
    /// The device's own Wi-Fi access point.
    pub access_point_off: bool,
    /// RPC over Bluetooth.
    pub ble_rpc_off: bool,
}

/// What was typed into the security panel, kept with the session: a tab switch loses none of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityForm {
    /// The new password, until it is sent.
    pub password: RwSignal<String>,
    /// The new password repeated, until it is sent.
    pub confirm: RwSignal<String>,
    /// Whether to remember the password's digest in the device's profile.
    pub remember: RwSignal<bool>,
    /// The new device name.
    pub name: RwSignal<String>,
    /// Whether to turn off the device's access point.
    pub access_point_off: RwSignal<bool>,
    /// Whether to turn off RPC over Bluetooth.
    pub ble_rpc_off: RwSignal<bool>,
}

impl SecurityForm {
    /// Forgets what was typed (another device connected).
    pub(super) fn clear(self) {
        self.password.set(String::new());
        self.confirm.set(String::new());
        self.remember.set(false);
        self.name.set(String::new());
        self.access_point_off.set(false);
        self.ble_rpc_off.set(false);
    }
}

impl ShellySession {
    /// The connected device's digest-auth realm.
    fn realm(self) -> Option<String> {
        self.device
            .with_untracked(|d| d.as_ref().map(|d| d.realm().to_owned()))
    }

    /// Sets the device password (`confirm` must repeat it); only HA1 leaves the page, and it is
    /// remembered in the device's profile if `remember`.
    pub fn set_password(self, password: String, confirm: &str, remember: bool) {
        let refused = |detail, field| {
            self.refuse(Failure::refusing(field, "setting the password", detail));
        };
        if password != confirm {
            return refused("the two passwords differ", FormField::PasswordRepeat);
        }
        if password.is_empty() {
            return refused("the password is empty", FormField::NewPassword);
        }
        let Some(realm) = self.realm() else { return };
        let new_ha1 = ha1(&realm, &password);
        if let Some(link) = self.link() {
            link.add_secret(&password);
            link.add_secret(&new_ha1);
        }
        self.set_auth("Set password", realm, Some(new_ha1), remember);
    }

    /// Turns the device password off.
    pub fn remove_password(self) {
        let Some(realm) = self.realm() else { return };
        self.set_auth("Remove password", realm, None, false);
    }

    /// Sends `Shelly.SetAuth` with the digest `ha1` (`None` turns the password off), then signs
    /// the link's calls with it, remembers it in the device's profile if `remember` (or forgets
    /// the one remembered) and notes whether the device now asks for a password.
    fn set_auth(self, label: &str, realm: String, ha1: Option<String>, remember: bool) {
        let step = if ha1.is_some() {
            "Setting the device password (Shelly.SetAuth, HA1 only)"
        } else {
            "Removing the device password (Shelly.SetAuth with ha1 null)"
        };
        self.run(label, move |s| {
            let params = SetAuthParams::with_ha1(&realm, ha1.clone());
            async move {
                s.step(step);
                s.call::<shelly::SetAuth>(&params).await?;
                if let Some(link) = s.link() {
                    link.set_credentials(params.ha1.clone().map(Credentials::from_ha1));
                }
                s.remember_ha1(params.ha1.clone().filter(|_| remember));
                s.device.update(|d| {
                    if let Some(d) = d {
                        d.info.auth_en = params.ha1.is_some();
                    }
                });
                s.step_done();
                Ok(())
            }
        });
    }

    /// Names the device (`Sys.SetConfig`).
    pub fn rename(self, name: String) {
        self.run("Set name", move |s| {
            let name = name.clone();
            async move {
                s.step(format!("Naming the device \"{name}\" (Sys.SetConfig)"));
                s.call::<shelly::SysSetConfig>(&SysSetConfigParams::device_name(&name))
                    .await?;
                s.device.update(|d| {
                    if let Some(d) = d {
                        d.info.name = Some(name.clone());
                    }
                });
                s.step_done();
                Ok(())
            }
        });
    }

    /// Turns off what `hardening` names, restarting the device when a change needs it (as Home
    /// Assistant's Shelly set-up does: home-assistant/core,
    /// `homeassistant/components/shelly/config_flow.py`, `_async_secure_device_after_provision`).
    /// With RPC over Bluetooth off the page then leaves the device, which answers over Wi-Fi only
    /// from its restart on; otherwise it reconnects.
    pub fn harden(self, hardening: Hardening) {
        self.run("Harden", move |s| async move {
            let mut restart = false;
            if hardening.access_point_off {
                s.step("Turning off the device's access point (WiFi.SetConfig)");
                let answer = s
                    .call::<wifi::SetConfig>(&wifi::SetConfigParams::access_point(false))
                    .await?;
                restart |= answer.restart_required;
            }
            if hardening.ble_rpc_off {
                s.step("Turning off RPC over Bluetooth (BLE.SetConfig)");
                let answer = s
                    .call::<ble::SetConfig>(&ble::SetConfigParams::rpc(false))
                    .await?;
                restart |= answer.restart_required;
            }
            if restart {
                s.restart_to_apply(!hardening.ble_rpc_off).await?;
            }
            s.step_done();
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_auth_sends_ha1_not_the_password() {
        let params = SetAuthParams::new("shellyplus1-a8032ab12345", Some("secret"));
        // sha256("admin:shellyplus1-a8032ab12345:secret"), computed with Python's hashlib.
        assert_eq!(
            params.ha1.as_deref(),
            Some("e7321a38e256c665fb8fe807d3fb54d8db23a8e90186a71b382949a84e3816c4")
        );
        let sent = serde_json::to_value(&params).unwrap();
        assert_eq!(sent["user"], "admin");
        assert!(!sent.to_string().contains("\"secret\""));
        let off = serde_json::to_value(SetAuthParams::new("r", None)).unwrap();
        assert_eq!(off["ha1"], serde_json::Value::Null);
    }
}

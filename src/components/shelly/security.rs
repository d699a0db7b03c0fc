//! Device password (Shelly.SetAuth with HA1), device name, and hardening after set-up.

use bluehome_core::shelly::auth::{Credentials, ha1};
use leptos::prelude::*;
use serde_json::json;

use super::TextField;
use crate::state::shelly::explain::{Failure, FailureKind};
use crate::state::shelly::{ShellySession, set_name_params};

/// The `Shelly.SetAuth` params for a password (`None` turns the password off). Only HA1 leaves
/// this function.
pub fn set_auth_params(realm: &str, password: Option<&str>) -> serde_json::Value {
    json!({"user": "admin", "realm": realm, "ha1": password.map(|p| ha1(realm, p))})
}

/// Password, name and hardening.
#[component]
pub fn SecurityPanel(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let ap_off = RwSignal::new(false);
    let rpc_off = RwSignal::new(false);
    let realm = move || {
        session
            .device
            .with_untracked(|d| d.as_ref().map(|d| d.realm.clone()))
    };

    let set_password = move |_| {
        let p = password.get_untracked();
        let c = confirm.get_untracked();
        password.set(String::new());
        confirm.set(String::new());
        if p != c {
            session.failure.set(Some(Failure::new(
                FailureKind::Refused,
                "setting the password",
                "the two passwords differ",
            )));
            return;
        }
        if p.is_empty() {
            session.failure.set(Some(Failure::new(
                FailureKind::Refused,
                "setting the password",
                "the password is empty",
            )));
            return;
        }
        let Some(realm) = realm() else { return };
        let new_ha1 = ha1(&realm, &p);
        if let Some(link) = session.link() {
            link.add_secret(&p);
            link.add_secret(&new_ha1);
        }
        let keep = remember.get_untracked();
        session.run("Set password", move |s| {
            let params = set_auth_params(&realm, Some(&p));
            let new_ha1 = new_ha1.clone();
            async move {
                s.step("Setting the device password (Shelly.SetAuth, HA1 only)");
                s.call("Shelly.SetAuth", Some(params)).await?;
                if let Some(link) = s.link() {
                    link.set_credentials(Some(Credentials::from_ha1(new_ha1.clone())));
                }
                s.remember_ha1(keep.then_some(new_ha1));
                s.device.update(|d| {
                    if let Some(d) = d {
                        d.auth_enabled = true;
                    }
                });
                s.step_done();
                Ok(())
            }
        });
    };
    let remove_password = move |_| {
        let Some(realm) = realm() else { return };
        session.run("Remove password", move |s| {
            let params = set_auth_params(&realm, None);
            async move {
                s.step("Removing the device password (Shelly.SetAuth with ha1 null)");
                s.call("Shelly.SetAuth", Some(params)).await?;
                if let Some(link) = s.link() {
                    link.set_credentials(None);
                }
                s.remember_ha1(None);
                s.device.update(|d| {
                    if let Some(d) = d {
                        d.auth_enabled = false;
                    }
                });
                s.step_done();
                Ok(())
            }
        });
    };
    let set_name = move |_| {
        let n = name.get_untracked();
        session.run("Set name", move |s| {
            let n = n.clone();
            async move {
                s.step(format!("Naming the device \"{n}\" (Sys.SetConfig)"));
                s.call("Sys.SetConfig", Some(set_name_params(&n))).await?;
                s.device.update(|d| {
                    if let Some(d) = d {
                        d.name = Some(n.clone());
                    }
                });
                s.step_done();
                Ok(())
            }
        });
    };
    let harden = move |_| {
        let (ap, rpc) = (ap_off.get_untracked(), rpc_off.get_untracked());
        session.run("Harden", move |s| async move {
            let mut restart = false;
            if ap {
                s.step("Turning off the device's access point (WiFi.SetConfig)");
                let r = s
                    .call(
                        "WiFi.SetConfig",
                        Some(json!({"config": {"ap": {"enable": false}}})),
                    )
                    .await?;
                restart |= r
                    .get("restart_required")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false);
            }
            if rpc {
                s.step("Turning off RPC over Bluetooth (BLE.SetConfig)");
                let r = s
                    .call(
                        "BLE.SetConfig",
                        Some(json!({"config": {"rpc": {"enable": false}}})),
                    )
                    .await?;
                restart |= r
                    .get("restart_required")
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false);
            }
            if restart {
                s.step("Restarting the device to apply (Shelly.Reboot)");
                s.call("Shelly.Reboot", Some(json!({"delay_ms": 1000})))
                    .await?;
            }
            s.step_done();
            Ok(())
        });
    };

    view! {
        <section class="shelly-security" aria-label="Security">
            <h2>"Password"</h2>
            <p class="hint">"The user is always admin. Only the digest (HA1) is sent and, if you ask, remembered; the password itself is never stored."</p>
            <TextField label="New password" value=password kind="password" />
            <TextField label="Repeat it" value=confirm kind="password" />
            <label class="check">
                <input type="checkbox" prop:checked=move || remember.get()
                    on:change=move |ev| remember.set(event_target_checked(&ev)) />
                " Remember it in this device's profile"
            </label>
            <div class="row">
                <button class="primary" on:click=set_password>"Set password"</button>
                <button on:click=remove_password>"Remove password"</button>
            </div>
            <h2>"Name"</h2>
            <TextField label="Device name" value=name />
            <button on:click=set_name>"Rename"</button>
            <h2>"After set-up"</h2>
            <label class="check">
                <input type="checkbox" prop:checked=move || ap_off.get()
                    on:change=move |ev| ap_off.set(event_target_checked(&ev)) />
                " Turn off the device's Wi-Fi access point"
            </label>
            <label class="check">
                <input type="checkbox" prop:checked=move || rpc_off.get()
                    on:change=move |ev| rpc_off.set(event_target_checked(&ev)) />
                " Turn off RPC over Bluetooth"
            </label>
            {move || rpc_off.get().then(|| view! {
                <p class="notice warning" role="note">
                    "With RPC over Bluetooth off, this page can no longer talk to the device over Bluetooth. Turn it back on from the device's web UI (Settings › Bluetooth)."
                </p>
            })}
            {move || ap_off.get().then(|| view! {
                <p class="notice warning" role="note">
                    "With the access point off, the device is reachable only through your Wi-Fi network; if that fails, a factory reset is the way back."
                </p>
            })}
            <button on:click=harden disabled=move || !(ap_off.get() || rpc_off.get())>"Apply"</button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_auth_sends_ha1_not_the_password() {
        let params = set_auth_params("shellyplus1-a8032ab12345", Some("secret"));
        // sha256("admin:shellyplus1-a8032ab12345:secret"), computed with Python's hashlib.
        assert_eq!(
            params["ha1"],
            "e7321a38e256c665fb8fe807d3fb54d8db23a8e90186a71b382949a84e3816c4"
        );
        assert!(!params.to_string().contains("\"secret\""));
        assert_eq!(set_auth_params("r", None)["ha1"], serde_json::Value::Null);
    }
}

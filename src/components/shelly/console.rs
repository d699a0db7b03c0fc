//! The raw RPC console for power users: method, JSON params, response, history (masked).

use bluehome_core::text::printable;
use leptos::prelude::*;
use serde_json::Value;

use super::pretty;
use crate::state::shelly::ShellySession;
use crate::state::shelly::explain::{Failure, FailureKind};

/// The console.
#[component]
pub fn RpcConsole(
    /// The session.
    session: ShellySession,
) -> impl IntoView {
    let method = RwSignal::new("Shelly.GetDeviceInfo".to_owned());
    let params = RwSignal::new(String::new());
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let m = method.get_untracked().trim().to_owned();
        let text = params.get_untracked();
        let parsed = if text.trim().is_empty() {
            Ok(None)
        } else {
            serde_json::from_str::<Value>(&text).map(Some)
        };
        let p = match parsed {
            Ok(p) => p,
            Err(e) => {
                session.failure.set(Some(Failure::new(
                    FailureKind::Refused,
                    "the console",
                    format!("the params are not JSON: {e}"),
                )));
                return;
            }
        };
        session.run("Console", move |s| {
            let (m, p) = (m.clone(), p.clone());
            async move {
                // An error answer is shown in the history; only transport failures are failures.
                match s.console_call(&m, p).await {
                    Err(f)
                        if matches!(
                            f.kind,
                            FailureKind::Refused
                                | FailureKind::WrongPassword
                                | FailureKind::BondsFull
                        ) =>
                    {
                        Ok(())
                    }
                    other => other.map(|_| ()),
                }
            }
        });
    };
    view! {
        <section class="shelly-console" aria-label="RPC console">
            <h2>"RPC console"</h2>
            <form on:submit=send>
                <label class="field"><span>"Method"</span>
                    <input list="shelly-methods" prop:value=move || method.get()
                        on:input=move |ev| method.set(event_target_value(&ev)) />
                </label>
                <datalist id="shelly-methods">
                    {["Shelly.GetDeviceInfo", "Shelly.GetStatus", "Shelly.GetConfig", "Shelly.GetComponents",
                      "Sys.GetConfig", "WiFi.GetStatus", "WiFi.Scan", "BLE.GetConfig", "BLE.GetStatus",
                      "BLE.ListPairedDevices", "BLE.CloudRelay.ListInfos", "BTHome.GetStatus", "BTHome.GetConfig"]
                        .into_iter().map(|m| view! { <option value=m></option> }).collect_view()}
                </datalist>
                <label class="field"><span>"Params (JSON object, optional)"</span>
                    <textarea rows="3" prop:value=move || params.get()
                        on:input=move |ev| params.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class="primary" disabled=move || session.link().is_none()>"Call"</button>
            </form>
            <ol class="history" reversed>
                {move || session.console.get().into_iter().rev().map(|e| {
                    let (class, body) = match &e.outcome {
                        Ok(v) => ("ok", pretty(v)),
                        Err(text) => ("error", printable(text).into_owned()),
                    };
                    view! {
                        <li class=class>
                            <code class="call">{format!("{} {}", e.method, if e.params.is_null() { String::new() } else { e.params.to_string() })}</code>
                            <small class="stats">{format!(" {} ms, {} GATT operations, {} B out, {} B in", e.took_ms, e.gatt_ops, e.bytes.0, e.bytes.1)}</small>
                            <pre>{body}</pre>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

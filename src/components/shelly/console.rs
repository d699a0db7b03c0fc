//! The raw RPC console for power users: method, JSON params, response, history (masked).

use bluehome_core::text::printable;
use leptos::prelude::*;

use super::pretty;
use crate::components::live::{Live, LiveRegion};
use crate::state::shelly::ShellySession;
use crate::state::shelly::rpc::{CONSOLE_SUGGESTIONS, ConsoleForm};

/// The console.
#[component]
pub fn RpcConsole() -> impl IntoView {
    let session = ShellySession::from_context();
    // Kept with the session: a tab switch loses none of it.
    let ConsoleForm { method, params } = session.panels.console;
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        session.send_console(&method.get_untracked(), &params.get_untracked());
    };
    // The newest call's outcome, announced as it arrives (the history below is not a live region:
    // it would read every entry again). Keyed by when the call was sent, so a second identical
    // answer is announced too.
    let newest = Memo::new(move |_| {
        session.console.with(|all| {
            all.last().map(|e| {
                let said = match &e.outcome {
                    Ok(_) => format!("{} answered in {} ms", e.method, e.took_ms),
                    Err(text) => format!("{} failed: {}", e.method, printable(text)),
                };
                (e.at_ms, said)
            })
        })
    });
    view! {
        <section class="shelly-console" aria-label="RPC console">
            <h2>"RPC console"</h2>
            <form on:submit=send>
                <label class="field"><span>"Method"</span>
                    <input list="shelly-methods" prop:value=move || method.get()
                        on:input=move |ev| method.set(event_target_value(&ev)) />
                </label>
                <datalist id="shelly-methods">
                    {CONSOLE_SUGGESTIONS.into_iter().map(|m| view! { <option value=m></option> }).collect_view()}
                </datalist>
                <label class="field"><span>"Params (JSON object, optional)"</span>
                    <textarea rows="3" prop:value=move || params.get()
                        on:input=move |ev| params.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class="primary" disabled=move || session.link().is_none()>"Call"</button>
            </form>
            <LiveRegion kind=Live::Status class="visually-hidden console-result">
                {move || newest.get().map(|(_, said)| said)}
            </LiveRegion>
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

//! Calls on the connected device: typed calls of the core's methods ([`ShellySession::call`]), the
//! raw console's calls, notifications, and the masked log of every exchange.

use crate::state::actions::RunsActions as _;
use std::future::Future;
use std::pin::Pin;

use bluehome_core::shelly::frame::Notification;
use bluehome_core::shelly::methods::events::Event;
use bluehome_core::shelly::methods::{
    ErrorCode, Method, Paged, Pager, ble, bthome, params_value, shelly, wifi,
};
use leptos::prelude::*;
use serde_json::Value;

use super::explain::{Failure, FailureKind};
use super::link::Link;
use super::redact::redact_value;
use super::{ShellySession, push_bounded};
use crate::platform::{monotonic_ms, now_ms};

/// One RPC exchange, secrets masked.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// When it was sent (ms since the epoch).
    pub at_ms: u64,
    /// The method.
    pub method: String,
    /// The params as sent, masked.
    pub params: Value,
    /// The result (`Ok`) or the error text (`Err`), masked.
    pub outcome: Result<Value, String>,
    /// How long the call took, in milliseconds.
    pub took_ms: u64,
    /// GATT operations performed.
    pub gatt_ops: u32,
    /// Bytes written and read over GATT (control values included).
    pub bytes: (usize, usize),
}

/// Which history an exchange goes to besides the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum History {
    /// The log only.
    Log,
    /// The log and the raw console's history.
    Console,
}

/// An answer of another shape than the method's result.
#[inline(never)]
fn unexpected_answer(method: &str, error: &serde_json::Error) -> Failure {
    Failure::new(
        FailureKind::Protocol,
        method,
        format!("unexpected answer: {error}"),
    )
}

/// The methods the raw console suggests.
pub const CONSOLE_SUGGESTIONS: [&str; 13] = [
    shelly::GetDeviceInfo::NAME,
    shelly::GetStatus::NAME,
    shelly::GetConfig::NAME,
    shelly::GetComponents::NAME,
    shelly::SysGetConfig::NAME,
    wifi::GetStatus::NAME,
    wifi::Scan::NAME,
    ble::GetConfig::NAME,
    ble::GetStatus::NAME,
    ble::ListPairedDevices::NAME,
    ble::CloudRelayListInfos::NAME,
    bthome::GetStatus::NAME,
    bthome::GetConfig::NAME,
];

/// What was typed into the raw console, kept with the session: a tab switch loses none of it,
/// and neither does another device connecting (a method and its parameters are not one device's).
#[derive(Debug, Clone, Copy)]
pub struct ConsoleForm {
    /// The method's name.
    pub method: RwSignal<String>,
    /// Its parameters, as typed (JSON).
    pub params: RwSignal<String>,
}

impl Default for ConsoleForm {
    fn default() -> Self {
        Self {
            method: RwSignal::new(shelly::GetDeviceInfo::NAME.to_owned()),
            params: RwSignal::new(String::new()),
        }
    }
}

impl ShellySession {
    /// Sends what the raw console was given: a method name and its params as JSON text (empty:
    /// none). An error answer is shown in the console's history; only a failure to get an
    /// answer is reported as a failure.
    pub fn send_console(self, method: &str, params: &str) {
        let parsed = match params.trim() {
            "" => Ok(None),
            text => serde_json::from_str::<Value>(text).map(Some),
        };
        let params = match parsed {
            Ok(params) => params,
            Err(e) => {
                return self.refuse(Failure::new(
                    FailureKind::Refused,
                    "the console",
                    format!("the params are not JSON: {e}"),
                ));
            }
        };
        let method = method.trim().to_owned();
        self.run("Console", move |s| {
            let (method, params) = (method.clone(), params.clone());
            async move {
                match s.console_call(&method, params).await {
                    Err(f)
                        if matches!(
                            f.kind,
                            FailureKind::Refused
                                | FailureKind::Unsupported
                                | FailureKind::WrongPassword
                                | FailureKind::SignInsPaused
                                | FailureKind::BondsFull
                        ) =>
                    {
                        Ok(())
                    }
                    other => other.map(|_| ()),
                }
            }
        });
    }

    /// Calls method `M` on the connected device: its parameters sent, its answer read as its
    /// result type. An error answer is explained from its code; an answer of another shape is a
    /// protocol failure. Logged, masked.
    pub async fn call<M: Method>(self, params: &M::Params) -> Result<M::Result, Failure> {
        let value = self
            .exchange_boxed(M::NAME, params_value(params), History::Log)
            .await?;
        serde_json::from_value(value).map_err(|e| unexpected_answer(M::NAME, &e))
    }

    /// Every page of the paged method `M` from `params` on, at most `max_pages` calls: the
    /// items of all pages, or the failure of the first call that failed (a page that does not
    /// follow from the last is a protocol failure).
    pub async fn call_all_pages<M: Paged>(
        self,
        params: M::Params,
        max_pages: u32,
    ) -> Result<Vec<M::Item>, Failure> {
        let mut pager = Pager::<M>::new(params, max_pages);
        while let Some(params) = pager.next_params() {
            let page = self.call::<M>(&params).await?;
            pager
                .add(page)
                .map_err(|e| Failure::new(FailureKind::Protocol, M::NAME, e.to_string()))?;
        }
        Ok(pager.into_items())
    }

    /// Calls any method with any parameters, for the raw console (the one place that sends
    /// arbitrary JSON); recorded in the console's history too.
    pub async fn console_call(self, method: &str, params: Option<Value>) -> Result<Value, Failure> {
        self.exchange_boxed(method, params, History::Console).await
    }

    /// [`Self::exchange`] behind one boxed future, so that each typed call (one per method) does
    /// not carry a copy of the whole exchange: the wasm stays smaller.
    fn exchange_boxed<'a>(
        self,
        method: &'a str,
        params: Option<Value>,
        history: History,
    ) -> Pin<Box<dyn Future<Output = Result<Value, Failure>> + 'a>> {
        Box::pin(self.exchange(method, params, history))
    }

    async fn exchange(
        self,
        method: &str,
        params: Option<Value>,
        history: History,
    ) -> Result<Value, Failure> {
        let link = self.link().ok_or_else(|| {
            Failure::new(FailureKind::Disconnected, method, "no device is connected")
        })?;
        let shown_params = params.as_ref().map(redact_value).unwrap_or(Value::Null);
        let at_ms = now_ms();
        let started = monotonic_ms();
        let answer = link.call(method, params).await;
        self.collect_notifications(&link);
        let result = answer.and_then(|response| {
            response.outcome.map_err(|e| {
                let code = ErrorCode::from(e.code);
                let kind = match FailureKind::of_rpc_error(code, method) {
                    // A 401 before any password was given asks for one.
                    FailureKind::WrongPassword if link.ha1().is_none() => {
                        FailureKind::PasswordNeeded
                    }
                    kind => kind,
                };
                let detail = format!("error {}: {}", e.code, e.message);
                Failure::new(kind, method, link.redact(&detail))
            })
        });
        if let Err(f) = &result
            && f.kind == FailureKind::WrongPassword
        {
            self.forget_credentials(&link);
        }
        let stats = link.last_stats();
        let entry = LogEntry {
            at_ms,
            took_ms: monotonic_ms().saturating_sub(started),
            gatt_ops: stats.gatt_ops,
            bytes: (stats.bytes_written, stats.bytes_read),
            method: method.to_owned(),
            params: shown_params,
            outcome: match &result {
                Ok(v) => Ok(redact_value(v)),
                Err(f) => Err(f.detail.clone()),
            },
        };
        if history == History::Console {
            push_bounded(self.console, [entry.clone()]);
        }
        push_bounded(self.log, [entry]);
        result
    }

    /// Drains queued notifications (discovery events) from the device.
    pub async fn listen(self) -> Result<usize, Failure> {
        let link = self.link().ok_or_else(|| {
            Failure::new(
                FailureKind::Disconnected,
                "listening",
                "no device is connected",
            )
        })?;
        let count = link.listen().await?;
        self.collect_notifications(&link);
        Ok(count)
    }

    /// The events of the notifications received, masked and typed, into [`Self::events`].
    fn collect_notifications(self, link: &Link) {
        let notes: Vec<Notification> = link.take_notifications();
        if notes.is_empty() {
            return;
        }
        let events: Vec<Event> = notes
            .iter()
            .flat_map(|note| note.events().iter().map(|e| Event::parse(&redact_value(e))))
            .collect();
        self.events_received
            .try_update_value(|n| *n = n.saturating_add(events.len()));
        push_bounded(self.events, events);
    }

    /// How many events have arrived so far, to look at only the newer ones later.
    pub fn events_seen(self) -> usize {
        self.events_received.try_get_value().unwrap_or(0)
    }

    /// The events that arrived after the first `seen` ones (those still kept), oldest first.
    pub fn events_since(self, seen: usize) -> Vec<Event> {
        let newer = self.events_seen().saturating_sub(seen);
        self.events
            .try_with_untracked(|events| {
                let mut newest: Vec<Event> = events.iter().rev().take(newer).cloned().collect();
                newest.reverse();
                newest
            })
            .unwrap_or_default()
    }

    /// Whether an event that arrived after the first `seen` ones (and is still kept) matches.
    pub fn event_since(self, seen: usize, wanted: impl Fn(&Event) -> bool) -> bool {
        self.events_since(seen).iter().any(wanted)
    }
}

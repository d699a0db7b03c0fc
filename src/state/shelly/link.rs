//! One connected Shelly device: RPC calls through the core client state machine, one at a time.
//!
//! The core's [`Client`] decides every GATT operation (length to `tx_ctl`, chunks to `data`, polls
//! of `rx_ctl`, reads of `data`, sleeps, the 401 digest-auth retry); this module only performs them
//! on the [`BleBackend`] and hands the results back. Calls are serialized: Shelly's GATT channel
//! holds one frame in flight, and Chrome allows one GATT operation at a time.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bluehome_core::shelly::auth::Credentials;
use bluehome_core::shelly::frame::{Notification, Response};
use bluehome_core::shelly::rpc::client::{self, Action, Client, Feedback};
use bluehome_core::shelly::rpc::{AttError, SERVICE_UUID};
use serde_json::Value;

use super::explain::{Failure, FailureKind, kind_of_ble_error, kind_of_rpc_error};
use super::redact::redact_text;
use crate::ble::{Backend, BleBackend, BleError, Characteristic, DeviceId, ErrorKind, WriteMode};

/// The current time in milliseconds (the browser's clock; 0 outside a browser).
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        let now = js_sys::Date::now();
        if now.is_finite() && now > 0.0 {
            now as u64
        } else {
            0
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// A random 32-bit value (for request ids, digest-auth cnonces and the client name; not for
/// keys). The core keeps ids below 2^31; the cnonce must fit 32 bits (shelly_rpc_ble.md §8).
pub fn random_u32() -> u32 {
    #[cfg(target_arch = "wasm32")]
    {
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0x5eed
    }
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u64) {
    let ms = u32::try_from(ms).unwrap_or(u32::MAX);
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Time allowed for an ordinary call.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Methods that take longer than an ordinary call, and how long they get: `WiFi.Scan` takes up to
/// ~20 s (aioshelly allows 30 s).
pub fn long_timeout_ms(method: &str) -> Option<u64> {
    match method {
        "WiFi.Scan" => Some(30_000),
        "Shelly.CheckForUpdate" | "Shelly.Update" => Some(20_000),
        _ => None,
    }
}

/// A live RPC link to one device.
#[derive(Debug)]
pub struct Link {
    backend: Rc<Backend>,
    device: DeviceId,
    client: RefCell<Client>,
    busy: Cell<bool>,
    last_ble_error: RefCell<Option<BleError>>,
    secrets: RefCell<Vec<String>>,
}

impl Link {
    /// A link over an already connected device.
    pub fn new(backend: Rc<Backend>, device: DeviceId) -> Self {
        let src = format!("bluehome-{:08x}", random_u32());
        Self {
            backend,
            device,
            client: RefCell::new(Client::with_options(
                src,
                u64::from(random_u32()),
                client::Options {
                    timeout_ms: DEFAULT_TIMEOUT_MS,
                    ..client::Options::default()
                },
            )),
            busy: Cell::new(false),
            last_ble_error: RefCell::new(None),
            secrets: RefCell::new(Vec::new()),
        }
    }

    /// The device.
    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    /// The backend.
    pub fn backend(&self) -> &Rc<Backend> {
        &self.backend
    }

    /// Uses these credentials for 401 challenges from now on (`None`: none).
    pub fn set_credentials(&self, credentials: Option<Credentials>) {
        self.client.borrow_mut().set_credentials(credentials);
    }

    /// The HA1 in use, if any.
    pub fn ha1(&self) -> Option<String> {
        self.client
            .borrow()
            .credentials()
            .map(|c| c.ha1().to_owned())
    }

    /// Adds a string that must never appear in messages (a password being sent).
    pub fn add_secret(&self, secret: &str) {
        if !secret.is_empty() {
            self.secrets.borrow_mut().push(secret.to_owned());
        }
    }

    /// Masks known secrets in a text.
    pub fn redact(&self, text: &str) -> String {
        redact_text(text, &self.secrets.borrow())
    }

    /// GATT operations and bytes of the last finished call.
    pub fn last_stats(&self) -> client::Stats {
        self.client.borrow().last_stats()
    }

    /// Notifications (NotifyEvent, NotifyStatus) received so far, oldest first.
    pub fn take_notifications(&self) -> Vec<Notification> {
        self.client.borrow_mut().take_notifications()
    }

    async fn lock(&self) {
        while self.busy.get() {
            sleep_ms(5).await;
        }
        self.busy.set(true);
    }

    /// Calls `method`. A JSON-RPC error answer (401, -108, …) is an `Ok` response; transport
    /// failures are explained [`Failure`]s.
    pub async fn call(&self, method: &str, params: Option<Value>) -> Result<Response, Failure> {
        self.lock().await;
        let start = now_ms();
        let mut call = self
            .client
            .borrow_mut()
            .call(method, params, random_u32(), start);
        if let Some(ms) = long_timeout_ms(method) {
            call = call.with_deadline(start.saturating_add(ms));
        }
        let result = self.drive(call).await;
        let result = result.and_then(|call| {
            self.client
                .borrow_mut()
                .finish(call)
                .map_err(|e| self.explain(method, &e))
        });
        self.busy.set(false);
        result
    }

    /// Reads the frames the device queued by itself (discovery events); returns how many.
    pub async fn listen(&self) -> Result<usize, Failure> {
        self.lock().await;
        let call = self.client.borrow_mut().listen(now_ms());
        let result = self.drive(call).await;
        let result = result.and_then(|call| {
            self.client
                .borrow_mut()
                .finish_listen(call)
                .map_err(|e| self.explain("listening", &e))
        });
        self.busy.set(false);
        result
    }

    async fn drive(&self, mut call: client::Call) -> Result<client::Call, Failure> {
        loop {
            let (target, write) = match call.action() {
                Action::Done => return Ok(call),
                Action::Sleep { until_ms } => {
                    let wait = until_ms.saturating_sub(now_ms());
                    if wait > 0 {
                        sleep_ms(wait).await;
                    }
                    call.advance(Feedback::Woke, now_ms());
                    continue;
                }
                Action::Read { characteristic } => (characteristic, None),
                Action::Write {
                    characteristic,
                    value,
                } => (characteristic, Some(value.to_vec())),
            };
            let gatt = Characteristic {
                service: SERVICE_UUID,
                uuid: target.uuid(),
            };
            match write {
                Some(value) => {
                    let done = self
                        .backend
                        .write(&self.device, gatt, &value, WriteMode::WithResponse)
                        .await;
                    match done {
                        Ok(()) => call.advance(Feedback::Written, now_ms()),
                        Err(e) => call.advance(Feedback::Failed(self.att(e)), now_ms()),
                    }
                }
                None => match self.backend.read(&self.device, gatt).await {
                    Ok(bytes) => call.advance(Feedback::Read(&bytes), now_ms()),
                    Err(e) => call.advance(Feedback::Failed(self.att(e)), now_ms()),
                },
            }
        }
    }

    /// Turns a browser error into the ATT error the core expects, remembering the original.
    /// (The page never sees ATT codes; this is as near as the browser's kinds get.)
    fn att(&self, error: BleError) -> AttError {
        let att = match error.kind {
            ErrorKind::Disconnected => AttError::Disconnected,
            ErrorKind::NotPaired => AttError::InsufficientAuthentication,
            ErrorKind::NotPermitted => AttError::WriteNotPermitted,
            ErrorKind::NotFound => AttError::AttributeNotFound,
            _ => AttError::Other(0x0E),
        };
        *self.last_ble_error.borrow_mut() = Some(error);
        att
    }

    /// Explains a transport failure.
    pub fn explain(&self, during: &str, error: &client::Error) -> Failure {
        let kind = match error {
            client::Error::Gatt { error, .. } => match error {
                AttError::InsufficientAuthentication => FailureKind::PairingRequired,
                AttError::WriteNotPermitted => FailureKind::RpcDisabled,
                AttError::AttributeNotFound => FailureKind::NotShelly,
                AttError::Disconnected => FailureKind::Disconnected,
                AttError::InsufficientResources => FailureKind::DeviceBusy,
                _ => self
                    .last_ble_error
                    .borrow()
                    .as_ref()
                    .map_or(FailureKind::Protocol, |e| kind_of_ble_error(e, false)),
            },
            client::Error::Timeout { .. } => FailureKind::Timeout,
            _ => FailureKind::Protocol,
        };
        let mut detail = error.to_string();
        if let Some(ble) = self.last_ble_error.borrow().as_ref() {
            detail = format!("{detail} — browser said: {ble}");
        }
        Failure::new(kind, during, self.redact(&detail))
    }
}

/// Turns an RPC answer into its result, or an explained failure for an error answer.
pub fn result_of(
    method: &str,
    response: Response,
    redact: impl Fn(&str) -> String,
) -> Result<Value, Failure> {
    match response.outcome {
        Ok(value) => Ok(value),
        Err(e) => {
            let kind = kind_of_rpc_error(e.code, &e.message, method);
            Err(Failure::new(
                kind,
                method,
                redact(&format!("error {}: {}", e.code, e.message)),
            ))
        }
    }
}

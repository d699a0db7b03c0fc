//! One connected Shelly device: RPC calls through the core client state machine, one at a time.
//!
//! The core's [`Client`] decides every GATT operation (length to `tx_ctl`, chunks to `data`, polls
//! of `rx_ctl`, reads of `data`, sleeps, the 401 digest-auth retry); this module only performs them
//! on the [`BleBackend`] and hands the results back. Calls are serialized: Shelly's GATT channel
//! holds one frame in flight, and Chrome allows one GATT operation at a time.

use std::cell::RefCell;
use std::rc::Rc;

use bluehome_core::shelly::auth::Credentials;
use bluehome_core::shelly::frame::{Notification, Response};
use bluehome_core::shelly::methods::{Method, shelly, wifi};
use bluehome_core::shelly::rpc::SERVICE_UUID;
use bluehome_core::shelly::rpc::client::{self, Action, Client, Feedback};
use futures::lock::Mutex;
use serde_json::Value;

use super::explain::{Failure, FailureKind, Stage};
use super::redact::redact_text;
use crate::ble::{Backend, BleBackend, BleError, Characteristic, DeviceId, WriteMode};
use crate::platform::{monotonic_ms, random_u32, sleep_ms};

/// Time allowed for an ordinary call.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Methods that take longer than an ordinary call, and how long they get: `WiFi.Scan` takes up to
/// ~20 s (aioshelly allows 30 s).
const LONG_CALLS: [(&str, u64); 3] = [
    (wifi::Scan::NAME, 30_000),
    (shelly::CheckForUpdate::NAME, 20_000),
    (shelly::Update::NAME, 20_000),
];

/// How long a call of `method` may take, when longer than [`DEFAULT_TIMEOUT_MS`].
pub fn long_timeout_ms(method: &str) -> Option<u64> {
    LONG_CALLS
        .iter()
        .find(|(name, _)| *name == method)
        .map(|&(_, ms)| ms)
}

/// A live RPC link to one device.
#[derive(Debug)]
pub struct Link {
    backend: Rc<Backend>,
    device: DeviceId,
    client: RefCell<Client>,
    /// Held for the whole of a call: Shelly's GATT channel holds one frame in flight.
    in_flight: Mutex<()>,
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
            in_flight: Mutex::new(()),
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

    /// Adds a string that must never appear in messages (a password being sent); one too short
    /// to mask (empty, one character) is skipped by [`redact_text`].
    pub fn add_secret(&self, secret: &str) {
        self.secrets.borrow_mut().push(secret.to_owned());
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

    /// Calls `method`. A JSON-RPC error answer (401, -108, …) is an `Ok` response; transport
    /// failures are explained [`Failure`]s. Waits for a call under way to end first.
    pub async fn call(&self, method: &str, params: Option<Value>) -> Result<Response, Failure> {
        let _in_flight = self.in_flight.lock().await;
        let start = monotonic_ms();
        let mut call = self
            .client
            .borrow_mut()
            .call(method, params, random_u32(), start);
        if let Some(ms) = long_timeout_ms(method) {
            call = call.with_deadline(start.saturating_add(ms));
        }
        let (call, browser) = self.drive(call).await;
        let finished = self.client.borrow_mut().finish(call);
        finished.map_err(|e| self.explain(method, &e, browser.as_ref()))
    }

    /// Reads the frames the device queued by itself (discovery events); returns how many.
    pub async fn listen(&self) -> Result<usize, Failure> {
        let _in_flight = self.in_flight.lock().await;
        let call = self.client.borrow_mut().listen(monotonic_ms());
        let (call, browser) = self.drive(call).await;
        let finished = self.client.borrow_mut().finish_listen(call);
        finished.map_err(|e| self.explain("listening", &e, browser.as_ref()))
    }

    /// Performs the GATT operations the call asks for until it is done; returns it with the
    /// browser's last error, if an operation failed.
    async fn drive(&self, mut call: client::Call) -> (client::Call, Option<BleError>) {
        let mut browser = None;
        loop {
            let (target, write) = match call.action() {
                Action::Done => return (call, browser),
                Action::Sleep { until_ms } => {
                    let wait = until_ms.saturating_sub(monotonic_ms());
                    if wait > 0 {
                        sleep_ms(wait).await;
                    }
                    call.advance(Feedback::Woke, monotonic_ms());
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
            let outcome = match write {
                Some(value) => self
                    .backend
                    .write(&self.device, gatt, &value, WriteMode::WithResponse)
                    .await
                    .map(|()| None),
                None => self.backend.read(&self.device, gatt).await.map(Some),
            };
            match outcome {
                Ok(None) => call.advance(Feedback::Written, monotonic_ms()),
                Ok(Some(bytes)) => call.advance(Feedback::Read(&bytes), monotonic_ms()),
                Err(e) => {
                    call.advance(Feedback::Failed(e.kind.att_error()), monotonic_ms());
                    browser = Some(e);
                }
            }
        }
    }

    /// Explains a transport failure; `browser` is the browser's error behind a failed GATT
    /// operation (the page never sees ATT codes, so its kind says more than the core's).
    fn explain(&self, during: &str, error: &client::Error, browser: Option<&BleError>) -> Failure {
        use client::Error as E;
        let kind = match (error, browser) {
            (E::Gatt { .. }, Some(ble)) => FailureKind::of_ble_error(ble.kind, Stage::Connected),
            // Every failed operation here carries the browser's error; without one, say little.
            (E::Gatt { .. }, None) => FailureKind::Protocol,
            (E::Timeout { .. }, _) => FailureKind::Timeout,
            (
                E::TooLarge { .. }
                | E::Incomplete { .. }
                | E::Overrun { .. }
                | E::BadControlValue { .. }
                | E::Frame(_)
                | E::Challenge(_)
                | E::TooManyStrayFrames { .. }
                | E::NotFinished
                | E::RequestTooLarge { .. },
                _,
            ) => FailureKind::Protocol,
        };
        let mut detail = error.to_string();
        if let Some(ble) = browser {
            detail = format!("{detail} — browser said: {ble}");
        }
        Failure::new(kind, during, self.redact(&detail))
    }
}

#[cfg(test)]
mod tests {
    use bluehome_core::shelly::methods::shelly::{GetDeviceInfo, GetStatus};

    use std::cell::Cell;

    use bluehome_core::Uuid;
    use bluehome_core::gatt::Properties;

    use super::*;
    use crate::ble::demo::{GatewayPeer, demo_backend, demo_peripheral, device_id};
    use crate::ble::mock::{GattPeer, MockBackend, block_on};
    use crate::ble::{BleBackend, ErrorKind, RequestDeviceOptions};

    /// The demo backend with its gateway granted and connected, and a link to it.
    fn linked(mock: MockBackend) -> Link {
        mock.tick(1_000); // The chooser lists the gateway once it has advertised.
        let backend = Rc::new(Backend::Mock(mock));
        let options = RequestDeviceOptions::shelly(SERVICE_UUID);
        let device = block_on(backend.request_device(&options)).unwrap();
        block_on(backend.connect(&device.id)).unwrap();
        Link::new(backend, device.id)
    }

    /// Two calls started together run one after the other: the second waits on the link's
    /// mutex and goes as soon as the first is done (no timer: this runs outside a browser,
    /// where there is none), instead of overlapping GATT operations the device would refuse.
    #[test]
    fn overlapping_calls_wait_for_each_other() {
        let link = linked(demo_backend());
        let (info, status) = block_on(futures::future::join(
            link.call(GetDeviceInfo::NAME, None),
            link.call(GetStatus::NAME, None),
        ));
        let info = info.unwrap().outcome.unwrap();
        assert_eq!(info["id"], "shellyblugwg3-ccba970d5e01");
        let status = status.unwrap().outcome.unwrap();
        assert!(status.get("wifi").is_some(), "{status}");
    }

    /// What went over the air: GATT operations, bytes written and bytes read.
    type Counts = Rc<Cell<(u32, usize, usize)>>;

    /// The demo gateway's GATT server, counting what passes through it.
    struct Counting {
        inner: GatewayPeer,
        counts: Counts,
    }

    impl GattPeer for Counting {
        fn connect(&mut self) -> Result<(), BleError> {
            self.inner.connect()
        }
        fn disconnect(&mut self) {
            self.inner.disconnect();
        }
        fn pair(&mut self) -> Result<(), BleError> {
            self.inner.pair()
        }
        fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
            self.inner.characteristics(service)
        }
        fn read(&mut self, characteristic: Characteristic) -> Result<Vec<u8>, BleError> {
            let value = self.inner.read(characteristic)?;
            let (ops, written, read) = self.counts.get();
            self.counts.set((ops + 1, written, read + value.len()));
            Ok(value)
        }
        fn write(&mut self, characteristic: Characteristic, value: &[u8]) -> Result<(), BleError> {
            self.inner.write(characteristic, value)?;
            let (ops, written, read) = self.counts.get();
            self.counts.set((ops + 1, written + value.len(), read));
            Ok(())
        }
    }

    /// The log's figures for a call (GATT operations, bytes each way) are that call's own, as
    /// counted at the device: a frame's length and its chunks, the polls and the reads.
    #[test]
    fn last_stats_are_what_the_last_call_sent_and_received() {
        let mock = demo_backend();
        let peripheral = demo_peripheral();
        let id = device_id(peripheral.borrow().gateway().mac());
        let counts = Counts::default();
        let peer = Counting {
            inner: GatewayPeer::new(peripheral, mock.clock()),
            counts: Rc::clone(&counts),
        };
        mock.set_gatt_peer(&id, None, Box::new(peer));
        let link = linked(mock);
        for method in [GetDeviceInfo::NAME, GetStatus::NAME] {
            counts.set((0, 0, 0));
            let answer = block_on(link.call(method, None)).unwrap();
            assert!(answer.outcome.is_ok(), "{method}: {answer:?}");
            let (gatt_ops, bytes_written, bytes_read) = counts.get();
            // Length and frame written, length and frame read at the least.
            assert!(
                gatt_ops >= 4 && bytes_read > bytes_written,
                "{method}: {gatt_ops} ops"
            );
            let expected = client::Stats {
                gatt_ops,
                bytes_written,
                bytes_read,
            };
            assert_eq!(link.last_stats(), expected, "{method}");
        }
    }

    /// The free text of a failure (the browser's words, the device's) never shows a secret
    /// added to the link, and keeps the rest.
    #[test]
    fn failures_mask_the_secrets_added_to_the_link() {
        let link = linked(demo_backend());
        link.add_secret("hunter2-wifi");
        let browser = BleError::new(ErrorKind::Gatt, "GATT Error: value hunter2-wifi refused.");
        let error = client::Error::Timeout {
            waiting_for: "data",
        };
        let failure = link.explain("WiFi.SetConfig", &error, Some(&browser));
        assert!(
            !failure.detail.contains("hunter2-wifi"),
            "{}",
            failure.detail
        );
        assert!(
            failure.detail.contains("GATT Error: value"),
            "{}",
            failure.detail
        );
        assert!(failure.detail.contains("refused."), "{}", failure.detail);
        assert_eq!(failure.kind, FailureKind::Timeout);
    }

    /// The calls that take long on a device get more than an ordinary call's 10 s: a Wi-Fi scan
    /// 30 s, looking for and starting an update 20 s; every other call the default.
    #[test]
    fn long_calls_get_longer_deadlines() {
        assert_eq!(long_timeout_ms(wifi::Scan::NAME), Some(30_000));
        assert_eq!(long_timeout_ms(shelly::CheckForUpdate::NAME), Some(20_000));
        assert_eq!(long_timeout_ms(shelly::Update::NAME), Some(20_000));
        assert_eq!(long_timeout_ms(GetDeviceInfo::NAME), None);
        assert_eq!(long_timeout_ms("WiFi.SetConfig"), None);
    }
}

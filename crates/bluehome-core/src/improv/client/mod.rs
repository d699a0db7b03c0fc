//! The Improv client, sans-IO: one [`Client`] per connection, one task at a time.
//!
//! ```text
//! let mut improv = Client::new(Options::default(), now());     // reads capabilities, state, error
//! loop {
//!     match improv.action() {
//!         Action::Read { characteristic } => { let v = gatt.read(characteristic).await;
//!                                              // notified while the read was under way: older
//!                                              improv.advance_after(inbox.drain(..), v.into(), now()) }
//!         Action::Write { characteristic, value } => …,          // the same with its inbox
//!         Action::Sleep { until_ms } => select! {
//!             _ = sleep_until(until_ms) => improv.advance(Feedback::Woke, now()),
//!             (c, v) = notifications.next() => improv.notified(c, &v, now()),
//!         },
//!         Action::Done => break,
//!     }
//! }
//! let response = improv.take_outcome();          // then improv.send_wifi(…), improv.scan_wifi(…)
//! ```
//!
//! How a task knows it is answered, with or without notifications (improv-wifi.com/ble; the
//! device behaviour is ESPHome's `esp32_improv_component.cpp`):
//!
//! 1. Before a command, the client reads what it compares against: the state (Wi-Fi settings
//!    need "authorized"; "authorization required" ends the task at once with
//!    [`Error::AuthorizationRequired`], without writing), the error and the RPC result.
//! 2. After writing it polls — state and error for Wi-Fi settings, result and error otherwise —
//!    every [`Options::poll_interval_ms`], or every [`Options::notified_poll_interval_ms`] once a
//!    notification has shown they work. Notifications fed to [`Client::notified`] count at once.
//!    A scan without notifications reads its result every [`Options::scan_poll_interval_ms`]: a
//!    device answering one network per result replaces each with the next.
//! 3. An error other than 0 ends the task with [`Error::Device`] when it differs from the error
//!    before the command; the same error as before only once the device has shown progress
//!    (error 0, or state "provisioning") and left "provisioning": a device keeps its last error
//!    until it processes the next command, and some never clear it. An answer (a new result, or
//!    "provisioned") wins over an error left from before.
//! 4. A result counts when its bytes differ from the result before the command, or when it came
//!    as a notification. A result notified in parts (Tasmota's Berry example sends 20 bytes at a
//!    time) is joined by its length byte first ([`ResultParts`]), and read at once while a part
//!    is pending (a notification may have been cut; a scan's network whose cut result the
//!    device replaced before that read is listed by the SSID the cut left whole,
//!    [`Network::from_cut_result`]). Parts that join into no valid result are dropped and the
//!    result polled instead; with nothing valid by the deadline, device info and a scan fail with
//!    that [`Error::Rpc`]. A result identical to the one before the command
//!    cannot be told apart from no answer yet; it is taken after [`Options::same_answer_ms`] (a
//!    scan: [`Options::scan_same_answer_ms`]). A scan whose first new result names one network
//!    may be answered one network per result (Improv serial's way, which Tasmota's Berry example
//!    uses over BLE): the networks are collected until an empty result, or until nothing more came
//!    for [`Options::scan_list_quiet_ms`]. Every scan keeps one network per SSID, the strongest.
//! 5. Wi-Fi settings succeed when the state reads "provisioned"; the result's first string is the
//!    redirect URL ([`RedirectUrl`]), checked to be plain `http(s)`. A device that sends no
//!    result within [`Options::same_answer_ms`] after "provisioned" gives no URL.
//! 6. Every task has a deadline ([`Error::Timeout`]).

mod evaluate;
mod notify;
mod options;
mod outcome;
mod scan;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

pub use self::options::Options;
pub use self::outcome::{Error, Response};
use self::scan::{Listing, take_scan_result};
use super::rpc::{self, Credentials, Network, RedirectUrl, Request, ResultParts, RpcResult};
use super::{Capabilities, Characteristic, ErrorCode, State};
use crate::gatt::{Action, AttError, Feedback};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    request: Request,
    frame: Vec<u8>,
    /// The write is under way: from here on, what the device says answers this command.
    issued: bool,
    /// The write was acknowledged.
    sent_at: Option<u64>,
    baseline_error: Option<ErrorCode>,
    baseline_result: Vec<u8>,
    /// Error 0 or state "provisioning" seen since the write.
    progress: bool,
    /// An RPC-result notification arrived since the write.
    result_notified: bool,
    provisioned_at: Option<u64>,
    /// The last result bytes a scan took (a read of the same bytes is no new result).
    taken: Vec<u8>,
    /// A scan answered with one network per result.
    listing: Option<Listing>,
    /// Why notified parts of the result were dropped, if they were: result notifications are
    /// then not trusted, the result is polled, and at the deadline this is the reason.
    parts_dropped: Option<rpc::Error>,
    /// When the error was last read after the write.
    error_read_at: u64,
    /// A network a scan's result named before it was cut short and replaced by another result
    /// ([`Network::from_cut_result`]), until the next result is taken.
    cut: Option<Network>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Task {
    Connect,
    AwaitAuthorization,
    Command(alloc::boxed::Box<Pending>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Read(Characteristic),
    Write,
    Sleep(u64),
    Done,
}

/// The client of one connection. See the module docs.
#[derive(Debug, Clone)]
pub struct Client {
    options: Options,
    capabilities: Option<Capabilities>,
    state: Option<State>,
    error: Option<ErrorCode>,
    result: Vec<u8>,
    /// RPC result notifications being joined into one frame.
    parts: ResultParts,
    notifications: bool,
    task: Option<Task>,
    deadline: u64,
    queue: VecDeque<Characteristic>,
    phase: Phase,
    outcome: Option<Result<Response, Error>>,
}

impl Client {
    /// A client that starts by reading the capabilities, state and error.
    pub fn new(options: Options, now_ms: u64) -> Self {
        let deadline = now_ms.saturating_add(options.answer_timeout_ms);
        let mut client = Self {
            options,
            capabilities: None,
            state: None,
            error: None,
            result: Vec::new(),
            parts: ResultParts::new(),
            notifications: false,
            task: Some(Task::Connect),
            deadline,
            queue: [
                Characteristic::Capabilities,
                Characteristic::State,
                Characteristic::Error,
            ]
            .into(),
            phase: Phase::Done,
            outcome: None,
        };
        client.step(now_ms);
        client
    }

    /// The capabilities, once read.
    pub fn capabilities(&self) -> Option<Capabilities> {
        self.capabilities
    }

    /// The last state read or notified.
    pub fn state(&self) -> Option<State> {
        self.state
    }

    /// The last error read or notified.
    pub fn error(&self) -> Option<ErrorCode> {
        self.error
    }

    /// Every plain http(s) URL the last Wi-Fi settings result lists
    /// ([`RedirectUrl::all_from_result`]); empty before one arrived.
    pub fn redirects(&self) -> Vec<RedirectUrl> {
        RpcResult::parse(&self.result)
            .map(|r| RedirectUrl::all_from_result(&r))
            .unwrap_or_default()
    }

    /// Whether notifications have arrived on this connection.
    pub fn notifications_seen(&self) -> bool {
        self.notifications
    }

    /// The next GATT operation.
    pub fn action(&self) -> Action<'_, Characteristic> {
        match self.phase {
            Phase::Read(characteristic) => Action::Read { characteristic },
            Phase::Write => match &self.task {
                Some(Task::Command(p)) => Action::Write {
                    characteristic: Characteristic::RpcCommand,
                    value: &p.frame,
                },
                _ => Action::Done,
            },
            Phase::Sleep(until_ms) => Action::Sleep { until_ms },
            Phase::Done => Action::Done,
        }
    }

    /// The finished task's outcome (once; [`Action::Done`] until a new task starts).
    pub fn take_outcome(&mut self) -> Option<Result<Response, Error>> {
        self.outcome.take()
    }

    fn start(&mut self, task: Task, timeout_ms: u64, now_ms: u64) -> Result<(), Error> {
        if self.task.is_some() || self.outcome.is_some() {
            return Err(Error::Busy);
        }
        self.queue = match &task {
            Task::Connect | Task::AwaitAuthorization => [Characteristic::State].into(),
            Task::Command(p) => match p.request {
                Request::WifiSettings(_) => [
                    Characteristic::State,
                    Characteristic::Error,
                    Characteristic::RpcResult,
                ]
                .into(),
                Request::Identify => VecDeque::new(),
                _ => [Characteristic::Error, Characteristic::RpcResult].into(),
            },
        };
        self.task = Some(task);
        self.parts.clear();
        self.deadline = now_ms.saturating_add(timeout_ms);
        self.step(now_ms);
        Ok(())
    }

    fn command(&mut self, request: Request, timeout_ms: u64, now_ms: u64) -> Result<(), Error> {
        let command = request.command();
        if !self.capabilities.unwrap_or_default().offers(command) {
            return Err(Error::Unsupported(command));
        }
        let frame = request.encode();
        let pending = Pending {
            request,
            frame,
            issued: false,
            sent_at: None,
            baseline_error: None,
            baseline_result: Vec::new(),
            progress: false,
            result_notified: false,
            provisioned_at: None,
            taken: Vec::new(),
            listing: None,
            parts_dropped: None,
            error_read_at: 0,
            cut: None,
        };
        self.start(Task::Command(pending.into()), timeout_ms, now_ms)
    }

    /// Waits (polling the state) until a person has authorized the device.
    pub fn await_authorization(&mut self, now_ms: u64) -> Result<(), Error> {
        let timeout = self.options.authorization_timeout_ms;
        self.start(Task::AwaitAuthorization, timeout, now_ms)
    }

    /// Asks the device to identify itself (needs the identify capability).
    pub fn identify(&mut self, now_ms: u64) -> Result<(), Error> {
        let timeout = self.options.answer_timeout_ms;
        self.command(Request::Identify, timeout, now_ms)
    }

    /// Asks for device info (needs the device-info capability).
    pub fn request_device_info(&mut self, now_ms: u64) -> Result<(), Error> {
        let timeout = self.options.answer_timeout_ms;
        self.command(Request::DeviceInfo, timeout, now_ms)
    }

    /// Asks for the networks the device sees (needs the scan capability).
    pub fn scan_wifi(&mut self, now_ms: u64) -> Result<(), Error> {
        let timeout = self.options.scan_timeout_ms;
        self.command(Request::ScanWifi, timeout, now_ms)
    }

    /// Sends Wi-Fi credentials and follows the state to "provisioned".
    pub fn send_wifi(&mut self, credentials: Credentials, now_ms: u64) -> Result<(), Error> {
        let timeout = self.options.provision_timeout_ms;
        self.command(Request::WifiSettings(credentials), timeout, now_ms)
    }

    /// Feeds the result of the last action, at time `now_ms`.
    pub fn advance(&mut self, feedback: Feedback<'_>, now_ms: u64) {
        match (self.phase, feedback) {
            (Phase::Read(c), Feedback::Read(bytes)) => {
                // While notified parts are being joined, once they made this command's result or
                // were dropped, and while a scan's networks are being listed, a read that is not
                // a whole result is left aside: a device that notifies a result in parts may hold
                // only its last part (Tasmota's Berry example, `Staars/berry-examples`
                // `ble/improv.be`, sets the value to each part). A whole one stands for the parts.
                let aside = c == Characteristic::RpcResult
                    && RpcResult::parse(bytes).is_err()
                    && (self.parts.joining()
                        || self.result_notified_whole()
                        || self.result_read_in_parts());
                if c == Characteristic::RpcResult && !aside {
                    self.parts.replace_with(bytes);
                    self.take_cut();
                }
                if !aside && let Err(e) = self.apply(c, bytes, false, now_ms) {
                    return self.finish(Err(e));
                }
            }
            (
                Phase::Read(Characteristic::Capabilities),
                Feedback::Failed(AttError::AttributeNotFound),
            ) => {
                // "Firmware not according to spec, missing capability support" (sdk-ble-js):
                // carry on with none.
                self.capabilities = Some(Capabilities(0));
            }
            (Phase::Read(characteristic), Feedback::Failed(error)) => {
                // A device that said "provisioned" may stop its Improv service before its result
                // is read (ESPHome stops it seconds later, `esp32_improv` `stop()`): provisioned.
                if let Some(Task::Command(p)) = &self.task
                    && matches!(p.request, Request::WifiSettings(_))
                    && p.provisioned_at.is_some()
                {
                    return self.finish(Ok(Response::Provisioned {
                        redirect: None,
                        redirect_error: None,
                    }));
                }
                return self.finish(Err(Error::Gatt {
                    characteristic,
                    error,
                }));
            }
            (Phase::Write, Feedback::Written) => {
                if let Some(Task::Command(p)) = &mut self.task {
                    p.sent_at = Some(now_ms);
                }
                self.queue = self.poll_set(now_ms);
            }
            (Phase::Write, Feedback::Failed(error)) => {
                return self.finish(Err(Error::Gatt {
                    characteristic: Characteristic::RpcCommand,
                    error,
                }));
            }
            (Phase::Sleep(_), Feedback::Woke) => self.queue = self.poll_set(now_ms),
            // Done, or feedback that does not answer the pending action.
            _ => return,
        }
        self.step(now_ms);
    }

    /// Feeds the result of the last action together with the notifications (characteristic and
    /// value, oldest first) that arrived while it was under way, at time `now_ms`.
    ///
    /// The notifications are taken first: the device sent them before its answer to the
    /// operation. Notifications and the answer to a read arrive in the order the device sent them
    /// on the link, and Chrome fires the events of those that came first before it resolves the
    /// read's promise (Chromium's `bluetooth_remote_gatt_characteristic.cc`, `ReadValueCallback`,
    /// which even fires the read's own value as `characteristicvaluechanged` just before
    /// resolving). Taken after the read, an older state, error or result would replace the newer
    /// one read, and a scan's empty end, read, would close the list before the networks notified
    /// ahead of it. A notification that finishes the task leaves the feedback nothing to do;
    /// one that would finish the connection's first reads waits for the read under way, whose
    /// answer is newer. Notifications that come between operations go to [`Self::notified`].
    pub fn advance_after<'v>(
        &mut self,
        notified: impl IntoIterator<Item = (Characteristic, &'v [u8])>,
        feedback: Feedback<'_>,
        now_ms: u64,
    ) {
        for (characteristic, value) in notified {
            self.notified(characteristic, value, now_ms);
        }
        self.advance(feedback, now_ms);
    }

    /// Whether a scan polls its result fast ([`Options::scan_poll_interval_ms`]): it was written
    /// and no notification has come on this connection, or notified parts were dropped.
    fn scan_polled_fast(&self) -> bool {
        matches!(
            &self.task,
            Some(Task::Command(p)) if matches!(p.request, Request::ScanWifi)
                && p.sent_at.is_some()
                && (!self.notifications || p.parts_dropped.is_some())
        )
    }

    /// Takes a read or (`notified`) notified value into what the client knows.
    fn apply(
        &mut self,
        characteristic: Characteristic,
        bytes: &[u8],
        notified: bool,
        now_ms: u64,
    ) -> Result<(), Error> {
        let one = || match bytes {
            [b] => Ok(*b),
            _ => Err(Error::BadValue {
                characteristic,
                len: bytes.len(),
            }),
        };
        match characteristic {
            Characteristic::State => self.state = Some(State::from(one()?)),
            Characteristic::Error => self.error = Some(ErrorCode::from(one()?)),
            // "byte(s)": bits beyond the first byte are not defined.
            Characteristic::Capabilities => match bytes.first() {
                Some(b) => self.capabilities = Some(Capabilities(*b)),
                None => {
                    return Err(Error::BadValue {
                        characteristic,
                        len: 0,
                    });
                }
            },
            Characteristic::RpcResult => self.result = bytes.to_vec(),
            Characteristic::RpcCommand => {}
        }
        let (state, error) = (self.state, self.error);
        let mut newly_provisioned = false;
        if let Some(Task::Command(p)) = &mut self.task
            && p.issued
        {
            if characteristic == Characteristic::Error && !notified {
                p.error_read_at = now_ms;
            }
            match characteristic {
                Characteristic::Error if error == Some(ErrorCode::NoError) => p.progress = true,
                Characteristic::State if state == Some(State::Provisioning) => p.progress = true,
                Characteristic::State if state == Some(State::Provisioned) => {
                    p.progress = true;
                    newly_provisioned = p.provisioned_at.is_none();
                    p.provisioned_at.get_or_insert(now_ms);
                }
                _ => {}
            }
        }
        if newly_provisioned {
            // The result now holds the redirect URL: read it in this round.
            self.queue.push_front(Characteristic::RpcResult);
        }
        if characteristic == Characteristic::RpcResult
            && let Some(Task::Command(p)) = &mut self.task
            && p.issued
            && matches!(p.request, Request::ScanWifi)
            && (notified || bytes != p.taken)
        {
            take_scan_result(p, bytes, now_ms);
        }
        Ok(())
    }

    /// The reads of one poll round of the running task at `now_ms`.
    fn poll_set(&self, now_ms: u64) -> VecDeque<Characteristic> {
        match &self.task {
            Some(Task::AwaitAuthorization) => [Characteristic::State].into(),
            Some(Task::Command(p))
                if self.scan_polled_fast()
                    && now_ms.saturating_sub(p.error_read_at) < self.options.poll_interval_ms =>
            {
                // Polled fast: the error at the usual pace, so each round is one read.
                [Characteristic::RpcResult].into()
            }
            Some(Task::Command(p)) => match p.request {
                Request::WifiSettings(_) if p.provisioned_at.is_some() => {
                    [Characteristic::RpcResult].into()
                }
                Request::WifiSettings(_) => [Characteristic::State, Characteristic::Error].into(),
                _ => [Characteristic::RpcResult, Characteristic::Error].into(),
            },
            Some(Task::Connect) | None => VecDeque::new(),
        }
    }

    fn step(&mut self, now_ms: u64) {
        if let Some(outcome) = self.evaluate(now_ms, false) {
            return self.finish(outcome);
        }
        if let Some(next) = self.queue.pop_front() {
            self.phase = Phase::Read(next);
            return;
        }
        let (error, result) = (self.error, &self.result);
        if let Some(Task::Command(p)) = &mut self.task
            && !p.issued
        {
            // What the device holds now is what an answer must differ from.
            p.issued = true;
            p.baseline_error = error;
            p.baseline_result = result.clone();
            p.taken = result.clone();
            // The error was read in this round.
            p.error_read_at = now_ms;
            self.phase = Phase::Write;
            return;
        }
        let dropped = matches!(&self.task, Some(Task::Command(p)) if p.parts_dropped.is_some());
        let interval = if self.scan_polled_fast() {
            self.options.scan_poll_interval_ms
        } else if self.notifications && !dropped {
            self.options.notified_poll_interval_ms
        } else {
            self.options.poll_interval_ms
        };
        let mut until = now_ms.saturating_add(interval).min(self.deadline);
        if let Some(Task::Command(p)) = &self.task
            && let Some(listing) = &p.listing
        {
            // Wake when the list counts as complete.
            until = until.min(listing.at.saturating_add(self.options.scan_list_quiet_ms));
        }
        self.phase = Phase::Sleep(until);
    }

    fn finish(&mut self, outcome: Result<Response, Error>) {
        self.outcome = Some(outcome);
        self.task = None;
        self.queue.clear();
        self.phase = Phase::Done;
    }
}

#[cfg(test)]
mod tests;

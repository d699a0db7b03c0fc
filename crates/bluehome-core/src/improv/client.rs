//! The Improv client, sans-IO: one [`Client`] per connection, one task at a time.
//!
//! ```text
//! let mut improv = Client::new(Options::default(), now());     // reads capabilities, state, error
//! loop {
//!     match improv.action() {
//!         Action::Read { characteristic } => { let v = gatt.read(characteristic).await;
//!                                              improv.advance(v.into(), now()) }
//!         Action::Write { characteristic, value } => …,
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
//! 3. An error other than 0 ends the task with [`Error::Device`] when it differs from the error
//!    before the command; the same error as before only once the device has shown progress
//!    (error 0, or state "provisioning") and left "provisioning": a device keeps its last error
//!    until it processes the next command, and some never clear it. An answer (a new result, or
//!    "provisioned") wins over an error left from before.
//! 4. A result counts when its bytes differ from the result before the command, or when it came
//!    as a notification. A result identical to the one before the command cannot be told apart
//!    from no answer yet; it is taken after [`Options::same_answer_ms`] (a scan:
//!    [`Options::scan_same_answer_ms`]).
//! 5. Wi-Fi settings succeed when the state reads "provisioned"; the result's first string is the
//!    redirect URL ([`RedirectUrl`]), checked to be plain `http(s)`. A device that sends no
//!    result within [`Options::same_answer_ms`] after "provisioned" gives no URL.
//! 6. Every task has a deadline ([`Error::Timeout`]).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

use super::rpc::{self, Credentials, DeviceInfo, Network, RedirectUrl, Request, RpcResult};
use super::{Capabilities, Characteristic, Command, ErrorCode, State};
use crate::gatt::{Action, AttError, Feedback};

/// Tunables. Timeouts count from the start of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Between polls while no notification has arrived.
    pub poll_interval_ms: u64,
    /// Between polls once notifications have shown they work (a safety net only).
    pub notified_poll_interval_ms: u64,
    /// Device info and identify.
    pub answer_timeout_ms: u64,
    /// A Wi-Fi scan.
    pub scan_timeout_ms: u64,
    /// Sending Wi-Fi settings until "provisioned" (ESPHome gives its connection attempt 30 s).
    pub provision_timeout_ms: u64,
    /// Waiting for a person to press the device's button.
    pub authorization_timeout_ms: u64,
    /// How long a result identical to the previous one must stand before it counts.
    pub same_answer_ms: u64,
    /// The same for a scan, which takes seconds on the device.
    pub scan_same_answer_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            poll_interval_ms: 500,
            notified_poll_interval_ms: 2_000,
            answer_timeout_ms: 10_000,
            scan_timeout_ms: 30_000,
            provision_timeout_ms: 60_000,
            authorization_timeout_ms: 120_000,
            same_answer_ms: 2_000,
            scan_same_answer_ms: 10_000,
        }
    }
}

/// What a finished task produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The connection task: what the device reports.
    Connected {
        /// The capabilities (0 when the characteristic is missing, as the browser SDK assumes).
        capabilities: Capabilities,
        /// The state.
        state: State,
        /// The error.
        error: ErrorCode,
    },
    /// [`Client::await_authorization`]: the state is "authorized".
    Authorized,
    /// [`Client::identify`]: the command was written (identify has no result).
    Identified,
    /// [`Client::request_device_info`].
    DeviceInfo(DeviceInfo),
    /// [`Client::scan_wifi`]: the networks the device sees (possibly none).
    Networks(Vec<Network>),
    /// [`Client::send_wifi`]: the device joined the network.
    Provisioned {
        /// The URL to open next, if the device gave a usable one.
        redirect: Option<RedirectUrl>,
        /// Why the device's URL was refused, if it was.
        redirect_error: Option<rpc::Error>,
    },
}

/// Why a task failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A GATT operation failed.
    Gatt {
        /// On which characteristic.
        characteristic: Characteristic,
        /// How.
        error: AttError,
    },
    /// The device reported an error ([`ErrorCode::description`] explains it).
    Device(ErrorCode),
    /// The capabilities byte does not offer this command.
    Unsupported(Command),
    /// The state is "authorization required": the person must press the device's button.
    AuthorizationRequired,
    /// The state does not allow this (already provisioning or provisioned).
    WrongState(State),
    /// The deadline passed.
    Timeout {
        /// What was awaited.
        waiting_for: &'static str,
    },
    /// A state, error or capabilities value of the wrong size.
    BadValue {
        /// Which characteristic.
        characteristic: Characteristic,
        /// Its length.
        len: usize,
    },
    /// The RPC result's bytes are not a valid result.
    Rpc(rpc::Error),
    /// A task is running or its outcome has not been taken.
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gatt {
                characteristic,
                error,
            } => write!(f, "{characteristic}: {error}"),
            Self::Device(code) => code.fmt(f),
            Self::Unsupported(command) => write!(
                f,
                "the device does not offer command {:#04x}",
                u8::from(*command)
            ),
            Self::AuthorizationRequired => {
                f.write_str("the device waits for authorization: press its button")
            }
            Self::WrongState(state) => write!(f, "the device is {}", state.description()),
            Self::Timeout { waiting_for } => write!(f, "no {waiting_for} before the deadline"),
            Self::BadValue {
                characteristic,
                len,
            } => write!(f, "{characteristic} is {len} bytes where 1 was expected"),
            Self::Rpc(e) => write!(f, "RPC result: {e}"),
            Self::Busy => f.write_str("another Improv task is running"),
        }
    }
}

impl core::error::Error for Error {}

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Task {
    Connect,
    AwaitAuthorization,
    Command(Pending),
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
        };
        self.start(Task::Command(pending), timeout_ms, now_ms)
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
                if let Err(e) = self.apply(c, bytes, now_ms) {
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
                return self.finish(Err(Error::Gatt {
                    characteristic,
                    error,
                }));
            }
            (Phase::Write, Feedback::Written) => {
                if let Some(Task::Command(p)) = &mut self.task {
                    p.sent_at = Some(now_ms);
                }
                self.queue = self.poll_set();
            }
            (Phase::Write, Feedback::Failed(error)) => {
                return self.finish(Err(Error::Gatt {
                    characteristic: Characteristic::RpcCommand,
                    error,
                }));
            }
            (Phase::Sleep(_), Feedback::Woke) => self.queue = self.poll_set(),
            // Done, or feedback that does not answer the pending action.
            _ => return,
        }
        self.step(now_ms);
    }

    /// Feeds a notification (state, error or RPC result changed) at time `now_ms`. It may finish
    /// the running task; a read in flight meanwhile is then answered into nothing.
    pub fn notified(&mut self, characteristic: Characteristic, value: &[u8], now_ms: u64) {
        self.notifications = true;
        if characteristic == Characteristic::RpcResult
            && let Some(Task::Command(p)) = &mut self.task
            && p.issued
        {
            p.result_notified = true;
        }
        let applied = self.apply(characteristic, value, now_ms);
        if self.phase == Phase::Done {
            return;
        }
        match applied.map(|()| self.evaluate(now_ms)) {
            Err(e) => self.finish(Err(e)),
            Ok(Some(outcome)) => self.finish(outcome),
            Ok(None) => {}
        }
    }

    /// Takes a read or notified value into what the client knows.
    fn apply(
        &mut self,
        characteristic: Characteristic,
        bytes: &[u8],
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
        Ok(())
    }

    /// The reads of one poll round of the running task.
    fn poll_set(&self) -> VecDeque<Characteristic> {
        match &self.task {
            Some(Task::AwaitAuthorization) => [Characteristic::State].into(),
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
        if let Some(outcome) = self.evaluate(now_ms) {
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
            self.phase = Phase::Write;
            return;
        }
        let interval = if self.notifications {
            self.options.notified_poll_interval_ms
        } else {
            self.options.poll_interval_ms
        };
        self.phase = Phase::Sleep(now_ms.saturating_add(interval).min(self.deadline));
    }

    fn finish(&mut self, outcome: Result<Response, Error>) {
        self.outcome = Some(outcome);
        self.task = None;
        self.queue.clear();
        self.phase = Phase::Done;
    }

    /// Whether the running task is answered, failed or out of time; `None` to go on.
    fn evaluate(&mut self, now_ms: u64) -> Option<Result<Response, Error>> {
        let reads_pending = !self.queue.is_empty();
        let timed_out = now_ms >= self.deadline;
        match self.task.as_mut()? {
            Task::Connect => {
                let (Some(state), Some(error)) = (self.state, self.error) else {
                    return timed_out.then_some(Err(Error::Timeout {
                        waiting_for: "state and error",
                    }));
                };
                (!reads_pending).then(|| {
                    Ok(Response::Connected {
                        capabilities: self.capabilities.unwrap_or_default(),
                        state,
                        error,
                    })
                })
            }
            Task::AwaitAuthorization => match self.state {
                Some(State::Authorized) => Some(Ok(Response::Authorized)),
                Some(s @ (State::Provisioning | State::Provisioned)) => {
                    Some(Err(Error::WrongState(s)))
                }
                _ => timed_out.then_some(Err(Error::Timeout {
                    waiting_for: "authorization (a press on the device's button)",
                })),
            },
            Task::Command(p) => {
                let Some(sent_at) = p.sent_at else {
                    if p.issued {
                        // Notifications may come before the write is acknowledged.
                        return timed_out.then_some(Err(Error::Timeout {
                            waiting_for: "the command's write",
                        }));
                    }
                    // Before the write: Wi-Fi settings need the authorized state.
                    if reads_pending || !matches!(p.request, Request::WifiSettings(_)) {
                        return None;
                    }
                    return match self.state {
                        Some(State::AuthorizationRequired) => {
                            Some(Err(Error::AuthorizationRequired))
                        }
                        Some(s @ (State::Provisioning | State::Provisioned)) => {
                            Some(Err(Error::WrongState(s)))
                        }
                        _ => None,
                    };
                };
                if matches!(p.request, Request::Identify) {
                    return Some(Ok(Response::Identified));
                }
                let fresh = p.result_notified || self.result != p.baseline_result;
                let awaited = match p.request {
                    Request::WifiSettings(_) => p
                        .provisioned_at
                        .map(|at| (Command::WifiSettings, self.options.same_answer_ms, at)),
                    Request::ScanWifi => {
                        Some((Command::ScanWifi, self.options.scan_same_answer_ms, sent_at))
                    }
                    _ => Some((Command::DeviceInfo, self.options.same_answer_ms, sent_at)),
                };
                if let Some((command, grace, since)) = awaited {
                    let stood = now_ms.saturating_sub(since) >= grace;
                    if (fresh || stood)
                        && let Some(done) = answer(command, &self.result, fresh)
                    {
                        return Some(done);
                    }
                    if command == Command::WifiSettings {
                        // "Provisioned" settles it, whatever the error still says. Without a
                        // result of its own after the grace time: no URL.
                        return stood.then_some(Ok(Response::Provisioned {
                            redirect: None,
                            redirect_error: None,
                        }));
                    }
                }
                // A new error counts at once; the error of an earlier attempt only once the device
                // has shown progress and is no longer provisioning (some devices never clear it).
                let settled = p.progress && self.state != Some(State::Provisioning);
                if let Some(code) = self.error
                    && code != ErrorCode::NoError
                    && (Some(code) != p.baseline_error || settled)
                {
                    return Some(Err(Error::Device(code)));
                }
                timed_out.then_some(Err(Error::Timeout {
                    waiting_for: match p.request {
                        Request::WifiSettings(_) => "\"provisioned\" state",
                        _ => "RPC result",
                    },
                }))
            }
        }
    }
}

/// Reads the result bytes as the answer to `command`; `None` when they answer something else (or
/// nothing yet). Bytes that are not a result at all fail the task only when they are new.
fn answer(command: Command, bytes: &[u8], fresh: bool) -> Option<Result<Response, Error>> {
    if bytes.is_empty() {
        return None;
    }
    let result = match RpcResult::parse(bytes) {
        Ok(r) => r,
        Err(e) => return fresh.then_some(Err(Error::Rpc(e))),
    };
    if result.command != command {
        return None;
    }
    Some(match command {
        Command::DeviceInfo => DeviceInfo::from_result(&result)
            .map(Response::DeviceInfo)
            .map_err(Error::Rpc),
        Command::ScanWifi => Network::list_from_result(&result)
            .map(Response::Networks)
            .map_err(Error::Rpc),
        _ => Ok(match RedirectUrl::from_result(&result) {
            Ok(redirect) => Response::Provisioned {
                redirect,
                redirect_error: None,
            },
            Err(e) => Response::Provisioned {
                redirect: None,
                redirect_error: Some(e),
            },
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::fixture as hex;
    use crate::improv::rpc::Auth;

    /// A scripted device: the value each characteristic reads, changed by the test between steps.
    struct Script {
        state: u8,
        error: u8,
        result: Vec<u8>,
        capabilities: Option<u8>,
        written: Vec<Vec<u8>>,
    }

    impl Script {
        fn new(state: u8) -> Self {
            Self {
                state,
                error: 0,
                result: Vec::new(),
                capabilities: Some(0x07),
                written: Vec::new(),
            }
        }

        /// Performs the client's actions until it sleeps or is done; returns how many it did.
        fn serve(&mut self, client: &mut Client, now: u64) -> usize {
            for ops in 0..50 {
                let (value, feedback_kind) = match client.action() {
                    Action::Read { characteristic } => match characteristic {
                        Characteristic::State => (alloc::vec![self.state], true),
                        Characteristic::Error => (alloc::vec![self.error], true),
                        Characteristic::RpcResult => (self.result.clone(), true),
                        Characteristic::Capabilities => match self.capabilities {
                            Some(c) => (alloc::vec![c], true),
                            None => (Vec::new(), false),
                        },
                        Characteristic::RpcCommand => panic!("reading the command"),
                    },
                    Action::Write { value, .. } => {
                        self.written.push(value.to_vec());
                        client.advance(Feedback::Written, now);
                        continue;
                    }
                    Action::Sleep { .. } | Action::Done => return ops,
                };
                if feedback_kind {
                    client.advance(Feedback::Read(&value), now);
                } else {
                    client.advance(Feedback::Failed(AttError::AttributeNotFound), now);
                }
            }
            panic!("the client never sleeps")
        }
    }

    fn connected(script: &mut Script) -> Client {
        let mut client = Client::new(Options::default(), 0);
        script.serve(&mut client, 0);
        let Some(Ok(Response::Connected { .. })) = client.take_outcome() else {
            panic!("not connected")
        };
        client
    }

    fn sleep_until(client: &Client) -> u64 {
        match client.action() {
            Action::Sleep { until_ms } => until_ms,
            other => panic!("expected a sleep, got {other:?}"),
        }
    }

    #[test]
    fn connecting_reads_capabilities_state_and_error() {
        let mut script = Script::new(0x01);
        let mut client = Client::new(Options::default(), 0);
        assert_eq!(
            client.action(),
            Action::Read {
                characteristic: Characteristic::Capabilities
            }
        );
        assert_eq!(script.serve(&mut client, 0), 3);
        assert_eq!(
            client.take_outcome(),
            Some(Ok(Response::Connected {
                capabilities: Capabilities(0x07),
                state: State::AuthorizationRequired,
                error: ErrorCode::NoError,
            }))
        );
        assert_eq!(client.action(), Action::Done);
    }

    /// sdk-ble-js carries on without capabilities when the characteristic is missing.
    #[test]
    fn a_missing_capabilities_characteristic_means_none() {
        let mut script = Script::new(0x02);
        script.capabilities = None;
        let mut client = connected(&mut script);
        assert_eq!(client.capabilities(), Some(Capabilities(0)));
        assert_eq!(
            client.request_device_info(0),
            Err(Error::Unsupported(Command::DeviceInfo))
        );
        assert!(script.written.is_empty(), "nothing is sent");
    }

    #[test]
    fn a_state_of_two_bytes_is_a_typed_error() {
        let mut client = Client::new(Options::default(), 0);
        client.advance(Feedback::Read(&[7]), 0);
        client.advance(Feedback::Read(&[1, 2]), 0);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::BadValue {
                characteristic: Characteristic::State,
                len: 2
            }))
        );
    }

    /// Wi-Fi settings need authorization: nothing is written while it is required.
    #[test]
    fn wifi_settings_wait_for_authorization_without_writing() {
        let mut script = Script::new(0x01);
        let mut client = connected(&mut script);
        let creds = Credentials::new("HomeNet", "correct horse").unwrap();
        client.send_wifi(creds, 10).unwrap();
        script.serve(&mut client, 10);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::AuthorizationRequired))
        );
        assert!(script.written.is_empty());

        client.await_authorization(20).unwrap();
        script.serve(&mut client, 20);
        assert_eq!(sleep_until(&client), 520);
        script.state = 0x02; // the person pressed the button
        client.advance(Feedback::Woke, 520);
        script.serve(&mut client, 520);
        assert_eq!(client.take_outcome(), Some(Ok(Response::Authorized)));
    }

    #[test]
    fn authorization_times_out() {
        let mut script = Script::new(0x01);
        let mut client = connected(&mut script);
        client.await_authorization(0).unwrap();
        let mut now = 0;
        while !matches!(client.action(), Action::Done) {
            script.serve(&mut client, now);
            if let Action::Sleep { until_ms } = client.action() {
                now = until_ms;
                client.advance(Feedback::Woke, now);
            }
        }
        assert_eq!(now, 120_000);
        assert!(matches!(
            client.take_outcome(),
            Some(Err(Error::Timeout { .. }))
        ));
    }

    /// Polling only: provisioning → provisioned, then the result's first string is the URL.
    #[test]
    fn provisioning_by_polling_ends_with_the_redirect_url() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        let creds = Credentials::new("HomeNet", "correct horse").unwrap();
        client.send_wifi(creds.clone(), 0).unwrap();
        script.serve(&mut client, 0);
        assert_eq!(script.written, [Request::WifiSettings(creds).encode()]);
        script.state = 0x03;
        client.advance(Feedback::Woke, sleep_until(&client));
        script.serve(&mut client, 500);
        script.state = 0x04;
        script.result = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![b"http://192.168.1.42".to_vec()],
        }
        .encode()
        .unwrap();
        client.advance(Feedback::Woke, sleep_until(&client));
        script.serve(&mut client, 1000);
        let Some(Ok(Response::Provisioned {
            redirect,
            redirect_error: None,
        })) = client.take_outcome()
        else {
            panic!("not provisioned")
        };
        assert_eq!(redirect.unwrap().as_str(), "http://192.168.1.42");
    }

    /// ESPHome on a failed join: error 3 "unable to connect", state back to authorized.
    #[test]
    fn unable_to_connect_fails_with_the_device_error() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        client
            .send_wifi(Credentials::new("HomeNet", "wrong").unwrap(), 0)
            .unwrap();
        script.serve(&mut client, 0);
        script.error = 0x03;
        client.advance(Feedback::Woke, sleep_until(&client));
        script.serve(&mut client, 500);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::Device(ErrorCode::UnableToConnect)))
        );
    }

    /// The error of an earlier failed attempt does not fail the next one before the device has
    /// shown it processed the new command.
    #[test]
    fn a_stale_error_counts_only_after_progress() {
        let mut script = Script::new(0x02);
        script.error = 0x03;
        let mut client = connected(&mut script);
        client
            .send_wifi(Credentials::new("HomeNet", "correct horse").unwrap(), 0)
            .unwrap();
        script.serve(&mut client, 0);
        assert!(
            matches!(client.action(), Action::Sleep { .. }),
            "still waiting"
        );
        script.state = 0x03; // provisioning: the new command is being processed
        client.advance(Feedback::Woke, 500);
        script.serve(&mut client, 500);
        assert!(matches!(client.action(), Action::Sleep { .. }));
        script.state = 0x02; // failed again, the error still reads 3
        client.advance(Feedback::Woke, 1000);
        script.serve(&mut client, 1000);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::Device(ErrorCode::UnableToConnect)))
        );
    }

    /// ESPHome notifies "provisioning" as soon as it handles the command, which can be before the
    /// browser reports the write done: that belongs to this command, not a reason to refuse it.
    #[test]
    fn notifications_before_the_write_is_acknowledged_count_for_the_command() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        client
            .send_wifi(Credentials::new("HomeNet", "correct horse").unwrap(), 0)
            .unwrap();
        while !matches!(client.action(), Action::Write { .. }) {
            let value = alloc::vec![script.state];
            let value = match client.action() {
                Action::Read {
                    characteristic: Characteristic::Error,
                } => alloc::vec![script.error],
                Action::Read {
                    characteristic: Characteristic::RpcResult,
                } => Vec::new(),
                _ => value,
            };
            client.advance(Feedback::Read(&value), 0);
        }
        let redirect = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![b"https://example.org/next".to_vec()],
        }
        .encode()
        .unwrap();
        client.notified(Characteristic::State, &[0x03], 5);
        client.notified(Characteristic::State, &[0x04], 6);
        client.notified(Characteristic::RpcResult, &redirect, 7);
        assert!(
            client.take_outcome().is_none(),
            "nothing before the write is done"
        );
        client.advance(Feedback::Written, 8);
        let Some(Ok(Response::Provisioned {
            redirect: Some(url),
            ..
        })) = client.take_outcome()
        else {
            panic!("not provisioned")
        };
        assert_eq!(url.as_str(), "https://example.org/next");
    }

    /// A device that never clears an earlier error still succeeds: "provisioned" settles it.
    #[test]
    fn provisioned_wins_over_an_error_left_from_an_earlier_attempt() {
        let mut script = Script::new(0x02);
        script.error = 0x03;
        let mut client = connected(&mut script);
        client
            .send_wifi(Credentials::new("HomeNet", "correct horse").unwrap(), 0)
            .unwrap();
        script.serve(&mut client, 0);
        script.state = 0x04; // joined; the error still reads 3
        script.result = RpcResult {
            command: Command::WifiSettings,
            strings: alloc::vec![],
        }
        .encode()
        .unwrap();
        client.advance(Feedback::Woke, 500);
        script.serve(&mut client, 500);
        assert_eq!(
            client.take_outcome(),
            Some(Ok(Response::Provisioned {
                redirect: None,
                redirect_error: None
            }))
        );
    }

    /// Notifications finish a task between polls, and slow the polling down afterwards.
    #[test]
    fn notifications_answer_at_once() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        client.request_device_info(0).unwrap();
        script.serve(&mut client, 0);
        assert_eq!(sleep_until(&client), 500);
        let info = DeviceInfo {
            firmware: "ESPHome".into(),
            version: "2026.1.0".into(),
            chip: "ESP32-C3".into(),
            name: "Porch light".into(),
        };
        let bytes = info.to_result().encode().unwrap();
        client.notified(Characteristic::RpcResult, &bytes, 120);
        assert_eq!(client.take_outcome(), Some(Ok(Response::DeviceInfo(info))));
        assert!(client.notifications_seen());
        client.scan_wifi(200).unwrap();
        script.result = bytes;
        script.serve(&mut client, 200);
        assert_eq!(
            sleep_until(&client),
            2_200,
            "the slower safety-net interval"
        );
    }

    /// The same result bytes as before the command count only after the grace time.
    #[test]
    fn an_identical_result_counts_after_the_grace_time() {
        let mut script = Script::new(0x02);
        script.result = Network::list_to_result(&[Network {
            ssid: b"HomeNet".to_vec(),
            rssi: -50,
            auth: Auth::Wpa2,
        }])
        .encode()
        .unwrap();
        let mut client = connected(&mut script);
        client.scan_wifi(0).unwrap();
        let mut now = 0;
        loop {
            script.serve(&mut client, now);
            match client.action() {
                Action::Sleep { until_ms } => {
                    now = until_ms;
                    client.advance(Feedback::Woke, now);
                }
                _ => break,
            }
        }
        assert_eq!(now, 10_000);
        let Some(Ok(Response::Networks(list))) = client.take_outcome() else {
            panic!("no networks")
        };
        assert_eq!(list[0].ssid_text(), "HomeNet");
    }

    #[test]
    fn a_corrupt_new_result_is_a_typed_error_with_its_offset() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        client.request_device_info(0).unwrap();
        script.serve(&mut client, 0);
        // Device info with one string and a checksum off by one.
        script.result = hex("0302014153");
        client.advance(Feedback::Woke, 500);
        script.serve(&mut client, 500);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::Rpc(rpc::Error::Checksum {
                offset: 4,
                expected: 0x47,
                found: 0x53
            })))
        );
    }

    #[test]
    fn identify_is_done_once_written() {
        let mut script = Script::new(0x01);
        let mut client = connected(&mut script);
        client.identify(0).unwrap();
        assert_eq!(
            client.action(),
            Action::Write {
                characteristic: Characteristic::RpcCommand,
                value: &[0x02, 0x00, 0x02]
            }
        );
        script.serve(&mut client, 0);
        assert_eq!(client.take_outcome(), Some(Ok(Response::Identified)));
    }

    #[test]
    fn one_task_at_a_time_and_outcomes_are_not_lost() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        client.request_device_info(0).unwrap();
        assert_eq!(client.identify(0), Err(Error::Busy));
        script.serve(&mut client, 0);
        client.notified(
            Characteristic::RpcResult,
            &DeviceInfo {
                firmware: "a".into(),
                version: "b".into(),
                chip: "c".into(),
                name: "d".into(),
            }
            .to_result()
            .encode()
            .unwrap(),
            10,
        );
        assert_eq!(
            client.identify(20),
            Err(Error::Busy),
            "outcome not taken yet"
        );
        assert!(client.take_outcome().is_some());
        assert!(client.identify(20).is_ok());
    }

    #[test]
    fn a_failed_write_ends_the_task() {
        let mut script = Script::new(0x02);
        let mut client = connected(&mut script);
        client.identify(0).unwrap();
        client.advance(Feedback::Failed(AttError::Disconnected), 0);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::Gatt {
                characteristic: Characteristic::RpcCommand,
                error: AttError::Disconnected
            }))
        );
    }
}

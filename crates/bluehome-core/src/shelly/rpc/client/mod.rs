//! The client side of the GATT transport, sans-IO.
//!
//! One RPC call is a [`Call`]: ask it for its next [`Action`] (write these bytes to a
//! characteristic, read a characteristic, sleep until an absolute time, or done), perform it, and
//! hand the result back with [`Call::advance`] together with the current time. When the action is
//! [`Action::Done`], give the call back to [`Client::finish`] for the response.
//!
//! ```text
//! let mut call = client.call("Shelly.GetDeviceInfo", None, cnonce, now());
//! loop {
//!     let feedback = match call.action() {
//!         Action::Write { characteristic, value } => gatt.write(characteristic, value).await,
//!         Action::Read { characteristic } => gatt.read(characteristic).await,
//!         Action::Sleep { until_ms } => { sleep_until(until_ms).await; Feedback::Woke }
//!         Action::Done => break,
//!     };
//!     call.advance(feedback, now());
//! }
//! let response = client.finish(call)?;
//! ```
//!
//! Quirks handled (mongoose-os-libs/rpc-gatts `src/mgos_rpc_channel_gatts.c`, aioshelly
//! `aioshelly/rpc_device/blerpc.py`): `rx_ctl` reads 0 until the answer is ready
//! (poll again after [`Options::poll_interval_ms`]); a data read may come back empty for a while
//! on slow devices (retry after [`Options::empty_read_delay_ms`], at most
//! [`Options::max_empty_reads`] times in a row and never past the deadline: aioshelly allows
//! 50 × 100 ms, PR #992); some
//! firmware reports a garbage length while data holds a complete frame (when reads run dry and the
//! bytes so far are one complete JSON value, that is the frame); a failing data write makes the
//! client restart the frame with 20-byte chunks (and keep using them); frames without an id are
//! notifications, kept apart; answers with another id are dropped; a 401 answer is retried once
//! with digest auth when credentials are set (twice when the second says its nonce went stale),
//! and after a 429 the next request asks for a new nonce. Every call has an absolute deadline.
//!
//! Request ids stay in `1..2^31` (closed firmware may keep them in a signed 32-bit field) and the
//! digest `cnonce` is a `u32` (see [`crate::shelly::auth`]).

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde_json::Value;

use self::transfer::{Phase, Transfer};
use super::{AttError, Characteristic, MAX_WRITE, SMALL_WRITE};
use crate::shelly::auth::{self, Challenge, Credentials};
use crate::shelly::frame::{self, Frame, Id, Notification, Request, Response};
use crate::shelly::methods::ErrorCode;

mod transfer;

/// Tunables of the client transport. The defaults follow aioshelly's field-tested values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Largest data write (Web Bluetooth caps single writes at 512 bytes).
    pub chunk_size: usize,
    /// Chunk size after a write failed (fits the default 23-byte ATT MTU).
    pub fallback_chunk_size: usize,
    /// Delay before reading `rx_ctl` again after it read 0.
    pub poll_interval_ms: u64,
    /// Delay before reading data again after an empty read.
    pub empty_read_delay_ms: u64,
    /// Empty data reads tolerated in a row before giving up (the deadline may end them sooner).
    pub max_empty_reads: u32,
    /// Largest answer accepted; a larger announced length is treated as the garbage-length bug.
    pub max_response_len: u32,
    /// Time allowed for one call (all attempts), from its start.
    pub timeout_ms: u64,
    /// Frames with someone else's id tolerated in one call.
    pub max_stray_frames: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            chunk_size: MAX_WRITE,
            fallback_chunk_size: SMALL_WRITE,
            poll_interval_ms: 100,
            empty_read_delay_ms: 100,
            max_empty_reads: 50,
            max_response_len: 64 * 1024,
            timeout_ms: 10_000,
            max_stray_frames: 16,
        }
    }
}

/// The largest request id sent: ids stay below 2^31.
pub const MAX_REQUEST_ID: u64 = (1 << 31) - 1;

/// `id` brought into `1..=MAX_REQUEST_ID`.
fn request_id(id: u64) -> u64 {
    match id & MAX_REQUEST_ID {
        0 => 1,
        n => n,
    }
}

/// The id after `id`, wrapping to 1 after [`MAX_REQUEST_ID`].
fn next_request_id(id: u64) -> u64 {
    request_id(id.wrapping_add(1))
}

/// Whichever of two next-ids is further on, counting around the wrap (ids handed out by calls
/// are never far apart).
fn later_request_id(a: u64, b: u64) -> u64 {
    let ahead = b.wrapping_sub(a) & MAX_REQUEST_ID;
    if ahead != 0 && ahead < MAX_REQUEST_ID / 2 {
        b
    } else {
        a
    }
}

/// What the backend must do next: the GATT operation every core client asks for
/// ([`crate::gatt::Action`]), on one of the RPC service's characteristics. At
/// [`Action::Done`], hand the call to [`Client::finish`] (or [`Client::finish_listen`]).
pub type Action<'a> = crate::gatt::Action<'a, Characteristic>;

pub use crate::gatt::Feedback;

/// Why a call failed. Exhaustive on purpose: a failure added here must be explained wherever
/// failures are turned into advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A GATT operation failed.
    Gatt {
        /// The characteristic operated on.
        characteristic: Characteristic,
        /// The error.
        error: AttError,
    },
    /// The deadline passed while waiting for `waiting_for`.
    Timeout {
        /// What the call was doing (`"write"`, `"rx_ctl length"`, `"data"`).
        waiting_for: &'static str,
    },
    /// The answer's announced or received size exceeds [`Options::max_response_len`].
    TooLarge {
        /// Bytes announced or received.
        len: u64,
        /// The limit.
        max: u32,
    },
    /// Data reads ran dry before the announced length arrived, and what came is not a complete frame.
    Incomplete {
        /// Announced length.
        expected: u32,
        /// Bytes received.
        received: usize,
    },
    /// More data arrived than announced.
    Overrun {
        /// Announced length.
        expected: u32,
        /// Bytes received.
        received: usize,
    },
    /// `rx_ctl` did not hold 4 bytes.
    BadControlValue {
        /// Its length.
        len: usize,
    },
    /// The reassembled bytes are not a frame.
    Frame(frame::Error),
    /// A 401 answer carried a challenge that could not be used.
    Challenge(auth::Error),
    /// Too many answers with other ids.
    TooManyStrayFrames {
        /// How many were dropped.
        dropped: u32,
    },
    /// [`Client::finish`] was given a call that is not done, or of the other kind.
    NotFinished,
    /// The request is larger than the 32-bit length field.
    RequestTooLarge {
        /// Its length.
        len: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gatt {
                characteristic,
                error,
            } => write!(f, "GATT operation on {characteristic} failed: {error}"),
            Self::Timeout { waiting_for } => write!(f, "timed out waiting for {waiting_for}"),
            Self::TooLarge { len, max } => {
                write!(f, "answer of {len} bytes exceeds the {max}-byte limit")
            }
            Self::Incomplete { expected, received } => write!(
                f,
                "answer incomplete: {received} of {expected} bytes, then reads ran dry"
            ),
            Self::Overrun { expected, received } => write!(
                f,
                "answer overran its length: {received} bytes for {expected} announced"
            ),
            Self::BadControlValue { len } => {
                write!(f, "rx_ctl held {len} bytes instead of a 4-byte length")
            }
            Self::Frame(e) => write!(f, "bad answer frame: {e}"),
            Self::Challenge(e) => write!(f, "bad auth challenge: {e}"),
            Self::TooManyStrayFrames { dropped } => {
                write!(f, "dropped {dropped} answers with foreign ids")
            }
            Self::NotFinished => f.write_str("the call is not finished (or is of the other kind)"),
            Self::RequestTooLarge { len } => write!(f, "request of {len} bytes is too large"),
        }
    }
}

impl core::error::Error for Error {}

#[derive(Debug, Clone)]
enum Kind {
    Rpc(Box<RpcState>),
    Listen,
}

#[derive(Debug, Clone)]
struct RpcState {
    request: Request,
    /// Challenges answered so far: one, and a second only for a stale nonce.
    auth_answers: u8,
    response: Option<Response>,
}

/// Byte and operation counts of one call (for benchmarks and diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// GATT operations performed (reads and writes, not sleeps).
    pub gatt_ops: u32,
    /// Bytes written (control values included).
    pub bytes_written: usize,
    /// Bytes read (control values included).
    pub bytes_read: usize,
}

/// One RPC call (or one drain of pending notifications) in progress. See the module docs.
#[derive(Debug, Clone)]
pub struct Call {
    kind: Kind,
    link: Transfer,
    credentials: Option<Credentials>,
    cnonce: u32,
    next_id: u64,
    notifications: Vec<Notification>,
    stray: u32,
}

impl Call {
    /// The next GATT operation to perform.
    pub fn action(&self) -> Action<'_> {
        self.link.action()
    }

    /// Replaces the call's deadline (by default the start time plus [`Options::timeout_ms`]) with
    /// an absolute time, e.g. 30 s after the start for `WiFi.Scan`, which takes up to ~20 s.
    pub fn with_deadline(mut self, deadline_ms: u64) -> Self {
        self.link.deadline = deadline_ms;
        self
    }

    /// The absolute deadline.
    pub fn deadline(&self) -> u64 {
        self.link.deadline
    }

    /// True when [`Call::action`] is [`Action::Done`].
    pub fn is_done(&self) -> bool {
        matches!(self.action(), Action::Done)
    }

    /// The request currently being sent (its id changes on the auth retry); `None` when listening.
    pub fn request(&self) -> Option<&Request> {
        match &self.kind {
            Kind::Rpc(state) => Some(&state.request),
            Kind::Listen => None,
        }
    }

    /// Operation and byte counts so far.
    pub fn stats(&self) -> Stats {
        Stats {
            gatt_ops: self.link.ops,
            bytes_written: self.link.bytes_written,
            bytes_read: self.link.bytes_read,
        }
    }

    /// Feeds the result of the last action, at time `now_ms`.
    pub fn advance(&mut self, feedback: Feedback<'_>, now_ms: u64) {
        if self.is_done() {
            return;
        }
        self.link.advance(feedback, now_ms);
        if self.link.phase == Phase::Received {
            let bytes = core::mem::take(&mut self.link.rx);
            self.on_frame(&bytes);
        }
    }

    fn on_frame(&mut self, bytes: &[u8]) {
        let frame = match Frame::parse(bytes) {
            Ok(frame) => frame,
            Err(e) => {
                self.link.phase = Phase::Failed(Error::Frame(e));
                return;
            }
        };
        match frame {
            Frame::Notification(n) => {
                self.notifications.push(n);
                self.link.receive();
            }
            Frame::Response(resp) => self.on_response(resp),
            Frame::Request(_) => self.stray_frame(),
        }
    }

    fn stray_frame(&mut self) {
        self.stray = self.stray.saturating_add(1);
        if self.stray > self.link.options.max_stray_frames {
            self.link.phase = Phase::Failed(Error::TooManyStrayFrames {
                dropped: self.stray,
            });
        } else {
            self.link.receive();
        }
    }

    fn on_response(&mut self, resp: Response) {
        let Kind::Rpc(state) = &mut self.kind else {
            return self.stray_frame();
        };
        let RpcState {
            request,
            auth_answers,
            response,
        } = &mut **state;
        if resp.id != request.id {
            return self.stray_frame();
        }
        let challenge = match &resp.outcome {
            Err(e)
                if e.code == ErrorCode::AuthRequired.code()
                    && *auth_answers < 2
                    && self.credentials.is_some() =>
            {
                match Challenge::parse(&e.message) {
                    // A 401 to an answered challenge means a wrong password, unless the device
                    // says the nonce went stale meanwhile.
                    Ok(c) if *auth_answers > 0 && !c.stale => None,
                    parsed => Some(parsed),
                }
            }
            Err(e) if e.code == ErrorCode::TooManyAuthFailures.code() => {
                if let Some(creds) = self.credentials.as_mut() {
                    creds.forget_challenge();
                }
                None
            }
            _ => None,
        };
        match (challenge, self.credentials.as_mut()) {
            (Some(Ok(challenge)), Some(creds)) => {
                creds.accept_challenge(challenge);
                *auth_answers += 1;
                request.id = Id::Num(self.next_id);
                self.next_id = next_request_id(self.next_id);
                request.auth = creds.next_auth(self.cnonce);
                let bytes = request.to_bytes();
                self.link.send(bytes);
            }
            (Some(Err(e)), _) => self.link.phase = Phase::Failed(Error::Challenge(e)),
            _ => {
                *response = Some(resp);
                self.link.phase = Phase::Received;
            }
        }
    }
}

/// The per-connection client: request ids, credentials, chunk size, queued notifications.
#[derive(Debug, Clone)]
pub struct Client {
    src: String,
    next_id: u64,
    options: Options,
    chunk_size: usize,
    credentials: Option<Credentials>,
    notifications: VecDeque<Notification>,
    last_stats: Stats,
}

impl Client {
    /// A client that sends `src` as its name and numbers requests from `first_id` (pass a random
    /// value so that answers from an earlier session cannot be mistaken for ours; it is brought
    /// below 2^31).
    pub fn new(src: impl Into<String>, first_id: u64) -> Self {
        Self::with_options(src, first_id, Options::default())
    }

    /// As [`Client::new`], with explicit options.
    pub fn with_options(src: impl Into<String>, first_id: u64, options: Options) -> Self {
        Self {
            src: src.into(),
            next_id: request_id(first_id),
            chunk_size: options.chunk_size,
            options,
            credentials: None,
            notifications: VecDeque::new(),
            last_stats: Stats::default(),
        }
    }

    /// Sets (or clears) the credentials used to answer 401 challenges.
    pub fn set_credentials(&mut self, credentials: Option<Credentials>) {
        self.credentials = credentials;
    }

    /// The credentials, with the current challenge and nonce count.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// The data chunk size in use (drops to the fallback after a failed write, for good).
    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Counts of the last finished call.
    pub fn last_stats(&self) -> Stats {
        self.last_stats
    }

    /// Starts a call of `method`. `cnonce` is a random value used if the device asks for auth;
    /// `now_ms` starts the call's deadline.
    pub fn call(&mut self, method: &str, params: Option<Value>, cnonce: u32, now_ms: u64) -> Call {
        let id = self.next_id;
        self.next_id = next_request_id(id);
        let mut credentials = self.credentials.clone();
        let auth = credentials.as_mut().and_then(|c| c.next_auth(cnonce));
        let request = Request {
            id: Id::Num(id),
            src: Some(self.src.clone()),
            method: method.into(),
            params,
            auth,
        };
        let mut link = Transfer::new(
            &self.options,
            self.chunk_size,
            now_ms.saturating_add(self.options.timeout_ms),
        );
        link.send(request.to_bytes());
        Call {
            kind: Kind::Rpc(Box::new(RpcState {
                request,
                auth_answers: 0,
                response: None,
            })),
            link,
            credentials,
            cnonce,
            next_id: self.next_id,
            notifications: Vec::new(),
            stray: 0,
        }
    }

    /// Starts draining frames the device has queued without a request (notifications such as
    /// `device_discovered`): reads `rx_ctl` until it reads 0.
    pub fn listen(&mut self, now_ms: u64) -> Call {
        let mut link = Transfer::new(
            &self.options,
            self.chunk_size,
            now_ms.saturating_add(self.options.timeout_ms),
        );
        link.listen_only = true;
        link.receive();
        Call {
            kind: Kind::Listen,
            link,
            credentials: None,
            cnonce: 0,
            next_id: self.next_id,
            notifications: Vec::new(),
            stray: 0,
        }
    }

    fn absorb(&mut self, call: &mut Call) {
        if call.link.fell_back {
            self.chunk_size = call.link.chunk;
        }
        if let (Kind::Rpc(_), Some(creds)) = (&call.kind, call.credentials.take()) {
            self.credentials = Some(creds);
        }
        self.next_id = later_request_id(self.next_id, call.next_id);
        self.notifications.extend(call.notifications.drain(..));
        self.last_stats = call.stats();
    }

    /// Ends a call: the response (an RPC error such as 401 or -105 is a response, not an `Err`).
    /// Notifications received meanwhile go to [`Client::take_notifications`].
    pub fn finish(&mut self, mut call: Call) -> Result<Response, Error> {
        if !call.is_done() {
            return Err(Error::NotFinished);
        }
        self.absorb(&mut call);
        if let Phase::Failed(e) = call.link.phase {
            return Err(e);
        }
        match call.kind {
            Kind::Rpc(state) => state.response.ok_or(Error::NotFinished),
            Kind::Listen => Err(Error::NotFinished),
        }
    }

    /// Ends a [`Client::listen`] call; returns how many notifications arrived.
    pub fn finish_listen(&mut self, mut call: Call) -> Result<usize, Error> {
        if !call.is_done() || !matches!(call.kind, Kind::Listen) {
            return Err(Error::NotFinished);
        }
        let count = call.notifications.len();
        self.absorb(&mut call);
        match call.link.phase {
            Phase::Failed(e) => Err(e),
            _ => Ok(count),
        }
    }

    /// Notifications received so far, oldest first.
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        self.notifications.drain(..).collect()
    }
}

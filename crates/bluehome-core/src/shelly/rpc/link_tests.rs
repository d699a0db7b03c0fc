//! The client against the server over an in-memory link, with each transport fault injected.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use serde_json::{Value, json};

use super::client::{Action, Call, Client, Error, Feedback, Options};
use super::server::Server;
use super::{AttError, Characteristic, encode_len};
use crate::shelly::auth::{AuthParams, Challenge, Credentials, Nonce, ha1};
use crate::shelly::frame::{Frame, Id, Notification, Request, Response, RpcError};

type Handler = Box<dyn FnMut(&Request, u64) -> Response>;

/// A device: the transport server, a request handler and the faults to inject.
struct Link {
    server: Server,
    now: u64,
    handler: Handler,
    /// The next N data reads return nothing.
    empty_reads: u32,
    /// rx_ctl reports this instead of the real length.
    garbage_len: Option<u32>,
    /// Answers become readable this long after the request completes.
    delay_ms: u64,
    ready_at: Option<(u64, Vec<u8>)>,
    /// A frame with a foreign id goes out before each answer.
    wrong_id_first: bool,
    /// The link drops after this many data bytes were written.
    disconnect_after: Option<usize>,
    data_written: usize,
    /// Data writes longer than this fail.
    max_write: usize,
    /// Notifications sent along with the next answer.
    notify: Vec<Notification>,
    /// Every GATT operation, in order.
    log: Vec<String>,
}

fn echo(req: &Request, _now: u64) -> Response {
    Response {
        id: req.id.clone(),
        src: Some("sim-1".into()),
        dst: req.src.clone(),
        outcome: Ok(json!({ "method": req.method, "params": req.params })),
    }
}

/// A call of `A.B` whose request the device has taken, at time 1.
fn written_call(client: &mut Client) -> Call {
    let mut call = client.call("A.B", None, 0, 0);
    while let Action::Write { .. } = call.action() {
        call.advance(Feedback::Written, 1);
    }
    call
}

/// The request a client named "test" sends as call `id` of `method`, before any auth.
fn request(id: u64, method: &str, params: Option<Value>) -> Request {
    Request {
        id: Id::Num(id),
        src: Some("test".into()),
        method: method.into(),
        params,
        auth: None,
    }
}

impl Link {
    /// Request frames started so far: each begins with a write of its length to tx_ctl.
    fn frames_sent(&self) -> usize {
        self.log
            .iter()
            .filter(|l| l.starts_with("w tx_ctl"))
            .count()
    }

    fn new(handler: Handler) -> Self {
        Self {
            server: Server::new(247, 4096),
            now: 1_000,
            handler,
            empty_reads: 0,
            garbage_len: None,
            delay_ms: 0,
            ready_at: None,
            wrong_id_first: false,
            disconnect_after: None,
            data_written: 0,
            max_write: usize::MAX,
            notify: Vec::new(),
            log: Vec::new(),
        }
    }

    fn release(&mut self) {
        if self
            .ready_at
            .as_ref()
            .is_some_and(|(at, _)| self.now >= *at)
            && let Some((_, frame)) = self.ready_at.take()
        {
            self.server.push_response(frame);
        }
    }

    fn write(&mut self, ch: Characteristic, value: &[u8]) -> Feedback<'static> {
        self.log.push(alloc::format!("w {ch} {}", value.len()));
        if ch == Characteristic::Data {
            if value.len() > self.max_write {
                return Feedback::Failed(AttError::RequestNotSupported);
            }
            if let Some(limit) = self.disconnect_after
                && self.data_written + value.len() > limit
            {
                self.disconnect_after = None;
                self.server.disconnect();
                return Feedback::Failed(AttError::Disconnected);
            }
            self.data_written += value.len();
        }
        match self.server.write(ch, value) {
            Ok(Some(bytes)) => {
                let Ok(Frame::Request(req)) = Frame::parse(&bytes) else {
                    panic!(
                        "server got a non-request: {:?}",
                        String::from_utf8_lossy(&bytes)
                    )
                };
                let resp = (self.handler)(&req, self.now);
                if self.wrong_id_first {
                    let mut stale = resp.clone();
                    stale.id = Id::Num(999_999);
                    self.server.push_response(stale.to_bytes());
                }
                for n in self.notify.drain(..) {
                    self.server.push_notification(n.to_bytes());
                }
                self.ready_at = Some((self.now + self.delay_ms, resp.to_bytes()));
                self.release();
                Feedback::Written
            }
            Ok(None) => Feedback::Written,
            Err(e) => Feedback::Failed(e),
        }
    }

    fn read(&mut self, ch: Characteristic) -> Result<Vec<u8>, AttError> {
        self.log.push(alloc::format!("r {ch}"));
        self.release();
        if ch == Characteristic::Data && self.empty_reads > 0 {
            self.empty_reads -= 1;
            return Ok(Vec::new());
        }
        let value = self.server.read(ch)?;
        if ch == Characteristic::RxCtl
            && value != [0, 0, 0, 0]
            && let Some(garbage) = self.garbage_len
        {
            return Ok(garbage.to_be_bytes().to_vec());
        }
        Ok(value)
    }

    /// Drives `call` to completion; every operation takes 1 ms of simulated time.
    fn drive(&mut self, call: &mut Call) {
        for _ in 0..100_000 {
            let feedback_owned;
            let feedback = match call.action() {
                Action::Done => return,
                Action::Write {
                    characteristic,
                    value,
                } => {
                    let value = value.to_vec();
                    self.write(characteristic, &value)
                }
                Action::Read { characteristic } => match self.read(characteristic) {
                    Ok(v) => {
                        feedback_owned = v;
                        Feedback::Read(&feedback_owned)
                    }
                    Err(e) => Feedback::Failed(e),
                },
                Action::Sleep { until_ms } => {
                    assert!(until_ms >= self.now, "sleep into the past");
                    self.log
                        .push(alloc::format!("sleep {}", until_ms - self.now));
                    self.now = until_ms;
                    Feedback::Woke
                }
            };
            self.now += 1;
            call.advance(feedback, self.now);
        }
        panic!("call did not finish");
    }

    fn call(
        &mut self,
        client: &mut Client,
        method: &str,
        params: Option<Value>,
    ) -> Result<Response, Error> {
        let mut call = client.call(method, params, 77, self.now);
        self.drive(&mut call);
        client.finish(call)
    }
}

fn echo_link() -> Link {
    Link::new(Box::new(echo))
}

/// An echo device with `fault` injected, and a client named "test" whose first id is 1.
fn faulty(fault: impl FnOnce(&mut Link)) -> (Link, Client) {
    let mut link = echo_link();
    fault(&mut link);
    (link, Client::new("test", 1))
}

/// Calls `A.B` over `link` with a `pad` of `len` characters, through a client whose answers may
/// be at most `max` bytes: the call must fail as too large.
#[track_caller]
fn assert_too_large(mut link: Link, max: u32, len: usize) {
    let options = Options {
        max_response_len: max,
        ..Options::default()
    };
    let mut client = Client::with_options("test", 1, options);
    let err = call_padded(&mut link, &mut client, len).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { max: m, .. } if m == max),
        "{err:?}"
    );
}

/// Calls `A.B` with a `pad` parameter of `len` characters (the echo answers with it).
fn call_padded(link: &mut Link, client: &mut Client, len: usize) -> Result<Response, Error> {
    link.call(client, "A.B", Some(json!({ "pad": "p".repeat(len) })))
}

/// Calls `A.B` expecting it to fail: the error and how long the call took.
fn failed_call(link: &mut Link, client: &mut Client) -> (Error, u64) {
    let start = link.now;
    let err = link.call(client, "A.B", None).unwrap_err();
    (err, link.now - start)
}

fn result(resp: Response) -> Value {
    resp.outcome.expect("an RPC result")
}

#[test]
fn round_trip_with_multi_chunk_request_and_answer() {
    let mut link = echo_link();
    let mut client = Client::new("test", 1);
    let big = "x".repeat(1500);
    let resp = link
        .call(&mut client, "Test.Echo", Some(json!({ "blob": big })))
        .unwrap();
    assert_eq!(resp.id, Id::Num(1));
    assert_eq!(resp.dst.as_deref(), Some("test"));
    assert_eq!(result(resp)["params"]["blob"].as_str().unwrap().len(), 1500);
    // 4 data writes of at most 512 bytes for a ~1530-byte frame.
    let writes: Vec<_> = link
        .log
        .iter()
        .filter(|l| l.starts_with("w data"))
        .collect();
    assert_eq!(writes.len(), 4);
    assert!(link.log.first().unwrap().starts_with("w tx_ctl 4"));
    // The call's counts match what went over the link: the length and the frame out, the
    // length and the answer in.
    let stats = client.last_stats();
    let ops = link.log.iter().filter(|l| !l.starts_with("sleep")).count();
    assert_eq!(usize::try_from(stats.gatt_ops), Ok(ops));
    let request = request(1, "Test.Echo", Some(json!({ "blob": "x".repeat(1500) })));
    assert_eq!(stats.bytes_written, 4 + request.to_bytes().len());
    assert!(stats.bytes_read > 4 + 1500, "{stats:?}");
    // The next call uses the next id.
    let resp = link.call(&mut client, "Test.Echo", None).unwrap();
    assert_eq!(resp.id, Id::Num(2));
}

#[test]
fn zero_length_means_poll_again_after_the_interval() {
    let (mut link, mut client) = faulty(|l| l.delay_ms = 450);
    let resp = link.call(&mut client, "Slow.Thing", None).unwrap();
    assert_eq!(result(resp)["method"], "Slow.Thing");
    let sleeps = link.log.iter().filter(|l| *l == "sleep 100").count();
    assert!((4..=5).contains(&sleeps), "{:?}", link.log);
}

#[test]
fn empty_data_reads_are_retried() {
    let (mut link, mut client) = faulty(|l| l.empty_reads = 3);
    let resp = link.call(&mut client, "A.B", None).unwrap();
    assert_eq!(result(resp)["method"], "A.B");
    assert_eq!(link.log.iter().filter(|l| *l == "sleep 100").count(), 3);
}

/// Slow devices answer empty data reads for seconds after the length is known; aioshelly allows
/// 50 reads 100 ms apart (PR #992). 45 empty reads (about 4.5 s) still end in the answer.
#[test]
fn a_slow_device_gets_five_seconds_of_empty_reads() {
    let (mut link, mut client) = faulty(|l| l.empty_reads = 45);
    let start = link.now;
    let resp = link.call(&mut client, "A.B", None).unwrap();
    assert_eq!(result(resp)["method"], "A.B");
    assert!(link.now - start >= 4_500, "{}", link.now - start);
}

/// The empty-read allowance never outlives the call: with a 2 s deadline the call times out.
#[test]
fn empty_reads_stop_at_the_deadline() {
    let mut link = echo_link();
    link.empty_reads = 45;
    let options = Options {
        timeout_ms: 2_000,
        ..Options::default()
    };
    let mut client = Client::with_options("test", 1, options);
    let (err, elapsed) = failed_call(&mut link, &mut client);
    assert_eq!(
        err,
        Error::Timeout {
            waiting_for: "data"
        }
    );
    assert!(elapsed <= 2_001, "{elapsed}");
}

/// An empty read after part of the answer is a slow device too: retried, and the rest joined.
#[test]
fn an_empty_read_midway_is_retried() {
    let mut client = Client::new("test", 1);
    let mut call = written_call(&mut client);
    let answer = echo(call.request().unwrap(), 0).to_bytes();
    let len = u32::try_from(answer.len()).unwrap();
    call.advance(Feedback::Read(&encode_len(len)), 2);
    call.advance(Feedback::Read(&answer[..5]), 3);
    call.advance(Feedback::Read(&[]), 4);
    assert_eq!(call.action(), Action::Sleep { until_ms: 104 });
    call.advance(Feedback::Woke, 104);
    call.advance(Feedback::Read(&answer[5..]), 105);
    assert_eq!(client.finish(call).map(|r| r.id), Ok(Id::Num(1)));
}

/// Exactly [`Options::max_empty_reads`] empty reads in a row (50) are waited out; one more
/// ends the call as incomplete.
#[test]
fn empty_reads_are_tolerated_up_to_the_limit() {
    let (mut link, mut client) = faulty(|l| l.empty_reads = 50);
    assert!(link.call(&mut client, "A.B", None).is_ok());
    let (mut link, mut client) = faulty(|l| l.empty_reads = 51);
    let err = link.call(&mut client, "A.B", None).unwrap_err();
    assert!(
        matches!(err, Error::Incomplete { received: 0, .. }),
        "{err:?}"
    );
}

/// An answer of exactly [`Options::max_response_len`] bytes is taken; one byte more is refused.
#[test]
fn the_size_limit_is_inclusive() {
    let len = u32::try_from(echo(&request(1, "A.B", None), 0).to_bytes().len()).unwrap();
    let limited = |max| {
        let options = Options {
            max_response_len: max,
            ..Options::default()
        };
        echo_link().call(&mut Client::with_options("test", 1, options), "A.B", None)
    };
    assert!(limited(len).is_ok());
    assert!(matches!(limited(len - 1), Err(Error::TooLarge { .. })));
}

/// A length longer than the answer but within the limit (the garbage-length bug with a small
/// number): when reads run dry, a complete frame is the answer.
#[test]
fn a_length_longer_than_the_answer_ends_when_reads_run_dry() {
    let (mut link, mut client) = faulty(|l| l.garbage_len = Some(5_000));
    let resp = call_padded(&mut link, &mut client, 600).unwrap();
    assert_eq!(result(resp)["method"], "A.B");
}

/// Shelly 1PM Mini Gen4 reported 0x3213005f in rx_ctl while data held the frame (aioshelly #991).
#[test]
fn garbage_length_with_a_complete_frame_is_accepted() {
    let (mut link, mut client) = faulty(|l| l.garbage_len = Some(0x3213_005f));
    let resp = call_padded(&mut link, &mut client, 600).unwrap();
    assert_eq!(result(resp)["method"], "A.B");
}

#[test]
fn garbage_length_still_respects_the_size_limit() {
    let mut link = echo_link();
    link.garbage_len = Some(0x3213_005f);
    assert_too_large(link, 300, 600);
}

/// Smaller chunks cure a write refused for its size, not a dropped link; and a write already in
/// small chunks is not restarted. Either way the call fails with the write's error, after one
/// frame.
#[test]
fn only_a_large_write_that_failed_for_size_falls_back() {
    let small = Options {
        chunk_size: 20,
        ..Options::default()
    };
    for (options, fault, error) in [
        (
            Options::default(),
            (|l: &mut Link| l.disconnect_after = Some(30)) as fn(&mut Link),
            AttError::Disconnected,
        ),
        (small, |l| l.max_write = 10, AttError::RequestNotSupported),
    ] {
        let mut link = echo_link();
        fault(&mut link);
        let mut client = Client::with_options("test", 1, options.clone());
        let err = call_padded(&mut link, &mut client, 800).unwrap_err();
        assert!(
            matches!(err, Error::Gatt { error: e, .. } if e == error),
            "{err:?}"
        );
        assert_eq!(link.frames_sent(), 1, "{error:?}");
        assert_eq!(client.chunk_size(), options.chunk_size, "{error:?}");
    }
}

/// A deadline that passes while the request is still going out says so.
#[test]
fn a_deadline_during_the_write_names_the_write() {
    let options = Options {
        chunk_size: 20,
        ..Options::default()
    };
    let mut client = Client::with_options("test", 1, options);
    let mut call = client.call("A.B", Some(json!({ "pad": "p".repeat(100) })), 0, 0);
    call.advance(Feedback::Written, 10_000);
    assert_eq!(
        client.finish(call),
        Err(Error::Timeout {
            waiting_for: "write"
        })
    );
}

/// `finish_listen` takes only a finished listen, and passes on its failure.
#[test]
fn finish_listen_takes_only_a_listen() {
    let mut link = echo_link();
    let mut client = Client::new("test", 1);
    let mut call = client.call("A.B", None, 0, link.now);
    link.drive(&mut call);
    assert_eq!(client.finish_listen(call), Err(Error::NotFinished));
    let mut listen = client.listen(0);
    listen.advance(Feedback::Failed(AttError::Disconnected), 1);
    assert_eq!(
        client.finish_listen(listen),
        Err(Error::Gatt {
            characteristic: Characteristic::RxCtl,
            error: AttError::Disconnected
        })
    );
}

#[test]
fn failed_write_falls_back_to_20_byte_chunks_for_good() {
    let (mut link, mut client) = faulty(|l| l.max_write = 20);
    let resp = call_padded(&mut link, &mut client, 100).unwrap();
    assert_eq!(result(resp)["params"]["pad"].as_str().unwrap().len(), 100);
    assert_eq!(client.chunk_size(), 20);
    // The frame was restarted with tx_ctl after the failed 512-byte write.
    assert_eq!(link.frames_sent(), 2);
    link.log.clear();
    link.call(&mut client, "A.B", None).unwrap();
    assert!(
        link.log
            .iter()
            .filter(|l| l.starts_with("w data"))
            .all(|l| l["w data ".len()..].parse::<usize>().unwrap() <= 20)
    );
}

#[test]
fn too_large_announced_answer_is_refused() {
    assert_too_large(echo_link(), 64, 200);
}

#[test]
fn a_silent_device_times_out_at_the_deadline() {
    let (mut link, mut client) = faulty(|l| l.delay_ms = 1_000_000);
    let (err, elapsed) = failed_call(&mut link, &mut client);
    assert_eq!(
        err,
        Error::Timeout {
            waiting_for: "rx_ctl length"
        }
    );
    assert!((10_000..=10_002).contains(&elapsed), "{elapsed}");
}

#[test]
fn answers_with_foreign_ids_are_dropped() {
    let mut link = echo_link();
    link.wrong_id_first = true;
    let mut client = Client::new("test", 5);
    let resp = link.call(&mut client, "A.B", None).unwrap();
    assert_eq!(resp.id, Id::Num(5));
}

/// Exactly [`Options::max_stray_frames`] answers with other ids are passed over; one more ends
/// the call, saying how many were dropped.
#[test]
fn stray_answers_are_tolerated_up_to_the_limit() {
    let options = Options {
        max_stray_frames: 3,
        ..Options::default()
    };
    for (strays, outcome) in [
        (3, Ok(Id::Num(1))),
        (4, Err(Error::TooManyStrayFrames { dropped: 4 })),
    ] {
        let mut link = echo_link();
        for id in 0..strays {
            let stray = echo(&request(1_000 + id, "Old.Call", None), 0);
            link.server.push_response(stray.to_bytes());
        }
        let mut client = Client::with_options("test", 1, options.clone());
        assert_eq!(client.options().max_stray_frames, 3);
        let resp = link.call(&mut client, "A.B", None);
        assert_eq!(resp.map(|r| r.id), outcome, "{strays} strays");
    }
}

#[test]
fn notifications_are_routed_apart_from_the_response() {
    let mut link = echo_link();
    let event = Notification {
        src: Some("sim-1".into()),
        dst: None,
        method: Notification::EVENT.into(),
        params: json!({"ts": 1.0, "events": [{"component": "bthome", "event": "discovery_done", "device_count": 0}]}),
    };
    link.notify = vec![event.clone()];
    // The notification waits behind the answer: the call takes the answer and leaves the
    // notification queued on the device, for a listen.
    let mut client = Client::new("test", 1);
    let resp = link.call(&mut client, "A.B", None).unwrap();
    assert_eq!(resp.id, Id::Num(1));
    assert!(client.take_notifications().is_empty());
    let mut listen = client.listen(link.now);
    link.drive(&mut listen);
    assert_eq!(client.finish_listen(listen), Ok(1));
    assert_eq!(client.take_notifications(), vec![event]);
    // Nothing pending: listening ends after one rx_ctl read.
    link.log.clear();
    let mut listen = client.listen(link.now);
    link.drive(&mut listen);
    assert_eq!(client.finish_listen(listen), Ok(0));
    assert_eq!(link.log, ["r rx_ctl"]);
}

#[test]
fn notification_queued_before_the_answer_is_collected_during_the_call() {
    let mut link = echo_link();
    link.delay_ms = 200;
    link.server.push_notification(
        Notification {
            src: None,
            dst: None,
            method: Notification::STATUS.into(),
            params: json!({"ble": {}}),
        }
        .to_bytes(),
    );
    let mut client = Client::new("test", 1);
    link.call(&mut client, "A.B", None).unwrap();
    assert_eq!(client.take_notifications().len(), 1);
}

#[test]
fn disconnect_mid_frame_fails_the_call_and_the_next_call_works() {
    let mut link = echo_link();
    link.disconnect_after = Some(30);
    let options = Options {
        chunk_size: 20,
        ..Options::default()
    };
    let mut client = Client::with_options("test", 1, options);
    let err = call_padded(&mut link, &mut client, 80).unwrap_err();
    assert_eq!(
        err,
        Error::Gatt {
            characteristic: Characteristic::Data,
            error: AttError::Disconnected
        }
    );
    assert!(!link.server.receiving());
    let resp = link.call(&mut client, "A.C", None).unwrap();
    assert_eq!(result(resp)["method"], "A.C");
}

#[test]
fn gatt_read_errors_are_reported_with_the_characteristic() {
    let mut client = Client::new("test", 1);
    let mut call = written_call(&mut client);
    call.advance(Feedback::Failed(AttError::InsufficientAuthentication), 2);
    assert_eq!(
        client.finish(call),
        Err(Error::Gatt {
            characteristic: Characteristic::RxCtl,
            error: AttError::InsufficientAuthentication
        })
    );
}

#[test]
fn bad_control_value_and_bad_frames_fail_cleanly() {
    let mut client = Client::new("test", 1);
    let mut call = written_call(&mut client);
    call.advance(Feedback::Read(&[1, 2, 3]), 2);
    assert_eq!(client.finish(call), Err(Error::BadControlValue { len: 3 }));

    let mut call = written_call(&mut client);
    call.advance(Feedback::Read(&[0, 0, 0, 3]), 2);
    call.advance(Feedback::Read(b"{x}"), 3);
    assert!(matches!(client.finish(call), Err(Error::Frame(_))));
}

const REALM: &str = "shellyblugwg3-aabbccddeeff";

/// A handler that wants digest auth for everything, with HA1 of password "pw".
fn auth_handler() -> Handler {
    let stored = ha1(REALM, "pw");
    Box::new(move |req: &Request, now: u64| {
        let ok = req.auth.as_ref().is_some_and(|a: &AuthParams| {
            a.verify(&stored) && a.realm == REALM && a.nonce == 1_700_000_000.into()
        });
        let outcome = if ok {
            Ok(json!({ "authed": true, "nc": req.auth.as_ref().map(|a| a.nc) }))
        } else {
            let _ = now;
            Err(RpcError {
                code: 401,
                message: Challenge::new(REALM, 1_700_000_000).to_message(),
            })
        };
        Response {
            id: req.id.clone(),
            src: Some(REALM.into()),
            dst: req.src.clone(),
            outcome,
        }
    })
}

/// A device that wants auth, and a client whose first id is `first_id` with the password
/// `password` for it.
fn signed_in(first_id: u64, password: &str) -> (Link, Client) {
    let mut client = Client::new("test", first_id);
    client.set_credentials(Some(Credentials::from_password(REALM, password)));
    (Link::new(auth_handler()), client)
}

#[test]
fn a_401_is_retried_once_with_auth_and_nc_counts_up() {
    let (mut link, mut client) = signed_in(10, "pw");
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    // The retry went out under a fresh id.
    assert_eq!(resp.id, Id::Num(11));
    assert_eq!(result(resp), json!({"authed": true, "nc": 1}));
    // The next call carries auth up front (one request, nc 2).
    link.log.clear();
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    assert_eq!(resp.id, Id::Num(12));
    assert_eq!(result(resp)["nc"], 2);
    assert_eq!(link.frames_sent(), 1);
}

#[test]
fn wrong_password_returns_the_401_after_one_retry() {
    let (mut link, mut client) = signed_in(1, "nope");
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    assert_eq!(resp.outcome.unwrap_err().code, 401);
    assert_eq!(link.frames_sent(), 2);
}

/// A firmware 2.0 device, scripted: each answer is chosen from the request's `auth` (its nonce,
/// or none), and the requests are kept.
fn firmware_2_0(
    answer: impl Fn(Option<&AuthParams>) -> Result<Value, RpcError> + 'static,
) -> (Handler, Rc<RefCell<Vec<Option<AuthParams>>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&seen);
    let handler: Handler = Box::new(move |req: &Request, _now: u64| {
        log.borrow_mut().push(req.auth.clone());
        Response {
            id: req.id.clone(),
            src: Some(REALM.into()),
            dst: req.src.clone(),
            outcome: answer(req.auth.as_ref()),
        }
    });
    (handler, seen)
}

fn challenge(nonce: &str, stale: bool) -> RpcError {
    RpcError {
        code: 401,
        message: Challenge {
            stale,
            ..Challenge::new(REALM, Nonce::Text(nonce.into()))
        }
        .to_message(),
    }
}

/// Firmware 2.0 answers 429 once it throttles failed sign-ins or has no free nonce slot, even to
/// a correct answer of a nonce it has dropped. Answering that nonce again only counts as another
/// failed sign-in (home-assistant/core#177257): the next request goes without `auth`, and the
/// fresh 401 it gets is answered. Only a 429 drops the nonce: after another error (-105 here)
/// the next request still carries `auth` up front.
#[test]
fn after_a_429_the_next_request_asks_for_a_new_nonce() {
    const REFUSING: u8 = 1;
    const DROPPED: u8 = 2;
    let stored = ha1(REALM, "pw");
    let mode = Rc::new(Cell::new(0));
    let device_mode = Rc::clone(&mode);
    let (handler, seen) = firmware_2_0(move |auth| match (auth, device_mode.get()) {
        (None, DROPPED) => Err(challenge("B", false)),
        (None, _) => Err(challenge("A", false)),
        (Some(a), DROPPED) if a.nonce == Nonce::Text("A".into()) => Err(RpcError {
            code: 429,
            message: "Too many failed authentication attempts".into(),
        }),
        (Some(a), REFUSING) if a.verify(&stored) => Err(RpcError {
            code: -105,
            message: "Argument 'id' not found".into(),
        }),
        (Some(a), _) if a.verify(&stored) => Ok(json!({ "nonce": a.nonce.to_string() })),
        (Some(_), _) => Err(challenge("A", false)),
    });
    let mut link = Link::new(handler);
    let mut client = Client::new("test", 1);
    client.set_credentials(Some(Credentials::from_password(REALM, "pw")));
    let mut call_with = |state| {
        mode.set(state);
        link.call(&mut client, "Shelly.GetStatus", None)
            .unwrap()
            .outcome
    };
    assert_eq!(call_with(0), Ok(json!({"nonce": "A"})));
    assert_eq!(call_with(REFUSING).unwrap_err().code, -105);
    assert_eq!(call_with(DROPPED).unwrap_err().code, 429);
    assert_eq!(call_with(DROPPED), Ok(json!({"nonce": "B"})));
    let nonces: Vec<Option<String>> = seen
        .borrow()
        .iter()
        .map(|a| a.as_ref().map(|a| a.nonce.to_string()))
        .collect();
    let (a, b) = (Some("A".to_owned()), Some("B".to_owned()));
    assert_eq!(nonces, [None, a.clone(), a.clone(), a, None, b]);
}

/// A 401 to an answered challenge is a wrong password, unless it says the nonce went stale
/// meanwhile (RFC 7616 `stale`): then the new nonce is answered once more, and the call succeeds.
#[test]
fn a_stale_nonce_is_answered_again_not_taken_for_a_wrong_password() {
    let stored = ha1(REALM, "pw");
    let (handler, seen) = firmware_2_0(move |auth| match auth {
        None => Err(challenge("A", false)),
        Some(a) if a.nonce == Nonce::Text("A".into()) => Err(challenge("B", true)),
        Some(a) if a.verify(&stored) => Ok(json!({ "nonce": a.nonce.to_string() })),
        Some(_) => Err(challenge("B", false)),
    });
    let mut link = Link::new(handler);
    let mut client = Client::new("test", 1);
    client.set_credentials(Some(Credentials::from_password(REALM, "pw")));
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    assert_eq!(result(resp), json!({"nonce": "B"}));
    assert_eq!(seen.borrow().len(), 3);
    // Stale or not, a third 401 in one call is the answer: a wrong password cannot loop.
    let (handler, seen) = firmware_2_0(|_| Err(challenge("C", true)));
    let mut link = Link::new(handler);
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    assert_eq!(resp.outcome.unwrap_err().code, 401);
    assert_eq!(seen.borrow().len(), 3);
}

/// A 401 whose message is no challenge cannot be answered: the call fails saying so, rather
/// than passing the refusal on as if the password were wrong.
#[test]
fn a_401_without_a_usable_challenge_fails_the_call() {
    let (handler, _) = firmware_2_0(|_| {
        Err(RpcError {
            code: 401,
            message: "Unauthorized".into(),
        })
    });
    let mut link = Link::new(handler);
    let mut client = Client::new("test", 1);
    client.set_credentials(Some(Credentials::from_password(REALM, "pw")));
    let err = link
        .call(&mut client, "Shelly.GetStatus", None)
        .unwrap_err();
    assert!(matches!(err, Error::Challenge(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("bad auth challenge: 401 message is not"),
        "{err}"
    );
}

/// The words a log shows for each failure.
#[test]
fn errors_read_as_sentences() {
    let cases = [
        (
            Error::Gatt {
                characteristic: Characteristic::RxCtl,
                error: AttError::Disconnected,
            },
            "GATT operation on rx_ctl failed: ",
        ),
        (
            Error::Timeout {
                waiting_for: "data",
            },
            "timed out waiting for data",
        ),
        (
            Error::TooLarge {
                len: 70_000,
                max: 65_536,
            },
            "answer of 70000 bytes exceeds the 65536-byte limit",
        ),
        (
            Error::Incomplete {
                expected: 9,
                received: 4,
            },
            "answer incomplete: 4 of 9 bytes, then reads ran dry",
        ),
        (
            Error::Overrun {
                expected: 4,
                received: 9,
            },
            "answer overran its length: 9 bytes for 4 announced",
        ),
        (
            Error::BadControlValue { len: 3 },
            "rx_ctl held 3 bytes instead of a 4-byte length",
        ),
        (
            Error::TooManyStrayFrames { dropped: 17 },
            "dropped 17 answers with foreign ids",
        ),
        (
            Error::RequestTooLarge { len: 5 },
            "request of 5 bytes is too large",
        ),
    ];
    for (error, words) in cases {
        assert!(error.to_string().starts_with(words), "{error}");
    }
}

#[test]
fn without_credentials_a_401_is_just_the_answer() {
    let mut link = Link::new(auth_handler());
    let mut client = Client::new("test", 1);
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    let err = resp.outcome.unwrap_err();
    assert_eq!(err.code, 401);
    assert_eq!(Challenge::parse(&err.message).unwrap().realm, REALM);
    assert_eq!(link.frames_sent(), 1);
}

/// Request ids stay below 2^31 whatever the first id (a random 64-bit seed included) and wrap
/// to 1; the auth retry's id follows the same rule (closed firmware may keep ids in a signed
/// 32-bit field).
#[test]
fn request_ids_stay_below_two_to_the_31() {
    let mut link = echo_link();
    let mut client = Client::new("test", u64::MAX);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let resp = link.call(&mut client, "A.B", None).unwrap();
        let Id::Num(id) = resp.id else {
            panic!("numeric ids")
        };
        seen.push(id);
    }
    assert_eq!(seen, [(1 << 31) - 1, 1, 2]);
    let (mut link, mut client) = signed_in((1 << 31) - 1, "pw");
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    assert_eq!(resp.id, Id::Num(1), "the retry's id wrapped");
    let resp = link.call(&mut client, "Shelly.GetStatus", None).unwrap();
    assert_eq!(resp.id, Id::Num(2), "and is not handed out again");
}

/// A call finished after a later one started does not set the counter back: while calls
/// overlap, no id is handed out twice.
#[test]
fn a_call_finished_late_does_not_set_ids_back() {
    let mut link = echo_link();
    let mut client = Client::new("test", 10);
    let mut first = client.call("A.B", None, 0, link.now);
    let second = client.call("A.B", None, 0, link.now);
    assert_eq!(second.request().map(|r| &r.id), Some(&Id::Num(11)));
    link.drive(&mut first);
    assert_eq!(client.finish(first).map(|r| r.id), Ok(Id::Num(10)));
    let third = client.call("A.B", None, 0, link.now);
    assert_eq!(third.request().map(|r| &r.id), Some(&Id::Num(12)));
}

#[test]
fn finish_refuses_an_unfinished_call() {
    let mut client = Client::new("test", 1);
    let call = client.call("A.B", None, 0, 0);
    assert_eq!(client.finish(call), Err(Error::NotFinished));
}

#[test]
fn a_call_can_carry_its_own_absolute_deadline() {
    let mut link = echo_link();
    link.delay_ms = 15_000; // like WiFi.Scan
    let mut client = Client::new("test", 1);
    let start = link.now;
    let mut call = client
        .call("WiFi.Scan", None, 0, start)
        .with_deadline(start + 30_000);
    assert_eq!(call.deadline(), start + 30_000);
    link.drive(&mut call);
    assert!(client.finish(call).is_ok());
    assert!(link.now - start >= 15_000);
    // With the default 10 s it would have failed.
    let mut call = client.call("WiFi.Scan", None, 0, link.now);
    link.drive(&mut call);
    assert!(matches!(client.finish(call), Err(Error::Timeout { .. })));
}

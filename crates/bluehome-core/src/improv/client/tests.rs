//! The Improv client against a scripted device.

use super::*;
use crate::hex::fixture as hex;
use crate::improv::Command;
use crate::improv::rpc::{self, Auth, DeviceInfo, Network, RpcResult};

/// A scripted device: the value each characteristic reads, changed by the test between steps.
struct Script {
    state: u8,
    error: u8,
    result: Vec<u8>,
    capabilities: Option<u8>,
    /// Reading the result fails (the device stopped its service).
    result_gone: bool,
    written: Vec<Vec<u8>>,
    /// Reads of the result served.
    reads: usize,
    /// Reads of the error served.
    error_reads: usize,
}

impl Script {
    fn new(state: u8) -> Self {
        Self {
            state,
            error: 0,
            result: Vec::new(),
            capabilities: Some(0x07),
            result_gone: false,
            written: Vec::new(),
            reads: 0,
            error_reads: 0,
        }
    }

    /// Wakes the client at the time it asked to, and serves it then; returns that time.
    fn wake(&mut self, client: &mut Client) -> u64 {
        let now = sleep_until(client);
        self.wake_at(client, now);
        now
    }

    /// Wakes and serves the client each time it asks until it is done; returns the time it last
    /// woke (`now` if it never slept).
    fn wake_until_done(&mut self, client: &mut Client, mut now: u64) -> u64 {
        while !matches!(client.action(), Action::Done) {
            now = self.wake(client);
        }
        now
    }

    /// Wakes the client at `now` and serves it then.
    fn wake_at(&mut self, client: &mut Client, now: u64) {
        client.advance(Feedback::Woke, now);
        self.serve(client, now);
    }

    /// Performs the client's actions until it sleeps or is done; returns how many it did.
    fn serve(&mut self, client: &mut Client, now: u64) -> usize {
        for ops in 0..50 {
            let (value, feedback_kind) = match client.action() {
                Action::Read { characteristic } => match characteristic {
                    Characteristic::State => (alloc::vec![self.state], true),
                    Characteristic::Error => {
                        self.error_reads += 1;
                        (alloc::vec![self.error], true)
                    }
                    Characteristic::RpcResult => {
                        self.reads += 1;
                        (self.result.clone(), !self.result_gone)
                    }
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

/// A connected client that has just been asked to join HomeNet with `password` (at time 0).
fn joining(script: &mut Script, password: &str) -> Client {
    let mut client = connected(script);
    client
        .send_wifi(Credentials::new("HomeNet", password).unwrap(), 0)
        .unwrap();
    client
}

/// An authorized device whose client has written the Wi-Fi settings with `password` (the
/// client's first round served at time 0).
fn written(password: &str) -> (Script, Client) {
    written_over_error(0x00, password)
}

/// As [`written`], on a device whose error still reads `error` from an earlier attempt.
fn written_over_error(error: u8, password: &str) -> (Script, Client) {
    let mut script = Script::new(0x02);
    script.error = error;
    let mut client = joining(&mut script, password);
    script.serve(&mut client, 0);
    (script, client)
}

/// A connected client of a device that wants authorization, just asked to wait for the button
/// (at time 0).
fn awaiting_authorization() -> (Script, Client) {
    let mut script = Script::new(0x01);
    let mut client = connected(&mut script);
    client.await_authorization(0).unwrap();
    (script, client)
}

/// A connected, authorized client that has just made the request `ask` (its first round served
/// at time 0).
fn asked(ask: fn(&mut Client, u64) -> Result<(), Error>) -> (Script, Client) {
    let mut script = Script::new(0x02);
    let mut client = connected(&mut script);
    ask(&mut client, 0).unwrap();
    script.serve(&mut client, 0);
    (script, client)
}

/// A connected client that has just asked for the device's information (at time 0).
fn asked_for_device_info() -> (Script, Client) {
    asked(Client::request_device_info)
}

/// The networks a finished scan listed (panics naming what came instead).
#[track_caller]
fn listed(client: &mut Client) -> Vec<Network> {
    match client.take_outcome() {
        Some(Ok(Response::Networks(list))) => list,
        other => panic!("no networks: {other:?}"),
    }
}

/// A connected, authorized client that has just been asked to scan for networks (at time 0).
fn asked_to_scan() -> (Script, Client) {
    asked(Client::scan_wifi)
}

/// Three networks a scan hears, strongest first.
fn three_networks() -> [Network; 3] {
    [
        network("HomeNet", -48, Auth::Wpa2),
        network("Guest", -70, Auth::Open),
        network("Neighbour", -80, Auth::Required),
    ]
}

/// What Tasmota's Berry Improv example reports about itself: its result is 47 bytes long.
fn tasmota_info() -> DeviceInfo {
    DeviceInfo::of("Tasmota", "14.4.1", "ESP32-C3", "tasmota-1A2B3C-2748")
}

/// The Wi-Fi settings command's result naming `url`, encoded.
fn joined(url: &str) -> Vec<u8> {
    RpcResult {
        command: Command::WifiSettings,
        strings: alloc::vec![url.as_bytes().to_vec()],
    }
    .encode()
    .unwrap()
}

/// The client's outcome is "provisioned", with the redirect URL `url`.
#[track_caller]
fn assert_provisioned_to(client: &mut Client, url: &str) {
    let Some(Ok(Response::Provisioned {
        redirect: Some(redirect),
        redirect_error: None,
    })) = client.take_outcome()
    else {
        panic!("not provisioned")
    };
    assert_eq!(redirect.as_str(), url);
}

/// The client's outcome is "provisioned", with no redirect URL and no problem with one.
#[track_caller]
fn assert_provisioned_without_url(client: &mut Client) {
    assert_eq!(
        client.take_outcome(),
        Some(Ok(Response::Provisioned {
            redirect: None,
            redirect_error: None
        }))
    );
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
    assert_eq!(client.capabilities(), Some(Capabilities(0x07)));
    assert!(!client.notifications_seen(), "nothing was notified");
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

/// Wi-Fi settings need authorization: nothing is written while it is required. The state is
/// read again before the settings go out, for authorization runs out (ESPHome's
/// `authorized_duration`, one minute by default, puts the state back to "authorization
/// required"): a device authorized when the page connected may no longer be.
#[test]
fn wifi_settings_wait_for_authorization_without_writing() {
    for state_when_connected in [0x01, 0x02] {
        let mut script = Script::new(state_when_connected);
        let mut client = connected(&mut script);
        script.state = 0x01;
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
        script.wake_at(&mut client, 520);
        assert_eq!(client.take_outcome(), Some(Ok(Response::Authorized)));
    }
}

#[test]
fn authorization_times_out() {
    let (mut script, mut client) = awaiting_authorization();
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

/// A service that stops (state 0x00, sdk-cpp `STATE_STOPPED`) while the page waits for the
/// button ends the wait at once, rather than at its two-minute deadline.
#[test]
fn a_stopped_service_ends_the_wait_for_authorization() {
    let (mut script, mut client) = awaiting_authorization();
    script.serve(&mut client, 0);
    script.state = 0x00;
    let now = script.wake(&mut client);
    assert!(now < 120_000, "{now}");
    assert_eq!(
        client.take_outcome(),
        Some(Err(Error::WrongState(State::Stopped)))
    );
}

/// Polling only: provisioning → provisioned, then the result's first string is the URL.
#[test]
fn provisioning_by_polling_ends_with_the_redirect_url() {
    let (mut script, mut client) = written("correct horse");
    let creds = Credentials::new("HomeNet", "correct horse").unwrap();
    assert_eq!(script.written, [Request::WifiSettings(creds).encode()]);
    script.state = 0x03;
    assert_eq!(script.wake(&mut client), 500);
    script.state = 0x04;
    script.result = joined("http://192.168.1.42");
    assert_eq!(script.wake(&mut client), 1000);
    assert_provisioned_to(&mut client, "http://192.168.1.42");
}

/// ESPHome notifies the RPC result before the "provisioned" state (esphome
/// `components/esp32_improv/esp32_improv_component.cpp`: the result is sent, then the state set):
/// the redirect URL is kept and the outcome comes with the state.
#[test]
fn a_result_notified_before_the_provisioned_state_is_kept() {
    let (mut script, mut client) = written("correct horse");
    client.notified(Characteristic::State, &[0x03], 100);
    let result = joined("http://192.168.1.42");
    client.notified(Characteristic::RpcResult, &result, 2_000);
    assert_eq!(
        client.take_outcome(),
        None,
        "not provisioned before the state says so"
    );
    client.notified(Characteristic::State, &[0x04], 2_010);
    script.state = 0x04;
    script.result = result;
    script.serve(&mut client, 2_010);
    assert_provisioned_to(&mut client, "http://192.168.1.42");
}

/// ESPHome on a failed join: error 3 "unable to connect", state back to authorized.
#[test]
fn unable_to_connect_fails_with_the_device_error() {
    let (mut script, mut client) = written("wrong");
    script.error = 0x03;
    assert_eq!(script.wake(&mut client), 500);
    assert_eq!(
        client.take_outcome(),
        Some(Err(Error::Device(ErrorCode::UnableToConnect)))
    );
}

/// The error of an earlier failed attempt does not fail the next one before the device has
/// shown it processed the new command: the state "provisioning", or the error cleared to 0 (when
/// no read caught the state between).
#[test]
fn a_stale_error_counts_only_after_progress() {
    let progress: [fn(&mut Script); 2] = [|s| s.state = 0x03, |s| s.error = 0x00];
    for (case, shows_progress) in progress.into_iter().enumerate() {
        let (mut script, mut client) = written_over_error(0x03, "correct horse");
        assert!(
            matches!(client.action(), Action::Sleep { .. }),
            "still waiting"
        );
        shows_progress(&mut script);
        script.wake_at(&mut client, 500);
        assert!(
            matches!(client.action(), Action::Sleep { .. }),
            "case {case}"
        );
        // Failed again: authorized, the error reads 3.
        (script.state, script.error) = (0x02, 0x03);
        script.wake_at(&mut client, 1000);
        assert_eq!(
            client.take_outcome(),
            Some(Err(Error::Device(ErrorCode::UnableToConnect))),
            "case {case}"
        );
    }
}

/// Wi-Fi settings go only to a device waiting for them: one already provisioning, provisioned
/// or stopped is refused before anything is written (ESPHome answers such a write with error
/// 0x04 "not authorized" at best).
#[test]
fn wifi_settings_are_not_sent_to_a_device_past_authorized() {
    for (byte, state) in [
        (0x03, State::Provisioning),
        (0x04, State::Provisioned),
        (0x00, State::Stopped),
    ] {
        let mut script = Script::new(byte);
        let mut client = connected(&mut script);
        let creds = Credentials::new("HomeNet", "correct horse").unwrap();
        client.send_wifi(creds, 10).unwrap();
        script.serve(&mut client, 10);
        assert_eq!(client.take_outcome(), Some(Err(Error::WrongState(state))));
        assert!(script.written.is_empty(), "{state:?}");
    }
}

/// ESPHome notifies "provisioning" as soon as it handles the command, which can be before the
/// browser reports the write done: that belongs to this command, not a reason to refuse it.
#[test]
fn notifications_before_the_write_is_acknowledged_count_for_the_command() {
    let mut script = Script::new(0x02);
    let mut client = joining(&mut script, "correct horse");
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
    let redirect = joined("https://example.org/next");
    client.notified(Characteristic::State, &[0x03], 5);
    client.notified(Characteristic::State, &[0x04], 6);
    client.notified(Characteristic::RpcResult, &redirect, 7);
    assert!(
        client.take_outcome().is_none(),
        "nothing before the write is done"
    );
    client.advance(Feedback::Written, 8);
    assert_provisioned_to(&mut client, "https://example.org/next");
}

/// A device that never clears an earlier error still succeeds: "provisioned" settles it.
#[test]
fn provisioned_wins_over_an_error_left_from_an_earlier_attempt() {
    let (mut script, mut client) = written_over_error(0x03, "correct horse");
    script.state = 0x04; // joined; the error still reads 3
    script.result = RpcResult {
        command: Command::WifiSettings,
        strings: alloc::vec![],
    }
    .encode()
    .unwrap();
    script.wake_at(&mut client, 500);
    assert_provisioned_without_url(&mut client);
}

/// Notifications finish a task between polls, and slow the polling down afterwards.
#[test]
fn notifications_answer_at_once() {
    let (mut script, mut client) = asked_for_device_info();
    assert_eq!(sleep_until(&client), 500);
    let info = DeviceInfo::of("ESPHome", "2026.1.0", "ESP32-C3", "Porch light");
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
    script.result = Network::encoded_list(&[Network::of("HomeNet", -50, Auth::Wpa2)]);
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
    let list = listed(&mut client);
    assert_eq!(list[0].ssid_text(), "HomeNet");
}

#[test]
fn a_corrupt_new_result_is_a_typed_error_with_its_offset() {
    let (mut script, mut client) = asked_for_device_info();
    // Device info with one string and a checksum off by one.
    script.result = hex("0302014153");
    script.wake_at(&mut client, 500);
    assert_eq!(
        client.take_outcome(),
        Some(Err(Error::Rpc(rpc::Error::Checksum {
            offset: 4,
            expected: 0x47,
            found: 0x53
        })))
    );
}

/// A result left from an earlier command does not shield the new one: a corrupt new result
/// read (not notified) is still this command's typed error.
#[test]
fn a_corrupt_result_after_an_older_valid_one_is_a_typed_error() {
    let mut script = Script::new(0x02);
    script.result = joined("http://192.168.1.42");
    let mut client = connected(&mut script);
    client.request_device_info(0).unwrap();
    script.serve(&mut client, 0);
    script.result = hex("0302014153");
    script.wake_at(&mut client, 500);
    assert!(matches!(
        client.take_outcome(),
        Some(Err(Error::Rpc(rpc::Error::Checksum { offset: 4, .. })))
    ));
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
        &DeviceInfo::of("a", "b", "c", "d")
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

/// ESPHome before 2026.6 answers a read with the value's first 22 bytes (esphome/esphome#16420):
/// a redirect URL's result read whole does not fit. The device said "provisioned", so it is; the
/// URL is not known. Before, the task failed although the device had joined the network.
#[test]
fn a_result_cut_short_after_provisioned_is_still_provisioned() {
    let (mut script, mut client) = written("correct horse");
    script.state = 0x04;
    let url = "http://192.168.1.43:80";
    script.result = joined(url)[..22].to_vec();
    script.wake(&mut client);
    let Some(Ok(Response::Provisioned {
        redirect: None,
        redirect_error: Some(_),
    })) = client.take_outcome()
    else {
        panic!("not provisioned")
    };
}

/// ESPHome stops its Improv service seconds after provisioning (`esp32_improv` `stop()`): a read
/// that fails then does not undo "provisioned".
#[test]
fn a_read_failing_after_provisioned_is_still_provisioned() {
    let (mut script, mut client) = written("correct horse");
    script.state = 0x04;
    script.result_gone = true;
    script.wake(&mut client);
    assert_provisioned_without_url(&mut client);
}

/// A notification holds at most the link's MTU − 3 bytes (20 on a default link; ESP-IDF cuts a
/// longer value, espressif/esp-idf#3315): the cut result is not taken for the answer, and the read
/// after "provisioned" gets the URL whole.
#[test]
fn a_result_notification_cut_short_is_read_again() {
    let (mut script, mut client) = written("correct horse");
    let result = joined("http://192.168.1.43:80");
    client.notified(Characteristic::RpcResult, &result[..20], 2_000);
    client.notified(Characteristic::State, &[0x04], 2_010);
    script.state = 0x04;
    script.result = result;
    script.wake(&mut client);
    assert_provisioned_to(&mut client, "http://192.168.1.43:80");
}

/// Tasmota's Berry Improv example (`Staars/berry-examples`, `ble/improv.be`, `sendRPCresult`)
/// notifies a result frame in parts of 20 bytes: the parts are joined by the frame's length byte
/// and answer at once. Before, each part was left aside as a result that does not parse.
#[test]
fn a_result_notified_in_parts_is_joined() {
    let (_script, mut client) = asked_for_device_info();
    let info = tasmota_info();
    let bytes = info.to_result().encode().unwrap();
    assert_eq!(bytes.len(), 47);
    let parts: Vec<&[u8]> = bytes.chunks(20).collect();
    client.notified(Characteristic::RpcResult, parts[0], 100);
    client.notified(Characteristic::RpcResult, parts[1], 200);
    assert_eq!(client.take_outcome(), None, "two parts of three");
    client.notified(Characteristic::RpcResult, parts[2], 300);
    assert_eq!(client.take_outcome(), Some(Ok(Response::DeviceInfo(info))));
}

/// The redirect URL's result in two parts, the device's value holding only the last part (as
/// Tasmota's example leaves it): the joined result gives the URL, and the read after
/// "provisioned" does not replace it with the part. Before, the read's part made the URL "not
/// arrived whole".
#[test]
fn a_redirect_notified_in_parts_is_kept() {
    let (mut script, mut client) = written("correct horse");
    client.notified(Characteristic::State, &[0x03], 100);
    let url = "http://192.168.1.43:80/setup";
    let result = joined(url);
    let (first, last) = result.split_at(20);
    client.notified(Characteristic::RpcResult, first, 2_000);
    client.notified(Characteristic::RpcResult, last, 2_100);
    client.notified(Characteristic::State, &[0x04], 2_110);
    script.state = 0x04;
    script.result = last.to_vec();
    script.serve(&mut client, 2_110);
    assert_provisioned_to(&mut client, url);
}

/// Feeds a notification of the RPC result as the app does, and when the client then wants to
/// poll at once, wakes it and serves its reads at that time.
fn notify_and_serve(script: &mut Script, client: &mut Client, value: &[u8], now: u64) {
    client.notified(Characteristic::RpcResult, value, now);
    if let Action::Sleep { until_ms } = client.action()
        && until_ms <= now
    {
        script.wake_at(client, now);
    }
}

/// Parts whose joined frame is broken (a wrong checksum, more bytes than the length byte
/// declares) do not end the task: the result is read at once and polled, and nothing valid by the
/// deadline fails it with the parts' error. Before, the task failed at once.
#[test]
fn parts_that_join_into_no_result_fall_back_to_reading() {
    let info = tasmota_info();
    let good = info.to_result().encode().unwrap();
    let checksum = good[46];
    let mut corrupt = good.clone();
    corrupt[46] = checksum.wrapping_add(1);
    let mut long = good.clone();
    long.push(0x00);
    let expected = [
        rpc::Error::Checksum {
            offset: 46,
            expected: checksum,
            found: checksum.wrapping_add(1),
        },
        rpc::Error::TrailingBytes { offset: 47 },
    ];
    for (bytes, error) in [&corrupt, &long].into_iter().zip(expected) {
        let (mut script, mut client) = asked_for_device_info();
        let reads = |s: &Script| s.reads;
        let before = reads(&script);
        for (i, part) in bytes.chunks(20).enumerate() {
            let now = 100 * (i as u64 + 1);
            notify_and_serve(&mut script, &mut client, part, now);
            assert_eq!(client.take_outcome(), None, "part {i}");
        }
        assert!(reads(&script) > before, "the result is read at once");
        assert_eq!(
            sleep_until(&client),
            800,
            "then polled as without notifications"
        );
        let now = script.wake_until_done(&mut client, 0);
        assert_eq!(now, 10_000);
        assert_eq!(client.take_outcome(), Some(Err(Error::Rpc(error))));
    }
    // The same broken parts, and a value read whole: that is the answer.
    let (mut script, mut client) = asked_for_device_info();
    for (i, part) in corrupt.chunks(20).enumerate() {
        client.notified(Characteristic::RpcResult, part, 100 * (i as u64 + 1));
    }
    script.result = good;
    script.wake(&mut client);
    assert_eq!(client.take_outcome(), Some(Ok(Response::DeviceInfo(info))));
}

/// A notification cut to the MTU (ESP-IDF, espressif/esp-idf#3315) never continued, then the
/// answer in parts of 20 bytes (Tasmota's way): the cut part is dropped and the parts joined.
/// Before, the cut part and the first part were joined and the task failed with `TrailingBytes`.
#[test]
fn a_cut_notification_then_a_result_in_parts_is_joined() {
    let (mut script, mut client) = asked_for_device_info();
    let cut = joined("http://a.b/c");
    assert_eq!(cut.len(), 16);
    notify_and_serve(&mut script, &mut client, &cut[..10], 100);
    let info = tasmota_info();
    let bytes = info.to_result().encode().unwrap();
    for (i, part) in bytes.chunks(20).enumerate() {
        assert_eq!(client.take_outcome(), None);
        let now = 200 + 100 * i as u64;
        notify_and_serve(&mut script, &mut client, part, now);
    }
    assert_eq!(client.take_outcome(), Some(Ok(Response::DeviceInfo(info))));
}

/// The last part never comes, and the device's value holds the first (Tasmota's example): the
/// task waits and ends at its deadline, as any unanswered command. Before, the part read was
/// taken for a broken result at once.
#[test]
fn a_result_whose_last_part_never_comes_times_out() {
    let (mut script, mut client) = asked_for_device_info();
    let bytes = tasmota_info().to_result().encode().unwrap();
    client.notified(Characteristic::RpcResult, &bytes[..20], 100);
    script.result = bytes[..20].to_vec();
    let now = script.wake_until_done(&mut client, 100);
    assert_eq!(now, 10_000);
    assert_eq!(
        client.take_outcome(),
        Some(Err(Error::Timeout {
            waiting_for: "RPC result"
        }))
    );
}

fn network(ssid: &str, rssi: i16, auth: Auth) -> Network {
    Network::of(ssid, rssi, auth)
}

fn scan_result(networks: &[Network]) -> Vec<u8> {
    Network::encoded_list(networks)
}

/// The result of a scan answered one network per result: `n`'s.
fn one(n: &Network) -> Vec<u8> {
    scan_result(core::slice::from_ref(n))
}

/// Improv serial answers a scan with one result per network and an empty result to end the list
/// (improv-wifi.com/serial), and Tasmota's Berry example does so over BLE (`Staars/berry-examples`,
/// `ble/improv.be`, `sendAPInfo`): every network is collected until the empty result, one per
/// SSID, the strongest. Before, the first network was the whole answer.
#[test]
fn a_scan_answered_one_network_per_result_is_collected() {
    let (_script, mut client) = asked_to_scan();
    let heard = [
        network("HomeNet", -61, Auth::Wpa2),
        network("Guest", -70, Auth::Open),
        network("HomeNet", -48, Auth::Wpa2),
        network("Neighbour", -80, Auth::Required),
    ];
    for (i, n) in heard.iter().enumerate() {
        client.notified(Characteristic::RpcResult, &one(n), 2_000 + 100 * i as u64);
        assert_eq!(client.take_outcome(), None, "more may follow {i}");
    }
    client.notified(Characteristic::RpcResult, &scan_result(&[]), 2_400);
    assert_eq!(
        listed(&mut client),
        alloc::vec![
            network("HomeNet", -48, Auth::Wpa2),
            network("Guest", -70, Auth::Open),
            network("Neighbour", -80, Auth::Required),
        ]
    );
}

/// A single network and no empty result after it (a device that follows the BLE specification
/// and sees one network): the list counts as complete once nothing more came for
/// `scan_list_quiet_ms`, and the client wakes for it.
#[test]
fn a_list_without_its_empty_end_counts_after_a_quiet_time() {
    let mut script = Script::new(0x02);
    let mut client = connected(&mut script);
    client.notified(Characteristic::State, &[0x02], 0);
    client.scan_wifi(0).unwrap();
    script.serve(&mut client, 0);
    let only = scan_result(&[network("HomeNet", -48, Auth::Wpa2)]);
    client.notified(Characteristic::RpcResult, &only, 1_500);
    script.result = only;
    assert_eq!(client.take_outcome(), None);
    assert_eq!(
        sleep_until(&client),
        2_000,
        "the safety-net poll comes first"
    );
    assert_eq!(script.wake(&mut client), 2_000);
    assert_eq!(
        sleep_until(&client),
        3_500,
        "then the end of the quiet time"
    );
    assert_eq!(script.wake(&mut client), 3_500);
    assert_eq!(
        listed(&mut client),
        alloc::vec![network("HomeNet", -48, Auth::Wpa2)]
    );
}

/// The BLE specification's one result with every network answers at once, as before; an SSID
/// listed twice is kept once, heard strongest.
#[test]
fn a_scan_in_one_result_answers_at_once_one_network_per_ssid() {
    let (_script, mut client) = asked_to_scan();
    let all = scan_result(&[
        network("Mesh", -71, Auth::Wpa2),
        network("Guest", -60, Auth::Open),
        network("Mesh", -52, Auth::Wpa3),
    ]);
    client.notified(Characteristic::RpcResult, &all, 2_000);
    assert_eq!(
        listed(&mut client),
        alloc::vec![
            network("Mesh", -52, Auth::Wpa3),
            network("Guest", -60, Auth::Open),
        ]
    );
}

/// A scan by polling only: the result is read every 50 ms (the error every 500 ms), so a device
/// replacing one network's result with the next every 200 ms is read once per network, and the
/// empty result ends the list when it is read. Before, both were read every 500 ms and the
/// networks between two reads were missed.
#[test]
fn a_scan_by_polling_reads_the_result_fast_and_lists_every_network() {
    let (mut script, mut client) = asked_to_scan();
    let heard = three_networks();
    let mut now = 0;
    let (reads, error_reads) = (script.reads, script.error_reads);
    while !matches!(client.action(), Action::Done) {
        let until = sleep_until(&client);
        assert!(until - now <= 50, "{now} → {until}");
        // One network every 200 ms from 2 s, then the empty end.
        script.result = match until.checked_sub(2_000).map(|t| (t / 200) as usize) {
            None => Vec::new(),
            Some(i) if i < heard.len() => one(&heard[i]),
            Some(_) => scan_result(&[]),
        };
        now = until;
        script.wake_at(&mut client, now);
        assert!(now < 5_000, "never ends");
    }
    assert_eq!(listed(&mut client), heard.to_vec());
    assert_eq!(now, 2_600);
    assert_eq!(script.reads - reads, 52, "every 50 ms to 2.6 s");
    assert_eq!(script.error_reads - error_reads, 5, "every 500 ms");
}

/// Polling only, one network per result and no empty result at the end: the list counts as
/// complete once nothing new was read for `scan_list_quiet_ms`; a value that is no result (a
/// part) meanwhile is left aside, not taken for a broken list.
#[test]
fn a_list_read_by_polling_without_its_end_counts_after_a_quiet_time() {
    let (mut script, mut client) = asked_to_scan();
    let [home, guest, _] = three_networks();
    script.result = one(&home);
    let first = script.wake(&mut client);
    assert_eq!(first, 50);
    script.result = one(&guest);
    assert_eq!(script.wake(&mut client), 100);
    script.result = scan_result(&[network("Neighbour", -80, Auth::Wpa2)])[..15].to_vec();
    let now = script.wake_until_done(&mut client, 100);
    assert_eq!(now, 2_100);
    assert_eq!(listed(&mut client), [home, guest]);
}

/// A device with no network in range, by polling: its empty result is the answer when it is
/// read. (The networks a device notified ahead of an empty end come with the read's answer and
/// are taken first, `networks_notified_at_once_during_a_polled_read_of_the_end_are_listed`.)
/// Before, the empty result was taken a round later in case notifications were queued behind it.
#[test]
fn an_empty_scan_read_by_polling_is_the_answer() {
    let (mut script, mut client) = asked_to_scan();
    script.result = scan_result(&[]);
    assert_eq!(script.wake(&mut client), 50);
    assert_eq!(listed(&mut client), Vec::new());
    assert_eq!(client.action(), Action::Done);
}

/// Answers the client's pending read of `c` with `value`, together with the notifications that
/// came while the read was under way (as the app's driver hands them over).
#[track_caller]
fn read_answered(
    client: &mut Client,
    c: Characteristic,
    during: &[(Characteristic, &[u8])],
    value: &[u8],
    now: u64,
) {
    assert_eq!(client.action(), Action::Read { characteristic: c });
    client.advance_after(during.iter().copied(), Feedback::Read(value), now);
}

/// Notifications that came while a read was under way were sent before its answer: the device's
/// notifications and its answer to the read arrive in the order it sent them, and the browser
/// fires the notification events before it resolves the read's promise (Chromium's
/// `bluetooth_remote_gatt_characteristic.cc`, `ReadValueCallback`). "Provisioning" notified during
/// the read of the state that answers "provisioned" is the older state: the client ends knowing
/// "provisioned". Before, the read was taken first and the notification after it, and the page
/// went on showing "provisioning" next to the device's address.
#[test]
fn a_state_notified_during_a_read_is_older_than_the_read() {
    let (mut script, mut client) = written("correct horse");
    let url = "http://192.168.1.43:80";
    script.result = joined(url);
    script.state = 0x04;
    let now = sleep_until(&client);
    client.advance(Feedback::Woke, now);
    read_answered(
        &mut client,
        Characteristic::State,
        &[(Characteristic::State, &[0x03])],
        &[0x04],
        now,
    );
    script.serve(&mut client, now);
    assert_provisioned_to(&mut client, url);
    assert_eq!(client.state(), Some(State::Provisioned));
}

/// A device answering a scan one network per result (Tasmota's Berry example,
/// `Staars/berry-examples`, `ble/improv.be`, `sendAPInfo`) notifies the last network and the empty
/// end while the client's safety-net read of the result is under way, and the read answers the
/// end: the network notified before it is listed. Before, the end read first closed the list and
/// the last network, taken after, was lost.
#[test]
fn networks_notified_during_the_read_of_the_end_are_listed() {
    let (mut script, mut client) = asked_to_scan();
    let home = network("HomeNet", -48, Auth::Wpa2);
    let guest = network("Guest", -70, Auth::Open);
    client.notified(Characteristic::RpcResult, &one(&home), 1_000);
    assert_eq!(client.take_outcome(), None);
    let now = sleep_until(&client);
    client.advance(Feedback::Woke, now);
    let end = scan_result(&[]);
    let guest_result = one(&guest);
    read_answered(
        &mut client,
        Characteristic::RpcResult,
        &[
            (Characteristic::RpcResult, &guest_result),
            (Characteristic::RpcResult, &end),
        ],
        &end,
        now,
    );
    script.result = end;
    script.serve(&mut client, now);
    let outcome = client.take_outcome();
    assert_eq!(
        outcome,
        Some(Ok(Response::Networks(alloc::vec![home, guest])))
    );
}

/// The connection's first reads: an error notified while the error is read is older than the
/// read's answer, which the client waits for. Before, the read's answer was taken first and the
/// older error after it; taken in the right order but without waiting, the notification would
/// have ended the task with the older error and the read's answer been dropped.
#[test]
fn an_error_notified_while_connecting_waits_for_the_error_read() {
    let mut client = Client::new(Options::default(), 0);
    client.advance(Feedback::Read(&[0x07]), 0);
    client.advance(Feedback::Read(&[0x02]), 0);
    read_answered(
        &mut client,
        Characteristic::Error,
        &[(Characteristic::Error, &[0x03])],
        &[0x00],
        10,
    );
    assert_eq!(
        client.take_outcome(),
        Some(Ok(Response::Connected {
            capabilities: Capabilities(0x07),
            state: State::Authorized,
            error: ErrorCode::NoError,
        }))
    );
    assert_eq!(client.error(), Some(ErrorCode::NoError));
}

/// ESPHome stops its Improv service seconds after provisioning (`esp32_improv` `stop()`): the
/// "provisioned" notification came while a poll's read was under way, and the read then fails.
/// The device said "provisioned" before the read failed, so it is provisioned. Before, the failed
/// read was taken first and ended the task with a GATT error.
#[test]
fn provisioned_notified_during_a_read_that_fails_is_provisioned() {
    let (_script, mut client) = written("correct horse");
    let now = sleep_until(&client);
    client.advance(Feedback::Woke, now);
    assert_eq!(
        client.action(),
        Action::Read {
            characteristic: Characteristic::State
        }
    );
    client.advance_after(
        [(Characteristic::State, &[0x04][..])],
        Feedback::Failed(AttError::AttributeNotFound),
        now,
    );
    assert_provisioned_without_url(&mut client);
    assert_eq!(client.state(), Some(State::Provisioned));
}

/// A notification that finishes the task while a read is under way: the read's answer, whatever
/// it holds, changes nothing and the client stays done.
#[test]
fn a_read_answered_after_its_task_ended_is_harmless() {
    for value in [
        &b""[..],
        &[0x03],
        &[0xff, 0xff, 0xff],
        &tasmota_info().to_result().encode().unwrap(),
    ] {
        let (mut script, mut client) = asked_for_device_info();
        let now = script.wake(&mut client);
        let info = tasmota_info().to_result().encode().unwrap();
        client.advance(Feedback::Woke, now);
        assert!(
            matches!(client.action(), Action::Read { .. }),
            "{:?}",
            client.action()
        );
        client.notified(Characteristic::RpcResult, &info, now);
        assert_eq!(client.action(), Action::Done);
        client.advance(Feedback::Read(value), now);
        client.advance(Feedback::Failed(AttError::Disconnected), now);
        assert_eq!(client.action(), Action::Done);
        assert_eq!(
            client.take_outcome(),
            Some(Ok(Response::DeviceInfo(tasmota_info())))
        );
        assert_eq!(client.take_outcome(), None);
    }
}

/// A scan polled fast (no notification has come on the connection yet) whose device sends every
/// network at once, one per result, and the empty end: all of them are notified while one read is
/// under way, and the read answers the end. Every network is listed, at once.
#[test]
fn networks_notified_at_once_during_a_polled_read_of_the_end_are_listed() {
    let (mut script, mut client) = asked_to_scan();
    let heard = three_networks();
    let now = sleep_until(&client);
    assert_eq!(now, 50, "polled fast");
    client.advance(Feedback::Woke, now);
    let end = scan_result(&[]);
    let results: Vec<Vec<u8>> = heard.iter().map(one).chain([end.clone()]).collect();
    let during: Vec<(Characteristic, &[u8])> = results
        .iter()
        .map(|r| (Characteristic::RpcResult, r.as_slice()))
        .collect();
    read_answered(&mut client, Characteristic::RpcResult, &during, &end, now);
    script.result = end;
    assert_eq!(listed(&mut client), heard.to_vec());
    assert_eq!(client.action(), Action::Done);
}

/// Guest's only notification cut to 10 bytes (ESP-IDF, espressif/esp-idf#3315); the read at once
/// finds the next network, which replaced it: Guest is listed by the SSID the cut left whole, its
/// signal and security unknown, and the page offers it with the password optional. Cut inside its
/// SSID, it cannot be named and is not listed. Before, a cut network was missing either way.
#[test]
fn a_network_whose_cut_result_was_replaced_is_listed_by_its_name() {
    for (cut_at, named) in [(10, true), (8, true), (7, false), (2, false)] {
        let (mut script, mut client) = asked_to_scan();
        let home = network("HomeNet", -48, Auth::Wpa2);
        let guest = scan_result(&[network("Guest", -70, Auth::Open)]);
        let neighbour = network("Neighbour", -80, Auth::Wpa2);
        client.notified(Characteristic::RpcResult, &one(&home), 1_000);
        client.notified(Characteristic::RpcResult, &guest[..cut_at], 1_200);
        assert!(sleep_until(&client) <= 1_200, "read at once");
        script.result = one(&neighbour);
        script.wake_at(&mut client, 1_200);
        client.notified(Characteristic::RpcResult, &scan_result(&[]), 1_600);
        let mut expected = alloc::vec![home.clone()];
        if named {
            expected.push(Network {
                ssid: b"Guest".to_vec(),
                rssi: None,
                auth: Vec::new(),
            });
        }
        expected.push(neighbour);
        assert_eq!(listed(&mut client), expected, "cut at {cut_at}");
    }
}

/// A result cut short and then read whole is not a network of its own: the read is that result.
#[test]
fn a_cut_result_read_whole_is_listed_once() {
    let (mut script, mut client) = asked_to_scan();
    let home = scan_result(&[network("HomeNet", -48, Auth::Wpa2)]);
    let guest = scan_result(&[network("Guest", -70, Auth::Open)]);
    client.notified(Characteristic::RpcResult, &home, 1_000);
    client.notified(Characteristic::RpcResult, &guest[..10], 1_200);
    script.result = guest;
    script.wake_at(&mut client, 1_200);
    client.notified(Characteristic::RpcResult, &scan_result(&[]), 1_600);
    assert_eq!(
        listed(&mut client),
        alloc::vec![
            network("HomeNet", -48, Auth::Wpa2),
            network("Guest", -70, Auth::Open)
        ]
    );
}

/// What the app shows for each failure.
#[test]
fn errors_read_as_sentences() {
    let cases = [
        (
            Error::Unsupported(Command::DeviceInfo),
            "the device does not offer command 0x03",
        ),
        (
            Error::AuthorizationRequired,
            "the device waits for authorization: press its button",
        ),
        (
            Error::Timeout {
                waiting_for: "RPC result",
            },
            "no RPC result before the deadline",
        ),
        (
            Error::BadValue {
                characteristic: Characteristic::State,
                len: 2,
            },
            " is 2 bytes where 1 was expected",
        ),
        (Error::Busy, "another Improv task is running"),
    ];
    for (error, words) in cases {
        assert!(error.to_string().contains(words), "{error}");
    }
    let wrong = Error::WrongState(State::Provisioned).to_string();
    assert_eq!(
        wrong,
        alloc::format!("the device is {}", State::Provisioned.description())
    );
}

/// A notified result counts at once even when its bytes are the ones from before the command: a
/// notification is the device answering, where a read of the same bytes could be old.
#[test]
fn an_identical_result_notified_counts_at_once() {
    let mut script = Script::new(0x02);
    script.result = tasmota_info().to_result().encode().unwrap();
    let mut client = connected(&mut script);
    client.request_device_info(0).unwrap();
    script.serve(&mut client, 0);
    let same = script.result.clone();
    client.notified(Characteristic::RpcResult, &same, 300);
    assert_eq!(
        client.take_outcome(),
        Some(Ok(Response::DeviceInfo(tasmota_info())))
    );
}

/// A scan's only network notified cut short, and the read at once already finds the empty
/// result that ends the list: the list is that network, by the name the cut left whole.
#[test]
fn a_cut_network_then_the_end_is_a_list_of_one() {
    let (mut script, mut client) = asked_to_scan();
    let guest = scan_result(&[network("Guest", -70, Auth::Open)]);
    client.notified(Characteristic::RpcResult, &guest[..10], 1_000);
    assert!(sleep_until(&client) <= 1_000, "read at once");
    script.result = scan_result(&[]);
    script.wake_at(&mut client, 1_000);
    let guest = Network {
        ssid: b"Guest".to_vec(),
        rssi: None,
        auth: Vec::new(),
    };
    assert_eq!(listed(&mut client), alloc::vec![guest]);
}

/// Wi-Fi settings that never reach "provisioned" say so at the deadline.
#[test]
fn wifi_settings_time_out_waiting_for_provisioned() {
    let (mut script, mut client) = written("correct horse");
    script.state = 0x03;
    script.wake_until_done(&mut client, 0);
    assert_eq!(
        client.take_outcome(),
        Some(Err(Error::Timeout {
            waiting_for: "\"provisioned\" state"
        }))
    );
}

/// A redirect notified whole before "provisioned" is kept when "provisioned" is then polled and
/// the read of the result finds only a part (a device that sets the value to each part it
/// notifies holds its last part).
#[test]
fn a_notified_redirect_outlives_a_read_of_its_last_part() {
    let (mut script, mut client) = written("correct horse");
    let url = "http://192.168.1.43:80/setup";
    let result = joined(url);
    client.notified(Characteristic::RpcResult, &result, 200);
    script.state = 0x04;
    script.result = result[20..].to_vec();
    script.wake_until_done(&mut client, 200);
    assert_provisioned_to(&mut client, url);
}

/// A device that answers a scan in one result, as the BLE specification asks, has it cut to the
/// link's MTU in the notification (ESP-IDF, espressif/esp-idf#3315); the read at once finds it
/// whole, and every network is listed with its signal, not only the one the cut named.
#[test]
fn a_whole_list_cut_in_its_notification_is_read_whole() {
    let (mut script, mut client) = asked_to_scan();
    let all = scan_result(&three_networks());
    client.notified(Characteristic::RpcResult, &all[..12], 1_000);
    assert!(sleep_until(&client) <= 1_000, "read at once");
    script.result = all;
    script.wake_at(&mut client, 1_000);
    assert_eq!(listed(&mut client), three_networks().to_vec());
}

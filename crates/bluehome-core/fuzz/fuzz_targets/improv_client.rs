//! The Improv client state machine fed arbitrary GATT results, notifications and tasks: never a
//! panic, never a hang (every task ends by its deadline), and the client never writes anything but
//! a well-formed command frame. Notifications may arrive after a sleep's end has passed, as they
//! can in a browser.
#![no_main]

use bluehome_core::gatt::{Action, AttError, Feedback};
use bluehome_core::improv::client::{Client, Options};
use bluehome_core::improv::rpc::{Credentials, Request};
use bluehome_core::improv::Characteristic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = Options {
        answer_timeout_ms: 5_000,
        scan_timeout_ms: 8_000,
        provision_timeout_ms: 9_000,
        authorization_timeout_ms: 7_000,
        ..Options::default()
    };
    let mut client = Client::new(options, 0);
    let mut now = 0u64;
    let mut rest = data;
    let mut take = |n: usize| -> Option<Vec<u8>> {
        let n = n.min(rest.len());
        let (head, tail) = rest.split_at(n);
        rest = tail;
        (n > 0).then(|| head.to_vec())
    };
    let mut steps = 0u32;
    loop {
        steps += 1;
        assert!(steps < 100_000, "the client does not settle");
        let Some(op) = take(1) else { break };
        let op = op[0];
        match client.action() {
            Action::Done => {
                client.take_outcome();
                let started = match op % 6 {
                    0 => client.await_authorization(now),
                    1 => client.identify(now),
                    2 => client.request_device_info(now),
                    3 => client.scan_wifi(now),
                    _ => match Credentials::new("HomeNet", "correct horse") {
                        Ok(c) => client.send_wifi(c, now),
                        Err(_) => return,
                    },
                };
                let _ = started;
            }
            Action::Read { .. } => {
                let len = usize::from(op % 8);
                let value = take(len).unwrap_or_default();
                if op >= 250 {
                    client.advance(Feedback::Failed(AttError::Disconnected), now);
                } else {
                    client.advance(Feedback::Read(&value), now);
                }
            }
            Action::Write { characteristic, value } => {
                assert_eq!(characteristic, Characteristic::RpcCommand);
                assert!(Request::parse(value).is_ok(), "wrote {value:?}");
                client.advance(Feedback::Written, now);
            }
            Action::Sleep { until_ms } => {
                if op % 3 == 0 {
                    // A notification arrives during the sleep.
                    let which = Characteristic::ALL[usize::from(op / 3) % 5];
                    let value = take(usize::from(op % 7)).unwrap_or_default();
                    client.notified(which, &value, now);
                } else {
                    now = now.max(until_ms);
                    client.advance(Feedback::Woke, now);
                }
            }
        }
        now += 3;
    }
});

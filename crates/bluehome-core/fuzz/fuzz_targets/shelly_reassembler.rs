//! The client transport (chunked writes, rx_ctl polling, data reassembly, quirks, 401 retry) fed
//! arbitrary GATT results, and the device-side server fed arbitrary writes and reads. Never a
//! panic, never a hang: every call ends, and a successful call answers the request it sent.
#![no_main]

use bluehome_core::shelly::auth::Credentials;
use bluehome_core::shelly::frame::Id;
use bluehome_core::shelly::rpc::client::{Action, Client, Feedback, Options};
use bluehome_core::shelly::rpc::server::Server;
use bluehome_core::shelly::rpc::{AttError, Characteristic};
use libfuzzer_sys::fuzz_target;

fn client_side(data: &[u8]) {
    let options = Options {
        max_response_len: 2048,
        timeout_ms: 5_000,
        ..Options::default()
    };
    let mut client = Client::with_options("fuzz", 7, options);
    if data.first().is_some_and(|b| b & 1 == 1) {
        client.set_credentials(Some(Credentials::from_password("dev", "pw")));
    }
    let mut call = client.call("Shelly.GetStatus", None, 1, 0);
    let mut now = 0u64;
    let mut rest = data.get(1..).unwrap_or_default();
    let mut steps = 0u32;
    loop {
        steps += 1;
        assert!(steps < 200_000, "call does not end");
        let chunk;
        let feedback = match call.action() {
            Action::Done => break,
            Action::Write { .. } => match rest.split_first() {
                Some((&b, tail)) => {
                    rest = tail;
                    if b < 8 {
                        Feedback::Failed(AttError::RequestNotSupported)
                    } else {
                        Feedback::Written
                    }
                }
                None => Feedback::Failed(AttError::Disconnected),
            },
            Action::Read { .. } => match rest.split_first() {
                Some((&len, tail)) => {
                    let n = usize::from(len % 64).min(tail.len());
                    let (head, tail) = tail.split_at(n);
                    chunk = head.to_vec();
                    rest = tail;
                    Feedback::Read(&chunk)
                }
                None => Feedback::Failed(AttError::Disconnected),
            },
            Action::Sleep { until_ms } => {
                assert!(until_ms >= now);
                now = until_ms;
                Feedback::Woke
            }
        };
        now += 1;
        call.advance(feedback, now);
    }
    let first_id = Id::Num(7);
    if let Ok(resp) = client.finish(call) {
        assert!(
            resp.id == first_id || resp.id == Id::Num(8),
            "{:?}",
            resp.id
        );
    }
}

fn server_side(data: &[u8]) {
    let mtu = 23 + u16::from(data.first().copied().unwrap_or(0));
    let mut server = Server::new(mtu, 512);
    let mut rest = data.get(1..).unwrap_or_default();
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let ch = match op % 3 {
            0 => Characteristic::Data,
            1 => Characteristic::TxCtl,
            _ => Characteristic::RxCtl,
        };
        if op & 0x80 != 0 {
            if let Ok(value) = server.read(ch) {
                assert!(value.len() <= usize::from(mtu - 2).max(4));
            }
        } else {
            let n = usize::from((op >> 2) & 0x1f).min(rest.len());
            let (value, tail) = rest.split_at(n);
            rest = tail;
            if let Ok(Some(frame)) = server.write(ch, value) {
                assert!(frame.len() <= 512);
                server.push_response(frame);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    client_side(data);
    server_side(data);
});

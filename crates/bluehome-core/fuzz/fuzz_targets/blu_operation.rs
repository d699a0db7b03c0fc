//! A Shelly BLU settings task (read, write, turn encryption on, read the key, factory reset) on a
//! device exposing any set of characteristics, fed arbitrary GATT answers. Never a panic, never a
//! hang: once the answers run out and the link drops, the task ends within one answer per step.
//! It only touches what the device exposes and allows (it reads only what can be read, writes
//! only what can be written, and every byte string it writes is a value of its characteristic),
//! and its outcome answers the task asked: the reads in the order asked, the value written and
//! read back, a key only from a key task, a reset only from a reset.
//!
//! Input: three bytes of exposed characteristics (one bit each, in `Characteristic::ALL`'s order),
//! a byte for the task and one for its characteristic, up to four bytes of the value to write;
//! then the answers, each a kind byte and, for a read, a length byte and that many bytes.
#![no_main]

use bluehome_core::blu::{Access, Characteristic, Exposed, Operation, Outcome, Passkey, Value};
use bluehome_core::gatt::{Action, AttError, Feedback};
use libfuzzer_sys::fuzz_target;

/// The task, as asked.
enum Task {
    Read(Vec<Characteristic>),
    Write(Characteristic, Value),
    Key,
    Reset,
}

fn att_error(byte: u8) -> AttError {
    match byte % 12 {
        0 => AttError::AttributeNotFound,
        1 => AttError::ReadNotPermitted,
        2 => AttError::WriteNotPermitted,
        3 => AttError::InsufficientAuthentication,
        4 => AttError::RequestNotSupported,
        5 => AttError::InvalidOffset,
        6 => AttError::InvalidAttributeValueLength,
        7 => AttError::InsufficientResources,
        8 => AttError::ValueNotAllowed,
        9 | 10 => AttError::Disconnected,
        _ => AttError::Other(byte),
    }
}

/// The operation and the task it was asked, or `None` when the core refused it up front.
fn start(exposed: &Exposed, data: &mut &[u8]) -> Option<(Operation, Task)> {
    let mut byte = || {
        let (&b, rest) = data.split_first()?;
        *data = rest;
        Some(b)
    };
    let task = byte()?;
    let characteristic = Characteristic::ALL[usize::from(byte()?) % Characteristic::ALL.len()];
    Some(match task % 6 {
        0 => {
            let op = Operation::read_settings(exposed);
            let asked = exposed
                .iter()
                .filter(|c| c.info().read == Access::Open)
                .collect();
            (op, Task::Read(asked))
        }
        1 => {
            // A few characteristics, repeats and unexposed ones included.
            let asked: Vec<Characteristic> = (0..byte()? % 5)
                .filter_map(|_| byte())
                .map(|b| Characteristic::ALL[usize::from(b) % Characteristic::ALL.len()])
                .collect();
            (Operation::read(exposed, &asked), Task::Read(asked))
        }
        2 => {
            let len = usize::from(byte()? % 5);
            let bytes: Vec<u8> = (0..len).filter_map(|_| byte()).collect();
            let value = characteristic.decode(&bytes).ok()?;
            let op = Operation::write(exposed, characteristic, value.clone()).ok()?;
            (op, Task::Write(characteristic, value))
        }
        3 => {
            let passkey = Passkey::new(u32::from_le_bytes([byte()?, byte()?, byte()?, 0])).ok()?;
            (
                Operation::enable_encryption(exposed, passkey).ok()?,
                Task::Key,
            )
        }
        4 => (Operation::read_key(exposed).ok()?, Task::Key),
        _ => (Operation::factory_reset(exposed).ok()?, Task::Reset),
    })
}

/// Checks the next action against what the device exposes and allows.
fn check_action(op: &Operation, exposed: &Exposed) {
    match op.action() {
        Action::Read { characteristic } => {
            assert!(
                exposed.has(characteristic),
                "{characteristic:?} is not exposed"
            );
            assert_ne!(characteristic.info().read, Access::Never);
        }
        Action::Write {
            characteristic,
            value,
        } => {
            assert!(
                exposed.has(characteristic),
                "{characteristic:?} is not exposed"
            );
            assert_ne!(characteristic.info().write, Access::Never);
            assert!(
                characteristic.decode(value).is_ok(),
                "{characteristic:?} written {value:02x?}"
            );
        }
        Action::Sleep { .. } => panic!("a BLU task never sleeps"),
        Action::Done => assert!(op.is_done()),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mask, mut rest)) = data.split_first_chunk::<3>() else {
        return;
    };
    let mask = u32::from_le_bytes([mask[0], mask[1], mask[2], 0]);
    let mut exposed = Exposed::default();
    for (i, c) in Characteristic::ALL.iter().enumerate() {
        if mask & (1 << i) != 0 {
            exposed.insert(*c);
        }
    }
    let Some((mut op, task)) = start(&exposed, &mut rest) else {
        return;
    };
    // The fuzzer's answers, then a dropped link for every step left.
    let mut answers = 0usize;
    while !op.is_done() && answers < 256 {
        check_action(&op, &exposed);
        let Some((&kind, tail)) = rest.split_first() else {
            break;
        };
        rest = tail;
        answers += 1;
        match kind % 4 {
            0 => op.advance(Feedback::Written),
            1 => {
                let len = rest.first().map_or(0, |&n| usize::from(n % 24));
                let bytes = rest.get(1..).unwrap_or_default();
                let bytes = &bytes[..len.min(bytes.len())];
                op.advance(Feedback::Read(bytes));
                rest = rest.get(1 + bytes.len()..).unwrap_or_default();
            }
            2 => op.advance(Feedback::Woke),
            _ => op.advance(Feedback::Failed(att_error(
                rest.first().copied().unwrap_or_default(),
            ))),
        }
    }
    for _ in 0..Characteristic::ALL.len() + 2 {
        if op.is_done() {
            break;
        }
        check_action(&op, &exposed);
        op.advance(Feedback::Failed(AttError::Disconnected));
    }
    assert!(op.is_done(), "a dropped link ends every task");
    match (op.finish(), task) {
        (Ok(Outcome::Values(values)), Task::Read(asked)) => {
            let read: Vec<_> = values.iter().map(|(c, _)| *c).collect();
            let mut expected = asked.clone();
            // One entry per characteristic asked (repeats read once each time asked).
            expected.sort_by_key(|c| asked.iter().position(|a| a == c));
            assert_eq!(read, expected);
        }
        (
            Ok(Outcome::Written {
                characteristic,
                value,
            }),
            Task::Write(asked, wanted),
        ) => {
            assert_eq!(characteristic, asked);
            assert_eq!(value, wanted);
        }
        (Ok(Outcome::Key(_)), Task::Key) | (Ok(Outcome::Reset { .. }), Task::Reset) => {}
        (Ok(outcome), _) => panic!("{outcome:?} answers another task"),
        (Err(e), _) => _ = e.needs_pairing(),
    }
});

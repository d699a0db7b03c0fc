//! An RPC result notified in parts: the frame's length byte says how many bytes make it whole.
//!
//! A notification carries at most the link's ATT MTU − 3 bytes (20 on a link that kept the
//! default MTU). Some devices send a longer result as several notifications of consecutive bytes:
//! Tasmota's Berry Improv example (`Staars/berry-examples`, `ble/improv.be`, `sendRPCresult`) cuts
//! every result frame into parts of 20 bytes, one notification every 100 ms. Only the first part
//! starts with `[command][length]`; the others continue the frame, and the part that completes it
//! ends with the checksum. The specification (improv-wifi.com/ble, "RPC Result") defines the
//! frame, not its transport, so [`ResultParts`] joins by the frame's declared length alone.

use alloc::vec::Vec;

use super::{Error, RpcResult};

/// Joins notified parts of RPC result frames. See the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultParts {
    /// The bytes of a frame begun and not yet complete.
    pending: Vec<u8>,
}

/// The bytes a frame starting with `bytes` declares (`[command][length][data][checksum]`), once
/// its length byte is there.
fn declared(bytes: &[u8]) -> Option<usize> {
    bytes.get(1).map(|&len| usize::from(len) + 3)
}

impl ResultParts {
    /// Nothing pending.
    pub const fn new() -> Self {
        Self {
            pending: Vec::new(),
        }
    }

    /// Whether a frame has begun and is not complete.
    pub fn joining(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Forgets a frame begun (a read has given the whole value, or a new command starts).
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Takes one notified value. `None` while a frame is incomplete, and for a value that is no
    /// frame and does not begin one (left aside, as a single notification always was); the
    /// whole frame once its last part came (a frame in one notification comes back at once); an
    /// error when the joined bytes are no valid result: a wrong checksum, more bytes than the
    /// length byte declares, or strings that do not fill the data.
    ///
    /// A part begun and never finished (a notification a device's stack cut to the MTU, then no
    /// more) does not spoil the next result: a value that is a valid frame on its own is taken
    /// alone, and what was pending is dropped.
    pub fn push(&mut self, part: &[u8]) -> Option<Result<Vec<u8>, Error>> {
        if RpcResult::parse(part).is_ok() {
            // A part that continues a frame is (all but) never a valid frame of its own.
            self.pending.clear();
            return Some(Ok(part.to_vec()));
        }
        if self.pending.is_empty() {
            // The beginning of a longer frame; anything else is left aside.
            if !part.is_empty() && declared(part).is_none_or(|whole| part.len() < whole) {
                self.pending = part.to_vec();
            }
            return None;
        }
        self.pending.extend_from_slice(part);
        let whole = declared(&self.pending)?;
        if self.pending.len() < whole {
            return None;
        }
        let joined = core::mem::take(&mut self.pending);
        Some(if joined.len() > whole {
            Err(Error::TrailingBytes { offset: whole })
        } else {
            RpcResult::parse(&joined).map(|_| joined)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::improv::Command;

    fn frame(strings: &[&str]) -> Vec<u8> {
        RpcResult {
            command: Command::WifiSettings,
            strings: strings.iter().map(|s| s.as_bytes().to_vec()).collect(),
        }
        .encode()
        .unwrap()
    }

    #[test]
    fn a_frame_in_one_notification_comes_back_at_once() {
        let mut parts = ResultParts::new();
        let whole = frame(&["http://a/"]);
        assert_eq!(parts.push(&whole), Some(Ok(whole.clone())));
        assert!(!parts.joining());
    }

    /// Tasmota's example: parts of 20 bytes until the frame's declared length is there.
    #[test]
    fn parts_of_twenty_bytes_are_joined() {
        let whole = frame(&["http://192.168.1.43:80/setup"]);
        assert_eq!(whole.len(), 32);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&whole[..20]), None);
        assert!(parts.joining());
        assert_eq!(parts.push(&whole[20..]), Some(Ok(whole)));
        assert!(!parts.joining());
    }

    #[test]
    fn a_first_part_of_one_byte_waits_for_the_length() {
        let whole = frame(&["x"]);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&whole[..1]), None);
        assert_eq!(parts.push(&whole[1..3]), None);
        assert_eq!(parts.push(&whole[3..]), Some(Ok(whole)));
    }

    #[test]
    fn a_wrong_checksum_or_too_many_bytes_is_an_error() {
        let mut whole = frame(&["http://192.168.1.43:80/setup"]);
        let last = whole.len() - 1;
        whole[last] ^= 0xFF;
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&whole[..20]), None);
        assert!(matches!(
            parts.push(&whole[20..]),
            Some(Err(Error::Checksum { offset: 31, .. }))
        ));
        assert!(!parts.joining());
        whole[last] ^= 0xFF;
        let mut long = whole[20..].to_vec();
        long.push(0);
        assert_eq!(parts.push(&whole[..20]), None);
        assert_eq!(
            parts.push(&long),
            Some(Err(Error::TrailingBytes { offset: 32 }))
        );
        assert!(!parts.joining());
    }

    /// A cut notification never continued, then a whole result: the whole result counts.
    #[test]
    fn a_part_never_finished_gives_way_to_a_whole_frame() {
        let cut = frame(&["http://192.168.1.43:80/setup"]);
        let next = frame(&[]);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&cut[..20]), None);
        assert_eq!(parts.push(&next), Some(Ok(next.clone())));
        assert!(!parts.joining());
    }

    /// Single notifications that are no frame stay left aside, as before.
    #[test]
    fn values_that_are_no_frame_are_left_aside() {
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&[]), None);
        let mut bad = frame(&["x"]);
        bad[4] ^= 1;
        assert_eq!(parts.push(&bad), None);
        assert!(!parts.joining());
    }
}

//! An RPC result notified in parts: the frame's length byte says how many bytes make it whole.
//!
//! A notification carries at most the link's ATT MTU − 3 bytes (20 on a link that kept the
//! default MTU). Some devices send a longer result as several notifications of consecutive bytes:
//! Tasmota's Berry Improv example (`Staars/berry-examples`, `ble/improv.be`, `sendRPCresult`) cuts
//! every result frame into parts of 20 bytes, one notification every 100 ms. Only the first part
//! starts with `[command][length]`; the others continue the frame, and the part that completes it
//! ends with the checksum. The specification (improv-wifi.com/ble, "RPC Result") defines the
//! frame, not its transport, so [`ResultParts`] joins by the frame's declared length alone.
//!
//! A part can also be lost to the joiner: ESP-IDF cuts a notification longer than the MTU − 3
//! bytes (espressif/esp-idf#3315), and the rest of that value never comes. The bytes pending then
//! belong to no frame, and the next result's parts must not be joined to them. So the joiner keeps
//! where each part began, takes a frame that ends with the latest part from the earliest part
//! where it starts, and drops leading parts that cannot begin a valid result (more bytes than
//! their length byte declares, a string running past the data, a wrong checksum). A device sends
//! one frame's parts in order and never two frames in one notification (Tasmota's example above;
//! ESPHome's `esp32_improv` sends each result as one value), so a frame can only start where a
//! part starts.

use alloc::vec::Vec;

use super::{Error, RpcResult};
use crate::improv::Command;

/// Joins notified parts of RPC result frames. See the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultParts {
    /// The bytes of the parts that may begin a frame not yet complete.
    pending: Vec<u8>,
    /// Where each of those parts begins in `pending`, in order (the first is 0).
    starts: Vec<usize>,
    /// Why the last parts dropped could not begin a result, until taken.
    dropped: Option<Error>,
    /// The first part of the last frame given up before it was whole, until taken.
    abandoned: Option<Vec<u8>>,
}

/// Why `bytes` cannot be the beginning (or the whole) of a valid result frame; `None` when they
/// can. A frame's first part must name a command the protocol defines: a part that continues a
/// frame starts with any byte, and this keeps most of those from being taken for a start.
fn not_a_beginning(bytes: &[u8]) -> Option<Error> {
    // Nothing is no beginning either way: there is nothing to drop.
    let (&command, rest) = bytes.split_first()?;
    if let Command::Other(command) = Command::from(command) {
        return Some(Error::UnknownCommand { command });
    }
    // A known command alone can begin a frame (`None`).
    let &len = rest.first()?;
    let whole = usize::from(len) + 3;
    if bytes.len() > whole {
        return Some(Error::TrailingBytes { offset: whole });
    }
    if bytes.len() == whole {
        return RpcResult::parse(bytes).err();
    }
    // The strings so far must fit the data length declared.
    let data = bytes.get(2..).unwrap_or_default();
    let mut at = 0usize;
    while let Some(&string) = data.get(at) {
        at += 1 + usize::from(string);
        if at > usize::from(len) {
            return Some(Error::Truncated {
                offset: 2 + usize::from(len),
                needed: at - usize::from(len),
            });
        }
    }
    None
}

impl ResultParts {
    /// Nothing pending.
    pub const fn new() -> Self {
        Self {
            pending: Vec::new(),
            starts: Vec::new(),
            dropped: None,
            abandoned: None,
        }
    }

    /// Whether a frame has begun and is not complete.
    pub fn joining(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Forgets a frame begun (a new command starts).
    pub fn clear(&mut self) {
        self.pending.clear();
        self.starts.clear();
        self.abandoned = None;
    }

    /// A read has given a whole value: the frame begun is forgotten, and given up
    /// ([`Self::take_abandoned`]) unless `whole` is that frame.
    pub fn replace_with(&mut self, whole: &[u8]) {
        let first = self.first_part().map(<[u8]>::to_vec);
        self.clear();
        self.abandoned = first.filter(|part| !whole.starts_with(part));
    }

    /// The first part of the last frame given up before it was whole (a notification cut
    /// short, whose rest never came, then another result), once.
    pub fn take_abandoned(&mut self) -> Option<Vec<u8>> {
        self.abandoned.take()
    }

    /// The bytes of the earliest part pending.
    fn first_part(&self) -> Option<&[u8]> {
        let end = self.starts.get(1).copied().unwrap_or(self.pending.len());
        self.pending.get(..end).filter(|p| !p.is_empty())
    }

    /// Why parts were dropped since the last call, if they were: the bytes the last of them
    /// made could not be a valid result.
    pub fn take_dropped(&mut self) -> Option<Error> {
        self.dropped.take()
    }

    /// Takes one notified value: the whole frame once a part completes one (a frame in one
    /// notification comes back at once), else `None`. A value that cannot begin a frame and
    /// continues none is left aside; parts that turn out to begin no valid result are dropped
    /// ([`Self::take_dropped`] says why), and joining starts over at the next part that can
    /// begin one. No bytes a device sends make this fail.
    pub fn push(&mut self, part: &[u8]) -> Option<Vec<u8>> {
        if part.is_empty() {
            return None;
        }
        let had_pending = self.joining();
        self.starts.push(self.pending.len());
        self.pending.extend_from_slice(part);
        // The earliest start from which the parts make a whole valid frame: a cut part before
        // it, or one that is not the device's, gives way (ESP-IDF's cut: espressif/esp-idf#3315).
        let complete = self.starts.iter().find_map(|&start| {
            let candidate = self.pending.get(start..)?;
            RpcResult::parse(candidate)
                .is_ok()
                .then(|| (start, candidate.to_vec()))
        });
        if let Some((start, frame)) = complete {
            let first = self.first_part().filter(|_| start > 0).map(<[u8]>::to_vec);
            self.clear();
            self.abandoned = first;
            return Some(frame);
        }
        // Drop leading parts until what is left can still become a valid result.
        let mut first = 0;
        let mut why = None;
        while let Some(&start) = self.starts.get(first) {
            let rest = self.pending.get(start..).unwrap_or_default();
            // A whole valid frame was taken above: what can begin one is shorter than a frame.
            let Some(e) = not_a_beginning(rest) else {
                break;
            };
            // The first part's reason: it is the frame that was being joined.
            why.get_or_insert(e);
            first += 1;
        }
        let start = self
            .starts
            .get(first)
            .copied()
            .unwrap_or(self.pending.len());
        // A single value that begins nothing is left aside, as a notification always was; only
        // parts taken to begin a frame are reported dropped.
        if first > 0 && had_pending {
            self.dropped = why.or(self.dropped.take());
            self.abandoned = self.first_part().map(<[u8]>::to_vec);
        }
        self.pending.drain(..start);
        self.starts.drain(..first);
        for s in &mut self.starts {
            *s -= start;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parts.push(&whole), Some(whole.clone()));
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
        assert_eq!(parts.push(&whole[20..]), Some(whole));
        assert!(!parts.joining());
        assert_eq!(parts.take_dropped(), None);
    }

    #[test]
    fn a_first_part_of_one_byte_waits_for_the_length() {
        let whole = frame(&["x"]);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&whole[..1]), None);
        assert_eq!(parts.push(&whole[1..3]), None);
        assert_eq!(parts.push(&whole[3..]), Some(whole));
    }

    /// Parts that join into a wrong checksum, or into more bytes than declared, are dropped with
    /// the reason, and joining starts over. Before, they were an error that failed the task.
    #[test]
    fn parts_that_join_into_no_result_are_dropped() {
        let mut whole = frame(&["http://192.168.1.43:80/setup"]);
        let last = whole.len() - 1;
        whole[last] ^= 0xFF;
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&whole[..20]), None);
        assert_eq!(parts.push(&whole[20..]), None);
        assert!(matches!(
            parts.take_dropped(),
            Some(Error::Checksum { offset: 31, .. })
        ));
        assert!(!parts.joining());
        whole[last] ^= 0xFF;
        let mut long = whole[20..].to_vec();
        long.push(0);
        assert_eq!(parts.push(&whole[..20]), None);
        assert_eq!(parts.push(&long), None);
        assert_eq!(
            parts.take_dropped(),
            Some(Error::TrailingBytes { offset: 32 })
        );
        assert!(!parts.joining());
        assert_eq!(
            parts.push(&whole),
            Some(whole),
            "a whole frame after them counts"
        );
    }

    /// A cut notification never continued, then a whole result: the whole result counts.
    #[test]
    fn a_part_never_finished_gives_way_to_a_whole_frame() {
        let cut = frame(&["http://192.168.1.43:80/setup"]);
        let next = frame(&[]);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&cut[..20]), None);
        assert_eq!(parts.push(&next), Some(next.clone()));
        assert!(!parts.joining());
    }

    /// A notification cut to 10 of its 16 bytes (ESP-IDF cuts to the MTU, espressif/esp-idf#3315),
    /// then the next result in parts of 20 bytes (Tasmota's way): the cut part is dropped and the
    /// next result joined from its own first part. Before, the cut part and the next result's
    /// first part were joined and failed with `TrailingBytes`.
    #[test]
    fn a_cut_part_gives_way_to_the_next_result_in_parts() {
        let cut = frame(&["http://a.b/c"]);
        assert_eq!(cut.len(), 16);
        let next = frame(&["http://192.168.1.43:80/setup"]);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&cut[..10]), None);
        assert_eq!(parts.push(&next[..20]), None);
        assert_eq!(
            parts.take_dropped(),
            Some(Error::TrailingBytes { offset: 16 })
        );
        assert!(parts.joining());
        assert_eq!(parts.push(&next[20..]), Some(next));
        assert!(!parts.joining());
    }

    /// A cut part that declares more than the next result's parts fill: the next result, found
    /// where its own first part starts, counts although the cut part could still be growing.
    #[test]
    fn a_result_ending_with_the_latest_part_counts_from_where_it_starts() {
        let cut = frame(&["http://192.168.1.43:80/a-long-setup-page-path"]);
        let next = frame(&["http://a.b/c/d/e/f/g/h"]);
        assert!(cut.len() > 20 + next.len(), "{}", cut.len());
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&cut[..20]), None);
        assert_eq!(parts.push(&next[..20]), None);
        assert_eq!(parts.push(&next[20..]), Some(next));
        assert_eq!(parts.take_dropped(), None);
    }

    /// Single notifications that are no frame stay left aside, as before, and are not reported:
    /// nothing was being joined.
    #[test]
    fn values_that_are_no_frame_are_left_aside() {
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&[]), None);
        let mut bad = frame(&["x"]);
        bad[4] ^= 1;
        assert_eq!(parts.push(&bad), None);
        assert!(!parts.joining());
        // A command the protocol does not define cannot begin a frame in parts.
        assert_eq!(parts.push(&[0x68, 0x20, 0x05]), None);
        assert!(!parts.joining());
        assert_eq!(parts.take_dropped(), None);
    }

    /// A string that runs past the declared data cannot begin a result.
    #[test]
    fn a_string_running_past_the_data_cannot_begin_a_result() {
        let mut parts = ResultParts::new();
        // Declares 10 data bytes; its first string says 12.
        assert_eq!(parts.push(&[0x01, 10, 12, b'h', b't']), None);
        assert!(!parts.joining());
        assert_eq!(
            not_a_beginning(&[0x01, 10, 12, b'h']),
            Some(Error::Truncated {
                offset: 12,
                needed: 3
            })
        );
        assert_eq!(not_a_beginning(&[0x01, 10, 9, b'h']), None);
    }

    /// A part given up for the next result is kept once, whether a later part or a whole read
    /// replaced it; a read of the same frame whole gives nothing up.
    #[test]
    fn a_part_given_up_is_kept_once() {
        let cut = frame(&["http://a.b/c"]);
        let next = frame(&[]);
        let mut parts = ResultParts::new();
        assert_eq!(parts.push(&cut[..10]), None);
        assert_eq!(parts.push(&next), Some(next.clone()));
        assert_eq!(parts.take_abandoned(), Some(cut[..10].to_vec()));
        assert_eq!(parts.take_abandoned(), None);
        assert_eq!(parts.push(&cut[..10]), None);
        parts.replace_with(&next);
        assert_eq!(parts.take_abandoned(), Some(cut[..10].to_vec()));
        assert_eq!(parts.push(&cut[..10]), None);
        parts.replace_with(&cut);
        assert_eq!(parts.take_abandoned(), None);
        assert!(!parts.joining());
    }

    /// Whatever bytes come, in whatever parts: no panic, and only valid frames come back.
    #[test]
    fn any_bytes_give_only_valid_frames() {
        let mut rng = crate::test_rng::XorShift64::new(7);
        let mut below = |n: usize| (rng.next_u64() % n as u64) as usize;
        let good = frame(&["http://192.168.1.43:80/setup"]);
        let mut parts = ResultParts::new();
        for _ in 0..20_000 {
            let len = below(24);
            let part: Vec<u8> = if below(3) == 0 {
                let at = below(good.len());
                good[at..good.len().min(at + len)].to_vec()
            } else {
                (0..len).map(|_| below(8) as u8).collect()
            };
            if let Some(whole) = parts.push(&part) {
                assert!(RpcResult::parse(&whole).is_ok(), "{whole:02x?}");
            }
            if below(4) == 0 {
                parts.replace_with(&part);
            }
            for bytes in [Some(part), parts.take_abandoned()].into_iter().flatten() {
                let _ = crate::improv::rpc::Network::from_cut_result(&bytes);
            }
            assert!(parts.pending.len() <= 3 + crate::improv::rpc::MAX_DATA);
        }
    }
}

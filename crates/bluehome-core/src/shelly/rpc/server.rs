//! The device side of the GATT transport (what the simulator runs), after mongoose-os
//! `rpc-gatts` (mongoose-os-libs/rpc-gatts `src/mgos_rpc_channel_gatts.c`).
//!
//! * `tx_ctl` write: 4-byte big-endian length; clears any half-written frame. Shorter or longer →
//!   `request_not_supported`; above the maximum frame → `insufficient_resources`.
//! * data write: appended; a chunk running past the announced length → `invalid_offset`. When the
//!   length is reached the frame is handed to the caller.
//! * `rx_ctl` read: the length of the outgoing frame (0 when none); restarts its data reads.
//! * data read: the next chunk of at most MTU − 2 bytes; empty once the frame is consumed.
//!
//! Outgoing frames wait in a queue of at most [`MAX_QUEUE_LENGTH`], the oldest dropped when it is
//! full (rpc-common `mg_rpc.c` `mg_rpc_enqueue_frame`). Upstream keeps one first-in first-out
//! queue for all frames; this server sends queued responses before queued notifications. A
//! disconnect destroys the channel and drops what is queued on it (rpc-gatts
//! `MGOS_BT_GATTS_EV_DISCONNECT`, rpc-common `mg_rpc_remove_channel_internal`).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::{AttError, Characteristic, DEFAULT_MAX_FRAME, decode_len, encode_len};

/// The default ATT MTU assumed by the simulator.
pub const DEFAULT_MTU: u16 = 247;

/// Outgoing frames queued behind the one being read (rpc-common `mos.yml`
/// `rpc.max_queue_length`).
pub const MAX_QUEUE_LENGTH: usize = 25;

/// A queued outgoing frame; `seq` orders frames across both queues, so the oldest can go.
#[derive(Debug, Clone)]
struct Queued {
    seq: u64,
    bytes: Vec<u8>,
}

/// The server state of one connection.
#[derive(Debug, Clone)]
pub struct Server {
    mtu: u16,
    max_frame: u32,
    inbound: Option<(usize, Vec<u8>)>,
    current: Option<(Queued, usize)>,
    responses: VecDeque<Queued>,
    notifications: VecDeque<Queued>,
    next_seq: u64,
}

impl Default for Server {
    fn default() -> Self {
        Self::new(DEFAULT_MTU, DEFAULT_MAX_FRAME)
    }
}

impl Server {
    /// A server with ATT MTU `mtu` (at least 23) and maximum request frame `max_frame`.
    pub fn new(mtu: u16, max_frame: u32) -> Self {
        Self {
            mtu: mtu.max(23),
            max_frame,
            inbound: None,
            current: None,
            responses: VecDeque::new(),
            notifications: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// The ATT MTU.
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// Handles a write; returns a complete request frame when this write finished one.
    pub fn write(
        &mut self,
        characteristic: Characteristic,
        value: &[u8],
    ) -> Result<Option<Vec<u8>>, AttError> {
        match characteristic {
            Characteristic::RxCtl => Err(AttError::WriteNotPermitted),
            Characteristic::TxCtl => {
                let len = decode_len(value).ok_or(AttError::RequestNotSupported)?;
                self.inbound = None;
                if len > self.max_frame {
                    return Err(AttError::InsufficientResources);
                }
                let len = usize::try_from(len).map_err(|_| AttError::InsufficientResources)?;
                if len > 0 {
                    self.inbound = Some((len, Vec::with_capacity(len)));
                }
                Ok(None)
            }
            Characteristic::Data => {
                let Some((expected, buf)) = self.inbound.as_mut() else {
                    return Err(AttError::InvalidOffset);
                };
                if buf.len().saturating_add(value.len()) > *expected {
                    return Err(AttError::InvalidOffset);
                }
                buf.extend_from_slice(value);
                if buf.len() == *expected {
                    Ok(self.inbound.take().map(|(_, frame)| frame))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Handles a read.
    pub fn read(&mut self, characteristic: Characteristic) -> Result<Vec<u8>, AttError> {
        match characteristic {
            Characteristic::TxCtl => Err(AttError::RequestNotSupported),
            Characteristic::RxCtl => {
                self.promote();
                Ok(match self.current.as_mut() {
                    Some((frame, offset)) => {
                        *offset = 0;
                        encode_len(u32::try_from(frame.bytes.len()).unwrap_or(u32::MAX)).to_vec()
                    }
                    None => encode_len(0).to_vec(),
                })
            }
            Characteristic::Data => {
                self.promote();
                let max = usize::from(self.mtu).saturating_sub(2);
                let Some((frame, offset)) = self.current.as_mut() else {
                    return Ok(Vec::new());
                };
                let end = offset.saturating_add(max).min(frame.bytes.len());
                let chunk = frame.bytes.get(*offset..end).unwrap_or_default().to_vec();
                *offset = end;
                if end >= frame.bytes.len() {
                    self.current = None;
                }
                Ok(chunk)
            }
        }
    }

    fn promote(&mut self) {
        if self.current.is_none() {
            self.current = self
                .responses
                .pop_front()
                .or_else(|| self.notifications.pop_front())
                .map(|frame| (frame, 0));
        }
    }

    /// Queues a response frame.
    pub fn push_response(&mut self, frame: Vec<u8>) {
        let queued = self.make_room(frame);
        self.responses.push_back(queued);
    }

    /// Queues a notification frame (behind every response).
    pub fn push_notification(&mut self, frame: Vec<u8>) {
        let queued = self.make_room(frame);
        self.notifications.push_back(queued);
    }

    /// Drops the oldest queued frames while the queue is full, and numbers `frame`.
    fn make_room(&mut self, frame: Vec<u8>) -> Queued {
        while self.responses.len() + self.notifications.len() >= MAX_QUEUE_LENGTH {
            let oldest_response = match (self.responses.front(), self.notifications.front()) {
                (Some(r), Some(n)) => r.seq < n.seq,
                (r, _) => r.is_some(),
            };
            if oldest_response {
                self.responses.pop_front();
            } else {
                self.notifications.pop_front();
            }
        }
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        Queued { seq, bytes: frame }
    }

    /// The length `rx_ctl` would report now (without restarting the data reads).
    pub fn pending_len(&self) -> u32 {
        let len = match &self.current {
            Some((frame, _)) => frame.bytes.len(),
            None => self
                .responses
                .front()
                .or_else(|| self.notifications.front())
                .map_or(0, |frame| frame.bytes.len()),
        };
        u32::try_from(len).unwrap_or(u32::MAX)
    }

    /// True while a request frame is half written.
    pub fn receiving(&self) -> bool {
        self.inbound.is_some()
    }

    /// The link dropped: the device destroys the channel, so a half-written request and every
    /// queued outbound frame go with it (rpc-gatts `MGOS_BT_GATTS_EV_DISCONNECT`, rpc-common
    /// `mg_rpc_remove_channel_internal`); a new connection starts empty.
    pub fn disconnect(&mut self) {
        self.inbound = None;
        self.clear_outbound();
    }

    /// Forgets every queued outbound frame.
    pub fn clear_outbound(&mut self) {
        self.current = None;
        self.responses.clear();
        self.notifications.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_a_chunked_request() {
        let mut s = Server::default();
        assert_eq!(s.write(Characteristic::TxCtl, &[0, 0, 0, 5]), Ok(None));
        assert_eq!(s.write(Characteristic::Data, b"ab"), Ok(None));
        assert!(s.receiving());
        assert_eq!(
            s.write(Characteristic::Data, b"cde"),
            Ok(Some(b"abcde".to_vec()))
        );
        assert!(!s.receiving());
    }

    /// The upstream server's ATT errors (rpc-gatts `mgos_rpc_channel_gatts.c`).
    #[test]
    fn rejects_bad_writes_with_att_errors() {
        let mut s = Server::new(247, 100);
        assert_eq!(
            s.write(Characteristic::TxCtl, &[0, 0, 5]),
            Err(AttError::RequestNotSupported)
        );
        assert_eq!(
            s.write(Characteristic::TxCtl, &[0, 0, 0, 101]),
            Err(AttError::InsufficientResources)
        );
        assert_eq!(
            s.write(Characteristic::Data, b"x"),
            Err(AttError::InvalidOffset)
        );
        s.write(Characteristic::TxCtl, &[0, 0, 0, 2]).unwrap();
        assert_eq!(
            s.write(Characteristic::Data, b"xyz"),
            Err(AttError::InvalidOffset)
        );
        assert_eq!(
            s.write(Characteristic::RxCtl, &[0, 0, 0, 0]),
            Err(AttError::WriteNotPermitted)
        );
        assert_eq!(
            s.read(Characteristic::TxCtl),
            Err(AttError::RequestNotSupported)
        );
    }

    #[test]
    fn tx_ctl_discards_a_half_written_frame() {
        let mut s = Server::default();
        s.write(Characteristic::TxCtl, &[0, 0, 0, 4]).unwrap();
        s.write(Characteristic::Data, b"ab").unwrap();
        s.write(Characteristic::TxCtl, &[0, 0, 0, 2]).unwrap();
        assert_eq!(
            s.write(Characteristic::Data, b"cd"),
            Ok(Some(b"cd".to_vec()))
        );
    }

    #[test]
    fn reads_answer_in_mtu_minus_two_chunks_and_rx_ctl_restarts() {
        let mut s = Server::new(23, 4096);
        let frame: Vec<u8> = (0..50u8).collect();
        assert_eq!(s.read(Characteristic::RxCtl), Ok(alloc::vec![0, 0, 0, 0]));
        s.push_response(frame.clone());
        assert_eq!(s.read(Characteristic::RxCtl), Ok(alloc::vec![0, 0, 0, 50]));
        assert_eq!(s.read(Characteristic::Data).unwrap().len(), 21);
        // Re-reading rx_ctl restarts the frame.
        assert_eq!(s.read(Characteristic::RxCtl), Ok(alloc::vec![0, 0, 0, 50]));
        let mut got = Vec::new();
        loop {
            let chunk = s.read(Characteristic::Data).unwrap();
            if chunk.is_empty() {
                break;
            }
            got.extend(chunk);
        }
        assert_eq!(got, frame);
        assert_eq!(s.read(Characteristic::RxCtl), Ok(alloc::vec![0, 0, 0, 0]));
    }

    /// rpc-gatts destroys the channel on disconnect, and its queued frames with it.
    #[test]
    fn disconnect_drops_the_frame_being_read_and_the_queue() {
        let mut s = Server::new(23, 4096);
        s.push_response((0..50u8).collect());
        s.push_notification(b"n1".to_vec());
        assert_eq!(s.read(Characteristic::RxCtl), Ok(alloc::vec![0, 0, 0, 50]));
        assert_eq!(s.read(Characteristic::Data).unwrap().len(), 21);
        s.disconnect();
        assert_eq!(s.pending_len(), 0);
        assert_eq!(s.read(Characteristic::RxCtl), Ok(alloc::vec![0, 0, 0, 0]));
        assert_eq!(s.read(Characteristic::Data), Ok(Vec::new()));
    }

    /// rpc-common queues at most `rpc.max_queue_length` (25) frames and drops the oldest.
    #[test]
    fn the_queue_keeps_the_newest_25_frames() {
        let mut s = Server::new(247, 4096);
        s.push_response(b"r".to_vec());
        for i in 0..30u8 {
            s.push_notification(alloc::vec![b'n', i]);
        }
        let mut got = Vec::new();
        while s.read(Characteristic::RxCtl).unwrap() != [0, 0, 0, 0] {
            got.push(s.read(Characteristic::Data).unwrap());
        }
        let newest: Vec<Vec<u8>> = (5..30u8).map(|i| alloc::vec![b'n', i]).collect();
        assert_eq!(got, newest, "the response and n0..n4 were the oldest");
        // The frame being read does not count: 25 more queue behind it.
        s.push_response(b"r0".to_vec());
        s.read(Characteristic::RxCtl).unwrap();
        for i in 1..=25u8 {
            s.push_response(alloc::vec![b'r', i]);
        }
        let mut got = Vec::new();
        while s.read(Characteristic::RxCtl).unwrap() != [0, 0, 0, 0] {
            got.push(s.read(Characteristic::Data).unwrap());
        }
        assert_eq!(got.len(), 26);
    }

    #[test]
    fn notifications_wait_behind_responses() {
        let mut s = Server::new(247, 4096);
        s.push_notification(b"n1".to_vec());
        s.push_response(b"resp".to_vec());
        s.push_notification(b"n2".to_vec());
        let mut order = Vec::new();
        while s.read(Characteristic::RxCtl).unwrap() != [0, 0, 0, 0] {
            order.push(s.read(Characteristic::Data).unwrap());
        }
        assert_eq!(order, [b"resp".to_vec(), b"n1".to_vec(), b"n2".to_vec()]);
    }
}

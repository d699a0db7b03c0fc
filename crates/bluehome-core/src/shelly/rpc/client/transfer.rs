//! The byte-level half of a call: the request frame's length to `tx_ctl` and its chunks to
//! `data`, then polls of `rx_ctl` and reads of `data` until the answer frame is in, with the
//! firmware quirks the module above lists.

use alloc::vec::Vec;

use super::{Action, Error, Feedback, Options};
use crate::shelly::frame::is_complete_json;
use crate::shelly::rpc::{AttError, Characteristic, decode_len, encode_len};

/// Where the transport is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// Write the length to `tx_ctl`.
    WriteLen,
    /// Write `frame[offset..end]` to data.
    WriteData {
        offset: usize,
        end: usize,
    },
    /// Read `rx_ctl`.
    ReadLen,
    /// Sleep, then read `rx_ctl`.
    PollLen {
        until: u64,
    },
    /// Read data.
    ReadData {
        expected: u32,
        garbage: bool,
    },
    /// Sleep, then read data.
    RetryData {
        until: u64,
        expected: u32,
        garbage: bool,
    },
    /// A frame sits in `rx`.
    Received,
    /// Listening and nothing is pending.
    Idle,
    Failed(Error),
}

/// The byte-level half of a call: moving one request frame out and one answer frame in.
#[derive(Debug, Clone)]
pub(super) struct Transfer {
    pub(super) options: Options,
    pub(super) chunk: usize,
    pub(super) fell_back: bool,
    pub(super) frame: Vec<u8>,
    pub(super) len_bytes: [u8; 4],
    pub(super) phase: Phase,
    pub(super) rx: Vec<u8>,
    pub(super) empty_reads: u32,
    pub(super) deadline: u64,
    pub(super) listen_only: bool,
    pub(super) ops: u32,
    pub(super) bytes_written: usize,
    pub(super) bytes_read: usize,
}

impl Transfer {
    pub(super) fn new(options: &Options, chunk: usize, deadline: u64) -> Self {
        Self {
            options: options.clone(),
            chunk: chunk.max(1),
            fell_back: false,
            frame: Vec::new(),
            len_bytes: [0; 4],
            phase: Phase::ReadLen,
            rx: Vec::new(),
            empty_reads: 0,
            deadline,
            listen_only: false,
            ops: 0,
            bytes_written: 0,
            bytes_read: 0,
        }
    }

    pub(super) fn send(&mut self, frame: Vec<u8>) {
        match u32::try_from(frame.len()) {
            Ok(len) => {
                self.len_bytes = encode_len(len);
                self.frame = frame;
                self.phase = Phase::WriteLen;
            }
            Err(_) => self.phase = Phase::Failed(Error::RequestTooLarge { len: frame.len() }),
        }
    }

    pub(super) fn receive(&mut self) {
        self.rx.clear();
        self.empty_reads = 0;
        self.phase = Phase::ReadLen;
    }

    pub(super) fn action(&self) -> Action<'_> {
        match &self.phase {
            Phase::WriteLen => Action::Write {
                characteristic: Characteristic::TxCtl,
                value: &self.len_bytes,
            },
            Phase::WriteData { offset, end } => Action::Write {
                characteristic: Characteristic::Data,
                value: self.frame.get(*offset..*end).unwrap_or_default(),
            },
            Phase::ReadLen => Action::Read {
                characteristic: Characteristic::RxCtl,
            },
            Phase::ReadData { .. } => Action::Read {
                characteristic: Characteristic::Data,
            },
            Phase::PollLen { until } | Phase::RetryData { until, .. } => {
                Action::Sleep { until_ms: *until }
            }
            Phase::Received | Phase::Idle | Phase::Failed(_) => Action::Done,
        }
    }

    fn next_chunk(&self, offset: usize) -> Phase {
        if offset >= self.frame.len() {
            Phase::ReadLen
        } else {
            Phase::WriteData {
                offset,
                end: offset.saturating_add(self.chunk).min(self.frame.len()),
            }
        }
    }

    fn sleep_until(&self, now: u64, delay: u64) -> u64 {
        now.saturating_add(delay).min(self.deadline)
    }

    fn waiting_for(&self) -> &'static str {
        match self.phase {
            Phase::WriteLen | Phase::WriteData { .. } => "write",
            Phase::ReadLen | Phase::PollLen { .. } => "rx_ctl length",
            _ => "data",
        }
    }

    pub(super) fn advance(&mut self, feedback: Feedback<'_>, now: u64) {
        let action = self.action();
        if matches!(action, Action::Done) {
            return;
        }
        if !matches!(feedback, Feedback::Woke) {
            self.ops = self.ops.saturating_add(1);
        }
        let phase = core::mem::replace(&mut self.phase, Phase::ReadLen);
        self.phase = self.step(phase, feedback, now);
        if now >= self.deadline
            && !matches!(self.phase, Phase::Received | Phase::Idle | Phase::Failed(_))
        {
            self.phase = Phase::Failed(Error::Timeout {
                waiting_for: self.waiting_for(),
            });
        }
    }

    fn step(&mut self, phase: Phase, feedback: Feedback<'_>, now: u64) -> Phase {
        match (phase, feedback) {
            (Phase::WriteLen, Feedback::Written) => {
                self.bytes_written = self.bytes_written.saturating_add(4);
                self.next_chunk(0)
            }
            (Phase::WriteData { end, offset }, Feedback::Written) => {
                self.bytes_written = self
                    .bytes_written
                    .saturating_add(end.saturating_sub(offset));
                self.next_chunk(end)
            }
            (Phase::WriteData { .. }, Feedback::Failed(error))
                if self.chunk > self.options.fallback_chunk_size
                    && !matches!(
                        error,
                        AttError::Disconnected
                            | AttError::InsufficientAuthentication
                            | AttError::WriteNotPermitted
                    ) =>
            {
                // Restart the frame with small chunks; writing tx_ctl discards the partial frame.
                self.chunk = self.options.fallback_chunk_size.max(1);
                self.fell_back = true;
                Phase::WriteLen
            }
            (Phase::WriteLen, Feedback::Failed(error)) => Phase::Failed(Error::Gatt {
                characteristic: Characteristic::TxCtl,
                error,
            }),
            (Phase::WriteData { .. } | Phase::ReadData { .. }, Feedback::Failed(error)) => {
                Phase::Failed(Error::Gatt {
                    characteristic: Characteristic::Data,
                    error,
                })
            }
            (Phase::ReadLen, Feedback::Failed(error)) => Phase::Failed(Error::Gatt {
                characteristic: Characteristic::RxCtl,
                error,
            }),
            (Phase::ReadLen, Feedback::Read(value)) => {
                self.bytes_read = self.bytes_read.saturating_add(value.len());
                let len = if value.is_empty() {
                    0
                } else {
                    match decode_len(value) {
                        Some(len) => len,
                        None => return Phase::Failed(Error::BadControlValue { len: value.len() }),
                    }
                };
                if len == 0 {
                    if self.listen_only {
                        Phase::Idle
                    } else {
                        Phase::PollLen {
                            until: self.sleep_until(now, self.options.poll_interval_ms),
                        }
                    }
                } else {
                    self.rx.clear();
                    self.empty_reads = 0;
                    Phase::ReadData {
                        expected: len,
                        garbage: len > self.options.max_response_len,
                    }
                }
            }
            (Phase::PollLen { .. }, Feedback::Woke) => Phase::ReadLen,
            (
                Phase::RetryData {
                    expected, garbage, ..
                },
                Feedback::Woke,
            ) => Phase::ReadData { expected, garbage },
            (Phase::ReadData { expected, garbage }, Feedback::Read(chunk)) => {
                self.bytes_read = self.bytes_read.saturating_add(chunk.len());
                self.read_data(expected, garbage, chunk, now)
            }
            // Feedback that does not answer the pending action: keep waiting for the right one.
            (phase, _) => phase,
        }
    }

    fn read_data(&mut self, expected: u32, garbage: bool, chunk: &[u8], now: u64) -> Phase {
        if chunk.is_empty() {
            if !self.rx.is_empty() && is_complete_json(&self.rx) {
                // Reads ran dry and what came is a whole frame: the garbage-length firmware bug.
                return Phase::Received;
            }
            self.empty_reads = self.empty_reads.saturating_add(1);
            if self.empty_reads > self.options.max_empty_reads {
                return Phase::Failed(Error::Incomplete {
                    expected,
                    received: self.rx.len(),
                });
            }
            return Phase::RetryData {
                until: self.sleep_until(now, self.options.empty_read_delay_ms),
                expected,
                garbage,
            };
        }
        self.empty_reads = 0;
        self.rx.extend_from_slice(chunk);
        let received = self.rx.len();
        let max = self.options.max_response_len;
        if u64::try_from(received).unwrap_or(u64::MAX) > u64::from(max) {
            return Phase::Failed(Error::TooLarge {
                len: u64::try_from(received).unwrap_or(u64::MAX),
                max,
            });
        }
        let expected_len = usize::try_from(expected).unwrap_or(usize::MAX);
        if garbage {
            // The length is not to be trusted; finish as soon as the bytes form a frame.
            if is_complete_json(&self.rx) {
                return Phase::Received;
            }
            return Phase::ReadData { expected, garbage };
        }
        match received.cmp(&expected_len) {
            core::cmp::Ordering::Less => Phase::ReadData { expected, garbage },
            core::cmp::Ordering::Equal => Phase::Received,
            core::cmp::Ordering::Greater => Phase::Failed(Error::Overrun { expected, received }),
        }
    }
}

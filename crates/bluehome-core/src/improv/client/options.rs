//! The client's tunables.

/// Tunables. Timeouts count from the start of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Between polls while no notification has arrived.
    pub poll_interval_ms: u64,
    /// Between polls once notifications have shown they work (a safety net only).
    pub notified_poll_interval_ms: u64,
    /// Device info and identify.
    pub answer_timeout_ms: u64,
    /// A Wi-Fi scan.
    pub scan_timeout_ms: u64,
    /// Sending Wi-Fi settings until "provisioned" (ESPHome gives its connection attempt 30 s).
    pub provision_timeout_ms: u64,
    /// Waiting for a person to press the device's button.
    pub authorization_timeout_ms: u64,
    /// How long a result identical to the previous one must stand before it counts.
    pub same_answer_ms: u64,
    /// The same for a scan, which takes seconds on the device.
    pub scan_same_answer_ms: u64,
    /// A scan answered one network per result: how long after the last one the list counts as
    /// complete when no empty result ends it.
    pub scan_list_quiet_ms: u64,
    /// A scan on a connection where no RPC-result notification has come: between reads of the
    /// result (the error is still read every [`Self::poll_interval_ms`]). A device answering one
    /// network per result replaces each with the next (Tasmota's Berry example every 200 ms); a
    /// read per network must come before that.
    pub scan_poll_interval_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            poll_interval_ms: 500,
            notified_poll_interval_ms: 2_000,
            answer_timeout_ms: 10_000,
            scan_timeout_ms: 30_000,
            provision_timeout_ms: 60_000,
            authorization_timeout_ms: 120_000,
            same_answer_ms: 2_000,
            scan_same_answer_ms: 10_000,
            scan_list_quiet_ms: 2_000,
            scan_poll_interval_ms: 50,
        }
    }
}

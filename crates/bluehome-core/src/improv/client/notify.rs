//! Notifications: a value the device sends without being read, and a result that arrives in
//! parts (see the module docs of [`super`], step 4).

use super::{Client, Phase, Task};
use crate::improv::Characteristic;
use crate::improv::rpc::{self, Network, Request, RpcResult};

impl Client {
    /// Feeds a notification (state, error or RPC result changed) at time `now_ms`. It may finish
    /// the running task; a read in flight meanwhile is then answered into nothing. A notification
    /// that came during an operation goes in with its feedback ([`Self::advance_after`]).
    pub fn notified(&mut self, characteristic: Characteristic, value: &[u8], now_ms: u64) {
        self.notifications = true;
        // A notification holds at most the link's MTU − 3 bytes (20 on a default link). Some
        // devices send a longer result in parts, which are joined by the frame's length byte
        // ([`ResultParts`]); ESP-IDF cuts a longer value instead (espressif/esp-idf#3315). A
        // part pending is followed by a read at once: where the notification was cut, the value
        // read is whole (ESPHome's `esp32_improv` sets the whole result), before a device
        // answering a scan one network per result replaces it.
        let joined;
        let value = if characteristic == Characteristic::RpcResult {
            let whole = self.parts.push(value);
            self.take_cut();
            let dropped = self.parts.take_dropped();
            if let Some(e) = dropped.clone() {
                self.parts_dropped(e);
            }
            match whole {
                Some(whole) => {
                    joined = whole;
                    &joined[..]
                }
                None => {
                    if self.parts.joining() || dropped.is_some() {
                        self.read_result_now(now_ms);
                    }
                    return;
                }
            }
        } else {
            value
        };
        if characteristic == Characteristic::RpcResult
            && let Some(Task::Command(p)) = &mut self.task
            && p.issued
        {
            p.result_notified = true;
        }
        let applied = self.apply(characteristic, value, true, now_ms);
        if self.phase == Phase::Done {
            return;
        }
        // A read under way answers with a value newer than this notification
        // ([`Self::advance_after`]): what waits for its reads waits for that one too.
        let reading = matches!(self.phase, Phase::Read(_));
        match applied.map(|()| self.evaluate(now_ms, reading)) {
            Err(e) => self.finish(Err(e)),
            Ok(Some(outcome)) => self.finish(outcome),
            Ok(None) => {}
        }
    }

    /// Keeps the network a scan result given up before it was whole names, if it names one whole
    /// SSID: ESP-IDF cuts a notification to the link's ATT MTU − 3 bytes (espressif/esp-idf#3315),
    /// and a device answering one network per result may replace the value before the read that
    /// follows the cut (Tasmota's Berry example replaces it every 200 ms, `Staars/berry-examples`,
    /// `ble/improv.be`). The bytes before the cut are the device's, and the SSID's length byte
    /// says it is whole; its signal and authentication stay unknown where the cut took them.
    pub(super) fn take_cut(&mut self) {
        let abandoned = self.parts.take_abandoned();
        if let Some(Task::Command(p)) = &mut self.task
            && p.issued
            && matches!(p.request, Request::ScanWifi)
            && let Some(network) = abandoned.as_deref().and_then(Network::from_cut_result)
        {
            p.cut = Some(network);
        }
    }

    /// Whether a notification (whole or joined from parts) gave the running command a result
    /// that is a valid frame.
    pub(super) fn result_notified_whole(&self) -> bool {
        matches!(&self.task, Some(Task::Command(p)) if p.result_notified)
            && RpcResult::parse(&self.result).is_ok()
    }

    /// Notified parts were dropped as no valid result (a cut notification, then another result
    /// in parts). The task does not fail for it: the device's value may be whole, so the result
    /// is read at once and polled from then on, as without notifications; only if nothing valid
    /// comes by the deadline is this the reason given.
    pub(super) fn parts_dropped(&mut self, e: rpc::Error) {
        if let Some(Task::Command(p)) = &mut self.task
            && p.issued
        {
            p.parts_dropped = Some(e);
        }
    }

    /// Ends a sleep at once when the next poll reads the result.
    pub(super) fn read_result_now(&mut self, now_ms: u64) {
        if let Phase::Sleep(until) = self.phase
            && until > now_ms
            && self.poll_set(now_ms).contains(&Characteristic::RpcResult)
        {
            self.phase = Phase::Sleep(now_ms);
        }
    }

    /// Whether reads of the result that are no whole result are left aside: the running command's
    /// notified parts were dropped (the value may hold a part), or a scan is listing networks
    /// (one unreadable value loses one network, not the list).
    pub(super) fn result_read_in_parts(&self) -> bool {
        matches!(
            &self.task,
            Some(Task::Command(p)) if p.parts_dropped.is_some() || p.listing.is_some()
        )
    }
}

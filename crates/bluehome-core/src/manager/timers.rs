//! Timers: each device's unavailability deadlines (one per history) in a heap, scan-request
//! expiry and waiter deadlines, fired in time order by [`Manager::advance`].

use alloc::vec::Vec;
use core::cmp::Reverse;

use super::device::Device;
use super::{Event, History, Manager, TrackId};

/// Which history a device deadline expires. The connectable entry orders first at equal
/// deadlines: it can only expire at or before the all-sources entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    /// The connectable history entry.
    Connectable,
    /// The all-sources history entry.
    All,
}

impl TimerKind {
    /// How many kinds there are (the length of `Device::queued`).
    pub(crate) const COUNT: usize = 2;

    const ALL: [Self; Self::COUNT] = [Self::Connectable, Self::All];

    /// Its place in `Device::queued`.
    pub(crate) const fn index(self) -> usize {
        match self {
            Self::Connectable => 0,
            Self::All => 1,
        }
    }
}

impl Manager {
    fn deadline(&self, d: &Device, kind: TimerKind) -> Option<u64> {
        let limit = self.limit_ms(d);
        match kind {
            TimerKind::All => d.all.as_ref().map(|_| d.last_seen_ms.saturating_add(limit)),
            TimerKind::Connectable => d
                .connectable
                .as_ref()
                .and(d.last_connectable_ms)
                .map(|t| t.saturating_add(limit)),
        }
    }

    /// Makes sure each of the device's current deadlines has a heap entry at or before it.
    pub(crate) fn schedule(&mut self, slot: u32) {
        let Some(s) = self.slots.get(slot as usize) else {
            return;
        };
        let generation = s.generation;
        let Some(d) = s.device.as_ref() else {
            return;
        };
        let wanted = TimerKind::ALL.map(|kind| (kind, self.deadline(d, kind)));
        for (kind, deadline) in wanted {
            let Some(deadline) = deadline else { continue };
            let Some(d) = self.at_mut(slot) else {
                return;
            };
            if let Some(q) = d.queued.get_mut(kind.index())
                && q.is_none_or(|q| deadline < q)
            {
                *q = Some(deadline);
                self.timers
                    .push(Reverse((deadline, slot, generation, kind)));
            }
        }
    }

    /// The earliest time [`Manager::advance`] has work to do (it may find nothing due then: call
    /// it and ask again).
    pub fn next_deadline(&self) -> Option<u64> {
        [
            self.timers.peek().map(|Reverse((t, ..))| *t),
            self.scan.next_expiry(),
            self.waiter_deadlines.first().map(|(t, _)| *t),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fires what is due before `now_ms` (not at it: a packet at a device's deadline keeps it),
    /// so that what a call at `now_ms` emits comes after them.
    pub(crate) fn catch_up(&mut self, now_ms: u64) {
        self.advance(now_ms.saturating_sub(1));
    }

    /// Fires everything due at or before `now_ms`, in time order, each stamped with its own time:
    /// unavailability, scan-request expiry, waiter timeouts.
    pub fn advance(&mut self, now_ms: u64) {
        loop {
            let unavailable = self
                .timers
                .peek()
                .map(|Reverse((t, ..))| *t)
                .filter(|&t| t <= now_ms);
            let scan = self.scan.next_expiry().filter(|&t| t <= now_ms);
            let waiter = self
                .waiter_deadlines
                .first()
                .map(|(t, _)| *t)
                .filter(|&t| t <= now_ms);
            let Some(t) = [unavailable, scan, waiter].into_iter().flatten().min() else {
                return;
            };
            if scan == Some(t) {
                self.expire_scans(t);
            } else if waiter == Some(t) {
                self.expire_waiters(t);
            } else {
                self.fire_timer();
            }
        }
    }

    fn fire_timer(&mut self) {
        let Some(Reverse((t, slot, generation, kind))) = self.timers.pop() else {
            return;
        };
        let Some(s) = self.slots.get(slot as usize) else {
            return;
        };
        if s.generation != generation {
            return;
        }
        let Some(d) = s.device.as_ref() else {
            return;
        };
        if d.queued.get(kind.index()).copied().flatten() != Some(t) {
            return; // superseded by an earlier entry
        }
        let current = self.deadline(d, kind);
        let Some(d) = self.at_mut(slot) else {
            return;
        };
        if let Some(q) = d.queued.get_mut(kind.index()) {
            *q = None;
        }
        match current {
            None => {}
            Some(c) if c > t => {
                if let Some(q) = d.queued.get_mut(kind.index()) {
                    *q = Some(c);
                }
                self.timers.push(Reverse((c, slot, generation, kind)));
            }
            Some(c) => self.expire_device(slot, kind, c),
        }
    }

    fn expire_device(&mut self, slot: u32, kind: TimerKind, at_ms: u64) {
        if kind == TimerKind::All && self.at(slot).is_some_and(|d| d.connectable.is_some()) {
            self.expire_device(slot, TimerKind::Connectable, at_ms);
        }
        let Some(d) = self.at_mut(slot) else {
            return;
        };
        let info = match kind {
            TimerKind::All => {
                // Home Assistant's all pass: the device is gone; forget everything but its BTHome
                // receiver state (kept so counters stay monotonic) and what it last was.
                d.sources.clear();
                d.owner = None;
                d.interval.reset();
                d.gone.clone_from(&d.all);
                d.all.take()
            }
            TimerKind::Connectable => d.connectable.take(),
        };
        let Some(info) = info else { return };
        let history = match kind {
            TimerKind::All => History::All,
            TimerKind::Connectable => History::Connectable,
        };
        let hits: Vec<u64> = self
            .trackers
            .iter()
            .filter(|t| t.key == info.key && t.history == history)
            .map(|t| t.id)
            .collect();
        for id in hits {
            self.emit(
                at_ms,
                Event::Unavailable {
                    id: TrackId(id),
                    info: info.clone(),
                },
            );
        }
    }
}

//! What callers registered: callbacks and waiters (found through the matcher index, step 7) and
//! unavailability trackers.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::device::{Device, ServiceInfo};
use super::{CallbackId, Event, History, Manager, TrackId, WaiterId};
use crate::device::DeviceKey;
use crate::filter::Matcher;

/// A waiter's test on a matching advertisement.
pub type Predicate = Box<dyn Fn(&ServiceInfo) -> bool + Send + Sync>;

pub(crate) enum RegistrationKind {
    Callback,
    Waiter {
        predicate: Option<Predicate>,
        deadline_ms: u64,
    },
}

pub(crate) struct Registration {
    matcher: Matcher,
    kind: RegistrationKind,
}

#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) id: u64,
    pub(crate) key: DeviceKey,
    pub(crate) history: History,
}

impl Manager {
    /// Runs the matcher index for this data and emits callbacks (in registration order) and
    /// resolved waiters.
    pub(crate) fn dispatch(&mut self, now_ms: u64, info: &ServiceInfo) {
        let mut scratch = core::mem::take(&mut self.scratch);
        scratch.clear();
        self.index
            .candidates(&info.key, info.name(), &info.data, &mut scratch);
        if scratch.is_empty() {
            self.scratch = scratch;
            return;
        }
        scratch.sort_unstable();
        scratch.dedup();
        let mut resolved = Vec::new();
        for &id in &scratch {
            let Some(reg) = self.registrations.get(&id) else {
                continue;
            };
            if !reg
                .matcher
                .matches_ignoring_address(&info.key, &info.data, info.connectable.into())
            {
                continue;
            }
            match &reg.kind {
                RegistrationKind::Callback => {
                    let event = Event::Callback {
                        id: CallbackId(id),
                        info: info.clone(),
                    };
                    self.emit(now_ms, event);
                }
                RegistrationKind::Waiter { predicate, .. } => {
                    if predicate.as_ref().is_none_or(|p| p(info)) {
                        resolved.push(id);
                    }
                }
            }
        }
        self.scratch = scratch;
        for id in resolved {
            self.finish_waiter(id);
            self.emit(
                now_ms,
                Event::WaiterDone {
                    id: WaiterId(id),
                    info: info.clone(),
                },
            );
        }
    }

    fn replay_history(&self, matcher: &Matcher) -> Vec<ServiceInfo> {
        let history = if matcher.connectable {
            History::Connectable
        } else {
            History::All
        };
        let pick = |d: &Device| -> Option<ServiceInfo> {
            let info = d.history(history)?;
            matcher
                .matches_ignoring_address(&info.key, &info.data, info.connectable.into())
                .then(|| info.clone())
        };
        match &matcher.address {
            Some(a) => self.entry(a).and_then(pick).into_iter().collect(),
            None => self
                .slots
                .iter()
                .filter_map(|s| s.device.as_ref().and_then(pick))
                .collect(),
        }
    }

    /// Registers a callback. Matching devices already in the history are reported at once (as
    /// Home Assistant's registration does).
    pub fn register_callback(&mut self, now_ms: u64, matcher: Matcher) -> CallbackId {
        self.catch_up(now_ms);
        let id = self.fresh_id();
        for info in self.replay_history(&matcher) {
            self.emit(
                now_ms,
                Event::Callback {
                    id: CallbackId(id),
                    info,
                },
            );
        }
        self.index.insert(id, &matcher);
        self.registrations.insert(
            id,
            Registration {
                matcher,
                kind: RegistrationKind::Callback,
            },
        );
        CallbackId(id)
    }

    /// Cancels a callback. Returns false when it was not registered.
    pub fn cancel_callback(&mut self, id: CallbackId) -> bool {
        match self.registrations.remove(&id.0) {
            Some(reg) => {
                self.index.remove(id.0, &reg.matcher);
                true
            }
            None => false,
        }
    }

    /// Waits for the first advertisement the matcher and the predicate accept, until
    /// `deadline_ms` (then [`Event::WaiterTimedOut`]; a deadline already past times out at
    /// `now_ms`). History counts: a matching device already known resolves it at once
    /// (`async_process_advertisements`).
    pub fn wait_for(
        &mut self,
        now_ms: u64,
        matcher: Matcher,
        predicate: Option<Predicate>,
        deadline_ms: u64,
    ) -> WaiterId {
        self.catch_up(now_ms);
        let deadline_ms = deadline_ms.max(now_ms);
        let id = self.fresh_id();
        let hit = self
            .replay_history(&matcher)
            .into_iter()
            .find(|info| predicate.as_ref().is_none_or(|p| p(info)));
        if let Some(info) = hit {
            self.emit(
                now_ms,
                Event::WaiterDone {
                    id: WaiterId(id),
                    info,
                },
            );
            return WaiterId(id);
        }
        self.index.insert(id, &matcher);
        self.waiter_deadlines.insert((deadline_ms, id));
        self.registrations.insert(
            id,
            Registration {
                matcher,
                kind: RegistrationKind::Waiter {
                    predicate,
                    deadline_ms,
                },
            },
        );
        WaiterId(id)
    }

    /// Cancels a waiter without an event. Returns false when it was not waiting.
    pub fn cancel_waiter(&mut self, id: WaiterId) -> bool {
        self.finish_waiter(id.0)
    }

    fn finish_waiter(&mut self, id: u64) -> bool {
        match self.registrations.remove(&id) {
            Some(reg) => {
                self.index.remove(id, &reg.matcher);
                if let RegistrationKind::Waiter { deadline_ms, .. } = reg.kind {
                    self.waiter_deadlines.remove(&(deadline_ms, id));
                }
                true
            }
            None => false,
        }
    }

    pub(crate) fn expire_waiters(&mut self, t: u64) {
        while let Some(&(deadline, id)) = self.waiter_deadlines.first() {
            if deadline > t {
                break;
            }
            self.finish_waiter(id);
            self.waiter_deadlines.remove(&(deadline, id));
            self.emit(deadline, Event::WaiterTimedOut { id: WaiterId(id) });
        }
    }

    /// Reports when the device leaves the connectable history or the all-sources history
    /// (`async_track_unavailable`).
    pub fn track_unavailable(&mut self, key: &DeviceKey, history: History) -> TrackId {
        let id = self.fresh_id();
        self.trackers.push(Tracker {
            id,
            key: key.clone(),
            history,
        });
        TrackId(id)
    }

    /// Cancels a tracker. Returns false when it was not registered.
    pub fn cancel_tracker(&mut self, id: TrackId) -> bool {
        let before = self.trackers.len();
        self.trackers.retain(|t| t.id != id.0);
        self.trackers.len() != before
    }

    /// Replays the device's current data to every matching callback and waiter, as if it were new
    /// (`async_rediscover_address`): the connectable entry, else the all-sources entry.
    pub fn rediscover_address(&mut self, now_ms: u64, key: &DeviceKey) {
        self.catch_up(now_ms);
        let info = match self.entry(key) {
            Some(d) => d.connectable.clone().or_else(|| d.all.clone()),
            None => None,
        };
        if let Some(info) = info {
            self.dispatch(now_ms, &info);
        }
    }
}

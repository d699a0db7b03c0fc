//! The scanners (sources) the manager hears from: registration, the table by name and by id, and
//! whether each one is scanning (Home Assistant's `async_register_scanner` and scanner watchdog).

use alloc::sync::Arc;

use hashbrown::HashMap;

use super::{Error, LOCAL_SOURCE, Manager, ScannerId, ScannerKind};
use crate::advertisement::Connectable;

#[derive(Debug)]
pub(crate) struct Scanner {
    pub(crate) id: ScannerId,
    pub(crate) name: Arc<str>,
    pub(crate) connectable: bool,
    pub(crate) kind: ScannerKind,
    pub(crate) registered: bool,
    pub(crate) last_seen_ms: u64,
}

/// The scanner table: by name (every packet names its source) and by id (a device's owner).
#[derive(Debug, Default)]
pub(crate) struct Scanners {
    by_name: HashMap<Arc<str>, ScannerId>,
    by_id: HashMap<ScannerId, Scanner>,
    next_id: ScannerId,
}

impl Scanners {
    pub(crate) fn get(&self, id: ScannerId) -> Option<&Scanner> {
        self.by_id.get(&id)
    }

    pub(crate) fn named(&self, name: &str) -> Option<&Scanner> {
        self.by_id.get(self.by_name.get(name)?)
    }

    fn named_mut(&mut self, name: &str) -> Option<&mut Scanner> {
        self.by_id.get_mut(self.by_name.get(name)?)
    }

    fn iter(&self) -> impl Iterator<Item = &Scanner> {
        self.by_id.values()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Adds a scanner, forgetting the least recently heard one first when `max` are kept.
    fn insert(
        &mut self,
        max: usize,
        name: &str,
        connectable: Connectable,
        kind: ScannerKind,
        now_ms: u64,
    ) -> ScannerId {
        if self.by_id.len() >= max.max(1)
            && let Some(oldest) = self
                .by_id
                .values()
                .min_by_key(|s| (s.last_seen_ms, s.id))
                .map(|s| s.id)
            && let Some(gone) = self.by_id.remove(&oldest)
        {
            self.by_name.remove(&gone.name);
        }
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        let name: Arc<str> = name.into();
        self.by_name.insert(Arc::clone(&name), id);
        self.by_id.insert(
            id,
            Scanner {
                id,
                name,
                connectable: connectable.is_yes(),
                kind,
                registered: true,
                last_seen_ms: now_ms,
            },
        );
        id
    }
}

/// How a source heard of only through its packets counts: `"local"` is the local scanner, any
/// other name a remote one.
fn kind_of(source: &str) -> ScannerKind {
    if source == LOCAL_SOURCE {
        ScannerKind::Local
    } else {
        ScannerKind::Remote
    }
}

impl Manager {
    /// Registers a named source. [`ScannerKind::Remote`] scanners (a Shelly gateway, a capture's
    /// other sources) stop counting as scanning after [`super::Config::remote_silence_ms`]
    /// without a packet.
    pub fn register_scanner(
        &mut self,
        now_ms: u64,
        source: &str,
        connectable: Connectable,
        kind: ScannerKind,
    ) -> Result<(), Error> {
        if let Some(s) = self.scanners.named_mut(source) {
            if s.registered {
                return Err(Error::DuplicateScanner {
                    source: Arc::clone(&s.name),
                });
            }
            s.registered = true;
            s.connectable = connectable.is_yes();
            s.kind = kind;
            s.last_seen_ms = now_ms;
            return Ok(());
        }
        let max = self.config.max_scanners;
        self.scanners.insert(max, source, connectable, kind, now_ms);
        Ok(())
    }

    /// Unregisters a source and forgets what it alone knew (Home Assistant's
    /// `async_remove_scanner`). Devices it owned are handed to another source on their next packet.
    pub fn unregister_scanner(&mut self, source: &str) -> Result<(), Error> {
        let Some(s) = self.scanners.named_mut(source).filter(|s| s.registered) else {
            return Err(Error::UnknownScanner {
                source: source.into(),
            });
        };
        s.registered = false;
        let id = s.id;
        for d in self.slots.iter_mut().filter_map(|s| s.device.as_mut()) {
            d.sources.retain(|e| e.scanner != id);
            if d.owner == Some(id) {
                d.interval.reset();
            }
        }
        Ok(())
    }

    /// Registered scanners that feed this history: connectable ones only, or all (Home
    /// Assistant's `async_scanner_count`).
    pub fn scanner_count(&self, history: super::History) -> usize {
        let connectable_only = history == super::History::Connectable;
        self.scanners
            .iter()
            .filter(|s| s.registered && (s.connectable || !connectable_only))
            .count()
    }

    /// Whether a registered scanner is scanning: local ones always, remote ones while they have
    /// sent something within [`super::Config::remote_silence_ms`].
    pub fn scanner_is_scanning(&self, now_ms: u64, source: &str) -> bool {
        self.scanners
            .named(source)
            .is_some_and(|s| self.scanning(s, now_ms))
    }

    pub(crate) fn scanning(&self, s: &Scanner, now_ms: u64) -> bool {
        s.registered
            && (s.kind == ScannerKind::Local
                || now_ms.saturating_sub(s.last_seen_ms) <= self.config.remote_silence_ms)
    }

    /// The scanner a packet came from, registered on the fly when new, and marked heard now.
    pub(crate) fn scanner_for(
        &mut self,
        now_ms: u64,
        source: &str,
        connectable: Connectable,
    ) -> ScannerId {
        if let Some(s) = self.scanners.named_mut(source) {
            if !s.registered {
                s.registered = true;
                s.kind = kind_of(source);
            }
            s.connectable |= connectable.is_yes();
            s.last_seen_ms = now_ms;
            return s.id;
        }
        let max = self.config.max_scanners;
        self.scanners
            .insert(max, source, connectable, kind_of(source), now_ms)
    }
}

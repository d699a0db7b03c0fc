//! The page's key-value storage: `localStorage` in the browser, memory in tests. Every saved
//! document of the app (scan data, bind keys, profiles) goes through this one interface.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// A string key-value store.
pub trait KeyValue {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`; an error when the store refuses (quota, private mode).
    fn set(&self, key: &str, value: &str) -> Result<(), String>;
    /// Every name in the store.
    fn names(&self) -> Vec<String>;
    /// Removes `key` (nothing happens when it is absent).
    fn remove(&self, key: &str);
    /// Whether the page may use the store at all (`localStorage` throws where site data is
    /// blocked).
    fn usable(&self) -> bool {
        true
    }
}

/// An in-memory store. Clones share their contents, so a test can "reload" over the same data.
/// [`MemoryStore::with_quota`] refuses writes past a size, as a full `localStorage` does, and
/// [`MemoryStore::blocked`] is one the page may not use.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    entries: Rc<RefCell<BTreeMap<String, String>>>,
    quota: Option<usize>,
    blocked: bool,
}

impl MemoryStore {
    /// A store that holds at most `bytes` of names and values together.
    pub fn with_quota(bytes: usize) -> Self {
        Self {
            quota: Some(bytes),
            ..Self::default()
        }
    }

    /// A store the page may not use, as `localStorage` where site data is blocked: it holds
    /// nothing and refuses every write.
    pub fn blocked() -> Self {
        Self {
            quota: Some(0),
            blocked: true,
            ..Self::default()
        }
    }
}

impl KeyValue for MemoryStore {
    fn usable(&self) -> bool {
        !self.blocked
    }

    fn get(&self, key: &str) -> Option<String> {
        self.entries.borrow().get(key).cloned()
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        let mut entries = self.entries.borrow_mut();
        if let Some(quota) = self.quota {
            let others: usize = entries
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(k, v)| k.len() + v.len())
                .sum();
            if others + key.len() + value.len() > quota {
                return Err(format!("could not save {key} (storage full)"));
            }
        }
        entries.insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn names(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    fn remove(&self, key: &str) {
        self.entries.borrow_mut().remove(key);
    }
}

/// Kept-aside copies of one document at most; a newer one replaces the oldest, which is
/// reported (with its text) first.
pub const MAX_KEPT_ASIDE: usize = 3;

/// What [`keep_aside`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptAside {
    /// Copied under `key`; `removed` is the oldest earlier copy (name and text), taken out to
    /// stay within [`MAX_KEPT_ASIDE`]: show it to the user, it is no longer in the store.
    Copied {
        /// Where the copy is.
        key: String,
        /// The copy removed to make room.
        removed: Option<(String, String)>,
    },
    /// An identical copy was already kept under this name: nothing was written.
    Already(String),
    /// The store refused the copy (full): the original is the only one.
    Failed(String),
}

/// The existing copies under `prefix` (`prefix` itself, or `prefix.<unix ms>`), oldest first.
fn copies(store: &dyn KeyValue, prefix: &str) -> Vec<(u64, String)> {
    let mut found: Vec<(u64, String)> = store
        .names()
        .into_iter()
        .filter_map(|name| {
            if name == prefix {
                return Some((0, name));
            }
            let stamp = name.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
            Some((stamp, name))
        })
        .collect();
    found.sort();
    found
}

/// Keeps `text` (a document that could not be used) under `prefix.<now_ms>`: once per distinct
/// content, at most [`MAX_KEPT_ASIDE`] copies, the oldest handed back when one has to go.
pub fn keep_aside(store: &dyn KeyValue, prefix: &str, text: &str, now_ms: u64) -> KeptAside {
    let existing = copies(store, prefix);
    if let Some((_, same)) = existing
        .iter()
        .find(|(_, name)| store.get(name).as_deref() == Some(text))
    {
        return KeptAside::Already(same.clone());
    }
    let mut stamp = now_ms;
    while existing.iter().any(|(s, _)| *s == stamp) {
        stamp += 1;
    }
    let key = format!("{prefix}.{stamp}");
    if let Err(e) = store.set(&key, text) {
        return KeptAside::Failed(e);
    }
    let removed = if existing.len() >= MAX_KEPT_ASIDE {
        existing.first().map(|(_, oldest)| {
            let old = store.get(oldest).unwrap_or_default();
            store.remove(oldest);
            (oldest.clone(), old)
        })
    } else {
        None
    };
    KeptAside::Copied { key, removed }
}

/// `window.localStorage` (absent outside a browser, or when the page may not use it).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserStorage;

impl BrowserStorage {
    fn storage() -> Option<web_sys::Storage> {
        #[cfg(target_arch = "wasm32")]
        {
            web_sys::window()?.local_storage().ok().flatten()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            None
        }
    }
}

impl KeyValue for BrowserStorage {
    fn usable(&self) -> bool {
        Self::storage().is_some()
    }

    fn get(&self, key: &str) -> Option<String> {
        Self::storage()?.get_item(key).ok().flatten()
    }

    fn names(&self) -> Vec<String> {
        let Some(storage) = Self::storage() else {
            return Vec::new();
        };
        let len = storage.length().unwrap_or(0);
        (0..len)
            .filter_map(|i| storage.key(i).ok().flatten())
            .collect()
    }

    fn remove(&self, key: &str) {
        if let Some(storage) = Self::storage() {
            let _ = storage.remove_item(key);
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), String> {
        let storage = Self::storage().ok_or("this page may not use local storage")?;
        storage
            .set_item(key, value)
            .map_err(|_| format!("could not save {key} (storage full or blocked)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every corruption used to go to the same `<name>.unreadable` key, the second overwriting
    /// the first without a word.
    #[test]
    fn copies_are_distinct_bounded_and_the_oldest_is_handed_back() {
        let store = MemoryStore::default();
        store.set("doc.unreadable", "legacy").unwrap();
        let mut kept = Vec::new();
        for (i, text) in ["one", "two", "three"].into_iter().enumerate() {
            kept.push(keep_aside(&store, "doc.unreadable", text, 100 + i as u64));
        }
        assert_eq!(
            kept[0],
            KeptAside::Copied {
                key: "doc.unreadable.100".into(),
                removed: None
            }
        );
        assert_eq!(
            kept[1],
            KeptAside::Copied {
                key: "doc.unreadable.101".into(),
                removed: None
            }
        );
        assert_eq!(
            kept[2],
            KeptAside::Copied {
                key: "doc.unreadable.102".into(),
                removed: Some(("doc.unreadable".into(), "legacy".into()))
            }
        );
        assert_eq!(
            store.names(),
            [
                "doc.unreadable.100",
                "doc.unreadable.101",
                "doc.unreadable.102"
            ]
        );
        // The same millisecond twice still gives two names.
        let again = keep_aside(&store, "doc.unreadable", "four", 102);
        assert!(matches!(again, KeptAside::Copied { key, .. } if key == "doc.unreadable.103"));
    }

    /// A corrupt profiles document was copied again on every visit, until storage was full.
    #[test]
    fn the_same_content_is_kept_once() {
        let store = MemoryStore::default();
        let first = keep_aside(&store, "p.kept-aside", "{bad", 1);
        assert_eq!(
            keep_aside(&store, "p.kept-aside", "{bad", 2),
            KeptAside::Already("p.kept-aside.1".into())
        );
        assert!(matches!(first, KeptAside::Copied { .. }));
        assert_eq!(store.names().len(), 1);
    }

    #[test]
    fn a_full_store_refuses_the_copy() {
        let store = MemoryStore::with_quota(30);
        store.set("doc", "0123456789").unwrap();
        assert!(matches!(
            keep_aside(&store, "doc.unreadable", "0123456789", 5),
            KeptAside::Failed(_)
        ));
        assert_eq!(store.names(), ["doc"]);
    }

    /// The test store's quota counts every name and value but the one being replaced: a write
    /// that fills it exactly fits, one byte more is refused and changes nothing.
    #[test]
    fn the_quota_counts_names_and_values_to_the_byte() {
        let store = MemoryStore::with_quota(20);
        store.set("doc", "0123456789").unwrap();
        store.set("doc", "0123456789ab").unwrap();
        assert!(store.set("b", "1234").is_ok(), "3 + 12 + 1 + 4 = 20");
        assert!(store.set("b", "12345").is_err());
        assert_eq!(store.get("b").as_deref(), Some("1234"));
    }
}

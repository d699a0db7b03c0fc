//! Persistence of the device profiles in the browser's local storage.
//!
//! The core [`Profiles`] state machine decides *when* to save (at once for slot changes, after a
//! trailing debounce for the active index) and *what* (a versioned JSON document). This module
//! only reads and writes it, and keeps aside whatever could not be loaded under a second key, so
//! a corrupt or newer-version store is reported and never silently lost.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use bluehome_core::profiles::{Config, LoadIssue, Profiles};

/// The storage key of the profiles document.
pub const PROFILES_KEY: &str = "bluehome.profiles";
/// The key prefix under which unloadable documents are kept (`<prefix>.<unix ms>`).
pub const KEPT_ASIDE_PREFIX: &str = "bluehome.profiles.kept-aside";

/// A string key-value store: the browser's `localStorage`, or memory in tests.
pub trait KeyValue {
    /// The value under `key`.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`; false when the store refused (quota, private mode).
    fn set(&self, key: &str, value: &str) -> bool;
}

/// `window.localStorage` (missing outside a browser, or when the page may not use it).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStorage;

impl LocalStorage {
    #[cfg(target_arch = "wasm32")]
    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }
}

impl KeyValue for LocalStorage {
    fn get(&self, key: &str) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        {
            Self::storage()?.get_item(key).ok().flatten()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = key;
            None
        }
    }

    fn set(&self, key: &str, value: &str) -> bool {
        #[cfg(target_arch = "wasm32")]
        {
            Self::storage().is_some_and(|s| s.set_item(key, value).is_ok())
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (key, value);
            false
        }
    }
}

/// An in-memory store (tests, and a fallback when local storage is unavailable).
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage(pub Rc<RefCell<BTreeMap<String, String>>>);

impl KeyValue for MemoryStorage {
    fn get(&self, key: &str) -> Option<String> {
        self.0.borrow().get(key).cloned()
    }

    fn set(&self, key: &str, value: &str) -> bool {
        self.0.borrow_mut().insert(key.to_owned(), value.to_owned());
        true
    }
}

/// What the user is told after loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadNotice {
    /// One line per problem.
    pub issues: Vec<String>,
    /// The key the original document was copied to (None if even that failed).
    pub kept_under: Option<String>,
    /// The original document, for a download button.
    pub original: String,
}

/// Loads the profiles. Problems come back as a notice; the original text is copied under
/// `<KEPT_ASIDE_PREFIX>.<now_ms>` first, so the next save cannot overwrite the only copy.
pub fn load(store: &dyn KeyValue, config: Config, now_ms: u64) -> (Profiles, Option<LoadNotice>) {
    let text = store.get(PROFILES_KEY);
    let loaded = Profiles::load(text.as_deref(), config);
    let notice = loaded.kept_aside.map(|original| {
        let key = format!("{KEPT_ASIDE_PREFIX}.{now_ms}");
        let kept_under = store.set(&key, &original).then_some(key);
        LoadNotice {
            issues: loaded.issues.iter().map(describe).collect(),
            kept_under,
            original,
        }
    });
    (loaded.profiles, notice)
}

fn describe(issue: &LoadIssue) -> String {
    issue.to_string()
}

/// Writes the storage document. False when the store refused.
pub fn save(store: &dyn KeyValue, profiles: &Profiles) -> bool {
    store.set(PROFILES_KEY, &profiles.to_storage_json())
}

#[cfg(test)]
mod tests {
    use bluehome_core::MacAddress;
    use bluehome_core::profiles::Binding;

    use super::*;

    #[test]
    fn saved_slots_load_back() {
        let store = MemoryStorage::default();
        let mut p = Profiles::default();
        p.bind(Binding::new(MacAddress([1, 2, 3, 4, 5, 6]), "plug"))
            .unwrap();
        assert!(save(&store, &p));
        let (back, notice) = load(&store, Config::default(), 0);
        assert_eq!(notice, None);
        assert_eq!(back.slot(0).map(|b| b.name.as_str()), Some("plug"));
    }

    #[test]
    fn corrupt_store_is_copied_aside_and_reported() {
        let store = MemoryStorage::default();
        store.set(PROFILES_KEY, "{not json");
        let (profiles, notice) = load(&store, Config::default(), 1234);
        let notice = notice.expect("a notice");
        assert_eq!(
            notice.kept_under.as_deref(),
            Some("bluehome.profiles.kept-aside.1234")
        );
        assert_eq!(
            store.get("bluehome.profiles.kept-aside.1234").as_deref(),
            Some("{not json")
        );
        assert_eq!(notice.issues.len(), 1);
        assert!(notice.issues[0].starts_with("the saved profiles are unreadable"));
        assert_eq!(profiles.active_binding(), None);
    }
}

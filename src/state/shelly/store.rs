//! Persistence of the device profiles in the browser's local storage.
//!
//! The core [`Profiles`] state machine decides *when* to save (at once for slot changes, after a
//! trailing debounce for the active index) and *what* (a versioned JSON document). This module
//! only reads and writes it, and keeps aside whatever could not be loaded under a second key, so
//! a corrupt or newer-version store is reported and never silently lost.

use bluehome_core::profiles::{Config, LoadIssue, Profiles};

use crate::state::storage::KeyValue;

/// The storage key of the profiles document.
pub const PROFILES_KEY: &str = "bluehome.profiles";
/// The key prefix under which unloadable documents are kept (`<prefix>.<unix ms>`).
pub const KEPT_ASIDE_PREFIX: &str = "bluehome.profiles.kept-aside";

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
        let kept_under = store.set(&key, &original).is_ok().then_some(key);
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
    store.set(PROFILES_KEY, &profiles.to_storage_json()).is_ok()
}

#[cfg(test)]
mod tests {
    use bluehome_core::MacAddress;
    use bluehome_core::profiles::Binding;

    use super::*;
    use crate::state::storage::MemoryStore;

    #[test]
    fn saved_slots_load_back() {
        let store = MemoryStore::default();
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
        let store = MemoryStore::default();
        store.set(PROFILES_KEY, "{not json").unwrap();
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

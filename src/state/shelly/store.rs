//! Persistence of the device profiles in the browser's local storage.
//!
//! The core [`Profiles`] state machine decides *when* to save (at once for slot changes, after a
//! trailing debounce for the active index) and *what* (a versioned JSON document). This module
//! only reads and writes it, and keeps aside whatever could not be loaded under a second key, so
//! a corrupt or newer-version store is reported and never silently lost: once per distinct
//! content (a corrupt store read on every visit is copied once), at most
//! [`MAX_KEPT_ASIDE`](crate::state::storage::MAX_KEPT_ASIDE) copies, the oldest handed to the
//! user before it goes. When the copy fails, the session does not save over the original until
//! the user dismisses the notice (after downloading it).

use bluehome_core::profiles::{Config, Effect, LoadIssue, Profiles};

use crate::state::storage::{KeptAside, KeyValue, keep_aside};

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
    /// The oldest kept-aside copy, removed from storage to make room (name and text), for a
    /// download button.
    pub removed: Option<(String, String)>,
}

/// Loads the profiles. Problems come back as a notice; the original text is copied under
/// `<KEPT_ASIDE_PREFIX>.<now_ms>` first (unless an identical copy is already kept), so the next
/// save cannot overwrite the only copy.
pub fn load(store: &dyn KeyValue, config: Config, now_ms: u64) -> (Profiles, Option<LoadNotice>) {
    let text = store.get(PROFILES_KEY);
    let loaded = Profiles::load(text.as_deref(), config);
    let notice = loaded.kept_aside.map(|original| {
        let (kept_under, removed) = match keep_aside(store, KEPT_ASIDE_PREFIX, &original, now_ms) {
            KeptAside::Copied { key, removed } => (Some(key), removed),
            KeptAside::Already(key) => (Some(key), None),
            KeptAside::Failed(_) => (None, None),
        };
        LoadNotice {
            issues: loaded.issues.iter().map(describe).collect(),
            kept_under,
            original,
            removed,
        }
    });
    (loaded.profiles, notice)
}

fn describe(issue: &LoadIssue) -> String {
    issue.to_string()
}

/// Writes the storage document, first taking in what another window of the page saved since
/// this one last read or wrote it ([`Profiles::take_in`]: neither window writes over the other's
/// devices). False when the store refused; the effects are the take-in's.
pub fn save(store: &dyn KeyValue, profiles: &mut Profiles) -> (bool, Vec<Effect>) {
    let effects = take_in(store, profiles);
    let written = store.set(PROFILES_KEY, &profiles.to_storage_json()).is_ok();
    if written {
        profiles.saved();
    }
    (written, effects)
}

/// Takes in the storage document another window wrote ([`Profiles::take_in`]).
pub fn take_in(store: &dyn KeyValue, profiles: &mut Profiles) -> Vec<Effect> {
    store
        .get(PROFILES_KEY)
        .map(|text| profiles.take_in(&text))
        .unwrap_or_default()
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
        assert!(save(&store, &mut p).0);
        let (back, notice) = load(&store, Config::default(), 0);
        assert_eq!(notice, None);
        assert_eq!(back.slot(0).map(|b| b.name.as_str()), Some("plug"));
    }

    /// Two windows each saving the device it bound, neither having heard of the other's save:
    /// both devices stay saved.
    #[test]
    fn two_windows_saving_in_turn_keep_both_devices() {
        let store = MemoryStore::default();
        let (mut here, _) = load(&store, Config::default(), 0);
        let (mut there, _) = load(&store, Config::default(), 0);
        let (plug, switch) = (MacAddress([1; 6]), MacAddress([2; 6]));
        there.bind(Binding::new(plug, "plug")).unwrap();
        assert!(save(&store, &mut there).0);
        here.bind(Binding::new(switch, "switch")).unwrap();
        assert!(save(&store, &mut here).0);
        let (back, _) = load(&store, Config::default(), 0);
        assert_eq!((back.find(switch), back.find(plug)), (Some(0), Some(1)));
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

    /// A corrupt document was copied again, under a new key, on every visit of the Devices page
    /// until storage was full.
    #[test]
    fn a_corrupt_store_read_again_is_not_copied_again() {
        let store = MemoryStore::default();
        store.set(PROFILES_KEY, "{not json").unwrap();
        let (_, first) = load(&store, Config::default(), 1);
        let (_, second) = load(&store, Config::default(), 2);
        assert_eq!(
            first.unwrap().kept_under.as_deref(),
            Some("bluehome.profiles.kept-aside.1")
        );
        assert_eq!(
            second.unwrap().kept_under.as_deref(),
            Some("bluehome.profiles.kept-aside.1")
        );
        assert_eq!(
            store.names(),
            [PROFILES_KEY, "bluehome.profiles.kept-aside.1"]
        );
    }

    #[test]
    fn the_oldest_copy_is_handed_back_when_one_has_to_go() {
        let store = MemoryStore::default();
        for (i, text) in ["{a", "{b", "{c", "{d"].into_iter().enumerate() {
            store.set(PROFILES_KEY, text).unwrap();
            let (_, notice) = load(&store, Config::default(), i as u64);
            let removed = notice.unwrap().removed;
            if i < 3 {
                assert_eq!(removed, None);
            } else {
                assert_eq!(
                    removed,
                    Some(("bluehome.profiles.kept-aside.0".into(), "{a".into()))
                );
            }
        }
    }
}

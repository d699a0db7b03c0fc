//! "Forget everything": erase what bluehome keeps in this browser.

/// Every storage name bluehome writes starts with this (`bluehome.scan`, `bluehome.keys`,
/// `bluehome.profiles`, and the `.unreadable` / kept-aside copies of each).
pub const PREFIX: &str = "bluehome.";

/// The storage names among `keys` that belong to bluehome. Other apps on the same origin (a
/// shared static host) keep theirs.
pub fn ours<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    keys.into_iter().filter(|k| k.starts_with(PREFIX)).collect()
}

/// Whether a `storage` event (its `key` and `newValue`) says another window erased what bluehome
/// keeps: one of its entries removed, or the whole storage cleared (no key). bluehome removes its
/// entries only in `forget_everything`.
pub fn erased_elsewhere(key: Option<&str>, new_value: Option<&str>) -> bool {
    new_value.is_none() && key.is_none_or(|k| k.starts_with(PREFIX))
}

/// Removes bluehome's entries from localStorage and sessionStorage: bind keys, remembered password
/// digests, profiles, labels and history. Returns how many entries were removed.
#[cfg(target_arch = "wasm32")]
pub fn forget_everything() -> usize {
    let Some(window) = web_sys::window() else {
        return 0;
    };
    let mut removed = 0;
    for storage in [window.local_storage(), window.session_storage()] {
        let Ok(Some(storage)) = storage else { continue };
        let len = storage.length().unwrap_or(0);
        let names: Vec<String> = (0..len)
            .filter_map(|i| storage.key(i).ok().flatten())
            .collect();
        for name in ours(names.iter().map(String::as_str)) {
            if storage.remove_item(name).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_removed_or_storage_cleared_elsewhere_is_an_erasure() {
        assert!(erased_elsewhere(Some("bluehome.profiles"), None));
        assert!(erased_elsewhere(None, None), "localStorage.clear()");
        assert!(!erased_elsewhere(Some("bluehome.profiles"), Some("{}")));
        assert!(!erased_elsewhere(Some("other-app.token"), None));
    }

    #[test]
    fn only_bluehome_entries_are_ours() {
        let keys = [
            "bluehome.keys",
            "bluehome.profiles.kept-aside.17",
            "other-app.token",
            "bluehomes",
        ];
        assert_eq!(
            ours(keys),
            ["bluehome.keys", "bluehome.profiles.kept-aside.17"]
        );
    }
}

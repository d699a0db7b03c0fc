//! The app's saved documents from arbitrary text (what a corrupt or hostile localStorage holds):
//! the scan store, the bind keys and the device profiles. Loading never panics and never drops
//! data without saying so (anything left out comes with an issue and the original to keep
//! aside); what loads is saved and loaded again unchanged.
#![no_main]

use bluehome_core::profiles::{Config, Profiles};
use bluehome_core::saved::{KeysDocument, LoadIssue, ScanDocument};
use libfuzzer_sys::fuzz_target;

/// Anything dropped but a point that was not a number must hand the original back.
fn check_kept<T>(text: &str, issues: &[LoadIssue], kept: Option<&String>) {
    let dropped = issues
        .iter()
        .any(|i| !matches!(i, LoadIssue::NotNumbers { .. }));
    if dropped {
        assert_eq!(kept.map(String::as_str), Some(text));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let scan = ScanDocument::load(Some(text));
    check_kept::<ScanDocument>(text, &scan.issues, scan.kept_aside.as_ref());
    if let Some(doc) = scan.value {
        let again = ScanDocument::load(Some(&doc.to_json()));
        assert!(again.issues.is_empty(), "{:?}", again.issues);
        let mut finite = doc.clone();
        for device in finite.history.values_mut() {
            for reading in &mut device.readings {
                reading.points.retain(|p| p.1.is_finite());
            }
        }
        assert_eq!(again.value, Some(finite));
    }

    let keys = KeysDocument::load(Some(text));
    check_kept::<KeysDocument>(text, &keys.issues, keys.kept_aside.as_ref());
    if let Some(doc) = keys.value {
        let again = KeysDocument::load(Some(&doc.to_json()));
        assert!(again.issues.is_empty());
        assert_eq!(again.value, Some(doc));
    }

    let profiles = Profiles::load(Some(text), Config::default());
    if !profiles.issues.is_empty() {
        assert_eq!(profiles.kept_aside.as_deref(), Some(text));
    }
    let stored = profiles.profiles.to_storage_json();
    let again = Profiles::load(Some(&stored), Config::default());
    assert!(again.issues.is_empty(), "{:?}", again.issues);
    assert_eq!(again.profiles.to_storage_json(), stored);
});

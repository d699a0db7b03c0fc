//! AD structures: the iterator must never panic, must fuse after an error, and every structure it
//! yields must re-encode to the same bytes.
#![no_main]

use bluehome_core::Advertisement;
use bluehome_core::ad::{self, AdStructure};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut iter = ad::iter(data);
    let mut structures: Vec<AdStructure<'_>> = Vec::new();
    for item in iter.by_ref() {
        match item {
            Ok(s) => structures.push(s),
            Err(_) => break,
        }
    }
    assert!(iter.next().is_none(), "the iterator is fused");
    let mut out = Vec::new();
    for s in &structures {
        s.encode_to_vec(&mut out).expect("a parsed structure re-encodes");
    }
    let back: Vec<_> = ad::iter(&out).collect::<Result<_, _>>().expect("re-encoded bytes parse");
    assert_eq!(back, structures);
    let _ = Advertisement::from_ad_bytes_lossy(data);
});

//! The public BTHome vectors file (`tests/data/bthome_public.json`), as the vector tests and the
//! decode benchmark walk it.

use serde_json::Value;

/// The file's sections of vectors, in order.
pub const SECTIONS: [&str; 4] = [
    "test_vectors",
    "spec_vectors",
    "shelly_vectors",
    "edge_vectors",
];

/// Every vector of every section, in the file's order.
pub fn every_vector(file: &Value) -> impl Iterator<Item = &Value> {
    SECTIONS.into_iter().flat_map(move |section| {
        file[section]
            .as_array()
            .unwrap_or_else(|| panic!("no section {section}"))
            .iter()
    })
}

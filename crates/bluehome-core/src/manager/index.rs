//! The matcher index: each registration sits in exactly one bucket, so an advertisement only
//! examines the matchers that could possibly match it (Home Assistant's
//! `BluetoothCallbackMatcherIndex`).
//!
//! Bucket priority: `address` > `local_name` (its first three characters) > `manufacturer_id`
//! (further split by the first byte of `manufacturer_data_start`) > `service_uuid` >
//! `service_data_uuid` > the catch-all list checked for every advertisement.

use alloc::string::String;
use alloc::vec::Vec;

use hashbrown::HashMap;

use crate::advertisement::Advertisement;
use crate::device::DeviceKey;
use crate::filter::Matcher;
use crate::filter::Pattern;
use crate::uuid::Uuid;

/// Where a matcher lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    Address(DeviceKey),
    Name(String),
    Manufacturer(u16, Option<u8>),
    Service(Uuid),
    ServiceData(Uuid),
    All,
}

/// The first `n` characters of `text` (or all of it).
pub(crate) fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((end, _)) => text.get(..end).unwrap_or(text),
        None => text,
    }
}

fn bucket_of(m: &Matcher) -> Bucket {
    if let Some(a) = &m.address {
        Bucket::Address(a.clone())
    } else if let Some(p) = &m.local_name {
        Bucket::Name(name_key(p))
    } else if let Some(id) = m.manufacturer_id {
        Bucket::Manufacturer(id, m.manufacturer_data_start.first().copied())
    } else if let Some(u) = m.service_uuid {
        Bucket::Service(u)
    } else if let Some(u) = m.service_data_uuid {
        Bucket::ServiceData(u)
    } else {
        Bucket::All
    }
}

fn name_key(p: &Pattern) -> String {
    String::from(first_chars(
        p.as_str(),
        crate::filter::LOCAL_NAME_INDEX_CHARS,
    ))
}

/// Registration ids by bucket.
#[derive(Debug, Default)]
pub(crate) struct Index {
    address: HashMap<DeviceKey, Vec<u64>>,
    name: HashMap<String, Vec<u64>>,
    manufacturer: HashMap<(u16, Option<u8>), Vec<u64>>,
    service: HashMap<Uuid, Vec<u64>>,
    service_data: HashMap<Uuid, Vec<u64>>,
    all: Vec<u64>,
}

impl Index {
    fn list(&mut self, bucket: Bucket) -> &mut Vec<u64> {
        match bucket {
            Bucket::Address(a) => self.address.entry(a).or_default(),
            Bucket::Name(n) => self.name.entry(n).or_default(),
            Bucket::Manufacturer(id, b) => self.manufacturer.entry((id, b)).or_default(),
            Bucket::Service(u) => self.service.entry(u).or_default(),
            Bucket::ServiceData(u) => self.service_data.entry(u).or_default(),
            Bucket::All => &mut self.all,
        }
    }

    pub(crate) fn insert(&mut self, id: u64, m: &Matcher) {
        self.list(bucket_of(m)).push(id);
    }

    pub(crate) fn remove(&mut self, id: u64, m: &Matcher) {
        let bucket = bucket_of(m);
        let list = self.list(bucket.clone());
        list.retain(|&x| x != id);
        if list.is_empty() {
            match bucket {
                Bucket::Address(a) => drop(self.address.remove(&a)),
                Bucket::Name(n) => drop(self.name.remove(&n)),
                Bucket::Manufacturer(id, b) => drop(self.manufacturer.remove(&(id, b))),
                Bucket::Service(u) => drop(self.service.remove(&u)),
                Bucket::ServiceData(u) => drop(self.service_data.remove(&u)),
                Bucket::All => {}
            }
        }
    }

    /// Pushes the ids of every registration that might match (each at most once), unsorted.
    pub(crate) fn candidates(
        &self,
        key: &DeviceKey,
        name: &str,
        adv: &Advertisement,
        out: &mut Vec<u64>,
    ) {
        if let Some(list) = self.address.get(key) {
            out.extend_from_slice(list);
        }
        if !self.name.is_empty()
            && let Some(list) = self
                .name
                .get(first_chars(name, crate::filter::LOCAL_NAME_INDEX_CHARS))
        {
            out.extend_from_slice(list);
        }
        if !self.manufacturer.is_empty() {
            for (id, data) in &adv.manufacturer_data {
                if let Some(list) = self.manufacturer.get(&(*id, None)) {
                    out.extend_from_slice(list);
                }
                if let Some(first) = data.first()
                    && let Some(list) = self.manufacturer.get(&(*id, Some(*first)))
                {
                    out.extend_from_slice(list);
                }
            }
        }
        if !self.service.is_empty() {
            for u in &adv.service_uuids {
                if let Some(list) = self.service.get(u) {
                    out.extend_from_slice(list);
                }
            }
        }
        if !self.service_data.is_empty() {
            for u in adv.service_data.keys() {
                if let Some(list) = self.service_data.get(u) {
                    out.extend_from_slice(list);
                }
            }
        }
        out.extend_from_slice(&self.all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(json: &str) -> Matcher {
        Matcher::from_json(json).unwrap()
    }

    #[test]
    fn each_matcher_lands_in_one_bucket_by_priority() {
        assert_eq!(
            bucket_of(&m(r#"{"address":"aa:bb:cc:dd:ee:ff","local_name":"abc"}"#)),
            Bucket::Address("AA:BB:CC:DD:EE:FF".parse().unwrap())
        );
        assert_eq!(
            bucket_of(&m(r#"{"local_name":"Shelly*","manufacturer_id":2985}"#)),
            Bucket::Name("She".into())
        );
        assert_eq!(
            bucket_of(&m(
                r#"{"manufacturer_id":76,"manufacturer_data_start":[6],"service_uuid":"180f"}"#
            )),
            Bucket::Manufacturer(76, Some(6))
        );
        assert_eq!(
            bucket_of(&m(r#"{"service_uuid":"180f","service_data_uuid":"fcd2"}"#)),
            Bucket::Service(Uuid::from_u16(0x180F))
        );
        assert_eq!(bucket_of(&m("{}")), Bucket::All);
    }

    #[test]
    fn lookups_only_return_buckets_the_advertisement_can_hit() {
        let mut index = Index::default();
        index.insert(1, &m(r#"{"manufacturer_id":76}"#));
        index.insert(
            2,
            &m(r#"{"manufacturer_id":76,"manufacturer_data_start":[6]}"#),
        );
        index.insert(
            3,
            &m(r#"{"manufacturer_id":76,"manufacturer_data_start":[2]}"#),
        );
        index.insert(4, &m(r#"{"local_name":"Prodigio_*"}"#));
        index.insert(5, &m(r#"{"service_data_uuid":"fcd2"}"#));
        let mut adv = Advertisement::default();
        adv.manufacturer_data.insert(76, alloc::vec![6, 0]);
        let mut out = Vec::new();
        index.candidates(
            &"AA:BB:CC:DD:EE:FF".parse().unwrap(),
            "Prodigio_1",
            &adv,
            &mut out,
        );
        out.sort_unstable();
        assert_eq!(out, [1, 2, 4]);
    }

    #[test]
    fn removal_empties_the_bucket() {
        let mut index = Index::default();
        let matcher = m(r#"{"local_name":"abc"}"#);
        index.insert(7, &matcher);
        index.remove(7, &matcher);
        assert!(index.name.is_empty());
    }

    #[test]
    fn name_prefix_counts_characters() {
        assert_eq!(first_chars("Kü-che", 3), "Kü-");
        assert_eq!(first_chars("ab", 3), "ab");
    }
}

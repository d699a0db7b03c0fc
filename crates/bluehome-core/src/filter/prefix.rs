//! A byte prefix with a mask: Shelly's and Web Bluetooth's `dataPrefix` + `mask`, one matcher for
//! both (and for the Shelly manufacturer-data MAC blocks the app asks the chooser for).

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use super::{Error, as_hex, join};

/// Leading bytes to compare, with an optional mask (`0xFF` exact, `0x00` wildcard, per bit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataPrefix {
    prefix: Vec<u8>,
    mask: Option<Vec<u8>>,
}

impl DataPrefix {
    /// A prefix with an optional mask of the same length.
    pub fn new(prefix: Vec<u8>, mask: Option<Vec<u8>>) -> Result<Self, Error> {
        if let Some(m) = &mask
            && m.len() != prefix.len()
        {
            return Err(Error::MaskLength {
                field: String::from("mask"),
                prefix: prefix.len(),
                mask: m.len(),
            });
        }
        Ok(Self { prefix, mask })
    }

    /// A masked prefix from `(byte, mask)` pairs, so the two cannot differ in length.
    pub fn masked(pairs: impl IntoIterator<Item = (u8, u8)>) -> Self {
        let (prefix, mask) = pairs.into_iter().unzip();
        Self {
            prefix,
            mask: Some(mask),
        }
    }

    /// The prefix bytes.
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The mask bytes, when given.
    pub fn mask(&self) -> Option<&[u8]> {
        self.mask.as_deref()
    }

    /// True when `data` starts with the prefix under the mask: for every prefix byte `i`,
    /// `data[i] & mask[i] == prefix[i] & mask[i]`. Data shorter than the prefix never matches.
    pub fn matches(&self, data: &[u8]) -> bool {
        let Some(head) = data.get(..self.prefix.len()) else {
            return false;
        };
        match &self.mask {
            None => head == self.prefix.as_slice(),
            Some(mask) => head
                .iter()
                .zip(&self.prefix)
                .zip(mask)
                .all(|((d, p), m)| d & m == p & m),
        }
    }

    pub(super) fn parse(
        object: &serde_json::Map<String, Value>,
        path: &str,
    ) -> Result<Self, Error> {
        let prefix = match object.get("dataPrefix") {
            Some(v) => as_hex(v, &join(path, "dataPrefix"))?,
            None => Vec::new(),
        };
        let mask = match object.get("mask") {
            Some(v) => Some(as_hex(v, &join(path, "mask"))?),
            None => None,
        };
        Self::new(prefix, mask).map_err(|e| match e {
            Error::MaskLength { prefix, mask, .. } => Error::MaskLength {
                field: join(path, "mask"),
                prefix,
                mask,
            },
            other => other,
        })
    }

    pub(super) fn write(&self, map: &mut serde_json::Map<String, Value>) {
        if !self.prefix.is_empty() {
            map.insert(
                "dataPrefix".into(),
                Value::from(crate::hex::encode(&self.prefix)),
            );
        }
        if let Some(mask) = &self.mask {
            map.insert("mask".into(), Value::from(crate::hex::encode(mask)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_shorter_than_prefix_does_not_match() {
        let p = DataPrefix::new(alloc::vec![1, 2, 3], Some(alloc::vec![0, 0, 0])).unwrap();
        assert!(!p.matches(&[1, 2]));
        assert!(p.matches(&[9, 9, 9, 9]));
        assert_eq!(
            (p.prefix(), p.mask()),
            (&[1, 2, 3][..], Some(&[0, 0, 0][..]))
        );
    }

    /// Property: a masked prefix matches exactly when every masked bit agrees (reference: a
    /// bit-by-bit loop), for random prefixes, masks and data (xorshift PRNG, 20 000 cases).
    #[test]
    fn masked_prefix_agrees_with_bitwise_reference() {
        let mut rng = crate::test_rng::XorShift64::new(0x2545_F491_4F6C_DD1Du64);
        let mut next = move || rng.next_u64();
        for _ in 0..20_000 {
            let len = (next() % 4) as usize;
            let dlen = (next() % 6) as usize;
            // Small value space so that matches are frequent.
            let prefix: Vec<u8> = (0..len).map(|_| (next() % 4) as u8).collect();
            let mask: Vec<u8> = (0..len).map(|_| (next() % 4) as u8).collect();
            let data: Vec<u8> = (0..dlen).map(|_| (next() % 4) as u8).collect();
            let mut want = data.len() >= len;
            if want {
                for i in 0..len {
                    for bit in 0..8 {
                        let m = (mask[i] >> bit) & 1;
                        if m == 1 && ((data[i] >> bit) & 1) != ((prefix[i] >> bit) & 1) {
                            want = false;
                        }
                    }
                }
            }
            let p = DataPrefix::new(prefix.clone(), Some(mask.clone())).unwrap();
            assert_eq!(p.matches(&data), want, "{prefix:?} {mask:?} {data:?}");
            // A full mask is the plain prefix test.
            let exact = DataPrefix::new(prefix.clone(), None).unwrap();
            assert_eq!(exact.matches(&data), data.starts_with(&prefix));
        }
    }
}

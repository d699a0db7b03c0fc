#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]
#![cfg_attr(not(test), deny(clippy::panic))]

extern crate alloc;

pub mod ad;
pub mod advertisement;
pub mod blu;
pub mod bthome;
pub mod capture;
pub mod device;
pub mod filter;
pub mod gatt;
pub mod hex;
pub mod improv;
pub mod manager;
pub mod profiles;
pub mod saved;
pub mod shelly;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(test)]
mod test_rng;
pub mod text;
pub mod uuid;
pub mod wifi;

pub use advertisement::{Advertisement, Connectable, MacAddress};
pub use bthome::BindKey;
pub use device::{DeviceKey, DeviceKind};
/// The map of [`Advertisement`]'s data fields: a sorted vector, for maps that stay small.
pub use litemap::LiteMap;
pub use uuid::Uuid;

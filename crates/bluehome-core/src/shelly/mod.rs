//! Shelly devices: manufacturer data of company `0x0BA9` (flags, MAC, model, date/time beacon)
//! and the BLU model table; JSON-RPC over GATT, digest auth and typed methods.

pub mod auth;
pub mod frame;
pub mod manufacturer;
pub mod methods;
pub mod models;
pub mod rpc;

pub use manufacturer::{BEACON_COMPANY_ID, COMPANY_ID, Flags, ManufacturerData, TimeBeacon};

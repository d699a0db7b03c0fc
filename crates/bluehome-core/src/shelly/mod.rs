//! Shelly devices: JSON-RPC over GATT, digest auth and typed methods.

pub mod auth;
pub mod frame;
pub mod methods;
pub mod rpc;

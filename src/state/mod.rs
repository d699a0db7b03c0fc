//! The app's state: plain models mutated by named actions (unit-tested natively), explicit
//! persistence, and the Leptos store that holds them and feeds them from the backend.

pub mod actions;
pub mod capture;
pub mod decode;
pub mod export;
pub mod hex;
pub mod model;
pub mod persist;
pub mod privacy;
pub mod settings;
pub mod setup;
pub mod shelly;
pub mod storage;
pub mod store;

pub use store::{AppStore, use_store};

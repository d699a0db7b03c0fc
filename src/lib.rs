//! bluehome: a Bluetooth console for the smart home, in the browser.
//!
//! The app is a thin shell over `bluehome-core`: `ble` turns Web Bluetooth into core types,
//! `state` holds what the pages show, `pages` and `components` render it; `platform` is every
//! other browser service (clock, timers, randomness, files, dialogs, the URL).

// As in the core: what a device, a file or the URL sends cannot panic the page (a panic traps
// the whole module in the release build).
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]
#![cfg_attr(not(test), deny(clippy::panic))]

pub mod app;
pub mod ble;
pub mod components;
pub mod pages;
pub mod platform;
pub mod pwa;
pub mod state;

pub use app::App;

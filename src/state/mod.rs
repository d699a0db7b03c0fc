//! What the pages show, and the actions that change it.

pub mod shelly;

//! Reusable pieces of the interface.

pub mod capabilities;
pub mod shelly;

//! Reusable pieces of the interface.

pub mod capabilities;
pub mod live;
pub mod scan;
pub mod setup;
pub mod shelly;
pub mod steps;

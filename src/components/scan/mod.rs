//! The Scan page's components.

pub mod chart;
pub mod controls;
pub mod details;
pub mod device_list;

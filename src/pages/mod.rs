//! Route targets, one per page.

mod about;
mod decode;
mod devices;
mod not_found;
mod scan;

pub use about::AboutPage;
pub use decode::DecodePage;
pub use devices::DevicesPage;
pub use not_found::NotFound;
pub use scan::ScanPage;

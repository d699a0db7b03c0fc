//! Links bluehome-core into a `#![no_std]` crate that defines its own panic handler: if anything
//! in the core's dependency graph uses `std`, this fails with a duplicate `panic_impl` lang item.
#![no_std]

pub use bluehome_core as core_crate;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

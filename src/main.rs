use leptos::prelude::*;

fn main() {
    // The release build aborts on panic without unwinding or messages (.ci/release-build), so
    // the hook that prints them would be dead weight there.
    if cfg!(debug_assertions) {
        console_error_panic_hook::set_once();
    }
    mount_to_body(bluehome::App);
}

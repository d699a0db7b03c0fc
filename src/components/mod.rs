//! Reusable pieces of the interface.

pub mod capabilities;
pub mod live;
pub mod scan;
pub mod setup;
pub mod shelly;
pub mod steps;
pub mod wifi;

use leptos::prelude::{document, request_animation_frame};

/// Moves the focus to the first element matching one of `selectors`, on the next frame (once the
/// view has followed the change that took away the button which had the focus), rather than
/// leave it on the page's body.
pub fn focus_first(selectors: &'static [&'static str]) {
    request_animation_frame(move || {
        let next = selectors.iter().find_map(|selector| {
            document()
                .query_selector(selector)
                .ok()
                .flatten()
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
        });
        if let Some(next) = next {
            let _ = next.focus();
        }
    });
}

//! Following the page: Chrome ends every scan and watch when the page is hidden or loses focus
//! (without an event, and with `watchingAdvertisements` left true), so the backend listens to
//! the document's visibility and the window's focus and says what changed.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Event;

use super::{Inner, Listener, WebBackend};
use crate::ble::{BleEvent, ScanEnd};

impl WebBackend {
    /// Listens to `visibilitychange` on the document and `blur` / `focus` on the window.
    pub(super) fn follow_page(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let targets: [(web_sys::EventTarget, &'static str, Option<bool>); 3] = [
            (
                window
                    .document()
                    .map_or_else(|| window.clone().into(), Into::into),
                "visibilitychange",
                None,
            ),
            (window.clone().into(), "blur", Some(false)),
            (window.into(), "focus", Some(true)),
        ];
        for (target, name, focused) in targets {
            let weak = Rc::downgrade(&self.inner);
            let listener: Listener = Closure::new(move |event: Event| {
                // Focus events of elements do not bubble, but keep to the window's own.
                if !at_target(&event) {
                    return;
                }
                if let Some(inner) = weak.upgrade() {
                    inner.page_changed(focused);
                }
            });
            let _ =
                target.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            self.inner
                .page_listeners
                .borrow_mut()
                .push((target, name, listener));
        }
    }
}

impl Inner {
    /// Follows the page's visibility and focus (`focused` when the event says it, else asked).
    pub(super) fn page_changed(&self, focused: Option<bool>) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let focused = focused.unwrap_or_else(|| document.has_focus().unwrap_or(false));
        let mut page = self.page.get();
        let change = page.update(!document.hidden(), focused);
        self.page.set(page);
        // Taken out first: a listener of `ScanStopped` may ask whether a scan runs.
        let ended = if page.is_active() {
            None
        } else {
            self.scan.borrow_mut().take()
        };
        if let Some(scan) = ended {
            // Chrome has ended it already; `active` may still say true after a focus loss.
            scan.stop();
            self.subscribers.emit(&BleEvent::ScanStopped {
                reason: ScanEnd::PageInactive,
            });
        }
        if let Some(change) = change {
            self.subscribers.emit(&change);
        }
    }
}

/// Whether an event reached the listener at its own target (not by bubbling).
pub(super) fn at_target(event: &Event) -> bool {
    event.event_phase() == Event::AT_TARGET
}

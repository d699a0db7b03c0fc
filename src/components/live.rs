//! Live regions that are on the page before their message is.
//!
//! Screen readers announce *changes* inside a live region, not a region that appears already
//! filled: "Start with an empty live region, then – in a separate step – change the content
//! inside the region" (MDN, ARIA live regions,
//! <https://developer.mozilla.org/en-US/docs/Web/Accessibility/ARIA/Guides/Live_regions>; WCAG
//! 2.2 techniques ARIA19 and ARIA22). A [`LiveRegion`] is therefore always rendered, empty while
//! there is nothing to say, and only what is inside it comes and goes.
//!
//! An empty region takes no room (style/main.css, `.live:empty`): it is taken out of the flow,
//! not hidden, because a region that is `display: none` is not in the accessibility tree and
//! showing it is the same as inserting it (w3c/aria#1216: "create an empty and visible live
//! region as early as possible").
//!
//! Only the message is the region: a box that holds a message and the buttons or form that go
//! with it is always on the page, the region inside it, and the buttons beside the region (a
//! screen reader would read "Retry Dismiss" as part of every alert otherwise). While the region
//! is empty, and so the box's only element, the box itself draws nothing (style/main.css).

use leptos::either::Either;
use leptos::prelude::*;

/// How a region's changes are announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// `role="status"`: politely, after what is being read (progress, results).
    Status,
    /// `role="alert"`: at once (failures, errors).
    Alert,
}

impl Live {
    fn role(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Alert => "alert",
        }
    }
}

/// A live region that stays on the page; its children (reactive, rendering nothing while there
/// is no message) are what gets announced as they change.
#[component]
pub fn LiveRegion(
    /// Status (polite) or alert (at once).
    kind: Live,
    /// Classes beside `live`, to find the region (`busy`, `failure-region`).
    #[prop(optional)]
    class: &'static str,
    /// A `span` inside a line of text (beside its button), rather than a `div`.
    #[prop(optional)]
    inline: bool,
    /// The message: reactive, nothing while there is nothing to say.
    children: Children,
) -> impl IntoView {
    let class = if class.is_empty() {
        "live".to_owned()
    } else {
        format!("live {class}")
    };
    let role = kind.role();
    if inline {
        Either::Left(view! { <span class=class role=role>{children()}</span> })
    } else {
        Either::Right(view! { <div class=class role=role>{children()}</div> })
    }
}

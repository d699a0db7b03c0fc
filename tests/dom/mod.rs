//! What the browser tests do to a page, as a person would: mount it, wait, read text, find a
//! button or a field by the words on it, click, type, take a download.
#![allow(dead_code)] // Each test binary uses its own subset.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::HtmlElement;

/// Mounts `app` in a new element at the end of the body and returns that element. The view
/// lives until the test binary ends, as the app's does.
pub fn mount_view<V: IntoView + 'static>(app: impl FnOnce() -> V + 'static) -> HtmlElement {
    let document = document();
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone(), app).forget();
    host
}

/// Mounts the Scan page over a fresh mock backend, with the app's state provided as the app does,
/// and returns the element and the store.
pub fn mount_scan_page() -> (HtmlElement, bluehome::state::AppStore) {
    let slot = Rc::new(Cell::new(None));
    let out = Rc::clone(&slot);
    let host = mount_view(move || {
        let backend = Rc::new(bluehome::ble::Backend::Mock(
            bluehome::ble::mock::MockBackend::new(),
        ));
        out.set(Some(bluehome::app::provide_app_state(backend, false)));
        view! { <bluehome::pages::ScanPage /> }
    });
    (host, slot.take().expect("the app state is provided"))
}

/// One turn of the page's timers.
pub async fn tick() {
    gloo_timers::future::sleep(Duration::from_millis(20)).await;
}

/// The page's wall clock (`Date.now`) set back by `ms` (a time sync, or a person setting the
/// clock), until this is dropped. Timers (`setTimeout`) and `performance.now()` go on as before.
pub struct ClockSetBack {
    original: wasm_bindgen::JsValue,
}

/// Sets the page's wall clock back by `ms`; see [`ClockSetBack`].
pub fn set_clock_back(ms: u64) -> ClockSetBack {
    let date = js_sys::Reflect::get(&js_sys::global(), &"Date".into()).unwrap();
    let original = js_sys::Reflect::get(&date, &"now".into()).unwrap();
    let make = js_sys::Function::new_with_args(
        "now",
        &format!("return function () {{ return now.call(Date) - {ms}; }}"),
    );
    let shifted = make.call1(&wasm_bindgen::JsValue::NULL, &original).unwrap();
    js_sys::Reflect::set(&date, &"now".into(), &shifted).unwrap();
    ClockSetBack { original }
}

impl Drop for ClockSetBack {
    fn drop(&mut self) {
        let date = js_sys::Reflect::get(&js_sys::global(), &"Date".into()).unwrap();
        js_sys::Reflect::set(&date, &"now".into(), &self.original).unwrap();
    }
}

/// Waits until `check` holds (checked every 20 ms, at most `secs` seconds).
pub async fn until(secs: u64, what: &str, check: impl Fn() -> bool) {
    for _ in 0..secs * 50 {
        if check() {
            return;
        }
        tick().await;
    }
    panic!("timed out waiting for {what}");
}

/// The text of each element matching `selector`.
pub fn texts(host: &HtmlElement, selector: &str) -> Vec<String> {
    let nodes = host.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

/// Every element matching `selector`, in document order.
pub fn all(host: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let nodes = host.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .map(JsCast::unchecked_into)
        .collect()
}

/// The text of every element matching `selector`, one per line.
pub fn text(host: &HtmlElement, selector: &str) -> String {
    texts(host, selector).join("\n")
}

/// How many elements match `selector`.
pub fn count(host: &HtmlElement, selector: &str) -> u32 {
    host.query_selector_all(selector).unwrap().length()
}

/// The `index`th element (from 0) matching `selector`; panics naming it when there is none.
pub fn nth(host: &HtmlElement, selector: &str, index: u32) -> HtmlElement {
    host.query_selector_all(selector)
        .unwrap()
        .item(index)
        .unwrap_or_else(|| panic!("no element {index} of {selector:?}"))
        .unchecked_into()
}

/// Waits at most `secs` seconds until the text of `selector` contains `words`; returns that text.
pub async fn text_saying(host: &HtmlElement, secs: u64, selector: &str, words: &str) -> String {
    for _ in 0..secs * 50 {
        let said = text(host, selector);
        if said.contains(words) {
            return said;
        }
        tick().await;
    }
    let said = text(host, selector);
    panic!("timed out waiting for {selector} saying {words:?}; it says {said:?}");
}

/// The first element matching the CSS `selector`, as a `T`; panics naming it when there is none.
pub fn query<T: JsCast>(host: &HtmlElement, selector: &str) -> T {
    host.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element {selector:?}"))
        .unchecked_into()
}

/// The first element matching the CSS `selector`; panics naming it when there is none.
pub fn element(host: &HtmlElement, selector: &str) -> HtmlElement {
    query(host, selector)
}

fn find_button(host: &HtmlElement, label: &str) -> Option<HtmlElement> {
    let nodes = host.query_selector_all("button").unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .map(|n| n.unchecked_into::<HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
}

/// The button whose words are `label`.
pub fn button(host: &HtmlElement, label: &str) -> HtmlElement {
    find_button(host, label)
        .unwrap_or_else(|| panic!("no button {label:?} in {}", host.inner_text()))
}

pub fn has_button(host: &HtmlElement, label: &str) -> bool {
    find_button(host, label).is_some()
}

pub fn click(host: &HtmlElement, label: &str) {
    button(host, label).click();
}

/// Submits the form `selector` as Enter in one of its fields does: the key press (a user
/// gesture, which the mock backend hears), then `requestSubmit` (the submit event fires, whatever
/// its button's state; the page decides).
pub fn submit(host: &HtmlElement, selector: &str) {
    let form = query::<web_sys::HtmlFormElement>(host, selector);
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    let enter =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    form.dispatch_event(&enter).unwrap();
    form.request_submit().unwrap();
}

/// Clicks "Scan nearby" as a person does (Chrome opens the scan prompt only right after a click)
/// and waits until the scan runs.
pub async fn start_scan(host: &HtmlElement, store: bluehome::state::AppStore) {
    until(5, "the Scan nearby button", || {
        has_button(host, "Scan nearby")
    })
    .await;
    click(host, "Scan nearby");
    until(5, "the scan to run", || {
        store.status.with_untracked(|s| s.scanning)
    })
    .await;
}

/// Clicks the button `label` and lets the page render what it opened.
pub async fn click_and_render(host: &HtmlElement, label: &str) {
    click(host, label);
    tick().await;
}

/// The input inside the first `container` element whose text `matches`.
fn input_in(
    host: &HtmlElement,
    container: &str,
    matches: impl Fn(&web_sys::Element) -> bool,
) -> Option<web_sys::HtmlInputElement> {
    let nodes = host.query_selector_all(container).unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .map(|n| n.unchecked_into::<web_sys::Element>())
        .find(|n| matches(n))
        .and_then(|n| n.query_selector("input").unwrap())
        .map(|input| input.unchecked_into())
}

/// The input of the field labelled `label` (a `label.field` whose `span` says it).
pub fn field(host: &HtmlElement, label: &str) -> web_sys::HtmlInputElement {
    input_in(host, "label.field", |field| {
        field
            .query_selector("span")
            .unwrap()
            .and_then(|s| s.text_content())
            .as_deref()
            == Some(label)
    })
    .unwrap_or_else(|| panic!("no field {label:?}"))
}

/// What a screen reader is told of a field's validity: its `aria-invalid`, and the text of the
/// element its `aria-describedby` names (which must be on the page).
pub fn validity(input: &web_sys::Element) -> (Option<String>, Option<String>) {
    let described = input.get_attribute("aria-describedby").map(|id| {
        document()
            .get_element_by_id(&id)
            .unwrap_or_else(|| panic!("aria-describedby names {id:?}, which is not on the page"))
            .text_content()
            .unwrap_or_default()
    });
    (input.get_attribute("aria-invalid"), described)
}

/// What a screen reader is told of the refused field labelled `label`: the words its
/// `aria-describedby` names; panics naming the field unless it is also `aria-invalid="true"`.
pub fn refusal_of(host: &HtmlElement, label: &str) -> String {
    match validity(&field(host, label)) {
        (Some(invalid), Some(described)) if invalid == "true" => described,
        other => panic!("the field {label:?} is not marked refused: {other:?}"),
    }
}

/// Types into the input of the field labelled `label` (a `label.field` whose `span` says it).
pub fn type_into(host: &HtmlElement, label: &str, value: &str) {
    let input = field(host, label);
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// The checkbox whose label (a `label.check`) contains `label`, if there is one.
pub fn checkbox(host: &HtmlElement, label: &str) -> Option<web_sys::HtmlInputElement> {
    input_in(host, "label.check", |l| {
        l.text_content().unwrap_or_default().contains(label)
    })
}

/// Ticks the checkbox whose label contains `label`.
pub fn check_box(host: &HtmlElement, label: &str) {
    let input = checkbox(host, label).unwrap_or_else(|| panic!("no checkbox {label:?}"));
    input.set_checked(true);
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

/// Clicks the button `label` and returns the file it offers for download (its name and text),
/// read back from the Blob URL the page clicked. The download itself is cancelled.
pub async fn download(host: &HtmlElement, label: &str) -> (String, String) {
    let offered: Rc<RefCell<Option<(String, String)>>> = Rc::default();
    let seen = Rc::clone(&offered);
    let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let anchor = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlAnchorElement>().ok());
        if let Some(anchor) = anchor.filter(|a| !a.download().is_empty()) {
            event.prevent_default();
            *seen.borrow_mut() = Some((anchor.download(), anchor.href()));
        }
    });
    let document = document();
    document
        .add_event_listener_with_callback_and_bool("click", listener.as_ref().unchecked_ref(), true)
        .unwrap();
    click(host, label);
    document
        .remove_event_listener_with_callback_and_bool(
            "click",
            listener.as_ref().unchecked_ref(),
            true,
        )
        .unwrap();
    let (name, url) = offered
        .take()
        .unwrap_or_else(|| panic!("{label:?} offered no download"));
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(web_sys::window().unwrap().fetch_with_str(&url))
            .await
            .unwrap()
            .unchecked_into();
    let text = wasm_bindgen_futures::JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    (name, text)
}

//! Browser tests: the Decode page (decode, link without the key) and demo mode (`?demo`).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use bluehome::App;
use bluehome::pages::DecodePage;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod dom;
use dom::texts;

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

/// A page mounted at this page's own path with `suffix` (a query or fragment) in the address; on
/// drop it is unmounted, its host removed and the address set back.
struct Mounted {
    path: String,
    host: web_sys::HtmlElement,
    handle: Option<Box<dyn std::any::Any>>,
}

impl Mounted {
    fn at<N: IntoView + 'static>(suffix: &str, page: impl FnOnce() -> N + 'static) -> Self {
        let path = web_sys::window().unwrap().location().pathname().unwrap();
        set_url(&format!("{path}{suffix}"));
        let host = host();
        let handle = leptos::mount::mount_to(host.clone(), page);
        Self {
            path,
            host,
            handle: Some(Box::new(handle)),
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.handle.take());
        self.host.remove();
        set_url(&self.path);
    }
}

fn set_url(url: &str) {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some(url))
        .unwrap();
}

fn type_into(host: &web_sys::HtmlElement, selector: &str, value: &str) {
    let element = host.query_selector(selector).unwrap().unwrap();
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
    }
    element
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// The object table's cells for bthome.io's format example (`4002ca0903bf13`): temperature
/// 25.06 °C, humidity 50.55 %.
const EXAMPLE_OBJECT_CELLS: [&str; 8] = [
    "0x02",
    "temperature",
    "25.06",
    "°C",
    "0x03",
    "humidity",
    "50.55",
    "%",
];

async fn settle(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

#[wasm_bindgen_test]
async fn decode_page_decodes_and_keeps_the_input_but_not_the_key_in_the_link() {
    // Opened from a shared link: temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
    let page = Mounted::at("#kind=svc&uuid=fcd2&hex=4002ca0903bf13", DecodePage);
    let host = page.host.clone();
    settle(50).await;
    let cells = texts(&host, ".decode-table.objects td");
    let html = host.inner_html();
    assert_eq!(cells, EXAMPLE_OBJECT_CELLS, "{html}");

    type_into(&host, "input[name=key]", "000102030405060708090a0b0c0d0e0f");
    type_into(&host, "input[name=mac]", "A4:C1:38:00:00:09");
    type_into(&host, "textarea[name=hex]", "41 a4c1dd 00112233 44556677");
    settle(50).await;
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(hash.contains("hex=41a4c1dd0011223344556677"), "{hash}");
    assert!(hash.contains("mac=A4:C1:38:00:00:09"), "{hash}");
    assert!(
        !hash.contains("000102030405"),
        "the key leaked into the link: {hash}"
    );
    let problems = texts(&host, ".problem").join(" ");
    assert!(problems.contains("decryption failed"), "{problems}");
}

/// The decode's problems are announced: their alert regions (the input's, then the BTHome
/// decode's) are on the page, empty, before anything goes wrong, and those same elements then
/// hold the problem (MDN "ARIA live regions"); a keystroke that leaves the problem as it was
/// does not put it in again.
#[wasm_bindgen_test]
async fn decode_problems_are_announced_in_regions_already_on_the_page() {
    let page = Mounted::at("#kind=svc&uuid=fcd2&hex=4002ca0903bf13", DecodePage);
    let host = page.host.clone();
    settle(50).await;
    let regions = || dom::all(&host, ".decode-result > [role=alert]");
    let [input, bthome] = <[_; 2]>::try_from(regions()).expect("two alert regions");
    for region in [&input, &bthome] {
        assert!(region.matches(":empty").unwrap(), "{}", region.outer_html());
    }

    // The humidity's last byte is missing: the BTHome decode stops there.
    type_into(&host, "textarea[name=hex]", "4002ca0903bf");
    settle(50).await;
    let now = regions();
    assert!(
        bthome.is_same_node(Some(&now[1])),
        "the region was replaced"
    );
    let said = bthome.text_content().unwrap_or_default();
    assert!(!said.is_empty(), "{}", host.inner_html());
    let message = bthome.first_element_child().expect("the problem");
    type_into(&host, "input[name=mac]", "A4:C1:38:00:00:09");
    settle(50).await;
    assert!(
        bthome
            .first_element_child()
            .is_some_and(|m| m.is_same_node(Some(&message))),
        "the same problem was put in again"
    );

    // Not hex at all: the input's problem.
    type_into(&host, "textarea[name=hex]", "zz");
    settle(50).await;
    assert!(
        input.is_same_node(Some(&regions()[0])),
        "the region was replaced"
    );
    let said = input.text_content().unwrap_or_default();
    assert!(!said.is_empty(), "{}", host.inner_html());
}

#[wasm_bindgen_test]
async fn demo_mode_shows_simulated_sensors_without_hardware() {
    let page = Mounted::at("?demo", App);
    let host = page.host.clone();
    // Sensors first advertise within 2 s of simulated time; the ticker runs every 250 ms.
    settle(3_000).await;
    let count = texts(&host, ".list-count").join("");
    // The gateway, its eight sensors, the BLU Motion and the Improv device of "Set up a device".
    assert_eq!(count, "11 devices", "{count}");
    let rows = texts(&host, ".device-row").join("\n");
    assert!(rows.contains("Shelly BLU"), "{rows}");
    assert!(rows.contains("°C"), "{rows}");
    assert!(texts(&host, ".demo-banner").len() == 1);
}

#[wasm_bindgen_test]
async fn decode_page_controls_are_labelled() {
    let page = Mounted::at("", DecodePage);
    let host = page.host.clone();
    settle(30).await;
    let controls = host.query_selector_all("input, select, textarea").unwrap();
    assert!(controls.length() >= 5);
    for i in 0..controls.length() {
        let element: web_sys::Element = controls.item(i).unwrap().unchecked_into();
        let label = element
            .closest("label")
            .unwrap()
            .and_then(|l| l.text_content())
            .unwrap_or_default();
        assert!(
            !label.trim().is_empty(),
            "unlabelled: {}",
            element.outer_html()
        );
    }
}

/// The byte span whose label starts with `start`.
fn span(host: &web_sys::HtmlElement, start: &str) -> web_sys::HtmlElement {
    find(host, ".byte-span", start)
}

/// The first element under `host` matching `selector` whose text or aria-label starts with `start`.
fn find(host: &web_sys::HtmlElement, selector: &str, start: &str) -> web_sys::HtmlElement {
    dom::all(host, selector)
        .into_iter()
        .find(|e| {
            let label = e.get_attribute("aria-label").unwrap_or_default();
            let text = e.text_content().unwrap_or_default();
            label.starts_with(start) || text.trim().starts_with(start)
        })
        .unwrap_or_else(|| panic!("no {selector} starting {start:?} in {}", host.inner_html()))
}

fn value_of(host: &web_sys::HtmlElement, selector: &str) -> String {
    let element = host.query_selector(selector).unwrap().unwrap();
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        input.value()
    } else {
        element
            .unchecked_into::<web_sys::HtmlTextAreaElement>()
            .value()
    }
}

fn fire(element: &web_sys::HtmlElement, event: &str) {
    element
        .dispatch_event(&web_sys::Event::new(event).unwrap())
        .unwrap();
}

fn linked(element: &web_sys::HtmlElement) -> bool {
    element.class_list().contains("linked")
}

/// The Decode page opened from a link without a fragment, with the example `label` clicked.
async fn example(label: &str) -> Mounted {
    let page = Mounted::at("", DecodePage);
    settle(30).await;
    find(&page.host, ".decode-examples button", label).click();
    settle(50).await;
    page
}

#[wasm_bindgen_test]
async fn clicking_an_example_fills_the_form_and_decodes() {
    let page = example("BTHome v2").await;
    let host = page.host.clone();
    assert_eq!(value_of(&host, "textarea[name=hex]"), "40 02ca09 03bf13");
    assert_eq!(value_of(&host, "input[name=uuid]"), "fcd2");
    let cells = texts(&host, ".decode-table.objects td");
    assert_eq!(cells, EXAMPLE_OBJECT_CELLS);

    find(&host, ".decode-examples button", "Shelly BLU").click();
    settle(50).await;
    assert_eq!(value_of(&host, "input[name=company]"), "0x0ba9");
    let shelly = texts(&host, ".decode-table td").join(" | ");
    assert!(shelly.contains("BC:02:6E:AA:BB:CC"), "{shelly}");
    assert!(
        shelly.contains("Shelly BLU Button1 (SBBT-002C)"),
        "{shelly}"
    );

    find(&host, ".decode-examples button", "Raw AD").click();
    settle(50).await;
    let structures = texts(&host, ".decode-table th[scope=row]");
    assert!(
        structures.starts_with(&["0x01".into(), "0x09".into(), "0x16".into()]),
        "{structures:?}"
    );
    assert!(span(&host, "service UUID fcd2").text_content().unwrap() == "d2 fc");

    find(&host, ".decode-examples button", "Encrypted v2").click();
    settle(50).await;
    assert_eq!(
        value_of(&host, "input[name=key]"),
        "231d39c1d7cc1ab1aee224cd096db932"
    );
    assert_eq!(value_of(&host, "input[name=mac]"), "54:48:E6:8F:80:A5");
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert!(
        hash.contains("hex=41e445f3c9962b332211006c7c4519"),
        "{hash}"
    );
    assert!(
        !hash.contains("231d39"),
        "the key leaked into the link: {hash}"
    );
}

#[wasm_bindgen_test]
async fn byte_spans_and_rows_mark_each_other_on_hover_and_focus() {
    let page = example("BTHome v2").await;
    let host = page.host.clone();
    let temperature = span(&host, "object 0x02 temperature");
    assert_eq!(temperature.text_content().unwrap(), "02 ca 09");
    assert_eq!(temperature.tag_name(), "BUTTON", "reachable by keyboard");
    let temperature_row = find(&host, ".decode-table.objects tbody tr", "0x02");
    let humidity_row = find(&host, ".decode-table.objects tbody tr", "0x03");
    assert!(!linked(&temperature_row));

    fire(&temperature, "mouseenter");
    settle(20).await;
    assert!(linked(&temperature_row), "{}", temperature_row.outer_html());
    assert!(linked(&temperature));
    assert!(!linked(&humidity_row));
    fire(&temperature, "mouseleave");
    settle(20).await;
    assert!(!linked(&temperature_row));

    // Focus from the other side: the row marks its bytes.
    let humidity = span(&host, "object 0x03 humidity");
    fire(&humidity_row, "focus");
    settle(20).await;
    assert!(linked(&humidity), "{}", humidity.outer_html());
    assert!(!linked(&temperature));
    fire(&humidity_row, "blur");
    fire(&temperature, "focus");
    settle(20).await;
    assert!(linked(&temperature_row));
    assert!(!linked(&humidity));
    // The device-info byte marks the header rows it encodes.
    let info = span(&host, "BTHome device info");
    fire(&info, "mouseenter");
    settle(20).await;
    let version_row = find(&host, ".decode-table tbody tr", "version");
    assert!(linked(&version_row), "{}", version_row.outer_html());
}

#[wasm_bindgen_test]
async fn the_encrypted_example_shows_counter_and_mic_spans() {
    let page = example("Encrypted v2").await;
    let host = page.host.clone();
    let counter = span(&host, "encryption counter");
    assert_eq!(counter.text_content().unwrap(), "33 22 11 00");
    assert_eq!(span(&host, "MIC").text_content().unwrap(), "6c 7c 45 19");
    let cells = texts(&host, ".decode-table.objects td");
    assert_eq!(cells[2], "25.06", "{cells:?}");
    // The counter's bytes and its row mark each other.
    let counter_row = find(&host, ".decode-table tbody tr", "counter");
    assert!(counter_row.text_content().unwrap().contains("1122867"));
    fire(&counter_row, "mouseenter");
    settle(20).await;
    assert!(linked(&counter));
}

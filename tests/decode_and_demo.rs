//! Browser tests: the Decode page (decode, link without the key) and demo mode (`?demo`).
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use bluehome::App;
use bluehome::pages::DecodePage;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> web_sys::HtmlElement {
    let document = document();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

fn set_url(url: &str) {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some(url))
        .unwrap();
}

fn texts(host: &web_sys::HtmlElement, selector: &str) -> Vec<String> {
    let nodes = host.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
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

async fn settle(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

#[wasm_bindgen_test]
async fn decode_page_decodes_and_keeps_the_input_but_not_the_key_in_the_link() {
    let path = web_sys::window().unwrap().location().pathname().unwrap();
    // Opened from a shared link: temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
    set_url(&format!("{path}#kind=svc&uuid=fcd2&hex=4002ca0903bf13"));
    let host = host();
    let handle = leptos::mount::mount_to(host.clone(), DecodePage);
    settle(50).await;
    let cells = texts(&host, ".decode-table.objects td");
    let html = host.inner_html();
    assert_eq!(
        cells,
        [
            "0x02",
            "temperature",
            "25.06",
            "°C",
            "0x03",
            "humidity",
            "50.55",
            "%"
        ],
        "{html}"
    );

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
    drop(handle);
    host.remove();
    set_url(&path);
}

#[wasm_bindgen_test]
async fn demo_mode_shows_simulated_sensors_without_hardware() {
    let path = web_sys::window().unwrap().location().pathname().unwrap();
    set_url(&format!("{path}?demo"));
    let host = host();
    let handle = leptos::mount::mount_to(host.clone(), App);
    // Sensors first advertise within 2 s of simulated time; the ticker runs every 250 ms.
    settle(3_000).await;
    let count = texts(&host, ".list-count").join("");
    // The gateway, its eight sensors, the BLU Motion and the Improv device of "Set up a device".
    assert_eq!(count, "11 devices", "{count}");
    let rows = texts(&host, ".device-row").join("\n");
    assert!(rows.contains("Shelly BLU"), "{rows}");
    assert!(rows.contains("°C"), "{rows}");
    assert!(texts(&host, ".demo-banner").len() == 1);
    drop(handle);
    host.remove();
    set_url(&path);
}

#[wasm_bindgen_test]
async fn decode_page_controls_are_labelled() {
    let host = host();
    let handle = leptos::mount::mount_to(host.clone(), DecodePage);
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
    drop(handle);
    host.remove();
}

//! Browser tests of the Scan page over the mock backend (headless Chromium).
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;
use std::time::Duration;

use bluehome::ble::mock::{ChooserAnswer, MockBackend, ScanPrompt, bthome_sensor as sensor};
use bluehome::ble::{Backend, BleBackend, DeviceId, LeScanOptions};
use bluehome::platform::now_ms;
use bluehome::state::{AppStore, export};
use bluehome_core::bthome::{BindKey, Encryption, Object, Value, encode_v2};
use bluehome_core::{Advertisement, DeviceKey, MacAddress, Uuid};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod dom;

wasm_bindgen_test_configure!(run_in_browser);

/// BTHome v2, unencrypted: temperature 25.06 °C, humidity 50.55 % (bthome.io/format example).
const TEMP_HUMIDITY: &[u8] = &[0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13];

struct Page {
    host: web_sys::HtmlElement,
    store: AppStore,
}

impl Page {
    async fn mount() -> Self {
        let (host, store) = dom::mount_scan_page();
        dom::start_scan(&host, store).await;
        settle().await;
        Self { host, store }
    }

    /// The page with the device `id` advertising `adv` once, listed.
    async fn listing(id: &str, adv: Advertisement) -> Self {
        let page = Self::mount().await;
        page.advertise(id, adv);
        page.refresh().await;
        page
    }

    /// Opens the details of the first device listed.
    async fn open_details(&self) {
        self.click(".row-title");
        settle().await;
    }

    fn mock(&self) -> Rc<Backend> {
        self.store.backend()
    }

    /// Runs `f` on the page's mock backend.
    fn with_mock<T>(&self, f: impl FnOnce(&MockBackend) -> T) -> T {
        f(self.mock().as_mock().unwrap())
    }

    fn advertise(&self, id: &str, adv: Advertisement) {
        self.with_mock(|m| m.advertise(&DeviceId::from(id), adv));
    }

    /// `id` advertises `adv` as the device sends it: a Shelly BLU device's two packets, anything
    /// else's one.
    fn advertise_as_sent(&self, id: &str, adv: Advertisement) {
        self.with_mock(|m| m.advertise_as_sent(&DeviceId::from(id), adv));
    }

    async fn refresh(&self) {
        self.store.flush(self.store.now_ms());
        settle().await;
    }

    /// The text of the last device card, once what arrived is shown.
    async fn last_row(&self) -> String {
        self.refresh().await;
        self.texts(".device-row").pop().unwrap()
    }

    /// Sets `device`'s bind key to sixteen `byte`s (no MAC), as the user does; returns the entry.
    fn set_key(&self, device: &str, byte: u8) -> bluehome::state::model::KeyEntry {
        let entry = bluehome::state::model::KeyEntry {
            bindkey: BindKey::new([byte; 16]),
            mac: None,
        };
        self.store.set_key(&key(device), Some(entry));
        entry
    }

    fn texts(&self, selector: &str) -> Vec<String> {
        dom::texts(&self.host, selector)
    }

    fn input(&self, selector: &str, value: &str) {
        let input: web_sys::HtmlInputElement = self
            .host
            .query_selector(selector)
            .unwrap()
            .unwrap()
            .unchecked_into();
        input.set_value(value);
        let event = web_sys::Event::new("input").unwrap();
        input.dispatch_event(&event).unwrap();
    }

    fn click(&self, selector: &str) {
        let element: web_sys::HtmlElement = self
            .host
            .query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("no {selector}"))
            .unchecked_into();
        element.click();
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.host.remove();
    }
}

fn key(text: &str) -> DeviceKey {
    text.parse().unwrap()
}

async fn settle() {
    gloo_timers::future::sleep(Duration::from_millis(30)).await;
}

#[wasm_bindgen_test]
async fn the_list_shows_decoded_values() {
    let page = Page::listing("dev-1", sensor("ATC_KITCHEN", TEMP_HUMIDITY, -60)).await;
    let rows = page.texts(".device-row");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("ATC_KITCHEN"), "{}", rows[0]);
    assert!(rows[0].contains("temperature 25.06 °C"), "{}", rows[0]);
    assert!(rows[0].contains("humidity 50.55 %"), "{}", rows[0]);
    assert!(rows[0].contains("BTHome v2"), "{}", rows[0]);
    assert!(rows[0].contains("-60 dBm"), "{}", rows[0]);
}

/// Types into the filter editor and applies it, as a person would.
async fn apply_filters(page: &Page, json: &str) {
    let area: web_sys::HtmlTextAreaElement = dom::query(&page.host, "#filter-json");
    area.set_value(json);
    area.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    page.click(".filter-editor button[type=submit]");
    settle().await;
}

#[wasm_bindgen_test]
async fn applying_filters_restarts_a_running_scan_narrowed() {
    let page = Page::mount().await;
    let asked = || page.mock().as_mock().unwrap().scan_options();
    assert_eq!(asked(), Some(LeScanOptions::default()));
    apply_filters(&page, r#"[{"services":["180f"]}]"#).await;
    let narrowed = asked().expect("the scan runs on");
    assert!(!narrowed.accept_all_advertisements);
    assert_eq!(narrowed.filters.len(), 1);
    assert_eq!(narrowed.filters[0].services, [Uuid::from_u16(0x180F)]);
    // Back to everything.
    apply_filters(&page, "").await;
    assert_eq!(asked(), Some(LeScanOptions::default()));
    // A name cannot narrow a scan (it is checked on each packet); the scan stays as it is.
    apply_filters(&page, r#"[{"name":"SB*"}]"#).await;
    assert_eq!(asked(), Some(LeScanOptions::default()));
}

/// A Shelly BLU H&T advertisement as the core simulator builds it: name, MAC, BTHome service data
/// and Shelly manufacturer data (model 3, the MAC block) in one value. `advertise_as_sent` sends
/// it as the device does: the BTHome data in one packet, name and manufacturer data in the scan
/// response.
fn blu(service: &[u8], mac: &str) -> Advertisement {
    let mac: MacAddress = mac.parse().unwrap();
    let mut adv = sensor("SBHT-003C", service, -58);
    adv.address = Some(mac);
    with_shelly_data(adv, mac, 3)
}

/// `adv` with Shelly manufacturer data naming the model `model_id` and `mac` (its MAC block).
fn with_shelly_data(mut adv: Advertisement, mac: MacAddress, model_id: u16) -> Advertisement {
    use bluehome_core::shelly::manufacturer::{self, ManufacturerData};
    let data = ManufacturerData {
        model_id: Some(model_id),
        mac: Some(mac),
        ..ManufacturerData::default()
    };
    adv.manufacturer_data
        .insert(manufacturer::COMPANY_ID, manufacturer::encode(&data));
    adv
}

/// A Shelly BLU Gateway Gen3 (model 0x1817) with the MAC `mac`, which it advertises as its name
/// (Home Assistant's Shelly config-flow tests).
fn gen3_gateway(mac: &str) -> Advertisement {
    let adv = Advertisement {
        name: Some(mac.to_owned()),
        rssi: Some(-60),
        ..Advertisement::default()
    };
    with_shelly_data(adv, mac.parse().unwrap(), 0x1817)
}

/// A Shelly BLU Gateway Gen3 advertises its MAC as its name (Home Assistant's Shelly
/// config-flow tests); its card names it by the model its manufacturer data gives, and its code.
#[wasm_bindgen_test]
async fn a_gen3_shelly_named_by_its_mac_is_titled_by_its_model() {
    let page = Page::mount().await;
    page.advertise("gw-1", gen3_gateway("CC:BA:97:0D:5E:01"));
    page.refresh().await;
    assert_eq!(page.texts(".device-title"), ["Shelly BLU Gateway Gen3"]);
    let row = page.texts(".device-row").remove(0);
    assert!(row.contains("S3GW-1DBT001"), "{row}");
}

/// A watched Gen3 device is listed by the browser's name (its MAC) until it is heard, then by
/// the name its card has, in the list and its Stop button's label.
#[wasm_bindgen_test]
async fn a_watched_gen3_shelly_is_listed_by_its_model_once_heard() {
    const MAC: &str = "CC:BA:97:0D:5E:02";
    let page = Page::mount().await;
    page.store.stop_scan();
    watch(&page, "gw-2", MAC).await;
    assert_eq!(page.texts(".watched li"), [format!("{MAC} Stop")]);
    page.advertise("gw-2", gen3_gateway(MAC));
    page.refresh().await;
    assert_eq!(page.texts(".watched li"), ["Shelly BLU Gateway Gen3 Stop"]);
    let stop = dom::element(&page.host, ".watched li button");
    assert_eq!(
        stop.get_attribute("aria-label").as_deref(),
        Some("Stop watching Shelly BLU Gateway Gen3")
    );
}

/// An Improv device (its service UUID and the service data with its state, improv-wifi.com/ble)
/// is said to be one, with its state and where its Wi-Fi is set up.
#[wasm_bindgen_test]
async fn an_improv_device_says_its_state_and_where_to_set_it_up() {
    use bluehome_core::improv;
    let page = Page::mount().await;
    let mut adv = Advertisement {
        name: Some("improv-1".into()),
        rssi: Some(-60),
        ..Advertisement::default()
    };
    adv.add_service_uuid(improv::SERVICE_UUID);
    adv.service_data
        .insert(improv::SERVICE_DATA_UUID, vec![0x02, 0x01, 0, 0, 0, 0]);
    page.advertise("improv-1", adv);
    page.refresh().await;
    let row = page.texts(".device-row").remove(0);
    assert!(row.contains("Improv Wi-Fi"), "{row}");
    assert_eq!(
        page.texts(".row-note"),
        ["Ready for Wi-Fi credentials. Set up its Wi-Fi on the Devices page."]
    );
}

#[wasm_bindgen_test]
async fn a_name_filter_keeps_the_nameless_data_packets_of_a_blu_sensor() {
    let page = Page::mount().await;
    apply_filters(&page, r#"[{"name":"SBHT*"}]"#).await;
    page.advertise_as_sent("blu-1", blu(TEMP_HUMIDITY, "3C:2E:F5:5B:00:01"));
    page.advertise("atc-1", sensor("ATC_1", TEMP_HUMIDITY, -50));
    page.refresh().await;
    let rows = page.texts(".device-row");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("SBHT-003C"), "{}", rows[0]);
    assert!(rows[0].contains("temperature 25.06 °C"), "{}", rows[0]);
}

/// An encrypted BLU packet: temperature 21.5 °C under the key `23…23` and `mac`.
fn encrypted_blu(mac: &str, counter: u32) -> Advertisement {
    let encryption = Encryption {
        key: BindKey::new([0x23; 16]),
        mac: mac.parse().unwrap(),
        counter,
    };
    let objects = [Object::new(0x02, Value::Float(21.5))];
    let payload = encode_v2(&objects, true, None, Some(&encryption)).unwrap();
    blu(&payload, mac)
}

#[wasm_bindgen_test]
async fn the_key_form_offers_the_mac_an_encrypted_blu_sensor_announced() {
    const MAC: &str = "3C:2E:F5:5B:00:07";
    let page = Page::mount().await;
    // The browser names the device by an opaque id and hides its address.
    let id = "xJ3k9Q==";
    page.advertise_as_sent(id, encrypted_blu(MAC, 1));
    page.refresh().await;
    page.open_details().await;
    let mac_field: web_sys::HtmlInputElement = dom::query(&page.host, ".key-form input[name=mac]");
    assert_eq!(mac_field.value(), MAC);
    page.input(".key-form input[name=bindkey]", &"23".repeat(16));
    page.click(".key-form button[type=submit]");
    settle().await;
    page.advertise_as_sent(id, encrypted_blu(MAC, 2));
    let row = page.last_row().await;
    assert!(row.contains("temperature 21.5 °C"), "{row}");
}

#[wasm_bindgen_test]
async fn an_encrypted_blu_sensor_decrypts_with_only_its_key() {
    const MAC: &str = "3C:2E:F5:5B:00:08";
    let page = Page::mount().await;
    let id = "p0QmZw==";
    page.set_key(id, 0x23);
    page.advertise_as_sent(id, encrypted_blu(MAC, 1));
    page.advertise_as_sent(id, encrypted_blu(MAC, 2));
    let row = page.last_row().await;
    assert!(row.contains("temperature 21.5 °C"), "{row}");
}

/// Picks `id` in the (simulated) chooser and watches it, as "Watch a sensor…" does.
async fn watch(page: &Page, id: &str, name: &str) {
    page.with_mock(|mock| {
        mock.add_device(&DeviceId::from(id), Some(name));
        mock.set_chooser(ChooserAnswer::Device(DeviceId::from(id)));
        // The click on "Watch a sensor…" (a button the page shows only on Web Bluetooth).
        mock.user_gesture();
    });
    page.store.watch_new_device().await;
    settle().await;
}

#[wasm_bindgen_test]
async fn a_watched_and_scanned_device_counts_each_advertisement_once() {
    let page = Page::mount().await;
    watch(&page, "both-1", "BOTH").await;
    for _ in 0..3 {
        page.advertise("both-1", sensor("BOTH", TEMP_HUMIDITY, -60));
    }
    page.refresh().await;
    let packets = page
        .store
        .model_untracked(|m| m.devices().map(|d| d.packets).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(packets, [3]);
}

#[wasm_bindgen_test]
async fn hiding_the_page_says_the_scan_stopped_and_one_click_starts_it_again() {
    let page = Page::mount().await;
    page.with_mock(|mock| {
        mock.set_page_visible(false);
        mock.set_page_visible(true);
    });
    page.refresh().await;
    assert!(!page.mock().is_scanning());
    assert_eq!(
        page.texts(".source-buttons button.primary"),
        ["Scan nearby"],
        "never \"Stop scan\" when nothing scans"
    );
    let said = page.texts(".scan-ended");
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("hidden or loses focus"), "{}", said[0]);
    page.click(".scan-ended button");
    settle().await;
    assert!(page.mock().is_scanning());
    assert_eq!(page.texts(".scan-ended"), [""], "the line says nothing");
    assert!(!dom::has_button(&page.host, "Scan again"));
    assert_eq!(page.texts(".source-buttons button.primary"), ["Stop scan"]);
}

/// "Scan nearby" pressed again while Chrome's scan prompt is open asks once: the page waits for
/// the person's answer rather than open a second prompt over the first.
#[wasm_bindgen_test]
async fn scan_pressed_again_while_the_prompt_is_open_asks_once() {
    let (host, store) = dom::mount_scan_page();
    let page = Page { host, store };
    page.with_mock(|mock| mock.set_scan_prompt(ScanPrompt::Open));
    dom::until(5, "the Scan nearby button", || {
        dom::has_button(&page.host, "Scan nearby")
    })
    .await;
    dom::click(&page.host, "Scan nearby");
    dom::click(&page.host, "Scan nearby");
    settle().await;
    dom::click(&page.host, "Scan nearby");
    settle().await;
    assert_eq!(page.with_mock(MockBackend::scan_prompts_shown), 1);
    page.with_mock(|mock| mock.set_scan_prompt(ScanPrompt::Allow));
    dom::until(5, "the scan to run", || {
        store.status.with_untracked(|s| s.scanning)
    })
    .await;
    assert_eq!(page.with_mock(MockBackend::scan_prompts_shown), 1);
    settle().await;
    assert_eq!(page.texts(".source-buttons button.primary"), ["Stop scan"]);
}

#[wasm_bindgen_test]
async fn a_scan_the_browser_ended_silently_is_not_shown_as_running() {
    let page = Page::mount().await;
    page.with_mock(MockBackend::end_scan_silently);
    page.store.tick(now_ms());
    settle().await;
    assert_eq!(
        page.texts(".source-buttons button.primary"),
        ["Scan nearby"]
    );
    let said = page.texts(".scan-ended");
    assert!(
        said.first()
            .is_some_and(|s| s.contains("the browser ended the scan")),
        "{said:?}"
    );
}

#[wasm_bindgen_test]
async fn watches_resume_when_the_page_is_focused_again() {
    let page = Page::mount().await;
    page.store.stop_scan();
    watch(&page, "watched-1", "ATC_WATCHED").await;
    page.advertise("watched-1", sensor("ATC_WATCHED", TEMP_HUMIDITY, -60));
    page.refresh().await;
    assert!(page.texts(".device-row")[0].contains("temperature 25.06 °C"));

    page.with_mock(|mock| {
        mock.set_page_focused(false);
        mock.set_page_focused(true);
    });
    settle().await;
    // 23.2 °C (bthome.io/format: 0x02 temperature, sint16 × 0.01).
    page.advertise(
        "watched-1",
        sensor("ATC_WATCHED", &[0x40, 0x02, 0x10, 0x09], -55),
    );
    let row = page.last_row().await;
    assert!(row.contains("temperature 23.2 °C"), "{row}");
    assert_eq!(page.texts(".watched li").len(), 1);
}

#[wasm_bindgen_test]
async fn filters_and_search_narrow_the_list() {
    let page = Page::mount().await;
    page.advertise("a", sensor("SBHT-003C", TEMP_HUMIDITY, -50));
    page.advertise("b", sensor("ATC_1", TEMP_HUMIDITY, -50));
    page.refresh().await;
    assert_eq!(page.texts(".device-row").len(), 2);
    page.store
        .update_settings(|s| s.filter_json = r#"[{"name":"SB*"}]"#.to_owned());
    settle().await;
    let titles = page.texts(".device-title");
    assert_eq!(titles, ["SBHT-003C"]);
    page.store
        .update_settings(|s| s.filter_json = String::new());
    page.input(".search input", "atc");
    settle().await;
    assert_eq!(page.texts(".device-title"), ["ATC_1"]);
}

/// A card states its decode problem in words, never as the core's error code.
fn assert_problem(row: &str, words: &str, code: &str) {
    assert!(row.contains(words), "{row}");
    assert!(!row.contains(code), "in words, not the core's code: {row}");
}

#[wasm_bindgen_test]
async fn an_encrypted_sensor_decodes_after_its_key_is_entered() {
    let page = Page::mount().await;
    let key = BindKey::new([0x23; 16]);
    let mac: MacAddress = "A4:C1:38:11:22:33".parse().unwrap();
    let packet = |counter: u32| {
        let objects = [Object::new(0x02, Value::Float(21.5))];
        let encryption = Encryption { key, mac, counter };
        encode_v2(&objects, false, None, Some(&encryption)).unwrap()
    };
    // The browser hides the MAC: the device is known only by an opaque id.
    page.advertise("opaque-id", sensor("ENC", &packet(1), -55));
    let row = page.last_row().await;
    assert_problem(&row, "Encrypted: needs its bind key.", "missing_key");
    assert!(!row.contains("21.5"), "{row}");

    page.open_details().await;
    let hint = page.texts(".key-form .hint").remove(0);
    assert!(hint.contains("encrypts its readings"), "{hint}");
    page.input(".key-form input[name=bindkey]", &"23".repeat(16));
    page.input(".key-form input[name=mac]", "a4:c1:38:11:22:33");
    page.click(".key-form button[type=submit]");
    settle().await;

    page.advertise("opaque-id", sensor("ENC", &packet(2), -55));
    let row = page.last_row().await;
    assert!(row.contains("temperature 21.5 °C"), "{row}");
    assert!(!row.contains("bind key"), "{row}");
    // The key is nowhere in the page.
    assert!(!page.host.inner_html().contains(&"23".repeat(16)));
}

#[wasm_bindgen_test]
async fn a_wrong_key_shows_the_decryption_failure() {
    let page = Page::mount().await;
    let mac: MacAddress = "A4:C1:38:11:22:34".parse().unwrap();
    let encryption = Encryption {
        key: BindKey::new([1; 16]),
        mac,
        counter: 1,
    };
    let objects = [Object::new(0x02, Value::Float(20.0))];
    let payload = encode_v2(&objects, false, None, Some(&encryption)).unwrap();
    page.set_key("A4:C1:38:11:22:34", 2);
    page.advertise("A4:C1:38:11:22:34", sensor("ENC2", &payload, -55));
    let row = page.last_row().await;
    let wrong_key = "Decryption failed: the bind key or the MAC is wrong.";
    assert_problem(&row, wrong_key, "mic_failure");
}

/// A bind key set for a device that sends plaintext: the refusal (a possible downgrade) stays,
/// and the card says why its readings stopped.
#[wasm_bindgen_test]
async fn plaintext_from_a_keyed_device_is_refused_and_explained() {
    let page = Page::mount().await;
    page.set_key("A4:C1:38:11:22:35", 2);
    // BTHome v2, unencrypted: temperature 25.06 °C.
    page.advertise(
        "A4:C1:38:11:22:35",
        sensor("PLAIN", &[0x40, 0x02, 0xca, 0x09], -55),
    );
    let row = page.last_row().await;
    assert!(row.contains("Unencrypted data refused"), "{row}");
    assert!(row.contains("forget the key"), "{row}");
    assert!(!row.contains("25.06"), "{row}");
}

/// A four-button remote (Shelly BLU RC Button 4) and a device with three temperatures (BLU
/// TRV): the Events list and the card name each object by its number.
#[wasm_bindgen_test]
async fn repeated_objects_are_named_by_number() {
    let page = Page::mount().await;
    // Packet 1: key 1 pressed; packet 2: key 2 (`3A 00` for the others).
    let key1 = [
        0x44, 0x00, 0x01, 0x3a, 0x01, 0x3a, 0x00, 0x3a, 0x00, 0x3a, 0x00,
    ];
    let key2 = [
        0x44, 0x00, 0x02, 0x3a, 0x00, 0x3a, 0x01, 0x3a, 0x00, 0x3a, 0x00,
    ];
    page.advertise("rc4", sensor("SBBT-004CUS", &key1, -50));
    page.advertise("rc4", sensor("SBBT-004CUS", &key2, -50));
    // 0x45 temperatures 21.0, 19.5 and -2.0 °C.
    let trv = [0x40, 0x45, 0xd2, 0x00, 0x45, 0xc3, 0x00, 0x45, 0xec, 0xff];
    page.advertise("trv", sensor("SBTR-001AEU", &trv, -60));
    page.refresh().await;
    assert_eq!(
        page.texts(".timeline-event"),
        ["button 2 press", "button 1 press"]
    );
    let row = page.texts(".device-row").pop().unwrap();
    assert!(row.contains("SBTR-001AEU"), "{row}");
    for reading in [
        "temperature 1 21 °C",
        "temperature 2 19.5 °C",
        "temperature 3 -2 °C",
    ] {
        assert!(row.contains(reading), "{reading}: {row}");
    }
}

#[wasm_bindgen_test]
async fn export_content_is_right() {
    let page = Page::mount().await;
    page.advertise("dev-9", sensor("EXPORTED", TEMP_HUMIDITY, -60));
    page.store.set_label(&key("dev-9"), "Cellar");
    page.refresh().await;
    let csv = page.store.model_untracked(export::csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "time,time_ms,device,label,name,object,reading,value,unit"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains(",dev-9,Cellar,EXPORTED,temperature,2,25.06,°C"),
        "{}",
        lines[1]
    );
    assert!(lines[2].ends_with(",humidity,3,50.55,%"), "{}", lines[2]);
    let json = page
        .store
        .model_untracked(|m| export::json(m, now_ms()))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["devices"][0]["label"], "Cellar");
    assert_eq!(doc["devices"][0]["readings"][1]["points"][0][1], 50.55);
}

/// The wall clock set back an hour (a time sync, or by hand): what is heard after it is still
/// dated after what came before, so the history keeps growing (it took no point for an hour).
#[wasm_bindgen_test]
async fn the_history_goes_on_when_the_wall_clock_is_set_back() {
    let page = Page::listing("dev-9", sensor("BACK", TEMP_HUMIDITY, -60)).await;
    let clock = dom::set_clock_back(3_600_000);
    // The history keeps a point per reading every 5 s.
    gloo_timers::future::sleep(Duration::from_millis(5_200)).await;
    page.advertise("dev-9", sensor("BACK", TEMP_HUMIDITY, -60));
    page.refresh().await;
    drop(clock);
    let csv = page.store.model_untracked(export::csv).unwrap();
    let times: Vec<u64> = csv
        .lines()
        .skip(1)
        .filter(|line| line.contains(",temperature,"))
        .map(|line| line.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 2, "{csv}");
    assert!(times[1] >= times[0] + 5_000, "{csv}");
}

#[wasm_bindgen_test]
async fn a_hostile_device_name_renders_as_text() {
    let page = Page::mount().await;
    let evil = "<img src=x onerror=alert(1)>";
    page.advertise("evil", sensor(evil, TEMP_HUMIDITY, -60));
    page.refresh().await;
    assert_eq!(page.texts(".device-title"), [evil]);
    assert!(
        page.host
            .query_selector(".device-list img")
            .unwrap()
            .is_none()
    );
    page.open_details().await;
    assert!(page.host.query_selector("img").unwrap().is_none());
    assert_eq!(page.texts(".device-details h2"), [evil]);
}

/// A name with NUL and U+202E (RIGHT-TO-LEFT OVERRIDE, which makes "gpj.exe" read "exe.jpg") was
/// shown as it is; the page now shows such characters as escapes, in the list and the details.
#[wasm_bindgen_test]
async fn control_and_bidi_characters_in_a_name_are_shown_escaped() {
    let page = Page::mount().await;
    page.advertise(
        "bidi",
        sensor("\u{202e}gpj.exe\u{0}\u{1b}]0;x", TEMP_HUMIDITY, -60),
    );
    page.refresh().await;
    let shown = "\\u{202e}gpj.exe\\u{0}\\u{1b}]0;x";
    assert_eq!(page.texts(".device-title"), [shown]);
    page.open_details().await;
    assert_eq!(page.texts(".device-details h2"), [shown]);
    // A sensor that does not encrypt is not said to need a key.
    let hint = page.texts(".key-form .hint").remove(0);
    assert!(hint.contains("sends its readings unencrypted"), "{hint}");
    assert!(!page.host.inner_html().contains('\u{202e}'));
}

/// An imported capture's `bindkey` replaced the user's saved key for that device.
#[wasm_bindgen_test]
async fn an_imported_bindkey_never_replaces_the_users_key() {
    let page = Page::mount().await;
    let own = page.set_key("A4:C1:38:00:00:09", 0x11);
    let capture = concat!(
        r#"{"time":1,"address":"A4:C1:38:00:00:09","service_data":{"fcd2":"4002ca09"},"#,
        r#""bindkey":"22222222222222222222222222222222"}"#,
        "\n",
    );
    page.store.import_capture(capture);
    page.store.tick(now_ms() + 1_000);
    settle().await;
    let kept = page
        .store
        .model_untracked(|m| m.key_entry(&key("A4:C1:38:00:00:09")))
        .flatten();
    assert_eq!(kept, Some(own));
    let notices = page.store.notices.get_untracked().join("\n");
    assert!(notices.contains("your saved key is kept"), "{notices}");
}

#[wasm_bindgen_test]
async fn importing_a_capture_replays_it() {
    let page = Page::mount().await;
    let capture = concat!(
        r#"{"time":1000.0,"address":"A4:C1:38:00:00:01","rssi":-61,"local_name":"CAP_1","service_data":{"fcd2":"4002ca0903bf13"}}"#,
        "\n",
        r#"{"time":1000.2,"address":"A4:C1:38:00:00:02","rssi":-62,"local_name":"CAP_2","service_data":{"0000fcd2-0000-1000-8000-00805f9b34fb":"40021009"}}"#,
        "\n",
    );
    let count = page.store.import_capture(capture);
    assert_eq!(count, 2);
    page.refresh().await;
    // Only the first record is due at once; the second 200 ms later.
    assert_eq!(page.texts(".device-title"), ["CAP_1"]);
    page.store.tick(now_ms() + 250);
    settle().await;
    let mut titles = page.texts(".device-title");
    titles.sort();
    assert_eq!(titles, ["CAP_1", "CAP_2"]);
    let rows = page.texts(".device-row").join("\n");
    assert!(rows.contains("temperature 23.2 °C"), "{rows}");
    assert!(rows.contains("A4:C1:38:00:00:02"), "{rows}");
}

/// A replay can be stopped where it has got to: what played stays, the rest never comes.
#[wasm_bindgen_test]
async fn a_replay_can_be_stopped() {
    let page = Page::mount().await;
    let capture = concat!(
        r#"{"time":1000.0,"address":"A4:C1:38:00:00:01","local_name":"CAP_1","service_data":{"fcd2":"4002ca09"}}"#,
        "\n",
        r#"{"time":1030.0,"address":"A4:C1:38:00:00:02","local_name":"CAP_2","service_data":{"fcd2":"40021009"}}"#,
        "\n",
    );
    page.store.import_capture(capture);
    page.refresh().await;
    page.click(".replay button");
    settle().await;
    assert_eq!(page.texts(".replay"), [""], "the progress line goes");
    assert!(!dom::has_button(&page.host, "Stop"));
    page.store.tick(now_ms() + 60_000);
    page.refresh().await;
    assert_eq!(page.texts(".device-title"), ["CAP_1"]);
}

#[wasm_bindgen_test]
async fn pause_stops_the_list_and_resume_continues() {
    let page = Page::mount().await;
    page.click(".toolbar button[aria-pressed]");
    settle().await;
    page.advertise("p", sensor("PAUSED", TEMP_HUMIDITY, -60));
    page.refresh().await;
    assert!(page.texts(".device-row").is_empty());
    page.click(".toolbar button[aria-pressed]");
    page.advertise("p", sensor("PAUSED", TEMP_HUMIDITY, -60));
    page.refresh().await;
    assert_eq!(page.texts(".device-title"), ["PAUSED"]);
}

#[wasm_bindgen_test]
async fn scanning_can_be_stopped() {
    let page = Page::mount().await;
    let backend = page.mock();
    assert!(backend.is_scanning());
    page.click(".source-buttons button.primary");
    settle().await;
    assert!(!backend.is_scanning());
    assert_eq!(
        page.texts(".source-buttons button.primary"),
        ["Scan nearby"]
    );
    let _ = LeScanOptions::default();
}

/// The name a screen reader announces, approximately: `aria-label`, a button's text, or the
/// enclosing or referring `<label>`.
fn accessible_name(element: &web_sys::Element) -> String {
    if let Some(label) = element.get_attribute("aria-label") {
        return label;
    }
    if matches!(element.tag_name().as_str(), "BUTTON" | "SUMMARY") {
        return element.text_content().unwrap_or_default();
    }
    if let Ok(Some(label)) = element.closest("label") {
        return label.text_content().unwrap_or_default();
    }
    let id = element.id();
    if !id.is_empty()
        && let Ok(Some(label)) = document().query_selector(&format!("label[for='{id}']"))
    {
        return label.text_content().unwrap_or_default();
    }
    String::new()
}

#[wasm_bindgen_test]
async fn every_control_is_named_and_reachable_from_the_keyboard() {
    let page = Page::listing("dev-1", sensor("ATC_1", TEMP_HUMIDITY, -60)).await;
    page.open_details().await;
    // Open the collapsed sections too.
    let details = page.host.query_selector_all("details").unwrap();
    for i in 0..details.length() {
        let d: web_sys::HtmlDetailsElement = details.item(i).unwrap().unchecked_into();
        d.set_open(true);
    }
    settle().await;
    let controls = page
        .host
        .query_selector_all("button, input, select, textarea, summary")
        .unwrap();
    assert!(controls.length() > 20, "{}", controls.length());
    for i in 0..controls.length() {
        let element: web_sys::HtmlElement = controls.item(i).unwrap().unchecked_into();
        let name = accessible_name(&element);
        assert!(
            !name.trim().is_empty(),
            "unnamed control: {}",
            element.outer_html()
        );
        assert!(
            element.tab_index() >= 0,
            "not reachable by Tab: {}",
            element.outer_html()
        );
    }
}

/// The card's line of a device (by its name): position in the list and text.
fn card(page: &Page, name: &str) -> (String, String) {
    let rows = page.host.query_selector_all(".device-row").unwrap();
    (0..rows.length())
        .map(|i| rows.item(i).unwrap().unchecked_into::<web_sys::Element>())
        .find(|r| {
            r.query_selector(".device-title")
                .unwrap()
                .and_then(|t| t.text_content())
                .as_deref()
                == Some(name)
        })
        .map(|r| {
            (
                r.get_attribute("aria-posinset").unwrap_or_default(),
                r.text_content().unwrap_or_default(),
            )
        })
        .unwrap_or_else(|| panic!("no card {name}"))
}

#[wasm_bindgen_test]
async fn an_encrypted_sensor_without_its_key_offers_enter_key_in_its_card() {
    let page = Page::mount().await;
    let key = BindKey::new([0x23; 16]);
    let mac: MacAddress = "A4:C1:38:11:22:33".parse().unwrap();
    let encryption = Encryption {
        key,
        mac,
        counter: 1,
    };
    let packet = encode_v2(
        &[Object::new(0x02, Value::Float(21.5))],
        false,
        None,
        Some(&encryption),
    )
    .unwrap();
    page.advertise("opaque-id", sensor("ENC", &packet, -55));
    page.advertise("plain", sensor("PLAIN", TEMP_HUMIDITY, -55));
    page.refresh().await;
    assert_eq!(dom::count(&page.host, ".device-row .enter-key"), 1);
    page.click(".device-row .enter-key");
    gloo_timers::future::sleep(Duration::from_millis(100)).await;
    assert!(
        page.host
            .query_selector("#device-details")
            .unwrap()
            .is_some()
    );
    assert_eq!(
        document().active_element().map(|e| e.id()).as_deref(),
        Some("bindkey"),
        "the bind key field has the focus"
    );
}

/// Whether no device's details panel is open.
fn details_closed(page: &Page) -> bool {
    page.host
        .query_selector("#device-details")
        .unwrap()
        .is_none()
}

/// The Scan page showing one temperature sensor per name, at -60 dBm, each with the device id
/// `id-` and its name's first letter in lower case (`BBB` is `id-b`).
async fn page_with(names: &[&str]) -> Page {
    let page = Page::mount().await;
    for name in names {
        let id = format!("id-{}", name[..1].to_lowercase());
        page.advertise(&id, sensor(name, TEMP_HUMIDITY, -60));
    }
    page.refresh().await;
    page
}

#[wasm_bindgen_test]
async fn rows_stay_in_place_while_the_pointer_rests_on_the_list() {
    let page = page_with(&["BBB", "CCC"]).await;
    assert_eq!(card(&page, "BBB").0, "1", "by name by default");
    let list = dom::element(&page.host, ".device-list");
    list.dispatch_event(&web_sys::Event::new("pointerenter").unwrap())
        .unwrap();
    // A device that sorts first arrives, and a known one sends again: nothing moves.
    page.advertise("id-a", sensor("AAA", TEMP_HUMIDITY, -40));
    page.advertise("id-c", sensor("CCC", TEMP_HUMIDITY, -30));
    page.refresh().await;
    assert_eq!(card(&page, "BBB").0, "1");
    assert_eq!(card(&page, "CCC").0, "2");
    assert_eq!(
        card(&page, "AAA").0,
        "3",
        "the newcomer comes last while the pointer is there"
    );
    list.dispatch_event(&web_sys::Event::new("pointerleave").unwrap())
        .unwrap();
    settle().await;
    assert_eq!(card(&page, "AAA").0, "1");
}

/// Scrolls the device list to `top` and lets the page answer the scroll event.
async fn scroll_to(list: &web_sys::HtmlElement, top: f64) {
    list.set_scroll_top(top);
    list.dispatch_event(&web_sys::Event::new("scroll").unwrap())
        .unwrap();
    settle().await;
}

/// A keyboard user's focus on a row stays there while devices arrive and the order would change
/// (moving a focused element blurs it), and the row stays rendered when scrolled out of view.
#[wasm_bindgen_test]
async fn a_focused_row_keeps_its_place_and_the_focus() {
    let page = page_with(&["BBB", "CCC"]).await;
    let title: web_sys::HtmlElement =
        dom::query(&page.host, ".device-row[data-key='id-c'] .row-title");
    title.focus().unwrap();
    settle().await;
    page.advertise("id-a", sensor("AAA", TEMP_HUMIDITY, -40));
    page.refresh().await;
    assert_eq!(
        card(&page, "CCC").0,
        "2",
        "nothing moves while focus is in the list"
    );
    assert_eq!(card(&page, "AAA").0, "3");
    let focused = document()
        .active_element()
        .and_then(|e| e.closest("[data-key]").ok().flatten());
    assert_eq!(
        focused
            .and_then(|row| row.get_attribute("data-key"))
            .as_deref(),
        Some("id-c"),
        "the row title keeps the focus"
    );
    // Focus moves to another row's title: it stays in the list, and still nothing moves.
    let other: web_sys::HtmlElement =
        dom::query(&page.host, ".device-row[data-key='id-b'] .row-title");
    other.focus().unwrap();
    settle().await;
    assert_eq!(card(&page, "AAA").0, "3", "focus moving within the list");
    title.focus().unwrap();
    settle().await;
    // Many more devices, and the list scrolled far down: the focused row is still there.
    for i in 0..40 {
        page.advertise(
            &format!("id-z{i:02}"),
            sensor(&format!("ZZZ{i:02}"), TEMP_HUMIDITY, -70),
        );
    }
    page.refresh().await;
    let list = dom::element(&page.host, ".device-list");
    // Scrollable as the stylesheet makes it (the test page has none).
    list.style().set_property("overflow-y", "auto").unwrap();
    scroll_to(&list, 100_000.0).await;
    assert!(list.scroll_top() > 0.0, "scrolled: {}", list.scroll_top());
    assert!(
        page.host
            .query_selector(".device-row[data-key='id-c'] .row-title")
            .unwrap()
            .is_some(),
        "the focused row stays rendered"
    );
    // Focus leaves the list: the order follows the sort again (seen from the top).
    title.blur().unwrap();
    scroll_to(&list, 0.0).await;
    assert_eq!(card(&page, "AAA").0, "1");
}

/// Opening a device's details moves focus to the panel's heading; Escape closes it and gives the
/// focus back to the device's row (not to the page's body), whatever its key holds (a capture
/// file's keys may hold quotes and backslashes).
#[wasm_bindgen_test]
async fn the_details_panel_takes_the_focus_and_gives_it_back() {
    for id in ["id-b", r#"id "b" \ ]"#] {
        focus_comes_back_to_the_row_of(id).await;
    }
}

async fn focus_comes_back_to_the_row_of(id: &str) {
    let page = Page::mount().await;
    page.advertise(id, sensor("BBB", TEMP_HUMIDITY, -60));
    page.refresh().await;
    page.click(".device-row .row-title");
    settle().await;
    let active = || document().active_element().map(|e| e.tag_name());
    assert_eq!(active().as_deref(), Some("H2"), "the panel's heading");
    let panel = dom::element(&page.host, "#device-details");
    let escape = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &{
        let init = web_sys::KeyboardEventInit::new();
        init.set_key("Escape");
        init.set_bubbles(true);
        init
    })
    .unwrap();
    panel.dispatch_event(&escape).unwrap();
    settle().await;
    assert!(details_closed(&page));
    let row = document()
        .active_element()
        .and_then(|e| e.closest("[data-key]").ok().flatten())
        .and_then(|r| r.get_attribute("data-key"));
    assert_eq!(row.as_deref(), Some(id), "focus is back on the row");
}

#[wasm_bindgen_test]
async fn cards_say_binary_states_in_words_and_the_chart_opens_on_temperature() {
    let page = Page::mount().await;
    // battery 100 %, temperature 25.06 °C; a window sensor: open.
    page.advertise(
        "th",
        sensor("TH", &[0x40, 0x01, 0x64, 0x02, 0xca, 0x09], -60),
    );
    page.advertise("dw", sensor("DW", &[0x40, 0x01, 0x50, 0x2D, 0x01], -60));
    page.refresh().await;
    let (_, door) = card(&page, "DW");
    assert!(door.contains("window open"), "{door}");
    assert!(!door.contains(" on"), "{door}");
    // The card leads with the temperature, battery after it.
    let (_, th) = card(&page, "TH");
    assert!(
        th.find("temperature").unwrap() < th.find("battery").unwrap(),
        "{th}"
    );
    page.click(".device-row[data-key] .row-title");
    settle().await;
    let title = page.texts("#device-details h2").pop().unwrap();
    assert_eq!(title, "DW");
    page.click(".details-head .close");
    settle().await;
    assert!(details_closed(&page));
    dom::nth(&page.host, ".row-title", 1).click();
    settle().await;
    let select: web_sys::HtmlSelectElement = dom::query(&page.host, ".chart-controls select");
    assert_eq!(
        select.value(),
        "2",
        "the chart opens on temperature, not battery"
    );
    assert!(
        page.texts(".chart-label")
            .pop()
            .unwrap()
            .contains("temperature (°C)")
    );
    // One reading so far: no line to draw, so the latest point shows as a dot.
    let dot: web_sys::Element = dom::query(&page.host, ".full-chart .last-point");
    assert!(
        dot.get_attribute("points")
            .is_some_and(|p| p.split(' ').count() == 2),
        "the one reading is marked: {:?}",
        dot.get_attribute("points")
    );
    // A screen reader hears the chart's summary once: as the image's name.
    let chart: web_sys::Element = dom::query(&page.host, ".full-chart svg");
    let summary = chart.get_attribute("aria-label").unwrap_or_default();
    assert!(
        summary.starts_with("temperature (°C): 1 point, from"),
        "{summary}"
    );
    assert_eq!(dom::count(&page.host, ".full-chart .visually-hidden"), 0);
}

/// The toolbar shows and changes saved settings, so it waits for the store to read them: in the
/// split build the page renders before the store's code has arrived, and a choice made in a
/// toolbar shown too early was overwritten by the saved one a moment later.
#[wasm_bindgen_test]
async fn the_toolbar_shows_the_saved_settings_when_the_store_opens_late() {
    bluehome::state::privacy::forget_everything();
    let mock = || Rc::new(Backend::Mock(bluehome::ble::mock::MockBackend::new()));
    let saved_fahrenheit = move || {
        Owner::new().with(|| {
            AppStore::new(mock(), true)
                .settings
                .get_untracked()
                .fahrenheit
        })
    };
    Owner::new().with(|| AppStore::new(mock(), true).update_settings(|s| s.fahrenheit = true));
    assert!(saved_fahrenheit());

    let host = dom::mount_view(move || {
        bluehome::app::provide_unopened_state(mock(), true);
        view! { <bluehome::pages::ScanPage /> }
    });
    let fahrenheit = || dom::checkbox(&host, "°F");
    dom::until(2, "the toolbar", || fahrenheit().is_some()).await;
    assert!(
        fahrenheit().unwrap().checked(),
        "the toolbar showed the default, not the saved setting"
    );

    let input = fahrenheit().unwrap();
    input.set_checked(false);
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    settle().await;
    assert!(
        !saved_fahrenheit(),
        "the change made in the toolbar was not kept"
    );
    host.remove();
    bluehome::state::privacy::forget_everything();
}

/// The live region (`[role=alert]`) directly inside `parent`; it is there, and empty, before
/// any message.
fn alert_region(page: &Page, parent: &str) -> web_sys::HtmlElement {
    dom::element(&page.host, &format!("{parent} > [role=alert]"))
}

/// Whether `a` and `b` are one element (a region replaced by a filled one is not announced).
fn same(a: &web_sys::HtmlElement, b: &web_sys::HtmlElement) -> bool {
    a.is_same_node(Some(b))
}

/// `region` is still the element `selector` finds: it was filled, not replaced.
#[track_caller]
fn assert_still_there(page: &Page, region: &web_sys::HtmlElement, selector: &str) {
    let now = dom::element(&page.host, selector);
    assert!(same(region, &now), "{selector} was replaced");
}

/// An empty region has no child a selector sees (style/main.css takes `.live:empty` out of the
/// flow, so it takes no room).
fn is_empty(region: &web_sys::HtmlElement) -> bool {
    region.matches(":empty").unwrap() && region.text_content().unwrap_or_default().is_empty()
}

/// An input's `aria-invalid`, and the text of the element its `aria-describedby` names.
fn invalid_and_described(page: &Page, selector: &str) -> (Option<String>, Option<String>) {
    dom::validity(&dom::query(&page.host, selector))
}

/// The key form's error is announced (its alert region is on the page, empty, before the error
/// is put in it: MDN "ARIA live regions") and tied to the field it is about (`aria-invalid`,
/// `aria-describedby`: WCAG 2.2 technique ARIA21) until that field is put right.
#[wasm_bindgen_test]
async fn the_key_forms_error_is_announced_and_names_its_field() {
    let page = Page::listing("A4:C1:38:11:22:36", sensor("KEYED", TEMP_HUMIDITY, -55)).await;
    page.open_details().await;
    let region = alert_region(&page, ".key-form fieldset");
    assert!(is_empty(&region));
    let key_field = ".key-form input[name=bindkey]";
    let mac_field = ".key-form input[name=mac]";
    assert_eq!(invalid_and_described(&page, key_field), (None, None));

    page.input(key_field, "12");
    page.input(mac_field, "");
    page.click(".key-form button[type=submit]");
    settle().await;
    assert!(same(&region, &alert_region(&page, ".key-form fieldset")));
    let said = region.text_content().unwrap_or_default();
    assert!(said.starts_with("bind key: "), "{said}");
    assert_eq!(
        invalid_and_described(&page, key_field),
        (Some("true".into()), Some(said))
    );
    assert_eq!(invalid_and_described(&page, mac_field), (None, None));

    // The key put right, the MAC wrong: the error moves to the MAC.
    page.input(key_field, &"23".repeat(16));
    page.input(mac_field, "not a mac");
    page.click(".key-form button[type=submit]");
    settle().await;
    let said = region.text_content().unwrap_or_default();
    assert!(said.starts_with("MAC: "), "{said}");
    assert_eq!(invalid_and_described(&page, key_field), (None, None));
    assert_eq!(
        invalid_and_described(&page, mac_field),
        (Some("true".into()), Some(said))
    );

    page.input(mac_field, "a4:c1:38:11:22:36");
    page.click(".key-form button[type=submit]");
    settle().await;
    assert_eq!(invalid_and_described(&page, mac_field), (None, None));
    assert!(same(&region, &alert_region(&page, ".key-form fieldset")));
    assert!(is_empty(&region));
}

/// A device's problem appearing while its details are open is announced: the region is there
/// before it.
#[wasm_bindgen_test]
async fn a_problem_appearing_in_the_open_details_is_announced() {
    let page = Page::listing(
        "A4:C1:38:11:22:37",
        sensor("PLAIN2", &[0x40, 0x02, 0xca, 0x09], -55),
    )
    .await;
    page.open_details().await;
    let region = alert_region(&page, ".device-details");
    assert!(is_empty(&region));
    // A key set for a device that sends plaintext: its next packet is refused.
    page.set_key("A4:C1:38:11:22:37", 2);
    page.advertise(
        "A4:C1:38:11:22:37",
        sensor("PLAIN2", &[0x40, 0x02, 0xcb, 0x09], -55),
    );
    page.refresh().await;
    assert!(same(&region, &alert_region(&page, ".device-details")));
    let said = region.text_content().unwrap_or_default();
    assert!(said.contains("Unencrypted data refused"), "{said}");
    // The next packet, refused the same way, leaves the message (and the screen reader) alone.
    let message = dom::element(&page.host, ".device-details > [role=alert] .problem");
    page.advertise(
        "A4:C1:38:11:22:37",
        sensor("PLAIN2", &[0x40, 0x02, 0xcc, 0x09], -55),
    );
    page.refresh().await;
    let again = dom::element(&page.host, ".device-details > [role=alert] .problem");
    assert!(same(&message, &again), "the same message was put in again");
}

/// The filter rules' parse error is announced and names the rules' field until they parse.
#[wasm_bindgen_test]
async fn a_filter_rules_error_is_announced_and_names_the_field() {
    let page = Page::mount().await;
    let parent = ".filter-editor form";
    let region = alert_region(&page, parent);
    assert!(is_empty(&region));
    apply_filters(&page, r#"[{"name":"#).await;
    assert!(same(&region, &alert_region(&page, parent)));
    let said = region.text_content().unwrap_or_default();
    assert!(!said.is_empty());
    assert_eq!(
        invalid_and_described(&page, "#filter-json"),
        (Some("true".into()), Some(said))
    );
    // Another setting changing leaves the error's message alone.
    let message = dom::element(&page.host, ".filter-editor .problem");
    page.store.update_settings(|s| s.local_time = !s.local_time);
    settle().await;
    let again = dom::element(&page.host, ".filter-editor .problem");
    assert!(same(&message, &again), "the same message was put in again");

    apply_filters(&page, "").await;
    assert_eq!(invalid_and_described(&page, "#filter-json"), (None, None));
    assert!(is_empty(&region));
}

/// A source's problem (the chooser closed) is announced, and stays put while the status changes.
#[wasm_bindgen_test]
async fn a_sources_problem_is_announced_in_a_region_already_there() {
    let page = Page::mount().await;
    let region = alert_region(&page, ".sources");
    assert!(is_empty(&region));
    page.with_mock(|mock| {
        mock.set_chooser(ChooserAnswer::Cancel);
        mock.user_gesture();
    });
    page.store.watch_new_device().await;
    settle().await;
    assert!(same(&region, &alert_region(&page, ".sources")));
    assert!(!region.text_content().unwrap_or_default().is_empty());
    let message = dom::element(&page.host, ".sources > [role=alert] .problem");
    page.store.status.update(|s| s.replay = None);
    settle().await;
    let again = dom::element(&page.host, ".sources > [role=alert] .problem");
    assert!(same(&message, &again), "the same message was put in again");
}

/// The demo's banner, the scan's end and a replay's progress are announced: their status regions
/// are on the page, empty, before the page is there (the banner comes a step after it), before
/// the scan ends or the replay starts, and those same elements then hold the words (a line
/// inserted already filled is often not read: MDN "ARIA live regions"); the buttons that go with
/// the words are beside the regions, not read out with them.
#[wasm_bindgen_test]
async fn the_demo_the_scans_end_and_a_replay_are_announced_in_regions_already_there() {
    // The mock backend is the demo's (`?demo`).
    let (host, store) = dom::mount_scan_page();
    let banner = dom::element(&host, ".sources > [role=status]");
    assert!(is_empty(&banner), "{}", banner.outer_html());
    dom::start_scan(&host, store).await;
    settle().await;
    let page = Page { host, store };
    assert_still_there(&page, &banner, ".sources > [role=status]");
    assert!(banner.query_selector(".demo-banner").unwrap().is_some());
    let ended = dom::element(&page.host, ".scan-ended > [role=status]");
    let replay = dom::element(&page.host, ".replay > [role=status]");
    assert!(is_empty(&ended), "{}", ended.outer_html());
    assert!(is_empty(&replay), "{}", replay.outer_html());

    page.with_mock(|mock| {
        mock.set_page_visible(false);
        mock.set_page_visible(true);
    });
    page.refresh().await;
    assert_still_there(&page, &ended, ".scan-ended > [role=status]");
    let said = ended.text_content().unwrap_or_default();
    assert!(said.contains("hidden or loses focus"), "{said}");
    assert!(ended.query_selector("button").unwrap().is_none());
    assert!(dom::has_button(&page.host, "Scan again"));

    page.store.import_capture(concat!(
        r#"{"time":1000.0,"address":"A4:C1:38:00:00:01","local_name":"CAP_1","service_data":{"fcd2":"4002ca09"}}"#,
        "\n",
        r#"{"time":1030.0,"address":"A4:C1:38:00:00:02","local_name":"CAP_2","service_data":{"fcd2":"40021009"}}"#,
        "\n",
    ));
    page.refresh().await;
    assert_still_there(&page, &replay, ".replay > [role=status]");
    let said = replay.text_content().unwrap_or_default();
    assert!(said.contains("Replaying a capture of 2 packets"), "{said}");
    assert!(replay.query_selector("button").unwrap().is_none());
    // The count goes on beside the region, which says nothing new per packet.
    assert!(page.texts(".replay")[0].contains("1 played"));
    assert!(!said.contains("played"), "{said}");
    assert!(dom::has_button(&page.host, "Stop"));
}

/// Saved data the page cannot use is announced, and only its words are: the alert is on the page
/// (empty) before the store opens, which in the split build is after the page renders (MDN "ARIA
/// live regions"), and the Download and Dismiss buttons sit beside it, each named after its file
/// and described by its message.
#[wasm_bindgen_test]
async fn unreadable_saved_data_is_announced_with_its_buttons_beside_the_alert() {
    let mount = || {
        dom::mount_view(|| {
            let backend = Rc::new(Backend::Mock(bluehome::ble::mock::MockBackend::new()));
            bluehome::app::provide_app_state(backend, true);
            view! { <bluehome::pages::ScanPage /> }
        })
    };
    let region = |host: &web_sys::HtmlElement| dom::element(host, ".unreadable > [role=alert]");
    bluehome::state::privacy::forget_everything();
    let host = mount();
    assert!(is_empty(&region(&host)), "{}", region(&host).inner_html());
    assert_eq!(dom::count(&host, ".unreadable button"), 0);
    host.remove();

    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.set_item("bluehome.scan", "{not json").unwrap();
    let host = mount();
    let alert = region(&host);
    let message = alert.text_content().unwrap();
    assert!(message.contains("Saved data bluehome.scan"), "{message}");
    assert!(alert.query_selector("button").unwrap().is_none());
    let download = dom::button(&host, "Download bluehome.scan.unreadable.json");
    assert!(download.closest("[role=alert]").unwrap().is_none());
    assert_eq!(
        dom::validity(&download).1.as_deref(),
        Some(message.as_str())
    );
    let (file, text) = dom::download(&host, "Download bluehome.scan.unreadable.json").await;
    assert_eq!(
        (file.as_str(), text.as_str()),
        ("bluehome.scan.unreadable.json", "{not json")
    );

    dom::click(&host, "Dismiss");
    settle().await;
    assert!(
        region(&host).is_same_node(Some(&alert)),
        "the alert was replaced"
    );
    assert!(is_empty(&alert), "{}", alert.inner_html());
    assert_eq!(dom::count(&host, ".unreadable button"), 0);
    host.remove();
    bluehome::state::privacy::forget_everything();
}

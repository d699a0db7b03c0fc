//! Scan page load benchmark, in headless Chromium (ignored by default; it prints figures and takes
//! a minute). Run it with:
//!
//! ```sh
//! cargo test --release --target wasm32-unknown-unknown --test bench_scan -- --include-ignored --nocapture
//! ```
//!
//! The page is the real Scan page over the mock backend with its ticker running. A timer feeds
//! 1,000 advertisements a second (10 every 10 ms) from 500 simulated BTHome thermometers for 60 s,
//! each through the backend, the store, the core manager and the BTHome decoder. Printed: main-thread
//! long tasks (over 50 ms, from a `longtask` PerformanceObserver), frames per second
//! (requestAnimationFrame), and the growth of the JS heap (`performance.memory`) and of the wasm
//! memory between the end of a 5 s warm-up and the end of the run.
//! Targets: no long task, at least 50 fps, growth under 10 MB.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use bluehome::ble::DeviceId;
use bluehome_core::Advertisement;
use bluehome_core::bthome::{Object, Value, encode_v2};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

mod dom;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
let longTasks = [];
let frames = 0;
let counting = false;
let observer = null;
export function bench_start() {
  longTasks = [];
  frames = 0;
  counting = true;
  try {
    observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push(e.duration);
    });
    observer.observe({ type: "longtask", buffered: false });
  } catch (e) { observer = null; }
  const tick = () => { if (counting) { frames++; requestAnimationFrame(tick); } };
  requestAnimationFrame(tick);
}
export function bench_stop() {
  counting = false;
  if (observer) observer.disconnect();
  return JSON.stringify({ frames, longTasks, observed: observer !== null });
}
export function js_heap() {
  return (performance.memory && performance.memory.usedJSHeapSize) || 0;
}
"#)]
extern "C" {
    fn bench_start();
    fn bench_stop() -> String;
    fn js_heap() -> f64;
}

const DEVICES: u32 = 500;
const PER_BATCH: u32 = 10;
const BATCH_MS: i32 = 10;
const WARMUP_MS: u64 = 5_000;
const RUN_MS: u64 = 60_000;

fn wasm_memory() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
    f64::from(buffer.byte_length())
}

/// The advertisement of thermometer `device`, `n`-th packet: temperature and humidity that move.
fn advertisement(device: u32, n: u32) -> Advertisement {
    let objects = [
        Object::new(0x00, Value::Int(i64::from(n % 256))),
        Object::new(0x02, Value::Float(f64::from((device * 7 + n) % 400) / 10.0)),
        Object::new(
            0x03,
            Value::Float(f64::from((device * 3 + n) % 1000) / 10.0),
        ),
    ];
    Advertisement {
        name: Some(format!("BENCH-{device:03}")),
        rssi: Some(-40 - (device % 50) as i8),
        ..Advertisement::bthome(encode_v2(&objects, false, None, None).expect("encodable"))
    }
}

#[wasm_bindgen_test]
#[ignore = "benchmark: a minute of load; run with --include-ignored --nocapture"]
async fn scan_page_under_a_thousand_advertisements_a_second() {
    let (host, store) = dom::mount_scan_page();
    dom::start_scan(&host, store).await;

    // Pre-built packets (8 per device) so the feed measures the app, not the encoder.
    let packets: Rc<Vec<Vec<Advertisement>>> = Rc::new(
        (0..DEVICES)
            .map(|d| (0..8).map(|n| advertisement(d, n)).collect())
            .collect(),
    );
    let ids: Rc<Vec<DeviceId>> = Rc::new(
        (0..DEVICES)
            .map(|d| DeviceId(format!("bench-{d:03}")))
            .collect(),
    );
    let sent = Rc::new(Cell::new(0u32));
    // The slowest run of each callback (feed: 10 advertisements through backend, store and
    // manager; tick: the store's 250 ms step, which also triggers the re-render).
    let feed_max = Rc::new(Cell::new(0.0f64));
    let tick_max = Rc::new(Cell::new(0.0f64));
    let performance = web_sys::window().unwrap().performance().unwrap();
    let ticker = {
        let tick_max = Rc::clone(&tick_max);
        let performance = performance.clone();
        Closure::<dyn FnMut()>::new(move || {
            let t0 = performance.now();
            store.tick(js_sys::Date::now() as u64);
            tick_max.set(tick_max.get().max(performance.now() - t0));
        })
    };
    let feed = {
        let sent = Rc::clone(&sent);
        let feed_max = Rc::clone(&feed_max);
        let backend = store.backend();
        Closure::<dyn FnMut()>::new(move || {
            let t0 = performance.now();
            let Some(mock) = backend.as_mock() else {
                return;
            };
            for _ in 0..PER_BATCH {
                let i = sent.get();
                let device = i % DEVICES;
                let n = (i / DEVICES) % 8;
                if let (Some(id), Some(adv)) = (
                    ids.get(device as usize),
                    packets.get(device as usize).and_then(|p| p.get(n as usize)),
                ) {
                    mock.advertise(id, adv.clone());
                }
                sent.set(i + 1);
            }
            feed_max.set(feed_max.get().max(performance.now() - t0));
        })
    };
    let window = web_sys::window().unwrap();
    let tick_timer = window
        .set_interval_with_callback_and_timeout_and_arguments_0(
            ticker.as_ref().unchecked_ref(),
            bluehome::state::store::FRAME_MS as i32,
        )
        .unwrap();
    let timer = window
        .set_interval_with_callback_and_timeout_and_arguments_0(
            feed.as_ref().unchecked_ref(),
            BATCH_MS,
        )
        .unwrap();

    gloo_timers::future::sleep(Duration::from_millis(WARMUP_MS)).await;
    let heap_start = js_heap();
    let wasm_start = wasm_memory();
    let sent_start = sent.get();
    feed_max.set(0.0);
    tick_max.set(0.0);
    let t0 = js_sys::Date::now();
    bench_start();
    gloo_timers::future::sleep(Duration::from_millis(RUN_MS)).await;
    let report = bench_stop();
    let elapsed_s = (js_sys::Date::now() - t0) / 1000.0;
    let heap_end = js_heap();
    let wasm_end = wasm_memory();
    let sent_run = sent.get() - sent_start;
    window.clear_interval_with_handle(timer);
    window.clear_interval_with_handle(tick_timer);

    let parsed: serde_json::Value = serde_json::from_str(&report).unwrap();
    let frames = parsed["frames"].as_f64().unwrap_or(0.0);
    let long_tasks: Vec<f64> = parsed["longTasks"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        .unwrap_or_default();
    let longest = long_tasks.iter().copied().fold(0.0, f64::max);
    let devices = store.model_untracked(|m| m.device_count()).unwrap_or(0);
    let rows = host.query_selector_all(".device-row").unwrap().length();
    let mb = |bytes: f64| bytes / 1_048_576.0;
    console_log!(
        "bench scan: {elapsed_s:.1} s, {sent_run} advertisements ({:.0}/s) from {DEVICES} devices",
        f64::from(sent_run) / elapsed_s
    );
    console_log!("bench scan: devices in the table {devices}, rows in the DOM {rows}");
    console_log!(
        "bench scan: long tasks (>50 ms): {} (longest {longest:.0} ms; observer {})",
        long_tasks.len(),
        if parsed["observed"].as_bool() == Some(true) {
            "on"
        } else {
            "unavailable"
        }
    );
    console_log!("bench scan: frames per second: {:.1}", frames / elapsed_s);
    console_log!(
        "bench scan: slowest feed callback (10 advertisements) {:.1} ms; slowest store tick {:.1} ms",
        feed_max.get(),
        tick_max.get()
    );
    console_log!(
        "bench scan: JS heap {:.1} → {:.1} MB (growth {:.2} MB); wasm memory {:.1} → {:.1} MB (growth {:.2} MB)",
        mb(heap_start),
        mb(heap_end),
        mb(heap_end - heap_start),
        mb(wasm_start),
        mb(wasm_end),
        mb(wasm_end - wasm_start)
    );
    drop(feed);
    drop(ticker);
    host.remove();
}

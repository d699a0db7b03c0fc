//! Native: the app's own store — its subscription to the backend, its scan and watches, its ticker
//! step, its model and the core manager under it — on a simulated clock, driven by the demo
//! backend (core simulator) and by a bare mock backend where a test needs every packet to be its
//! own. What the store saves to `localStorage` is tested in the browser (`tests/scan_page.rs`).
#![cfg(not(target_arch = "wasm32"))]

use std::cell::Cell;
use std::rc::Rc;

use bluehome::ble::demo::demo_backend;
use bluehome::ble::mock::{ChooserAnswer, MockBackend, ScanPrompt, block_on, bthome_sensor};
use bluehome::ble::{Backend, BleBackend, DeviceId, GrantedDevice, LeScanOptions, ScanEnd};
use bluehome::state::AppStore;
use bluehome::state::model::KeyEntry;
use bluehome::state::persist::{KEYS_KEY, SCAN_KEY, Unreadable};
use bluehome::state::settings::SortKey;
use bluehome::state::storage::{KeyValue, MemoryStore};
use bluehome::state::store::{Clock, FRAME_MS, SAVE_EVERY_MS};
use bluehome_core::filter::FilterSet;
use bluehome_core::sim::sensors::SIM_KEY;
use bluehome_core::{BindKey, DeviceKey, DeviceKind, bthome};
use leptos::prelude::{GetUntracked, Set};

/// The store over the demo backend, scanning, with the clock at 0.
struct Demo {
    store: AppStore,
    clock: Rc<Cell<u64>>,
}

impl Demo {
    fn start() -> Self {
        let backend = Rc::new(Backend::Mock(demo_backend()));
        let clock = Rc::new(Cell::new(0));
        let time = Rc::clone(&clock);
        let store = AppStore::with_clock(backend, None, Rc::new(move || time.get()));
        block_on(store.start_scan());
        assert!(store.status.get_untracked().scanning, "the demo scan runs");
        Self { store, clock }
    }

    /// Runs the store's ticker for `ms` of simulated time, one frame at a time.
    fn run(&self, ms: u64) {
        let end = self.clock.get() + ms;
        while self.clock.get() < end {
            self.clock.set(self.clock.get() + FRAME_MS);
            self.store.tick(self.clock.get());
        }
    }
}

#[test]
fn the_demo_fleet_appears_with_kinds_and_readings() {
    let demo = Demo::start();
    demo.run(20_000);
    demo.store
        .model_untracked(|model| {
            // The gateway, its eight sensors, and the BLU Motion and Improv device of "Set up a
            // device".
            assert_eq!(model.device_count(), 11);
            let blu = model
                .devices()
                .filter(|d| matches!(d.kind, DeviceKind::ShellyBlu(_)))
                .count();
            assert!(blu >= 5, "{blu} Shelly BLU devices");
            let thermometers: Vec<_> = model
                .devices()
                .filter(|d| d.kind == DeviceKind::BthomeV2)
                .collect();
            assert_eq!(
                thermometers.len(),
                2,
                "the plain and the encrypted generic thermometer"
            );
            let plain = thermometers.iter().find(|d| !d.encrypted).unwrap();
            assert!(plain.readings.values().any(|r| r.name == "temperature"));
            assert!(!model.timeline.is_empty(), "buttons pressed during the run");
        })
        .unwrap();
    // The ticker refreshed the views on the simulated clock (the page's clock moves on at least
    // once a second).
    assert!(demo.store.revision.get_untracked() > 0);
    let now = demo.store.now.get_untracked();
    assert!((19_000..=20_000).contains(&now), "{now}");
}

#[test]
fn encrypted_demo_sensors_decode_once_the_sim_key_is_entered() {
    let demo = Demo::start();
    demo.run(20_000);
    let encrypted: Vec<DeviceKey> = demo
        .store
        .model_untracked(|m| {
            m.devices()
                .filter(|d| d.encrypted)
                .map(|d| d.key.clone())
                .collect()
        })
        .unwrap();
    assert_eq!(encrypted.len(), 2, "{encrypted:?}");
    demo.store.model_untracked(|model| {
        for key in &encrypted {
            let device = model.device(key).unwrap();
            assert_eq!(
                device.problem.map(|p| p.error().clone()),
                Some(bthome::Error::MissingKey)
            );
            assert!(device.readings.is_empty());
        }
    });
    for key in &encrypted {
        demo.store.set_key(
            key,
            Some(KeyEntry {
                bindkey: SIM_KEY,
                mac: None,
            }),
        );
    }
    demo.run(20_000);
    demo.store.model_untracked(|model| {
        for key in &encrypted {
            let device = model.device(key).unwrap();
            assert_eq!(device.problem, None, "{key}");
            assert!(!device.readings.is_empty(), "{key}");
        }
    });
}

/// The store over a mock backend with no devices around, scanning, on a clock a test sets.
struct Bare {
    store: AppStore,
    clock: Rc<Cell<u64>>,
}

/// A BTHome v2 temperature 25.06 °C + humidity 50.55 % payload (bthome.io/format example).
const TEMP_HUMIDITY: [u8; 7] = [0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13];

/// A capture line of that payload from one MAC at `time` seconds.
fn capture_line(time: u64) -> String {
    format!(
        r#"{{"time":{time},"address":"A4:C1:38:00:00:01","rssi":-60,"local_name":"ATC","service_data":{{"fcd2":"4002ca0903bf13"}}}}"#
    )
}

impl Bare {
    fn start(now_ms: u64) -> Self {
        Self::saving_to(now_ms, None)
    }

    /// [`Bare::start`] with a store that saves to `storage`.
    fn saving_to(now_ms: u64, storage: Option<MemoryStore>) -> Self {
        let clock = Rc::new(Cell::new(now_ms));
        let time = Rc::clone(&clock);
        let backend = Rc::new(Backend::Mock(MockBackend::new()));
        let storage = storage.map(|s| Rc::new(s) as Rc<dyn KeyValue>);
        let store = AppStore::with_clock(backend, storage, Rc::new(move || time.get()));
        store.backend().as_mock().unwrap().user_gesture();
        block_on(store.start_scan());
        assert!(store.status.get_untracked().scanning, "the mock scan runs");
        Self { store, clock }
    }

    /// The sensor `id` sends the temperature and humidity packet now.
    fn hear(&self, id: &str) {
        let backend = self.store.backend();
        let packet = bthome_sensor("ATC", &TEMP_HUMIDITY, -60);
        backend
            .as_mock()
            .unwrap()
            .advertise(&DeviceId::from(id), packet);
    }

    /// The clock moves to `now_ms` and the ticker runs once.
    fn tick_at(&self, now_ms: u64) {
        self.clock.set(now_ms);
        self.store.tick(now_ms);
    }

    fn device_count(&self) -> usize {
        self.store.model_untracked(|m| m.device_count()).unwrap()
    }

    fn notices(&self) -> Vec<String> {
        self.store.notices.get_untracked()
    }
}

/// What arrives is stamped with the store's clock, not the page's, and a view reading the model
/// gets it.
#[test]
fn an_advertisement_is_stamped_with_the_stores_clock() {
    let bare = Bare::start(7_000);
    bare.clock.set(9_500);
    bare.hear("sensor-1");
    let key: DeviceKey = "sensor-1".parse().unwrap();
    let seen = bare
        .store
        .model(|m| m.device(&key).map(|d| (d.first_seen_ms, d.last_seen_ms)))
        .flatten();
    assert_eq!(seen, Some((9_500, 9_500)));
}

/// Chrome can end a scan without an event (`BluetoothLEScan.active` turns false): the next tick
/// says so; a tick while the scan runs leaves it running.
#[test]
fn a_scan_the_browser_ends_silently_is_ended_at_the_next_tick() {
    let bare = Bare::start(0);
    bare.tick_at(FRAME_MS);
    let status = bare.store.status.get_untracked();
    assert!(status.scanning);
    assert_eq!(status.scan_ended, None);
    bare.store.backend().as_mock().unwrap().end_scan_silently();
    bare.tick_at(2 * FRAME_MS);
    let status = bare.store.status.get_untracked();
    assert!(!status.scanning);
    assert_eq!(status.scan_ended, Some(ScanEnd::Browser));
}

/// With nothing new the page's clock still moves on once a second (ages like "3 s ago"), and
/// not more often.
#[test]
fn the_page_clock_moves_on_each_second_without_news() {
    let bare = Bare::start(0);
    bare.store.flush(0);
    let revision = bare.store.revision.get_untracked();
    bare.store.flush(999);
    assert_eq!(bare.store.now.get_untracked(), 0);
    bare.store.flush(1_000);
    assert_eq!(bare.store.now.get_untracked(), 1_000);
    assert_eq!(
        bare.store.revision.get_untracked(),
        revision,
        "no re-render"
    );
    bare.hear("sensor-1");
    bare.store.flush(1_100);
    assert_eq!(
        bare.store.now.get_untracked(),
        1_100,
        "news moves it at once"
    );
    assert_eq!(bare.store.revision.get_untracked(), revision + 1);
}

/// A notice shows once while it is on screen, and at most five are kept (the oldest goes).
#[test]
fn notices_are_shown_once_and_five_at_most() {
    let bare = Bare::start(0);
    for n in 1..=5 {
        bare.store.notice(format!("notice {n}"));
    }
    bare.store.notice("notice 3");
    assert_eq!(bare.notices().len(), 5);
    bare.store.notice("notice 6");
    let expected: Vec<String> = (2..=6).map(|n| format!("notice {n}")).collect();
    assert_eq!(bare.notices(), expected);
}

/// A capture replays over the ticker: the count it returns, its progress while it plays, and
/// no progress once it is done.
#[test]
fn an_imported_capture_replays_with_its_progress() {
    let bare = Bare::start(10_000);
    let text = [capture_line(100), capture_line(101), capture_line(102)].join("\n");
    assert_eq!(bare.store.import_capture(&text), 3);
    assert_eq!(bare.store.status.get_untracked().replay, Some((1, 3)));
    assert_eq!(bare.device_count(), 1);
    bare.tick_at(11_000);
    assert_eq!(bare.store.status.get_untracked().replay, Some((2, 3)));
    bare.tick_at(12_000);
    assert_eq!(bare.store.status.get_untracked().replay, None);
    let packets = bare
        .store
        .model_untracked(|m| m.devices().map(|d| d.packets).sum::<u64>())
        .unwrap();
    assert_eq!(packets, 3);
    assert!(bare.notices().is_empty(), "{:?}", bare.notices());
}

/// What import could not use is said: the lines it skipped, and the long pauses it shortened.
#[test]
fn import_says_what_it_skipped_and_shortened() {
    let bare = Bare::start(0);
    let text = [capture_line(100), "not json".to_owned(), capture_line(200)].join("\n");
    assert_eq!(bare.store.import_capture(&text), 2);
    let notices = bare.notices();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices[0].starts_with("Import: 1 line(s) skipped; line 2: "),
        "{notices:?}"
    );
    assert_eq!(
        notices[1],
        "Import: 1 pause(s) longer than 60 s replay as 60 s."
    );
}

/// A capture carrying a bind key decodes its replay with it, unless the user saved another key
/// for the device: that one is kept, and said once.
#[test]
fn a_captures_bind_key_never_replaces_the_users_own() {
    let carried = "00112233445566778899aabbccddeeff";
    let line = |time: u64| {
        let line = capture_line(time);
        let fields = line.strip_suffix('}').unwrap();
        format!(r#"{fields},"bindkey":"{carried}"}}"#)
    };
    let mac: DeviceKey = "A4:C1:38:00:00:01".parse().unwrap();
    let text = [line(100), line(101)].join("\n");

    let bare = Bare::start(0);
    assert_eq!(bare.store.import_capture(&text), 2);
    assert!(bare.notices().is_empty(), "no key of the user's");

    let own: BindKey = "ffeeddccbbaa99887766554433221100".parse().unwrap();
    let bare = Bare::start(0);
    bare.store.set_key(
        &mac,
        Some(KeyEntry {
            bindkey: own,
            mac: None,
        }),
    );
    bare.store.import_capture(&text);
    bare.tick_at(1_000);
    assert_eq!(
        bare.notices(),
        [format!(
            "Import: the capture carries a different bind key for {mac}; your saved key is kept \
             (its packets in the capture may not decrypt)."
        )]
    );
}

/// Stopping a replay keeps what played and plays nothing more.
#[test]
fn a_stopped_replay_plays_no_more() {
    let bare = Bare::start(0);
    let text = [capture_line(100), capture_line(110)].join("\n");
    bare.store.import_capture(&text);
    bare.store.stop_replay();
    assert_eq!(bare.store.status.get_untracked().replay, None);
    bare.tick_at(20_000);
    let packets = bare
        .store
        .model_untracked(|m| m.devices().map(|d| d.packets).sum::<u64>())
        .unwrap();
    assert_eq!(packets, 1);
}

/// Recording starts empty, takes what arrives, and stopping hands over the capture's lines.
#[test]
fn recording_returns_the_capture_when_stopped() {
    let bare = Bare::start(0);
    assert_eq!(bare.store.toggle_recording(), None);
    assert!(bare.store.status.get_untracked().recording);
    bare.hear("sensor-1");
    let text = bare.store.toggle_recording().expect("a capture");
    assert!(!bare.store.status.get_untracked().recording);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains(r#""fcd2":"4002ca0903bf13""#), "{text}");
}

/// Paused, the live view takes nothing in; a label shows at once; clearing forgets the devices.
#[test]
fn pause_label_and_clear_change_the_view() {
    let bare = Bare::start(0);
    let key: DeviceKey = "sensor-1".parse().unwrap();
    bare.store.set_paused(true);
    bare.hear("sensor-1");
    assert_eq!(bare.device_count(), 0);
    bare.store.set_paused(false);
    bare.hear("sensor-1");
    assert_eq!(bare.device_count(), 1);

    let revision = bare.store.revision.get_untracked();
    bare.store.set_label(&key, "Kitchen");
    assert_eq!(bare.store.revision.get_untracked(), revision + 1);
    let label = bare
        .store
        .model_untracked(|m| m.labels.get(&key).cloned())
        .flatten();
    assert_eq!(label.as_deref(), Some("Kitchen"));

    bare.store.clear();
    assert_eq!(bare.device_count(), 0);
    assert_eq!(bare.store.revision.get_untracked(), revision + 2);
}

/// A change of settings re-renders the views that read the model.
#[test]
fn changed_settings_re_render() {
    let bare = Bare::start(0);
    bare.store.flush(0);
    let revision = bare.store.revision.get_untracked();
    bare.store.update_settings(|s| s.sort = SortKey::Rssi);
    assert_eq!(bare.store.settings.get_untracked().sort, SortKey::Rssi);
    assert_eq!(bare.store.revision.get_untracked(), revision + 1);
}

/// Values a Shelly gateway decoded itself become the device's readings.
#[test]
fn a_gateways_values_become_readings() {
    let bare = Bare::start(3_000);
    let mac: DeviceKey = "66:55:44:33:22:11".parse().unwrap();
    let objects = bthome::decode_v2(&TEMP_HUMIDITY, None, None).objects;
    bare.store.ingest_objects("shelly:gw", &mac, objects);
    let readings = bare
        .store
        .model_untracked(|m| m.device(&mac).map(|d| (d.readings.len(), d.last_seen_ms)))
        .flatten();
    assert_eq!(readings, Some((2, 3_000)));
}

/// Unreadable saved data is forgotten by its place in the list; a place past the end changes
/// nothing.
#[test]
fn unreadable_data_is_discarded_by_its_place() {
    let bare = Bare::start(0);
    let entry = |name: &str| Unreadable {
        message: format!("{name} could not be read"),
        file_name: format!("{name}.json"),
        text: "{".to_owned(),
        holds: None,
    };
    bare.store
        .unreadable
        .set(vec![entry("settings"), entry("labels")]);
    let names = || -> Vec<String> {
        bare.store
            .unreadable
            .get_untracked()
            .into_iter()
            .map(|u| u.file_name)
            .collect()
    };
    bare.store.discard_unreadable(2);
    assert_eq!(names(), ["settings.json", "labels.json"]);
    bare.store.discard_unreadable(1);
    assert_eq!(names(), ["settings.json"]);
    bare.store.discard_unreadable(0);
    assert!(names().is_empty());
}

/// A label, a bind key and the settings a store saved are there in the next store over the same
/// storage.
#[test]
fn what_a_store_saved_comes_back_in_the_next() {
    let memory = MemoryStore::default();
    let kitchen: DeviceKey = "sensor-1".parse().unwrap();
    let hall: DeviceKey = "A4:C1:38:00:00:02".parse().unwrap();
    let entry = Some(KeyEntry {
        bindkey: SIM_KEY,
        mac: None,
    });
    let first = Bare::saving_to(0, Some(memory.clone()));
    first.hear("sensor-1");
    first.store.set_label(&kitchen, "Kitchen");
    first.store.set_key(&hall, entry);
    first.store.update_settings(|s| s.fahrenheit = true);
    assert!(first.notices().is_empty(), "{:?}", first.notices());

    let next = Bare::saving_to(1_000, Some(memory));
    let saved = next
        .store
        .model_untracked(|m| (m.labels.get(&kitchen).cloned(), m.key_entry(&hall)))
        .unwrap();
    assert_eq!(saved, (Some("Kitchen".to_owned()), entry));
    assert!(next.store.settings.get_untracked().fahrenheit);
}

/// A clock that keeps the latest time the store told it was saved before.
#[derive(Default)]
struct ToldClock {
    now: Cell<u64>,
    saved_up_to: Cell<Option<u64>>,
}

impl Clock for ToldClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }

    fn not_before(&self, ms: u64) {
        self.saved_up_to.set(Some(ms));
    }
}

/// A page reloaded after the wall clock was set back: the store tells its clock when the newest
/// saved point was, so that new points come after it (the page's clock goes on from there) rather
/// than before it, where the history would refuse them. A point a day or more ahead is not
/// believed: left out, and said.
#[test]
fn the_newest_saved_point_is_told_to_the_next_stores_clock() {
    let memory = MemoryStore::default();
    let heard_at = 10_000_000_000;
    let first = Bare::saving_to(heard_at, Some(memory.clone()));
    first.hear("sensor-1");
    first.store.save(heard_at + 1_000);

    let open_at = |now: u64, memory: MemoryStore| {
        let clock = Rc::new(ToldClock::default());
        clock.now.set(now);
        let backend = Rc::new(Backend::Mock(MockBackend::new()));
        let store = AppStore::with_clock(backend, Some(Rc::new(memory)), Rc::clone(&clock) as _);
        let readings = store
            .model_untracked(|m| m.devices().map(|d| d.readings.len()).sum::<usize>())
            .unwrap();
        (
            clock.saved_up_to.get(),
            readings,
            store.notices.get_untracked(),
        )
    };
    let set_back = heard_at - 1_800_000;
    assert_eq!(
        open_at(set_back, memory.clone()),
        (Some(heard_at), 2, vec![]),
        "half an hour back: the temperature and humidity restored"
    );
    assert_eq!(open_at(set_back, MemoryStore::default()), (None, 0, vec![]));
    let (told, readings, notices) = open_at(heard_at - 86_460_000, memory);
    assert_eq!((told, readings), (None, 0), "a day and a minute back");
    assert_eq!(
        notices,
        [
            "Saved data bluehome.scan: 2 history point(s) dated more than a day after this browser's clock were left out."
        ]
    );
}

/// While it runs, the store saves its history every [`SAVE_EVERY_MS`], not at every tick.
#[test]
fn the_ticker_saves_every_half_minute() {
    let memory = MemoryStore::default();
    let bare = Bare::saving_to(0, Some(memory.clone()));
    bare.hear("sensor-1");
    bare.tick_at(SAVE_EVERY_MS - FRAME_MS);
    assert_eq!(memory.get(SCAN_KEY), None);
    bare.tick_at(SAVE_EVERY_MS);
    let saved = memory.get(SCAN_KEY).expect("saved");
    assert!(saved.contains("sensor-1"), "{saved}");
}

/// A store not yet open writes nothing (it has not read what is there); a key set meanwhile is
/// saved when it opens.
#[test]
fn a_store_saves_only_once_open() {
    let memory = MemoryStore::default();
    let hall: DeviceKey = "A4:C1:38:00:00:02".parse().unwrap();
    let entry = Some(KeyEntry {
        bindkey: SIM_KEY,
        mac: None,
    });
    let backend = Rc::new(Backend::Mock(MockBackend::new()));
    let storage: Rc<dyn KeyValue> = Rc::new(memory.clone());
    let store = AppStore::unopened(backend, false, Rc::new(|| 0)).saving_to(storage);
    store.set_key(&hall, entry);
    store.set_label(&hall, "Hall");
    store.save(0);
    assert_eq!(memory.names(), Vec::<String>::new());
    assert!(store.open());
    let keys = memory.get(KEYS_KEY).expect("the key saved on opening");
    assert!(keys.contains(&SIM_KEY.to_hex()), "{keys}");
}

/// Where the page may not keep data, the store says so once and saves nothing.
#[test]
fn blocked_storage_is_said_and_left_alone() {
    let bare = Bare::saving_to(0, Some(MemoryStore::blocked()));
    let kitchen: DeviceKey = "sensor-1".parse().unwrap();
    bare.store.set_label(&kitchen, "Kitchen");
    bare.tick_at(SAVE_EVERY_MS);
    assert_eq!(
        bare.notices(),
        [
            "This browser does not let the page keep data (site data is blocked for it): bind keys, \
          labels and settings last until the page closes."
        ]
    );
}

/// Unreadable saved keys that could not be copied aside stay in place, and nothing is saved over
/// them until the user discards them; then the keys are saved there at once.
#[test]
fn held_keys_are_saved_over_only_once_discarded() {
    // Room for the unreadable document and a small valid one, not for a copy of it beside it.
    let memory = MemoryStore::with_quota(1_000);
    let unreadable = format!("{{{}", " ".repeat(600));
    memory.set(KEYS_KEY, &unreadable).unwrap();
    let bare = Bare::saving_to(0, Some(memory.clone()));
    let held = bare.store.unreadable.get_untracked();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].holds, Some(KEYS_KEY));

    let hall: DeviceKey = "A4:C1:38:00:00:02".parse().unwrap();
    let entry = Some(KeyEntry {
        bindkey: SIM_KEY,
        mac: None,
    });
    bare.store.set_key(&hall, entry);
    assert_eq!(memory.get(KEYS_KEY), Some(unreadable));
    bare.store.discard_unreadable(0);
    assert!(bare.store.unreadable.get_untracked().is_empty());
    let keys = memory.get(KEYS_KEY).unwrap();
    assert!(keys.contains(&SIM_KEY.to_hex()), "{keys}");
}

/// A scan the person or the browser refuses is said, and the scan does not run.
#[test]
fn a_refused_scan_is_said() {
    let bare = Bare::start(0);
    let backend = bare.store.backend();
    let mock = backend.as_mock().unwrap();
    bare.store.stop_scan();
    assert!(!backend.is_scanning(), "stopped in the browser too");
    mock.set_scan_prompt(ScanPrompt::Cancel);
    block_on(bare.store.start_scan());
    let status = bare.store.status.get_untracked();
    assert!(!status.scanning);
    let error = status.error.unwrap_or_default();
    assert!(error.contains("permission prompt"), "{error}");
    // The next scan that starts clears it.
    mock.set_scan_prompt(ScanPrompt::Allow);
    block_on(bare.store.start_scan());
    let status = bare.store.status.get_untracked();
    assert!(status.scanning);
    assert_eq!(status.error, None);
}

/// The ids of the devices the store lists as watched.
fn watched(store: &AppStore) -> Vec<DeviceId> {
    let status = store.status.get_untracked();
    status.watched.into_iter().map(|d| d.id).collect()
}

/// A sensor picked in the chooser is watched and listed until unwatched; one granted before is
/// watched again from `getDevices`.
#[test]
fn chosen_sensors_are_watched_listed_and_unwatched() {
    let bare = Bare::start(0);
    let backend = bare.store.backend();
    let mock = backend.as_mock().unwrap();
    let id = DeviceId::from("sensor-1");
    mock.add_device(&id, Some("ATC"));
    mock.set_chooser(ChooserAnswer::Device(id.clone()));
    block_on(bare.store.watch_new_device());
    assert_eq!(watched(&bare.store), std::slice::from_ref(&id));
    assert!(mock.watching_advertisements(&id));
    assert_eq!(bare.store.status.get_untracked().error, None);

    bare.store.unwatch(&id);
    assert!(watched(&bare.store).is_empty());
    assert!(!mock.watching_advertisements(&id));

    block_on(bare.store.watch_known_devices());
    assert_eq!(
        watched(&bare.store),
        std::slice::from_ref(&id),
        "granted before"
    );
    assert!(mock.watching_advertisements(&id));
    block_on(bare.store.watch_known_devices());
    assert_eq!(watched(&bare.store), [id], "listed once");
}

/// A closed chooser is said; a device that cannot be watched is said and leaves the list.
#[test]
fn a_closed_chooser_and_a_failed_watch_are_said() {
    let bare = Bare::start(0);
    let backend = bare.store.backend();
    let mock = backend.as_mock().unwrap();
    mock.set_chooser(ChooserAnswer::Cancel);
    block_on(bare.store.watch_new_device());
    let error = bare.store.status.get_untracked().error.unwrap_or_default();
    assert!(error.contains("cancelled"), "{error}");

    let (one, two) = (DeviceId::from("sensor-1"), DeviceId::from("sensor-2"));
    for id in [&one, &two] {
        mock.add_device(id, Some("ATC"));
        mock.set_chooser(ChooserAnswer::Device(id.clone()));
        block_on(bare.store.watch_new_device());
    }
    let status = bare.store.status.get_untracked();
    assert_eq!(status.error, None, "a new pick clears it");
    assert_eq!(status.watched.len(), 2);
    // One's permission is revoked: watching it again fails and drops it from the list.
    block_on(backend.forget(&one)).unwrap();
    let granted = GrantedDevice {
        id: one.clone(),
        name: None,
    };
    assert!(block_on(bare.store.watch_listed(granted)).is_err());
    assert_eq!(watched(&bare.store), std::slice::from_ref(&two));
    block_on(bare.store.watch_known_devices());
    assert_eq!(
        watched(&bare.store),
        [two],
        "the forgotten one is not known"
    );
}

/// New filters restart a running scan narrowed the new way; filters that ask the browser for the
/// same scan restart nothing (and so need no click).
#[test]
fn new_filters_restart_a_running_scan_narrowed() {
    let bare = Bare::start(0);
    let backend = bare.store.backend();
    let mock = backend.as_mock().unwrap();
    assert_eq!(mock.scan_options(), Some(LeScanOptions::default()));
    let by_service = r#"[{"services":["180f"]}]"#;
    block_on(bare.store.apply_filters(by_service.to_owned()));
    let narrowed = LeScanOptions::for_filters(&FilterSet::from_json(by_service).unwrap());
    assert_ne!(narrowed, LeScanOptions::default());
    assert_eq!(mock.scan_options(), Some(narrowed));
    // Filters that do not parse: the list says why, and the scan asks for everything.
    block_on(bare.store.apply_filters(r#"[{"name":"#.to_owned()));
    assert!(bare.store.filters().is_err());
    assert_eq!(mock.scan_options(), Some(LeScanOptions::default()));
    // Long after the click, a name filter (checked on each packet, not by the browser's scan).
    mock.tick(60_000);
    block_on(bare.store.apply_filters(r#"[{"name":"SB*"}]"#.to_owned()));
    assert!(bare.store.filters().is_ok());
    let status = bare.store.status.get_untracked();
    assert!(status.scanning);
    assert_eq!(status.error, None);
    assert_eq!(mock.scan_options(), Some(LeScanOptions::default()));
    block_on(bare.store.apply_filters(String::new()));
    assert_eq!(bare.store.filters(), Ok(FilterSet::default()));
    // No scan runs: new filters start none.
    bare.store.stop_scan();
    mock.user_gesture();
    block_on(bare.store.apply_filters(by_service.to_owned()));
    assert!(!bare.store.status.get_untracked().scanning);
    assert_eq!(mock.scan_options(), None);
}

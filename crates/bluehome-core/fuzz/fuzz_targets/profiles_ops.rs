//! The device-profile slots as a state machine, in two windows of the page sharing one storage
//! document: arbitrary commands, links coming and going, clock jumps, debounced saves, the other
//! window's saves taken in, exports imported and reloads. Never a panic. After every step, in both
//! windows: the active slot exists and no device sits in two slots. Switching slots never drops a
//! link; a binding lands in the active slot; clearing all leaves every slot open and slot 0
//! active. What a window writes loads back with no issue and the same slots; its export, imported
//! again, changes no slot.
//!
//! Input: the first byte sets the slot count (1 to 8); then one command per byte pair, the first
//! byte naming the command and its window, the second its argument.
#![no_main]

use bluehome_core::MacAddress;
use bluehome_core::profiles::{Binding, Config, Effect, Profiles};
use libfuzzer_sys::fuzz_target;

/// Six devices, the last two with a browser id.
fn binding(arg: u8) -> Binding {
    let n = arg % 6;
    let mut b = Binding::new(MacAddress([0xAA, 0, 0, 0, 0, n]), format!("device {n}"));
    if n >= 4 {
        b.device_id = Some(format!("id-{n}"));
    }
    if arg & 0x40 != 0 {
        b.name.push_str(" renamed");
    }
    if arg & 0x80 != 0 {
        b.ha1 = Some("ab".repeat(32));
    }
    b
}

/// The page's storage: one document both windows write and read.
struct Page {
    windows: [Profiles; 2],
    storage: Option<String>,
    config: Config,
    now: u64,
}

impl Page {
    /// Writes window `w`'s document, as the app does on `SaveNow` and a due debounced save:
    /// reading what the other window saved first.
    fn write(&mut self, w: usize) {
        if let Some(text) = self.storage.clone() {
            self.windows[w].take_in(&text);
        }
        let text = self.windows[w].to_storage_json();
        self.windows[w].saved();
        let loaded = Profiles::load(Some(&text), self.config);
        assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
        assert!(loaded.kept_aside.is_none());
        assert!(
            loaded.profiles.slots().eq(self.windows[w].slots()),
            "{text}"
        );
        self.storage = Some(text);
    }

    fn apply(&mut self, w: usize, effects: &[Effect]) {
        if effects.contains(&Effect::SaveNow) {
            self.write(w);
        }
    }

    fn check(&self) {
        for profiles in &self.windows {
            assert!(profiles.active() < profiles.len());
            let macs: Vec<MacAddress> = profiles.slots().flatten().map(|b| b.mac).collect();
            for (i, mac) in macs.iter().enumerate() {
                assert!(!macs[i + 1..].contains(mac), "{mac} in two slots");
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, commands)) = data.split_first() else {
        return;
    };
    let config = Config {
        slot_count: usize::from(count % 8) + 1,
        save_debounce_ms: 2_000,
    };
    let empty = Profiles::load(None, config).profiles;
    let mut page = Page {
        windows: [empty.clone(), empty],
        storage: None,
        config,
        now: 0,
    };
    for pair in commands.chunks_exact(2).take(512) {
        let (op, arg) = (pair[0], pair[1]);
        let w = usize::from(op & 1);
        let index = usize::from(arg) % (page.config.slot_count + 1);
        let now = page.now;
        let profiles = &mut page.windows[w];
        let effects = match (op >> 1) % 16 {
            0 => profiles.select(index, now).unwrap_or_default(),
            1 => profiles.next(now),
            2 => profiles.prev(now),
            3 => profiles.clear(),
            4 => {
                let effects = profiles.clear_all(now);
                assert!(profiles.slots().all(|s| s.is_none()));
                assert_eq!(profiles.active(), 0);
                effects
            }
            5 => profiles.disconnect(index).unwrap_or_default(),
            6 => {
                let b = binding(arg);
                let mac = b.mac;
                match profiles.bind(b) {
                    Ok(effects) => {
                        assert_eq!(profiles.active_binding().map(|b| b.mac), Some(mac));
                        effects
                    }
                    Err(_) => Vec::new(),
                }
            }
            7 => profiles.update(binding(arg)).unwrap_or_default(),
            8 => {
                let ha1 = match arg % 3 {
                    0 => None,
                    1 => Some("cd".repeat(32)),
                    _ => Some("not an HA1".to_owned()),
                };
                profiles.set_ha1(index, ha1).unwrap_or_default()
            }
            9 => profiles.connected(binding(arg).mac),
            10 => profiles.disconnected(binding(arg).mac),
            11 => {
                // Time passes, up to a minute; a due debounced save is written.
                page.now = now.saturating_add(u64::from(arg) * 250);
                if page.windows[w].poll(page.now) {
                    page.write(w);
                }
                Vec::new()
            }
            12 => {
                if profiles.flush() {
                    page.write(w);
                }
                Vec::new()
            }
            13 => match page.storage.clone() {
                // The browser's `storage` event: the other window's save arrives.
                Some(text) => profiles.take_in(&text),
                None => Vec::new(),
            },
            14 => {
                let before: Vec<Option<Binding>> = profiles.slots().map(|s| s.cloned()).collect();
                let export = profiles.export();
                profiles
                    .import(&export, now)
                    .expect("its own export imports");
                let after: Vec<Option<Binding>> = profiles.slots().map(|s| s.cloned()).collect();
                assert_eq!(after, before, "an export imported again changes no slot");
                Vec::new()
            }
            _ => {
                // A reload: the window starts again from what storage holds (checked when written).
                *profiles = Profiles::load(page.storage.as_deref(), page.config).profiles;
                Vec::new()
            }
        };
        if matches!((op >> 1) % 16, 0..=2) {
            assert!(
                !effects.iter().any(|e| matches!(e, Effect::Disconnect(_))),
                "switching slots drops no link"
            );
        }
        page.apply(w, &effects);
        page.check();
    }
});

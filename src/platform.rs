//! The browser services the app uses outside Bluetooth, each in one place: the clocks (the wall
//! clock, one that only goes forward for waits, and the wall clock never going back that the Scan
//! page dates by) and the time zone, sleeping, randomness, offering a file for download, reading
//! a file the user chose, the confirmation dialog, and the page's URL (query string and
//! fragment).
//!
//! Outside a browser (native unit tests) the clock is the system's, randomness the operating
//! system's, and what needs a page (dialogs, downloads, the URL) does nothing or answers "no".

use std::borrow::Cow;
use std::fmt;

use bluehome_core::MacAddress;

/// The current time, in milliseconds since 1970 (the browser's `Date.now()`). A clock that reads
/// before 1970 or is not a number reads 0.
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        let now = js_sys::Date::now();
        if now.is_finite() && now > 0.0 {
            now as u64
        } else {
            0
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Milliseconds on a clock that only goes forward (the page's `performance.now()`, counted from
/// the page's start), for deadlines and elapsed times: [`now_ms`] follows the wall clock, which
/// can be set back (by hand or by a time sync) and would stretch a wait by as much. Not a time of
/// day.
pub fn monotonic_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        let now = web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now());
        if now.is_finite() && now > 0.0 {
            now as u64
        } else {
            0
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let elapsed = START.get_or_init(std::time::Instant::now).elapsed();
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

/// The wall clock as the Scan page dates what it hears: [`now_ms`] while that goes forward; when
/// it is set back, time goes on from where it was at the pace of [`monotonic_ms`] until the wall
/// clock catches up. A reading heard after the clock was set back an hour is still newer than
/// the one before it, so the history keeps its order and keeps growing.
pub fn never_back_ms() -> u64 {
    NEVER_BACK.with(|last| {
        let (then, monotonic_then) = last.get();
        let monotonic = monotonic_ms();
        let wall = now_ms();
        let now = if wall >= then {
            wall
        } else {
            then.saturating_add(monotonic.saturating_sub(monotonic_then))
        };
        last.set((now, monotonic));
        now
    })
}

/// Makes [`never_back_ms`] go on from `ms` if that is later than what it last gave: the time of
/// the newest point a page saved before a reload, when the wall clock has since been set back
/// (the new page's clock starts afresh and would date what it hears before that point).
pub fn never_back_from(ms: u64) {
    NEVER_BACK.with(|last| {
        if ms > last.get().0 {
            last.set((ms, monotonic_ms()));
        }
    });
}

thread_local! {
    /// [`never_back_ms`]'s last time given, and the monotonic clock then.
    static NEVER_BACK: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// The browser's offset from UTC at time `ms`, in minutes east (0 outside a browser).
pub fn local_offset_minutes(ms: u64) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        -(date.get_timezone_offset() as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = ms;
        0
    }
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u64) {
    let ms = u32::try_from(ms).unwrap_or(u32::MAX);
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// A random 32-bit value from the platform's cryptographic generator (`crypto.getRandomValues`
/// in the browser), for request ids, digest-auth cnonces and the client name. Should the
/// generator fail, the clock's low bits stand in: none of these uses is a secret.
pub fn random_u32() -> u32 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => now_ms() as u32,
    }
}

/// Offers `text` as a file download named `filename`: a `Blob` behind an `<a download>` that is
/// clicked at once. The object URL is revoked a minute later, not at once, so the browser has it
/// for as long as it takes to start the download (any size; a `data:` URL would be capped).
pub fn download(filename: &str, mime: &str, text: &str) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let anchor: Option<web_sys::HtmlAnchorElement> = document
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into().ok());
    if let (Some(anchor), Some(body)) = (anchor, document.body()) {
        anchor.set_href(&url);
        anchor.set_download(filename);
        anchor.set_hidden(true);
        // In the document while clicked, so the click is seen like any other.
        if body.append_child(&anchor).is_ok() {
            anchor.click();
            anchor.remove();
        }
    }
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
}

/// Why a file the user chose was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileError {
    /// The browser could not read it (it was moved, deleted or is unreadable).
    Unreadable,
    /// It is larger than what is read of this kind of file.
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The most read.
        limit: u64,
    },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable => f.write_str("the file could not be read"),
            Self::TooLarge { bytes, limit } => write!(
                f,
                "the file has {} and is not read; at most {} is",
                size_text(*bytes),
                size_text(*limit)
            ),
        }
    }
}

impl std::error::Error for FileError {}

/// Bytes as people read them: `812 bytes`, `64.0 MB` (decimal units, as file managers show).
fn size_text(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// The file chosen in the `<input type="file">` whose `change` event this is. The input is
/// emptied, so choosing the same file again is a change again.
pub fn chosen_file(event: &web_sys::Event) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    let input: web_sys::HtmlInputElement = event.target()?.dyn_into().ok()?;
    let file = input.files().and_then(|files| files.get(0));
    input.set_value("");
    file
}

/// A chosen file's content as text (UTF-8; invalid sequences become U+FFFD, as `File.text()`
/// decodes), unless it has more than `limit` bytes: the whole file would enter the page's memory,
/// which never shrinks again (WebAssembly memory only grows).
pub async fn read_text(file: &web_sys::File, limit: u64) -> Result<String, FileError> {
    let bytes = file.size();
    if !(0.0..=limit as f64).contains(&bytes) {
        return Err(FileError::TooLarge {
            bytes: bytes as u64,
            limit,
        });
    }
    wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|text| text.as_string())
        .ok_or(FileError::Unreadable)
}

/// Asks the user to confirm `question` (the browser's `confirm` dialog); no without a page.
pub fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}

/// Whether the window is wider than a phone (48rem at the default 16 px, the stylesheet's
/// breakpoint): panels that a phone keeps collapsed open by themselves.
pub fn wide_window() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w >= 768.0)
}

/// Names the page in the window's title ("Devices – bluehome"), so that each page can be told
/// apart in tabs, history and by a screen reader (WCAG 2.4.2).
pub fn set_title(page: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{page} – bluehome"));
    }
}

/// Reloads the page.
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

/// Calls `changed(key, new_value)` whenever another window of the page changes local storage
/// (the `storage` event, which a window gets for the changes of the others, never its own: HTML
/// Standard, "The storage event"); `key` is `None` when storage was cleared. It listens for as
/// long as the page lives, so `changed` must cope with what it captured being gone. Outside a
/// browser there are no other windows.
pub fn on_storage_changed(changed: impl Fn(Option<String>, Option<String>) + 'static) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast as _;
        let Some(window) = web_sys::window() else {
            return;
        };
        let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::StorageEvent)>::new(
            move |event: web_sys::StorageEvent| changed(event.key(), event.new_value()),
        );
        let _ =
            window.add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
        listener.forget();
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = changed;
    }
}

/// Follows an element's height: [`HeightWatch::new`] calls `changed` with the height in pixels
/// (border box) at once and whenever it changes, until the watch is dropped. A `ResizeObserver`
/// sees every cause: fonts loading, zoom, and a reader's own style sheet (larger line or letter
/// spacing, WCAG 2.2 SC 1.4.12), which no `resize` event reports.
#[derive(Debug)]
pub struct HeightWatch {
    observer: web_sys::ResizeObserver,
    _changed: wasm_bindgen::closure::Closure<dyn Fn()>,
}

impl HeightWatch {
    /// Watches `element`; `None` where the browser has no `ResizeObserver`.
    pub fn new(element: &web_sys::HtmlElement, changed: impl Fn(f64) + 'static) -> Option<Self> {
        use wasm_bindgen::JsCast as _;
        let watched = element.clone();
        let changed = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || {
            changed(f64::from(watched.offset_height()));
        });
        let observer = web_sys::ResizeObserver::new(changed.as_ref().unchecked_ref()).ok()?;
        observer.observe(element);
        Some(Self {
            observer,
            _changed: changed,
        })
    }
}

impl Drop for HeightWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// Whether the page's query string has the parameter `name` (`?name` or `?name=…`, among
/// others joined by `&`).
pub fn query_has(name: &str) -> bool {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    has_parameter(&search, name)
}

fn has_parameter(search: &str, name: &str) -> bool {
    search
        .trim_start_matches('?')
        .split('&')
        .any(|p| p == name || p.strip_prefix(name).is_some_and(|v| v.starts_with('=')))
}

/// Loads the page again with the query string `search` (the path kept).
pub fn set_query(search: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_search(search);
    }
}

/// The fragment of the page's URL, without `#`.
pub fn fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| h.trim_start_matches('#').to_owned())
        .unwrap_or_default()
}

/// Replaces the fragment without a navigation or a history entry.
pub fn replace_fragment(fragment: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("#{fragment}")),
        );
    }
}

/// The operating system the browser runs on, as far as Bluetooth pairing differs between them.
///
/// When a protected characteristic answers "insufficient authentication", Chrome pairs on
/// demand itself on Windows and Linux (chromium `content/public/browser/bluetooth_delegate.h`,
/// `PAIR_BLUETOOTH_ON_DEMAND`; `content/browser/bluetooth/web_bluetooth_pairing_manager_impl.cc`),
/// and leaves it to the system on Android and macOS, which pair by themselves, as iOS does for
/// the browsers that offer Web Bluetooth there (Bluefy). What Chrome's own pairing can do differs:
/// see [`Os::pairing_advice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Android: the system pairs on demand.
    Android,
    /// macOS: the system pairs on demand.
    MacOs,
    /// iOS and iPadOS (Bluefy and other Web Bluetooth browsers): the system pairs on demand.
    Ios,
    /// Windows: Chrome pairs on demand, but by default only devices that ask for a PIN.
    Windows,
    /// Linux: Chrome pairs on demand, but cannot take a passkey.
    Linux,
    /// ChromeOS: Chrome does not pair on demand there (`PAIR_BLUETOOTH_ON_DEMAND` is Windows and
    /// Linux only; ChromeOS is not `IS_LINUX`), so the device is paired in its settings.
    ChromeOs,
    /// Anything else (unknown agents).
    Other,
}

impl Os {
    /// Reads a user-agent string. Android agents also say "Linux", and iPad agents may say
    /// "Macintosh", so those are tested first.
    pub fn from_user_agent(agent: &str) -> Self {
        if agent.contains("Android") {
            Self::Android
        } else if agent.contains("iPhone") || agent.contains("iPad") {
            Self::Ios
        } else if agent.contains("Macintosh") || agent.contains("Mac OS X") {
            Self::MacOs
        } else if agent.contains("Windows") {
            Self::Windows
        } else if agent.contains("CrOS") {
            Self::ChromeOs
        } else if agent.contains("Linux") {
            Self::Linux
        } else {
            Self::Other
        }
    }

    /// Whether the system pairs any device by itself when a protected characteristic is
    /// touched: Android, macOS and iOS. Chrome's own pairing on Windows and Linux works only for
    /// some devices ([`Os::pairing_advice`]).
    pub fn pairs_on_demand(self) -> bool {
        matches!(self, Self::Android | Self::MacOs | Self::Ios)
    }

    /// What the person sees, or must do, to pair before a protected operation.
    ///
    /// Windows: Chrome prompts for a PIN when the device asks for one, but refuses a pairing
    /// that needs no PIN ("Just Works", as Shelly devices pair) unless
    /// `#enable-web-bluetooth-confirm-pairing-support` is on (chromium
    /// `device/bluetooth/bluetooth_pairing_winrt.cc`, `OnPairingRequested`; the feature is off by
    /// default in `device/base/features.cc`): the page then gets "Authentication failed.".
    /// Linux: Chrome cancels a passkey request (`WebBluetoothPairingManagerImpl::RequestPasskey`),
    /// so a device that asks for one is paired with the system's tools first; `address`, the
    /// device's Bluetooth address where the page knows it, goes into the commands for that.
    pub fn pairing_advice(self, address: Option<MacAddress>) -> Cow<'static, str> {
        let advice = match self {
            Self::Android | Self::MacOs | Self::Ios => {
                "The system will ask to pair when the protected setting is touched: accept it (enter the passkey if asked)."
            }
            Self::Windows => {
                "Chrome pairs when the protected setting is touched and asks for the PIN if the device wants one. A device that pairs without a PIN (a Shelly, a BLU sensor on current firmware) Chrome on Windows pairs only with chrome://flags/#enable-web-bluetooth-confirm-pairing-support enabled; otherwise first open Settings › Bluetooth & devices › Add device › Bluetooth, pick the device while it is in pairing mode and finish the pairing; then come back and retry here."
            }
            Self::Linux => {
                let address = address.map_or_else(
                    || "<its address, which scan on lists>".to_owned(),
                    |a| a.to_string(),
                );
                return Cow::Owned(format!(
                    "Chrome pairs when the protected setting is touched, but it cannot take a passkey: if pairing fails, first pair the device in the system's Bluetooth settings (or run bluetoothctl, then: scan on, pair {address}, trust {address}) while it is in pairing mode; then come back and retry here."
                ));
            }
            Self::ChromeOs => {
                "Chrome on ChromeOS does not pair by itself: first pair the device in Settings › Bluetooth › Pair new device while it is in pairing mode; then come back and retry here."
            }
            Self::Other => {
                "Pair the device in the system's Bluetooth settings first if the browser does not ask."
            }
        };
        Cow::Borrowed(advice)
    }
}

/// The operating system, from the browser's user agent (read here only). Outside a browser: Linux.
pub fn os() -> Os {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.navigator().user_agent().ok())
            .map_or(Os::Other, |agent| Os::from_user_agent(&agent))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Os::Linux
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_parameter_is_found_with_or_without_a_value() {
        assert!(has_parameter("?demo", "demo"));
        assert!(has_parameter("?a=1&demo=2", "demo"));
        assert!(has_parameter("demo&x", "demo"));
        assert!(!has_parameter("?demonstration", "demo"));
        assert!(!has_parameter("?x=demo", "demo"));
        assert!(!has_parameter("", "demo"));
    }

    #[test]
    fn the_never_back_clock_goes_on_from_a_later_time_it_is_given() {
        let wall = now_ms();
        let saved = wall + 3_600_000;
        never_back_from(saved);
        let first = never_back_ms();
        assert!(
            (saved..saved + 1_000).contains(&first),
            "{first} after {saved}"
        );
        never_back_from(wall);
        let second = never_back_ms();
        assert!(
            second >= first,
            "an earlier time set it back: {second} < {first}"
        );
    }

    #[test]
    fn the_clock_reads_unix_time_and_randomness_varies() {
        // 2020-01-01 in ms: a clock stuck at 0 or counting from boot would fail.
        assert!(now_ms() > 1_577_836_800_000);
        let draws: std::collections::BTreeSet<u32> = (0..8).map(|_| random_u32()).collect();
        assert!(draws.len() > 1, "eight equal draws: {draws:?}");
    }

    /// Agents as Chrome sends them on each system (Android's also says "Linux").
    #[test]
    fn the_os_comes_from_the_user_agent() {
        let cases = [
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36",
                Os::Android,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                Os::MacOs,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                Os::Windows,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                Os::Linux,
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
                Os::ChromeOs,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15",
                Os::Ios,
            ),
            ("Mozilla/5.0 (PlayStation 5)", Os::Other),
        ];
        for (agent, os) in cases {
            assert_eq!(Os::from_user_agent(agent), os, "{agent}");
        }
        assert!(Os::MacOs.pairs_on_demand() && Os::Android.pairs_on_demand());
        assert!(Os::Ios.pairs_on_demand());
        assert!(!Os::Windows.pairs_on_demand() && !Os::Linux.pairs_on_demand());
        assert!(!Os::ChromeOs.pairs_on_demand());
        let windows = Os::Windows.pairing_advice(None);
        assert!(windows.contains("Settings › Bluetooth"), "{windows}");
        assert!(
            windows.contains("#enable-web-bluetooth-confirm-pairing-support"),
            "{windows}"
        );
        assert!(
            Os::Linux
                .pairing_advice(None)
                .contains("cannot take a passkey")
        );
        assert!(
            Os::ChromeOs
                .pairing_advice(None)
                .contains("Pair new device")
        );
    }
}

//! Bluetooth as the app sees it: what this browser can do, the [`BleBackend`] trait with its
//! platform-neutral types, and the two backends (`web` on Web Bluetooth, `mock` on the core
//! simulator). Nothing outside this module names a concrete backend except `app.rs`, which picks one.

mod any;
pub mod demo;
pub mod mock;
#[cfg(target_arch = "wasm32")]
pub mod web;

mod error;
mod types;

pub use any::{
    Backend, BackendContext, CONNECT_TIMEOUT_MS, ConnectFailure, GATT_TIMEOUT_MS, provide_backend,
    set_gatt_time_limit, use_backend,
};
pub use error::{BleError, ErrorKind};
pub use types::*;

/// The Web Bluetooth features this browser exposes to this page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The page runs in a secure context (HTTPS or localhost); Web Bluetooth needs one.
    pub secure_context: bool,
    /// `navigator.bluetooth` exists.
    pub bluetooth: bool,
    /// `navigator.bluetooth.requestDevice`: the device chooser and GATT (stable Chrome).
    pub request_device: bool,
    /// `navigator.bluetooth.requestLEScan`: passive scanning of every advertisement (flag).
    pub request_le_scan: bool,
    /// `BluetoothDevice.prototype.watchAdvertisements`: advertisements of chosen devices (flag).
    pub watch_advertisements: bool,
    /// `navigator.bluetooth.getDevices`: devices permitted before, without a chooser (flag).
    pub get_devices: bool,
    /// `BluetoothDevice.prototype.forget`: revoking the page's permission for a device (flag).
    /// Not listed in the header: without it a cleared profile says where to revoke by hand.
    pub forget: bool,
}

/// One capability, for listing with its advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// See [`Capabilities::secure_context`].
    SecureContext,
    /// See [`Capabilities::bluetooth`].
    Bluetooth,
    /// See [`Capabilities::request_device`].
    RequestDevice,
    /// See [`Capabilities::request_le_scan`].
    RequestLeScan,
    /// See [`Capabilities::watch_advertisements`].
    WatchAdvertisements,
    /// See [`Capabilities::get_devices`].
    GetDevices,
}

/// The flag that turns on every experimental Web Bluetooth feature (and all of Web Bluetooth on Linux).
pub const EXPERIMENTAL_FLAG: &str = "chrome://flags/#enable-experimental-web-platform-features";

impl Capability {
    /// Every capability, in the order the header lists them.
    pub const ALL: [Capability; 6] = [
        Self::SecureContext,
        Self::Bluetooth,
        Self::RequestDevice,
        Self::RequestLeScan,
        Self::WatchAdvertisements,
        Self::GetDevices,
    ];

    /// The name a developer knows it by.
    pub fn label(self) -> &'static str {
        match self {
            Self::SecureContext => "secure context",
            Self::Bluetooth => "navigator.bluetooth",
            Self::RequestDevice => "requestDevice",
            Self::RequestLeScan => "requestLEScan",
            Self::WatchAdvertisements => "watchAdvertisements",
            Self::GetDevices => "getDevices",
        }
    }

    /// What it gives the user.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::SecureContext => "required by Web Bluetooth",
            Self::Bluetooth => "Web Bluetooth itself",
            Self::RequestDevice => "connect to Shelly devices, pick sensors",
            Self::RequestLeScan => "scan every BTHome sensor nearby",
            Self::WatchAdvertisements => "live readings of chosen sensors",
            Self::GetDevices => "reconnect without the chooser",
        }
    }

    /// Exactly how to get it when it is missing.
    pub fn advice(self) -> &'static str {
        match self {
            Self::SecureContext => {
                "Open the page over https:// or from http://localhost (or 127.0.0.1); plain http elsewhere hides Web Bluetooth."
            }
            Self::Bluetooth | Self::RequestDevice => {
                "Use Chrome or Edge on Windows, macOS, ChromeOS or Android, or Samsung Internet or Opera on Android (Firefox and Safari have no Web Bluetooth; on iOS use the Bluefy or WebBLE browser). On Linux, enable chrome://flags/#enable-web-bluetooth (or #enable-experimental-web-platform-features, which also turns on scanning) and restart the browser."
            }
            Self::RequestLeScan => {
                "Enable chrome://flags/#enable-experimental-web-platform-features and restart Chrome (scanning works on Android and macOS; elsewhere it is partial). Without it, readings still come from a connected Shelly gateway, a capture file or the demo."
            }
            Self::WatchAdvertisements => {
                "Enable chrome://flags/#enable-experimental-web-platform-features (or chrome://flags/#enable-web-bluetooth-new-permissions-backend) and restart Chrome; watching works on Android, macOS and Windows."
            }
            Self::GetDevices => {
                "Enable chrome://flags/#enable-web-bluetooth-new-permissions-backend (or #enable-experimental-web-platform-features) and restart Chrome; only the first keeps a device's permission across restarts."
            }
        }
    }
}

impl Capabilities {
    /// Reads what this browser offers (everything is missing outside a browser).
    pub fn detect() -> Self {
        #[cfg(target_arch = "wasm32")]
        {
            web::convert::capabilities()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Self::default()
        }
    }

    /// Whether one capability is present.
    pub fn has(&self, capability: Capability) -> bool {
        match capability {
            Capability::SecureContext => self.secure_context,
            Capability::Bluetooth => self.bluetooth,
            Capability::RequestDevice => self.request_device,
            Capability::RequestLeScan => self.request_le_scan,
            Capability::WatchAdvertisements => self.watch_advertisements,
            Capability::GetDevices => self.get_devices,
        }
    }

    /// The capabilities this browser lacks.
    pub fn missing(&self) -> impl Iterator<Item = Capability> + '_ {
        Capability::ALL.into_iter().filter(|&c| !self.has(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_lists_exactly_the_absent_capabilities() {
        let caps = Capabilities {
            secure_context: true,
            bluetooth: true,
            request_device: true,
            ..Capabilities::default()
        };
        let missing: Vec<_> = caps.missing().collect();
        assert_eq!(
            missing,
            [
                Capability::RequestLeScan,
                Capability::WatchAdvertisements,
                Capability::GetDevices
            ]
        );
        assert!(
            Capability::RequestLeScan
                .advice()
                .contains(EXPERIMENTAL_FLAG)
        );
    }
}

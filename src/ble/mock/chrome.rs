//! What Chrome does that the mock copies: how it differs by platform, how its scan filters
//! match, how Shelly BLU's two packets arrive, and the words of its errors.

use bluehome_core::Advertisement;
use bluehome_core::shelly;
use bluehome_core::shelly::rpc::AttError;

use crate::ble::{BleError, ErrorKind, LeScanOptions};

/// Where Chrome's Web Bluetooth differs by operating system, as far as the mock models it. The
/// default is the strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Platform {
    /// Windows: an advertisement event carries the local name of its own packet only
    /// (`device/bluetooth/bluetooth_adapter_winrt.cc`, `OnAdvertisementReceived`), so a device
    /// that names itself in its scan response sends nameless data packets.
    #[default]
    Windows,
    /// macOS: every event carries the device's name once the system heard it.
    MacOs,
    /// Android: every event carries the device's name once heard (the scan record merges the
    /// scan response).
    Android,
    /// Linux (BlueZ): every event carries the device's name once heard (BlueZ keeps it).
    Linux,
}

impl Platform {
    /// Whether an event carries only its own packet's name.
    pub fn names_per_packet(self) -> bool {
        self == Self::Windows
    }

    /// Whether touching a protected characteristic makes the OS pair by itself (chromium
    /// `content/browser/bluetooth/README.md`, "Secure Characteristics": Android and macOS only).
    pub const fn pairs_on_demand(self) -> bool {
        matches!(self, Self::MacOs | Self::Android)
    }
}

/// What the simulated user answers to `requestLEScan`'s permission prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanPrompt {
    /// Allows the scan.
    #[default]
    Allow,
    /// Closes the prompt.
    Cancel,
}

/// Shelly BLU's two packets for one advertisement: the advertising data with the BTHome service
/// data, and the scan response with the local name and the Shelly manufacturer data (the name
/// needs an active scan: Shelly's BLU script examples; the MAC block rides along). `None` for
/// anything but a Shelly BLU advertisement (BTHome service data and Shelly manufacturer data).
pub fn shelly_blu_packets(advertisement: &Advertisement) -> Option<[Advertisement; 2]> {
    let manufacturer = advertisement.manufacturer_data.get(&shelly::COMPANY_ID)?;
    bluehome_core::bthome::service_data(advertisement)?;
    let data = Advertisement {
        name: None,
        manufacturer_data: Default::default(),
        ..advertisement.clone()
    };
    let mut response = Advertisement {
        name: advertisement.name.clone(),
        address: advertisement.address,
        rssi: advertisement.rssi,
        tx_power: advertisement.tx_power,
        ..Advertisement::default()
    };
    response
        .manufacturer_data
        .insert(shelly::COMPANY_ID, manufacturer.clone());
    Some([data, response])
}

/// Whether a running scan reports this event, as Chrome matches `requestLEScan` filters: `name`
/// and `namePrefix` against the event's own name, `services` against the UUIDs it advertises;
/// `manufacturerData` is ignored (crbug.com/41310835).
pub(super) fn scan_accepts(scan: &LeScanOptions, event: &Advertisement) -> bool {
    scan.accept_all_advertisements
        || scan
            .filters
            .iter()
            .any(|f| f.name_matches(event.name.as_deref()) && f.services_advertised(event))
}

/// Chrome's error for an operation on a link that must be paired first.
pub fn not_paired() -> BleError {
    BleError::new(
        ErrorKind::NotPaired,
        "NetworkError: GATT Error: Not paired.",
    )
}

/// What Chrome reports when a device answers a GATT operation with an ATT error: the page never
/// sees the code, only one of a few texts (chromium `bluetooth_error.cc`; the GATT error codes
/// are sorted in `device/bluetooth`). For peers built on the core simulator.
pub fn att_failure(error: AttError) -> BleError {
    match error {
        AttError::Disconnected => BleError::new(
            ErrorKind::Disconnected,
            "NetworkError: GATT Server is disconnected. Cannot perform GATT operations.",
        ),
        AttError::InsufficientAuthentication => not_paired(),
        // Chrome's platform layers sort read and write refusals into one "not permitted".
        AttError::ReadNotPermitted | AttError::WriteNotPermitted => BleError::new(
            ErrorKind::NotPermitted,
            "NotSupportedError: GATT operation not permitted.",
        ),
        AttError::RequestNotSupported => BleError::new(
            ErrorKind::Gatt,
            "NotSupportedError: GATT Error: Not supported.",
        ),
        AttError::AttributeNotFound => BleError::new(
            ErrorKind::NotFound,
            "NotFoundError: No Characteristics matching UUID found in Service.",
        ),
        // Every other ATT error reaches the page as this one text.
        AttError::InvalidOffset
        | AttError::InvalidAttributeValueLength
        | AttError::InsufficientResources
        | AttError::ValueNotAllowed
        | AttError::Other(_) => BleError::new(
            ErrorKind::Busy,
            "NotSupportedError: GATT operation failed for unknown reason.",
        ),
    }
}

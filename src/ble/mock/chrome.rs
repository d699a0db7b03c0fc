//! What Chrome does that the mock copies: how it differs by platform, how its scan filters
//! match, how Shelly BLU's two packets arrive, and the words of its errors.

use bluehome_core::Advertisement;
use bluehome_core::shelly;
use bluehome_core::shelly::rpc::AttError;

use bluehome_core::filter::web::WebFilter;

use crate::ble::{
    BleError, ErrorKind, LeScanOptions, MAX_NAME_BYTES, RequestDeviceOptions, WriteMode,
};

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

    /// Whether pairing on demand goes ahead when an operation needs a bond the device does not
    /// have yet (`Ok`: the system's dialog, or Chrome's PIN prompt, which the simulated person
    /// accepts), or the error Chrome gives instead. Android and macOS pair by themselves. On
    /// Windows and Linux Chrome pairs (chromium `content/public/browser/bluetooth_delegate.h`,
    /// `PAIR_BLUETOOTH_ON_DEMAND`), with what its pairing code can do: Windows prompts for a PIN
    /// but fails a pairing without one ("Just Works") unless a flag is on
    /// (`device/bluetooth/bluetooth_pairing_winrt.cc`, `OnPairingRequested`: `ERROR_AUTH_FAILED`);
    /// Linux pairs "Just Works" devices but cancels a passkey request
    /// (`content/browser/bluetooth/web_bluetooth_pairing_manager_impl.cc`, `RequestPasskey`:
    /// `ERROR_AUTH_CANCELED`). Blink's words for both: `bluetooth_error.cc`.
    pub fn pair_on_demand(self, asks_for_passkey: bool) -> Result<(), BleError> {
        let refused = |words: &str| Err(BleError::new(ErrorKind::NotPaired, words));
        match self {
            Self::MacOs | Self::Android => Ok(()),
            Self::Windows if !asks_for_passkey => refused("NetworkError: Authentication failed."),
            Self::Linux if asks_for_passkey => refused("NetworkError: Authentication canceled."),
            Self::Windows | Self::Linux => Ok(()),
        }
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
    /// Leaves the prompt open: `requestLEScan` waits until the next answer is set.
    Open,
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

/// How long a click or key press lets the page open a chooser or a scan prompt: Chrome's
/// transient activation lifespan (chromium `third_party/blink/common/frame/user_activation_state.cc`,
/// `kActivationLifespan`). `requestDevice` does not consume it (web-platform-tests
/// `bluetooth/requestDevice/`: "requestDevice calls do not consume user gestures").
pub const ACTIVATION_LIFESPAN_MS: u64 = 5_000;

/// Chrome's refusal of `method` (`requestDevice` or `requestLEScan`) without transient user
/// activation (Blink `bluetooth.cc`; web-platform-tests `bluetooth/requestDevice/`: "Requires a
/// user gesture.").
pub fn no_user_gesture(method: &str) -> BleError {
    BleError::new(
        ErrorKind::NoUserGesture,
        format!(
            "SecurityError: Failed to execute '{method}' on 'Bluetooth': Must be handling a user \
             gesture to show a permission request."
        ),
    )
}

/// Chrome's error for an operation on a link that must be paired first.
pub fn not_paired() -> BleError {
    BleError::new(
        ErrorKind::NotPaired,
        "NetworkError: GATT Error: Not paired.",
    )
}

/// Chrome's error for a GATT operation on a device that is not connected (chromium
/// `bluetooth_error.cc`; the web-platform-tests `bluetooth/` suite checks these words).
pub fn not_connected() -> BleError {
    BleError::new(
        ErrorKind::Disconnected,
        "NetworkError: GATT Server is disconnected. Cannot perform GATT operations. (Re)connect \
         first with `device.gatt.connect`.",
    )
}

/// What Chrome reports when a device answers a GATT operation with an ATT error: the page never
/// sees the code, only one of a few texts (chromium `bluetooth_error.cc`; the GATT error codes
/// are sorted in `device/bluetooth`). For peers built on the core simulator.
pub fn att_failure(error: AttError) -> BleError {
    match error {
        AttError::Disconnected => not_connected(),
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

/// Chrome's refusal of an operation the characteristic's properties do not allow, before the
/// device is asked (the Web Bluetooth specification's `NotSupportedError`). Reads and writes are
/// refused as the device's own refusal reads, "not permitted" (Chromium
/// `BluetoothRemoteGattCharacteristicWinrt::ReadRemoteCharacteristic`); notifications as "not
/// supported" (`BluetoothRemoteGattCharacteristic::StartNotifySession`: "Characteristic needs
/// NOTIFY or INDICATE").
pub fn not_in_properties(operation: Operation) -> BleError {
    att_failure(match operation {
        Operation::Read => AttError::ReadNotPermitted,
        Operation::Write(_) => AttError::WriteNotPermitted,
        Operation::Notify => AttError::RequestNotSupported,
    })
}

/// What a page asks of a characteristic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `readValue()`.
    Read,
    /// `writeValueWithResponse()` or `writeValueWithoutResponse()`.
    Write(WriteMode),
    /// `startNotifications()`.
    Notify,
}

fn type_error(message: &str) -> BleError {
    BleError::new(ErrorKind::InvalidRequest, format!("TypeError: {message}"))
}

/// Blink's checks of the `requestDevice` options the web backend sends
/// (`convert::request_device_options`), with Chrome's words (`bluetooth.cc`,
/// `ConvertRequestDeviceOptions` and `CanonicalizeFilter`).
pub fn check_request_device(options: &RequestDeviceOptions) -> Result<(), BleError> {
    if options.accept_all_devices {
        if !options.filters.is_empty() {
            return Err(type_error(
                "Either 'filters' should be present or 'acceptAllDevices' should be true, but not both.",
            ));
        }
        if !options.exclusion_filters.is_empty() {
            return Err(type_error(
                "'filters' member must be present if 'exclusionFilters' is present.",
            ));
        }
    } else if options.filters.is_empty() {
        return Err(type_error(
            "'filters' member must be non-empty to find any devices.",
        ));
    }
    options
        .filters
        .iter()
        .chain(&options.exclusion_filters)
        .try_for_each(check_filter)
}

/// The `requestLEScan` options as Blink checks them (`bluetooth.cc`, `RequestLEScan`).
pub fn check_scan(options: &LeScanOptions) -> Result<(), BleError> {
    if !options.accept_all_advertisements && options.filters.is_empty() {
        return Err(type_error(
            "'filters' member must be non-empty to find any devices.",
        ));
    }
    options.filters.iter().try_for_each(check_filter)
}

/// One filter: it must hold a condition Blink reads (services, name, name prefix or
/// manufacturer data: a chooser's filters do not read service data), names fit in an
/// advertisement, and each company appears once.
fn check_filter(filter: &WebFilter) -> Result<(), BleError> {
    if filter.services.is_empty()
        && filter.name.is_none()
        && filter.name_prefix.is_none()
        && filter.manufacturer_data.is_empty()
    {
        return Err(type_error(
            "A filter must restrict the devices in some way.",
        ));
    }
    if filter.name_prefix.as_deref() == Some("") {
        return Err(type_error("'namePrefix', if present, must be non-empty."));
    }
    let names = filter.name.iter().chain(&filter.name_prefix);
    if names.into_iter().any(|n| n.len() > MAX_NAME_BYTES) {
        return Err(type_error("A device name can't be longer than 248 bytes."));
    }
    let companies = &filter.manufacturer_data;
    if companies.iter().enumerate().any(|(i, c)| {
        companies
            .iter()
            .take(i)
            .any(|before| before.company == c.company)
    }) {
        return Err(type_error("'companyIdentifier' must be unique."));
    }
    Ok(())
}

//! The simulated world behind the mock: GATT servers, advertisement sources, and running the
//! mock's futures without an executor.

use bluehome_core::gatt::{Characteristics, Properties};
use bluehome_core::{Advertisement, Uuid};

use super::not_paired;
use crate::ble::{BleError, Characteristic, DeviceId};

/// The GATT server of a simulated device. A peer that needs the time reads the mock's clock
/// (see [`MockBackend::clock`](super::MockBackend::clock)).
///
/// A peer reports an operation that needs an encrypted link with an [`ErrorKind::NotPaired`](crate::ble::ErrorKind::NotPaired)
/// error; the mock then pairs through [`GattPeer::pair`] where the platform pairs on demand
/// ([`Platform::pair_on_demand`](super::Platform::pair_on_demand)). An
/// [`ErrorKind::Disconnected`](crate::ble::ErrorKind::Disconnected) error means the device dropped the link (it restarted, or went out
/// of range): the mock disconnects and fires the event.
pub trait GattPeer {
    /// A central connected.
    fn connect(&mut self) -> Result<(), BleError> {
        Ok(())
    }
    /// The central disconnected.
    fn disconnect(&mut self) {}
    /// Whether the device still holds the link after an operation: false once it dropped it
    /// (a factory reset restarts it), which the mock reports as Chrome does, with
    /// `gattserverdisconnected`.
    fn holds_link(&self) -> bool {
        true
    }
    /// The operating system pairs with the device (on demand, or from its settings).
    fn pair(&mut self) -> Result<(), BleError> {
        Err(not_paired())
    }
    /// Whether the device asks for a passkey when it pairs (by default it pairs "Just Works",
    /// with no PIN, as Shelly devices do).
    fn asks_for_passkey(&self) -> bool {
        false
    }
    /// The characteristics of one of its primary services with the properties each declares (by
    /// default it has none, as Chrome reports a service missing or not granted). The mock finds a
    /// characteristic here before every operation on it, as the page's `getCharacteristic` does,
    /// and refuses what its properties do not allow.
    fn characteristics(&mut self, service: Uuid) -> Result<Vec<(Uuid, Properties)>, BleError> {
        Err(no_service(service))
    }
    /// Reads a characteristic.
    fn read(&mut self, characteristic: Characteristic) -> Result<Vec<u8>, BleError>;
    /// Writes a characteristic.
    fn write(&mut self, characteristic: Characteristic, value: &[u8]) -> Result<(), BleError>;
}

/// Every characteristic of one of the core's GATT services with the properties it declares: what
/// a simulated device built on the core lists.
pub fn declared<C: Characteristics>() -> Vec<(Uuid, Properties)> {
    C::ALL.iter().map(|c| (c.uuid(), c.properties())).collect()
}

/// What Chrome answers `getPrimaryService` for a service the device lacks.
pub fn no_service(service: Uuid) -> BleError {
    BleError::new(
        crate::ble::ErrorKind::NotFound,
        format!("NotFoundError: No Services matching UUID {service} found in Device."),
    )
}

/// What Chrome answers `getCharacteristic` for a characteristic the service lacks.
pub fn no_characteristic(characteristic: Characteristic) -> BleError {
    BleError::new(
        crate::ble::ErrorKind::NotFound,
        format!(
            "NotFoundError: No Characteristics matching UUID {} found in Service with UUID {}.",
            characteristic.uuid, characteristic.service
        ),
    )
}

/// Something that produces advertisements as simulated time passes.
pub trait AdvertisementSource {
    /// The advertisements due at `now_ms` (device id, advertisement; the name is inside it).
    fn poll(&mut self, now_ms: u64) -> Vec<(DeviceId, Advertisement)>;

    /// The notifications its devices sent since the last call (device, characteristic, value);
    /// the mock delivers those whose notifications the page started.
    fn notifications(&mut self, now_ms: u64) -> Vec<(DeviceId, Characteristic, Vec<u8>)> {
        let _ = now_ms;
        Vec::new()
    }
}

/// Runs one of the mock's futures to its end outside an executor (native tests). They wait on
/// nothing but a yield (a GATT operation lets other tasks run once), so a few polls finish them;
/// a connect made to hang never does, which is a test's mistake here.
#[expect(
    clippy::panic,
    reason = "a test helper: a hanging future is the calling test's mistake"
)]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    for _ in 0..1_000 {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("a mock future never finished (a hanging connect?)")
}

/// Lets other tasks run once: a GATT operation takes time on a real radio, and this is where an
/// overlapping one can start.
pub(super) async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}

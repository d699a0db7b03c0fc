//! The GATT side of a mock device: what the page may reach on it, and one operation at a time on
//! its simulated peer, as Chrome runs them.

use bluehome_core::Uuid;

use super::chrome::{self, not_paired};
use super::peers::yield_once;
use super::{GattPeer, MockBackend};
use crate::ble::{BleBackend as _, BleError, DeviceId, ErrorKind};

impl MockBackend {
    /// Chrome gives the page only the services its choosers granted for the device (Web
    /// Bluetooth, "Device Discovery": `filters[].services` and `optionalServices`). It looks at
    /// the link first: a device not connected is that, whatever the service (Blink
    /// `bluetooth_remote_gatt_server.cc`).
    pub(super) fn allowed(&self, device: &DeviceId, service: Uuid) -> Result<(), BleError> {
        let state = self.state.borrow();
        if !state.connected.contains(device) {
            return Err(chrome::not_connected());
        }
        match state.devices.get(device) {
            Some(d) if d.granted && !d.allowed_services.contains(&service) => Err(BleError::new(
                ErrorKind::NotAllowed,
                "SecurityError: Origin is not allowed to access the service. Tip: Add the \
                 service UUID to 'optionalServices' in requestDevice() options. \
                 https://goo.gl/HxfxSQ",
            )),
            _ => Ok(()),
        }
    }

    /// One GATT operation: one at a time per device, taking a moment (another task may try to
    /// start one meanwhile and is refused), pairing on demand where the platform does, and a link
    /// the device dropped ends in a disconnection.
    pub(super) async fn gatt_op<T>(
        &self,
        id: &DeviceId,
        op: impl Fn(&mut dyn GattPeer) -> Result<T, BleError>,
    ) -> Result<T, BleError> {
        {
            let mut state = self.state.borrow_mut();
            if !state.connected.contains(id) {
                return Err(chrome::not_connected());
            }
            let device = state
                .devices
                .get_mut(id)
                .ok_or_else(chrome::not_connected)?;
            if device.busy {
                return Err(BleError::new(
                    ErrorKind::Busy,
                    "NetworkError: GATT operation already in progress.",
                ));
            }
            device.busy = true;
        }
        yield_once().await;
        // A hanging device answers once it stops hanging; disconnecting rejects the operation.
        std::future::poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            let connected = state.connected.contains(id);
            match state.devices.get_mut(id) {
                Some(d) if d.gatt_hangs && connected => {
                    d.gatt_wakers.push(cx.waker().clone());
                    std::task::Poll::Pending
                }
                _ => std::task::Poll::Ready(()),
            }
        })
        .await;
        let (result, holds_link) = self.run_on_peer(id, &op);
        if let Some(device) = self.state.borrow_mut().devices.get_mut(id) {
            device.busy = false;
        }
        // Chrome fires the `characteristicvaluechanged` events of the notifications a device sent
        // before its answer, then settles the operation (Chromium
        // `bluetooth_remote_gatt_characteristic.cc`, `ReadValueCallback`): what the device
        // notified by now, the operation included, is heard first, not at the next tick.
        self.deliver_notifications();
        let refused = result
            .as_ref()
            .is_err_and(|e| e.kind == ErrorKind::Disconnected);
        if refused || !holds_link {
            self.disconnect(id);
        }
        result
    }

    /// Runs `op` on the device's peer; also says whether the peer still holds the link after it.
    fn run_on_peer<T>(
        &self,
        id: &DeviceId,
        op: &impl Fn(&mut dyn GattPeer) -> Result<T, BleError>,
    ) -> (Result<T, BleError>, bool) {
        // Take the peer out while it runs, so it may not re-enter the backend's state.
        let (mut peer, platform) = {
            let mut state = self.state.borrow_mut();
            if !state.connected.contains(id) {
                return (Err(chrome::not_connected()), true);
            }
            let platform = state.platform;
            let Some(peer) = state.devices.get_mut(id).and_then(|d| d.peer.take()) else {
                let none = BleError::new(
                    ErrorKind::NotFound,
                    "NotFoundError: No Services found in device.",
                );
                return (Err(none), true);
            };
            (peer, platform)
        };
        let mut result = op(peer.as_mut());
        if result
            .as_ref()
            .is_err_and(|e| e.kind == ErrorKind::NotPaired)
        {
            result = match platform.pair_on_demand(peer.asks_for_passkey()) {
                Ok(()) => match peer.pair() {
                    Ok(()) => op(peer.as_mut()),
                    // Whatever the peer says, Chrome reports a failed pairing this one way.
                    Err(_) => Err(not_paired()),
                },
                Err(refused) => Err(refused),
            };
        }
        let holds_link = peer.holds_link();
        if let Some(device) = self.state.borrow_mut().devices.get_mut(id) {
            device.peer = Some(peer);
        }
        (result, holds_link)
    }
}

//! The mock as the page sees it: the [`BleBackend`] calls, answered as Chrome would.

use bluehome_core::Uuid;
use bluehome_core::filter::web::WebFilter;

use crate::ble::{
    BleBackend, BleError, BleEvent, Capabilities, Characteristic, DeviceId, ErrorKind, EventSink,
    GrantedDevice, LeScanOptions, RequestDeviceOptions, ScanEnd, Subscription, WriteMode,
    check_value_length,
};

use super::*;

/// Whether the chooser lists a device for these options: against its name and each of the last
/// packets it sent ([`RECENT_PACKETS`]).
fn chooser_lists(options: &RequestDeviceOptions, device: &MockDevice) -> bool {
    let offered = |filter: &WebFilter| match device.recent.as_slice() {
        [] => filter.matches(device.name.as_deref(), None),
        recent => recent
            .iter()
            .any(|packet| filter.matches(device.name.as_deref(), Some(packet))),
    };
    (options.accept_all_devices || options.filters.iter().any(offered))
        && !options.exclusion_filters.iter().any(offered)
}

impl MockBackend {
    /// The devices the chooser would list for these options (connectable ones first), for a
    /// page that shows the simulated chooser in demo mode.
    pub fn offered(&self, options: &RequestDeviceOptions) -> Vec<GrantedDevice> {
        let state = self.state.borrow();
        let mut listed: Vec<(&DeviceId, &MockDevice)> = state
            .devices
            .iter()
            .filter(|(_, d)| chooser_lists(options, d))
            .collect();
        listed.sort_by_key(|(_, d)| d.peer.is_none());
        listed
            .into_iter()
            .map(|(id, d)| GrantedDevice {
                id: id.clone(),
                name: d.name.clone(),
            })
            .collect()
    }
}

impl BleBackend for MockBackend {
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    async fn adapter_available(&self) -> Option<bool> {
        self.capabilities
            .bluetooth
            .then(|| !self.state.borrow().no_adapter)
    }

    fn subscribe(&self, sink: EventSink) -> Subscription {
        self.subscribers.add(sink)
    }

    fn unsubscribe(&self, subscription: Subscription) {
        self.subscribers.remove(subscription);
    }

    async fn start_scan(&self, options: &LeScanOptions) -> Result<(), BleError> {
        self.require(self.capabilities.request_le_scan, "requestLEScan")?;
        self.check_user_gesture("requestLEScan")?;
        chrome::check_scan(options)?;
        self.require_adapter()?;
        self.state.borrow_mut().scan_prompts_shown += 1;
        // The person answers the prompt when they do.
        std::future::poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.scan_prompt == ScanPrompt::Open {
                state.scan_prompt_wakers.push(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        let mut state = self.state.borrow_mut();
        if state.scan_prompt == ScanPrompt::Cancel {
            return Err(BleError::new(
                ErrorKind::UserCancelled,
                "InvalidStateError: User canceled the permission prompt.",
            ));
        }
        state.scan = Some(options.clone());
        state.scan_reported.clear();
        Ok(())
    }

    fn stop_scan(&self) {
        let was = self.state.borrow_mut().scan.take().is_some();
        if was {
            self.subscribers.emit(&BleEvent::ScanStopped {
                reason: ScanEnd::Stopped,
            });
        }
    }

    fn is_scanning(&self) -> bool {
        self.state.borrow().scan.is_some()
    }

    async fn request_device(
        &self,
        options: &RequestDeviceOptions,
    ) -> Result<GrantedDevice, BleError> {
        self.require(self.capabilities.request_device, "requestDevice")?;
        self.check_user_gesture("requestDevice")?;
        chrome::check_request_device(options)?;
        self.require_adapter()?;
        let mut state = self.state.borrow_mut();
        let chooser = state.chooser.clone();
        let matches = |device: &MockDevice| chooser_lists(options, device);
        let picked = match chooser {
            ChooserAnswer::Cancel => None,
            // Connectable devices (with a GATT server) first, as a user would pick them.
            ChooserAnswer::FirstMatch => state
                .devices
                .iter()
                .filter(|(_, d)| matches(d))
                .min_by_key(|(_, d)| d.peer.is_none())
                .map(|(id, _)| id.clone()),
            ChooserAnswer::Device(id) => state
                .devices
                .get(&id)
                .filter(|d| matches(d))
                .map(|_| id.clone()),
        };
        let Some(id) = picked else {
            return Err(BleError::new(
                ErrorKind::UserCancelled,
                "NotFoundError: User cancelled the requestDevice() chooser.",
            ));
        };
        let device = state.devices.get_mut(&id).ok_or_else(|| {
            BleError::new(
                ErrorKind::NotFound,
                "NotFoundError: User selected a device that doesn't exist anymore.",
            )
        })?;
        device.granted = true;
        let services = options.filters.iter().flat_map(|f| f.services.iter());
        device
            .allowed_services
            .extend(services.chain(&options.optional_services).copied());
        device
            .allowed_companies
            .extend(&options.optional_manufacturer_data);
        Ok(GrantedDevice {
            id,
            name: device.name.clone(),
        })
    }

    async fn get_devices(&self) -> Result<Vec<GrantedDevice>, BleError> {
        self.require(self.capabilities.get_devices, "getDevices")?;
        Ok(self
            .state
            .borrow()
            .devices
            .iter()
            .filter(|(_, d)| d.granted)
            .map(|(id, d)| GrantedDevice {
                id: id.clone(),
                name: d.name.clone(),
            })
            .collect())
    }

    async fn watch_advertisements(&self, device: &DeviceId) -> Result<(), BleError> {
        self.require(
            self.capabilities.watch_advertisements,
            "watchAdvertisements",
        )?;
        let mut state = self.state.borrow_mut();
        if !state.devices.get(device).is_some_and(|d| d.granted) {
            return Err(BleError::new(
                ErrorKind::NotFound,
                format!("device {device} was not granted to this page"),
            ));
        }
        // While `watchingAdvertisements` is true Chrome resolves at once and re-arms nothing.
        if state.watching.insert(device.clone()) {
            state.armed.insert(device.clone());
        }
        Ok(())
    }

    fn unwatch_advertisements(&self, device: &DeviceId) {
        let mut state = self.state.borrow_mut();
        state.watching.remove(device);
        state.armed.remove(device);
    }

    async fn connect(&self, device: &DeviceId) -> Result<(), BleError> {
        {
            let mut state = self.state.borrow_mut();
            let Some(entry) = state.devices.get_mut(device).filter(|d| d.granted) else {
                // Unreachable in Chrome: a page only holds devices it was granted.
                return Err(BleError::new(
                    ErrorKind::NotAllowed,
                    "Device was not authorized (pick it in the chooser first).",
                ));
            };
            entry.connecting += 1;
        }
        // The radio takes a moment; a device made to hang answers only once it stops hanging.
        yield_once().await;
        std::future::poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            match state.devices.get_mut(device) {
                Some(d) if d.connect_hangs => {
                    d.connect_wakers.push(cx.waker().clone());
                    std::task::Poll::Pending
                }
                _ => std::task::Poll::Ready(()),
            }
        })
        .await;
        let mut state = self.state.borrow_mut();
        let shared = state.connected.contains(device);
        let Some(entry) = state.devices.get_mut(device) else {
            return Err(BleError::new(
                ErrorKind::NotFound,
                "NotFoundError: User selected a device that doesn't exist anymore.",
            ));
        };
        entry.connecting = entry.connecting.saturating_sub(1);
        if shared {
            // Another attempt connected first: this one resolves with the same link.
            return Ok(());
        }
        let mut peer = entry.peer.take().ok_or_else(|| {
            BleError::new(
                ErrorKind::Gatt,
                "NetworkError: Connection failed for unknown reason.",
            )
        })?;
        drop(state);
        let result = peer.connect();
        let mut state = self.state.borrow_mut();
        if let Some(entry) = state.devices.get_mut(device) {
            entry.peer = Some(peer);
        }
        if result.is_ok() {
            state.connected.insert(device.clone());
        }
        result
    }

    fn disconnect(&self, device: &DeviceId) {
        let (was, hanging) = {
            let mut state = self.state.borrow_mut();
            state.notifying.retain(|(d, _)| d != device);
            let was = state.connected.remove(device);
            let entry = state.devices.get_mut(device);
            let hanging = entry
                .map(|e| {
                    // Nothing connected: nothing happens (a pending connect goes on, as in Chrome).
                    if was && let Some(peer) = e.peer.as_mut() {
                        peer.disconnect();
                    }
                    // Chrome rejects the operation under way: the next may start.
                    e.busy = false;
                    std::mem::take(&mut e.gatt_wakers)
                })
                .unwrap_or_default();
            (was, hanging)
        };
        // Operations that hung are rejected now.
        for waker in hanging {
            waker.wake();
        }
        // Chrome fires gattserverdisconnected inside disconnect(), before it returns.
        if was {
            self.subscribers.emit(&BleEvent::Disconnected {
                device: device.clone(),
            });
        }
    }

    fn is_connected(&self, device: &DeviceId) -> bool {
        self.state.borrow().connected.contains(device)
    }

    async fn forget(&self, device: &DeviceId) -> Result<(), BleError> {
        self.require(self.capabilities.forget, "BluetoothDevice.forget()")?;
        self.unwatch_advertisements(device);
        self.disconnect(device);
        if let Some(entry) = self.state.borrow_mut().devices.get_mut(device) {
            entry.granted = false;
        }
        Ok(())
    }

    async fn characteristics(
        &self,
        device: &DeviceId,
        service: Uuid,
    ) -> Result<Vec<Uuid>, BleError> {
        self.allowed(device, service)?;
        let listed: Vec<Uuid> = self
            .gatt_op(device, |peer| peer.characteristics(service))
            .await?
            .into_iter()
            .map(|(uuid, _)| uuid)
            .collect();
        if listed.is_empty() {
            // Blink `bluetooth_remote_gatt_service.cc`: `getCharacteristics()` finding none.
            return Err(BleError::new(
                ErrorKind::NotFound,
                "NotFoundError: No Characteristics found in service.",
            ));
        }
        Ok(listed)
    }

    async fn read(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<Vec<u8>, BleError> {
        self.allowed(device, characteristic.service)?;
        self.gatt_op(device, |peer| {
            permitted(peer, characteristic, Operation::Read)?;
            peer.read(characteristic)
        })
        .await
    }

    async fn write(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
        value: &[u8],
        mode: WriteMode,
    ) -> Result<(), BleError> {
        check_value_length(value)?;
        self.allowed(device, characteristic.service)?;
        self.gatt_op(device, |peer| {
            permitted(peer, characteristic, Operation::Write(mode))?;
            peer.write(characteristic, value)
        })
        .await
    }

    async fn start_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        self.allowed(device, characteristic.service)?;
        self.gatt_op(device, |peer| {
            permitted(peer, characteristic, Operation::Notify)
        })
        .await?;
        self.state
            .borrow_mut()
            .notifying
            .insert((device.clone(), characteristic));
        Ok(())
    }

    async fn stop_notifications(
        &self,
        device: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(), BleError> {
        self.state
            .borrow_mut()
            .notifying
            .remove(&(device.clone(), characteristic));
        Ok(())
    }
}

/// Finds `characteristic` on the device, as the page's `getCharacteristic` does before any
/// operation on it (a missing one is Chrome's `NotFoundError`), and refuses an operation its
/// properties do not allow, as Chrome does before it asks the device.
fn permitted(
    peer: &mut dyn GattPeer,
    characteristic: Characteristic,
    operation: Operation,
) -> Result<(), BleError> {
    let properties = peer
        .characteristics(characteristic.service)?
        .into_iter()
        .find(|(uuid, _)| *uuid == characteristic.uuid)
        .map(|(_, properties)| properties)
        .ok_or_else(|| no_characteristic(characteristic))?;
    let allowed = match operation {
        Operation::Read => properties.read,
        Operation::Write(WriteMode::WithResponse) => properties.write,
        Operation::Write(WriteMode::WithoutResponse) => properties.write_without_response,
        Operation::Notify => properties.notify,
    };
    if allowed {
        Ok(())
    } else {
        Err(not_in_properties(operation))
    }
}

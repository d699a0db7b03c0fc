//! The GATT side of a granted device: its queue (one operation at a time, as Chrome runs them),
//! its service and characteristic objects (looked up once, then cached until it disconnects) and
//! the mark of a read under way, and the listeners that hand its values on.

use std::rc::Rc;
use std::sync::Arc;

use futures::lock::{Mutex, OwnedMutexGuard};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BluetoothRemoteGattCharacteristic, BluetoothRemoteGattService, Event};

use super::{Listener, WebBackend, convert};
use crate::ble::{BleError, BleEvent, Characteristic, DeviceId, ErrorKind};

/// The event of a characteristic's new value (a notification, or a read's answer).
const VALUE_CHANGED: &str = "characteristicvaluechanged";

fn remove_listener(characteristic: &BluetoothRemoteGattCharacteristic, listener: &Listener) {
    let _ = characteristic
        .remove_event_listener_with_callback(VALUE_CHANGED, listener.as_ref().unchecked_ref());
}

/// Clears a device's read mark however the read ends: a caller that gives up on it (the GATT
/// time limit) drops the read, and the notifications after it must not wait for it.
pub(super) struct ReadMark<'a>(pub(super) &'a WebBackend, pub(super) &'a DeviceId);

impl Drop for ReadMark<'_> {
    fn drop(&mut self) {
        self.0.set_reading(self.1, None);
    }
}

impl WebBackend {
    /// Waits for the device's turn in its GATT queue, which lasts as long as the guard (a device
    /// never registered gets a queue of its own).
    pub(super) async fn gatt_turn(&self, id: &DeviceId) -> OwnedMutexGuard<()> {
        let queue = self
            .inner
            .devices
            .borrow()
            .get(id)
            .map_or_else(|| Arc::new(Mutex::new(())), |h| Arc::clone(&h.gatt_queue));
        queue.lock_owned().await
    }

    /// Marks the characteristic being read on `id` (or none), returning what was marked.
    pub(super) fn set_reading(
        &self,
        id: &DeviceId,
        reading: Option<(Characteristic, Vec<Vec<u8>>)>,
    ) -> Option<(Characteristic, Vec<Vec<u8>>)> {
        let mut devices = self.inner.devices.borrow_mut();
        let handle = devices.get_mut(id)?;
        core::mem::replace(&mut handle.reading, reading)
    }

    /// The service, through the device's connected GATT server.
    pub(super) async fn primary_service(
        &self,
        id: &DeviceId,
        service: bluehome_core::Uuid,
    ) -> Result<BluetoothRemoteGattService, BleError> {
        let server = self
            .device(id)?
            .gatt()
            .filter(|s| s.connected())
            .ok_or_else(|| BleError::new(ErrorKind::Disconnected, "not connected"))?;
        server
            .get_primary_service_with_str(&service.to_string())
            .await
            .map_err(|e| convert::error(&e))
    }

    /// What every operation on a characteristic starts with: the device's GATT turn, then the
    /// characteristic (whose first lookup is a GATT operation too).
    pub(super) async fn characteristic_in_turn(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<(OwnedMutexGuard<()>, BluetoothRemoteGattCharacteristic), BleError> {
        let turn = self.gatt_turn(id).await;
        let found = self.characteristic(id, characteristic).await?;
        Ok((turn, found))
    }

    /// The characteristic object, fetched through the connected server once and then cached.
    pub(super) async fn characteristic(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
    ) -> Result<BluetoothRemoteGattCharacteristic, BleError> {
        if let Some(found) = self
            .inner
            .devices
            .borrow()
            .get(id)
            .and_then(|h| h.characteristics.get(&characteristic).cloned())
        {
            return Ok(found);
        }
        let found = self
            .primary_service(id, characteristic.service)
            .await?
            .get_characteristic_with_str(&characteristic.uuid.to_string())
            .await
            .map_err(|e| convert::error(&e))?;
        if let Some(handle) = self.inner.devices.borrow_mut().get_mut(id) {
            handle.characteristics.insert(characteristic, found.clone());
        }
        Ok(found)
    }

    /// Hands on, as notifications, the values that came while a read of `characteristic` was
    /// under way, but for the read's own echo (its value, fired last).
    pub(super) fn hand_on_values_during_read(
        &self,
        id: &DeviceId,
        characteristic: Characteristic,
        read: Option<&Vec<u8>>,
    ) {
        let mut came = self
            .set_reading(id, None)
            .map(|(_, values)| values)
            .unwrap_or_default();
        if read.is_some() && came.last() == read {
            came.pop(); // the read's own echo
        }
        for value in came {
            self.inner.subscribers.emit(&BleEvent::Notification {
                device: id.clone(),
                characteristic,
                value,
            });
        }
    }

    /// Listens for the characteristic's new values: a notification is handed on at once, a value
    /// that comes during a read of it waits for the read to tell whether it is its echo.
    pub(super) fn listen_for_values(
        &self,
        id: &DeviceId,
        found: &BluetoothRemoteGattCharacteristic,
        characteristic: Characteristic,
    ) {
        let weak = Rc::downgrade(&self.inner);
        let device = id.clone();
        let listener: Listener = Closure::new(move |event: Event| {
            let Some(inner) = weak.upgrade() else { return };
            let value = event
                .target()
                .and_then(|t| t.dyn_into::<BluetoothRemoteGattCharacteristic>().ok())
                .and_then(|c| c.value());
            let Some(view) = value else { return };
            let value = convert::bytes(&view);
            if let Some(handle) = inner.devices.borrow_mut().get_mut(&device)
                && let Some((reading, came)) = &mut handle.reading
                && *reading == characteristic
            {
                came.push(value); // handed on once the read tells whether it is its echo
                return;
            }
            inner.subscribers.emit(&BleEvent::Notification {
                device: device.clone(),
                characteristic,
                value,
            });
        });
        let _ = found
            .add_event_listener_with_callback(VALUE_CHANGED, listener.as_ref().unchecked_ref());
        if let Some(handle) = self.inner.devices.borrow_mut().get_mut(id)
            && let Some(old) = handle.notify_listeners.insert(characteristic, listener)
        {
            remove_listener(found, &old);
        }
    }

    /// Stops listening for the characteristic's values.
    pub(super) fn stop_listening(
        &self,
        id: &DeviceId,
        found: &BluetoothRemoteGattCharacteristic,
        characteristic: Characteristic,
    ) {
        let listener = self
            .inner
            .devices
            .borrow_mut()
            .get_mut(id)
            .and_then(|h| h.notify_listeners.remove(&characteristic));
        if let Some(listener) = listener {
            remove_listener(found, &listener);
        }
    }
}

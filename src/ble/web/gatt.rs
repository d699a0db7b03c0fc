//! The GATT side of a granted device: its queue (one operation at a time, as Chrome runs them),
//! its service and characteristic objects (looked up once, then cached until it disconnects) and
//! the mark of a read under way.

use std::sync::Arc;

use futures::lock::{Mutex, OwnedMutexGuard};
use web_sys::{BluetoothRemoteGattCharacteristic, BluetoothRemoteGattService};

use super::{WebBackend, convert};
use crate::ble::{BleError, Characteristic, DeviceId, ErrorKind};

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
}

//! Simulated devices (cargo feature `sim`): a Shelly BLU Gateway Gen3 that speaks the real GATT
//! RPC protocol with real state, simulated BTHome sensors, a Shelly BLU device with its settings
//! service, and an Improv Wi-Fi device.
//!
//! * [`gateway::Gateway`]: the device state and its RPC methods.
//! * [`peripheral::Peripheral`]: the gateway behind its GATT service, with connections, bonding
//!   and [`peripheral::Faults`].
//! * [`sensors::SimSensor`]: Shelly BLU devices and a generic thermometer, encoded with the BTHome
//!   encoder.
//! * [`blu::BluDevice`]: one Shelly BLU device with its GATT settings (bonding, passkey and key,
//!   beacon mode, per-model settings, factory reset) and advertisements that follow them.
//! * [`improv::ImprovDevice`]: an Improv Wi-Fi device (authorization, provisioning, identify,
//!   device info, scan).
//! * [`line::Session`]: the line protocol of `bluehome sim <device> --stdio` (JSON request in,
//!   JSON answer out) for any of them, everything but the IO.
//!
//! Time is always an argument (`now_ms`, milliseconds on any monotonic clock starting at 0).

pub mod blu;
pub mod gateway;
pub mod improv;
pub mod line;
pub mod peripheral;
pub mod sensors;

pub use blu::{BluDevice, BluOptions};
pub use gateway::{AddAnswer, Gateway, GatewayOptions, Provisioning};
pub use improv::{ImprovDevice, ImprovOptions};
pub use peripheral::{Faults, Peripheral};
pub use sensors::{SensorKind, SensorSpec, SimSensor};

#[cfg(test)]
mod tests;

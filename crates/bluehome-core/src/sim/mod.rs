//! Simulated devices (cargo feature `sim`): a Shelly BLU Gateway Gen3 that speaks the real GATT
//! RPC protocol with real state, and simulated BTHome sensors.
//!
//! * [`gateway::Gateway`]: the device state and its RPC methods.
//! * [`peripheral::Peripheral`]: the gateway behind its GATT service, with connections, bonding
//!   and [`peripheral::Faults`].
//! * [`sensors::SimSensor`]: Shelly BLU devices and a generic thermometer, encoded with the BTHome
//!   encoder.
//! * [`line::Session`]: the line protocol of `bluehome sim shelly --stdio` (JSON request in, JSON
//!   answer out), everything but the IO.
//!
//! Time is always an argument (`now_ms`, milliseconds on any monotonic clock starting at 0).

pub mod gateway;
pub mod line;
pub mod peripheral;
pub mod sensors;

pub use gateway::{Gateway, GatewayOptions, Provisioning};
pub use peripheral::{Faults, Peripheral};
pub use sensors::{SensorKind, SensorSpec, SimSensor};

#[cfg(test)]
mod tests;

//! Shelly JSON-RPC over GATT: the transport both sides run.
//!
//! The service is the Mongoose OS `rpc-gatts` channel Shelly firmware derives from
//! (mongoose-os-libs/rpc-gatts `src/mgos_rpc_channel_gatts.c` and its `README.md`). A request frame is sent by writing its length as a 4-byte big-endian
//! integer to [`Characteristic::TxCtl`], then the frame bytes to [`Characteristic::Data`] in chunks;
//! the answer's length is read from [`Characteristic::RxCtl`] (0 = nothing ready yet) and its bytes
//! from `Data`, one chunk of at most MTU − 2 bytes per read.
//!
//! * [`client`]: the sans-IO client. A [`client::Call`] says which GATT operation to perform next
//!   and consumes its result; it handles the firmware quirks and the 401 digest-auth retry.
//! * [`server`]: the device side of the same protocol, used by the simulator.

pub mod client;
pub mod server;

pub use crate::gatt::AttError;
use crate::gatt::Properties;
use crate::uuid::Uuid;

/// The RPC service, `_mOS_RPC_SVC_ID_` in ASCII.
pub const SERVICE_UUID: Uuid = Uuid(0x5f6d4f53_5f52_5043_5f53_56435f49445f);
/// The data characteristic (read + write), `_mOS_RPC_data___`.
pub const DATA_UUID: Uuid = Uuid(0x5f6d4f53_5f52_5043_5f64_6174615f5f5f);
/// The receive-control characteristic (read + notify + indicate), `_mOS_RPC_rx_ctl_`.
pub const RX_CTL_UUID: Uuid = Uuid(0x5f6d4f53_5f52_5043_5f72_785f63746c5f);
/// The transmit-control characteristic (write only), `_mOS_RPC_tx_ctl_`.
pub const TX_CTL_UUID: Uuid = Uuid(0x5f6d4f53_5f52_5043_5f74_785f63746c5f);

/// The upstream server's default maximum request frame (`rpc.gatts.max_frame_size`).
pub const DEFAULT_MAX_FRAME: u32 = 4096;
/// The largest single write Web Bluetooth accepts.
pub const MAX_WRITE: usize = 512;
/// The chunk size that fits a default (23-byte) ATT MTU.
pub const SMALL_WRITE: usize = 20;

/// One of the three characteristics of the RPC service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Characteristic {
    /// Frame bytes, both directions.
    Data,
    /// Length of the request frame the client is about to write (client → device).
    TxCtl,
    /// Length of the frame the device has ready (device → client).
    RxCtl,
}

impl Characteristic {
    /// Every characteristic of the service.
    pub const ALL: [Self; 3] = [Self::Data, Self::TxCtl, Self::RxCtl];

    /// The characteristic's UUID.
    pub const fn uuid(self) -> Uuid {
        match self {
            Self::Data => DATA_UUID,
            Self::TxCtl => TX_CTL_UUID,
            Self::RxCtl => RX_CTL_UUID,
        }
    }

    /// The short name used in logs and in the simulator's line protocol (`data`, `tx_ctl`, `rx_ctl`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Data => "data",
            Self::TxCtl => "tx_ctl",
            Self::RxCtl => "rx_ctl",
        }
    }

    /// Its properties, as `rpc-gatts` declares them (`MGOS_BT_GATT_PROP_RWNI` in
    /// `mgos_rpc_channel_gatts.c`): `data` read and write, `rx_ctl` read, notify and indicate,
    /// `tx_ctl` write. None is declared for write without response.
    pub const fn properties(self) -> Properties {
        match self {
            Self::Data => Properties::READ_WRITE,
            Self::TxCtl => Properties::WRITE,
            Self::RxCtl => Properties::READ_NOTIFY,
        }
    }
}

crate::gatt::characteristics!(Characteristic);

/// Encodes a frame length as the 4-byte big-endian control value.
pub const fn encode_len(len: u32) -> [u8; 4] {
    len.to_be_bytes()
}

/// Decodes a control value; `None` unless it is exactly 4 bytes.
pub fn decode_len(value: &[u8]) -> Option<u32> {
    let bytes: [u8; 4] = value.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// The UUIDs are the ASCII names read as big-endian 128-bit numbers (mongoose-os-libs/rpc-gatts
    /// `src/mgos_rpc_channel_gatts.c`).
    #[test]
    fn uuids_spell_the_mongoose_names() {
        for (uuid, ascii) in [
            (SERVICE_UUID, b"_mOS_RPC_SVC_ID_"),
            (DATA_UUID, b"_mOS_RPC_data___"),
            (RX_CTL_UUID, b"_mOS_RPC_rx_ctl_"),
            (TX_CTL_UUID, b"_mOS_RPC_tx_ctl_"),
        ] {
            assert_eq!(uuid.0.to_be_bytes(), *ascii);
        }
        assert_eq!(
            SERVICE_UUID.to_string(),
            "5f6d4f53-5f52-5043-5f53-56435f49445f"
        );
        assert_eq!(
            TX_CTL_UUID.to_string(),
            "5f6d4f53-5f52-5043-5f74-785f63746c5f"
        );
    }

    #[test]
    fn characteristics_parse_by_name_and_uuid() {
        assert_eq!("rx_ctl".parse(), Ok(Characteristic::RxCtl));
        assert_eq!(
            "5f6d4f53-5f52-5043-5f64-6174615f5f5f".parse(),
            Ok(Characteristic::Data)
        );
        assert_eq!(
            "nope".parse::<Characteristic>(),
            Err(AttError::AttributeNotFound)
        );
    }

    /// The README's example: 32 bytes is `00000020` (big-endian, despite its prose).
    #[test]
    fn length_is_big_endian() {
        assert_eq!(encode_len(32), [0, 0, 0, 0x20]);
        assert_eq!(decode_len(&[0x32, 0x13, 0x00, 0x5f]), Some(0x3213_005f));
        assert_eq!(decode_len(&[0, 0, 0x20]), None);
    }
}

#[cfg(test)]
mod link_tests;

//! `BLE.*` and `BLE.CloudRelay.*` (the BLE component document,
//! <https://shelly-api-docs.shelly.cloud/gen2/ComponentsAndServices/BLE>).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::shelly::SetConfigResult;
use super::{Error, Page, Paged};
use crate::ad;
use crate::advertisement::{Advertisement, MacAddress};
use crate::hex;
use crate::uuid::Uuid;

/// `rpc` part of the BLE config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RpcConfig {
    /// RPC over Bluetooth enabled.
    pub enable: bool,
    /// (1.6+) Changing the config needs a restart when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_running: Option<bool>,
}

/// `observer` part of the BLE config (obsolete since 1.5.0-beta1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ObserverConfig {
    /// Observer enabled.
    pub enable: bool,
}

/// BLE config (`BLE.GetConfig`, `BLE.SetConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BleConfig {
    /// Bluetooth enabled (removed in firmware 2.0.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// RPC service settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc: Option<RpcConfig>,
    /// Observer settings (obsolete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observer: Option<ObserverConfig>,
}

/// `BLE.SetConfig` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SetConfigParams {
    /// The config subset to change.
    pub config: BleConfig,
}

impl SetConfigParams {
    /// Turns RPC over Bluetooth on or off: `{"config":{"rpc":{"enable":…}}}`.
    pub fn rpc(enable: bool) -> Self {
        Self {
            config: BleConfig {
                rpc: Some(RpcConfig {
                    enable,
                    keep_running: None,
                }),
                ..BleConfig::default()
            },
        }
    }
}

/// Pairing window, present in the status while pairing is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingStatus {
    /// Unix time pairing was enabled.
    pub started_at: u64,
    /// Seconds it stays enabled.
    pub duration: u32,
}

/// Provisioning state of the BLE RPC channel (the BLE component document, firmware 2.0): while
/// `pending` or `confirmed` a client needs no pairing, in `complete` and `locked` it must be bonded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provisioning {
    /// Fresh device: RPC without pairing.
    #[default]
    Pending,
    /// Set-up in progress: RPC without pairing.
    Confirmed,
    /// Set up: pairing required.
    Complete,
    /// Locked: pairing required.
    Locked,
}

impl Provisioning {
    /// Every state, in the order a device goes through them.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Confirmed, Self::Complete, Self::Locked];

    /// `pending`, `confirmed`, `complete`, `locked`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Complete => "complete",
            Self::Locked => "locked",
        }
    }

    /// Parses [`Provisioning::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// True in `complete` and `locked`: connections must be bonded.
    pub const fn pairing_required(self) -> bool {
        matches!(self, Self::Complete | Self::Locked)
    }
}

impl fmt::Display for Provisioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Reads a provisioning member leniently: anything but a state this crate knows reads as absent.
fn lenient_provisioning<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Provisioning>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value.as_str().and_then(Provisioning::from_name))
}

/// `BLE.GetStatus` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BleStatus {
    /// Bluetooth address with type suffix, e.g. `AA:BB:CC:DD:EE:FF,p`.
    #[serde(default)]
    pub addr: String,
    /// `scanning`, `advertising`, `connected`; absent when idle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    /// Present while pairing is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairing: Option<PairingStatus>,
    /// Provisioning state. Only bluehome's simulator reports it here, and only by option: real
    /// firmware reports it as `provision` in `Shelly.GetDeviceInfo`
    /// ([`super::shelly::DeviceInfo::provisioning`]). A state not listed in [`Provisioning`] reads
    /// as absent.
    #[serde(
        default,
        deserialize_with = "lenient_provisioning",
        skip_serializing_if = "Option::is_none"
    )]
    pub provisioning: Option<Provisioning>,
}

/// `BLE.StartPairing` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StartPairingParams {
    /// Seconds pairing stays enabled (default 180).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
}

/// `BLE.StartPairing` result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StartPairingResult {
    /// The timeout applied (absent: the one asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
}

/// A bonded client (`BLE.ListPairedDevices`, pairing events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairedDevice {
    /// Its address.
    pub addr: String,
    /// Unix time the bond was made.
    #[serde(default)]
    pub ctime: u64,
    /// Unix time of the last connection.
    #[serde(default)]
    pub atime: u64,
}

/// `BLE.ListPairedDevices` result: the bonds, as the BLE document shows them (an array). An
/// object with the array in `devices` is read as well, as bluehome's earlier client did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct PairedDevices(pub Vec<PairedDevice>);

impl<'de> Deserialize<'de> for PairedDevices {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = match Value::deserialize(d)? {
            Value::Object(mut object) => object.remove("devices").unwrap_or(Value::Null),
            list => list,
        };
        serde_json::from_value(list)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

/// `BLE.DeletePairedDevice` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletePairedDeviceParams {
    /// Address of the bond to remove.
    pub addr: String,
}

/// `BLE.AdvertiseOnce` parameters: hex AD structures, built with [`AdvertiseOnceParams::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvertiseOnceParams {
    /// Advertising data, hex, at most 28 bytes, no Flags AD (the firmware prepends it).
    pub adv_data: String,
    /// Scan response, hex, at most 31 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_rsp: Option<String>,
}

/// Largest `adv_data` (31 minus the 3-byte Flags AD the firmware prepends).
pub const MAX_ADV_DATA: usize = 28;
/// Largest `scan_rsp`.
pub const MAX_SCAN_RSP: usize = 31;

impl AdvertiseOnceParams {
    /// Checks and hex-encodes the AD structures.
    pub fn new(adv_data: &[u8], scan_rsp: Option<&[u8]>) -> Result<Self, Error> {
        check_ad("adv_data", adv_data, MAX_ADV_DATA)?;
        if let Some(rsp) = scan_rsp {
            check_ad("scan_rsp", rsp, MAX_SCAN_RSP)?;
        }
        Ok(Self {
            adv_data: hex::encode(adv_data),
            scan_rsp: scan_rsp.map(hex::encode),
        })
    }

    /// Server side: decodes and checks both members (the simulator's validation).
    pub fn validate(&self) -> Result<(Vec<u8>, Option<Vec<u8>>), Error> {
        let bad_hex = |field| Error::BadParams {
            field,
            reason: "not an even number of hex digits",
        };
        let adv = hex::decode(&self.adv_data).map_err(|_| bad_hex("adv_data"))?;
        check_ad("adv_data", &adv, MAX_ADV_DATA)?;
        let rsp = match &self.scan_rsp {
            Some(text) => {
                let rsp = hex::decode(text).map_err(|_| bad_hex("scan_rsp"))?;
                check_ad("scan_rsp", &rsp, MAX_SCAN_RSP)?;
                Some(rsp)
            }
            None => None,
        };
        Ok((adv, rsp))
    }
}

/// Why bytes cannot go out as one `BLE.AdvertiseOnce` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdDataError {
    /// More bytes than the member carries.
    TooLong {
        /// The bytes given.
        len: usize,
        /// The member's limit ([`MAX_ADV_DATA`] or [`MAX_SCAN_RSP`]).
        max: usize,
    },
    /// A malformed AD structure.
    Malformed(ad::Error),
    /// A Flags AD structure: the firmware prepends its own.
    Flags {
        /// Where its length byte is.
        offset: usize,
    },
    /// A non-zero byte after the zero length byte that ends the data (the rest is padding,
    /// all zeros: Core Specification Vol 3, Part C, 11).
    Padding {
        /// Where the byte is.
        offset: usize,
    },
}

impl fmt::Display for AdDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooLong { len, max } => {
                write!(f, "{len} bytes: {} over the {max}-byte budget", len - max)
            }
            Self::Malformed(ref e) => write!(f, "{e}"),
            Self::Flags { offset } => write!(
                f,
                "a Flags AD structure at byte {offset}: the firmware adds its own"
            ),
            Self::Padding { offset } => write!(
                f,
                "byte {offset} is not zero, but the data ended at a zero length byte before it"
            ),
        }
    }
}

impl core::error::Error for AdDataError {}

/// Checks that `data` can go out as a `BLE.AdvertiseOnce` member of at most `max` bytes:
/// well-formed AD structures, no Flags AD, only zeros after an early terminator.
pub fn check_ad_data(data: &[u8], max: usize) -> Result<(), AdDataError> {
    if data.len() > max {
        return Err(AdDataError::TooLong {
            len: data.len(),
            max,
        });
    }
    let mut offset = 0;
    for structure in ad::iter(data) {
        let structure = structure.map_err(AdDataError::Malformed)?;
        if structure.ad_type() == ad::types::FLAGS {
            return Err(AdDataError::Flags { offset });
        }
        offset += structure.encoded_len();
    }
    // The walk ended at the end of the data or at a zero length byte; padding follows that.
    let padding = data.get(offset + 1..).unwrap_or_default();
    match padding.iter().position(|&b| b != 0) {
        Some(i) => Err(AdDataError::Padding {
            offset: offset + 1 + i,
        }),
        None => Ok(()),
    }
}

fn check_ad(field: &'static str, data: &[u8], max: usize) -> Result<(), Error> {
    check_ad_data(data, max).map_err(|error| Error::BadAdData { field, error })
}

/// `BLE.StartAssociations` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StartAssociationsParams {
    /// Target Bluetooth model id (0 = first supported device in pairing mode).
    pub target: u16,
    /// Target-specific parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<Value>,
    /// Discovery duration in seconds (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// RSSI threshold (default -80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rssi_thr: Option<i32>,
}

/// `BLE.CloudRelay.List` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RelayList {
    /// Internal list revision.
    #[serde(default)]
    pub rev: u64,
    /// Managed device addresses.
    #[serde(default)]
    pub addrs: Vec<String>,
}

/// What the gateway last received from one cloud-managed device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RelayInfo {
    /// Local name (active scans only).
    #[serde(default)]
    pub name: Option<String>,
    /// Model id (0 unless seen in an active scan).
    #[serde(default)]
    pub model: u16,
    /// Service data: UUID (e.g. `fcd2`) → base64.
    #[serde(default)]
    pub sdata: BTreeMap<String, String>,
    /// Manufacturer data: company id in hex (e.g. `0ba9`) → base64.
    #[serde(default)]
    pub mdata: BTreeMap<String, String>,
    /// Unix time of the last advertisement (`None` where a firmware leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<u64>,
}

impl RelayInfo {
    /// The relayed data as an [`Advertisement`] from `addr`. Entries whose key or base64 does not
    /// parse are skipped and counted in the second value.
    pub fn to_advertisement(&self, addr: &str) -> (Advertisement, usize) {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut skipped = 0;
        let mut adv = Advertisement {
            address: addr.parse::<MacAddress>().ok(),
            name: self.name.clone(),
            ..Advertisement::default()
        };
        for (key, b64) in &self.sdata {
            match (key.parse::<Uuid>(), engine.decode(b64)) {
                (Ok(uuid), Ok(bytes)) => {
                    adv.service_data.insert(uuid, bytes);
                }
                _ => skipped += 1,
            }
        }
        for (key, b64) in &self.mdata {
            match (u16::from_str_radix(key, 16), engine.decode(b64)) {
                (Ok(company), Ok(bytes)) => {
                    adv.manufacturer_data.insert(company, bytes);
                }
                _ => skipped += 1,
            }
        }
        (adv, skipped)
    }
}

/// `BLE.CloudRelay.ListInfos` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ListInfosParams {
    /// First item (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

/// `BLE.CloudRelay.ListInfos` result (one page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RelayInfos {
    /// Unix time of the answer.
    #[serde(default)]
    pub ts: f64,
    /// First item of this page.
    #[serde(default)]
    pub offset: u32,
    /// Items in this page.
    #[serde(default)]
    pub count: u32,
    /// Items in all pages.
    #[serde(default)]
    pub total: u32,
    /// One single-key object per device: address → info.
    #[serde(default)]
    pub devices: Vec<BTreeMap<String, RelayInfo>>,
}

method!(
    /// `BLE.GetConfig`.
    GetConfig = "BLE.GetConfig", () => BleConfig
);
method!(
    /// `BLE.SetConfig` (`rpc.enable`).
    SetConfig = "BLE.SetConfig", SetConfigParams => SetConfigResult
);
method!(
    /// `BLE.GetStatus`.
    GetStatus = "BLE.GetStatus", () => BleStatus
);
method!(
    /// `BLE.StartPairing` (firmware 2.0+).
    StartPairing = "BLE.StartPairing", StartPairingParams => StartPairingResult
);
method!(
    /// `BLE.StopPairing`.
    StopPairing = "BLE.StopPairing", () => ()
);
method!(
    /// `BLE.ListPairedDevices`.
    ListPairedDevices = "BLE.ListPairedDevices", () => PairedDevices
);
method!(
    /// `BLE.DeletePairedDevice`.
    DeletePairedDevice = "BLE.DeletePairedDevice", DeletePairedDeviceParams => ()
);
method!(
    /// `BLE.AdvertiseOnce` (about 3 s of one advertisement).
    AdvertiseOnce = "BLE.AdvertiseOnce", AdvertiseOnceParams => ()
);
method!(
    /// `BLE.StartAssociations` (firmware 2.0+).
    StartAssociations = "BLE.StartAssociations", StartAssociationsParams => ()
);
method!(
    /// `BLE.CloudRelay.List`.
    CloudRelayList = "BLE.CloudRelay.List", () => RelayList
);
method!(
    /// `BLE.CloudRelay.ListInfos` (paged: use a [`super::Pager`]).
    CloudRelayListInfos = "BLE.CloudRelay.ListInfos", ListInfosParams => RelayInfos
);

impl Paged for CloudRelayListInfos {
    type Item = (String, RelayInfo);

    fn with_offset(_: &ListInfosParams, offset: u32) -> ListInfosParams {
        ListInfosParams {
            offset: Some(offset),
        }
    }

    fn page(result: RelayInfos) -> Page<(String, RelayInfo)> {
        Page {
            items: result.devices.into_iter().flatten().collect(),
            offset: result.offset,
            total: result.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The BLE component document's example: `adv_data="07095368656c6c79"` (Complete Local Name
    /// "Shelly").
    #[test]
    fn advertise_once_accepts_the_documented_example() {
        let p = AdvertiseOnceParams::new(b"\x07\x09Shelly", None).unwrap();
        assert_eq!(p.adv_data, "07095368656c6c79");
        assert_eq!(p.validate().unwrap().0, b"\x07\x09Shelly");
    }

    #[test]
    fn advertise_once_rejects_flags_length_and_malformed_data() {
        let ad_error = |adv: &[u8], rsp: Option<&[u8]>| match AdvertiseOnceParams::new(adv, rsp) {
            Err(Error::BadAdData { field, error }) => Some((field, error)),
            _ => None,
        };
        let name = [0x03, 0x09, b'h', b'i'];
        assert_eq!(
            ad_error(&[&name[..], &[0x02, 0x01, 0x06]].concat(), None),
            Some(("adv_data", AdDataError::Flags { offset: 4 }))
        );
        let long = [[0x1c, 0xff].as_slice(), &[0u8; 27]].concat(); // 29 bytes
        assert_eq!(
            ad_error(&long, None),
            Some(("adv_data", AdDataError::TooLong { len: 29, max: 28 }))
        );
        assert_eq!(
            ad_error(&[0x05, 0xff, 0x01], None),
            Some((
                "adv_data",
                AdDataError::Malformed(ad::Error::Truncated {
                    offset: 0,
                    length: 5,
                    available: 2
                })
            ))
        );
        // Tx Power with two bytes: a structure of the wrong size for its type.
        assert!(matches!(
            ad_error(&[0x03, 0x0a, 0x01, 0x02], None),
            Some((
                "adv_data",
                AdDataError::Malformed(ad::Error::BadLength { offset: 0, .. })
            ))
        ));
        let rsp = [[0x1e, 0xff].as_slice(), &[0u8; 29]].concat(); // 31 bytes
        assert!(AdvertiseOnceParams::new(b"", Some(&rsp)).is_ok());
        assert_eq!(
            ad_error(b"", Some(&[rsp.as_slice(), &[0]].concat())),
            Some(("scan_rsp", AdDataError::TooLong { len: 32, max: 31 }))
        );
        let odd = AdvertiseOnceParams {
            adv_data: "abc".into(),
            scan_rsp: None,
        };
        assert!(odd.validate().is_err());
    }

    #[test]
    fn a_zero_length_byte_ends_the_data_and_only_zeros_may_follow() {
        let name = [0x03, 0x09, b'h', b'i'];
        assert!(AdvertiseOnceParams::new(&[&name[..], &[0, 0, 0]].concat(), None).is_ok());
        assert!(AdvertiseOnceParams::new(&[0u8; 28], None).is_ok());
        let error = check_ad_data(&[&name[..], &[0, 0, 7]].concat(), MAX_ADV_DATA).unwrap_err();
        assert_eq!(error, AdDataError::Padding { offset: 6 });
        assert_eq!(
            error.to_string(),
            "byte 6 is not zero, but the data ended at a zero length byte before it"
        );
    }

    #[test]
    fn ad_data_errors_say_where() {
        let over = check_ad_data(&[0u8; 29], MAX_ADV_DATA).unwrap_err();
        assert_eq!(over.to_string(), "29 bytes: 1 over the 28-byte budget");
        let flags = check_ad_data(&[0x02, 0x01, 0x06], MAX_ADV_DATA).unwrap_err();
        assert_eq!(
            Error::BadAdData {
                field: "adv_data",
                error: flags
            }
            .to_string(),
            "parameter adv_data: a Flags AD structure at byte 0: the firmware adds its own"
        );
    }

    /// The BLE component document's `BLE.CloudRelay.ListInfos` example; `RAAVAWQ6AQ==` is
    /// `44 00 15 01 64 3a 01` (BTHome: packet 21, battery 100 %, button press).
    #[test]
    fn relay_infos_become_advertisements() {
        let page: RelayInfos = serde_json::from_value(json!({
            "ts": 1732804839, "offset": 0, "count": 1, "total": 1,
            "devices": [{"5c:c7:c1:f0:db:60": {"name": null, "model": 0,
                "sdata": {"fcd2": "RAAVAWQ6AQ=="}, "mdata": {}, "last_seen": 1732804835}}]
        }))
        .unwrap();
        let items = CloudRelayListInfos::page(page).items;
        let (addr, info) = &items[0];
        assert_eq!(addr, "5c:c7:c1:f0:db:60");
        let (adv, skipped) = info.to_advertisement(addr);
        assert_eq!(skipped, 0);
        assert_eq!(adv.address.unwrap().to_string(), "5C:C7:C1:F0:DB:60");
        assert_eq!(
            adv.service_data[&Uuid::BTHOME_V2],
            [0x44, 0x00, 0x15, 0x01, 0x64, 0x3a, 0x01]
        );
    }

    /// An active scan's name and manufacturer data come along; every entry whose key or base64
    /// does not parse is skipped and counted, the rest kept.
    #[test]
    fn relay_infos_keep_name_and_manufacturer_data_and_count_what_is_skipped() {
        let info: RelayInfo = serde_json::from_value(json!({
            "name": "SBBT-002C", "model": 3,
            "sdata": {"fcd2": "RAAVAWQ6AQ==", "not-a-uuid": "AA==", "181c": "%%"},
            "mdata": {"0ba9": "AQID", "zz": "AA==", "0001": "!"}
        }))
        .unwrap();
        let (adv, skipped) = info.to_advertisement("5c:c7:c1:f0:db:60");
        assert_eq!(skipped, 4);
        assert_eq!(adv.name.as_deref(), Some("SBBT-002C"));
        assert_eq!(adv.service_data.len(), 1);
        assert_eq!(adv.manufacturer_data[&0x0ba9], [1, 2, 3]);
        assert_eq!(adv.manufacturer_data.len(), 1);
        assert_eq!(
            Provisioning::Locked.to_string(),
            Provisioning::Locked.name()
        );
    }

    #[test]
    fn rpc_switch_sends_only_rpc_enable() {
        assert_eq!(
            serde_json::to_value(SetConfigParams::rpc(false)).unwrap(),
            json!({"config": {"rpc": {"enable": false}}})
        );
    }

    #[test]
    fn provisioning_reads_known_states_and_ignores_others() {
        let status = |p: Value| {
            serde_json::from_value::<BleStatus>(json!({"addr": "x", "provisioning": p}))
                .unwrap()
                .provisioning
        };
        for p in Provisioning::ALL {
            assert_eq!(status(json!(p.name())), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), json!(p.name()));
        }
        assert_eq!(status(json!("someday")), None);
        assert_eq!(status(json!(3)), None);
        assert_eq!(status(Value::Null), None);
        let required: Vec<_> = Provisioning::ALL
            .into_iter()
            .filter(|p| p.pairing_required())
            .collect();
        assert_eq!(required, [Provisioning::Complete, Provisioning::Locked]);
    }

    #[test]
    fn ble_status_and_paired_devices_match_the_documented_examples() {
        let s: BleStatus = serde_json::from_value(json!({
            "addr": "44:17:93:ce:3f:08,p", "flags": ["scanning", "advertising"]
        }))
        .unwrap();
        assert_eq!(s.flags.unwrap().len(), 2);
        let bond = json!({"addr": "AA:BB:CC:DD:EE:FF", "ctime": 1729259400, "atime": 1729259500});
        let list: PairedDevices = serde_json::from_value(json!([bond])).unwrap();
        assert_eq!(list.0[0].atime, 1_729_259_500);
        assert_eq!(serde_json::to_value(&list).unwrap(), json!([bond]));
        let wrapped: PairedDevices = serde_json::from_value(json!({"devices": [bond]})).unwrap();
        assert_eq!(wrapped, list);
        assert!(serde_json::from_value::<PairedDevices>(json!({"bonds": []})).is_err());
    }
}

//! `BTHome.*`, `BTHomeDevice.*`, `BTHomeSensor.*` (the BTHome component documents,
//! <https://shelly-api-docs.shelly.cloud/gen2/DynamicComponents/BTHome> and its BTHomeDevice and
//! BTHomeSensor pages). Component ids are 200..299.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::shelly::SetConfigResult;
use super::{Page, Paged};
use crate::shelly::models::{self, Model};

/// Lowest dynamic component id.
pub const FIRST_ID: u16 = 200;
/// Highest dynamic component id.
pub const LAST_ID: u16 = 299;

/// A discovery in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// Unix time the scan started.
    pub started_at: u64,
    /// Seconds it runs.
    pub duration: u32,
}

/// `BTHome.GetStatus` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BthomeStatus {
    /// Present while a discovery runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<Discovery>,
    /// `observer_disabled`, `bluetooth_disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

/// `BTHome.SetConfig` parameters (the component has no configuration yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BthomeSetConfigParams {
    /// Empty object.
    #[serde(default)]
    pub config: Map<String, Value>,
}

/// A `BTHomeDevice` config (`BTHome.AddDevice`, `BTHomeDevice.GetConfig`/`SetConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeviceConfig {
    /// Component id (in `GetConfig` answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
    /// Device address, e.g. `3c:2e:f5:71:d5:2a`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// AES key, 32 hex digits, for encrypted devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Free-form UI metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// The `attrs` of a BTHome device component in `Shelly.GetComponents`: fixed facts the gateway
/// keeps of the device. A real BLU Gateway Gen3 (firmware 1.7.5) gives every `bthomedevice`
/// `{"flags": 17, "model_id": 3}`, a Pro 1PM as BTHome gateway `{"flags": 0, "model_id": 1}`
/// (the device dumps in Luligu/matterbridge-shelly `src/mock/`, `shellyblugwg3-34CDB077BCD4.json`
/// and `shellypro1pm-EC62608AB9A4.json`). `model_id` is the BLU model id of Shelly's manufacturer
/// data ([`models::model`]); what the bits of `flags` mean is not documented, so they are
/// kept as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeviceAttrs {
    /// Flags, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u32>,
    /// The BLU model id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<u16>,
}

impl DeviceAttrs {
    /// Reads `attrs` leniently: each member on its own, a member missing or of another shape (or
    /// `attrs` not an object at all) reads as none.
    pub fn read(attrs: &Value) -> Self {
        let number = |member: &str| attrs.get(member).and_then(Value::as_u64);
        Self {
            flags: number("flags").and_then(|n| u32::try_from(n).ok()),
            model_id: number("model_id").and_then(|n| u16::try_from(n).ok()),
        }
    }

    /// The known Shelly BLU model of `model_id`.
    pub fn model(&self) -> Option<&'static Model> {
        self.model_id.and_then(models::model)
    }
}

/// What `BTHome.AddSensor` makes a sensor of: its index member is `obj_idx`, as the BTHome
/// component document's `BTHome.AddSensor` example has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NewSensor {
    /// Device address.
    pub addr: String,
    /// BTHome object id.
    pub obj_id: u8,
    /// Index among objects of that id in one packet (button 1, 2, …).
    pub obj_idx: u8,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-form UI metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// A `BTHomeSensor` component's config as the gateway reports it (`BTHomeSensor.GetConfig`, the
/// `bthomesensor:<id>` entries of `Shelly.GetConfig` and `Shelly.GetComponents`) and takes it
/// (`BTHomeSensor.SetConfig`). The index is `idx` there (a real gateway's
/// `Shelly.GetComponents` in bieniu/ha-shellies-discovery-gen2 issue 698); `obj_idx` is read too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SensorConfig {
    /// Component id (in `GetConfig` answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
    /// Device address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    /// BTHome object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obj_id: Option<u8>,
    /// Index among objects of that id in one packet.
    #[serde(default, alias = "obj_idx", skip_serializing_if = "Option::is_none")]
    pub idx: Option<u8>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free-form UI metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// `BTHome.AddDevice` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddDeviceParams {
    /// The new device's config (`addr` required).
    pub config: DeviceConfig,
    /// Explicit id in 200..299; the first free one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
}

/// `BTHome.AddSensor` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddSensorParams {
    /// The new sensor.
    pub config: NewSensor,
    /// Explicit id in 200..299; the first free one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u16>,
}

/// Which member of an Add answer names the new component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddedMember {
    /// `added`, as real firmware answers (the BTHome document's examples; usnaShellyScanner reads
    /// `added`).
    #[default]
    Added,
    /// `key`, as the document's table names it.
    Key,
}

/// Result of `BTHome.AddDevice` / `AddSensor`: the new component key, `{"added":
/// "bthomedevice:200"}` from real firmware or `{"key": …}` as the document's table says. Both are
/// read, `added` first; the member read is kept, and written back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// `bthomedevice:200`, `bthomesensor:201`, …
    pub key: String,
    /// The member that carries it.
    pub member: AddedMember,
}

impl Serialize for Added {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        let name = match self.member {
            AddedMember::Added => "added",
            AddedMember::Key => "key",
        };
        map.serialize_entry(name, &self.key)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Added {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Either {
            added: Option<String>,
            key: Option<String>,
        }
        let Either { added, key } = Either::deserialize(d)?;
        match (added, key) {
            (Some(key), _) => Ok(Self {
                key,
                member: AddedMember::Added,
            }),
            (None, Some(key)) => Ok(Self {
                key,
                member: AddedMember::Key,
            }),
            (None, None) => Err(serde::de::Error::missing_field("added")),
        }
    }
}

impl Added {
    /// The numeric id after the colon.
    pub fn id(&self) -> Option<u16> {
        self.key.rsplit_once(':')?.1.parse().ok()
    }
}

/// Parameters naming one component: `{"id": 200}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IdParams {
    /// Component id.
    pub id: u16,
}

/// `BTHome.StartDeviceDiscovery` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StartDiscoveryParams {
    /// Seconds to scan (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
}

/// `BTHome.GetObjectInfos` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GetObjectInfosParams {
    /// Object ids to describe.
    pub obj_ids: Vec<u8>,
    /// First item (paging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

/// One object description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// BTHome object id.
    pub obj_id: u8,
    /// Name, e.g. `temperature`.
    #[serde(default)]
    pub obj_name: Option<String>,
    /// `sensor`, `binary_sensor`, `button`, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Unit, e.g. `° C`.
    #[serde(default)]
    pub unit: Option<String>,
}

/// `BTHome.GetObjectInfos` result (one page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ObjectInfos {
    /// Descriptions.
    #[serde(default)]
    pub objects: Vec<ObjectInfo>,
    /// First item of this page.
    #[serde(default)]
    pub offset: u32,
    /// Items in this page.
    #[serde(default)]
    pub count: u32,
    /// Items in all pages.
    #[serde(default)]
    pub total: u32,
}

/// `BTHomeDevice.SetConfig` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeviceSetConfigParams {
    /// Component id.
    pub id: u16,
    /// Members to change.
    pub config: DeviceConfig,
}

/// `BTHomeSensor.SetConfig` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SensorSetConfigParams {
    /// Component id.
    pub id: u16,
    /// Members to change.
    pub config: SensorConfig,
}

/// `BTHomeDevice.GetStatus` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeviceStatus {
    /// Component id.
    #[serde(default)]
    pub id: u16,
    /// Last RSSI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rssi: Option<i32>,
    /// Last battery level, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<u8>,
    /// Last packet id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_id: Option<u32>,
    /// Unix time of the last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_ts: Option<f64>,
    /// Error conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

/// `BTHomeSensor.GetStatus` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SensorStatus {
    /// Component id.
    #[serde(default)]
    pub id: u16,
    /// Last value (number or boolean; `null` before the first reading).
    #[serde(default)]
    pub value: Value,
    /// Unix time of the last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_ts: Option<f64>,
}

/// One object a device has sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownObject {
    /// BTHome object id.
    pub obj_id: u8,
    /// Index among objects of that id.
    #[serde(default, alias = "obj_idx")]
    pub idx: u8,
    /// The sensor component bound to it (`bthomesensor:200`), if any.
    #[serde(default)]
    pub component: Option<String>,
}

/// `BTHomeDevice.GetKnownObjects` result (empty until the device has sent something).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KnownObjects {
    /// Component id.
    pub id: u16,
    /// Objects seen.
    #[serde(default)]
    pub objects: Vec<KnownObject>,
}

method!(
    /// `BTHome.GetConfig` (an empty object for now).
    GetConfig = "BTHome.GetConfig", () => Value
);
method!(
    /// `BTHome.SetConfig`.
    SetConfig = "BTHome.SetConfig", BthomeSetConfigParams => Option<SetConfigResult>
);
method!(
    /// `BTHome.GetStatus`.
    GetStatus = "BTHome.GetStatus", () => BthomeStatus
);
method!(
    /// `BTHome.AddDevice`.
    AddDevice = "BTHome.AddDevice", AddDeviceParams => Added
);
method!(
    /// `BTHome.DeleteDevice`.
    DeleteDevice = "BTHome.DeleteDevice", IdParams => ()
);
method!(
    /// `BTHome.AddSensor`.
    AddSensor = "BTHome.AddSensor", AddSensorParams => Added
);
method!(
    /// `BTHome.DeleteSensor`.
    DeleteSensor = "BTHome.DeleteSensor", IdParams => ()
);
method!(
    /// `BTHome.StartDeviceDiscovery`: results arrive only as `device_discovered` and
    /// `discovery_done` events (keep listening).
    StartDeviceDiscovery = "BTHome.StartDeviceDiscovery", StartDiscoveryParams => ()
);
method!(
    /// `BTHome.GetObjectInfos` (paged: use a [`super::Pager`]).
    GetObjectInfos = "BTHome.GetObjectInfos", GetObjectInfosParams => ObjectInfos
);
method!(
    /// `BTHomeDevice.GetConfig`.
    DeviceGetConfig = "BTHomeDevice.GetConfig", IdParams => DeviceConfig
);
method!(
    /// `BTHomeDevice.SetConfig`.
    DeviceSetConfig = "BTHomeDevice.SetConfig", DeviceSetConfigParams => Option<SetConfigResult>
);
method!(
    /// `BTHomeDevice.GetStatus`.
    DeviceGetStatus = "BTHomeDevice.GetStatus", IdParams => DeviceStatus
);
method!(
    /// `BTHomeDevice.GetKnownObjects`.
    DeviceGetKnownObjects = "BTHomeDevice.GetKnownObjects", IdParams => KnownObjects
);
method!(
    /// `BTHomeSensor.GetConfig`.
    SensorGetConfig = "BTHomeSensor.GetConfig", IdParams => SensorConfig
);
method!(
    /// `BTHomeSensor.SetConfig`.
    SensorSetConfig = "BTHomeSensor.SetConfig", SensorSetConfigParams => Option<SetConfigResult>
);
method!(
    /// `BTHomeSensor.GetStatus`.
    SensorGetStatus = "BTHomeSensor.GetStatus", IdParams => SensorStatus
);

impl Paged for GetObjectInfos {
    type Item = ObjectInfo;

    fn with_offset(params: &GetObjectInfosParams, offset: u32) -> GetObjectInfosParams {
        GetObjectInfosParams {
            obj_ids: params.obj_ids.clone(),
            offset: Some(offset),
        }
    }

    fn page(result: ObjectInfos) -> Page<ObjectInfo> {
        Page {
            items: result.objects,
            offset: result.offset,
            total: result.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `BTHome.AddSensor?config={"addr":"3c:2e:f5:71:d5:2a","obj_id":2,"obj_idx":3}` (document
    /// example); read back, the index is `idx`.
    #[test]
    fn add_sensor_sends_obj_idx_and_reads_idx() {
        let params = AddSensorParams {
            config: NewSensor {
                addr: "3c:2e:f5:71:d5:2a".into(),
                obj_id: 2,
                obj_idx: 3,
                ..NewSensor::default()
            },
            id: None,
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"config": {"addr": "3c:2e:f5:71:d5:2a", "obj_id": 2, "obj_idx": 3}})
        );
        let reported = json!({"id": 200, "addr": "x", "obj_id": 2, "idx": 3});
        let read: SensorConfig = serde_json::from_value(reported.clone()).unwrap();
        assert_eq!(read.idx, Some(3));
        assert_eq!(serde_json::to_value(&read).unwrap(), reported);
        let old: SensorConfig = serde_json::from_value(json!({"obj_idx": 3})).unwrap();
        assert_eq!(old.idx, Some(3));
    }

    /// A device's attrs as a real BLU Gateway Gen3 sends them; any other shape reads as none.
    #[test]
    fn device_attrs_read_leniently() {
        let real = DeviceAttrs::read(&json!({"flags": 17, "model_id": 3}));
        assert_eq!(
            real,
            DeviceAttrs {
                flags: Some(17),
                model_id: Some(3)
            }
        );
        assert_eq!(real.model().map(|m| m.code), Some("SBHT-003C"));
        assert_eq!(
            serde_json::to_value(real).unwrap(),
            json!({"flags": 17, "model_id": 3}),
            "written as read"
        );
        for odd in [
            json!(null),
            json!([17, 3]),
            json!("x"),
            json!({}),
            json!({"flags": -1, "model_id": "3"}),
            json!({"flags": 1.5, "model_id": 70000}),
        ] {
            assert_eq!(DeviceAttrs::read(&odd), DeviceAttrs::default(), "{odd}");
        }
        let unknown = DeviceAttrs::read(&json!({"model_id": 4, "other": true}));
        assert_eq!((unknown.model_id, unknown.flags), (Some(4), None));
        assert!(unknown.model().is_none(), "0x0004 is left out of the table");
    }

    /// The document's table says `key`, its example (and real firmware) `{"added": …}`; `added`
    /// wins when both are there.
    #[test]
    fn added_reads_key_or_added() {
        let a: Added = serde_json::from_value(json!({"added": "bthomedevice:201"})).unwrap();
        assert_eq!(a.id(), Some(201));
        let a: Added = serde_json::from_value(json!({"key": "bthomesensor:200"})).unwrap();
        assert_eq!(a.id(), Some(200));
        let a: Added =
            serde_json::from_value(json!({"key": "bthomedevice:0", "added": "bthomedevice:202"}))
                .unwrap();
        assert_eq!(a.id(), Some(202));
        assert!(serde_json::from_value::<Added>(json!({})).is_err());
        assert!(serde_json::from_value::<Added>(json!({"added": 5})).is_err());
        for answer in [
            json!({"added": "bthomesensor:203"}),
            json!({"key": "bthomesensor:203"}),
        ] {
            let read: Added = serde_json::from_value(answer.clone()).unwrap();
            assert_eq!(
                serde_json::to_value(&read).unwrap(),
                answer,
                "written as read"
            );
        }
    }

    /// The document's `BTHome.GetObjectInfos?obj_ids=[2,3,4]` example.
    #[test]
    fn object_infos_match_the_documented_example() {
        let r: ObjectInfos = serde_json::from_value(json!({
            "objects": [
                {"obj_id": 2, "obj_name": "temperature", "type": "sensor", "unit": "° C"},
                {"obj_id": 3, "obj_name": "humidity", "type": "sensor", "unit": "%"},
                {"obj_id": 4, "obj_name": "pressure", "type": "sensor", "unit": "hPa"}
            ],
            "offset": 0, "count": 3, "total": 3
        }))
        .unwrap();
        assert_eq!(r.objects[2].unit.as_deref(), Some("hPa"));
        assert_eq!(r.objects[0].kind.as_deref(), Some("sensor"));
    }

    #[test]
    fn set_config_accepts_null() {
        let r: Option<SetConfigResult> = serde_json::from_value(Value::Null).unwrap();
        assert_eq!(r, None);
    }
}

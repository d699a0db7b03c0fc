//! JSON-RPC frames as Shelly devices exchange them (the RPC protocol document,
//! <https://shelly-api-docs.shelly.cloud/gen2/General/RPCProtocol>).
//!
//! * request `{"id", "src", "method", "params"?, "auth"?}`;
//! * response `{"id", "src", "dst", "result" | "error": {"code", "message"}}`;
//! * notification: no `id`, `method` is `NotifyStatus`, `NotifyFullStatus` or `NotifyEvent`.
//!
//! [`Frame::parse`] classifies any incoming frame; a `result` of `null` is kept as a result (many
//! methods answer `null` on success).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::shelly::auth::AuthParams;

/// A request id: the protocol allows numbers and strings; bluehome sends numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    /// A numeric id.
    Num(u64),
    /// A string id.
    Str(String),
}

impl From<u64> for Id {
    fn from(n: u64) -> Self {
        Self::Num(n)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// A request frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Matches the response to the request.
    pub id: Id,
    /// The caller's name; the device echoes it as the response's `dst`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// `Component.Method`.
    pub method: String,
    /// Method parameters (an object), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// Digest-auth response, after a 401 challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthParams>,
}

impl Request {
    /// The UTF-8 JSON bytes of this request.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing these plain types to a Vec cannot fail (no maps with non-string keys).
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The `error` member of a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcError {
    /// Error code (see `methods::ErrorCode` for the documented ones).
    pub code: i64,
    /// Human-readable text; for 401 a JSON challenge.
    #[serde(default)]
    pub message: String,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code, self.message)
    }
}

/// A response frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The request's id.
    pub id: Id,
    /// The device's id (e.g. `shellyblugwg3-aabbccddeeff`).
    pub src: Option<String>,
    /// The request's `src`.
    pub dst: Option<String>,
    /// The result (`Value::Null` included) or the error.
    pub outcome: Result<Value, RpcError>,
}

impl Response {
    /// The JSON bytes of this response.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut map = Map::new();
        map.insert("id".into(), id_value(&self.id));
        if let Some(src) = &self.src {
            map.insert("src".into(), Value::String(src.clone()));
        }
        if let Some(dst) = &self.dst {
            map.insert("dst".into(), Value::String(dst.clone()));
        }
        match &self.outcome {
            Ok(result) => {
                map.insert("result".into(), result.clone());
            }
            Err(error) => {
                let mut e = Map::new();
                e.insert("code".into(), Value::from(error.code));
                e.insert("message".into(), Value::String(error.message.clone()));
                map.insert("error".into(), Value::Object(e));
            }
        }
        serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
    }
}

/// A frame without an id: a status change or an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The device's id.
    pub src: Option<String>,
    /// The addressee, when given.
    pub dst: Option<String>,
    /// `NotifyStatus`, `NotifyFullStatus`, `NotifyEvent` or another name.
    pub method: String,
    /// The parameters (for `NotifyEvent`: `{"ts", "events": [...]}`).
    pub params: Value,
}

impl Notification {
    /// Status changes (`{"ble": {...}}` and similar).
    pub const STATUS: &'static str = "NotifyStatus";
    /// The whole status.
    pub const FULL_STATUS: &'static str = "NotifyFullStatus";
    /// Events (`params.events[]`).
    pub const EVENT: &'static str = "NotifyEvent";

    /// The JSON bytes of this notification.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut map = Map::new();
        if let Some(src) = &self.src {
            map.insert("src".into(), Value::String(src.clone()));
        }
        if let Some(dst) = &self.dst {
            map.insert("dst".into(), Value::String(dst.clone()));
        }
        map.insert("method".into(), Value::String(self.method.clone()));
        map.insert("params".into(), self.params.clone());
        serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
    }

    /// The `events` array of a `NotifyEvent` (empty for other notifications).
    pub fn events(&self) -> &[Value] {
        if self.method != Self::EVENT {
            return &[];
        }
        match self.params.get("events") {
            Some(Value::Array(events)) => events,
            _ => &[],
        }
    }
}

/// Any frame, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// Has `id` and `method`.
    Request(Request),
    /// Has `id` and `result` or `error`.
    Response(Response),
    /// Has `method` and no `id`.
    Notification(Notification),
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Not UTF-8 JSON; `line` and `column` as serde_json counts them (1-based).
    InvalidJson {
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
    },
    /// Valid JSON but not an object.
    NotAnObject,
    /// A member has the wrong type.
    BadField {
        /// Member name.
        field: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
    /// An object with an id but neither `method`, `result` nor `error`; or without id and method.
    Unclassifiable,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson { line, column } => {
                write!(f, "frame is not valid JSON (line {line}, column {column})")
            }
            Self::NotAnObject => f.write_str("frame is JSON but not an object"),
            Self::BadField { field, expected } => {
                write!(f, "frame member {field:?} is not {expected}")
            }
            Self::Unclassifiable => f.write_str(
                "frame is neither a request (id + method), a response (id + result/error) nor a notification (method, no id)",
            ),
        }
    }
}

impl core::error::Error for Error {}

fn id_value(id: &Id) -> Value {
    match id {
        Id::Num(n) => Value::from(*n),
        Id::Str(s) => Value::String(s.clone()),
    }
}

fn opt_string(map: &Map<String, Value>, field: &'static str) -> Result<Option<String>, Error> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::BadField {
            field,
            expected: "a string",
        }),
    }
}

/// True when `bytes` is one complete JSON value (used for the garbage-length quirk).
pub fn is_complete_json(bytes: &[u8]) -> bool {
    text(bytes).is_ok_and(|t| serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok())
}

/// `bytes` as the text JSON is (UTF-8, RFC 8259 §8.1). Frames are read from text, as every other
/// JSON document is, so that one serde_json reader serves them all.
fn text(bytes: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(bytes).map_err(|e| {
        let before = bytes.get(..e.valid_up_to()).unwrap_or_default();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        Error::InvalidJson {
            line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
            column: 1 + before.len() - line_start,
        }
    })
}

impl Frame {
    /// Parses and classifies one frame.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text(bytes)?).map_err(|e| Error::InvalidJson {
            line: e.line(),
            column: e.column(),
        })?;
        let Value::Object(mut map) = value else {
            return Err(Error::NotAnObject);
        };
        let id = match map.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(Id::Num(n.as_u64().ok_or(Error::BadField {
                field: "id",
                expected: "a non-negative integer or a string",
            })?)),
            Some(Value::String(s)) => Some(Id::Str(s.clone())),
            Some(_) => {
                return Err(Error::BadField {
                    field: "id",
                    expected: "a non-negative integer or a string",
                });
            }
        };
        let src = opt_string(&map, "src")?;
        let dst = opt_string(&map, "dst")?;
        let method = opt_string(&map, "method")?;
        match (id, method) {
            (Some(id), Some(method)) => {
                let auth = match map.remove("auth") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(serde_json::from_value(v).map_err(|_| Error::BadField {
                        field: "auth",
                        expected: "a digest-auth object",
                    })?),
                };
                let params = match map.remove("params") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v),
                };
                Ok(Self::Request(Request {
                    id,
                    src,
                    method,
                    params,
                    auth,
                }))
            }
            (Some(id), None) => {
                let outcome = if let Some(error) = map.remove("error") {
                    Err(parse_error(error)?)
                } else if let Some(result) = map.remove("result") {
                    Ok(result)
                } else {
                    return Err(Error::Unclassifiable);
                };
                Ok(Self::Response(Response {
                    id,
                    src,
                    dst,
                    outcome,
                }))
            }
            (None, Some(method)) => Ok(Self::Notification(Notification {
                src,
                dst,
                method,
                params: map.remove("params").unwrap_or(Value::Null),
            })),
            (None, None) => Err(Error::Unclassifiable),
        }
    }
}

fn parse_error(value: Value) -> Result<RpcError, Error> {
    const BAD: Error = Error::BadField {
        field: "error",
        expected: "an object with an integer code",
    };
    let Value::Object(map) = value else {
        return Err(BAD);
    };
    let code = map.get("code").and_then(Value::as_i64).ok_or(BAD)?;
    let message = match map.get("message") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    };
    Ok(RpcError { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The RPCProtocol documentation's request example.
    #[test]
    fn parses_the_documented_request() {
        let bytes = br#"{"jsonrpc":"2.0","id":1,"src":"user_1","method":"Switch.GetConfig","params":{"id":2}}"#;
        let Frame::Request(req) = Frame::parse(bytes).unwrap() else {
            panic!("not a request")
        };
        assert_eq!(req.id, Id::Num(1));
        assert_eq!(req.src.as_deref(), Some("user_1"));
        assert_eq!(req.method, "Switch.GetConfig");
        assert_eq!(req.params, Some(json!({"id": 2})));
    }

    #[test]
    fn null_result_is_a_result() {
        let Frame::Response(resp) =
            Frame::parse(br#"{"id":7,"src":"dev","dst":"me","result":null}"#).unwrap()
        else {
            panic!("not a response")
        };
        assert_eq!(resp.outcome, Ok(Value::Null));
        assert_eq!(resp.dst.as_deref(), Some("me"));
    }

    /// The CommonErrors documentation's shape: `{"code":-105,"message":"Bad id=7"}`.
    #[test]
    fn error_responses_keep_code_and_message() {
        let Frame::Response(resp) =
            Frame::parse(br#"{"id":"a","error":{"code":-105,"message":"Bad id=7"}}"#).unwrap()
        else {
            panic!("not a response")
        };
        assert_eq!(resp.id, Id::Str("a".into()));
        assert_eq!(
            resp.outcome,
            Err(RpcError {
                code: -105,
                message: "Bad id=7".into()
            })
        );
        // As logs and messages show them: a string id quoted, unlike a number.
        assert_eq!(resp.id.to_string(), r#""a""#);
        assert_eq!(Id::Num(7).to_string(), "7");
        assert_eq!(
            resp.outcome.unwrap_err().to_string(),
            "error -105: Bad id=7"
        );
    }

    /// A `device_discovered` event as in the BTHome component document.
    #[test]
    fn frames_without_id_are_notifications() {
        let bytes = br#"{"src":"shellyblugwg3-1","method":"NotifyEvent","params":{"ts":1706593991.91,"events":[{"component":"bthome","event":"discovery_done","device_count":1}]}}"#;
        let Frame::Notification(n) = Frame::parse(bytes).unwrap() else {
            panic!("not a notification")
        };
        assert_eq!(n.events().len(), 1);
        assert_eq!(n.events()[0]["event"], "discovery_done");
    }

    #[test]
    fn rejects_what_is_not_a_frame() {
        assert_eq!(Frame::parse(b"[1]"), Err(Error::NotAnObject));
        assert_eq!(Frame::parse(br#"{"id":1}"#), Err(Error::Unclassifiable));
        assert_eq!(Frame::parse(br#"{"x":1}"#), Err(Error::Unclassifiable));
        assert!(matches!(
            Frame::parse(br#"{"id":-1,"result":1}"#),
            Err(Error::BadField { field: "id", .. })
        ));
        assert!(matches!(
            Frame::parse(br#"{"id":1,"error":"boom"}"#),
            Err(Error::BadField { field: "error", .. })
        ));
        // The words a failed call shows.
        let words = |bytes: &[u8]| Frame::parse(bytes).unwrap_err().to_string();
        assert_eq!(
            words(br#"{"id":1,"error":"boom"}"#),
            r#"frame member "error" is not an object with an integer code"#
        );
        assert_eq!(words(b"[1]"), "frame is JSON but not an object");
        assert_eq!(
            words(b"{\"id\":1,"),
            "frame is not valid JSON (line 1, column 8)"
        );
        assert!(matches!(
            Frame::parse(b"{\"id\":1,"),
            Err(Error::InvalidJson { line: 1, .. })
        ));
        assert_eq!(
            Frame::parse(&[0xff, 0xfe]),
            Err(Error::InvalidJson { line: 1, column: 1 })
        );
        assert_eq!(
            Frame::parse(b"{\"id\":1,\n \"result\":\"\xc3\"}"),
            Err(Error::InvalidJson {
                line: 2,
                column: 12
            }),
            "the first byte that is not UTF-8"
        );
    }

    #[test]
    fn response_and_notification_round_trip_through_bytes() {
        let resp = Response {
            id: Id::Num(3),
            src: Some("dev".into()),
            dst: Some("me".into()),
            outcome: Err(RpcError {
                code: 401,
                message: "{}".into(),
            }),
        };
        assert_eq!(
            Frame::parse(&resp.to_bytes()),
            Ok(Frame::Response(resp.clone()))
        );
        let n = Notification {
            src: Some("dev".into()),
            dst: None,
            method: Notification::STATUS.into(),
            params: json!({"ble": {"pairing": null}}),
        };
        assert_eq!(Frame::parse(&n.to_bytes()), Ok(Frame::Notification(n)));
        let req = Request {
            id: Id::Num(9),
            src: Some("me".into()),
            method: "Shelly.Reboot".into(),
            params: None,
            auth: None,
        };
        assert_eq!(
            req.to_bytes(),
            br#"{"id":9,"src":"me","method":"Shelly.Reboot"}"#
        );
        assert_eq!(Frame::parse(&req.to_bytes()), Ok(Frame::Request(req)));
    }

    #[test]
    fn complete_json_check_rejects_truncation() {
        assert!(is_complete_json(br#"{"id":1,"result":{}}"#));
        assert!(!is_complete_json(br#"{"id":1,"result":{"#));
        assert!(!is_complete_json(br#"{"id":1} trailing"#));
    }
}

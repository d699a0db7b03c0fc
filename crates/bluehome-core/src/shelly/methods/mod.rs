//! Typed Shelly RPC methods (the Shelly API documents, <https://shelly-api-docs.shelly.cloud/gen2/>:
//! common errors, the Shelly, Sys, WiFi, BLE and BTHome components).
//!
//! Each method is a unit struct implementing [`Method`] with its parameter and result types. Start a
//! call with [`Client::call_method`], drive it like any [`Call`], end it with
//! [`Client::finish_method`]. Paged methods also implement [`Paged`]; a [`Pager`] fetches every
//! page. Result types are lenient: unknown members are ignored and most members are optional,
//! because firmware versions differ.

/// Declares a method: a unit struct with its name, parameter and result types.
macro_rules! method {
    ($(#[$doc:meta])* $name:ident = $rpc:literal, $params:ty => $result:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl $crate::shelly::methods::Method for $name {
            const NAME: &'static str = $rpc;
            type Params = $params;
            type Result = $result;
        }
    };
}

pub mod ble;
pub mod bthome;
pub mod events;
pub mod shelly;
pub mod wifi;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::frame::Response;
use super::rpc::client::{self, Call, Client};

/// A Shelly RPC method, as both ends see it: a client sends its parameters and reads its result,
/// the simulator reads the parameters and sends the result.
pub trait Method {
    /// `Component.Method`.
    const NAME: &'static str;
    /// Parameters; `()` for none (no `params` member is sent).
    type Params: Serialize + DeserializeOwned;
    /// The result; `()` for methods answering `null`.
    type Result: Serialize + DeserializeOwned;
}

/// Error codes (<https://shelly-api-docs.shelly.cloud/gen2/General/CommonErrors>; the HTTP-like
/// codes from mongoose-os-libs/rpc-common `src/mg_rpc.c`). Codes not listed are kept in
/// [`ErrorCode::Other`]. Exhaustive on purpose: a code added here must be explained wherever codes
/// are turned into advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// -103: invalid argument (e.g. "Missing required 'id'").
    InvalidArgument,
    /// -104: deadline exceeded.
    DeadlineExceeded,
    /// -105: not found (e.g. "Bad id=7").
    NotFound,
    /// -106: already exists (inferred from the gRPC pattern).
    AlreadyExists,
    /// -108: resource exhausted (a 21st bond, schedule, …).
    ResourceExhausted,
    /// -109: failed precondition (inferred from the gRPC pattern).
    FailedPrecondition,
    /// -114: unavailable (inferred from the gRPC pattern).
    Unavailable,
    /// 400: bad request (malformed `auth`, bad parameters).
    BadRequest,
    /// 401: authentication required; the message is the digest challenge.
    AuthRequired,
    /// 403: denied by the access-control list.
    Forbidden,
    /// 404: no handler for the method.
    NoHandler,
    /// 418: locked out, a reboot is imminent.
    LockedOut,
    /// 429: "Too many failed authentication attempts". Firmware 2.0 counts failed sign-ins and,
    /// while it throttles them or has no free nonce slot, refuses every authenticated request
    /// and every request for a new nonce this way (home-assistant/core#177257, #178327).
    TooManyAuthFailures,
    /// 500: internal error.
    Internal,
    /// Any other code.
    Other(i64),
}

impl ErrorCode {
    /// The numeric code.
    pub const fn code(self) -> i64 {
        match self {
            Self::InvalidArgument => -103,
            Self::DeadlineExceeded => -104,
            Self::NotFound => -105,
            Self::AlreadyExists => -106,
            Self::ResourceExhausted => -108,
            Self::FailedPrecondition => -109,
            Self::Unavailable => -114,
            Self::BadRequest => 400,
            Self::AuthRequired => 401,
            Self::Forbidden => 403,
            Self::NoHandler => 404,
            Self::LockedOut => 418,
            Self::TooManyAuthFailures => 429,
            Self::Internal => 500,
            Self::Other(code) => code,
        }
    }

    /// What the code means.
    pub const fn meaning(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid argument",
            Self::DeadlineExceeded => "deadline exceeded",
            Self::NotFound => "not found",
            Self::AlreadyExists => "already exists",
            Self::ResourceExhausted => "resource exhausted",
            Self::FailedPrecondition => "failed precondition",
            Self::Unavailable => "unavailable",
            Self::BadRequest => "bad request",
            Self::AuthRequired => "authentication required",
            Self::Forbidden => "forbidden",
            Self::NoHandler => "no such method",
            Self::LockedOut => "locked out (reboot imminent)",
            Self::TooManyAuthFailures => "too many failed sign-ins",
            Self::Internal => "internal error",
            Self::Other(_) => "unknown error code",
        }
    }
}

impl From<i64> for ErrorCode {
    fn from(code: i64) -> Self {
        [
            Self::InvalidArgument,
            Self::DeadlineExceeded,
            Self::NotFound,
            Self::AlreadyExists,
            Self::ResourceExhausted,
            Self::FailedPrecondition,
            Self::Unavailable,
            Self::BadRequest,
            Self::AuthRequired,
            Self::Forbidden,
            Self::NoHandler,
            Self::LockedOut,
            Self::TooManyAuthFailures,
            Self::Internal,
        ]
        .into_iter()
        .find(|c| c.code() == code)
        .unwrap_or(Self::Other(code))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

/// Why a typed call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed.
    Transport(client::Error),
    /// The device answered with an error.
    Rpc {
        /// The method called.
        method: &'static str,
        /// The code.
        code: ErrorCode,
        /// The device's message.
        message: String,
    },
    /// The result did not have the documented shape.
    BadResult {
        /// The method called.
        method: &'static str,
        /// serde's description.
        reason: String,
    },
    /// Parameters rejected before sending (see the method's docs).
    BadParams {
        /// The offending parameter.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// AD bytes that cannot go out with `BLE.AdvertiseOnce`.
    BadAdData {
        /// The member: `adv_data` or `scan_rsp`.
        field: &'static str,
        /// What is wrong, and where.
        error: ble::AdDataError,
    },
    /// A paged method's pages did not add up.
    Paging {
        /// The method called.
        method: &'static str,
        /// What went wrong.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "{e}"),
            Self::Rpc {
                method,
                code,
                message,
            } => write!(f, "{method} failed: {code}: {message}"),
            Self::BadResult { method, reason } => {
                write!(f, "{method} returned an unexpected result: {reason}")
            }
            Self::BadParams { field, reason } => write!(f, "parameter {field}: {reason}"),
            Self::BadAdData { field, error } => write!(f, "parameter {field}: {error}"),
            Self::Paging { method, reason } => write!(f, "{method} paging: {reason}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<client::Error> for Error {
    fn from(e: client::Error) -> Self {
        Self::Transport(e)
    }
}

/// Serializes parameters; `null` (from `()`) means no `params` member.
pub fn params_value<P: Serialize>(params: &P) -> Option<Value> {
    match serde_json::to_value(params) {
        Ok(Value::Null) | Err(_) => None,
        Ok(v) => Some(v),
    }
}

/// Decodes a response as `M`'s result.
pub fn decode<M: Method>(response: Response) -> Result<M::Result, Error> {
    match response.outcome {
        Ok(value) => serde_json::from_value(value).map_err(|e| Error::BadResult {
            method: M::NAME,
            reason: e.to_string(),
        }),
        Err(e) => Err(Error::Rpc {
            method: M::NAME,
            code: ErrorCode::from(e.code),
            message: e.message,
        }),
    }
}

impl Client {
    /// Starts a typed call (see [`Client::call`]).
    pub fn call_method<M: Method>(&mut self, params: &M::Params, cnonce: u32, now_ms: u64) -> Call {
        self.call(M::NAME, params_value(params), cnonce, now_ms)
    }

    /// Ends a typed call.
    pub fn finish_method<M: Method>(&mut self, call: Call) -> Result<M::Result, Error> {
        decode::<M>(self.finish(call)?)
    }
}

/// One page of a paged method.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Index of the first item.
    pub offset: u32,
    /// Total number of items.
    pub total: u32,
}

/// A method answering in pages selected by an `offset` parameter.
pub trait Paged: Method {
    /// One item.
    type Item;
    /// `params` with `offset` set.
    fn with_offset(params: &Self::Params, offset: u32) -> Self::Params;
    /// Splits a result into its page.
    fn page(result: Self::Result) -> Page<Self::Item>;
}

/// Fetches every page of a paged method: ask [`Pager::next_params`] for the parameters of the next
/// call, feed its result to [`Pager::add`], until `next_params` returns `None`.
#[derive(Debug, Clone)]
pub struct Pager<M: Paged> {
    params: M::Params,
    items: Vec<M::Item>,
    next: Option<u32>,
    pages: u32,
    max_pages: u32,
    _method: PhantomData<M>,
}

impl<M: Paged> Pager<M> {
    /// A pager starting at offset 0, giving up after `max_pages` pages.
    pub fn new(params: M::Params, max_pages: u32) -> Self {
        Self {
            params,
            items: Vec::new(),
            next: Some(0),
            pages: 0,
            max_pages,
            _method: PhantomData,
        }
    }

    /// Parameters for the next page, or `None` when every page is in.
    pub fn next_params(&self) -> Option<M::Params> {
        self.next.map(|offset| M::with_offset(&self.params, offset))
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Adds the result of the call made with [`Pager::next_params`].
    pub fn add(&mut self, result: M::Result) -> Result<(), Error> {
        let fail = |reason| Error::Paging {
            method: M::NAME,
            reason,
        };
        let Some(expected) = self.next else {
            return Err(fail("a page arrived after the last one"));
        };
        let page = M::page(result);
        if page.offset != expected {
            self.next = None;
            return Err(fail("page offset differs from the requested one"));
        }
        self.pages = self.pages.saturating_add(1);
        let count = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
        let end = page.offset.saturating_add(count);
        self.items.extend(page.items);
        self.next = if end >= page.total {
            None
        } else if count == 0 {
            self.next = None;
            return Err(fail("an empty page before the end"));
        } else if self.pages >= self.max_pages {
            self.next = None;
            return Err(fail("too many pages"));
        } else {
            Some(end)
        };
        Ok(())
    }

    /// True when every page is in.
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// The items collected.
    pub fn into_items(self) -> Vec<M::Item> {
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shelly::frame::{Id, RpcError};
    use serde_json::json;

    /// Every code as the Shelly API's common errors list it, and unknown ones kept.
    #[test]
    fn error_codes_are_the_documented_numbers() {
        for (number, code) in [
            (-103, ErrorCode::InvalidArgument),
            (-104, ErrorCode::DeadlineExceeded),
            (-105, ErrorCode::NotFound),
            (-106, ErrorCode::AlreadyExists),
            (-108, ErrorCode::ResourceExhausted),
            (-109, ErrorCode::FailedPrecondition),
            (-114, ErrorCode::Unavailable),
            (400, ErrorCode::BadRequest),
            (401, ErrorCode::AuthRequired),
            (403, ErrorCode::Forbidden),
            (404, ErrorCode::NoHandler),
            (418, ErrorCode::LockedOut),
            (429, ErrorCode::TooManyAuthFailures),
            (500, ErrorCode::Internal),
        ] {
            assert_eq!((ErrorCode::from(number), code.code()), (code, number));
        }
        assert_eq!(ErrorCode::from(-999), ErrorCode::Other(-999));
        assert_eq!(ErrorCode::from(-999).code(), -999);
        assert_eq!(ErrorCode::NotFound.to_string(), "-105 (not found)");
        assert_eq!(ErrorCode::Other(7).to_string(), "7 (unknown error code)");
    }

    #[test]
    fn decode_maps_errors_and_bad_shapes() {
        let resp = |outcome| Response {
            id: Id::Num(1),
            src: None,
            dst: None,
            outcome,
        };
        let err = decode::<shelly::GetDeviceInfo>(resp(Err(RpcError {
            code: -105,
            message: "Bad id=7".into(),
        })))
        .unwrap_err();
        assert_eq!(
            err,
            Error::Rpc {
                method: "Shelly.GetDeviceInfo",
                code: ErrorCode::NotFound,
                message: "Bad id=7".into()
            }
        );
        let err = decode::<shelly::GetDeviceInfo>(resp(Ok(json!([1])))).unwrap_err();
        assert!(matches!(err, Error::BadResult { .. }));
        assert_eq!(decode::<ble::StopPairing>(resp(Ok(Value::Null))), Ok(()));
    }

    #[test]
    fn unit_params_send_no_params_member() {
        assert_eq!(params_value(&()), None);
        assert_eq!(
            params_value(&ble::DeletePairedDeviceParams {
                addr: "AA:BB:CC:DD:EE:FF".into()
            }),
            Some(json!({"addr": "AA:BB:CC:DD:EE:FF"}))
        );
    }

    fn object_page(offset: u32, n: u32, total: u32) -> bthome::ObjectInfos {
        bthome::ObjectInfos {
            objects: (offset..offset + n)
                .map(|i| bthome::ObjectInfo {
                    obj_id: i as u8,
                    obj_name: None,
                    kind: None,
                    unit: None,
                })
                .collect(),
            offset,
            count: n,
            total,
        }
    }

    #[test]
    fn pager_walks_every_page() {
        let mut pager = Pager::<bthome::GetObjectInfos>::new(
            bthome::GetObjectInfosParams {
                obj_ids: (0..7).collect(),
                offset: None,
            },
            10,
        );
        assert_eq!(pager.next_params().unwrap().offset, Some(0));
        pager.add(object_page(0, 3, 7)).unwrap();
        assert!(!pager.is_done());
        assert_eq!(pager.next_params().unwrap().offset, Some(3));
        pager.add(object_page(3, 3, 7)).unwrap();
        pager.add(object_page(6, 1, 7)).unwrap();
        assert!(pager.is_done() && pager.next_params().is_none());
        assert_eq!(pager.pages(), 3);
        let ids: Vec<u8> = pager.into_items().iter().map(|o| o.obj_id).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    /// A page that does not add up ends the walk: a caller that goes on after the error asks
    /// for nothing more (one asking again would loop).
    fn pager_refuses_pages_that_do_not_add_up() {
        let params = bthome::GetObjectInfosParams {
            obj_ids: alloc::vec![1],
            offset: None,
        };
        let mut pager = Pager::<bthome::GetObjectInfos>::new(params.clone(), 10);
        assert!(matches!(
            pager.add(object_page(5, 1, 9)),
            Err(Error::Paging { .. })
        ));
        assert!(pager.next_params().is_none(), "done after an error");
        let mut pager = Pager::<bthome::GetObjectInfos>::new(params.clone(), 10);
        assert!(pager.add(object_page(0, 0, 9)).is_err());
        assert!(pager.next_params().is_none(), "done after an empty page");
        let mut pager = Pager::<bthome::GetObjectInfos>::new(params, 2);
        pager.add(object_page(0, 1, 9)).unwrap();
        assert!(pager.add(object_page(1, 1, 9)).is_err());
        assert!(pager.next_params().is_none(), "done after too many pages");
    }
}

//! What a profile command or a stored or imported profiles document can get wrong.

use alloc::string::String;
use core::fmt;

use super::{MAX_SLOT_COUNT, SCHEMA};
use crate::advertisement::MacAddress;

/// What went wrong with a profile command or a stored/imported document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A slot index past the end (ZMK's `-ERANGE`).
    OutOfRange {
        /// The index asked for.
        index: usize,
        /// How many slots there are.
        count: usize,
    },
    /// The slot has no device bound (ZMK's `-ENODEV` for an open profile).
    SlotOpen {
        /// The slot.
        index: usize,
    },
    /// The slot's device is not connected, so there is nothing to disconnect (`-ENODEV`).
    NotConnected {
        /// The slot.
        index: usize,
    },
    /// The active slot already holds another device; select an open slot or clear this one.
    SlotTaken {
        /// The active slot.
        index: usize,
        /// The device bound there.
        bound: MacAddress,
    },
    /// The device is already bound in another slot.
    AlreadyBound {
        /// The device.
        mac: MacAddress,
        /// The slot that holds it.
        index: usize,
    },
    /// A slot count of 0 or above [`MAX_SLOT_COUNT`].
    BadSlotCount {
        /// The count asked for.
        requested: usize,
    },
    /// The document is not valid JSON or does not have the profile document's shape.
    Corrupt {
        /// serde_json's description, with line and column.
        detail: String,
    },
    /// The document's `schema` field is not [`SCHEMA`].
    WrongSchema {
        /// The schema name found (empty if missing).
        found: String,
    },
    /// The document was written by a newer version of the app.
    NewerVersion {
        /// The version in the document.
        found: u32,
        /// The newest version this code reads.
        supported: u32,
    },
    /// One slot record is invalid.
    BadSlot {
        /// The slot index in the document.
        index: usize,
        /// The field that was wrong.
        field: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange { index, count } => {
                write!(
                    f,
                    "profile {index} does not exist (there are {count}: 0 to {})",
                    count.saturating_sub(1)
                )
            }
            Self::SlotOpen { index } => write!(f, "profile {index} has no device"),
            Self::NotConnected { index } => {
                write!(f, "the device of profile {index} is not connected")
            }
            Self::SlotTaken { index, bound } => write!(
                f,
                "profile {index} already holds {bound}; select an empty profile or clear this one first"
            ),
            Self::AlreadyBound { mac, index } => {
                write!(
                    f,
                    "{mac} is already saved in profile {index}; select that profile instead"
                )
            }
            Self::BadSlotCount { requested } => {
                write!(
                    f,
                    "{requested} profiles requested; between 1 and {MAX_SLOT_COUNT} are allowed"
                )
            }
            Self::Corrupt { detail } => write!(f, "the saved profiles are unreadable: {detail}"),
            Self::WrongSchema { found } => {
                write!(
                    f,
                    "this is not a bluehome profiles file (schema \"{found}\", expected \"{SCHEMA}\")"
                )
            }
            Self::NewerVersion { found, supported } => write!(
                f,
                "the profiles were saved by a newer bluehome (format version {found}; this one reads up to {supported})"
            ),
            Self::BadSlot { index, field } => {
                write!(f, "saved profile {index} has an invalid {field}")
            }
        }
    }
}

impl core::error::Error for Error {}

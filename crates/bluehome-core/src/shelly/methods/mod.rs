//! Typed Shelly RPC methods.

//! A scan answered one network per result (improv-wifi.com/serial, "Request scanned Wi-Fi
//! networks"; Tasmota's Berry example answers so over BLE): the networks are collected until an
//! empty result ends the list, or until nothing more came for a while.

use alloc::vec::Vec;

use super::{Pending, Response};
use crate::improv::Command;
use crate::improv::rpc::{self, Network, RpcResult};

/// The networks of a scan answered one per result (improv-wifi.com/serial, "Request scanned
/// Wi-Fi networks": "at least one RPC Response", the last with no strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listing {
    pub(super) networks: Vec<Network>,
    /// When the last network arrived.
    pub(super) at: u64,
    /// The empty result that ends the list came, or a result that broke it.
    pub(super) end: Option<Result<(), rpc::Error>>,
}

/// Takes a scan's result (new bytes, or a notification): a result naming one network may be the
/// first of several, one per network, that an empty result ends, as Improv serial answers the
/// scan (improv-wifi.com/serial) and Tasmota's Berry example answers it over BLE
/// (`Staars/berry-examples`, `ble/improv.be`, `sendAPInfo`). The BLE specification asks for one
/// result with every network (improv-wifi.com/ble, "Request scanned Wi-Fi networks"): a result
/// with several networks or none, arriving first, is left to [`answer`] as before.
pub(super) fn take_scan_result(p: &mut Pending, bytes: &[u8], now_ms: u64) {
    p.taken = bytes.to_vec();
    // A network whose result was cut and replaced by this one came before it in the list.
    let cut = p.cut.take();
    let networks = RpcResult::parse(bytes).and_then(|r| {
        if r.command == Command::ScanWifi {
            Network::list_from_result(&r).map(Some)
        } else {
            Ok(None)
        }
    });
    match (&mut p.listing, networks) {
        (None, Ok(Some(networks))) if networks.len() == 1 => {
            p.listing = Some(Listing {
                networks: cut.into_iter().chain(networks).collect(),
                at: now_ms,
                end: None,
            });
        }
        // The empty end right after a cut result: that result was a list of one network.
        (None, Ok(Some(networks))) if networks.is_empty() && cut.is_some() => {
            p.listing = Some(Listing {
                networks: cut.into_iter().collect(),
                at: now_ms,
                end: Some(Ok(())),
            });
        }
        (Some(listing), _) if listing.end.is_some() => {}
        (Some(listing), Ok(Some(networks))) if networks.is_empty() => {
            listing.networks.extend(cut);
            listing.end = Some(Ok(()));
        }
        (Some(listing), Ok(Some(networks))) => {
            listing.networks.extend(cut.into_iter().chain(networks));
            listing.at = now_ms;
        }
        (Some(listing), Err(e)) => listing.end = Some(Err(e)),
        // The whole list in one result, a result for another command, or no result at all.
        (_, Ok(_) | Err(_)) => {}
    }
}

/// The networks listed, one per SSID.
pub(super) fn listed(listing: &Listing) -> Response {
    Response::Networks(Network::strongest_per_ssid(listing.networks.clone()))
}

//! Improv RPC frames: any bytes as a command (the device side) or a result (the client side) never
//! panic; errors point inside the bytes; what parses re-encodes to a frame that parses the same
//! (a result to the very same bytes); the typed results (device info, networks, redirect URL)
//! never panic either.
#![no_main]

use bluehome_core::improv::ServiceData;
use bluehome_core::improv::rpc::{DeviceInfo, Network, RedirectUrl, Request, RpcResult};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Request::parse(data) {
        // Data after a command that takes none is ignored, as ESPHome does: compare meanings.
        Ok(request) => assert_eq!(Request::parse(&request.encode()), Ok(request)),
        Err(e) => assert!(e.offset() <= data.len(), "{e}"),
    }
    match RpcResult::parse(data) {
        Ok(result) => {
            assert_eq!(result.encode().as_deref(), Ok(data));
            let _ = DeviceInfo::from_result(&result);
            if let Err(e) = Network::list_from_result(&result) {
                assert!(e.offset() <= data.len(), "{e}");
            }
            if let Err(e) = RedirectUrl::from_result(&result) {
                assert!(e.offset() <= data.len(), "{e}");
            }
        }
        Err(e) => assert!(e.offset() <= data.len(), "{e}"),
    }
    if let Ok(url) = RedirectUrl::new(data) {
        let lower = url.as_str().to_ascii_lowercase();
        assert!(lower.starts_with("http://") || lower.starts_with("https://"));
        assert!(!url.as_str().chars().any(|c| c.is_whitespace() || c.is_control()));
    }
    let _ = ServiceData::parse(data);
});

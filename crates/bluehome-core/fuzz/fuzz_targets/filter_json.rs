//! Shelly scan filters and scan options from arbitrary JSON text: parsing never panics; what
//! parses survives a round trip through its JSON form, and its Web Bluetooth translations widen,
//! never narrow (an advertisement the set accepts, some translated filter accepts too).
#![no_main]

use bluehome_core::filter::{FilterSet, ScanFilter, ScanOptions, web};
use bluehome_core::{Advertisement, Uuid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = FilterSet::from_json(text) {
        for filter in &set.filters {
            let again = ScanFilter::from_value(&filter.to_value(), "").expect("own output parses");
            assert_eq!(&again, filter);
        }
        let chooser = web::translate(&set);
        let scan = web::translate_scan(&set);
        let mut adv = Advertisement {
            name: Some("SBHT-003C".into()),
            ..Default::default()
        };
        adv.service_data.insert(Uuid::BTHOME_V2, vec![0x44, 0x00, 0x01]);
        adv.manufacturer_data.insert(0x0BA9, vec![0x01, 0x02]);
        adv.add_service_uuid(Uuid::from_u16(0x180F));
        let matched = set.matches(&"AA:BB:CC:DD:EE:FF".parse().unwrap(), &adv);
        // The translations widen, never narrow: what the Shelly set accepts, the browser offers.
        let name = adv.name.as_deref();
        if matched && !chooser.accept_all {
            assert!(chooser.filters.iter().any(|f| f.matches(name, Some(&adv))), "{text}");
        }
        if matched && !scan.accept_all {
            assert!(
                scan.filters
                    .iter()
                    .any(|f| f.name_matches(name) && f.services_advertised(&adv)),
                "{text}"
            );
        }
    }
    if let Ok(options) = ScanOptions::from_json(text) {
        let _ = serde_json::to_string(&options);
        let _ = options.rssi_passes(Some(-60));
    }
});

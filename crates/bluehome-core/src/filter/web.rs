//! Shelly filter sets as Web Bluetooth filter dictionaries.
//!
//! Web Bluetooth's `BluetoothLEScanFilterInit` (used by both `navigator.bluetooth.requestDevice`
//! and `requestLEScan`) has `services` (all must be present), `name` (exact), `namePrefix`,
//! `manufacturerData` and `serviceData` (lists of `{companyIdentifier|service, dataPrefix, mask}`).
//! This module builds those dictionaries as plain serde data; the app turns them into JS objects.
//!
//! What cannot be said in Web Bluetooth is widened, never narrowed, and reported as a [`Loss`], so
//! the browser delivers a superset and the manager applies the exact Shelly filter afterwards:
//! - `addrs`: the browser hides addresses, so the condition is dropped;
//! - a `name` with wildcards other than one trailing `*` becomes a `namePrefix` of its literal
//!   start (or is dropped when that start is empty);
//! - `serviceData` without `service` and `manufacturerData` without `companyIdentifier` match
//!   everything in Shelly and have no Web Bluetooth form; they are dropped.
//!
//! A filter left with no condition at all means "everything", which Web Bluetooth expresses only
//! as `acceptAllDevices` / `acceptAllAdvertisements`.
//!
//! `requestLEScan` gets less ([`translate_scan`]): Chrome compares a scan filter's `name` and
//! `namePrefix` with each advertisement event's own name, and on Windows an event carries only the
//! name of its own packet, so the nameless BTHome data packets of a device that names itself in
//! its scan response (Shelly BLU) would be dropped; `manufacturerData` in scan filters is ignored
//! (crbug.com/41310835); `serviceData` is not implemented. Only `services` conditions go to the
//! scan; the rest is checked on the device's merged data, where the manager keeps it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Serialize;
use serde_json::{Value, json};

use super::{FilterSet, ScanFilter};

/// One `manufacturerData` entry of a Web Bluetooth filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebManufacturerData {
    /// The company id.
    #[serde(rename = "companyIdentifier")]
    pub company_identifier: u16,
    /// Leading bytes (after the company id); omitted when empty.
    #[serde(rename = "dataPrefix", skip_serializing_if = "Vec::is_empty")]
    pub data_prefix: Vec<u8>,
    /// Mask of the same length; omitted when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<Vec<u8>>,
}

/// One `serviceData` entry of a Web Bluetooth filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebServiceData {
    /// The service UUID, lower-case 128-bit form.
    pub service: String,
    /// Leading bytes; omitted when empty.
    #[serde(rename = "dataPrefix", skip_serializing_if = "Vec::is_empty")]
    pub data_prefix: Vec<u8>,
    /// Mask of the same length; omitted when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<Vec<u8>>,
}

/// One Web Bluetooth `BluetoothLEScanFilterInit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebFilter {
    /// Service UUIDs that must all be advertised.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Exact name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Name prefix.
    #[serde(rename = "namePrefix", skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    /// Manufacturer data conditions.
    #[serde(rename = "manufacturerData", skip_serializing_if = "Vec::is_empty")]
    pub manufacturer_data: Vec<WebManufacturerData>,
    /// Service data conditions.
    #[serde(rename = "serviceData", skip_serializing_if = "Vec::is_empty")]
    pub service_data: Vec<WebServiceData>,
}

impl WebFilter {
    fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.name.is_none()
            && self.name_prefix.is_none()
            && self.manufacturer_data.is_empty()
            && self.service_data.is_empty()
    }
}

/// What a Shelly condition lost in translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LossKind {
    /// `addrs` was dropped (browsers hide addresses).
    Addresses,
    /// The name pattern was widened to a prefix.
    NameWidenedToPrefix {
        /// The pattern.
        pattern: String,
        /// The prefix used instead.
        prefix: String,
    },
    /// The name pattern starts with a wildcard and was dropped.
    NameDropped {
        /// The pattern.
        pattern: String,
    },
    /// `serviceData` without `service` was dropped.
    ServiceDataWithoutService,
    /// `manufacturerData` without `companyIdentifier` was dropped.
    ManufacturerDataWithoutCompany,
    /// Nothing was left of the filter, so the browser has to accept everything.
    AcceptsEverything,
    /// A condition a scan cannot apply to each packet (`name`, `manufacturerData`,
    /// `serviceData`): left out of `requestLEScan`, checked on the merged device data instead.
    CheckedAfterMerge {
        /// The condition's field name in the Shelly filter.
        field: &'static str,
    },
}

/// A loss, with the index of the Shelly filter it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Loss {
    /// Index into the Shelly filter set.
    pub filter: usize,
    /// What was lost.
    #[serde(flatten)]
    pub kind: LossKind,
}

/// A filter set translated for Web Bluetooth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebFilters {
    /// The filters (empty when `accept_all`).
    pub filters: Vec<WebFilter>,
    /// True when only "accept everything" can deliver what the set asks for.
    pub accept_all: bool,
    /// What was widened or dropped; empty when the translation is exact.
    pub losses: Vec<Loss>,
}

impl WebFilters {
    /// True when the browser's filtering equals the Shelly set's.
    pub fn is_exact(&self) -> bool {
        self.losses.is_empty()
    }

    /// The options object for `navigator.bluetooth.requestDevice`.
    pub fn request_device_options(&self) -> Value {
        if self.accept_all {
            json!({ "acceptAllDevices": true })
        } else {
            json!({ "filters": self.filters })
        }
    }
}

/// The options object for `navigator.bluetooth.requestLEScan` for a filter set: its
/// [`translate_scan`], repeated advertisements kept (the manager wants every packet).
pub fn request_le_scan_options(set: &FilterSet) -> Value {
    let scan = translate_scan(set);
    if scan.accept_all {
        json!({ "acceptAllAdvertisements": true, "keepRepeatedDevices": true })
    } else {
        json!({ "filters": scan.filters, "keepRepeatedDevices": true })
    }
}

/// Translates a filter set for `requestLEScan`: each filter's `services` alone (one scan filter
/// per listed service), and everything when any filter has none. Names, manufacturer and service
/// data are reported as [`LossKind::CheckedAfterMerge`] (see the module documentation).
pub fn translate_scan(set: &FilterSet) -> WebFilters {
    let mut out = WebFilters::default();
    if set.accepts_all() {
        out.accept_all = true;
        return out;
    }
    for (i, filter) in set.filters.iter().enumerate() {
        let mut lose = |kind| out.losses.push(Loss { filter: i, kind });
        if !filter.addrs.is_empty() {
            lose(LossKind::Addresses);
        }
        let later = [
            ("name", filter.name.is_some()),
            ("manufacturerData", filter.manufacturer_data.is_some()),
            ("serviceData", filter.service_data.is_some()),
        ];
        for (field, present) in later {
            if present {
                lose(LossKind::CheckedAfterMerge { field });
            }
        }
        if filter.services.is_empty() {
            lose(LossKind::AcceptsEverything);
            out.accept_all = true;
        }
        for uuid in &filter.services {
            out.filters.push(WebFilter {
                services: alloc::vec![uuid.to_string()],
                ..WebFilter::default()
            });
        }
    }
    if out.accept_all {
        out.filters.clear();
    }
    out
}

/// Translates a filter set for `requestDevice` (the chooser).
pub fn translate(set: &FilterSet) -> WebFilters {
    let mut out = WebFilters::default();
    if set.accepts_all() {
        out.accept_all = true;
        return out;
    }
    for (i, filter) in set.filters.iter().enumerate() {
        let base = translate_one(i, filter, &mut out.losses);
        if base.is_empty() && filter.services.is_empty() {
            out.losses.push(Loss {
                filter: i,
                kind: LossKind::AcceptsEverything,
            });
            out.accept_all = true;
            continue;
        }
        if filter.services.is_empty() {
            out.filters.push(base);
        } else {
            // Shelly lists services as alternatives; Web Bluetooth requires all of a filter's
            // services, so each alternative becomes its own filter.
            for uuid in &filter.services {
                let mut f = base.clone();
                f.services.push(uuid.to_string());
                out.filters.push(f);
            }
        }
    }
    if out.accept_all {
        out.filters.clear();
    }
    out
}

fn translate_one(i: usize, filter: &ScanFilter, losses: &mut Vec<Loss>) -> WebFilter {
    let mut web = WebFilter::default();
    let mut lose = |kind| losses.push(Loss { filter: i, kind });
    if !filter.addrs.is_empty() {
        lose(LossKind::Addresses);
    }
    if let Some(pattern) = &filter.name {
        if pattern.is_literal() {
            web.name = Some(pattern.as_str().into());
        } else if !pattern.literal_prefix().is_empty() {
            web.name_prefix = Some(pattern.literal_prefix().into());
            if !pattern.is_prefix_pattern() {
                lose(LossKind::NameWidenedToPrefix {
                    pattern: pattern.as_str().into(),
                    prefix: pattern.literal_prefix().into(),
                });
            }
        } else if pattern.as_str() != "*" {
            lose(LossKind::NameDropped {
                pattern: pattern.as_str().into(),
            });
        }
    }
    if let Some(sd) = &filter.service_data {
        match sd.service {
            Some(uuid) => web.service_data.push(WebServiceData {
                service: uuid.to_string(),
                data_prefix: sd.data.prefix().to_vec(),
                mask: sd.data.mask().map(<[u8]>::to_vec),
            }),
            None => lose(LossKind::ServiceDataWithoutService),
        }
    }
    if let Some(md) = &filter.manufacturer_data {
        match md.company {
            Some(id) => web.manufacturer_data.push(WebManufacturerData {
                company_identifier: id,
                data_prefix: md.data.prefix().to_vec(),
                mask: md.data.mask().map(<[u8]>::to_vec),
            }),
            None => lose(LossKind::ManufacturerDataWithoutCompany),
        }
    }
    web
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(json: &str) -> WebFilters {
        translate(&FilterSet::from_json(json).unwrap())
    }

    fn scan(json: &str) -> WebFilters {
        translate_scan(&FilterSet::from_json(json).unwrap())
    }

    #[test]
    fn empty_set_is_accept_all_without_loss() {
        let w = web("[]");
        assert!(w.accept_all && w.is_exact());
        assert_eq!(
            request_le_scan_options(&FilterSet::default()),
            json!({"acceptAllAdvertisements": true, "keepRepeatedDevices": true})
        );
    }

    #[test]
    fn a_scan_by_name_accepts_everything_and_names_the_condition_checked_later() {
        // A Shelly BLU device's BTHome data packets carry no name on Windows; a name filter in
        // requestLEScan would drop every one of them.
        let w = scan(r#"[{"name":"SBHT-*"}]"#);
        assert!(w.accept_all && w.filters.is_empty());
        assert_eq!(
            w.losses,
            [
                Loss {
                    filter: 0,
                    kind: LossKind::CheckedAfterMerge { field: "name" }
                },
                Loss {
                    filter: 0,
                    kind: LossKind::AcceptsEverything
                }
            ]
        );
    }

    #[test]
    fn a_scan_by_manufacturer_or_service_data_accepts_everything() {
        // Chrome ignores manufacturerData in scan filters and has no serviceData filter.
        for json in [
            r#"[{"manufacturerData":{"companyIdentifier":2985}}]"#,
            r#"[{"serviceData":{"service":"fcd2"}}]"#,
        ] {
            assert!(scan(json).accept_all, "{json}");
            assert_eq!(
                request_le_scan_options(&FilterSet::from_json(json).unwrap()),
                json!({"acceptAllAdvertisements": true, "keepRepeatedDevices": true}),
                "{json}"
            );
        }
    }

    #[test]
    fn a_scan_keeps_only_the_services_of_each_filter() {
        let json = r#"[{"services":["180f","fcd2"],"name":"SB*","manufacturerData":{"companyIdentifier":2985}}]"#;
        let w = scan(json);
        assert!(!w.accept_all);
        assert_eq!(
            request_le_scan_options(&FilterSet::from_json(json).unwrap()),
            json!({"filters": [
                {"services": ["0000180f-0000-1000-8000-00805f9b34fb"]},
                {"services": ["0000fcd2-0000-1000-8000-00805f9b34fb"]}
            ], "keepRepeatedDevices": true})
        );
        let later: Vec<_> = w.losses.iter().map(|l| &l.kind).collect();
        assert_eq!(
            later,
            [
                &LossKind::CheckedAfterMerge { field: "name" },
                &LossKind::CheckedAfterMerge {
                    field: "manufacturerData"
                }
            ]
        );
        // One filter without services widens the whole scan.
        assert!(scan(r#"[{"services":["fcd2"]},{"name":"x"}]"#).accept_all);
    }

    #[test]
    fn exact_conditions_translate_exactly() {
        let w = web(
            r#"[{"name":"SBHT-003C","serviceData":{"service":"fcd2","dataPrefix":"40","mask":"e0"},
                 "manufacturerData":{"companyIdentifier":2985}}]"#,
        );
        assert!(w.is_exact());
        assert_eq!(
            w.request_device_options(),
            json!({"filters":[{
                "name":"SBHT-003C",
                "manufacturerData":[{"companyIdentifier":2985}],
                "serviceData":[{"service":"0000fcd2-0000-1000-8000-00805f9b34fb","dataPrefix":[64],"mask":[224]}]
            }]})
        );
    }

    #[test]
    fn trailing_star_becomes_name_prefix_exactly() {
        let w = web(r#"[{"name":"SBHT-*"}]"#);
        assert!(w.is_exact());
        assert_eq!(w.filters[0].name_prefix.as_deref(), Some("SBHT-"));
    }

    #[test]
    fn inner_wildcards_widen_to_the_literal_prefix_and_say_so() {
        let w = web(r#"[{"name":"SB?T-*"}]"#);
        assert_eq!(w.filters[0].name_prefix.as_deref(), Some("SB"));
        assert_eq!(
            w.losses,
            [Loss {
                filter: 0,
                kind: LossKind::NameWidenedToPrefix {
                    pattern: "SB?T-*".into(),
                    prefix: "SB".into()
                }
            }]
        );
    }

    #[test]
    fn alternative_services_become_separate_filters() {
        let w = web(r#"[{"services":["180f","fcd2"],"name":"x"}]"#);
        assert!(w.is_exact());
        assert_eq!(w.filters.len(), 2);
        assert_eq!(
            w.filters[1].services,
            ["0000fcd2-0000-1000-8000-00805f9b34fb"]
        );
        assert_eq!(w.filters[1].name.as_deref(), Some("x"));
    }

    #[test]
    fn addresses_only_filter_needs_accept_all() {
        let w = web(r#"[{"addrs":["11:22:33:44:55:66"]},{"name":"x"}]"#);
        assert!(w.accept_all);
        assert!(w.filters.is_empty());
        assert_eq!(w.losses.len(), 2);
        assert_eq!(w.losses[0].kind, LossKind::Addresses);
        assert_eq!(w.losses[1].kind, LossKind::AcceptsEverything);
    }

    #[test]
    fn data_without_key_is_dropped_and_reported() {
        let w = web(r#"[{"name":"x","manufacturerData":{"dataPrefix":"01"}}]"#);
        assert_eq!(w.filters.len(), 1);
        assert!(w.filters[0].manufacturer_data.is_empty());
        assert_eq!(w.losses[0].kind, LossKind::ManufacturerDataWithoutCompany);
    }

    #[test]
    fn losses_serialize_with_their_kind() {
        let w = web(r#"[{"addrs":["11:22:33:44:55:66"],"name":"x"}]"#);
        assert_eq!(
            serde_json::to_value(&w.losses).unwrap(),
            json!([{"filter":0,"kind":"addresses"}])
        );
    }
}
